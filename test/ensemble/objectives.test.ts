import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NUM_CLASSES } from '../../src/data/labels.js';
import {
  LOG_PROBABILITY_FLOOR,
  hingeDualBound,
  hingeObjective,
  logLikelihoodAlongLine,
  logLikelihoodObjective,
  prepareHinge,
  prepareLogLikelihood,
} from '../../src/ensemble/objectives.js';
import { projectOntoSimplex } from '../../src/ensemble/simplex.js';
import { Rng } from '../../src/util/rng.js';
import { bruteForceSimplex3, syntheticResponses } from './fixtures.js';

function randomSimplexPoint(rng: Rng, k: number): Float64Array {
  return projectOntoSimplex(Float64Array.from({ length: k }, () => rng.next()));
}

test('prepared data holds the true-class probabilities and the margins', () => {
  const p = Float32Array.from([0.5, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0, 0, 0.75, 0, 0, 0.25, 0]);
  const labels = Int8Array.of(0, 2);
  const ll = prepareLogLikelihood([p, p], labels);
  assert.deepEqual(Array.from(ll.trueClassProbs), [0.5, 0.5, 0.75, 0.75]);
  const hinge = prepareHinge([p], labels);
  assert.equal(hinge.pairs, 12);
  const expected = [0.4, 0.4, 0.4, 0.4, 0.45, 0.45, 0.75, 0.75, 0.75, 0.75, 0.5, 0.75];
  expected.forEach((e, j) => assert.ok(Math.abs((hinge.margins[j] as number) - e) < 1e-7, `pair ${j}`));
});

test('inputs with the wrong shape or labels are rejected', () => {
  const p = new Float32Array(2 * NUM_CLASSES);
  assert.throws(() => prepareLogLikelihood([p], Int8Array.of(0)));
  assert.throws(() => prepareHinge([p], Int8Array.of(0, 7)));
  assert.throws(() => prepareHinge([], Int8Array.of(0, 1)));
});

test('log-likelihood gradient matches central differences', () => {
  const { probs, labels } = syntheticResponses(1, 50, 4);
  const data = prepareLogLikelihood(probs, labels);
  const w = Float64Array.of(0.1, 0.2, 0.3, 0.4);
  const gradient = new Float64Array(4);
  logLikelihoodObjective(data, w, 3, gradient);
  for (let m = 0; m < 4; m++) {
    const h = 1e-6;
    const up = Float64Array.from(w);
    const down = Float64Array.from(w);
    up[m] = (up[m] as number) + h;
    down[m] = (down[m] as number) - h;
    const numeric = (logLikelihoodObjective(data, up, 3) - logLikelihoodObjective(data, down, 3)) / (2 * h);
    assert.ok(Math.abs(numeric - (gradient[m] as number)) < 1e-5 * Math.max(1, Math.abs(numeric)), `member ${m}`);
  }
});

test('log-likelihood change along a line equals the difference of objective values', () => {
  const { probs, labels } = syntheticResponses(2, 40, 3);
  const data = prepareLogLikelihood(probs, labels);
  const w = Float64Array.of(0.5, 0.3, 0.2);
  const target = Float64Array.of(0, 0.1, 0.9);
  const direction = target.map((t, i) => t - (w[i] as number));
  const change = logLikelihoodAlongLine(data, w, direction, 7);
  for (const t of [1, 0.5, 1e-3]) {
    const moved = w.map((wi, i) => wi + t * (direction[i] as number));
    const expected = logLikelihoodObjective(data, moved, 7) - logLikelihoodObjective(data, w, 7);
    assert.ok(Math.abs(change(t) - expected) < 1e-9, `t = ${t}: ${change(t)} vs ${expected}`);
  }
});

test('log-likelihood floor keeps zero probabilities finite, continuous and convex', () => {
  // Member 0 gives the true class probability 0 on the only sample; member 1 gives it 1.
  const zero = new Float32Array(NUM_CLASSES);
  zero[1] = 1;
  const one = new Float32Array(NUM_CLASSES);
  one[0] = 1;
  const data = prepareLogLikelihood([zero, one], Int8Array.of(0));
  const f = (w1: number): number => logLikelihoodObjective(data, Float64Array.of(1 - w1, w1), 0);
  assert.ok(Number.isFinite(f(0)));
  assert.ok(Math.abs(f(0) - (1 - Math.log(LOG_PROBABILITY_FLOOR))) < 1e-9);
  const eps = LOG_PROBABILITY_FLOOR;
  assert.ok(Math.abs(f(eps * (1 + 1e-9)) - f(eps * (1 - 1e-9))) < 1e-6, 'continuous at the floor');
  for (const x of [0, eps / 2, eps, 2 * eps, 1e-6, 0.5]) {
    const y = 3 * x + 1e-13;
    assert.ok(f((x + y) / 2) <= (f(x) + f(y)) / 2 + 1e-9, `convex between ${x} and ${y}`);
  }
});

test('hinge subgradient satisfies the subgradient inequality', () => {
  const { probs, labels } = syntheticResponses(3, 60, 4);
  const data = prepareHinge(probs, labels);
  const rng = new Rng(3);
  for (let trial = 0; trial < 30; trial++) {
    const w = randomSimplexPoint(rng, 4);
    const g = new Float64Array(4);
    const value = hingeObjective(data, w, 5, 0.3, g);
    assert.equal(hingeObjective(data, w, 5, 0.3), value);
    const other = randomSimplexPoint(rng, 4);
    let linear = value;
    for (let m = 0; m < 4; m++) linear += (g[m] as number) * ((other[m] as number) - (w[m] as number));
    assert.ok(hingeObjective(data, other, 5, 0.3) >= linear - 1e-9);
  }
});

test('hinge dual bound never exceeds the minimum', () => {
  const { probs, labels } = syntheticResponses(4, 30, 3);
  const data = prepareHinge(probs, labels);
  const rng = new Rng(4);
  for (const [lambda, gamma] of [
    [2, 0.3],
    [0, 0.5],
  ] as const) {
    const minimiser = bruteForceSimplex3((w) => hingeObjective(data, w, lambda, gamma));
    const minimum = hingeObjective(data, minimiser, lambda, gamma);
    // Values outside [0, 1] exercise the clipping.
    const candidates = Array.from({ length: 20 }, () => Float64Array.from({ length: data.pairs }, () => 2 * rng.next() - 0.5));
    const active = new Float64Array(data.pairs);
    for (let j = 0; j < data.pairs; j++) {
      let margin = 0;
      for (let m = 0; m < 3; m++) margin += (data.margins[m * data.pairs + j] as number) * (minimiser[m] as number);
      active[j] = 1 - margin / gamma > 0 ? 1 : 0;
    }
    candidates.push(active);
    for (const alpha of candidates) assert.ok(hingeDualBound(data, alpha, lambda, gamma) <= minimum + 1e-9);
  }
});
