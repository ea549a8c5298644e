/**
 * The two ensemble-weight objectives of Yu & Zhang (ICMI 2015, §6), over member responses
 * P_k(y|X_i) (perturbation-averaged softmax, one N*7 row-major array per member).
 *
 * Each objective is split into a one-off `prepare*` step, which extracts the only numbers the
 * objective ever reads, and an evaluation that is a single tight pass over them. The prepared data
 * does not depend on lambda or gamma, so a hyper-parameter grid reuses it.
 */
import { NUM_CLASSES } from '../data/labels.js';
import { projectOntoSimplex } from './simplex.js';

/** Labels as produced by the data loaders. */
export type LabelArray = Int8Array | Uint8Array;

/** N x K row-major matrix of P_k(y_i|X_i): the only input the log-likelihood (Eq. 6) needs. */
export interface LogLikelihoodData {
  readonly samples: number;
  readonly members: number;
  readonly trueClassProbs: Float64Array;
}

/**
 * The margins P_k(y_i|X_i) - P_k(y|X_i) for every sample i and wrong class y (M = 6N pairs, pair
 * j = 6i + rank of y among the wrong classes): the only input the hinge loss (Eq. 7) needs. Stored
 * member-major (margins[k * M + j]) so that every product with the matrix, including the K x K
 * normal matrix of the interior-point solver, is a run of contiguous dot products or axpys.
 * Gamma is applied at evaluation.
 */
export interface HingeData {
  readonly pairs: number;
  readonly members: number;
  readonly margins: Float64Array;
}

/**
 * Probabilities below this floor are treated as the floor in the log-likelihood, by continuing
 * -log s below the floor along its tangent line at the floor. Softmax outputs underflow to exact
 * zeros in float32, and a plain max(s, floor) would make the objective non-convex and its gradient
 * vanish there; the tangent keeps the objective convex and continuously differentiable, and it
 * differs from -log s only for samples the ensemble gives less than 1e-12 to the true class.
 */
export const LOG_PROBABILITY_FLOOR = 1e-12;

/** Checks that `probs` and `labels` describe the same N samples of 7 classes, and returns N. */
export function validateResponses(probs: readonly Float32Array[], labels: LabelArray): number {
  if (probs.length === 0) throw new Error('ensemble: no member responses');
  const n = labels.length;
  probs.forEach((p, k) => {
    if (p.length !== n * NUM_CLASSES) {
      throw new Error(`ensemble: member ${k} has ${p.length} values, expected ${n} x ${NUM_CLASSES}`);
    }
  });
  for (let i = 0; i < n; i++) {
    const y = labels[i] as number;
    if (!(y >= 0 && y < NUM_CLASSES)) throw new Error(`ensemble: label ${y} of sample ${i} is not a class index`);
  }
  return n;
}

export function prepareLogLikelihood(probs: readonly Float32Array[], labels: LabelArray): LogLikelihoodData {
  const n = validateResponses(probs, labels);
  const k = probs.length;
  const trueClassProbs = new Float64Array(n * k);
  for (let m = 0; m < k; m++) {
    const p = probs[m] as Float32Array;
    for (let i = 0; i < n; i++) trueClassProbs[i * k + m] = p[i * NUM_CLASSES + (labels[i] as number)] as number;
  }
  return { samples: n, members: k, trueClassProbs };
}

export function prepareHinge(probs: readonly Float32Array[], labels: LabelArray): HingeData {
  const n = validateResponses(probs, labels);
  const pairs = n * (NUM_CLASSES - 1);
  const margins = new Float64Array(probs.length * pairs);
  probs.forEach((p, m) => {
    let j = m * pairs;
    for (let i = 0; i < n; i++) {
      const row = i * NUM_CLASSES;
      const label = labels[i] as number;
      const trueProb = p[row + label] as number;
      for (let y = 0; y < NUM_CLASSES; y++) {
        if (y !== label) margins[j++] = trueProb - (p[row + y] as number);
      }
    }
  });
  return { pairs, members: probs.length, margins };
}

/** out[j] = sum_k margin[k][j] * v[k], for every pair j. */
export function marginsTimes(data: HingeData, v: ArrayLike<number>, out: Float64Array): Float64Array {
  const { pairs, members, margins } = data;
  out.fill(0);
  for (let m = 0; m < members; m++) {
    const vm = v[m] as number;
    if (vm === 0) continue;
    const column = m * pairs;
    for (let j = 0; j < pairs; j++) out[j] = (out[j] as number) + vm * (margins[column + j] as number);
  }
  return out;
}

/** out[k] = sum_j margin[k][j] * v[j], for every member k. */
export function marginsTransposedTimes(data: HingeData, v: Float64Array, out: Float64Array): Float64Array {
  const { pairs, members, margins } = data;
  for (let m = 0; m < members; m++) {
    const column = m * pairs;
    let sum = 0;
    for (let j = 0; j < pairs; j++) sum += (v[j] as number) * (margins[column + j] as number);
    out[m] = sum;
  }
  return out;
}

/** The floored -log of Eq. 6, as a function of the mixture probability s. */
function flooredNegativeLog(s: number): number {
  return s >= LOG_PROBABILITY_FLOOR ? -Math.log(s) : 1 - Math.log(LOG_PROBABILITY_FLOOR) - s / LOG_PROBABILITY_FLOOR;
}

/**
 * Eq. 6: f(w) = -sum_i log sum_k w_k P_k(y_i|X_i) + lambda * sum_k w_k^2, with the tangent-line
 * floor of LOG_PROBABILITY_FLOOR. Writes the gradient into `gradient` when given.
 */
export function logLikelihoodObjective(
  data: LogLikelihoodData,
  w: Float64Array,
  lambda: number,
  gradient?: Float64Array,
): number {
  const { samples, members, trueClassProbs } = data;
  if (gradient) gradient.fill(0);
  let value = 0;
  for (let i = 0; i < samples; i++) {
    const row = i * members;
    let s = 0;
    for (let m = 0; m < members; m++) s += (trueClassProbs[row + m] as number) * (w[m] as number);
    value += flooredNegativeLog(s);
    if (gradient) {
      const scale = 1 / Math.max(s, LOG_PROBABILITY_FLOOR);
      for (let m = 0; m < members; m++) gradient[m] = (gradient[m] as number) - (trueClassProbs[row + m] as number) * scale;
    }
  }
  for (let m = 0; m < members; m++) {
    const wm = w[m] as number;
    value += lambda * wm * wm;
    if (gradient) gradient[m] = (gradient[m] as number) + 2 * lambda * wm;
  }
  return value;
}

/**
 * t -> f(w + t d) - f(w) for the log-likelihood objective, computed without subtracting two values
 * of f. Near the optimum the decrease of a step is far below the rounding error of f itself (f sums
 * N terms), so a line search comparing values of f stalls; here each sample contributes
 * -log1p(t (a.d) / s) directly. Each call costs O(N) once the line is set up.
 */
export function logLikelihoodAlongLine(
  data: LogLikelihoodData,
  w: Float64Array,
  direction: Float64Array,
  lambda: number,
): (t: number) => number {
  const { samples, members, trueClassProbs } = data;
  const mixture = new Float64Array(samples);
  const mixtureSlope = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const row = i * members;
    let s = 0;
    let slope = 0;
    for (let m = 0; m < members; m++) {
      const a = trueClassProbs[row + m] as number;
      s += a * (w[m] as number);
      slope += a * (direction[m] as number);
    }
    mixture[i] = s;
    mixtureSlope[i] = slope;
  }
  let wDotD = 0;
  let dDotD = 0;
  for (let m = 0; m < members; m++) {
    wDotD += (w[m] as number) * (direction[m] as number);
    dDotD += (direction[m] as number) ** 2;
  }
  return (t: number): number => {
    let change = lambda * t * (2 * wDotD + t * dDotD);
    for (let i = 0; i < samples; i++) {
      const s = mixture[i] as number;
      const step = t * (mixtureSlope[i] as number);
      const moved = s + step;
      if (s >= LOG_PROBABILITY_FLOOR && moved >= LOG_PROBABILITY_FLOOR) {
        change -= Math.log1p(step / s);
      } else if (s < LOG_PROBABILITY_FLOOR && moved < LOG_PROBABILITY_FLOOR) {
        change -= step / LOG_PROBABILITY_FLOOR;
      } else {
        change += flooredNegativeLog(moved) - flooredNegativeLog(s);
      }
    }
    return change;
  };
}

/**
 * Eq. 7: f(w) = sum_{i, y != y_i} [1 - sum_k margin_k w_k / gamma]_+ + lambda * sum_k w_k^2.
 * Writes a subgradient into `subgradient` when given (a term exactly at its kink contributes zero).
 */
export function hingeObjective(
  data: HingeData,
  w: Float64Array,
  lambda: number,
  gamma: number,
  subgradient?: Float64Array,
): number {
  const { pairs, members } = data;
  const losses = marginsTimes(data, w, new Float64Array(pairs));
  let value = 0;
  for (let j = 0; j < pairs; j++) {
    const loss = 1 - (losses[j] as number) / gamma;
    if (loss > 0) {
      value += loss;
      losses[j] = -1 / gamma;
    } else {
      losses[j] = 0;
    }
  }
  if (subgradient) marginsTransposedTimes(data, losses, subgradient);
  for (let m = 0; m < members; m++) {
    const wm = w[m] as number;
    value += lambda * wm * wm;
    if (subgradient) subgradient[m] = (subgradient[m] as number) + 2 * lambda * wm;
  }
  return value;
}

/**
 * Lagrangian dual function of Eq. 7 at multipliers alpha in [0, 1]^M (one per hinge term; values
 * outside are clipped):
 *   D(alpha) = sum_j alpha_j + min_{w in simplex} (lambda |w|^2 - u.w),  u = sum_j alpha_j margin_j / gamma.
 * By weak duality it is a lower bound on the minimum of Eq. 7 over the simplex. The inner minimum
 * is at the projection of u / (2 lambda) onto the simplex, or at the best vertex when lambda = 0.
 */
export function hingeDualBound(data: HingeData, alpha: Float64Array, lambda: number, gamma: number): number {
  const clipped = alpha.map((a) => Math.min(1, Math.max(0, a)));
  let alphaSum = 0;
  for (let j = 0; j < clipped.length; j++) alphaSum += clipped[j] as number;
  const u = marginsTransposedTimes(data, clipped, new Float64Array(data.members)).map((um) => um / gamma);
  if (lambda === 0) return alphaSum - Math.max(...u);
  const inner = projectOntoSimplex(u.map((um) => um / (2 * lambda)));
  let value = alphaSum;
  for (let m = 0; m < u.length; m++) value += lambda * (inner[m] as number) ** 2 - (u[m] as number) * (inner[m] as number);
  return value;
}
