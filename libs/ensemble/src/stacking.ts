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

/**
 * Newton stops when every gradient component is below this (the objective is a mean, so this is
 * N-free; rounding leaves the gradient near 1e-11 at the optimum).
 */
const GRADIENT_TOLERANCE = 1e-9;
/** The λ path is fitted this far (cross-validation needs no more), then the chosen λ to the above. */
const PATH_TOLERANCE = 1e-6;
const MAX_NEWTON_STEPS = 100;
/**
 * Rows the Hessian is averaged over: at most this many, evenly spaced (sub-sampled Newton: the
 * gradient, hence the optimum, is exact; only the step's curvature is estimated, which costs a
 * step or two more but far less time per step at large N).
 */
const HESSIAN_ROWS = 512;
/**
 * Cross-validation fits each fold to convergence while N·C·M is at most this; beyond, each fold's
 * fit is one Newton step from the whole split's optimum, within O(1/N) of the fold's own.
 */
const EXACT_CV_SIZE = 2 ** 15;
/** Armijo's sufficient-decrease constant for the backtracking line search. */
const ARMIJO = 1e-4;

/**
 * Whether the full Newton step is taken although Armijo's test failed, because that test cannot
 * judge it: the step's predicted decrease (−slope) and the objective's observed change are both
 * within the rounding error of the objective (a mean over at most `rows` terms: rows · ε · (1 + |f|)),
 * and the step lowers the largest gradient component. Near the optimum the objective is flat to
 * within rounding while the gradient is still just above the tolerance; backtracking there only
 * finds steps too short to move θ, until MAX_NEWTON_STEPS (hundreds of objective evaluations
 * per fit), whereas the full step converges.
 */
function withinRounding(
  rows: number,
  f: number,
  ft: number,
  slope: number,
  gMax: number,
  trialGradient: Float64Array,
): boolean {
  const rounding = rows * Number.EPSILON * (1 + Math.abs(f));
  if (-slope > rounding || ft - f > rounding) return false;
  let trialMax = 0;
  for (const g of trialGradient) trialMax = Math.max(trialMax, Math.abs(g));
  return trialMax < gMax;
}

/** The members' log-probabilities, one N×C array per member (long loops over them are fast). */
interface Design {
  rows: number;
  numClasses: number;
  memberCount: number;
  logp: Float64Array[];
  truth: Int32Array;
}

/**
 * Buffers reused by every evaluation (the logits, and the residual π − onehot(y) of the last
 * gradient, 0 on rows outside the fit) and the rows being fitted: all, or those with mask 1.
 */
interface Workspace {
  z: Float64Array;
  residual: Float64Array;
  mask?: Uint8Array;
  count: number;
}

function designOf(members: readonly Float32Array[], truth: Int32Array, numClasses: number): Design {
  const logp = members.map((probs) => {
    const l = new Float64Array(probs.length);
    for (let i = 0; i < probs.length; i++) {
      const p = probs[i] as number;
      l[i] = Math.log(p > PROBABILITY_FLOOR ? p : PROBABILITY_FLOOR);
    }
    return l;
  });
  return { rows: truth.length, numClasses, memberCount: members.length, logp, truth };
}

/**
 * The stacking objective on the fitted rows: mean NLL of softmax(b + Σ_m w_m log p_m) plus λ/2 · ‖θ‖²,
 * θ = [w_0 … w_{M−1}, b_0 … b_{C−1}]. With `gradient` (length P = M + C), fills it and
 * `work.residual` (π − onehot(y), which the Hessian and the cross-validation read).
 */
function stackingObjective(
  design: Design,
  theta: Float64Array,
  lambda: number,
  work: Workspace,
  gradient?: Float64Array,
): number {
  const { rows, numClasses: C, memberCount: M, logp, truth } = design;
  const { z, residual, mask, count } = work;
  for (let n = 0; n < rows; n++) for (let c = 0; c < C; c++) z[n * C + c] = theta[M + c] as number;
  const size = rows * C;
  for (let m = 0; m < M; m++) {
    const w = theta[m] as number;
    const l = logp[m] as Float64Array;
    for (let i = 0; i < size; i++) z[i] = (z[i] as number) + w * (l[i] as number);
  }
  let loss = 0;
  for (let n = 0; n < rows; n++) {
    const base = n * C;
    let zMax = -Infinity;
    for (let c = 0; c < C; c++) if ((z[base + c] as number) > zMax) zMax = z[base + c] as number;
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp((z[base + c] as number) - zMax);
      residual[base + c] = e;
      sum += e;
    }
    if (mask && mask[n] === 0) {
      for (let c = 0; c < C; c++) residual[base + c] = 0;
      continue;
    }
    const y = truth[n] as number;
    loss += zMax + Math.log(sum) - (z[base + y] as number);
    if (!gradient) continue;
    for (let c = 0; c < C; c++) residual[base + c] = (residual[base + c] as number) / sum;
    residual[base + y] = (residual[base + y] as number) - 1;
  }
  let penalty = 0;
  for (let i = 0; i < M + C; i++) penalty += (theta[i] as number) * (theta[i] as number);
  if (gradient) {
    // ∂/∂w_m = mean_n Σ_c (π − onehot(y))_c log p_m(c);  ∂/∂b_c = mean_n (π − onehot(y))_c.
    for (let m = 0; m < M; m++) {
      const l = logp[m] as Float64Array;
      let g = 0;
      for (let i = 0; i < size; i++) g += (residual[i] as number) * (l[i] as number);
      gradient[m] = g / count + lambda * (theta[m] as number);
    }
    for (let c = 0; c < C; c++) {
      let g = 0;
      for (let n = 0; n < rows; n++) g += residual[n * C + c] as number;
      gradient[M + c] = g / count + lambda * (theta[M + c] as number);
    }
  }
  return loss / count + (lambda / 2) * penalty;
}

/**
 * The Hessian of stackingObjective at the point of the last gradient evaluation, averaged over
 * `sample`: mean_n Σ_c π_c (x_c − x̄)(x_c − x̄)ᵀ + λI with x_c = [log p_c, onehot(c)] and
 * x̄ = Σ_c π_c x_c; P×P row-major.
 */
function stackingHessian(
  design: Design,
  lambda: number,
  work: Workspace,
  sample: Int32Array,
  hessian: Float64Array,
): void {
  const { numClasses: C, memberCount: M, logp, truth } = design;
  const P = M + C;
  const pi = new Float64Array(C);
  const l = new Float64Array(C * M); // this row's log-probabilities, [class][member]
  const mean = new Float64Array(M);
  const d = new Float64Array(M);
  // The three blocks accumulate separately (stride M or C), then fill the P×P matrix.
  const ww = new Float64Array(M * M);
  const wb = new Float64Array(M * C);
  const bb = new Float64Array(C * C);
  for (let k = 0; k < sample.length; k++) {
    const n = sample[k] as number;
    const base = n * C;
    const y = truth[n] as number;
    for (let c = 0; c < C; c++) pi[c] = (work.residual[base + c] as number) + (c === y ? 1 : 0);
    mean.fill(0);
    for (let m = 0; m < M; m++) {
      const lm = logp[m] as Float64Array;
      let s = 0;
      for (let c = 0; c < C; c++) {
        const v = lm[base + c] as number;
        l[c * M + m] = v;
        s += (pi[c] as number) * v;
      }
      mean[m] = s;
    }
    for (let c = 0; c < C; c++) {
      const p = pi[c] as number;
      // Bias block: diag(π) − ππᵀ (upper triangle).
      bb[c * C + c] = (bb[c * C + c] as number) + p;
      for (let c2 = c; c2 < C; c2++) bb[c * C + c2] = (bb[c * C + c2] as number) - p * (pi[c2] as number);
      for (let m = 0; m < M; m++) d[m] = (l[c * M + m] as number) - (mean[m] as number);
      for (let i = 0; i < M; i++) {
        const pdi = p * (d[i] as number);
        const row = i * M;
        for (let j = i; j < M; j++) ww[row + j] = (ww[row + j] as number) + pdi * (d[j] as number);
        // Σ_c π_c (log p_c − x̄)(onehot(c) − π)ᵀ = Σ_c π_c (log p_c − x̄) onehot(c)ᵀ, as Σ_c π_c (log p_c − x̄) = 0.
        wb[i * C + c] = (wb[i * C + c] as number) + pdi;
      }
    }
  }
  const scale = 1 / sample.length;
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

/** The Cholesky factor of H (ml-matrix), or undefined when H is numerically not positive definite. */
function factor(hessian: Float64Array, P: number): CholeskyDecomposition | undefined {
  const h = new Matrix(P, P);
  for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) h.set(i, j, hessian[i * P + j] as number);
  const cholesky = new CholeskyDecomposition(h);
  return cholesky.isPositiveDefinite() ? cholesky : undefined;
}

/** −H⁻¹g, or −g (steepest descent) without a factor. */
function newtonStep(cholesky: CholeskyDecomposition | undefined, gradient: Float64Array): Float64Array {
  if (!cholesky) return gradient.map((g) => -g);
  const solved = cholesky.solve(Matrix.columnVector(Array.from(gradient, (g) => -g)));
  return Float64Array.from({ length: gradient.length }, (_, i) => solved.get(i, 0));
}

/**
 * Newton's method with a backtracking (Armijo) line search from `start`, until every gradient
 * component is below `tolerance` (the objective is strictly convex for λ > 0). On return,
 * `work.residual` is that of the returned θ.
 */
function newton(
  design: Design,
  work: Workspace,
  sample: Int32Array,
  lambda: number,
  start: Float64Array,
  tolerance = GRADIENT_TOLERANCE,
): Float64Array {
  const P = design.memberCount + design.numClasses;
  const hessian = new Float64Array(P * P);
  const mask = work.mask;
  const rows = mask ? sample.filter((n) => mask[n] === 1) : sample;
  let theta = Float64Array.from(start);
  let gradient = new Float64Array(P);
  let f = stackingObjective(design, theta, lambda, work, gradient);
  let trialGradient = new Float64Array(P);
  for (let step = 0; step < MAX_NEWTON_STEPS; step++) {
    let gMax = 0;
    for (let i = 0; i < P; i++) gMax = Math.max(gMax, Math.abs(gradient[i] as number));
    if (gMax < tolerance) break;
    stackingHessian(design, lambda, work, rows, hessian);
    const direction = newtonStep(factor(hessian, P), gradient);
    let slope = 0;
    for (let i = 0; i < P; i++) slope += (gradient[i] as number) * (direction[i] as number);
    let t = 1;
    let accepted = false;
    const trial = new Float64Array(P);
    for (let halvings = 0; halvings < 50 && !accepted; halvings++, t /= 2) {
      for (let i = 0; i < P; i++) trial[i] = (theta[i] as number) + t * (direction[i] as number);
      // The full step is nearly always taken: evaluate its gradient at once.
      const ft =
        t === 1
          ? stackingObjective(design, trial, lambda, work, trialGradient)
          : stackingObjective(design, trial, lambda, work);
      if (
        ft <= f + ARMIJO * t * slope ||
        (t === 1 && withinRounding(design.rows, f, ft, slope, gMax, trialGradient))
      ) {
        accepted = true;
        if (t !== 1) stackingObjective(design, trial, lambda, work, trialGradient);
        f = ft;
      }
    }
    if (!accepted) {
      stackingObjective(design, theta, lambda, work, gradient); // leave θ's residual behind
      break; // no representable decrease left: converged as far as floating point goes
    }
    theta = trial;
    [gradient, trialGradient] = [trialGradient, gradient];
  }
  return theta;
}

function everyNth(rows: number, stride: number): Int32Array {
  return Int32Array.from({ length: Math.ceil(rows / stride) }, (_, i) => i * stride);
}

/**
 * The summed NLL of every row under its own fold's θ (thetas[fold]): the held-out loss of
 * k-fold cross-validation, in one pass.
 */
function heldOutLoss(design: Design, thetas: readonly Float64Array[], foldOf: Int32Array): number {
  const { rows, numClasses: C, memberCount: M, logp, truth } = design;
  const z = new Float64Array(C);
  let loss = 0;
  for (let n = 0; n < rows; n++) {
    const theta = thetas[foldOf[n] as number] as Float64Array;
    const base = n * C;
    let zMax = -Infinity;
    for (let c = 0; c < C; c++) {
      let s = theta[M + c] as number;
      for (let m = 0; m < M; m++) s += (theta[m] as number) * ((logp[m] as Float64Array)[base + c] as number);
      z[c] = s;
      if (s > zMax) zMax = s;
    }
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp((z[c] as number) - zMax);
    loss += zMax + Math.log(sum) - (z[truth[n] as number] as number);
  }
  return loss;
}

/**
 * Each fold's θ for one λ, from one Newton step from the whole split's optimum θ* at that λ: the
 * step uses the fold's exact training gradient at θ* (the whole split's per-row gradients minus
 * the fold's own, summed in one pass) and the whole split's Hessian. θ* is within O(1/√N) of
 * each fold's optimum, so the step lands within O(1/N) of it, at a fraction of the cost of k
 * fits; on small splits (EXACT_CV_SIZE) each fold is then fitted to convergence from there.
 */
function foldThetas(
  design: Design,
  work: Workspace,
  sample: Int32Array,
  lambda: number,
  theta: Float64Array,
  foldOf: Int32Array,
  folds: number,
): Float64Array[] {
  const { rows, numClasses: C, memberCount: M, logp } = design;
  const P = M + C;
  // work.residual is θ*'s (newton leaves it so): per-fold sums of the per-row gradients.
  const sums = Array.from({ length: folds }, () => new Float64Array(P));
  const counts = new Float64Array(folds);
  for (let n = 0; n < rows; n++) {
    const f = foldOf[n] as number;
    const sum = sums[f] as Float64Array;
    counts[f] = (counts[f] as number) + 1;
    const base = n * C;
    for (let c = 0; c < C; c++) {
      const r = work.residual[base + c] as number;
      sum[M + c] = (sum[M + c] as number) + r;
      for (let m = 0; m < M; m++)
        sum[m] = (sum[m] as number) + r * ((logp[m] as Float64Array)[base + c] as number);
    }
  }
  const total = new Float64Array(P);
  for (const sum of sums) for (let i = 0; i < P; i++) total[i] = (total[i] as number) + (sum[i] as number);
  const hessian = new Float64Array(P * P);
  stackingHessian(design, lambda, work, sample, hessian);
  const cholesky = factor(hessian, P);
  const oneStep = sums.map((sum, f) => {
    const train = rows - (counts[f] as number);
    const gradient = Float64Array.from(
      { length: P },
      (_, i) => ((total[i] as number) - (sum[i] as number)) / train + lambda * (theta[i] as number),
    );
    const step = newtonStep(cholesky, gradient);
    return theta.map((t, i) => t + (step[i] as number));
  });
  if (rows * C * M > EXACT_CV_SIZE) return oneStep;
  // Small enough: fit each fold to convergence from there.
  const exact = oneStep.map((start, f) => {
    work.mask = Uint8Array.from(foldOf, (fold) => (fold === f ? 0 : 1));
    work.count = rows - (counts[f] as number);
    return newton(design, work, sample, lambda, start);
  });
  work.mask = undefined;
  work.count = rows;
  return exact;
}

/**
 * Where the fit for the next λ starts: zero for the first; the previous λ's θ, or the path
 * extrapolated linearly in log λ from the last two θ when that has the lower objective.
 */
function warmStart(
  design: Design,
  work: Workspace,
  lambda: number,
  lambdas: readonly number[],
  path: readonly Float64Array[],
): Float64Array {
  const i = path.length;
  const last = path[i - 1];
  if (!last) return new Float64Array(design.memberCount + design.numClasses);
  const before = path[i - 2];
  if (!before) return last;
  const ratio =
    Math.log(lambda / (lambdas[i - 1] as number)) /
    Math.log((lambdas[i - 1] as number) / (lambdas[i - 2] as number));
  const extrapolated = last.map((t, k) => t + ratio * (t - (before[k] as number)));
  return stackingObjective(design, extrapolated, lambda, work) < stackingObjective(design, last, lambda, work)
    ? extrapolated
    : last;
}

/**
 * Fits the stacking meta-learner on the validation split. For each λ of the grid, largest first:
 * θ*(λ) on the whole split by Newton (warm-started from the previous λ), then its k-fold
 * cross-validated NLL (foldThetas: each fold's fit as one Newton step from θ*(λ), scored on the
 * fold's held-out rows). The λ with the lowest mean held-out NLL wins (ties to the larger λ), and
 * its θ* is returned. Inputs are validated by fitCombiner.
 */
export function fitStacking(
  members: readonly Float32Array[],
  truth: Int32Array,
  numClasses: number,
  options: StackingOptions,
): StackingParams {
  const design = designOf(members, truth, numClasses);
  const { rows } = design;
  const M = members.length;
  const work: Workspace = {
    z: new Float64Array(rows * numClasses),
    residual: new Float64Array(rows * numClasses),
    count: rows,
  };
  const sample = everyNth(rows, Math.ceil(rows / HESSIAN_ROWS));
  const lambdas = [...(options.lambdas ?? STACKING_LAMBDAS)].sort((a, b) => b - a);
  const folds = lambdas.length > 1 ? Math.min(options.folds ?? STACKING_FOLDS, rows) : 0;
  const foldOf = folds >= 2 ? assignFolds(rows, folds, options.seed) : undefined;
  const path: Float64Array[] = [];
  const heldOut: number[] = [];
  for (const lambda of lambdas) {
    const start = warmStart(design, work, lambda, lambdas, path);
    const theta = newton(design, work, sample, lambda, start, PATH_TOLERANCE);
    path.push(theta);
    if (foldOf) {
      const thetas = foldThetas(design, work, sample, lambda, theta, foldOf, folds);
      heldOut.push(heldOutLoss(design, thetas, foldOf) / rows);
    }
  }
  let chosen = 0;
  for (let i = 1; i < heldOut.length; i++)
    if ((heldOut[i] as number) < (heldOut[chosen] as number)) chosen = i;
  const lambda = lambdas[chosen] as number;
  const theta = newton(design, work, sample, lambda, path[chosen] as Float64Array);
  return {
    combiner: 'stacking',
    numClasses,
    weights: Array.from(theta.subarray(0, M)),
    biases: Array.from(theta.subarray(M)),
    lambda,
    cv: { folds: foldOf ? folds : 0, lambdas, nll: heldOut },
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
