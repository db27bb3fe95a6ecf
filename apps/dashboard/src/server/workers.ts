import { memberView, type Repositories, type Worker } from '@chorus/db/client';

/**
 * The Workers page's rows: every worker with the members it holds now (run name and member
 * index) and its throughput, the sum of those members' latest samples per second.
 */

export interface WorkerMemberItem {
  runId: string;
  runName: string;
  memberId: string;
  index: number;
  status: string;
  progress: number | null;
  samplesPerSecond: number | null;
}

export type WorkerListItem = Pick<
  Worker,
  'id' | 'name' | 'host' | 'backend' | 'device' | 'slots' | 'status' | 'lastSeenAt' | 'createdAt'
> & { members: WorkerMemberItem[]; samplesPerSecond: number | null };

/** Online workers first, then by name. */
export async function loadWorkers(repos: Repositories): Promise<WorkerListItem[]> {
  const workers = await repos.workers.list();
  const held = await Promise.all(workers.map((w) => repos.members.listByWorker(w.id)));
  const runIds = [...new Set(held.flat().map((m) => m.runId))];
  const runs = await Promise.all(runIds.map((id) => repos.runs.get(id)));
  const runName = new Map(runs.flatMap((r) => (r ? [[r.id, r.name] as const] : [])));

  const items = workers.map((worker, i): WorkerListItem => {
    const members = (held[i] ?? [])
      .map((m): WorkerMemberItem => {
        const view = memberView(m);
        return {
          runId: m.runId,
          runName: runName.get(m.runId) ?? m.runId,
          memberId: m.id,
          index: m.index,
          status: m.status,
          progress: view.progress,
          samplesPerSecond: m.samplesPerSecond,
        };
      })
      .sort((a, b) => a.runName.localeCompare(b.runName) || a.index - b.index);
    const rates = members
      .map((m) => m.samplesPerSecond)
      .filter((v): v is number => v !== null && Number.isFinite(v));
    const { id, name, host, backend, device, slots, status, lastSeenAt, createdAt } = worker;
    return {
      id,
      name,
      host,
      backend,
      device,
      slots,
      status,
      lastSeenAt,
      createdAt,
      members,
      samplesPerSecond: rates.length > 0 ? rates.reduce((a, b) => a + b, 0) : null,
    };
  });
  return items.sort((a, b) => Number(b.status === 'online') - Number(a.status === 'online'));
}
