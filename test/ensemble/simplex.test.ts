import assert from 'node:assert/strict';
import { test } from 'node:test';
import { projectOntoSimplex, simplexViolation } from '../../src/ensemble/simplex.js';
import { Rng } from '../../src/util/rng.js';
import { simplexGrid3 } from './fixtures.js';

function assertClose(actual: ArrayLike<number>, expected: readonly number[], tolerance = 1e-12): void {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => assert.ok(Math.abs((actual[i] as number) - e) <= tolerance, `entry ${i}: ${actual[i]} vs ${e}`));
}

function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += ((a[i] as number) - (b[i] as number)) ** 2;
  return d;
}

test('projection of hand-computed points', () => {
  assertClose(projectOntoSimplex(Float64Array.of(0.2, 0.3, 0.5)), [0.2, 0.3, 0.5]);
  assertClose(projectOntoSimplex(Float64Array.of(0.5, 0.5, 0.5)), [1 / 3, 1 / 3, 1 / 3]);
  assertClose(projectOntoSimplex(Float64Array.of(2, 0, 0)), [1, 0, 0]);
  assertClose(projectOntoSimplex(Float64Array.of(1, 0.5)), [0.75, 0.25]);
  assertClose(projectOntoSimplex(Float64Array.of(-1, -1)), [0.5, 0.5]);
  // theta = 0.3 keeps 0.4 in the support; theta = 0.25 drops 0.2 from it.
  assertClose(projectOntoSimplex(Float64Array.of(1, 0.5, -3, 0.4)), [0.7, 0.2, 0, 0.1]);
  assertClose(projectOntoSimplex(Float64Array.of(1, 0.5, -3, 0.2)), [0.75, 0.25, 0, 0]);
  assertClose(projectOntoSimplex(Float64Array.of(7)), [1]);
});

test('projection rejects empty and non-finite input', () => {
  assert.throws(() => projectOntoSimplex(new Float64Array(0)));
  assert.throws(() => projectOntoSimplex(Float64Array.of(0.5, Number.NaN)));
});

test('projection of random points lies on the simplex and satisfies the projection inequality', () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 500; trial++) {
    const k = 1 + rng.int(10);
    const v = Float64Array.from({ length: k }, () => 6 * (rng.next() - 0.5));
    const w = projectOntoSimplex(v);
    assert.ok(simplexViolation(w) < 1e-12, `violation ${simplexViolation(w)}`);
    // w is the projection iff (v - w).(u - w) <= 0 for every simplex point u; the left side is
    // linear in u, so checking the vertices suffices.
    for (let vertex = 0; vertex < k; vertex++) {
      let inner = 0;
      for (let i = 0; i < k; i++) inner += ((v[i] as number) - (w[i] as number)) * ((i === vertex ? 1 : 0) - (w[i] as number));
      assert.ok(inner <= 1e-12, `vertex ${vertex}: ${inner}`);
    }
  }
});

test('projection is the closest point of a fine simplex grid (K = 3)', () => {
  const rng = new Rng(12);
  const steps = 200;
  for (let trial = 0; trial < 20; trial++) {
    const v = Float64Array.from({ length: 3 }, () => 3 * (rng.next() - 0.3));
    const w = projectOntoSimplex(v);
    const projected = squaredDistance(v, w);
    let gridBest = Infinity;
    let gridArgmin: Float64Array = new Float64Array(3);
    for (const u of simplexGrid3(steps)) {
      const d = squaredDistance(v, u);
      if (d < gridBest) {
        gridBest = d;
        gridArgmin = u;
      }
    }
    assert.ok(projected <= gridBest + 1e-15, `projection ${projected} vs grid ${gridBest}`);
    assert.ok(Math.sqrt(squaredDistance(w, gridArgmin)) <= 2 / steps, 'grid minimiser is next to the projection');
  }
});

test('simplexViolation measures the worst constraint', () => {
  assert.equal(simplexViolation([0.5, 0.5]), 0);
  assert.ok(Math.abs(simplexViolation([0.7, 0.5]) - 0.2) < 1e-15);
  assert.equal(simplexViolation([1.25, -0.25]), 0.25);
});
