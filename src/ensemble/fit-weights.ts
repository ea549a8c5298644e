/**
 * Fitting the ensemble weights of Yu & Zhang (ICMI 2015, §6) on the probability simplex, and
 * choosing lambda / gamma by selection-split accuracy.
 *
 * Both objectives are convex over the simplex, so each solver returns a certified bound on how far
 * its answer is from the minimum (`optimalityGap`), and `converged` means that bound is at most
 * tolerance * max(1, |objective|):
 * - log-likelihood (Eq. 6, smooth): spectral projected gradient (Birgin, Martinez & Raydan 2000)
 *   with the exact simplex projection and a non-monotone Armijo backtracking line search. The line
 *   search compares exact changes of f (logLikelihoodAlongLine), because near the optimum a step's
 *   decrease is below the rounding error of f and comparing values of f would stall. The bound is
 *   the Frank-Wolfe gap max_v g.(w - v) over simplex vertices v, which bounds f(w) - f* by convexity.
 * - hinge (Eq. 7, piecewise linear + quadratic): written as a QP in (w, slacks) and solved by a
 *   Mehrotra predictor-corrector interior-point method. The slacks enter the Newton system only
 *   through diagonals, so each iteration factors a K x K matrix however large N is. The bound is
 *   the Lagrangian duality gap between the primal value and the dual function at the IPM's
 *   multipliers, which is a lower bound on the minimum for any multipliers in [0, 1].
 */
import { accuracy, argmaxRows, weightedAverage } from './combine.js';
import {
  hingeDualBound,
  hingeObjective,
  logLikelihoodAlongLine,
  logLikelihoodObjective,
  marginsTimes,
  marginsTransposedTimes,
  prepareHinge,
  prepareLogLikelihood,
  type HingeData,
  type LabelArray,
  type LogLikelihoodData,
} from './objectives.js';
import { projectOntoSimplex } from './simplex.js';

export type EnsembleObjective = 'loglik' | 'hinge';

export interface SolverOptions {
  /** Projected-gradient steps (loglik) or interior-point iterations (hinge). */
  maxIterations?: number;
  /** Relative optimality tolerance: stop once optimalityGap <= tolerance * max(1, |objective|). */
  tolerance?: number;
}

export interface FitWeightsOptions extends SolverOptions {
  objective: EnsembleObjective;
  lambda: number;
  /** Hinge margin of Eq. 7; defaults to the paper's FER value 0.3. Ignored for loglik. */
  gamma?: number;
}

export interface FitWeightsResult {
  weights: number[];
  objective: number;
  iterations: number;
  converged: boolean;
  /** Certified upper bound on objective - (minimum of the objective over the simplex). */
  optimalityGap: number;
}

export const DEFAULT_TOLERANCE = 1e-9;
export const DEFAULT_LOGLIK_MAX_ITERATIONS = 10000;
export const DEFAULT_HINGE_MAX_ITERATIONS = 200;
export const DEFAULT_GAMMA = 0.3;

export function fitWeights(probs: readonly Float32Array[], labels: LabelArray, options: FitWeightsOptions): FitWeightsResult {
  checkObjective(options.objective);
  if (options.objective === 'loglik') {
    return fitLogLikelihoodWeights(prepareLogLikelihood(probs, labels), options.lambda, options);
  }
  return fitHingeWeights(prepareHinge(probs, labels), options.lambda, options.gamma ?? DEFAULT_GAMMA, options);
}

/** The objective often arrives from a command line, past the type checker. */
function checkObjective(objective: string): void {
  if (objective !== 'loglik' && objective !== 'hinge') throw new Error(`fitWeights: unknown objective '${objective}'`);
}

function checkLambda(lambda: number): void {
  if (!(Number.isFinite(lambda) && lambda >= 0)) throw new Error(`fitWeights: lambda must be finite and >= 0, got ${lambda}`);
}

function resolveTolerance(options: SolverOptions): number {
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  if (!(tolerance > 0)) throw new Error(`fitWeights: tolerance must be > 0, got ${tolerance}`);
  return tolerance;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/**
 * max over simplex vertices v of g.(w - v); bounds f(w) - min f for convex f with gradient g at w.
 * Summed as w.(g - min g): the components of g are all close to -N near the optimum, and the
 * difference of g.w and min g would lose the gap to rounding.
 */
function frankWolfeGap(w: Float64Array, gradient: Float64Array): number {
  const smallest = Math.min(...gradient);
  let gap = 0;
  for (let i = 0; i < w.length; i++) gap += (w[i] as number) * ((gradient[i] as number) - smallest);
  return gap;
}

const ARMIJO_FRACTION = 1e-4;
/** The non-monotone line search compares against the worst of this many recent values (SPG's M). */
const NONMONOTONE_MEMORY = 10;
const MIN_SPECTRAL_STEP = 1e-30;
const MAX_SPECTRAL_STEP = 1e30;
/** Below this step fraction the line search is lost in rounding and the solver stops. */
const MIN_STEP_FRACTION = 1e-14;

/** Eq. 6 over the simplex, by spectral projected gradient (see the file comment). */
export function fitLogLikelihoodWeights(data: LogLikelihoodData, lambda: number, options: SolverOptions = {}): FitWeightsResult {
  checkLambda(lambda);
  const tolerance = resolveTolerance(options);
  const maxIterations = options.maxIterations ?? DEFAULT_LOGLIK_MAX_ITERATIONS;
  const k = data.members;
  const w = new Float64Array(k).fill(1 / k);
  const gradient = new Float64Array(k);
  let value = logLikelihoodObjective(data, w, lambda, gradient);
  let gap = frankWolfeGap(w, gradient);
  // Recent objective values minus the current one, kept from exact changes rather than from
  // differences of rounded values of f.
  const recentExcess = [0];

  // SPG2's first step: one unit of the projected-gradient direction's largest component.
  const firstTarget = projectOntoSimplex(w.map((wi, i) => wi - (gradient[i] as number)));
  let largestMove = 0;
  for (let i = 0; i < k; i++) largestMove = Math.max(largestMove, Math.abs((firstTarget[i] as number) - (w[i] as number)));
  let spectralStep = largestMove > 0 ? 1 / largestMove : 1;

  let iterations = 0;
  let converged = false;
  const direction = new Float64Array(k);
  const previousGradient = new Float64Array(k);
  for (;;) {
    if (gap <= tolerance * Math.max(1, Math.abs(value))) {
      converged = true;
      break;
    }
    if (iterations >= maxIterations) break;
    iterations++;

    // The projection ignores a constant added to every component, and the components of the
    // gradient share a large common part (about -N), so it is removed before it can swamp the
    // small differences that decide the step and its slope.
    const common = dot(gradient, w);
    const target = projectOntoSimplex(w.map((wi, i) => wi - spectralStep * ((gradient[i] as number) - common)));
    let slope = 0;
    for (let i = 0; i < k; i++) {
      direction[i] = (target[i] as number) - (w[i] as number);
      slope += ((gradient[i] as number) - common) * (direction[i] as number);
    }
    if (!(slope < 0)) break;
    const change = logLikelihoodAlongLine(data, w, direction, lambda);
    const allowance = Math.max(...recentExcess);
    let fraction = 1;
    let accepted = false;
    let trialChange = 0;
    while (fraction >= MIN_STEP_FRACTION) {
      trialChange = change(fraction);
      if (trialChange <= allowance + ARMIJO_FRACTION * fraction * slope) {
        accepted = true;
        break;
      }
      const interpolated = (-0.5 * fraction * fraction * slope) / (trialChange - fraction * slope);
      fraction = interpolated >= 0.1 * fraction && interpolated <= 0.9 * fraction ? interpolated : fraction / 2;
    }
    if (!accepted) break;

    previousGradient.set(gradient);
    let ss = 0;
    for (let i = 0; i < k; i++) {
      // A convex combination of two simplex points, so w stays non-negative exactly.
      w[i] = fraction === 1 ? (target[i] as number) : (1 - fraction) * (w[i] as number) + fraction * (target[i] as number);
      ss += (fraction * (direction[i] as number)) ** 2;
    }
    value = logLikelihoodObjective(data, w, lambda, gradient);
    let sy = 0;
    for (let i = 0; i < k; i++) sy += fraction * (direction[i] as number) * ((gradient[i] as number) - (previousGradient[i] as number));
    spectralStep = sy > 0 ? Math.min(MAX_SPECTRAL_STEP, Math.max(MIN_SPECTRAL_STEP, ss / sy)) : MAX_SPECTRAL_STEP;
    gap = frankWolfeGap(w, gradient);
    for (let j = 0; j < recentExcess.length; j++) recentExcess[j] = (recentExcess[j] as number) - trialChange;
    recentExcess.push(0);
    if (recentExcess.length > NONMONOTONE_MEMORY) recentExcess.shift();
  }
  return { weights: Array.from(w), objective: value, iterations, converged, optimalityGap: Math.max(gap, 0) };
}

/** In-place Cholesky factorisation of a symmetric K x K matrix (lower triangle); false if not positive definite. */
function choleskyInPlace(a: Float64Array, k: number): boolean {
  for (let col = 0; col < k; col++) {
    let diagonal = a[col * k + col] as number;
    for (let p = 0; p < col; p++) diagonal -= (a[col * k + p] as number) ** 2;
    if (!(diagonal > 0)) return false;
    const root = Math.sqrt(diagonal);
    a[col * k + col] = root;
    for (let row = col + 1; row < k; row++) {
      let v = a[row * k + col] as number;
      for (let p = 0; p < col; p++) v -= (a[row * k + p] as number) * (a[col * k + p] as number);
      a[row * k + col] = v / root;
    }
  }
  return true;
}

function choleskySolve(factor: Float64Array, k: number, rhs: Float64Array): Float64Array {
  const x = Float64Array.from(rhs);
  for (let row = 0; row < k; row++) {
    let v = x[row] as number;
    for (let p = 0; p < row; p++) v -= (factor[row * k + p] as number) * (x[p] as number);
    x[row] = v / (factor[row * k + row] as number);
  }
  for (let row = k - 1; row >= 0; row--) {
    let v = x[row] as number;
    for (let p = row + 1; p < k; p++) v -= (factor[p * k + row] as number) * (x[p] as number);
    x[row] = v / (factor[row * k + row] as number);
  }
  return x;
}

/** Fraction of the largest boundary-reaching step the interior-point method takes. */
const STEP_TO_BOUNDARY = 0.995;

/** Largest t <= 1 with x + t dx >= 0, over several (x, dx) pairs. */
function stepToBoundary(pairs: readonly (readonly [Float64Array, Float64Array])[]): number {
  let step = 1;
  for (const [x, dx] of pairs) {
    for (let i = 0; i < x.length; i++) {
      const d = dx[i] as number;
      if (d < 0) step = Math.min(step, -(x[i] as number) / d);
    }
  }
  return step;
}

/**
 * Eq. 7 over the simplex, as the QP
 *   min lambda |w|^2 + sum_j xi_j  s.t.  b_j.w + xi_j - s_j = 1,  xi, s, w >= 0,  sum w = 1,
 * with b_j = margin_j / gamma, by Mehrotra's predictor-corrector method from an infeasible start.
 * Multipliers: alpha (rows), eta (xi >= 0), z (w >= 0), nu (sum w = 1). Eliminating xi, s, alpha
 * and eta, which only meet diagonal matrices, leaves the K x K system
 *   (2 lambda I + B' diag(coupling) B + diag(z / w)) dw + dnu 1 = rhs,  1.dw = -(sum w - 1).
 */
export function fitHingeWeights(data: HingeData, lambda: number, gamma: number, options: SolverOptions = {}): FitWeightsResult {
  checkLambda(lambda);
  if (!(Number.isFinite(gamma) && gamma > 0)) throw new Error(`fitWeights: gamma must be finite and > 0, got ${gamma}`);
  const tolerance = resolveTolerance(options);
  const maxIterations = options.maxIterations ?? DEFAULT_HINGE_MAX_ITERATIONS;
  const { pairs, members: k, margins } = data;
  const invGamma = 1 / gamma;
  const timesB = (v: Float64Array, out: Float64Array): void => {
    marginsTimes(data, v, out);
    for (let j = 0; j < pairs; j++) out[j] = (out[j] as number) * invGamma;
  };
  const timesBTransposed = (v: Float64Array, out: Float64Array): void => {
    marginsTransposedTimes(data, v, out);
    for (let m = 0; m < k; m++) out[m] = (out[m] as number) * invGamma;
  };

  const w = new Float64Array(k).fill(1 / k);
  const z = new Float64Array(k);
  const xi = new Float64Array(pairs);
  const slack = new Float64Array(pairs);
  const alpha = new Float64Array(pairs).fill(0.5);
  const eta = new Float64Array(pairs).fill(0.5);
  const bw = new Float64Array(pairs);
  const bAlpha = new Float64Array(k);

  // Start primal-feasible in the rows and dual-feasible in w: xi and s at least 1 away from their
  // bounds, and nu set so that the smallest z is 1.
  timesB(w, bw);
  for (let j = 0; j < pairs; j++) {
    xi[j] = Math.max(1 - (bw[j] as number), 0) + 1;
    slack[j] = (bw[j] as number) + (xi[j] as number) - 1;
  }
  timesBTransposed(alpha, bAlpha);
  let nu = 1 - Math.min(...w.map((wm, m) => 2 * lambda * wm - (bAlpha[m] as number)));
  for (let m = 0; m < k; m++) z[m] = 2 * lambda * (w[m] as number) - (bAlpha[m] as number) + nu;

  const rW = new Float64Array(k);
  const rXi = new Float64Array(pairs);
  const rP = new Float64Array(pairs);
  let rE = 0;
  const rcAlpha = new Float64Array(pairs);
  const rcEta = new Float64Array(pairs);
  const rcZ = new Float64Array(k);
  const coupling = new Float64Array(pairs);
  const diagonal = new Float64Array(pairs);
  const q = new Float64Array(pairs);
  const c = new Float64Array(pairs);
  const bc = new Float64Array(k);
  const bdw = new Float64Array(pairs);
  const dXi = new Float64Array(pairs);
  const dSlack = new Float64Array(pairs);
  const dAlpha = new Float64Array(pairs);
  const dEta = new Float64Array(pairs);
  const dw = new Float64Array(k);
  const dz = new Float64Array(k);
  let dNu = 0;
  const normal = new Float64Array(k * k);
  const weightedColumn = new Float64Array(pairs);
  const ones = new Float64Array(k).fill(1);
  const complementarityCount = 2 * pairs + k;
  const steps = [
    [w, dw],
    [z, dz],
    [xi, dXi],
    [slack, dSlack],
    [alpha, dAlpha],
    [eta, dEta],
  ] as const;

  /** Newton direction for complementarity right-hand sides (rcAlpha, rcEta, rcZ), by elimination to K x K. */
  const solveDirection = (factor: Float64Array, onesSolved: Float64Array): void => {
    for (let j = 0; j < pairs; j++) {
      const xij = xi[j] as number;
      const qj =
        (alpha[j] as number) * (rP[j] as number) +
        (rcAlpha[j] as number) +
        (slack[j] as number) * ((rXi[j] as number) + (rcEta[j] as number) / xij);
      q[j] = qj;
      c[j] = (rXi[j] as number) + (rcEta[j] as number) / xij - ((eta[j] as number) / xij) * (qj / (diagonal[j] as number));
    }
    timesBTransposed(c, bc);
    const rhs = new Float64Array(k);
    for (let m = 0; m < k; m++) rhs[m] = -(rW[m] as number) + (bc[m] as number) - (rcZ[m] as number) / (w[m] as number);
    const rhsSolved = choleskySolve(factor, k, rhs);
    dNu = (sum(rhsSolved) + rE) / sum(onesSolved);
    for (let m = 0; m < k; m++) dw[m] = (rhsSolved[m] as number) - dNu * (onesSolved[m] as number);
    timesB(dw, bdw);
    for (let j = 0; j < pairs; j++) {
      const dXij = -((alpha[j] as number) * (bdw[j] as number) + (q[j] as number)) / (diagonal[j] as number);
      dXi[j] = dXij;
      dAlpha[j] = (c[j] as number) - (coupling[j] as number) * (bdw[j] as number);
      dSlack[j] = (bdw[j] as number) + dXij + (rP[j] as number);
      dEta[j] = (rXi[j] as number) - (dAlpha[j] as number);
    }
    for (let m = 0; m < k; m++) dz[m] = (-(rcZ[m] as number) - (z[m] as number) * (dw[m] as number)) / (w[m] as number);
  };

  let bestWeights = projectOntoSimplex(w);
  let bestPrimal = Infinity;
  let bestDual = -Infinity;
  let gap = Infinity;
  let iterations = 0;
  let converged = false;
  for (;;) {
    const feasibleWeights = projectOntoSimplex(w);
    const primal = hingeObjective(data, feasibleWeights, lambda, gamma);
    if (primal < bestPrimal) {
      bestPrimal = primal;
      bestWeights = feasibleWeights;
    }
    bestDual = Math.max(bestDual, hingeDualBound(data, alpha, lambda, gamma));
    gap = Math.max(bestPrimal - bestDual, 0);
    if (gap <= tolerance * Math.max(1, bestPrimal)) {
      converged = true;
      break;
    }
    if (iterations >= maxIterations) break;
    iterations++;

    timesB(w, bw);
    timesBTransposed(alpha, bAlpha);
    rE = sum(w) - 1;
    for (let m = 0; m < k; m++) rW[m] = 2 * lambda * (w[m] as number) - (bAlpha[m] as number) - (z[m] as number) + nu;
    let complementarity = dot(z, w);
    for (let j = 0; j < pairs; j++) {
      const a = alpha[j] as number;
      const e = eta[j] as number;
      const x = xi[j] as number;
      const s = slack[j] as number;
      rXi[j] = 1 - a - e;
      rP[j] = (bw[j] as number) + x - s - 1;
      complementarity += a * s + e * x;
      diagonal[j] = a + (s * e) / x;
      coupling[j] = (e * a) / (a * x + s * e);
    }
    const mu = complementarity / complementarityCount;

    for (let a = 0; a < k; a++) {
      const columnA = a * pairs;
      for (let j = 0; j < pairs; j++) weightedColumn[j] = (coupling[j] as number) * (margins[columnA + j] as number);
      for (let b = 0; b <= a; b++) {
        const columnB = b * pairs;
        let entry = 0;
        for (let j = 0; j < pairs; j++) entry += (weightedColumn[j] as number) * (margins[columnB + j] as number);
        normal[a * k + b] = entry * invGamma * invGamma;
      }
      normal[a * k + a] = (normal[a * k + a] as number) + 2 * lambda + (z[a] as number) / (w[a] as number);
    }
    if (!choleskyInPlace(normal, k)) break;
    const onesSolved = choleskySolve(normal, k, ones);

    // Predictor: the pure Newton (affine-scaling) direction.
    for (let j = 0; j < pairs; j++) {
      rcAlpha[j] = (alpha[j] as number) * (slack[j] as number);
      rcEta[j] = (eta[j] as number) * (xi[j] as number);
    }
    for (let m = 0; m < k; m++) rcZ[m] = (z[m] as number) * (w[m] as number);
    solveDirection(normal, onesSolved);
    const affineStep = stepToBoundary(steps);
    let affineComplementarity = 0;
    for (let j = 0; j < pairs; j++) {
      affineComplementarity +=
        ((alpha[j] as number) + affineStep * (dAlpha[j] as number)) * ((slack[j] as number) + affineStep * (dSlack[j] as number)) +
        ((eta[j] as number) + affineStep * (dEta[j] as number)) * ((xi[j] as number) + affineStep * (dXi[j] as number));
    }
    for (let m = 0; m < k; m++) {
      affineComplementarity += ((z[m] as number) + affineStep * (dz[m] as number)) * ((w[m] as number) + affineStep * (dw[m] as number));
    }
    const target = (affineComplementarity / complementarityCount / mu) ** 3 * mu;

    // Corrector: recentre and compensate the predictor's second-order complementarity error.
    for (let j = 0; j < pairs; j++) {
      rcAlpha[j] = (rcAlpha[j] as number) + (dAlpha[j] as number) * (dSlack[j] as number) - target;
      rcEta[j] = (rcEta[j] as number) + (dEta[j] as number) * (dXi[j] as number) - target;
    }
    for (let m = 0; m < k; m++) rcZ[m] = (rcZ[m] as number) + (dz[m] as number) * (dw[m] as number) - target;
    solveDirection(normal, onesSolved);
    const step = Math.min(1, STEP_TO_BOUNDARY * stepToBoundary(steps));
    for (const [x, dx] of steps) {
      for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + step * (dx[i] as number);
    }
    nu += step * dNu;
  }
  return { weights: Array.from(bestWeights), objective: bestPrimal, iterations, converged, optimalityGap: gap };
}

function sum(v: Float64Array): number {
  let total = 0;
  for (let i = 0; i < v.length; i++) total += v[i] as number;
  return total;
}

/** Member responses and labels of one split. */
export interface ResponseSplit {
  probs: readonly Float32Array[];
  labels: LabelArray;
}

export interface HyperparameterSearchOptions extends SolverOptions {
  objective: EnsembleObjective;
  /** Lambdas to try, used as given; default: the objective's default grid scaled to the fit split's size. */
  lambdas?: readonly number[];
  /** Hinge margins to try; default DEFAULT_HINGE_GAMMAS. Ignored for loglik. */
  gammas?: readonly number[];
}

export interface GridPointResult extends FitWeightsResult {
  lambda: number;
  /** Present for the hinge objective. */
  gamma?: number;
  /** Accuracy of the weighted ensemble on the selection split. */
  selectionAccuracy: number;
}

export interface HyperparameterChoice {
  best: GridPointResult;
  /** Every grid point, in the order tried (lambda-major). */
  grid: GridPointResult[];
}

/**
 * The size of the FER2013 training split that the paper fitted its weights on. The regulariser is
 * a single term while the loss sums over samples, so the paper's lambdas are only comparable on a
 * fit split of this size; the default grids are scaled by (fit samples / this).
 */
export const PAPER_FIT_SAMPLES = 28709;

/** Log-likelihood lambdas at PAPER_FIT_SAMPLES; includes the paper's FER 280 and SFEW 600. */
export const DEFAULT_LOGLIK_LAMBDAS: readonly number[] = [0, 10, 30, 100, 280, 600, 1000, 3000, 10000];
/** Hinge lambdas at PAPER_FIT_SAMPLES; includes the paper's FER 7000 and SFEW 400. */
export const DEFAULT_HINGE_LAMBDAS: readonly number[] = [0, 100, 400, 1000, 3000, 7000, 20000];
/** Hinge margins; includes the paper's FER 0.3 and SFEW 0.1. */
export const DEFAULT_HINGE_GAMMAS: readonly number[] = [0.05, 0.1, 0.3, 0.5, 1];

export function defaultLambdaGrid(objective: EnsembleObjective, fitSamples: number): number[] {
  const grid = objective === 'loglik' ? DEFAULT_LOGLIK_LAMBDAS : DEFAULT_HINGE_LAMBDAS;
  return grid.map((lambda) => (lambda * fitSamples) / PAPER_FIT_SAMPLES);
}

/**
 * Fits the weights on `fit` at every grid point and keeps the one with the best accuracy on
 * `selection`, as the paper tunes lambda and gamma on validation accuracy while fitting the weights
 * on training responses. Equal accuracies go to the smaller lambda, then to the earlier gamma.
 */
export function chooseHyperparameters(
  fit: ResponseSplit,
  selection: ResponseSplit,
  options: HyperparameterSearchOptions,
): HyperparameterChoice {
  checkObjective(options.objective);
  if (selection.probs.length !== fit.probs.length) {
    throw new Error(`chooseHyperparameters: ${fit.probs.length} members on the fit split, ${selection.probs.length} on selection`);
  }
  const lambdas = options.lambdas ?? defaultLambdaGrid(options.objective, fit.labels.length);
  if (lambdas.length === 0) throw new Error('chooseHyperparameters: empty lambda grid');
  const selectionAccuracy = (weights: readonly number[]): number =>
    accuracy(argmaxRows(weightedAverage(selection.probs, weights)), selection.labels);

  const grid: GridPointResult[] = [];
  if (options.objective === 'loglik') {
    const data = prepareLogLikelihood(fit.probs, fit.labels);
    for (const lambda of lambdas) {
      const result = fitLogLikelihoodWeights(data, lambda, options);
      grid.push({ ...result, lambda, selectionAccuracy: selectionAccuracy(result.weights) });
    }
  } else {
    const gammas = options.gammas ?? DEFAULT_HINGE_GAMMAS;
    if (gammas.length === 0) throw new Error('chooseHyperparameters: empty gamma grid');
    const data = prepareHinge(fit.probs, fit.labels);
    for (const lambda of lambdas) {
      for (const gamma of gammas) {
        const result = fitHingeWeights(data, lambda, gamma, options);
        grid.push({ ...result, lambda, gamma, selectionAccuracy: selectionAccuracy(result.weights) });
      }
    }
  }

  let best = grid[0] as GridPointResult;
  for (const point of grid) {
    const better =
      point.selectionAccuracy > best.selectionAccuracy ||
      (point.selectionAccuracy === best.selectionAccuracy && point.lambda < best.lambda);
    if (better) best = point;
  }
  return { best, grid };
}
