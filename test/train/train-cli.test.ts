import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fer, ferSpawn } from '../helpers/cli.js';
import { withTempDir } from '../helpers/fixtures.js';
import { writeSyntheticCsv } from '../helpers/synthetic-csv.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('fer train survives kill -9 and --resume finishes the run, losing at most one epoch', async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, 'fer.csv');
    await writeSyntheticCsv(data, 32, 14);
    const out = join(dir, 'run');
    const args = ['train', '--data', data, '--out', out, '--epochs', '3', '--batch', '16', '--seed', '4', '--quiet', '--backend', 'wasm'];
    const child = ferSpawn(...args);
    const latest = join(out, 'checkpoint', 'latest.json');
    const deadline = Date.now() + 120_000;
    while (!existsSync(latest) && Date.now() < deadline) await sleep(100);
    assert.ok(existsSync(latest), 'a checkpoint appears after the first epoch');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const killedAt = JSON.parse(await readFile(latest, 'utf8')).epoch as number;
    assert.ok(killedAt >= 1 && killedAt < 3, `killed after epoch ${killedAt}`);

    const resumed = await fer(...args, '--resume');
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`resuming .* after epoch ${killedAt}`));
    const epochs = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).epoch);
    assert.deepEqual(epochs, [1, 2, 3]);
    assert.ok(existsSync(join(out, 'model', 'model.json')));
  });
});

test('fer evaluate prints accuracy, per-class recall and the confusion matrix, and writes the report', async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, 'fer.csv');
    await writeSyntheticCsv(data, 16, 14);
    const out = join(dir, 'run');
    const trained = await fer('train', '--data', data, '--out', out, '--epochs', '1', '--batch', '16', '--quiet', '--backend', 'wasm');
    assert.equal(trained.code, 0, trained.stderr);
    const result = await fer('evaluate', '--model', join(out, 'model'), '--data', data, '--split', 'PublicTest', '--voting', '--backend', 'wasm');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /network\s+14\s+\d+\.\d\d/);
    assert.match(result.stdout, /network, voting 14\s+14/);
    assert.match(result.stdout, /true \\ predicted\s+Angry\s+Disgust/);
    const report = JSON.parse(await readFile(join(out, 'model', 'eval-PublicTest', 'evaluation.json'), 'utf8'));
    assert.equal(report.evaluations.length, 2);
    assert.equal(report.evaluations[0].confusion.flat().reduce((a: number, b: number) => a + b, 0), 14);
    assert.match(await readFile(join(out, 'model', 'eval-PublicTest', 'report.md'), 'utf8'), /^# /);
  });
});
