import fc from 'fast-check';

/** Flattens rows into an N×C Float32Array. */
export function matrix(...rows: number[][]): Float32Array {
  return Float32Array.from(rows.flat());
}

/** Integer weights 0..100 per cell, each row normalised (an all-zero row becomes uniform). */
function normalise(cells: number[], numClasses: number): Float32Array {
  const out = new Float32Array(cells.length);
  for (let base = 0; base < cells.length; base += numClasses) {
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += cells[base + c] as number;
    for (let c = 0; c < numClasses; c++) {
      out[base + c] = sum === 0 ? 1 / numClasses : (cells[base + c] as number) / sum;
    }
  }
  return out;
}

export function probabilities(rows: number, numClasses: number): fc.Arbitrary<Float32Array> {
  const size = rows * numClasses;
  return fc
    .array(fc.integer({ min: 0, max: 100 }), { minLength: size, maxLength: size })
    .map((cells) => normalise(cells, numClasses));
}

export interface EnsembleCase {
  rows: number;
  numClasses: number;
  members: Float32Array[];
  truth: Int32Array;
  weights: number[];
}

/** A random small ensemble: 1–6 members, 1–8 rows, 2–5 classes, labels and positive weights. */
export function ensembleCase(
  options: { minMembers?: number; maxMembers?: number } = {},
): fc.Arbitrary<EnsembleCase> {
  return fc
    .record({
      memberCount: fc.integer({ min: options.minMembers ?? 1, max: options.maxMembers ?? 6 }),
      rows: fc.integer({ min: 1, max: 8 }),
      numClasses: fc.integer({ min: 2, max: 5 }),
    })
    .chain(({ memberCount, rows, numClasses }) =>
      fc.record({
        rows: fc.constant(rows),
        numClasses: fc.constant(numClasses),
        members: fc.array(probabilities(rows, numClasses), {
          minLength: memberCount,
          maxLength: memberCount,
        }),
        truth: fc
          .array(fc.integer({ min: 0, max: numClasses - 1 }), { minLength: rows, maxLength: rows })
          .map((t) => Int32Array.from(t)),
        weights: fc.array(fc.integer({ min: 1, max: 20 }), {
          minLength: memberCount,
          maxLength: memberCount,
        }),
      }),
    );
}

/** Label arrays: 1–6 members, 1–30 samples, 2–4 classes. */
export function labelCase(): fc.Arbitrary<{ members: Int32Array[]; truth: Int32Array }> {
  return fc
    .record({
      memberCount: fc.integer({ min: 1, max: 6 }),
      n: fc.integer({ min: 1, max: 30 }),
      k: fc.integer({ min: 2, max: 4 }),
    })
    .chain(({ memberCount, n, k }) => {
      const labels = fc
        .array(fc.integer({ min: 0, max: k - 1 }), { minLength: n, maxLength: n })
        .map((l) => Int32Array.from(l));
      return fc.record({
        members: fc.array(labels, { minLength: memberCount, maxLength: memberCount }),
        truth: labels,
      });
    });
}
