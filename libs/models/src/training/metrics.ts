/**
 * Loss and accuracy of the training batches, accumulated without stalling the step: on host-memory
 * backends each batch's softmax rows are read in place (B×C floats); elsewhere (libtensorflow, where
 * a read waits for the device) running sums stay on the device and are read only when reported.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostMemory } from './host-memory';

/** Keras clips probabilities to [1e-7, 1 − 1e-7] before the log. */
const EPS = 1e-7;

export interface MetricsTotals {
  loss: number;
  correct: number;
  samples: number;
}

export interface MetricsAccumulator {
  /** Adds one batch: `probs` [B, C] softmax rows, `labels` the B class indices. Does not dispose `probs`. */
  add(probs: tf.Tensor2D, labels: Int32Array): void;
  /** Adds one batch scored elsewhere: summed cross-entropy, correct count, batch size. */
  addScores(loss: number, correct: number, samples: number): void;
  /**
   * Sums since the last `take()` (loss is the summed per-sample cross-entropy), then resets. Async:
   * on a GPU the sums are read with `data()` (`dataSync()` cannot read webgpu tensors in Node).
   */
  take(): Promise<MetricsTotals>;
  dispose(): void;
}

/** Cross-entropy sum and correct count of softmax rows, computed on the host. */
export function scoreRows(
  p: Float32Array,
  labels: Int32Array,
  classes: number,
): { loss: number; correct: number } {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = i * classes;
    const label = labels[i] as number;
    let best = 0;
    let bestP = p[row] as number;
    for (let c = 1; c < classes; c++) {
      const v = p[row + c] as number;
      if (v > bestP) {
        bestP = v;
        best = c;
      }
    }
    if (best === label) correct++;
    const q = p[row + label] as number;
    loss -= Math.log(Math.min(1 - EPS, Math.max(EPS, q)));
  }
  return { loss, correct };
}

class HostAccumulator implements MetricsAccumulator {
  private totals: MetricsTotals = { loss: 0, correct: 0, samples: 0 };
  constructor(private readonly memory: HostMemory) {}

  add(probs: tf.Tensor2D, labels: Int32Array): void {
    const { loss, correct } = this.memory.read(probs, (p) => scoreRows(p, labels, probs.shape[1]));
    this.totals.loss += loss;
    this.totals.correct += correct;
    this.totals.samples += labels.length;
  }

  addScores(loss: number, correct: number, samples: number): void {
    this.totals.loss += loss;
    this.totals.correct += correct;
    this.totals.samples += samples;
  }

  take(): Promise<MetricsTotals> {
    const t = this.totals;
    this.totals = { loss: 0, correct: 0, samples: 0 };
    return Promise.resolve(t);
  }

  dispose(): void {}
}

class DeviceAccumulator implements MetricsAccumulator {
  private loss: tf.Scalar | null = null;
  private correct: tf.Scalar | null = null;
  private samples = 0;

  add(probs: tf.Tensor2D, labels: Int32Array): void {
    const [loss, correct] = tf.tidy(() => {
      const y = tf.tensor1d(labels, 'int32');
      const oneHot = tf.oneHot(y, probs.shape[1]);
      const ce = tf.neg(tf.sum(tf.mul(oneHot, tf.log(tf.clipByValue(probs, EPS, 1 - EPS)))));
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(probs, 1), y), 'float32'));
      return [
        this.loss === null ? ce : tf.add(this.loss, ce),
        this.correct === null ? hits : tf.add(this.correct, hits),
      ] as [tf.Scalar, tf.Scalar];
    });
    this.loss?.dispose();
    this.correct?.dispose();
    this.loss = loss;
    this.correct = correct;
    this.samples += labels.length;
  }

  addScores(loss: number, correct: number, samples: number): void {
    const [l, c] = tf.tidy(() => [
      this.loss === null ? tf.scalar(loss) : tf.add(this.loss, loss),
      this.correct === null ? tf.scalar(correct) : tf.add(this.correct, correct),
    ]) as [tf.Scalar, tf.Scalar];
    this.loss?.dispose();
    this.correct?.dispose();
    this.loss = l;
    this.correct = c;
    this.samples += samples;
  }

  async take(): Promise<MetricsTotals> {
    const { loss, correct, samples } = this;
    // Reset first: add() may run again while the reads below wait for the device.
    this.loss = null;
    this.correct = null;
    this.samples = 0;
    try {
      return {
        loss: loss === null ? 0 : ((await loss.data())[0] as number),
        correct: correct === null ? 0 : ((await correct.data())[0] as number),
        samples,
      };
    } finally {
      loss?.dispose();
      correct?.dispose();
    }
  }

  dispose(): void {
    this.loss?.dispose();
    this.correct?.dispose();
    this.loss = null;
    this.correct = null;
  }
}

export function makeAccumulator(memory: HostMemory | null): MetricsAccumulator {
  return memory === null ? new DeviceAccumulator() : new HostAccumulator(memory);
}
