export * from './common.ts';
export * from './dead-letter.ts';
export * from './erasure.ts';
export * from './events.ts';
export * from './options.ts';
export * from './topics.ts';
export * from './views.ts';
