export * from './contract.ts';
export * from './crop.ts';
export * from './batches.ts';
export * from './lite.ts';
export * from './evaluate.ts';
export * from './trainer.ts';
export * from './io.ts';
export * from './bert-re.ts';
