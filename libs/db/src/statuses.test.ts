import { describe, expect, it } from 'vitest';
import { MEMBER_STATUSES, RUN_STATUSES, WORKER_STATUSES } from '@chorus/protocol';
import { MemberStatus, RunStatus, WorkerStatus } from './generated/prisma/enums';

describe('statuses', () => {
  it("are the protocol's lists, in the schema's order", () => {
    expect(Object.values(RunStatus)).toEqual([...RUN_STATUSES]);
    expect(Object.values(MemberStatus)).toEqual([...MEMBER_STATUSES]);
    expect(Object.values(WorkerStatus)).toEqual([...WORKER_STATUSES]);
  });
});
