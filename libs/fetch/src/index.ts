export * from './client.ts';
export * from './rate.ts';
export * from './job.ts';
export * from './ncbi.ts';
export * from './flags.ts';
export * from './testing.ts';
