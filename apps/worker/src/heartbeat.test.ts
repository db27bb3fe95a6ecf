import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { LeaseRef } from '@chorus/protocol';
import type { Connection } from './connection';
import { Heartbeat } from './heartbeat';

/** A connection whose heartbeats wait until the test answers them. */
function scriptedConnection() {
  const sent: Array<{ members: LeaseRef[]; answer: (revoked: LeaseRef[]) => void }> = [];
  const connection = {
    connected: true,
    socket: new EventEmitter(),
    request: (_event: 'heartbeat', payload: { members: LeaseRef[] }) =>
      new Promise((resolve) => {
        sent.push({ members: payload.members, answer: (revoked) => resolve({ ok: true, revoked }) });
      }),
  };
  return { connection: connection as unknown as Connection, sent };
}

describe('Heartbeat.renew', () => {
  it('beats at once and settles with the answer; a renew during a beat waits for that one', async () => {
    const { connection, sent } = scriptedConnection();
    const lease = { memberId: 'm1', attempt: 1 };
    const revoked: LeaseRef[] = [];
    const heartbeat = new Heartbeat({
      connection,
      intervalMs: 60_000,
      leases: () => [lease],
      onRevoked: (l) => revoked.push(l),
      logger: pino({ level: 'silent' }),
    });
    let settled = false;
    const first = heartbeat.renew().then(() => (settled = true));
    const second = heartbeat.renew();
    await heartbeat.beat(); // skipped: one is in flight
    expect(sent.map((s) => s.members)).toEqual([[lease]]);
    await Promise.resolve();
    expect(settled).toBe(false);
    sent[0]?.answer([lease]);
    await Promise.all([first, second]);
    expect(settled).toBe(true);
    expect(revoked).toEqual([lease]);
    // The next renew sends a new beat.
    const third = heartbeat.renew();
    expect(sent).toHaveLength(2);
    sent[1]?.answer([]);
    await third;
    heartbeat.stop();
    // Stopped: nothing is sent, and renew resolves at once.
    await heartbeat.renew();
    expect(sent).toHaveLength(2);
  });
});
