import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_HINGE_GAMMAS,
  PAPER_FIT_SAMPLES,
  chooseHyperparameters,
  defaultLambdaGrid,
  fitWeights,
  type FitWeightsResult,
} from '../../src/ensemble/fit-weights.js';
import {
  hingeObjective,
  logLikelihoodObjective,
  prepareHinge,
  prepareLogLikelihood,
} from '../../src/ensemble/objectives.js';
import { simplexViolation } from '../../src/ensemble/simplex.js';
import { bruteForceSimplex3, goldenSectionMinimum, perfectMember, simplexGrid3, syntheticResponses } from './fixtures.js';

function assertFeasibleAndConverged(result: FitWeightsResult): void {
  assert.ok(result.converged, `not converged: gap ${result.optimalityGap} after ${result.iterations} iterations`);
  assert.ok(result.weights.every((w) => w >= 0), `negative weight in ${result.weights}`);
  assert.ok(simplexViolation(result.weights) < 1e-9, `sum ${result.weights.reduce((a, b) => a + b, 0)}`);
  assert.ok(result.optimalityGap <= 1e-9 * Math.max(1, Math.abs(result.objective)));
}

function assertWeightsClose(actual: readonly number[], expected: ArrayLike<number>, tolerance: number): void {
  actual.forEach((a, i) => assert.ok(Math.abs(a - (expected[i] as number)) <= tolerance, `weight ${i}: ${a} vs ${expected[i]}`));
}

test('log-likelihood with lambda = 0 puts all weight on a perfect member', () => {
  const { probs, labels } = syntheticResponses(21, 200, 3);
  const result = fitWeights([probs[0] as Float32Array, perfectMember(labels), ...probs.slice(1)], labels, {
    objective: 'loglik',
    lambda: 0,
  });
  assertFeasibleAndConverged(result);
  assert.ok((result.weights[1] as number) > 1 - 1e-9, `weights ${result.weights}`);
  assert.ok(Math.abs(result.objective) < 1e-6);
});

test('hinge with lambda = 0 puts all weight on a perfect member', () => {
  const { probs, labels } = syntheticResponses(22, 200, 3);
  // With gamma = 1 only the perfect member reaches every margin, so the minimiser is unique.
  const result = fitWeights([...probs, perfectMember(labels)], labels, { objective: 'hinge', lambda: 0, gamma: 1 });
  assertFeasibleAndConverged(result);
  assert.ok((result.weights[3] as number) > 1 - 1e-6, `weights ${result.weights}`);
  assert.ok(result.objective < 1e-6);
});

test('identical members with lambda > 0 get uniform weights', () => {
  const { probs, labels } = syntheticResponses(23, 100, 1);
  const copies = Array.from({ length: 5 }, () => probs[0] as Float32Array);
  for (const options of [
    { objective: 'loglik', lambda: 10 },
    { objective: 'hinge', lambda: 10, gamma: 0.3 },
  ] as const) {
    const result = fitWeights(copies, labels, options);
    assertFeasibleAndConverged(result);
    assertWeightsClose(result.weights, [0.2, 0.2, 0.2, 0.2, 0.2], 1e-6);
  }
});

test('log-likelihood with K = 2 matches a 1-D brute-force search', () => {
  const { probs, labels } = syntheticResponses(24, 300, 2);
  const data = prepareLogLikelihood(probs, labels);
  for (const lambda of [0, 5, 50]) {
    const f = (w1: number): number => logLikelihoodObjective(data, Float64Array.of(w1, 1 - w1), lambda);
    const best = goldenSectionMinimum(f, 0, 1);
    const result = fitWeights(probs, labels, { objective: 'loglik', lambda });
    assertFeasibleAndConverged(result);
    assertWeightsClose(result.weights, [best, 1 - best], 1e-6);
    assert.ok(result.objective <= f(best) + 1e-9);
  }
});

test('hinge with K = 2 matches a 1-D brute-force search', () => {
  const { probs, labels } = syntheticResponses(25, 300, 2);
  const data = prepareHinge(probs, labels);
  for (const [lambda, gamma] of [
    [1, 0.3],
    [20, 0.1],
    [300, 1],
  ] as const) {
    const f = (w1: number): number => hingeObjective(data, Float64Array.of(w1, 1 - w1), lambda, gamma);
    const best = goldenSectionMinimum(f, 0, 1);
    const result = fitWeights(probs, labels, { objective: 'hinge', lambda, gamma });
    assertFeasibleAndConverged(result);
    assertWeightsClose(result.weights, [best, 1 - best], 1e-6);
    assert.ok(result.objective <= f(best) + 1e-9);
  }
});

test('hinge with K = 3 matches a brute-force search over the simplex', () => {
  const { probs, labels } = syntheticResponses(26, 120, 3);
  const data = prepareHinge(probs, labels);
  for (const [lambda, gamma] of [
    [2, 0.3],
    [30, 0.1],
  ] as const) {
    const f = (w: Float64Array): number => hingeObjective(data, w, lambda, gamma);
    const result = fitWeights(probs, labels, { objective: 'hinge', lambda, gamma });
    assertFeasibleAndConverged(result);
    let gridBest = Infinity;
    for (const w of simplexGrid3(100)) gridBest = Math.min(gridBest, f(w));
    assert.ok(result.objective <= gridBest + 1e-9, `fit ${result.objective} vs grid ${gridBest}`);
    const best = bruteForceSimplex3(f);
    assertWeightsClose(result.weights, best, 1e-6);
    assert.ok(result.objective <= f(best) + 1e-9);
  }
});

test('log-likelihood with K = 3 matches a brute-force search over the simplex', () => {
  const { probs, labels } = syntheticResponses(27, 120, 3);
  const data = prepareLogLikelihood(probs, labels);
  const f = (w: Float64Array): number => logLikelihoodObjective(data, w, 4);
  const result = fitWeights(probs, labels, { objective: 'loglik', lambda: 4 });
  assertFeasibleAndConverged(result);
  const best = bruteForceSimplex3(f);
  assertWeightsClose(result.weights, best, 1e-5);
  assert.ok(result.objective <= f(best) + 1e-9);
});

test('larger problems converge with feasible weights', () => {
  const { probs, labels } = syntheticResponses(28, 2000, 8);
  for (const options of [
    { objective: 'loglik', lambda: 0 },
    { objective: 'loglik', lambda: 280 },
    { objective: 'hinge', lambda: 0, gamma: 0.1 },
    { objective: 'hinge', lambda: 400, gamma: 0.3 },
  ] as const) {
    assertFeasibleAndConverged(fitWeights(probs, labels, options));
  }
});

test('an iteration cap reports non-convergence', () => {
  const { probs, labels } = syntheticResponses(29, 300, 4);
  const result = fitWeights(probs, labels, { objective: 'hinge', lambda: 1, gamma: 0.3, maxIterations: 1 });
  assert.equal(result.converged, false);
  assert.ok(simplexViolation(result.weights) < 1e-9);
});

test('invalid objectives and hyper-parameters are rejected', () => {
  const { probs, labels } = syntheticResponses(30, 10, 2);
  assert.throws(() => fitWeights(probs, labels, { objective: 'loglik', lambda: -1 }));
  assert.throws(() => fitWeights(probs, labels, { objective: 'hinge', lambda: 1, gamma: 0 }));
  assert.throws(() => fitWeights(probs, labels, { objective: 'loglik', lambda: 1, tolerance: 0 }));
  assert.throws(() => fitWeights(probs, labels, { objective: 'svm' as 'hinge', lambda: 1 }));
});

test('default grids contain the paper values at the paper training size and scale with N', () => {
  const loglik = defaultLambdaGrid('loglik', PAPER_FIT_SAMPLES);
  assert.ok(loglik.includes(280) && loglik.includes(600));
  const hinge = defaultLambdaGrid('hinge', PAPER_FIT_SAMPLES);
  assert.ok(hinge.includes(7000) && hinge.includes(400));
  assert.ok(DEFAULT_HINGE_GAMMAS.includes(0.3) && DEFAULT_HINGE_GAMMAS.includes(0.1));
  const half = defaultLambdaGrid('loglik', PAPER_FIT_SAMPLES / 2);
  half.forEach((lambda, i) => assert.equal(lambda, (loglik[i] as number) / 2));
});

test('hyper-parameter search returns every grid point and the most accurate one', () => {
  const fit = syntheticResponses(31, 300, 3);
  const selection = syntheticResponses(32, 200, 3);
  const choice = chooseHyperparameters(fit, selection, { objective: 'hinge', lambdas: [0, 10, 1000], gammas: [0.1, 0.5] });
  assert.equal(choice.grid.length, 6);
  assert.deepEqual(
    choice.grid.map((point) => [point.lambda, point.gamma]),
    [
      [0, 0.1],
      [0, 0.5],
      [10, 0.1],
      [10, 0.5],
      [1000, 0.1],
      [1000, 0.5],
    ],
  );
  const bestAccuracy = Math.max(...choice.grid.map((point) => point.selectionAccuracy));
  assert.equal(choice.best.selectionAccuracy, bestAccuracy);
  const firstBest = choice.grid.find((point) => point.selectionAccuracy === bestAccuracy);
  assert.equal(choice.best, firstBest);
  choice.grid.forEach(assertFeasibleAndConverged);
});

test('hyper-parameter ties go to the smaller lambda', () => {
  // Identical members make every weight vector give the same predictions, so every lambda ties.
  const { probs, labels } = syntheticResponses(33, 100, 1);
  const same = [probs[0] as Float32Array, probs[0] as Float32Array];
  const choice = chooseHyperparameters({ probs: same, labels }, { probs: same, labels }, { objective: 'loglik', lambdas: [50, 5, 500] });
  assert.equal(choice.best.lambda, 5);
  assert.equal(choice.grid.length, 3);
});

test('hyper-parameter search uses the scaled default grid', () => {
  const fit = syntheticResponses(34, 287, 2);
  const choice = chooseHyperparameters(fit, fit, { objective: 'loglik' });
  assert.deepEqual(
    choice.grid.map((point) => point.lambda),
    defaultLambdaGrid('loglik', 287),
  );
});
