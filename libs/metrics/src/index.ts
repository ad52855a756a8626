export * from './relations.ts';
export * from './folds.ts';
