export * from './init.ts';
export * from './matmul.ts';
export * from './permute.ts';
export * from './layers.ts';
export * from './lstm.ts';
export * from './attention.ts';
export * from './optim.ts';
export * from './gradcheck.ts';
