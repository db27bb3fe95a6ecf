/**
 * A hostile neighbour for the cluster bench: one socket.io client on `/workers` with the worker
 * token and a valid handshake (1 slot) that sends `plan:next` for a member it does not hold at a
 * fixed rate, open loop, and counts the answers by code (`forbidden` within its budget,
 * `rate-limited` beyond it). Loopback only; it stops when asked.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { io } from 'socket.io-client';
import { CHORUS_VERSION, PROTOCOL_VERSION, WORKERS_NAMESPACE } from '@chorus/protocol';
import type { CoordinatorProcess } from './processes';

export interface FloodReport {
  sent: number;
  /** Answers by code (`ok` for none), and `no answer` for those still unanswered 5 s after the stop. */
  codes: Map<string, number>;
  seconds: number;
}

export async function startFlood(
  coordinator: CoordinatorProcess,
  messagesPerSecond: number,
): Promise<{ stop(): Promise<FloodReport> }> {
  const socket = io(`${coordinator.url}${WORKERS_NAMESPACE}`, {
    auth: {
      token: coordinator.workerToken,
      protocolVersion: PROTOCOL_VERSION,
      chorusVersion: CHORUS_VERSION,
      workerId: randomUUID(),
      name: 'hostile-neighbour',
      host: 'bench-loopback',
      backend: 'cpu',
      device: 'none (flooding)',
      slots: 1,
      activeMembers: [],
    },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const codes = new Map<string, number>();
  const pending = new Set<Promise<void>>();
  let sent = 0;
  let running = true;
  const started = performance.now();
  const TICK_MS = 10;
  const loop = (async () => {
    for (let tick = 0; running; tick++) {
      // Open loop: as many as the rate says by now, whatever was answered.
      const due = Math.floor(((tick + 1) * TICK_MS * messagesPerSecond) / 1000) - sent;
      for (let i = 0; i < due; i++) {
        sent++;
        const answered = (
          socket.timeout(5_000).emitWithAck('plan:next', {
            memberId: 'not-a-member',
            attempt: 1,
            offset: 0,
            count: 1,
          }) as Promise<{
            ok: boolean;
            code?: string;
          }>
        )
          .then(
            (a) => (a.ok ? 'ok' : (a.code ?? 'unknown')),
            () => 'no answer',
          )
          .then((code) => void codes.set(code, (codes.get(code) ?? 0) + 1));
        pending.add(answered);
        void answered.finally(() => pending.delete(answered));
      }
      const wait = started + (tick + 1) * TICK_MS - performance.now();
      if (wait > 0) await sleep(wait);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const seconds = (performance.now() - started) / 1000;
      await Promise.all([...pending]);
      socket.close();
      return { sent, codes, seconds };
    },
  };
}
