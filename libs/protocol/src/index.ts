/** Bumped whenever a message or schema changes incompatibly; sent in every handshake. */
export const PROTOCOL_VERSION = 1;
export * from './errors';
export * from './run-config';
export { nearestKey } from './nearest-key';
export * from './member-model';
export * from './run-result';
export * from './sockets';
export * from './what-if';
export * from './tokens-file';
