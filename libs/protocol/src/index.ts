/** Bumped whenever a message or schema changes incompatibly; sent in every handshake. */
export const PROTOCOL_VERSION = 1;
export * from './errors';
export * from './run-config';
export * from './member-model';
export * from './run-result';
export * from './combiner-params';
export * from './seed-mix';
export * from './sockets';
export * from './what-if';
