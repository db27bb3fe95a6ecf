/** The life of a run (the database's RunStatus). */
export const RUN_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type RunStatusName = (typeof RUN_STATUSES)[number];

/** The life of a member (the database's MemberStatus). */
export const MEMBER_STATUSES = ['pending', 'leased', 'running', 'completed', 'failed'] as const;
export type MemberStatusName = (typeof MEMBER_STATUSES)[number];

/** A worker as the coordinator sees it (the database's WorkerStatus). */
export const WORKER_STATUSES = ['online', 'offline'] as const;
export type WorkerStatusName = (typeof WORKER_STATUSES)[number];
