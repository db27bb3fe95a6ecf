/** The time source of the repositories (leases, heartbeats): injected so tests can move it. */
export type Clock = () => Date;

export interface RepositoryOptions {
  clock?: Clock;
}

export const systemClock: Clock = () => new Date();
