import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { initEngine } from '../../src/model/engine/backend.js';
import { loadModel } from '../../src/model/io.js';
import { syntheticFaces } from '../../src/data/synthetic.js';
import { EMOTIONS } from '../../src/data/labels.js';
import { fer } from '../helpers/cli.js';
import { withTempDir } from '../helpers/fixtures.js';
import { writeSyntheticCsv } from '../helpers/synthetic-csv.js';

await initEngine({ backend: 'wasm' });

/** An SFEW-like ImageFolder (train/val, class folders) of synthetic 96x96 PNG faces. */
async function writeImageFolder(root: string): Promise<void> {
  for (const [split, count, seed] of [['train', 14, 5], ['val', 7, 6]] as const) {
    const set = syntheticFaces(count, seed);
    for (let i = 0; i < count; i++) {
      const dir = join(root, split, EMOTIONS[set.labels[i]!]!);
      await mkdir(dir, { recursive: true });
      const png = await sharp(Buffer.from(set.pixels.subarray(i * 2304, (i + 1) * 2304)), { raw: { width: 48, height: 48, channels: 1 } }).resize(96, 96).png().toBuffer();
      await writeFile(join(dir, `${i}.png`), png);
    }
  }
}

test('fer finetune trains only the FC layers on an image folder and reports val accuracy before and after', async () => {
  await withTempDir(async (dir) => {
    const csv = join(dir, 'fer.csv');
    await writeSyntheticCsv(csv, 14, 7);
    const pre = join(dir, 'pre');
    const trained = await fer('train', '--data', csv, '--out', pre, '--epochs', '1', '--batch', '14', '--quiet', '--backend', 'wasm');
    assert.equal(trained.code, 0, trained.stderr);
    const folder = join(dir, 'sfew');
    await writeImageFolder(folder);
    const out = join(dir, 'ft');
    const tuned = await fer('finetune', '--model', join(pre, 'model'), '--data', folder, '--out', out, '--epochs', '2', '--batch', '7', '--quiet', '--backend', 'wasm');
    assert.equal(tuned.code, 0, tuned.stderr);
    assert.match(tuned.stdout, /before fine-tuning: val accuracy \d+\.\d\d% \(frozen: conv1, conv2, conv3, conv4, conv5\)/);
    assert.match(tuned.stdout, /after fine-tuning: val accuracy \d+\.\d\d% at epoch \d/);

    const { model: before } = await loadModel(join(pre, 'model'));
    const { model: after } = await loadModel(join(out, 'checkpoint', 'epoch-0002', 'model'));
    for (const layer of before.layers) {
      const a = layer.getWeights().map((w) => [...w.dataSync()]);
      const b = after.getLayer(layer.name).getWeights().map((w) => [...w.dataSync()]);
      if (layer.name.startsWith('conv')) assert.deepEqual(b, a, `${layer.name} is frozen`);
      else if (layer.name.startsWith('fc') || layer.name === 'logits') assert.notDeepEqual(b, a, `${layer.name} is trained`);
    }
  });
});
