export * from './embedder.ts';
export * from './stack.ts';
