export * from './config.ts';
export * from './model.ts';
export * from './checkpoint.ts';
export * from './pretrain.ts';
export * from './pretrain-run.ts';
