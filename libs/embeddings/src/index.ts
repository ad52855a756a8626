export * from './embedder.ts';
export * from './stack.ts';
export * from './charlm.ts';
export * from './bert.ts';
export * from './glove.ts';
export * from './elmo.ts';
export * from './members.ts';
export { frozenCacheBudget } from './sentence-cache.ts';
