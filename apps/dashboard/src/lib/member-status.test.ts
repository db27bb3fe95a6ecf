import { describe, expect, it } from 'vitest';
import { memberStatusLabel } from './member-status';

describe('memberStatusLabel', () => {
  const member = (status: string, step = 0, workerId: string | null = 'w1') => ({ status, step, workerId });

  it('names what a held member is doing: starting before its first step, then training', () => {
    expect(memberStatusLabel(member('leased'), 'running')).toEqual({
      text: 'starting on',
      tone: 'running',
      onWorker: true,
    });
    // A member leased again after a handover resumes at its checkpoint's step.
    expect(memberStatusLabel(member('leased', 12), 'running').text).toBe('training on');
    expect(memberStatusLabel(member('running', 3), 'running').text).toBe('training on');
  });

  it('reads "cancelled" for every unfinished member of a cancelled run, and keeps finished ones', () => {
    expect(memberStatusLabel(member('pending', 40, null), 'cancelled').text).toBe('cancelled');
    expect(memberStatusLabel(member('running', 40), 'cancelled').tone).toBe('cancelled');
    expect(memberStatusLabel(member('completed', 90, null), 'cancelled').text).toBe('completed');
    expect(memberStatusLabel(member('failed', 5, null), 'cancelled').text).toBe('failed');
  });

  it('says a pending member waits for a worker', () => {
    expect(memberStatusLabel(member('pending', 0, null), 'running')).toEqual({
      text: 'waiting for a worker',
      tone: 'pending',
      onWorker: false,
    });
  });
});
