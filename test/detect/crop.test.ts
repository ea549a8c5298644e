import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { FACE_PIXELS, FACE_SIZE } from '../../src/data/faces.js';
import { cropFace } from '../../src/detect/crop.js';
import type { DecodedImage } from '../../src/detect/image.js';

/** A dark image with one bright rectangle; only the gray plane matters to cropFace. */
function imageWithSquare(width: number, height: number, sq: { left: number; top: number; size: number }): DecodedImage {
  const gray = new Uint8Array(width * height);
  for (let y = sq.top; y < sq.top + sq.size; y++) gray.fill(255, y * width + sq.left, y * width + sq.left + sq.size);
  return { width, height, gray, rgb: new Uint8Array(width * height * 3) };
}

before(async () => {
  await tf.ready();
});

const at = (face: Uint8Array, x: number, y: number): number => face[y * FACE_SIZE + x] as number;

test('cropFace with margin 0 fills the output with the box content', () => {
  const img = imageWithSquare(200, 100, { left: 50, top: 30, size: 40 });
  const face = cropFace(img, { left: 50, top: 30, width: 40, height: 40 }, { margin: 0 });
  assert.equal(face.length, FACE_PIXELS);
  assert.ok(face.every((v) => v === 255));
});

test('cropFace margin adds context around the box, centred', () => {
  const img = imageWithSquare(200, 100, { left: 50, top: 30, size: 40 });
  // Side 40 * (1 + 2 * 0.5) = 80, so the bright square covers the middle half: pixels 12..35.
  const face = cropFace(img, { left: 50, top: 30, width: 40, height: 40 }, { margin: 0.5 });
  assert.equal(at(face, 24, 24), 255);
  assert.equal(at(face, 13, 13), 255);
  assert.equal(at(face, 34, 34), 255);
  for (const [x, y] of [[0, 0], [47, 0], [0, 47], [47, 47], [10, 24], [37, 24], [24, 10], [24, 37]] as const) {
    assert.equal(at(face, x, y), 0, `pixel ${x},${y}`);
  }
});

test('cropFace squares a non-square box around its centre', () => {
  const img = imageWithSquare(200, 100, { left: 50, top: 30, size: 40 });
  // A tall 20x40 box centred on the square: the crop is 40x40, i.e. exactly the square.
  const face = cropFace(img, { left: 60, top: 30, width: 20, height: 40 }, { margin: 0 });
  assert.ok(face.every((v) => v === 255));
});

test('cropFace repeats border pixels where the crop leaves the image', () => {
  // Bright 20x20 square in the top-left corner; the crop spans -10..30 on both axes.
  const img = imageWithSquare(100, 80, { left: 0, top: 0, size: 20 });
  const face = cropFace(img, { left: 0, top: 0, width: 20, height: 20 }, { margin: 0.5 });
  // Source -10..20 is bright (edge repeat), i.e. output 0..35; 20..30 is dark, output 36..47.
  assert.equal(at(face, 0, 0), 255, 'corner outside the image repeats the bright corner pixel');
  assert.equal(at(face, 30, 30), 255);
  assert.equal(at(face, 2, 44), 0);
  assert.equal(at(face, 44, 2), 0);
  assert.equal(at(face, 47, 47), 0);
});

test('cropFace handles boxes partly or wholly outside the image', () => {
  const img = imageWithSquare(60, 40, { left: 0, top: 0, size: 10 });
  assert.equal(cropFace(img, { left: 50, top: 30, width: 30, height: 30 }).length, FACE_PIXELS);
  assert.equal(cropFace(img, { left: -100, top: -100, width: 20, height: 20 }).length, FACE_PIXELS);
});

test('cropFace averages when shrinking, so fine detail does not alias', () => {
  // 1-pixel checkerboard over 480x480: a 10x downscale must give flat mid-gray, not a moire pattern.
  const n = 480;
  const gray = new Uint8Array(n * n);
  const even = Uint8Array.from({ length: n }, (_, x) => (x % 2 === 0 ? 255 : 0));
  const odd = Uint8Array.from({ length: n }, (_, x) => (x % 2 === 0 ? 0 : 255));
  for (let y = 0; y < n; y++) gray.set(y % 2 === 0 ? even : odd, y * n);
  const face = cropFace({ width: n, height: n, gray, rgb: new Uint8Array(0) }, { left: 0, top: 0, width: n, height: n }, { margin: 0 });
  assert.ok(face.every((v) => v === 127 || v === 128), `range ${Math.min(...face)}..${Math.max(...face)}`);
});

test('cropFace upsamples small faces to the full output size', () => {
  const img = imageWithSquare(30, 30, { left: 10, top: 10, size: 10 });
  const face = cropFace(img, { left: 10, top: 10, width: 10, height: 10 }, { margin: 0.5 });
  assert.equal(at(face, 24, 24), 255);
  assert.equal(at(face, 0, 0), 0);
});

test('cropFace rejects empty boxes and negative margins', () => {
  const img = imageWithSquare(30, 30, { left: 0, top: 0, size: 10 });
  assert.throws(() => cropFace(img, { left: 0, top: 0, width: 0, height: 10 }), /empty box/);
  assert.throws(() => cropFace(img, { left: 0, top: 0, width: 10, height: 10 }, { margin: -0.1 }), /margin/);
});
