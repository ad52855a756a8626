export * from './relations.ts';
export * from './folds.ts';
export * from './cross-validation.ts';
