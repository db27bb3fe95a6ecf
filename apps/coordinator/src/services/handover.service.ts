import type { Logger } from 'pino';
import type { HandoverCandidate, Repositories } from '@chorus/db';
import type { WorkerNotifier } from '../notifications';
import type { PlanService } from './plan.service';

/**
 * Straggler handover: an idle, faster worker takes over a member from a slower one, from a
 * checkpoint taken on request. When, how and with what limits is described once, in
 * ARCHITECTURE.md ("Straggler handover"). Here: the choice (`chooseHandover`), and what lasts only
 * seconds — requests in flight, reservations, the holders' measured speeds — kept in memory; what
 * must outlive the coordinator (asked once, the attempt a handover grants) is stored with the
 * member (libs/db members.askHandover and handOver).
 */

export interface HandoverOptions {
  /** Seconds a handover costs (checkpoint saved, stored, downloaded, loaded). Default 3. */
  costSeconds?: number;
  /** Least gain worth a handover, in seconds. Default 2. */
  minGainSeconds?: number;
  /** Least gain worth a handover, as a share of the member's remaining time on its holder. Default 0.1. */
  minGainShare?: number;
  /** How long an asked holder has to release the member, and the idle worker to take it. Default 30 s. */
  timeoutMs?: number;
  /** Least wall time over which a holder's speed is measured before its member can move. Default 2 s. */
  minObserveMs?: number;
}

export interface HandoverChoice {
  candidate: HandoverCandidate;
  remainingSamples: number;
  /** Estimated seconds left on the holder, and on the requester (cost included). */
  holderSeconds: number;
  requesterSeconds: number;
}

/**
 * The candidate whose handover gains the most time, or null when none gains enough.
 * `remainingSamples(c)` is how many samples the member still has to train.
 */
export function chooseHandover(
  candidates: readonly HandoverCandidate[],
  remainingSamples: (c: HandoverCandidate) => number,
  options: Required<Pick<HandoverOptions, 'costSeconds' | 'minGainSeconds' | 'minGainShare'>>,
): HandoverChoice | null {
  let best: (HandoverChoice & { gain: number }) | null = null;
  for (const candidate of candidates) {
    const remaining = remainingSamples(candidate);
    const holderRate = candidate.samplesPerSecond ?? 0;
    if (!(remaining > 0) || !(holderRate > 0) || !(candidate.requesterSamplesPerSecond > 0)) continue;
    const holderSeconds = remaining / holderRate;
    const requesterSeconds = remaining / candidate.requesterSamplesPerSecond + options.costSeconds;
    const gain = holderSeconds - requesterSeconds;
    if (gain < Math.max(options.minGainSeconds, options.minGainShare * holderSeconds)) continue;
    if (best === null || gain > best.gain)
      best = { candidate, remainingSamples: remaining, holderSeconds, requesterSeconds, gain };
  }
  if (best === null) return null;
  const { gain: _gain, ...choice } = best;
  return choice;
}

/** A holder asked to hand a member over to worker `to`, at time `at`. */
interface Asked {
  to: string;
  at: number;
}

/** Progress of a member under one lease, as the coordinator saw it arrive. */
interface Observed {
  attempt: number;
  first: { at: number; step: number };
  last: { at: number; step: number };
}

export interface HandoverService {
  /** A held member reached `step` (its metrics arrived): the holder's speed is measured from these. */
  observe(member: { id: string; attempt: number }, step: number): void;
  /** A worker found the queue empty: maybe ask a slower holder to hand a member over to it. */
  consider(workerId: string): Promise<void>;
  /** The member released by its holder for `workerId`, if one waits for it. */
  reservedFor(workerId: string): string | undefined;
  /** Members released for other workers that they have not taken yet. */
  reservedForOthers(workerId: string): string[];
  /** The holder released the member: reserve it for the worker it was asked for. */
  released(memberId: string): void;
  /** The member was claimed, completed or failed: any request or reservation for it is over. */
  forget(memberId: string): void;
}

export function createHandoverService(deps: {
  repos: Repositories;
  plans: PlanService;
  notify: { workers: WorkerNotifier };
  logger: Logger;
  options?: HandoverOptions;
  /** Milliseconds now (tests). */
  now?: () => number;
}): HandoverService {
  const o = deps.options ?? {};
  const limits = {
    costSeconds: o.costSeconds ?? 3,
    minGainSeconds: o.minGainSeconds ?? 2,
    minGainShare: o.minGainShare ?? 0.1,
  };
  const timeoutMs = o.timeoutMs ?? 30_000;
  const minObserveMs = o.minObserveMs ?? 2_000;
  const now = deps.now ?? Date.now;
  /** Asked holders, by member id. */
  const asked = new Map<string, Asked>();
  /** Released members waiting for their worker, by member id. */
  const reserved = new Map<string, { to: string; until: number }>();
  const observed = new Map<string, Observed>();

  const expire = (): void => {
    const t = now();
    for (const [id, a] of asked) if (t - a.at > timeoutMs) asked.delete(id);
    for (const [id, r] of reserved) if (t > r.until) reserved.delete(id);
  };

  return {
    async consider(workerId) {
      expire();
      // One handover at a time per worker, asked or released.
      if ([...asked.values()].some((a) => a.to === workerId)) return;
      if ([...reserved.values()].some((r) => r.to === workerId)) return;
      const listed = await deps.repos.members.handoverCandidates(workerId);
      if (listed.length === 0) return;
      const remaining = new Map<string, number>();
      const candidates: HandoverCandidate[] = [];
      for (const c of listed) {
        const seen = observed.get(c.id);
        if (seen === undefined || seen.attempt !== c.attempt) continue;
        const seconds = (seen.last.at - seen.first.at) / 1000;
        if (seconds * 1000 < minObserveMs) continue;
        const data = await deps.plans.forRun(c.runId);
        const total = data.plan.member(c.index).totalBatches;
        const through = (step: number) => deps.plans.samplesThrough(data, c.index, Math.min(step, total));
        const step = Math.max(c.step, seen.last.step);
        remaining.set(c.id, through(total) - through(step));
        const rate = (through(seen.last.step) - through(seen.first.step)) / seconds;
        candidates.push({ ...c, step, samplesPerSecond: rate });
      }
      const choice = chooseHandover(candidates, (c) => remaining.get(c.id) ?? 0, limits);
      if (choice === null) return;
      const { candidate } = choice;
      const lease = { memberId: candidate.id, workerId: candidate.workerId, attempt: candidate.attempt };
      // Stored first: a member is asked once, also across restarts and coordinators.
      if (!(await deps.repos.members.askHandover(lease))) return;
      asked.set(candidate.id, { to: workerId, at: now() });
      deps.logger.info(
        {
          runId: candidate.runId,
          member: candidate.index,
          from: candidate.workerId,
          to: workerId,
          remainingSamples: choice.remainingSamples,
          holderSeconds: Math.round(choice.holderSeconds * 10) / 10,
          requesterSeconds: Math.round(choice.requesterSeconds * 10) / 10,
        },
        'asking a slower worker to hand a member over',
      );
      deps.notify.workers.handover(
        candidate.workerId,
        { memberId: candidate.id, attempt: candidate.attempt },
        `worker ${workerId} is idle and would finish it in about ${Math.round(choice.requesterSeconds)} s instead of ${Math.round(choice.holderSeconds)} s`,
      );
    },

    observe(member, step) {
      const at = now();
      const seen = observed.get(member.id);
      if (seen === undefined || seen.attempt !== member.attempt) {
        observed.set(member.id, { attempt: member.attempt, first: { at, step }, last: { at, step } });
      } else if (step >= seen.last.step) seen.last = { at, step };
    },

    reservedFor(workerId) {
      expire();
      for (const [id, r] of reserved) if (r.to === workerId) return id;
      return undefined;
    },

    reservedForOthers(workerId) {
      expire();
      return [...reserved].filter(([, r]) => r.to !== workerId).map(([id]) => id);
    },

    released(memberId) {
      const a = asked.get(memberId);
      asked.delete(memberId);
      if (a === undefined) {
        // Released unasked (or after the request expired): the queue takes it like any other.
        deps.notify.workers.workAvailable();
        return;
      }
      reserved.set(memberId, { to: a.to, until: now() + timeoutMs });
      deps.notify.workers.workAvailableFor(a.to);
    },

    forget(memberId) {
      reserved.delete(memberId);
      asked.delete(memberId);
      observed.delete(memberId);
    },
  };
}
