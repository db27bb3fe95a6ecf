import {
  CheckpointBytesError,
  ChorusError,
  IncompatibleInputError,
  countMemberParams,
  verifyCheckpointBytes,
  type CheckpointMessage,
  type MetricsMessage,
} from '@chorus/protocol';
import type { RunData } from './plan.service';

/**
 * A worker's numbers checked against its run before anything is stored (the bounds that hold for
 * every run, int4, [0, 1], finite, are the schemas' of libs/protocol sockets.ts). A number beyond
 * the member's plan would pin its progress, prune its real checkpoints or fail a shared write;
 * it is refused with `invalid-input` naming the field.
 */
export interface MemberPlanBounds {
  /** Mini-batches in the member's whole plan: steps and plan offsets never pass it. */
  totalBatches: number;
  /** Epochs of the run: epochs and evaluation rounds are 0 … epochs − 1. */
  epochs: number;
}

export function boundsOf(data: RunData, memberIndex: number): MemberPlanBounds {
  return { totalBatches: data.plan.member(memberIndex).totalBatches, epochs: data.config.epochs };
}

const refuse = (field: string, value: number, limit: string): ChorusError =>
  new ChorusError('invalid-input', `${field}: ${value} is beyond this member's plan (${limit})`);

function checkStep(bounds: MemberPlanBounds, field: string, value: number): void {
  if (value > bounds.totalBatches) throw refuse(field, value, `${bounds.totalBatches} mini-batches`);
}

function checkEpoch(bounds: MemberPlanBounds, field: string, value: number): void {
  if (value >= bounds.epochs) throw refuse(field, value, `epochs 0–${bounds.epochs - 1}`);
}

/** Every point of a `metrics` message, or none: the first bad one refuses the message. */
export function checkMetricPoints(bounds: MemberPlanBounds, points: MetricsMessage['points']): void {
  points.forEach((point, i) => {
    checkStep(bounds, `points.${i}.step`, point.step);
    checkEpoch(bounds, `points.${i}.epoch`, point.epoch);
  });
}

export function checkCheckpointNumbers(
  bounds: MemberPlanBounds,
  message: Pick<CheckpointMessage, 'epoch' | 'step' | 'planOffset'>,
): void {
  checkEpoch(bounds, 'epoch', message.epoch);
  checkStep(bounds, 'step', message.step);
  checkStep(bounds, 'planOffset', message.planOffset);
}

export function checkRound(bounds: MemberPlanBounds, round: number): void {
  checkEpoch(bounds, 'round', round);
}

export function checkPlanOffset(bounds: MemberPlanBounds, planOffset: number): void {
  checkStep(bounds, 'planOffset', planOffset);
}

/**
 * A checkpoint's bytes before they are stored: container, version, lengths, every section's CRC-32
 * and the weights' parameter count against the member's (libs/protocol checkpoint-bytes.ts). A bad
 * one is refused with `invalid-input`, so it never becomes the checkpoint a resumed member loads.
 */
export function checkCheckpointBytes(data: RunData, memberIndex: number, bytes: Uint8Array): void {
  try {
    verifyCheckpointBytes(bytes, memberParamsOf(data, memberIndex));
  } catch (err) {
    if (err instanceof CheckpointBytesError) {
      throw new ChorusError('invalid-input', `checkpoint refused: ${err.message}`);
    }
    throw err;
  }
}

/** The member's parameter count, or undefined when its model does not fit the dataset's shape. */
export function memberParamsOf(data: RunData, memberIndex: number): number | undefined {
  const spec = data.members[memberIndex];
  if (spec === undefined) return undefined;
  try {
    return countMemberParams({
      model: spec.name,
      modelFile: spec.modelFile,
      inputShape: data.inputShape,
      numClasses: data.numClasses,
      width: spec.width,
    });
  } catch (err) {
    if (!(err instanceof IncompatibleInputError)) throw err;
    return undefined;
  }
}
