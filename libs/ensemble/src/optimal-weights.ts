import type { OptimalWeightsParams } from '@chorus/protocol';
import { mixProbabilities, rowNll, trueClassProbabilities } from './true-class';
import { PROBABILITY_FLOOR } from './voting';

/** Stop when the projected gradient step P(w − ∇f) − w is below this in every component. */
const STATIONARITY_TOLERANCE = 1e-10;
const MAX_ITERATIONS = 500;
const ARMIJO = 1e-4;

/**
 * f(w) = −(1/N) Σ_n log max(Σ_m w_m q[n, m], 1e-12), the validation NLL of the mixture; fills
 * `gradient` (∂f/∂w_m = −(1/N) Σ_n q[n, m] / s_n, 0 where s_n is clamped) when given.
 */
function mixtureNll(q: Float64Array, M: number, w: Float64Array, gradient?: Float64Array): number {
  const rows = q.length / M;
  if (gradient) gradient.fill(0);
  let total = 0;
  for (let n = 0; n < rows; n++) {
    const base = n * M;
    let s = 0;
    for (let m = 0; m < M; m++) s += (w[m] as number) * (q[base + m] as number);
    total += rowNll(s);
    if (gradient && s > PROBABILITY_FLOOR) {
      const inv = 1 / s;
      for (let m = 0; m < M; m++) gradient[m] = (gradient[m] as number) - (q[base + m] as number) * inv;
    }
  }
  if (gradient) for (let m = 0; m < M; m++) gradient[m] = (gradient[m] as number) / rows;
  return total / rows;
}

/** Euclidean projection onto the probability simplex (Duchi et al. 2008, sort-based). */
export function projectToSimplex(v: Float64Array): Float64Array {
  const u = Array.from(v).sort((a, b) => b - a);
  let cumulative = 0;
  let tau = 0;
  for (let j = 0; j < u.length; j++) {
    cumulative += u[j] as number;
    const t = (cumulative - 1) / (j + 1);
    if ((u[j] as number) - t > 0) tau = t;
  }
  return v.map((x) => Math.max(x - tau, 0));
}

/**
 * Non-negative member weights summing to 1 that minimise the validation NLL of Σ_m w_m p_m (a
 * convex problem): spectral projected gradient (Barzilai–Borwein steps, Armijo backtracking) from
 * the better of uniform weights and the best single member. Every step lowers the NLL, so the
 * result is never worse on this split than the soft vote or any single member.
 */
export function fitOptimalWeights(
  members: readonly Float32Array[],
  truth: Int32Array,
  numClasses: number,
): OptimalWeightsParams {
  const M = members.length;
  const q = trueClassProbabilities(members, truth, numClasses);
  let w = new Float64Array(M).fill(1 / M);
  let f = mixtureNll(q, M, w);
  for (let m = 0; m < M; m++) {
    const vertex = new Float64Array(M);
    vertex[m] = 1;
    const fm = mixtureNll(q, M, vertex);
    if (fm < f) [w, f] = [vertex, fm];
  }
  let gradient = new Float64Array(M);
  f = mixtureNll(q, M, w, gradient);
  let alpha = 1;
  const nextGradient = new Float64Array(M);
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    const unitStep = projectToSimplex(w.map((x, m) => x - (gradient[m] as number)));
    let stationarity = 0;
    for (let m = 0; m < M; m++)
      stationarity = Math.max(stationarity, Math.abs((unitStep[m] as number) - (w[m] as number)));
    if (stationarity < STATIONARITY_TOLERANCE) break;
    const target = projectToSimplex(w.map((x, m) => x - alpha * (gradient[m] as number)));
    const direction = target.map((x, m) => x - (w[m] as number));
    let slope = 0;
    for (let m = 0; m < M; m++) slope += (gradient[m] as number) * (direction[m] as number);
    if (!(slope < 0)) break;
    let t = 1;
    let next: Float64Array | undefined;
    let fNext = f;
    for (let halvings = 0; halvings < 50; halvings++, t /= 2) {
      const trial = w.map((x, m) => x + t * (direction[m] as number));
      const ft = mixtureNll(q, M, trial);
      if (ft <= f + ARMIJO * t * slope) {
        next = trial;
        fNext = ft;
        break;
      }
    }
    if (!next || !(fNext < f)) break;
    mixtureNll(q, M, next, nextGradient);
    // Barzilai–Borwein step length sᵀs / sᵀy for the next iteration.
    let ss = 0;
    let sy = 0;
    for (let m = 0; m < M; m++) {
      const s = (next[m] as number) - (w[m] as number);
      ss += s * s;
      sy += s * ((nextGradient[m] as number) - (gradient[m] as number));
    }
    alpha = sy > 0 ? Math.min(Math.max(ss / sy, 1e-10), 1e10) : 1e10;
    w = Float64Array.from(next);
    f = fNext;
    gradient = Float64Array.from(nextGradient);
  }
  // The steps are convex combinations of simplex points: renormalise away the rounding.
  let total = 0;
  for (let m = 0; m < M; m++) total += w[m] as number;
  return { combiner: 'optimal-weights', numClasses, weights: Array.from(w, (x) => x / total) };
}

export function applyOptimalWeights(
  params: OptimalWeightsParams,
  members: readonly Float32Array[],
): Float32Array {
  return mixProbabilities(members, params.weights);
}
