/** Bumped whenever a message or schema changes incompatibly; sent in every handshake. */
export const PROTOCOL_VERSION = 1;
export * from './errors';
export * from './run-config';
export { nearestKey } from './nearest-key';
export * from './member-model';
export * from './run-result';
export * from './seed-mix';
export * from './sockets';
export * from './statuses';
export * from './typed-socket';
export * from './worker-to-coordinator';
export * from './coordinator-to-worker';
export * from './dashboard-to-coordinator';
export * from './coordinator-to-dashboard';
export * from './what-if';
export * from './stored';
export * from './http/index';
export * from './tokens-file';
