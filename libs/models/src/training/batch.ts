/** Gathers the rows of a mini-batch of indices into reused buffers (no per-step allocation). */
import { ModelError } from '../errors';

export interface TrainingData {
  /** count × featureSize values, row-major. */
  x: Float32Array;
  /** count class indices in [0, numClasses). */
  y: Int32Array;
  /** Shape of one sample; its product is featureSize. */
  inputShape: number[];
  numClasses: number;
}

export interface GatheredBatch {
  size: number;
  x: Float32Array;
  /** One-hot labels, size × numClasses. */
  y: Float32Array;
  labels: Int32Array;
}

/** Checks the data's sizes and labels once; returns the feature size. */
export function checkTrainingData(data: TrainingData): number {
  const featureSize = data.inputShape.reduce((a, b) => a * b, 1);
  if (!(featureSize > 0) || !Number.isInteger(featureSize)) {
    throw new ModelError('invalid-data', `inputShape [${data.inputShape}] must be positive integers`);
  }
  if (data.x.length !== data.y.length * featureSize) {
    throw new ModelError(
      'invalid-data',
      `x has ${data.x.length} values but y has ${data.y.length} labels × ${featureSize} features per sample`,
    );
  }
  for (let i = 0; i < data.y.length; i++) {
    const label = data.y[i] as number;
    if (label < 0 || label >= data.numClasses) {
      throw new ModelError(
        'invalid-data',
        `label ${label} of sample ${i} is outside [0, ${data.numClasses})`,
      );
    }
  }
  return featureSize;
}

export class BatchGatherer {
  private xBuf = new Float32Array(0);
  private yBuf = new Float32Array(0);
  private labelBuf = new Int32Array(0);
  private readonly count: number;

  constructor(
    private readonly data: TrainingData,
    private readonly featureSize: number,
  ) {
    this.count = data.y.length;
  }

  gather(indices: Int32Array): GatheredBatch {
    const n = indices.length;
    const f = this.featureSize;
    const c = this.data.numClasses;
    if (this.labelBuf.length < n) {
      this.xBuf = new Float32Array(n * f);
      this.yBuf = new Float32Array(n * c);
      this.labelBuf = new Int32Array(n);
    }
    const x = this.xBuf.subarray(0, n * f);
    const y = this.yBuf.subarray(0, n * c);
    const labels = this.labelBuf.subarray(0, n);
    y.fill(0);
    for (let i = 0; i < n; i++) {
      const row = indices[i] as number;
      if (row < 0 || row >= this.count) {
        throw new ModelError(
          'invalid-data',
          `batch index ${row} is outside the ${this.count} training samples`,
        );
      }
      x.set(this.data.x.subarray(row * f, row * f + f), i * f);
      const label = this.data.y[row] as number;
      labels[i] = label;
      y[i * c + label] = 1;
    }
    return { size: n, x, y, labels };
  }
}
