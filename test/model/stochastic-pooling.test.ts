import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { StochasticPooling2D, stochasticPool2d } from '../../src/model/stochastic-pooling.js';

await tf.setBackend('cpu');

/** One 3x3 window (H = W = 3 gives a 1x1 output) holding `values`. */
const window = (values: number[]): tf.Tensor4D => tf.tensor4d(values, [1, 3, 3, 1]);

test('inference is probabilistic weighting sum(a^2)/sum(a), and 0 for an all-zero window', () => {
  const values = [1, 0, 2, 0, 0, 0, 3, 0, 4];
  const y = stochasticPool2d(window(values), { poolSize: 3, strides: 2, training: false, seed: 1 });
  assert.ok(Math.abs(y.dataSync()[0]! - (1 + 4 + 9 + 16) / 10) < 1e-6);
  const zero = stochasticPool2d(window(new Array(9).fill(0)), { poolSize: 3, strides: 2, training: false, seed: 1 });
  assert.equal(zero.dataSync()[0], 0);
});

test('ceil-mode output sizes 48 -> 24 -> 12 -> 6, with the far edge zero-padded', () => {
  let x: tf.Tensor4D = tf.ones([2, 48, 48, 3]);
  for (const expected of [24, 12, 6]) {
    x = stochasticPool2d(x, { poolSize: 3, strides: 2, training: false, seed: 0 });
    assert.deepEqual(x.shape, [2, expected, expected, 3]);
  }
  // The last window of a 4x4 map covers row/column 3 and the zero pad: (1*6)/(1*6) = 1 still.
  const edge = stochasticPool2d(tf.ones([1, 4, 4, 1]), { poolSize: 3, strides: 2, training: false, seed: 0 });
  assert.deepEqual([...edge.dataSync()], [1, 1, 1, 1]);
});

test('training samples each location with probability a_i / sum(a)', () => {
  const values = [1, 0, 2, 0, 0, 0, 3, 0, 4];
  const trials = 4000;
  // Many independent windows at once: a batch of identical windows.
  const x = tf.tile(window(values), [trials, 1, 1, 1]) as tf.Tensor4D;
  const y = stochasticPool2d(x, { poolSize: 3, strides: 2, training: true, seed: 7 }).dataSync();
  for (const v of [1, 2, 3, 4]) {
    const freq = y.filter((s) => s === v).length / trials;
    assert.ok(Math.abs(freq - v / 10) < 0.03, `value ${v}: frequency ${freq}, expected ${v / 10}`);
  }
  assert.ok(y.every((s) => s !== 0), 'a zero location is never drawn when the window has mass');
});

test('training is reproducible from the seed and differs across seeds', () => {
  const x = tf.randomUniform([4, 12, 12, 8], 0, 1, 'float32', 3) as tf.Tensor4D;
  const run = (seed: number): number[] => [...stochasticPool2d(x, { poolSize: 3, strides: 2, training: true, seed }).dataSync()];
  assert.deepEqual(run(11), run(11));
  assert.notDeepEqual(run(11), run(12));
});

test('the gradient flows only to the sampled locations, summed where windows overlap', () => {
  const x = tf.randomUniform([2, 5, 5, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
  const dy = tf.randomUniform([2, 2, 2, 2], 0, 1, 'float32', 6) as tf.Tensor4D;
  const attrs = { poolSize: 3, strides: 2, training: true, seed: 21 };
  const y = stochasticPool2d(x, attrs).dataSync();
  const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(stochasticPool2d(input as tf.Tensor4D, attrs), dy)))(x).dataSync();
  const xs = x.dataSync();
  const dys = dy.dataSync();
  // Rebuild dx by hand: find, for every output, the location in its window holding the sampled value.
  const expected = new Float32Array(xs.length);
  for (let n = 0; n < 2; n++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let c = 0; c < 2; c++) {
    const out = ((n * 2 + i) * 2 + j) * 2 + c;
    let found = -1;
    for (let di = 0; di < 3; di++) for (let dj = 0; dj < 3; dj++) {
      const r = i * 2 + di;
      const col = j * 2 + dj;
      if (r < 5 && col < 5 && xs[((n * 5 + r) * 5 + col) * 2 + c] === y[out]) found = ((n * 5 + r) * 5 + col) * 2 + c;
    }
    assert.ok(found >= 0, 'sampled value comes from the window');
    expected[found]! += dys[out]!;
  }
  assert.deepEqual([...dx].map((v) => +v.toFixed(6)), [...expected].map((v) => +v.toFixed(6)));
});

test('the layer uses training mode only when asked, and serialises', () => {
  const model = tfl.sequential({ layers: [new StochasticPooling2D({ inputShape: [6, 6, 1], poolSize: 3, strides: 2 })] });
  const x = tf.randomUniform([1, 6, 6, 1], 0, 1, 'float32', 9);
  const a = (model.predict(x) as tf.Tensor).dataSync();
  const b = (model.predict(x) as tf.Tensor).dataSync();
  assert.deepEqual([...a], [...b], 'inference is deterministic');
  assert.deepEqual(model.outputs[0]!.shape, [null, 3, 3, 1]);
  const restored = tfl.models.modelFromJSON({ modelTopology: JSON.parse(model.toJSON() as string) } as never);
  return restored.then((m) => {
    const layer = m.layers[0] as StochasticPooling2D;
    assert.ok(layer instanceof StochasticPooling2D);
    assert.equal(layer.poolSize, 3);
    assert.equal(layer.strides, 2);
  });
});

test('no tensors leak from a training step through the pooling op', () => {
  const x = tf.randomUniform([2, 8, 8, 4]) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const g = tf.grad((input: tf.Tensor) => tf.sum(stochasticPool2d(input as tf.Tensor4D, { poolSize: 3, strides: 2, training: true, seed: i })))(x);
    g.dispose();
    tf.tidy(() => {
      stochasticPool2d(x, { poolSize: 3, strides: 2, training: false, seed: 0 });
    });
  }
  assert.equal(tf.memory().numTensors, before);
});

test('on wasm: the same results as cpu, and all-zero windows send their gradient to the top-left', async () => {
  const { initEngine } = await import('../../src/model/engine/backend.js');
  const x = tf.relu(tf.randomNormal([2, 9, 9, 3], 0, 1, 'float32', 4)) as tf.Tensor4D;
  const values = x.arraySync();
  const attrs = { poolSize: 3, strides: 2, training: true, seed: 8 };
  const onCpu = { inference: [...stochasticPool2d(x, { ...attrs, training: false }).dataSync()], training: [...stochasticPool2d(x, attrs).dataSync()] };
  await initEngine({ backend: 'wasm' });
  try {
    const xw = tf.tensor4d(values);
    const inference = [...stochasticPool2d(xw, { ...attrs, training: false }).dataSync()];
    inference.forEach((v, i) => assert.ok(Math.abs(v - onCpu.inference[i]!) < 1e-5));
    assert.deepEqual([...stochasticPool2d(xw, attrs).dataSync()], onCpu.training);
    const zeros = tf.zeros([1, 3, 3, 1]) as tf.Tensor4D;
    const dx = tf.grad((input: tf.Tensor) => tf.sum(stochasticPool2d(input as tf.Tensor4D, attrs)))(zeros).dataSync();
    assert.deepEqual([...dx], [1, 0, 0, 0, 0, 0, 0, 0, 0]);
  } finally {
    await tf.setBackend('cpu');
  }
});
