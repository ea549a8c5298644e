/**
 * The network on the torch backend: training steps as the trainer takes them (Adagrad,
 * softmax cross-entropy, dropout) against cpu, the project network's inference against
 * cpu, no cpu fallback on the network's path, and memory flat over many steps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ints, onBoth, skip, uniform } from './harness.js';
import { buildNetwork, reseedNetwork } from '../../src/model/network.js';
import { SeededDropout } from '../../src/model/seeded-dropout.js';
import { StochasticPooling2D } from '../../src/model/stochastic-pooling.js';
import { fallbacksUsed, type TorchBackend } from '../../src/model/engine/torch/index.js';

/**
 * The project network's layer sequence with fewer filters and units, so that the cpu
 * reference trains it in seconds; `pool: 'max'` swaps in the deterministic stand-in.
 */
function narrowNetwork(pool: 'max' | 'stochastic'): tfl.LayersModel {
  let seed = 100;
  const init = () => ({ kernelInitializer: tfl.initializers.glorotUniform({ seed: seed++ }), biasInitializer: 'zeros' as const });
  const conv = (filters: number, kernelSize: number, extra: object = {}) =>
    tfl.layers.conv2d({ filters, kernelSize, padding: 'same', activation: 'relu', ...init(), ...extra });
  const poolLayer = () =>
    pool === 'max' ? tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }) : new StochasticPooling2D({ poolSize: 3, strides: 2 });
  return tfl.sequential({
    layers: [
      conv(8, 5, { inputShape: [48, 48, 1] }), poolLayer(),
      conv(8, 3), conv(16, 3), poolLayer(),
      conv(16, 3), conv(16, 3), poolLayer(),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 32, activation: 'relu', ...init() }), new SeededDropout({ rate: 0.5 }),
      tfl.layers.dense({ units: 32, activation: 'relu', ...init() }), new SeededDropout({ rate: 0.5 }),
      tfl.layers.dense({ units: 7, ...init() }),
    ],
  });
}

/** One step as src/train/trainer.ts takes it; returns the loss (kept) and accuracy hits. */
function trainStep(model: tfl.LayersModel, optimizer: tf.Optimizer, x: tf.Tensor, labels: tf.Tensor1D, seed: number): tf.Scalar {
  reseedNetwork(model, seed);
  return optimizer.minimize(
    () => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 7), model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
    true,
  ) as tf.Scalar;
}

test('three training steps of the network (max-pool stand-in, dropout, Adagrad) match cpu', { skip }, async (t) => {
  const err = await onBoth(() => {
    const model = narrowNetwork('max');
    const optimizer = tf.train.adagrad(0.05);
    const x = tf.relu(uniform([4, 48, 48, 1], 1));
    const labels = ints([4], 2, 0, 7) as tf.Tensor1D;
    const losses = [1, 2, 3].map((step) => trainStep(model, optimizer, x, labels, step));
    const weights = model.getWeights().map((w) => tf.clone(w));
    optimizer.dispose();
    model.dispose();
    return [...losses, ...weights];
  }, 1e-4);
  t.diagnostic(`losses and all 16 weight tensors after 3 steps: max scaled error ${err.toExponential(2)}`);
});

test('the project network (stochastic pooling) predicts as on cpu', { skip }, async (t) => {
  const err = await onBoth(() => {
    const model = buildNetwork({ initSeed: 3 });
    const y = model.predict(tf.relu(uniform([2, 48, 48, 1], 3))) as tf.Tensor;
    model.dispose();
    return tf.softmax(y);
  }, 1e-5);
  t.diagnostic(`softmax outputs: max scaled error ${err.toExponential(2)}`);
});

test('the project network trains on torch with native kernels only', { skip }, async () => {
  await tf.setBackend('torch');
  const before = fallbacksUsed();
  const model = buildNetwork({ initSeed: 4 });
  const optimizer = tf.train.adagrad(0.01);
  const x = tf.relu(uniform([16, 48, 48, 1], 4));
  const labels = ints([16], 5, 0, 7) as tf.Tensor1D;
  const losses: number[] = [];
  for (let step = 0; step < 5; step++) {
    const loss = trainStep(model, optimizer, x, labels, step);
    losses.push(loss.dataSync()[0]!);
    loss.dispose();
  }
  tf.dispose(tf.argMax(model.predict(x, { batchSize: 16 }) as tf.Tensor, 1));
  assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
  assert.ok(losses[4]! < losses[0]!, `the loss does not fall on one repeated batch: ${losses}`);
  assert.deepEqual(fallbacksUsed(), before, 'kernels that ran on the cpu fallback');
  tf.dispose([x, labels]);
  optimizer.dispose();
  model.dispose();
});

test('memory is flat over 1000 training steps: tensors, addon slots and RSS', { skip }, async (t) => {
  await tf.setBackend('torch');
  const backend = tf.backend() as TorchBackend;
  const model = narrowNetwork('stochastic');
  const optimizer = tf.train.adagrad(0.01);
  const x = tf.relu(uniform([4, 48, 48, 1], 6));
  const labels = ints([4], 7, 0, 7) as tf.Tensor1D;
  let tensors = 0;
  let rss = 0;
  for (let step = 1; step <= 1000; step++) {
    const loss = trainStep(model, optimizer, x, labels, step);
    loss.dataSync();
    loss.dispose();
    assert.equal(backend.liveTensors(), backend.numDataIds(), 'addon slots and tfjs data ids');
    if (step === 100) {
      tensors = tf.memory().numTensors;
      rss = process.memoryUsage().rss;
    }
  }
  const grown = (process.memoryUsage().rss - rss) / 2 ** 20;
  t.diagnostic(`tensors ${tensors} -> ${tf.memory().numTensors}; RSS +${grown.toFixed(1)} MiB from step 100 to 1000`);
  assert.equal(tf.memory().numTensors, tensors);
  assert.ok(grown < 16, `RSS grew ${grown.toFixed(1)} MiB over 900 steps`);
  tf.dispose([x, labels]);
  optimizer.dispose();
  model.dispose();
});
