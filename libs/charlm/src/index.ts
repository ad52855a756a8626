export * from './dictionary.ts';
export * from './corpus.ts';
export * from './batching.ts';
export * from './bigram.ts';
export * from './model.ts';
export * from './trainer.ts';
export * from './generate.ts';
