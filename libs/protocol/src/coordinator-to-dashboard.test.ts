import { describe, expect, it } from 'vitest';
import { CoordinatorToDashboardCatalog } from './coordinator-to-dashboard';
import { parseMessage } from './typed-socket';

const parse = (payload: unknown) => parseMessage(CoordinatorToDashboardCatalog, 'run:changed', payload);

describe('run:changed notifications', () => {
  it('accept what the coordinator sends, kind by kind', () => {
    const sent = [
      { runId: 'r', kind: 'status', data: { status: 'completed' } },
      { runId: 'r', kind: 'member', data: { index: 1, status: 'leased', workerId: 'w' } },
      { runId: 'r', kind: 'member', data: { index: 1, status: 'pending', handedOverAt: 40 } },
      { runId: 'r', kind: 'member', data: { index: 1, status: 'pending', error: 'out of memory' } },
      { runId: 'r', kind: 'member', data: { requeued: [0, 2] } },
      { runId: 'r', kind: 'evaluation', data: { round: 2, complete: true, liveMembers: 3 } },
      {
        runId: 'r',
        kind: 'metrics',
        data: {
          members: [
            {
              index: 0,
              step: 9,
              epoch: 1,
              loss: 0.4,
              accuracy: 0.9,
              samplesPerSecond: 80,
              curve: [[9, 0.4, 0.9]],
            },
          ],
        },
      },
    ];
    for (const n of sent) expect(parse(n)).toEqual({ ok: true, data: n });
  });

  it("refuse a kind's data that is another kind's, naming the field", () => {
    const refusal = (payload: unknown) => {
      const parsed = parse(payload);
      return parsed.ok ? 'accepted' : parsed.message;
    };
    expect(refusal({ runId: 'r', kind: 'status', data: { round: 1 } })).toMatch(
      /^invalid run:changed message:\ndata\.status: /,
    );
    expect(refusal({ runId: 'r', kind: 'metrics', data: { members: 'nope' } })).toMatch(/\ndata\.members: /);
    expect(refusal({ runId: 'r', kind: 'metrics' })).toMatch(/\ndata: /);
    expect(
      refusal({ runId: 'r', kind: 'evaluation', data: { round: 1, complete: 'yes', liveMembers: 1 } }),
    ).toMatch(/\ndata\.complete: /);
    expect(refusal({ runId: 'r', kind: 'nonsense', data: {} })).toMatch(/\nkind: /);
  });
});
