export * from './tokenize.ts';
export * from './sentences.ts';
export * from './vocabulary.ts';
export * from './wordpiece.ts';
export * from './sentencepiece.ts';
