import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { FerModel } from '../../src/api.js';
import { EMOTIONS } from '../../src/data/labels.js';
import { buildNetwork } from '../../src/model/network.js';
import { saveModel } from '../../src/model/io.js';
import { initEngine } from '../../src/model/engine/backend.js';
import { fer } from '../helpers/cli.js';
import { sharedData, withTempDir } from '../helpers/fixtures.js';

await initEngine({ backend: 'wasm' });

async function untrainedModel(dir: string): Promise<string> {
  const modelDir = join(dir, 'model');
  const model = buildNetwork({ initSeed: 2 });
  await saveModel(model, modelDir, { network: { architecture: 'yu-zhang-2015', dropout: 0.5, initSeed: 2 } });
  model.dispose();
  return modelDir;
}

/** A 200x120 JPEG whose EXIF says "rotate 90° clockwise to display": displayed, it is 120x200. */
async function rotatedJpeg(file: string): Promise<void> {
  const raw = await sharp({ create: { width: 200, height: 120, channels: 3, background: { r: 120, g: 110, b: 100 } } }).jpeg().toBuffer();
  await writeFile(file, await sharp(raw).withMetadata({ orientation: 6 }).jpeg().toBuffer());
}

test('predictImage with your own boxes: 7 probabilities per face, label is the most likely, boxes in displayed coordinates', async () => {
  await withTempDir(async (dir) => {
    const model = await FerModel.load(await untrainedModel(dir));
    const file = join(dir, 'photo.jpg');
    await rotatedJpeg(file);
    const boxes = [{ left: 10, top: 20, width: 60, height: 60 }, { left: 50, top: 120, width: 50, height: 70 }];
    const prediction = await model.predictImage(file, { boxes });
    assert.equal(prediction.width, 120);
    assert.equal(prediction.height, 200);
    assert.equal(prediction.faces.length, 2);
    for (const [i, face] of prediction.faces.entries()) {
      assert.deepEqual(Object.keys(face.probabilities), [...EMOTIONS]);
      const values = Object.values(face.probabilities);
      assert.ok(Math.abs(values.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      assert.equal(face.probabilities[face.label], Math.max(...values));
      assert.equal(face.box.detector, 'user');
      assert.equal(face.box.left, boxes[i]!.left);
    }
    const voted = await model.predictImage(file, { boxes, voting: true });
    assert.notDeepEqual(voted.faces[0]!.probabilities, prediction.faces[0]!.probabilities, 'voting averages other copies');
    await model.dispose();
  });
});

test('fer predict: --json, --csv, --annotate; an unreadable file is reported and the batch goes on', async () => {
  await withTempDir(async (dir) => {
    const modelDir = await untrainedModel(dir);
    const photo = join(dir, 'photo.jpg');
    await rotatedJpeg(photo);
    const broken = join(dir, 'broken.jpg');
    await writeFile(broken, 'not a jpeg');
    const boxes = join(dir, 'boxes.json');
    await writeFile(boxes, JSON.stringify({ 'photo.jpg': { boxes: [{ left: 5, top: 5, width: 40, height: 40 }] } }));
    const out = join(dir, 'annotated');
    const result = await fer('predict', broken, photo, '--model', modelDir, '--boxes', boxes, '--json', '--annotate', out, '--backend', 'wasm');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /broken\.jpg: skipped: /);
    const json = JSON.parse(result.stdout) as { file: string; error?: string; faces?: unknown[] }[];
    assert.equal(json.length, 2);
    assert.ok(json[0]!.error);
    assert.equal(json[1]!.faces!.length, 1);
    assert.ok(existsSync(join(out, 'photo.jpg')));
    assert.deepEqual(JSON.parse(await readFile(join(out, 'predictions.json'), 'utf8')), json);
    const meta = await sharp(join(out, 'photo.jpg')).metadata();
    assert.deepEqual([meta.width, meta.height], [120, 200], 'the annotated copy is upright');

    const csv = await fer('predict', photo, '--model', modelDir, '--boxes', boxes, '--csv', '--backend', 'wasm');
    const lines = csv.stdout.trim().split('\n');
    assert.equal(lines[0], 'file,face,left,top,width,height,detector,score,label,Angry,Disgust,Fear,Happy,Sad,Surprise,Neutral');
    assert.equal(lines.length, 2);

    const badBoxes = join(dir, 'bad-boxes.json');
    await writeFile(badBoxes, JSON.stringify({ 'photo.jpg': { boxes: [{ left: 5, top: 5, width: -1, height: 40 }] } }));
    const refused = await fer('predict', photo, '--model', modelDir, '--boxes', badBoxes, '--backend', 'wasm');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /bad-boxes\.json: "photo\.jpg": boxes\[0\]/);
  });
});

const photos = sharedData('photos');
test('fer predict finds the faces in the shared photos', { skip: photos.skip }, async () => {
  await withTempDir(async (dir) => {
    const result = await fer('predict', join(photos.path, 'obama.jpg'), join(photos.path, '2008_002506.jpg'), '--model', await untrainedModel(dir), '--json', '--backend', 'wasm');
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout) as { faces: { box: { left: number; width: number } }[] }[];
    assert.equal(json[0]!.faces.length, 1);
    assert.equal(json[1]!.faces.length, 3);
  });
});
