import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accuracy, argmaxRows, majorityVote, plainAverage, weightedAverage } from '../../src/ensemble/combine.js';

/** One sample's 7 class probabilities. */
function row(...values: number[]): Float32Array {
  return Float32Array.from([...values, ...new Array<number>(7 - values.length).fill(0)]);
}

function concat(...rows: Float32Array[]): Float32Array {
  const out = new Float32Array(rows.length * 7);
  rows.forEach((r, i) => out.set(r, i * 7));
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: readonly number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => assert.ok(Math.abs((actual[i] as number) - e) <= tolerance, `entry ${i}: ${actual[i]} vs ${e}`));
}

const memberA = concat(row(0.6, 0.4), row(0, 0, 1));
const memberB = concat(row(0.2, 0.8), row(0, 0.5, 0.5));

test('weighted and plain averages', () => {
  assertClose(weightedAverage([memberA, memberB], [0.75, 0.25]), [...row(0.5, 0.5), ...row(0, 0.125, 0.875)]);
  assertClose(plainAverage([memberA, memberB]), [...row(0.4, 0.6), ...row(0, 0.25, 0.75)]);
  assert.throws(() => weightedAverage([memberA, memberB], [1]));
  assert.throws(() => weightedAverage([memberA, new Float32Array(7)], [0.5, 0.5]));
});

test('majority vote counts argmax votes and normalises them', () => {
  const memberC = concat(row(0.1, 0.9), row(0, 0, 0.9, 0.1));
  const votes = majorityVote([memberA, memberB, memberC]);
  // Sample 0: votes class 0, 1, 1. Sample 1: votes class 2, 1 (tie in B goes to index 1), 2.
  assert.deepEqual(Array.from(argmaxRows(votes)), [1, 2]);
  assertClose(votes.subarray(0, 7), [1 / 3, 2 / 3, 0, 0, 0, 0, 0], 1e-2);
  for (let i = 0; i < 2; i++) {
    const total = votes.subarray(i * 7, i * 7 + 7).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 1) < 1e-6);
  }
});

test('majority vote breaks ties by summed probability', () => {
  // One vote each for classes 0 and 1; class 1 has the larger summed probability (0.45 + 0.55).
  const first = concat(row(0.55, 0.45));
  const second = concat(row(0.3, 0.55, 0.15));
  assert.deepEqual(Array.from(argmaxRows(majorityVote([first, second]))), [1]);
  // And the tie-break never overturns a vote count.
  const third = concat(row(0.51, 0.49));
  assert.deepEqual(Array.from(argmaxRows(majorityVote([first, second, third]))), [0]);
});

test('argmaxRows takes the first index on ties', () => {
  assert.deepEqual(Array.from(argmaxRows(concat(row(0.2, 0.4, 0.4), row(1 / 7, 1 / 7, 1 / 7, 1 / 7, 1 / 7, 1 / 7, 1 / 7)))), [1, 0]);
  assert.deepEqual(Array.from(argmaxRows(Float64Array.from(row(0, 0, 0, 0, 0, 0, 1)))), [6]);
  assert.throws(() => argmaxRows(new Float32Array(8)));
});

test('accuracy counts matches', () => {
  assert.equal(accuracy(Int32Array.of(0, 1, 2, 3), Int8Array.of(0, 1, 0, 3)), 0.75);
  assert.throws(() => accuracy(Int32Array.of(0), Int8Array.of(0, 1)));
  assert.throws(() => accuracy(new Int32Array(0), new Int8Array(0)));
});
