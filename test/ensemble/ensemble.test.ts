import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initEngine } from '../../src/model/engine/backend.js';
import { buildNetwork } from '../../src/model/network.js';
import { saveModel } from '../../src/model/io.js';
import { predictProbabilities } from '../../src/model/predict.js';
import { preprocessFaces } from '../../src/data/preprocess.js';
import { syntheticFaces } from '../../src/data/synthetic.js';
import { weightedAverage } from '../../src/ensemble/combine.js';
import { ENSEMBLE_JSON, loadEnsemble, type EnsembleFile } from '../../src/ensemble/ensemble.js';
import { fer } from '../helpers/cli.js';
import { withTempDir } from '../helpers/fixtures.js';
import { writeSyntheticCsv } from '../helpers/synthetic-csv.js';

await initEngine({ backend: 'wasm' });
const faces = preprocessFaces(syntheticFaces(9, 3));

async function writeMembers(dir: string, seeds: number[]): Promise<void> {
  for (const [k, seed] of seeds.entries()) {
    const model = buildNetwork({ initSeed: seed });
    await saveModel(model, join(dir, `member-${k + 1}`, 'model'), { network: { architecture: 'yu-zhang-2015', dropout: 0.5, initSeed: seed } });
    model.dispose();
  }
}

const file = (weights: number[]): EnsembleFile => ({
  format: 'fer-ensemble/1',
  members: weights.map((_, k) => `member-${k + 1}/model`),
  method: 'hinge',
  learned: { hinge: { weights, lambda: 1, gamma: 0.3, objective: 0, converged: true, optimalityGap: 0, selectionAccuracy: 0.5 } },
  fittedWithVoting: false,
  fit: { data: 'x', split: 'Training', faces: 1, sha256: '0' },
  selection: { data: 'x', split: 'PublicTest', faces: 1, sha256: '0' },
});

test('an ensemble folder loads as one model whose predict is the weighted member average', async () => {
  await withTempDir(async (dir) => {
    await writeMembers(dir, [1, 2, 3]);
    await writeFile(join(dir, ENSEMBLE_JSON), JSON.stringify(file([0.5, 0.3, 0.2])));
    const ensemble = await loadEnsemble(dir);
    assert.equal(ensemble.members.length, 3);
    const members = ensemble.members.map((m) => predictProbabilities(m, faces));
    const combined = ensemble.predict(faces);
    assert.deepEqual(combined, weightedAverage(members, [0.5, 0.3, 0.2]));
    for (let i = 0; i < 9; i++) {
      const row = combined.subarray(i * 7, i * 7 + 7).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(row - 1) < 1e-5, 'probabilities sum to 1');
    }
    assert.throws(() => ensemble.predict(faces, { method: 'loglik' }), /ensemble\.json: no loglik weights/);
    assert.deepEqual(ensemble.availableMethods(), ['average', 'vote', 'hinge']);
    ensemble.dispose();
  });
});

test('a plain model folder loads as an ensemble of one; a folder with neither is a clear error', async () => {
  await withTempDir(async (dir) => {
    await writeMembers(dir, [4]);
    const single = await loadEnsemble(join(dir, 'member-1', 'model'));
    assert.equal(single.members.length, 1);
    assert.equal(single.predict(faces).length, 9 * 7);
    single.dispose();
    await assert.rejects(loadEnsemble(dir), /neither ensemble\.json nor model\.json/);
  });
});

test('fer ensemble train, fit and evaluate: K members, both objectives, one comparison table', async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, 'fer.csv');
    await writeSyntheticCsv(data, 14, 14);
    const out = join(dir, 'ens');
    const common = ['--data', data, '--backend', 'wasm'];
    const trained = await fer('ensemble', 'train', '--out', out, '--members', '3', '--epochs', '1', '--batch', '14', '--quiet', ...common);
    assert.equal(trained.code, 0, trained.stderr);
    for (const k of [1, 2, 3]) assert.ok(existsSync(join(out, `member-${k}`, 'model', 'model.json')));
    const again = await fer('ensemble', 'train', '--out', out, '--members', '3', '--epochs', '1', '--quiet', ...common);
    assert.match(again.stderr, /member 1: complete \(1 epochs\), skipped/);

    const fitted = await fer('ensemble', 'fit', '--dir', out, ...common);
    assert.equal(fitted.code, 0, fitted.stderr);
    const saved = JSON.parse(await readFile(join(out, ENSEMBLE_JSON), 'utf8')) as EnsembleFile;
    for (const objective of ['loglik', 'hinge'] as const) {
      const w = saved.learned[objective]!.weights;
      assert.equal(w.length, 3);
      assert.ok(w.every((v) => v >= 0) && Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    }
    assert.equal(saved.learned.hinge!.gamma !== undefined, true);

    const evaluated = await fer('evaluate', '--model', out, ...common);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    for (const row of ['member 1', 'member 2', 'member 3', 'average', 'vote', 'loglik', 'hinge']) assert.match(evaluated.stdout, new RegExp(`^${row}\\s+14\\s`, 'm'));
  });
});
