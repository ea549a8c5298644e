/**
 * The native StochasticPool2D / StochasticPool2DGrad kernels: inference and the gradient
 * against the composite kernels cpu runs (src/model/stochastic-pooling.ts); the training
 * draw by its invariants and its distribution, since the two backends draw differently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { evaluate, onBoth, skip, uniform } from './harness.js';
import { STOCHASTIC_POOL, STOCHASTIC_POOL_GRAD, pooledSize, stochasticPool2d } from '../../src/model/stochastic-pooling.js';

/** Post-ReLU activations: about half zeros, and a band of all-zero windows. */
function activations(shape: number[], seed: number): tf.Tensor4D {
  const [n, h, w, c] = shape as [number, number, number, number];
  const x = tf.relu(uniform(shape, seed));
  const band = tf.concat([tf.zeros([n, 4, w, c]), tf.ones([n, h - 4, w, c])], 1);
  return tf.mul(x, band) as tf.Tensor4D;
}

function pool(x: tf.Tensor4D, training: boolean, seed = 5): tf.Tensor[] {
  return tf.engine().runKernel(STOCHASTIC_POOL, { x }, { poolSize: 3, strides: 2, training, seed }) as tf.Tensor[];
}

const shapes = [
  [2, 48, 48, 8],
  [2, 12, 12, 16],
  [3, 13, 11, 5],
];

for (const shape of shapes) {
  test(`inference (probabilistic weighting) matches the cpu composite, x ${shape}`, { skip }, async (t) => {
    // argIndex is unused in inference, and the composite leaves it zero: compare y only.
    const err = await onBoth(() => pool(activations(shape, 1), false)[0]!, 1e-6);
    t.diagnostic(`max scaled error ${err.toExponential(2)}`);
  });

  test(`training draw picks one element of each window, x ${shape}`, { skip }, async () => {
    const [x, y, arg] = await evaluate('torch', () => {
      const v = activations(shape, 2);
      return [v, ...pool(v, true)];
    });
    const [n, h, w, c] = shape as [number, number, number, number];
    const ho = pooledSize(h, 3, 2);
    const wo = pooledSize(w, 3, 2);
    assert.deepEqual(y!.shape, [n, ho, wo, c]);
    assert.equal(arg!.dtype, 'int32');
    for (let i = 0; i < y!.values.length; i++) {
      const ch = i % c;
      const oc = Math.floor(i / c) % wo;
      const or = Math.floor(i / (c * wo)) % ho;
      const b = Math.floor(i / (c * wo * ho));
      const a = arg!.values[i]!;
      assert.equal(a % c, ch, 'same channel');
      const col = Math.floor(a / c) % w;
      const row = Math.floor(a / (c * w)) % h;
      assert.equal(Math.floor(a / (c * w * h)), b, 'same image');
      assert.ok(row >= or * 2 && row < or * 2 + 3 && col >= oc * 2 && col < oc * 2 + 3, `element ${i}: index outside its window`);
      assert.equal(y!.values[i], x!.values[a], 'y is the selected input');
      let sum = 0;
      for (let r = or * 2; r < Math.min(h, or * 2 + 3); r++) for (let q = oc * 2; q < Math.min(w, oc * 2 + 3); q++) sum += x!.values[((b * h + r) * w + q) * c + ch]!;
      if (sum > 0) assert.ok(y!.values[i]! > 0, 'a zero element never wins a non-zero window');
      else assert.deepEqual([row, col], [or * 2, oc * 2], 'an all-zero window reports its top-left element');
    }
  });
}

test('training draw: deterministic per seed, different across seeds', { skip }, async () => {
  const run = (seed: number) => evaluate('torch', () => pool(activations([2, 24, 24, 8], 3), true, seed)[1]!);
  const [a] = await run(11);
  const [b] = await run(11);
  const [c] = await run(12);
  assert.deepEqual(Array.from(a!.values), Array.from(b!.values));
  assert.notDeepEqual(Array.from(a!.values), Array.from(c!.values));
});

test('training draw: each element wins with probability a_i / sum(a)', { skip }, async (t) => {
  // One 3x3 window repeated over 60000 channels; the weights include a zero.
  const weights = [1, 2, 3, 0, 4, 5, 6, 7, 8];
  const channels = 60000;
  const values = new Float32Array(9 * channels);
  weights.forEach((v, tap) => values.fill(v, tap * channels, (tap + 1) * channels));
  const [arg] = await evaluate('torch', () => pool(tf.tensor4d(values, [1, 3, 3, channels]), true, 99)[1]!);
  const counts = new Array<number>(9).fill(0);
  for (let i = 0; i < channels; i++) counts[Math.floor(arg!.values[i]! / channels)]!++;
  const total = weights.reduce((a, b) => a + b, 0);
  weights.forEach((v, tap) => {
    const p = v / total;
    const sigma = Math.sqrt(channels * p * (1 - p));
    t.diagnostic(`tap ${tap}: ${counts[tap]} draws, expected ${(channels * p).toFixed(0)}`);
    assert.ok(Math.abs(counts[tap]! - channels * p) <= 5 * sigma + 1e-9, `tap ${tap}: ${counts[tap]} draws, expected ${channels * p}`);
  });
});

test('gradient: scatter-add of dy at argIndex matches the cpu composite, overlaps included', { skip }, async (t) => {
  const shape = [2, 13, 13, 6];
  const [argInfo] = await evaluate('torch', () => pool(activations(shape, 4), true)[1]!);
  const argValues = argInfo!.values as Int32Array;
  const err = await onBoth(() => {
    const arg = tf.tensor(argValues, argInfo!.shape, 'int32');
    const dy = uniform(argInfo!.shape, 5);
    return tf.engine().runKernel(STOCHASTIC_POOL_GRAD, { dy, argIndex: arg }, { inputShape: shape }) as tf.Tensor;
  }, 1e-6);
  t.diagnostic(`max scaled error ${err.toExponential(2)}`);
});

test('gradient through the layer op routes dy to the drawn elements', { skip }, async () => {
  await tf.setBackend('torch');
  tf.tidy(() => {
    const x = activations([2, 12, 12, 4], 6);
    const attrs = { poolSize: 3, strides: 2, training: true, seed: 21 };
    const dx = tf.grad((v: tf.Tensor) => tf.sum(stochasticPool2d(v as tf.Tensor4D, attrs)))(x);
    const arg = pool(x, true, 21)[1]!.dataSync();
    const expected = new Float32Array(x.size);
    for (const a of arg) expected[a]! += 1;
    assert.deepEqual(Array.from(dx.dataSync()), Array.from(expected));
  });
});
