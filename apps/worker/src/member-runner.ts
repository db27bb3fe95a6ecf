import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import {
  buildModelYielding,
  disposeModel,
  loadCheckpoint,
  predictProbabilities,
  prepareTraining,
  saveCheckpoint,
  startFromFileWeights,
  trainOnBatches,
} from '@chorus/models';
import { CHECKPOINT_SOCKET_MAX_BYTES, ChorusError, type Assignment, type SplitName } from '@chorus/protocol';
import { abortable, type AckValue, type Connection, type PayloadOf, type RequestEvent } from './connection';
import type { RunData, RunDataProvider } from './dataset-cache';
import { downloadBytes } from './download';
import { MetricsSender } from './metrics-sender';
import { PlanStream } from './plan-stream';
import { uploadCheckpoint } from './upload';
import type { TlsTrust } from './tls-trust';

/**
 * Trains one leased member, epoch by epoch, as `chorus train` trains each member locally, but with
 * its mini-batches pulled from the coordinator and its progress sent back: throttled metrics while
 * training; at the end of every epoch (= evaluation round `epoch`, 0-based) the softmax
 * probabilities on the validation and test splits, then a checkpoint (epoch, step, the plan offset
 * of the next batch to train, and as `weights` the @chorus/models checkpoint container: weights,
 * step count and optimizer state, so a resumed member continues bit-identically; beyond
 * CHECKPOINT_SOCKET_MAX_BYTES the same uploaded with `PUT /api/checkpoints/…`); after the last
 * epoch `member:done`.
 *
 * `handover` (the coordinator's `member:handover`: a faster worker sits idle) stops training before
 * the next batch is pulled, so the plan offset is exactly the number of batches trained; then the
 * checkpoint and `member:release` follow as ARCHITECTURE.md ("Straggler handover") describes, edge
 * cases included.
 *
 * `signal` aborts the member (lease revoked, worker shutting down): training stops after the step in
 * progress and nothing more is sent for it. A refusal meaning the lease is gone does the same, also
 * of the handover's checkpoint or release. Any other error is reported with `member:failed`.
 *
 * Heartbeats run on this thread, between the member's steps. Work proportional to the model's size
 * is done in pieces with turns of the event loop in between (the model built layer by layer, a
 * checkpoint read and encoded variable by variable and a few MB at a time: @chorus/models), and
 * `renewLease` is awaited right before the steps that remain long (loading a checkpoint, the first
 * training step, which allocates the optimizer's state, and taking a checkpoint), so a large member
 * keeps its lease under a short CHORUS_LEASE_MS. The longest block of the event loop while the
 * member trained is logged with its last line (`eventLoopMaxMs`).
 */

export interface MemberContext {
  assignment: Assignment;
  connection: Connection;
  data: RunDataProvider;
  coordinatorUrl: string;
  token: string;
  /** This worker's id: a checkpoint upload names it with the lease (the coordinator fences on both). */
  workerId: string;
  /** Checkpoints larger than this are uploaded over HTTP (default CHECKPOINT_SOCKET_MAX_BYTES). */
  checkpointSocketMaxBytes?: number;
  /** A private CA to trust (tls-trust.ts). */
  tls?: TlsTrust;
  logger: Logger;
  signal: AbortSignal;
  /** Hands the member over: stop before the next batch, checkpoint, `member:release`. */
  handover?: AbortSignal;
  /** What the release says when `handover` stopped training (default `handover`; `drain` when the worker drains). */
  releaseReason?: () => 'handover' | 'drain';
  /** Minimum time between two `metrics` messages (default 500 ms). */
  metricsIntervalMs?: number;
  /** Batches per `plan:next` request (default 64). */
  planChunkSize?: number;
  /** Metric points kept while the coordinator is away (default MAX_BUFFERED_POINTS). */
  maxBufferedMetrics?: number;
  /** Renews this worker's leases now and waits for the answer (heartbeat.ts `renew`). */
  renewLease?: () => Promise<void>;
  /** Told of every window of steps trained (the worker's Prometheus metrics). */
  onTrained?: (window: { steps: number; samples: number; seconds: number }) => void;
}

/** `handed-over`: released on `member:handover` after its checkpoint; not a failure. */
export type MemberOutcome = 'done' | 'stopped' | 'failed' | 'handed-over';

/** Refusals saying the lease now belongs to another attempt, or the member or run is gone. */
const LEASE_LOST = new Set(['conflict', 'forbidden', 'not-found']);
/** Metric report period in steps (trainOnBatches averages loss/accuracy over it). */
const METRICS_EVERY = 10;
/** Rows per predictProbabilities call; the event loop (heartbeats) gets a turn in between. */
const PREDICT_ROWS = 1024;

type Model = Awaited<ReturnType<typeof buildModelYielding>>;

export async function runMember(ctx: MemberContext): Promise<MemberOutcome> {
  const a = ctx.assignment;
  const lease = { memberId: a.memberId, attempt: a.attempt };
  const log = ctx.logger.child({
    runId: a.runId,
    member: a.memberIndex,
    memberId: a.memberId,
    attempt: a.attempt,
  });
  const lost = new AbortController();
  const signal = AbortSignal.any([ctx.signal, lost.signal]);
  const renewLease = async (): Promise<void> => {
    await ctx.renewLease?.();
  };
  const blocks = monitorEventLoopDelay({ resolution: 20 });
  blocks.enable();
  /** The longest the event loop (heartbeats) was blocked since the member started, in ms. */
  const eventLoopMaxMs = (): number => Math.round(blocks.max / 1e6);

  /** `work`, noting a refusal that says the lease is gone (training stops, nothing more is sent). */
  const fenced = async <T>(work: () => Promise<T>): Promise<T> => {
    signal.throwIfAborted();
    try {
      return await work();
    } catch (error) {
      if (error instanceof ChorusError && LEASE_LOST.has(error.code)) {
        lost.abort(new ChorusError(error.code, `lease lost: ${error.message}`));
      }
      throw error;
    }
  };
  const send = <E extends RequestEvent>(event: E, payload: PayloadOf<E>): Promise<AckValue<E>> =>
    fenced(() => ctx.connection.request(event, payload, { signal }));

  let model: Model | undefined;
  const metrics = new MetricsSender(
    async (points) => {
      await send('metrics', { ...lease, points });
    },
    ctx.metricsIntervalMs ?? 500,
    (error) => log.warn({ err: String(error) }, 'metrics not delivered'),
    {
      ...(ctx.maxBufferedMetrics !== undefined ? { maxBuffered: ctx.maxBufferedMetrics } : {}),
      onDropped: (dropped, state) =>
        log.warn(
          { dropped },
          state === 'dropping'
            ? 'metric buffer full while the coordinator is away: dropping the oldest points'
            : 'metrics delivered again; the oldest points beyond the buffer were dropped',
        ),
    },
  );
  try {
    const data = await abortable(ctx.data.get(a), signal);
    const { inputShape, numClasses } = data.dataset;
    const built = await buildModelYielding({ ...a.model, inputShape, numClasses });
    model = built;
    signal.throwIfAborted();

    const start = await resumePoint(ctx, built, log, signal, renewLease);
    const fileWeights = a.model.modelFile?.weights;
    if (!start.resumed && fileWeights !== undefined && a.model.modelFile !== undefined) {
      // A model file with weights: every member starts from them (a resumed one from its checkpoint).
      const bytes = await abortable(ctx.data.weights(fileWeights.sha256), signal);
      await startFromFileWeights(built, a.model.modelFile, bytes);
      log.info({ weights: fileWeights.sha256 }, "member starts from the model file's weights");
    }
    const { epochs } = a.config;
    if (a.totalBatches % epochs !== 0) {
      throw new ChorusError(
        'internal',
        `the member's ${a.totalBatches} batches do not divide into ${epochs} epochs`,
      );
    }
    const perEpoch = a.totalBatches / epochs;
    const plan = new PlanStream({
      offset: start.planOffset,
      total: a.totalBatches,
      chunkSize: ctx.planChunkSize ?? 64,
      fetchChunk: async (offset, count) => (await send('plan:next', { ...lease, offset, count })).chunk,
    });
    log.info(
      { dataset: data.dataset.name, model: a.model.name, from: start.planOffset, total: a.totalBatches },
      start.planOffset > 0 ? 'resuming member from its checkpoint' : 'training member',
    );

    let step = start.step;
    // The plan offset of the member's latest checkpoint the coordinator acknowledged.
    let checkpointed = start.planOffset;
    /** A checkpoint at the plan offset reached, taken in `epoch`. */
    const sendCheckpoint = async (epoch: number, optimizer: boolean): Promise<void> => {
      await renewLease();
      const checkpoint = await saveCheckpoint(built, { optimizer });
      // An exact-length copy on its own ArrayBuffer: what goes on the wire is exactly the container.
      const weights = new Uint8Array(checkpoint);
      const position = { epoch, step, planOffset: plan.offset };
      if (weights.byteLength <= (ctx.checkpointSocketMaxBytes ?? CHECKPOINT_SOCKET_MAX_BYTES)) {
        await send('checkpoint', { ...lease, ...position, weights });
      } else {
        const { seconds } = await fenced(() =>
          uploadCheckpoint({
            coordinatorUrl: ctx.coordinatorUrl,
            token: ctx.token,
            workerId: ctx.workerId,
            lease,
            ...position,
            bytes: weights,
            signal,
            ...(ctx.tls && { init: ctx.tls.fetchInit }),
          }),
        );
        log.info(
          { epoch, bytes: weights.byteLength, seconds: Math.round(seconds * 100) / 100 },
          'checkpoint uploaded',
        );
      }
      checkpointed = plan.offset;
    };
    let samples = 0;
    let seconds = 0;
    const trainData = { x: data.train.x, y: data.train.y, inputShape, numClasses };
    // The optimizer's state (Adam: twice the weights), allocated in pieces rather than by the first step.
    await prepareTraining(built);
    await renewLease();
    for (let epoch = Math.floor(start.planOffset / perEpoch); epoch < epochs; epoch++) {
      const epochEnd = (epoch + 1) * perEpoch;
      let reported = { step, samples: 0 };
      const stats = await trainOnBatches({
        model,
        data: trainData,
        batches: untilHandover(plan.take(epochEnd - plan.offset), ctx.handover),
        metricsEvery: METRICS_EVERY,
        signal,
        onBatch: (m) => {
          const window = { steps: m.step - reported.step, samples: m.samples - reported.samples };
          reported = { step: m.step, samples: m.samples };
          ctx.onTrained?.({
            ...window,
            seconds: m.samplesPerSecond > 0 ? window.samples / m.samplesPerSecond : 0,
          });
          metrics.push({
            // m.step counts this model's steps, those restored from the checkpoint included.
            step: m.step,
            epoch,
            loss: m.loss,
            accuracy: m.accuracy,
            samplesPerSecond: m.samplesPerSecond,
          });
        },
      });
      step += stats.steps;
      samples += stats.samples;
      seconds += stats.seconds;
      await metrics.flush();
      signal.throwIfAborted();
      if (plan.offset < epochEnd) {
        // Stopped short: only a handover does that (a plan ending early throws).
        const planOffset = plan.offset;
        if (planOffset > checkpointed) await sendCheckpoint(epoch, true);
        const reason = ctx.releaseReason?.() ?? 'handover';
        await send('member:release', { ...lease, planOffset, reason });
        log.info({ epoch, step, planOffset, reason, eventLoopMaxMs: eventLoopMaxMs() }, 'member handed over');
        return 'handed-over';
      }

      for (const split of ['validation', 'test'] as const) {
        const probabilities = await predictSplit(model, data, split, signal);
        await send('predictions', {
          ...lease,
          round: epoch,
          split,
          rows: probabilities.length / numClasses,
          numClasses,
          probabilities: new Uint8Array(
            probabilities.buffer,
            probabilities.byteOffset,
            probabilities.byteLength,
          ),
        });
      }
      // After the last epoch nothing trains from the checkpoint again (a resume only reports the
      // member done): its weights and step suffice, without the optimizer state (Adam: 3× the size).
      await sendCheckpoint(epoch, epoch < epochs - 1);
      log.info(
        { epoch, step, loss: stats.loss, accuracy: stats.accuracy, samplesPerSecond: rate(stats) },
        'epoch done',
      );
    }
    await send('member:done', { ...lease, samples, seconds });
    log.info(
      { samples, seconds: Math.round(seconds * 10) / 10, eventLoopMaxMs: eventLoopMaxMs() },
      'member done',
    );
    return 'done';
  } catch (error) {
    if (signal.aborted) {
      log.info(
        { reason: reasonOf(signal.reason), eventLoopMaxMs: eventLoopMaxMs() },
        'stopped training the member',
      );
      return 'stopped';
    }
    const message = error instanceof Error ? error.message : String(error);
    log.error({ err: error, eventLoopMaxMs: eventLoopMaxMs() }, 'member failed');
    try {
      await ctx.connection.request(
        'member:failed',
        {
          ...lease,
          error: message.slice(0, 4000),
          ...(error instanceof CheckpointLoadError ? { checkpointEpoch: error.epoch } : {}),
        },
        { signal: ctx.signal },
      );
    } catch (reportError) {
      log.warn({ err: String(reportError) }, 'could not report the failure to the coordinator');
    }
    return 'failed';
  } finally {
    blocks.disable();
    metrics.stop();
    if (model) disposeModel(model);
  }
}

/** The assignment's checkpoint did not load (corrupt, or another model's): reported with its epoch. */
class CheckpointLoadError extends Error {
  constructor(
    readonly epoch: number,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/**
 * Where training starts: batch 0 with a fresh model, or the checkpoint's weights, optimizer state
 * and step count at its plan offset. Checkpoint and offset always come together: without a
 * checkpoint the member starts over, whatever progress the coordinator remembers. A checkpoint of
 * the older weights-only format still loads (step kept, so dropout masks continue), but the
 * optimizer starts afresh and the member no longer matches an uninterrupted one exactly.
 */
async function resumePoint(
  ctx: MemberContext,
  model: Model,
  log: Logger,
  signal: AbortSignal,
  renewLease: () => Promise<void>,
): Promise<{ planOffset: number; step: number; resumed: boolean }> {
  const { checkpoint, planOffset } = ctx.assignment;
  if (checkpoint === null) {
    if (planOffset !== 0) log.warn({ planOffset }, 'no checkpoint to resume from: starting the member over');
    return { planOffset: 0, step: 0, resumed: false };
  }
  const url = new URL(checkpoint.url, `${ctx.coordinatorUrl}/`).toString();
  if (checkpoint.planOffset > ctx.assignment.totalBatches) {
    throw new ChorusError(
      'invalid-input',
      `checkpoint plan offset ${checkpoint.planOffset} is past the member's ${ctx.assignment.totalBatches} batches`,
    );
  }
  const started = performance.now();
  const bytes = await downloadBytes(url, {
    token: ctx.token,
    signal,
    ...(ctx.tls && { init: ctx.tls.fetchInit }),
  });
  const seconds = Math.round(performance.now() - started) / 1000;
  log.info({ epoch: checkpoint.epoch, bytes: bytes.byteLength, seconds }, 'checkpoint downloaded');
  await renewLease();
  const loaded = await loadCheckpoint(model, bytes, { fallbackStep: checkpoint.step }).catch(
    (error: unknown) => {
      throw new CheckpointLoadError(checkpoint.epoch, error);
    },
  );
  if (!loaded.optimizerRestored) {
    log.warn(
      { epoch: checkpoint.epoch, format: loaded.format },
      'checkpoint holds weights only (older format): the optimizer restarts, so training is not an exact continuation',
    );
  }
  if (loaded.step !== checkpoint.step) {
    // The bytes are what training continues from (their step positions the dropout masks).
    log.warn({ announced: checkpoint.step, saved: loaded.step }, 'checkpoint step differs from its bytes');
  }
  return { planOffset: checkpoint.planOffset, step: loaded.step, resumed: true };
}

/**
 * The batches until `handover` aborts. It is checked before each batch is pulled from the plan
 * (which counts a batch as it yields it), so that the plan offset is then the batches trained.
 */
async function* untilHandover(
  batches: AsyncIterable<Int32Array>,
  handover: AbortSignal | undefined,
): AsyncGenerator<Int32Array> {
  const iterator = batches[Symbol.asyncIterator]();
  try {
    while (handover?.aborted !== true) {
      const next = await iterator.next();
      if (next.done === true) return;
      yield next.value;
    }
  } finally {
    await iterator.return?.();
  }
}

/** Softmax rows of a split, computed in slices so heartbeats keep flowing on slow backends. */
async function predictSplit(
  model: Model,
  data: RunData,
  split: SplitName,
  signal: AbortSignal,
): Promise<Float32Array<ArrayBuffer>> {
  const { inputShape, numClasses } = data.dataset;
  const x = data[split].x;
  const features = inputShape.reduce((p, d) => p * d, 1);
  const rows = x.length / features;
  const out = new Float32Array(rows * numClasses);
  for (let start = 0; start < rows; start += PREDICT_ROWS) {
    signal.throwIfAborted();
    const n = Math.min(PREDICT_ROWS, rows - start);
    out.set(
      await predictProbabilities(model, x.subarray(start * features, (start + n) * features), inputShape),
      start * numClasses,
    );
    await yieldToEventLoop();
  }
  return out;
}

function rate(stats: { samples: number; seconds: number }): number {
  return stats.seconds > 0 ? Math.round(stats.samples / stats.seconds) : 0;
}

function reasonOf(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
