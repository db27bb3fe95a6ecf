import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import type { StackingParams } from '@chorus/protocol';
import { assignFolds } from './folds';
import { PROBABILITY_FLOOR } from './voting';

export interface StackingOptions {
  /** Seeds the assignment of validation rows to cross-validation folds. */
  seed: number;
  /** Cross-validation folds (default 5; at most one per row). */
  folds?: number;
  /** The L2 strengths tried (default STACKING_LAMBDAS); one value skips the cross-validation. */
  lambdas?: readonly number[];
}

/** The default λ grid, one per decade. */
export const STACKING_LAMBDAS: readonly number[] = Object.freeze([1e-1, 1e-2, 1e-3, 1e-4]);
export const STACKING_FOLDS = 5;

/** Newton stops when every gradient component is below this (the objective is a mean, so N-free). */
const GRADIENT_TOLERANCE = 1e-10;
/** The same for the cross-validation fits, which only need their held-out NLL. */
const CV_GRADIENT_TOLERANCE = 1e-7;
const MAX_NEWTON_STEPS = 100;
/** Armijo's sufficient-decrease constant for the backtracking line search. */
const ARMIJO = 1e-4;

/**
 * The members' log-probabilities laid out [row][class][member], so that the M values one logit
 * needs are contiguous.
 */
interface Design {
  rows: number;
  numClasses: number;
  memberCount: number;
  logp: Float64Array;
  truth: Int32Array;
}

function designOf(members: readonly Float32Array[], truth: Int32Array, numClasses: number): Design {
  const memberCount = members.length;
  const rows = truth.length;
  const logp = new Float64Array(rows * numClasses * memberCount);
  members.forEach((probs, m) => {
    for (let i = 0; i < rows * numClasses; i++) {
      const p = probs[i] as number;
      logp[i * memberCount + m] = Math.log(p > PROBABILITY_FLOOR ? p : PROBABILITY_FLOOR);
    }
  });
  return { rows, numClasses, memberCount, logp, truth };
}

/**
 * Per-row softmax π (N×C) and its mean log-probability x̄ = Σ_c π_c log p_c (N×M) from the last
 * objective evaluation with a gradient: the Hessian pass reads them instead of recomputing.
 */
interface RowCache {
  pi: Float64Array;
  mean: Float64Array;
}

/**
 * The stacking objective on the rows in `subset`: mean NLL of softmax(b + Σ_m w_m log p_m) plus
 * λ/2 · ‖θ‖², θ = [w_0 … w_{M−1}, b_0 … b_{C−1}]. With `gradient` (length P = M + C), fills it
 * and the cache for stackingHessian.
 */
function stackingObjective(
  design: Design,
  theta: Float64Array,
  lambda: number,
  subset: Int32Array,
  gradient?: Float64Array,
  cache?: RowCache,
): number {
  const { numClasses: C, memberCount: M, logp, truth } = design;
  const P = M + C;
  const z = new Float64Array(C);
  if (gradient) gradient.fill(0);
  let loss = 0;
  for (let k = 0; k < subset.length; k++) {
    const n = subset[k] as number;
    const y = truth[n] as number;
    const base = n * C * M;
    let zMax = -Infinity;
    for (let c = 0; c < C; c++) {
      const off = base + c * M;
      let s = theta[M + c] as number;
      for (let m = 0; m < M; m++) s += (theta[m] as number) * (logp[off + m] as number);
      z[c] = s;
      if (s > zMax) zMax = s;
    }
    const zTrue = z[y] as number;
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp((z[c] as number) - zMax);
      z[c] = e;
      sum += e;
    }
    loss += zMax + Math.log(sum) - zTrue;
    if (!gradient || !cache) continue;
    // ∂/∂w = Σ_c π_c log p_c − log p_y = x̄ − log p_y;  ∂/∂b = π − onehot(y).
    const { pi, mean } = cache;
    const piBase = n * C;
    const meanBase = n * M;
    for (let m = 0; m < M; m++) mean[meanBase + m] = 0;
    for (let c = 0; c < C; c++) {
      const p = (z[c] as number) / sum;
      pi[piBase + c] = p;
      gradient[M + c] = (gradient[M + c] as number) + p;
      const off = base + c * M;
      for (let m = 0; m < M; m++)
        mean[meanBase + m] = (mean[meanBase + m] as number) + p * (logp[off + m] as number);
    }
    gradient[M + y] = (gradient[M + y] as number) - 1;
    const yOff = base + y * M;
    for (let m = 0; m < M; m++) {
      gradient[m] = (gradient[m] as number) + (mean[meanBase + m] as number) - (logp[yOff + m] as number);
    }
  }
  const scale = subset.length > 0 ? 1 / subset.length : 0;
  let penalty = 0;
  for (let i = 0; i < P; i++) penalty += (theta[i] as number) * (theta[i] as number);
  if (gradient) {
    for (let i = 0; i < P; i++) gradient[i] = (gradient[i] as number) * scale + lambda * (theta[i] as number);
  }
  return loss * scale + (lambda / 2) * penalty;
}

/**
 * Classes whose π is below this are left out of the member blocks of the Hessian: each adds at
 * most π·(2·log 1e-12)² < 1e-6 per row, far below λ, so the approximate Hessian stays positive
 * definite and Newton still converges (the gradient is exact); confident rows then cost one class.
 */
const HESSIAN_SKIP = 1e-9;

/**
 * The Hessian of stackingObjective at the point of the last gradient evaluation (its RowCache):
 * (1/|S|) Σ_n Σ_c π_c (x_c − x̄)(x_c − x̄)ᵀ + λI, x_c = [log p_c, onehot(c)], P×P row-major.
 */
function stackingHessian(
  design: Design,
  lambda: number,
  subset: Int32Array,
  cache: RowCache,
  hessian: Float64Array,
): void {
  const { numClasses: C, memberCount: M, logp } = design;
  const { pi, mean } = cache;
  const P = M + C;
  const d = new Float64Array(M);
  // The three blocks accumulate separately (stride M or C), then fill the P×P matrix.
  const ww = new Float64Array(M * M);
  const wb = new Float64Array(M * C);
  const bb = new Float64Array(C * C);
  for (let k = 0; k < subset.length; k++) {
    const n = subset[k] as number;
    const base = n * C * M;
    const piBase = n * C;
    const meanBase = n * M;
    for (let c = 0; c < C; c++) {
      const p = pi[piBase + c] as number;
      // Bias block: diag(π) − ππᵀ (upper triangle), always exact.
      const bc = c * C;
      bb[bc + c] = (bb[bc + c] as number) + p;
      for (let c2 = c; c2 < C; c2++) bb[bc + c2] = (bb[bc + c2] as number) - p * (pi[piBase + c2] as number);
      if (p < HESSIAN_SKIP) continue;
      const off = base + c * M;
      for (let m = 0; m < M; m++) d[m] = (logp[off + m] as number) - (mean[meanBase + m] as number);
      for (let i = 0; i < M; i++) {
        const pdi = p * (d[i] as number);
        const row = i * M;
        for (let j = i; j < M; j++) ww[row + j] = (ww[row + j] as number) + pdi * (d[j] as number);
        // Σ_c π_c (log p_c − x̄)(onehot(c) − π)ᵀ = Σ_c π_c (log p_c − x̄) onehot(c)ᵀ, as Σ_c π_c (log p_c − x̄) = 0.
        wb[i * C + c] = (wb[i * C + c] as number) + pdi;
      }
    }
  }
  const scale = subset.length > 0 ? 1 / subset.length : 0;
  const set = (i: number, j: number, v: number) => {
    hessian[i * P + j] = v * scale + (i === j ? lambda : 0);
    hessian[j * P + i] = hessian[i * P + j] as number;
  };
  for (let i = 0; i < M; i++) {
    for (let j = i; j < M; j++) set(i, j, ww[i * M + j] as number);
    for (let c = 0; c < C; c++) set(i, M + c, wb[i * C + c] as number);
  }
  for (let c = 0; c < C; c++) for (let c2 = c; c2 < C; c2++) set(M + c, M + c2, bb[c * C + c2] as number);
}

/** Solves H·x = −g by Cholesky (ml-matrix); steepest descent if H is numerically not positive definite. */
function newtonDirection(hessian: Float64Array, gradient: Float64Array): Float64Array {
  const P = gradient.length;
  const h = new Matrix(P, P);
  for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) h.set(i, j, hessian[i * P + j] as number);
  const cholesky = new CholeskyDecomposition(h);
  if (!cholesky.isPositiveDefinite()) return gradient.map((g) => -g);
  const solved = cholesky.solve(Matrix.columnVector(Array.from(gradient, (g) => -g)));
  return Float64Array.from({ length: P }, (_, i) => solved.get(i, 0));
}

/**
 * Newton's method with a backtracking (Armijo) line search from `start`, until every gradient
 * component is below `tolerance`. The objective is strictly convex for λ > 0.
 */
function newton(
  design: Design,
  subset: Int32Array,
  lambda: number,
  start: Float64Array,
  tolerance: number,
): Float64Array {
  const P = design.memberCount + design.numClasses;
  const cache: RowCache = {
    pi: new Float64Array(design.rows * design.numClasses),
    mean: new Float64Array(design.rows * design.memberCount),
  };
  const hessian = new Float64Array(P * P);
  let theta = Float64Array.from(start);
  let gradient = new Float64Array(P);
  let f = stackingObjective(design, theta, lambda, subset, gradient, cache);
  let trialGradient = new Float64Array(P);
  for (let step = 0; step < MAX_NEWTON_STEPS; step++) {
    let gMax = 0;
    for (let i = 0; i < P; i++) gMax = Math.max(gMax, Math.abs(gradient[i] as number));
    if (gMax < tolerance) break;
    stackingHessian(design, lambda, subset, cache, hessian);
    const direction = newtonDirection(hessian, gradient);
    let slope = 0;
    for (let i = 0; i < P; i++) slope += (gradient[i] as number) * (direction[i] as number);
    let t = 1;
    let accepted = false;
    const trial = new Float64Array(P);
    for (let halvings = 0; halvings < 50 && !accepted; halvings++, t /= 2) {
      for (let i = 0; i < P; i++) trial[i] = (theta[i] as number) + t * (direction[i] as number);
      // The full step is nearly always taken: evaluate its gradient (and cache) at once.
      const ft =
        t === 1
          ? stackingObjective(design, trial, lambda, subset, trialGradient, cache)
          : stackingObjective(design, trial, lambda, subset);
      if (ft <= f + ARMIJO * t * slope) {
        accepted = true;
        if (t !== 1) stackingObjective(design, trial, lambda, subset, trialGradient, cache);
        f = ft;
      }
    }
    if (!accepted) break; // no representable decrease left: converged as far as floating point goes
    theta = trial;
    [gradient, trialGradient] = [trialGradient, gradient];
  }
  return theta;
}

/**
 * Fits the stacking meta-learner on the validation split: θ for every λ of the grid on the whole
 * split (largest λ first, each warm-started from the last), λ by k-fold cross-validation within
 * the split (each fold's fit warm-started from the whole split's θ at that λ; the lowest mean
 * held-out NLL wins, ties to the larger λ), and that λ's θ. Inputs are validated by fitCombiner.
 */
export function fitStacking(
  members: readonly Float32Array[],
  truth: Int32Array,
  numClasses: number,
  options: StackingOptions,
): StackingParams {
  const design = designOf(members, truth, numClasses);
  const M = members.length;
  const lambdas = [...(options.lambdas ?? STACKING_LAMBDAS)].sort((a, b) => b - a);
  const everyRow = Int32Array.from({ length: design.rows }, (_, r) => r);
  const path: Float64Array[] = [];
  lambdas.forEach((lambda, i) => {
    const start = path[i - 1] ?? new Float64Array(M + numClasses);
    path.push(newton(design, everyRow, lambda, start, GRADIENT_TOLERANCE));
  });
  const folds = lambdas.length > 1 ? Math.min(options.folds ?? STACKING_FOLDS, design.rows) : 0;
  const heldOut = new Float64Array(lambdas.length);
  if (folds >= 2) {
    const foldOf = assignFolds(design.rows, folds, options.seed);
    for (let f = 0; f < folds; f++) {
      const train = everyRow.filter((r) => foldOf[r] !== f);
      const held = everyRow.filter((r) => foldOf[r] === f);
      lambdas.forEach((lambda, i) => {
        const theta = newton(design, train, lambda, path[i] as Float64Array, CV_GRADIENT_TOLERANCE);
        heldOut[i] = (heldOut[i] as number) + stackingObjective(design, theta, 0, held) * held.length;
      });
    }
  }
  let chosen = 0;
  for (let i = 1; i < lambdas.length && folds >= 2; i++) {
    if ((heldOut[i] as number) < (heldOut[chosen] as number)) chosen = i;
  }
  const theta = path[chosen] as Float64Array;
  return {
    combiner: 'stacking',
    numClasses,
    weights: Array.from(theta.subarray(0, M)),
    biases: Array.from(theta.subarray(M)),
    lambda: lambdas[chosen] as number,
    cv: { folds, lambdas, nll: folds >= 2 ? Array.from(heldOut, (s) => s / design.rows) : [] },
  };
}

/** softmax(b + Σ_m w_m log max(p_m, 1e-12)) row by row (members validated by the caller). */
export function applyStacking(params: StackingParams, members: readonly Float32Array[]): Float32Array {
  const C = params.numClasses;
  const rows = (members[0] as Float32Array).length / C;
  const out = new Float32Array(rows * C);
  const z = new Float64Array(C);
  for (let r = 0; r < rows; r++) {
    const base = r * C;
    let zMax = -Infinity;
    for (let c = 0; c < C; c++) {
      let s = params.biases[c] as number;
      members.forEach((probs, m) => {
        const p = probs[base + c] as number;
        s += (params.weights[m] as number) * Math.log(p > PROBABILITY_FLOOR ? p : PROBABILITY_FLOOR);
      });
      z[c] = s;
      if (s > zMax) zMax = s;
    }
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp((z[c] as number) - zMax);
      z[c] = e;
      sum += e;
    }
    for (let c = 0; c < C; c++) out[base + c] = (z[c] as number) / sum;
  }
  return out;
}
