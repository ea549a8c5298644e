import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { FACE_PIXELS } from '../../src/data/faces.js';
import { iou } from '../../src/detect/boxes.js';
import { cropFace } from '../../src/detect/crop.js';
import { FaceDetector } from '../../src/detect/detector.js';
import { loadFaceApi } from '../../src/detect/faceapi.js';
import { decodeImage } from '../../src/detect/image.js';
import type { DecodedImage } from '../../src/detect/image.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DATA_ROOT = resolve(process.env.FER_DATA ?? join(REPO_ROOT, '../shared/data'));
const OBAMA = join(DATA_ROOT, 'photos', 'obama.jpg');
const skip = existsSync(OBAMA) ? false : `FER_DATA not found at ${DATA_ROOT} (needs photos/obama.jpg)`;

// Drawn by hand on obama.jpg (910x1137): hairline to chin, ear to ear.
const OBAMA_FACE = { left: 370, top: 110, width: 240, height: 310 };

let detector: FaceDetector;
let obama: DecodedImage;

before(async () => {
  if (skip) return;
  detector = await FaceDetector.load();
  obama = await decodeImage(OBAMA);
});

after(() => {
  if (!skip) detector.dispose();
});

test('face-api runs on the project\'s tfjs-core instance without the umbrella package', async () => {
  const api = await loadFaceApi();
  assert.equal(api.tf.Tensor, tf.Tensor);
  assert.deepEqual(tf.engine().backendNames().sort(), ['cpu', 'wasm']);
});

test('FaceDetector finds the face in obama.jpg with SSD on the wasm backend', { skip }, async () => {
  assert.equal(tf.getBackend(), 'wasm');
  const tensorsBefore = tf.memory().numTensors;
  const faces = await detector.detect(obama);
  assert.equal(tf.memory().numTensors, tensorsBefore, 'detect leaks no tensors');
  assert.ok(faces.length >= 1, 'at least one face');
  const best = faces[0]!;
  assert.equal(best.detector, 'ssd');
  assert.ok(best.score >= 0.5 && best.score <= 1);
  assert.ok(iou(best, OBAMA_FACE) >= 0.5, `box ${JSON.stringify(best)} vs ${JSON.stringify(OBAMA_FACE)}`);
  assert.equal(cropFace(obama, best).length, FACE_PIXELS);
});

test('the chain falls back to the Tiny detector when SSD finds nothing', { skip }, async () => {
  // SSD's best score on this photo is 0.993, so at 0.999 it returns nothing and the chain must go on to Tiny.
  const tensorsBefore = tf.memory().numTensors;
  const faces = await detector.detect(obama, { ssdMinScore: 0.999 });
  assert.equal(tf.memory().numTensors, tensorsBefore, 'the fallback path leaks no tensors');
  assert.ok(faces.length >= 1);
  assert.ok(faces.every((f) => f.detector === 'tiny'));
  assert.ok(iou(faces[0]!, OBAMA_FACE) >= 0.5, JSON.stringify(faces[0]));
  assert.deepEqual(await detector.detect(obama, { strategy: 'ssd', ssdMinScore: 0.999 }), []);
});

test('detect validates the Tiny input size', { skip }, async () => {
  await assert.rejects(detector.detect(obama, { strategy: 'tiny', tinyInputSize: 400 }), /multiple of 32/);
});

test('the cpu fallback backend gives the same box as wasm', { skip }, async () => {
  // SSD takes about 40 s per photo on the pure-JS cpu backend; Tiny at its smallest input size keeps this quick.
  const opts = { strategy: 'tiny', tinyInputSize: 128 } as const;
  const [onWasm] = await detector.detect(obama, opts);
  const cpu = await FaceDetector.load({ backend: 'cpu' });
  try {
    assert.equal(tf.getBackend(), 'cpu');
    const [onCpu] = await cpu.detect(obama, opts);
    assert.ok(onWasm && onCpu);
    assert.ok(iou(onWasm, onCpu) > 0.95, `${JSON.stringify(onWasm)} vs ${JSON.stringify(onCpu)}`);
  } finally {
    cpu.dispose();
  }
});
