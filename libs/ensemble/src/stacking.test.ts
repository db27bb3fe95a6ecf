import { describe, expect, it } from 'vitest';
import { CombinerParamsSchema } from '@chorus/protocol';
import { matrix } from './arbitraries.test-util';
import { applyCombiner, fitCombiner } from './combiners';
import { assignFolds } from './folds';

/**
 * An independent reference for the stacking fit, written from the formulas with nested arrays:
 * F(w, b) = (1/N) Σ_n −log softmax_y(b + Σ_m w_m log max(p_m, 1e-12)) + λ/2 (‖w‖² + ‖b‖²),
 * minimised by plain gradient descent with a fixed step until the gradient vanishes.
 */
function referenceStacking(
  members: number[][][],
  truth: number[],
  lambda: number,
): { w: number[]; b: number[]; converged: boolean } {
  const M = members.length;
  const C = (members[0] as number[][])[0]!.length;
  const logp = members.map((rows) => rows.map((row) => row.map((p) => Math.log(Math.max(p, 1e-12)))));
  const w = new Array<number>(M).fill(0);
  const b = new Array<number>(C).fill(0);
  for (let iteration = 0; iteration < 200_000; iteration++) {
    const gw = w.map((x) => lambda * x);
    const gb = b.map((x) => lambda * x);
    truth.forEach((y, n) => {
      const z = b.map((bc, c) => bc + w.reduce((s, wm, m) => s + wm * logp[m]![n]![c]!, 0));
      const max = Math.max(...z);
      const e = z.map((v) => Math.exp(v - max));
      const total = e.reduce((s, v) => s + v, 0);
      e.forEach((v, c) => {
        const residual = v / total - (c === y ? 1 : 0);
        gb[c]! += residual / truth.length;
        for (let m = 0; m < M; m++) gw[m]! += (residual * logp[m]![n]![c]!) / truth.length;
      });
    });
    const norm = Math.max(...gw.map(Math.abs), ...gb.map(Math.abs));
    if (norm < 1e-11) return { w, b, converged: true };
    gw.forEach((g, m) => (w[m]! -= 0.2 * g));
    gb.forEach((g, c) => (b[c]! -= 0.2 * g));
  }
  return { w, b, converged: false };
}

/** Summed NLL of rows under (w, b), from the formula. */
function referenceLoss(members: number[][][], truth: number[], fit: { w: number[]; b: number[] }): number {
  return truth.reduce((loss, y, n) => {
    const z = fit.b.map(
      (bc, c) => bc + fit.w.reduce((s, wm, m) => s + wm * Math.log(Math.max(members[m]![n]![c]!, 1e-12)), 0),
    );
    const max = Math.max(...z);
    return loss + max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0)) - z[y]!;
  }, 0);
}

/** The largest component of the objective's gradient at (w, b), from the formula (flat arrays, C classes). */
function referenceGradientMax(
  members: readonly Float32Array[],
  truth: Int32Array,
  C: number,
  fit: { w: number[]; b: number[] },
  lambda: number,
): number {
  const N = truth.length;
  const logp = members.map((probs) => Array.from(probs, (p) => Math.log(Math.max(p, 1e-12))));
  const gw = fit.w.map((x) => lambda * x);
  const gb = fit.b.map((x) => lambda * x);
  for (let n = 0; n < N; n++) {
    const z = fit.b.map((bc, c) => bc + fit.w.reduce((s, wm, m) => s + wm * logp[m]![n * C + c]!, 0));
    const max = Math.max(...z);
    const e = z.map((v) => Math.exp(v - max));
    const total = e.reduce((s, v) => s + v, 0);
    e.forEach((v, c) => {
      const residual = v / total - (c === truth[n] ? 1 : 0);
      gb[c]! += residual / N;
      fit.w.forEach((_, m) => (gw[m]! += (residual * logp[m]![n * C + c]!) / N));
    });
  }
  return Math.max(...gw.map(Math.abs), ...gb.map(Math.abs));
}

/** `count` members of random rows (a fixed LCG from `seed`), each row summing to 1. */
function randomMembers(count: number, rows: number, C: number, seed: number): Float32Array[] {
  let state = seed >>> 0;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return Array.from({ length: count }, () => {
    const out = new Float32Array(rows * C);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < C; c++) sum += out[r * C + c] = Math.exp(3 * next());
      for (let c = 0; c < C; c++) out[r * C + c] = out[r * C + c]! / sum;
    }
    return out;
  });
}

/** Three members, three classes, twelve rows: fixed numbers, each row summing to 1 in float32. */
const TRUTH = [0, 1, 2, 0, 1, 2, 0, 0, 1, 2, 2, 1];
// prettier-ignore
const RAW: number[][][] = [
  [[.7, .2, .1], [.3, .5, .2], [.2, .2, .6], [.5, .4, .1], [.1, .8, .1], [.3, .3, .4], [.6, .3, .1], [.2, .5, .3], [.4, .4, .2], [.1, .2, .7], [.5, .2, .3], [.2, .6, .2]],
  [[.5, .3, .2], [.2, .7, .1], [.3, .1, .6], [.3, .3, .4], [.2, .6, .2], [.1, .2, .7], [.8, .1, .1], [.6, .2, .2], [.3, .5, .2], [.3, .3, .4], [.2, .2, .6], [.4, .4, .2]],
  [[.4, .4, .2], [.4, .4, .2], [.1, .3, .6], [.6, .2, .2], [.3, .4, .3], [.2, .1, .7], [.4, .3, .3], [.5, .3, .2], [.1, .7, .2], [.2, .2, .6], [.3, .1, .6], [.1, .8, .1]],
];
const members = RAW.map((rows) => matrix(...rows));
/** The reference sees exactly the float32 values the library sees. */
const asStored = members.map((probs) =>
  Array.from({ length: TRUTH.length }, (_, n) => Array.from(probs.subarray(n * 3, n * 3 + 3))),
);
const truth = Int32Array.from(TRUTH);

describe('stacking', () => {
  it('agrees within 1e-4 with an independent gradient-descent implementation (fixed λ)', () => {
    const lambda = 0.05;
    const params = fitCombiner('stacking', members, truth, 3, { seed: 0, stacking: { lambdas: [lambda] } });
    const reference = referenceStacking(asStored, TRUTH, lambda);
    expect(reference.converged).toBe(true);
    expect(params.lambda).toBe(lambda);
    expect(params.cv.folds).toBe(0); // one λ: nothing to choose
    params.weights.forEach((w, m) => expect(Math.abs(w - reference.w[m]!)).toBeLessThan(1e-4));
    params.biases.forEach((b, c) => expect(Math.abs(b - reference.b[c]!)).toBeLessThan(1e-4));
  });

  it('fits the weight computed by hand on a symmetric case', () => {
    // One member saying 0.8 for the true class on rows of class 0 and of class 1: by symmetry b = 0,
    // and the meta-probability of the true class is σ(w·ln 4). dF/dw = −0.2·ln 4 + λw = 0 at w = 1
    // (σ(ln 4) = 0.8) when λ = 0.2·ln 4.
    const lambda = 0.2 * Math.log(4);
    const member = matrix([0.8, 0.2], [0.2, 0.8]);
    const params = fitCombiner('stacking', [member], Int32Array.from([0, 1]), 2, {
      seed: 0,
      stacking: { lambdas: [lambda] },
    });
    expect(params.weights[0]).toBeCloseTo(1, 6);
    expect(params.biases[0]).toBeCloseTo(0, 9);
    expect(params.biases[1]).toBeCloseTo(0, 9);
  });

  it('applies softmax(b + Σ w log p) (product of experts when w = 1, b = 0)', () => {
    // p ∝ 0.8·0.6 : 0.2·0.4 = 0.48 : 0.08, i.e. 6/7 : 1/7.
    const combined = applyCombiner(
      {
        combiner: 'stacking',
        numClasses: 2,
        weights: [1, 1],
        biases: [0, 0],
        lambda: 1,
        cv: { folds: 0, lambdas: [1], nll: [] },
      },
      [matrix([0.8, 0.2]), matrix([0.6, 0.4])],
    );
    expect(combined[0]).toBeCloseTo(6 / 7, 6);
    expect(combined[1]).toBeCloseTo(1 / 7, 6);
  });

  it('chooses λ by cross-validation: the grid value with the lowest mean held-out NLL', () => {
    const params = fitCombiner('stacking', members, truth, 3, { seed: 7, stacking: { folds: 3 } });
    expect(params.cv.folds).toBe(3);
    expect(params.cv.nll).toHaveLength(params.cv.lambdas.length);
    const best = params.cv.nll.indexOf(Math.min(...params.cv.nll));
    expect(params.lambda).toBe(params.cv.lambdas[best]);
    expect(CombinerParamsSchema.parse(JSON.parse(JSON.stringify(params)))).toEqual(params);
    // Same seed, same folds, same parameters.
    expect(fitCombiner('stacking', members, truth, 3, { seed: 7, stacking: { folds: 3 } })).toEqual(params);
  });

  it('scores each λ by k-fold CV close to fitting every fold from scratch', () => {
    const lambdas = [0.5, 0.05];
    const params = fitCombiner('stacking', members, truth, 3, { seed: 3, stacking: { folds: 3, lambdas } });
    const foldOf = assignFolds(TRUTH.length, 3, 3);
    const exact = params.cv.lambdas.map((lambda) => {
      let loss = 0;
      for (let f = 0; f < 3; f++) {
        const train = TRUTH.flatMap((_, n) => (foldOf[n] === f ? [] : [n]));
        const held = TRUTH.flatMap((_, n) => (foldOf[n] === f ? [n] : []));
        const fit = referenceStacking(
          asStored.map((rows) => train.map((n) => rows[n]!)),
          train.map((n) => TRUTH[n]!),
          lambda,
        );
        loss += referenceLoss(
          asStored.map((rows) => held.map((n) => rows[n]!)),
          held.map((n) => TRUTH[n]!),
          fit,
        );
      }
      return loss / TRUTH.length;
    });
    // Small splits: every fold fitted to convergence, as the reference does from scratch.
    params.cv.nll.forEach((nll, i) => expect(Math.abs(nll - exact[i]!)).toBeLessThan(1e-6));
  });

  it('on large splits, scores each fold by one Newton step from the whole split (within O(1/N))', () => {
    // The twelve rows 3,000 times over (N·C·M = 324,000, past the exact-fit size): every fold holds
    // about the same rows as the whole split, so its held-out NLL ≈ the whole split's NLL at θ*.
    const copies = 3000;
    const big = members.map((probs) => {
      const out = new Float32Array(probs.length * copies);
      for (let k = 0; k < copies; k++) out.set(probs, k * probs.length);
      return out;
    });
    const bigTruth = new Int32Array(TRUTH.length * copies);
    for (let k = 0; k < copies; k++) bigTruth.set(truth, k * TRUTH.length);
    const params = fitCombiner('stacking', big, bigTruth, 3, { seed: 1, stacking: { lambdas: [0.1, 0.01] } });
    const chosen = params.cv.lambdas.indexOf(params.lambda);
    const whole = referenceLoss(asStored, TRUTH, { w: params.weights, b: params.biases }) / TRUTH.length;
    expect(Math.abs(params.cv.nll[chosen]! - whole)).toBeLessThan(1e-3);
  });

  it('converges to the gradient tolerance where the objective is flat to within rounding', () => {
    // Uninformative members: near the optimum the full Newton step changes the objective by a
    // few ulps either way while the gradient is still above 1e-9; the fit must take that step
    // rather than backtrack to steps too short to move θ.
    for (const { M, seed, lambda } of [
      { M: 12, seed: 2, lambda: 0.01 },
      { M: 32, seed: 3, lambda: 0.001 },
    ]) {
      const members = randomMembers(M, 200, 4, seed);
      let s = seed;
      const truth = Int32Array.from({ length: 200 }, () => (s = (s * 7 + 3) % 101) % 4);
      const params = fitCombiner('stacking', members, truth, 4, { seed: 0, stacking: { lambdas: [lambda] } });
      const fit = { w: params.weights, b: params.biases };
      expect(referenceGradientMax(members, truth, 4, fit, lambda)).toBeLessThan(1e-9);
    }
  });

  it('deals the rows into folds that differ in size by at most one, by seed', () => {
    const folds = assignFolds(10, 3, 42);
    const sizes = [0, 1, 2].map((f) => folds.filter((x) => x === f).length);
    expect(sizes.sort()).toEqual([3, 3, 4]);
    expect(assignFolds(10, 3, 42)).toEqual(folds);
    expect(assignFolds(10, 3, 43)).not.toEqual(folds);
  });
});
