import type { Logger } from 'pino';
import { isDatasetError } from '@chorus/data';
import type { Member, Repositories } from '@chorus/db';
import { ChorusError, type Assignment, type LeaseRef, type WorkerHandshake } from '@chorus/protocol';
import type { DatasetStore } from '../dataset-store';
import type { CoordinatorTelemetry } from '../telemetry';
import type { HandoverService } from './handover.service';
import type { KnownLease, LeaseTable } from './lease-table';
import type { Notifiers } from '../notifications';
import type { PlanService } from './plan.service';
import type { RunService } from './run.service';
import { issueWorkerSecret, workerSecretMatches } from '../worker-secrets';

/**
 * A member that failed on this many leases fails its run. Leases ended by a handover do not count,
 * nor (up to MAX_CHECKPOINT_FAILURES) those that ended over a checkpoint: README "Attempts".
 */
export const MAX_ATTEMPTS = 3;
/**
 * Leases ended over a checkpoint (refused on arrival, or the one given did not load) that are not
 * counted as failed attempts; beyond this they are, so a member that only ever ends so still ends.
 */
export const MAX_CHECKPOINT_FAILURES = 3;
/** A failed member waits this long before it is handed out again, doubled per failure: 1 s, 2 s, … */
export const DEFAULT_RETRY_BACKOFF_MS = 1_000;

export type RegisteredWorker = Pick<
  WorkerHandshake,
  'workerId' | 'name' | 'host' | 'backend' | 'device' | 'slots' | 'secret'
>;

/** The handshake's worker id is registered with another secret (or none was given): not that worker. */
export class WorkerIdentityError extends ChorusError {
  constructor(workerId: string) {
    super(
      'forbidden',
      `worker id ${workerId} is registered with another session secret: a worker presents the secret it ` +
        'was issued at its first registration (kept beside its id in its cache directory); a worker ' +
        'that lost it registers under a new id',
    );
  }
}

export interface Scheduler {
  /**
   * Registers a (re)connecting worker (README "Worker identity"): a new id is registered with a
   * fresh session secret, returned once as `issuedSecret`; a known id must present its secret, else
   * WorkerIdentityError and nothing changes.
   */
  register(worker: RegisteredWorker): Promise<{ issuedSecret: string | null }>;
  /**
   * A worker (re)connected saying which members it still trains: those it still holds keep their
   * lease (renewed); members leased to it that it no longer has go back to the queue; members it
   * claims but lost are revoked.
   */
  reconcile(workerId: string, activeMembers: readonly string[]): Promise<void>;
  /** Leases the next member (fairly across runs) to the worker: its Assignment, or null. */
  claim(workerId: string, slots: number): Promise<Assignment | null>;
  /** The member, when this worker holds it under this attempt; else a `forbidden` error (database check). */
  requireLease(workerId: string, lease: LeaseRef, options?: { allowCompleted?: boolean }): Promise<Member>;
  /**
   * The same check for read-only messages (metrics, plan chunks): answered from the coordinator's
   * lease table when it knows the lease, else from the database.
   */
  requireKnownLease(workerId: string, lease: LeaseRef): Promise<KnownLease>;
  /** Metrics of a held member arrived, up to `step` (straggler handover measures speeds from these). */
  progressed(member: KnownLease, step: number): void;
  /** The member completed: its lease is over (the table forgets it). */
  completed(memberId: string): void;
  /** Renews the listed leases; returns those the worker no longer holds. */
  heartbeat(workerId: string, leases: readonly LeaseRef[]): Promise<LeaseRef[]>;
  /**
   * The worker released a member it was asked to hand over (its checkpoint at `planOffset` is
   * stored): the member waits for the worker it was handed to.
   */
  released(
    workerId: string,
    member: Member,
    planOffset: number,
    reason?: 'handover' | 'drain',
  ): Promise<void>;
  /**
   * The worker is draining (its `member:release` said so, or an operator asked): it is leased
   * nothing more until it registers again (a new process under the same id).
   */
  drain(workerId: string): void;
  isDraining(workerId: string): boolean;
  /** A checkpoint the holder sent under this lease was refused on arrival (its bytes or numbers). */
  checkpointRefused(lease: LeaseRef): void;
  /**
   * The worker gave up on a member: re-queued, or after MAX_ATTEMPTS failed attempts the run
   * fails. Not counted: handovers, and a lease that ended over a checkpoint (`checkpointRemoved`:
   * the one it was given did not load and was removed; or one it sent was refused), up to
   * MAX_CHECKPOINT_FAILURES per member.
   */
  memberFailed(
    workerId: string,
    member: Member,
    error: string,
    options?: { checkpointRemoved?: boolean },
  ): Promise<{ requeued: boolean }>;
  disconnected(workerId: string): Promise<void>;
  /** Returns expired leases to the queue; nudges workers when there were any. */
  sweep(): Promise<number>;
}

export function createScheduler(deps: {
  repos: Repositories;
  plans: PlanService;
  store: DatasetStore;
  runs: RunService;
  notify: Notifiers;
  leases: LeaseTable;
  leaseMs: number;
  /** DEFAULT_RETRY_BACKOFF_MS unless set (0: retried at once). */
  retryBackoffMs?: number;
  logger: Logger;
  /** Straggler handover (null: never). */
  handover: HandoverService | null;
  telemetry?: CoordinatorTelemetry;
}): Scheduler {
  const { repos, notify, leaseMs, logger, leases, handover } = deps;
  const retryBackoffMs = deps.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
  /** Member → the attempt under which a checkpoint it sent was refused on arrival; in memory only. */
  const refusedCheckpoints = new Map<string, number>();
  /** Failed members not handed out before this time (ms since the epoch); in memory only. */
  const retryAt = new Map<string, number>();
  /** Workers being drained; in memory: a draining worker itself never asks again either. */
  const draining = new Set<string>();
  const backingOff = (): string[] => {
    const now = Date.now();
    for (const [id, at] of retryAt) if (at <= now) retryAt.delete(id);
    return [...retryAt.keys()];
  };
  const forbidden = (lease: LeaseRef) =>
    new ChorusError(
      'forbidden',
      `member ${lease.memberId} is not leased to this worker under attempt ${lease.attempt}: stop training it`,
    );

  const buildAssignment = async (member: Member): Promise<Assignment> => {
    const data = await deps.plans.forRun(member.runId);
    const bytes = await deps.store.size(data.datasetSha256);
    if (bytes === undefined)
      throw new ChorusError('unavailable', `dataset bundle ${data.datasetSha256} is missing`);
    const checkpoint = await repos.checkpoints.latest(member.id);
    const plan = data.plan.member(member.index);
    const model = data.members[member.index];
    if (model === undefined)
      throw new ChorusError('internal', `run ${member.runId} has no member ${member.index}`);
    return {
      runId: member.runId,
      memberId: member.id,
      memberIndex: member.index,
      attempt: member.attempt,
      config: data.config,
      model,
      dataset: {
        name: data.config.dataset,
        sha256: data.datasetSha256,
        url: `/api/datasets/${data.datasetSha256}`,
        bytes,
      },
      totalBatches: plan.totalBatches,
      planOffset: checkpoint?.planOffset ?? 0,
      epoch: checkpoint?.epoch ?? 0,
      checkpoint: checkpoint
        ? {
            epoch: checkpoint.epoch,
            step: checkpoint.step,
            planOffset: checkpoint.planOffset,
            url: `/api/checkpoints/${member.id}/${checkpoint.epoch}`,
          }
        : null,
    };
  };

  const requireLease: Scheduler['requireLease'] = async (workerId, lease, options = {}) => {
    const since = leases.mark();
    const member = await repos.members.get(lease.memberId);
    const held = member?.status === 'leased' || member?.status === 'running';
    const done = options.allowCompleted === true && member?.status === 'completed';
    if (!member || member.workerId !== workerId || member.attempt !== lease.attempt || !(held || done)) {
      leases.forget(lease.memberId);
      throw forbidden(lease);
    }
    if (held) leases.confirm({ ...member, workerId }, since);
    else leases.forget(member.id);
    return member;
  };

  return {
    async register(worker) {
      const details = {
        id: worker.workerId,
        name: worker.name,
        host: worker.host,
        backend: worker.backend,
        device: worker.device,
        slots: worker.slots,
      };
      const stored = await repos.workers.secretHashOf(worker.workerId);
      let issuedSecret: string | null = null;
      if (stored === undefined) {
        const { secret, hash } = issueWorkerSecret();
        // Two connections racing for one new id: the first registers it, the other is refused.
        if (!(await repos.workers.registerNew({ ...details, secretHash: hash })))
          throw new WorkerIdentityError(worker.workerId);
        issuedSecret = secret;
      } else if (stored === null || !workerSecretMatches(stored, worker.secret)) {
        // A row from before worker secrets has no owner to prove: its id is retired.
        throw new WorkerIdentityError(worker.workerId);
      } else {
        await repos.workers.register(details);
      }
      // A process that proved its identity starts afresh: not draining.
      draining.delete(worker.workerId);
      notify.dashboards.workersChanged();
      return { issuedSecret };
    },

    async reconcile(workerId, activeMembers) {
      const active = new Set(activeMembers);
      const since = leases.mark();
      const held = await repos.members.listByWorker(workerId);
      let requeued = 0;
      for (const member of held) {
        if (active.has(member.id)) {
          if (await repos.members.renewLease({ memberId: member.id, workerId, leaseMs })) {
            leases.confirm({ ...member, workerId }, since);
          } else leases.forget(member.id);
        } else {
          leases.forget(member.id);
          if (await repos.members.release({ memberId: member.id, workerId })) requeued++;
        }
      }
      const heldIds = new Set(held.map((m) => m.id));
      for (const memberId of active) {
        if (heldIds.has(memberId)) continue;
        leases.forget(memberId);
        const member = await repos.members.get(memberId);
        notify.workers.revoke(
          workerId,
          { memberId, attempt: Math.max(member?.attempt ?? 1, 1) },
          'lease lost while disconnected',
        );
      }
      if (requeued > 0) {
        logger.info({ workerId, requeued }, 'members of a reconnected worker re-queued');
        notify.workers.workAvailable();
      }
    },

    async claim(workerId, slots) {
      if (draining.has(workerId)) return null;
      // A worker never holds more members than it announced slots.
      if ((await repos.members.listByWorker(workerId)).length >= slots) return null;
      const since = leases.mark();
      // A member handed over to this worker first; members handed to others are not for it.
      const reserved = handover?.reservedFor(workerId);
      let member = reserved
        ? await repos.members.claimNext({ workerId, leaseMs, memberIds: [reserved] })
        : null;
      if (reserved) handover?.forget(reserved);
      member ??= await repos.members.claimNext({
        workerId,
        leaseMs,
        excludeMemberIds: [...(handover?.reservedForOthers(workerId) ?? []), ...backingOff()],
      });
      if (!member) {
        await handover?.consider(workerId);
        return null;
      }
      handover?.forget(member.id);
      try {
        const assignment = await buildAssignment(member);
        leases.confirm({ ...member, workerId }, since);
        deps.telemetry?.leasesGranted.inc();
        logger.info(
          {
            runId: member.runId,
            member: member.index,
            workerId,
            attempt: member.attempt,
            planOffset: assignment.planOffset,
          },
          'member leased',
        );
        notify.dashboards.runsChanged();
        notify.dashboards.runChanged({
          runId: member.runId,
          kind: 'member',
          data: { index: member.index, status: 'leased', workerId },
        });
        return assignment;
      } catch (error) {
        leases.forget(member.id);
        await repos.members.release({ memberId: member.id, workerId });
        // A run that cannot be served (its dataset is gone or changed) fails rather than being
        // handed out forever; anything else (the database hiccuped) is just refused this time.
        const unservable =
          isDatasetError(error) || (error instanceof ChorusError && error.code === 'unavailable');
        if (unservable) {
          await deps.runs.finish(member.runId, 'failed', { error: `cannot serve the run: ${error.message}` });
        }
        throw error;
      }
    },

    requireLease,

    async requireKnownLease(workerId, lease) {
      const known = leases.lookup(workerId, lease.memberId, lease.attempt);
      if (known) return known;
      const { id, runId, index, attempt } = await requireLease(workerId, lease);
      return { id, runId, index, attempt, workerId };
    },

    progressed(member, step) {
      handover?.observe(member, step);
    },

    completed(memberId) {
      leases.forget(memberId);
      handover?.forget(memberId);
    },

    async heartbeat(workerId, listed) {
      // One statement: the worker is seen, the listed leases it still holds are renewed.
      const since = leases.mark();
      const renewed = new Map(
        (await repos.workers.heartbeat(workerId, listed, leaseMs)).map((m) => [m.id, m]),
      );
      const revoked: LeaseRef[] = [];
      for (const lease of listed) {
        const member = renewed.get(lease.memberId);
        if (member) leases.confirm(member, since);
        else {
          leases.forget(lease.memberId);
          revoked.push({ memberId: lease.memberId, attempt: lease.attempt });
        }
      }
      // Whatever else the table holds for this worker is not being trained: check it in the database.
      leases.retain(workerId, new Set(renewed.keys()));
      return revoked;
    },

    drain(workerId) {
      draining.add(workerId);
    },

    isDraining: (workerId) => draining.has(workerId),

    async released(workerId, member, planOffset, reason = 'handover') {
      if (reason === 'drain') draining.add(workerId);
      leases.forget(member.id);
      const checkpoint = await repos.checkpoints.latest(member.id);
      if ((checkpoint?.planOffset ?? 0) !== planOffset) {
        logger.warn(
          {
            runId: member.runId,
            member: member.index,
            planOffset,
            checkpoint: checkpoint?.planOffset ?? null,
          },
          'a released member has no checkpoint at its plan offset: it resumes from the latest one',
        );
      }
      const drained = reason === 'drain';
      if (!(await repos.members.handOver({ memberId: member.id, workerId }, { drained }))) return;
      deps.telemetry?.handovers.inc({ reason });
      logger.info(
        { runId: member.runId, member: member.index, from: workerId, planOffset, reason },
        drained ? 'member released by a draining worker' : 'member handed over',
      );
      notify.dashboards.runChanged({
        runId: member.runId,
        kind: 'member',
        data: { index: member.index, status: 'pending', handedOverAt: planOffset },
      });
      if (handover) handover.released(member.id);
      else notify.workers.workAvailable();
    },

    checkpointRefused(lease) {
      refusedCheckpoints.set(lease.memberId, lease.attempt);
    },

    async memberFailed(workerId, member, error, options = {}) {
      leases.forget(member.id);
      handover?.forget(member.id);
      const refused = refusedCheckpoints.get(member.id) === member.attempt;
      refusedCheckpoints.delete(member.id);
      const overCheckpoint =
        (options.checkpointRemoved === true || refused) &&
        member.checkpointFailures < MAX_CHECKPOINT_FAILURES;
      // Every lease is an attempt; those that ended by a handover or over a checkpoint were not
      // failures of the member (this one included when it ended over a checkpoint).
      const failures =
        member.attempt - member.handovers - member.checkpointFailures - (overCheckpoint ? 1 : 0);
      if (failures < MAX_ATTEMPTS) {
        const lease = { memberId: member.id, workerId };
        if (overCheckpoint) await repos.members.releaseOverCheckpoint(lease, MAX_CHECKPOINT_FAILURES);
        else await repos.members.release(lease);
        logger.warn(
          { runId: member.runId, member: member.index, attempt: member.attempt, error, overCheckpoint },
          overCheckpoint
            ? 'member failed over a checkpoint: re-queued, not counted'
            : 'member failed: re-queued',
        );
        const delay = retryBackoffMs * 2 ** Math.max(failures - 1, 0);
        if (delay > 0) {
          retryAt.set(member.id, Date.now() + delay);
          setTimeout(() => notify.workers.workAvailable(), delay).unref();
        }
        notify.dashboards.runChanged({
          runId: member.runId,
          kind: 'member',
          data: { index: member.index, status: 'pending', error },
        });
        notify.workers.workAvailable();
        return { requeued: true };
      }
      await repos.members.fail({ memberId: member.id, workerId, error });
      await deps.runs.finish(member.runId, 'failed', {
        error: `member ${member.index} failed ${failures} times; last error: ${error}`,
      });
      return { requeued: false };
    },

    async disconnected(workerId) {
      // Its leases stay: the worker may come back (with activeMembers) before they expire.
      await repos.workers.markOffline(workerId);
      notify.dashboards.workersChanged();
    },

    async sweep() {
      const expired = await repos.members.expireLeases();
      for (const member of expired) leases.forget(member.id);
      if (expired.length === 0) return 0;
      deps.telemetry?.leasesExpired.inc(expired.length);
      logger.info(
        { members: expired.map((m) => ({ runId: m.runId, index: m.index })) },
        'expired leases re-queued',
      );
      for (const runId of new Set(expired.map((m) => m.runId))) {
        notify.dashboards.runChanged({
          runId,
          kind: 'member',
          data: { requeued: expired.filter((m) => m.runId === runId).map((m) => m.index) },
        });
      }
      notify.workers.workAvailable();
      return expired.length;
    },
  };
}
