import type { Logger } from 'pino';
import { LIVE_ROUND, type Member, type Repositories, type StoredPrediction } from '@chorus/db';
import {
  perClassResult,
  runResultOf,
  validateProbabilities,
  type EnsembleEvaluation,
} from '@chorus/ensemble';
import { ChorusError, RunResultSchema, type MemberDone, type PredictionsMessage } from '@chorus/protocol';
import type { CoordinatorTelemetry } from '../telemetry';
import type { Notifiers } from '../notifications';
import type { PlanService, RunData } from './plan.service';
import type { RunService } from './run.service';
import type { TaskQueue } from './task-queue';
import { createEvaluationPool } from './evaluation-pool';
import { boundsOf, checkRound } from './worker-numbers';
import { createPredictionCache } from './prediction-cache';
import { latestPredictionPairs, type PredictionPair } from './prediction-pairs';

/**
 * Gathers the members' predictions and turns them into ensemble evaluations (ARCHITECTURE.md, "One run, distributed", step 5):
 * every stored probability array is validated first; evaluations of one run run one at a time.
 */
export interface GatherService {
  /** Validates and stores one member's probabilities; schedules the evaluations they complete. */
  savePredictions(member: Member, message: PredictionsMessage): Promise<void>;
  /** The member finished: records its throughput; once every member has, the run's result. */
  memberDone(member: Member, workerId: string, message: MemberDone): Promise<void>;
  /** Stops the evaluation thread (the coordinator's close, once its task queue is idle). */
  close(): Promise<void>;
}

export function createGatherService(deps: {
  repos: Repositories;
  plans: PlanService;
  runs: RunService;
  queue: TaskQueue;
  notify: Notifiers;
  logger: Logger;
  telemetry?: CoordinatorTelemetry;
}): GatherService {
  const { repos, notify, logger } = deps;
  const predictions = createPredictionCache(repos);

  const evaluator = createEvaluationPool({ logger });

  /**
   * Evaluates `pairs` and stores the rows under each of `rounds` (one statement). The evaluation
   * itself runs in the evaluation thread (evaluation-pool.ts), so this event loop stays free.
   */
  const evaluateAndStore = async (
    data: RunData,
    rounds: number[],
    pairs: PredictionPair[],
  ): Promise<EnsembleEvaluation> => {
    const { evaluation, rows, seconds } = await evaluator.evaluate({
      runId: data.runId,
      numClasses: data.numClasses,
      seed: data.config.seed,
      validationTruth: data.validationTruth,
      testTruth: data.testTruth,
      rounds,
      memberIndices: pairs.map((p) => p.memberIndex),
      validation: pairs.map((p) => p.validation.probabilities),
      test: pairs.map((p) => p.test.probabilities),
    });
    deps.telemetry?.evaluationSeconds.observe(seconds);
    await repos.evals.saveEvaluation(rows);
    return evaluation;
  };

  /** Each member's latest round for which both splits are stored. */
  const latestPairs = (runId: string): Promise<PredictionPair[]> =>
    latestPredictionPairs({
      listLatest: (split) => predictions.listLatest(runId, split),
      get: (key) => predictions.get(runId, key),
    });

  const pairsKey = (pairs: PredictionPair[]): string =>
    pairs.map((p) => `${p.validation.memberId}:${p.round}`).join(',');

  // The last live view computed per run, with the pairs it was computed from and the run's save
  // count when they were read: the final evaluation reuses it when nothing was saved since.
  const lastLive = new Map<string, { version: number; key: string; evaluation: EnsembleEvaluation }>();
  const rememberLive = (
    runId: string,
    entry: { version: number; key: string; evaluation: EnsembleEvaluation },
  ) => {
    lastLive.delete(runId);
    lastLive.set(runId, entry);
    if (lastLive.size > 8) lastLive.delete(lastLive.keys().next().value as string);
  };

  /** A member completed both splits of `round`: the live view, and the round once every member reached it. */
  const evaluateRound = async (runId: string, round: number): Promise<void> => {
    const data = await deps.plans.forRun(runId);
    const version = predictions.version(runId);
    const live = await latestPairs(runId);
    // Every member's latest pair is this round: the live view is the complete round, evaluated once.
    const liveIsRound = live.length === data.config.members && live.every((p) => p.round === round);
    if (live.length > 0) {
      const evaluation = await evaluateAndStore(data, liveIsRound ? [LIVE_ROUND, round] : [LIVE_ROUND], live);
      rememberLive(runId, { version, key: pairsKey(live), evaluation });
      // A member's accuracies are those of its latest round (one statement for all of them).
      await repos.members.setAccuracies(
        live.flatMap((pair, i) => {
          const scores = evaluation.members[i];
          return scores
            ? [
                {
                  memberId: pair.validation.memberId,
                  valAccuracy: scores.valAccuracy,
                  testAccuracy: scores.testAccuracy,
                },
              ]
            : [];
        }),
      );
    }
    let complete = liveIsRound;
    if (!liveIsRound) {
      const [validation, test] = await Promise.all([
        predictions.listRound(runId, 'validation', round),
        predictions.listRound(runId, 'test', round),
      ]);
      complete = validation.length === data.config.members && test.length === data.config.members;
      if (complete) {
        const pairs = validation.map((v, i) => ({
          memberIndex: v.memberIndex,
          round,
          validation: v,
          test: test[i] as StoredPrediction,
        }));
        await evaluateAndStore(data, [round], pairs);
      }
    }
    notify.dashboards.runChanged({
      runId,
      kind: 'evaluation',
      data: { round, complete, liveMembers: live.length },
    });
  };

  /** Every member is done: the final table from each member's last round becomes the run's result. */
  const finalize = async (runId: string): Promise<void> => {
    const run = await repos.runs.get(runId);
    if (!run || run.status !== 'running') return;
    if (run.members.some((m) => m.status !== 'completed')) return;
    // A round's evaluation queued after this task (its predictions came while an earlier one ran)
    // goes first: the run is completed after its last evaluation, never with one still to come.
    if (waitingRounds(runId)) {
      schedule(runId, 'final evaluation', () => finalize(runId));
      return;
    }
    const data = await deps.plans.forRun(runId);
    const version = predictions.version(runId);
    const pairs = await latestPairs(runId);
    if (pairs.length !== run.members.length) {
      const missing = run.members
        .filter((m) => !pairs.some((p) => p.memberIndex === m.index))
        .map((m) => m.index);
      await deps.runs.finish(runId, 'failed', {
        error: `members ${missing.join(', ')} finished without sending predictions for both splits`,
      });
      return;
    }
    // The live view of these very pairs is usually stored already (the last round's evaluation).
    const last = lastLive.get(runId);
    const evaluation =
      last && last.version === version && last.key === pairsKey(pairs)
        ? last.evaluation
        : await evaluateAndStore(data, [LIVE_ROUND], pairs);
    const result = RunResultSchema.parse({
      ...runResultOf(
        evaluation,
        run.members.map((m) => m.samplesPerSecond ?? 0),
      ),
      classes: perClassResult(evaluation, data.testTruth, data.numClasses, data.classNames),
    });
    await deps.runs.finish(runId, 'completed', { result });
    lastLive.delete(runId);
    predictions.forget(runId);
  };

  const schedule = (runId: string, what: string, task: () => Promise<void>): void => {
    deps.queue
      .enqueue(runId, task)
      .catch((error: unknown) => logger.error({ err: error, runId }, `${what} failed`));
  };

  // Evaluations waiting in a run's queue, by run and round. A round already waiting is not queued
  // again: it reads the stored predictions when it starts, so it covers every pair that arrived
  // before then. Without this, K members sending at once queue K full recomputations (load test).
  const waiting = new Set<string>();
  const waitingRounds = (runId: string): boolean => [...waiting].some((key) => key.startsWith(`${runId}:`));
  const scheduleRound = (runId: string, round: number): void => {
    const key = `${runId}:${round}`;
    if (waiting.has(key)) return;
    waiting.add(key);
    schedule(runId, `evaluation of round ${round}`, () => {
      waiting.delete(key);
      return evaluateRound(runId, round);
    });
  };

  return {
    async savePredictions(member, message) {
      const data = await deps.plans.forRun(member.runId);
      checkRound(boundsOf(data, member.index), message.round);
      const rows = message.split === 'validation' ? data.validationTruth.length : data.testTruth.length;
      if (message.numClasses !== data.numClasses) {
        throw new ChorusError(
          'invalid-input',
          `this run's dataset has ${data.numClasses} classes, got numClasses ${message.numClasses}`,
        );
      }
      if (message.rows !== rows) {
        throw new ChorusError(
          'invalid-input',
          `the ${message.split} split of this run has ${rows} rows, got rows ${message.rows}`,
        );
      }
      const expectedBytes = rows * data.numClasses * 4;
      if (message.probabilities.byteLength !== expectedBytes) {
        throw new ChorusError(
          'invalid-input',
          `probabilities must be ${rows} × ${data.numClasses} float32 values (${expectedBytes} bytes), got ${message.probabilities.byteLength} bytes`,
        );
      }
      // Copy into an aligned buffer: the received Buffer may start at any offset.
      const probabilities = new Float32Array(new Uint8Array(message.probabilities).buffer);
      validateProbabilities(probabilities, rows, data.numClasses);
      await repos.predictions.save({
        memberId: member.id,
        split: message.split,
        round: message.round,
        probabilities,
        numClasses: data.numClasses,
      });
      predictions.saved(member.runId, {
        memberId: member.id,
        memberIndex: member.index,
        split: message.split,
        round: message.round,
        rows,
        numClasses: data.numClasses,
        probabilities,
        updatedAt: new Date(),
      });
      const other = message.split === 'validation' ? 'test' : 'validation';
      const pairComplete = await predictions.get(member.runId, {
        memberId: member.id,
        split: other,
        round: message.round,
      });
      if (pairComplete) scheduleRound(member.runId, message.round);
    },

    async memberDone(member, workerId, message) {
      if (member.status !== 'completed') {
        const data = await deps.plans.forRun(member.runId);
        const samplesPerSecond = message.seconds > 0 ? message.samples / message.seconds : 0;
        const totalBatches = data.plan.member(member.index).totalBatches;
        await repos.members.recordProgress({
          memberId: member.id,
          workerId,
          step: Math.max(member.step, totalBatches),
          // Done means every epoch trained (the last metrics may still sit in the buffer).
          epoch: Math.max(member.epoch, data.config.epochs - 1),
          planOffset: totalBatches,
          samples: Math.max(member.samples, message.samples),
          samplesPerSecond,
        });
        await repos.members.complete({ memberId: member.id, workerId });
        logger.info({ runId: member.runId, member: member.index, samplesPerSecond }, 'member completed');
        notify.dashboards.runChanged({
          runId: member.runId,
          kind: 'member',
          data: { index: member.index, status: 'completed' },
        });
      }
      schedule(member.runId, 'final evaluation', () => finalize(member.runId));
    },

    close: () => evaluator.close(),
  };
}
