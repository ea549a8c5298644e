import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initEngine } from '../../src/model/engine/backend.js';
import { buildNetwork } from '../../src/model/network.js';
import { loadModel } from '../../src/model/io.js';
import { predictProbabilities } from '../../src/model/predict.js';
import { trainNetwork, type LabelledInputs, type TrainConfig } from '../../src/train/trainer.js';
import { preprocessFaces } from '../../src/data/preprocess.js';
import { syntheticFaces } from '../../src/data/synthetic.js';
import { withTempDir } from '../helpers/fixtures.js';

await initEngine({ backend: 'wasm' });

const trainSet = syntheticFaces(56, 1);
const evalSet = syntheticFaces(21, 2);
const train: LabelledInputs = { inputs: preprocessFaces(trainSet), labels: trainSet.labels };
const evaluation: LabelledInputs = { inputs: preprocessFaces(evalSet), labels: evalSet.labels };
const config: TrainConfig = { seed: 3, epochs: 2, batchSize: 16, lr: 0.005, minLr: 0.0001, perturb: true, selectBy: 'eval' };
const metadata = { network: { architecture: 'yu-zhang-2015' as const, dropout: 0.5, initSeed: 3 } };

async function weightsOf(dir: string): Promise<Float32Array[]> {
  const { model } = await loadModel(dir);
  const values = model.getWeights().map((w) => w.dataSync() as Float32Array);
  model.dispose();
  return values;
}

test('the same seed gives the same run', async () => {
  await withTempDir(async (dir) => {
    const a = await trainNetwork(buildNetwork({ initSeed: 3 }), train, evaluation, { ...config, epochs: 1 }, { outDir: join(dir, 'a'), resume: false, metadata, quiet: true, log: () => {} });
    const b = await trainNetwork(buildNetwork({ initSeed: 3 }), train, evaluation, { ...config, epochs: 1 }, { outDir: join(dir, 'b'), resume: false, metadata, quiet: true, log: () => {} });
    assert.equal(a.history[0]!.trainLoss, b.history[0]!.trainLoss);
    assert.deepEqual(await weightsOf(join(dir, 'a', 'checkpoint', 'epoch-0001', 'model')), await weightsOf(join(dir, 'b', 'checkpoint', 'epoch-0001', 'model')));
  });
});

test('resuming from a checkpoint continues exactly as an uninterrupted run', async () => {
  await withTempDir(async (dir) => {
    const quiet = { resume: false, metadata, quiet: true, log: () => {} };
    const straight = await trainNetwork(buildNetwork({ initSeed: 3 }), train, evaluation, config, { ...quiet, outDir: join(dir, 'straight') });
    await trainNetwork(buildNetwork({ initSeed: 3 }), train, evaluation, { ...config, epochs: 1 }, { ...quiet, outDir: join(dir, 'split') });
    const resumed = await trainNetwork(buildNetwork({ initSeed: 99 }), train, evaluation, config, { ...quiet, resume: true, outDir: join(dir, 'split') });
    assert.deepEqual(resumed.history.map((m) => m.trainLoss), straight.history.map((m) => m.trainLoss));
    assert.deepEqual(await weightsOf(join(dir, 'split', 'checkpoint', 'epoch-0002', 'model')), await weightsOf(join(dir, 'straight', 'checkpoint', 'epoch-0002', 'model')));
    const lines = (await readFile(join(dir, 'split', 'metrics.jsonl'), 'utf8')).trim().split('\n');
    assert.deepEqual(lines.map((l) => JSON.parse(l).epoch), [1, 2]);
    assert.match(await readFile(join(dir, 'split', 'curve.svg'), 'utf8'), /^<svg/);
  });
});

test('a saved model reloads to identical predictions', async () => {
  await withTempDir(async (dir) => {
    const model = buildNetwork({ initSeed: 5 });
    const summary = await trainNetwork(model, train, evaluation, { ...config, epochs: 1 }, { outDir: dir, resume: false, metadata, quiet: true, log: () => {} });
    const { model: reloaded, metadata: saved } = await loadModel(summary.modelDir);
    assert.equal((saved['network'] as { initSeed: number }).initSeed, 3);
    assert.deepEqual(predictProbabilities(reloaded, evaluation.inputs), predictProbabilities(model, evaluation.inputs));
    assert.equal(tf.getBackend(), 'wasm');
  });
});
