import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { FACE_PIXELS, FACE_SIZE, type FaceSet } from '../../src/data/faces.js';
import {
  MIN_STD,
  equalizeHistogram,
  facesToTensor,
  preprocess,
  preprocessFaces,
  removePlane,
  standardize,
} from '../../src/data/preprocess.js';
import { Rng } from '../../src/util/rng.js';
import { assertClose } from '../helpers/fixtures.js';

await tf.setBackend('cpu');

function image(fn: (x: number, y: number) => number): Float32Array {
  const out = new Float32Array(FACE_PIXELS);
  for (let y = 0; y < FACE_SIZE; y++) for (let x = 0; x < FACE_SIZE; x++) out[y * FACE_SIZE + x] = fn(x, y);
  return out;
}

function batch(...images: Float32Array[]): tf.Tensor4D {
  const data = new Float32Array(images.length * FACE_PIXELS);
  images.forEach((im, i) => data.set(im, i * FACE_PIXELS));
  return tf.tensor4d(data, [images.length, FACE_SIZE, FACE_SIZE, 1]);
}

/** Runs `fn` on a batch and returns each output image as a plain array. */
function run(fn: (t: tf.Tensor4D) => tf.Tensor4D, ...images: Float32Array[]): Float32Array[] {
  const input = batch(...images);
  const out = fn(input);
  assert.deepEqual(out.shape, input.shape);
  assert.equal(out.dtype, 'float32');
  const data = out.dataSync() as Float32Array;
  tf.dispose([input, out]);
  return images.map((_, i) => data.slice(i * FACE_PIXELS, (i + 1) * FACE_PIXELS));
}

function stats(a: Float32Array): { mean: number; std: number } {
  let s = 0;
  for (const v of a) s += v;
  const mean = s / a.length;
  let q = 0;
  for (const v of a) q += (v - mean) ** 2;
  return { mean, std: Math.sqrt(q / a.length) };
}


function randomFaces(n: number, seed: number): FaceSet {
  const rng = new Rng(seed);
  const pixels = new Uint8Array(n * FACE_PIXELS);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.int(256);
  return { count: n, pixels, labels: new Int8Array(n) };
}

/** A face-like smooth image with illumination gradient and noise, values 0..255. */
function smoothFace(seed: number): Float32Array {
  const rng = new Rng(seed);
  return image((x, y) =>
    Math.min(255, Math.max(0, Math.round(60 + 2 * x + y + 40 * Math.sin(x / 5) * Math.cos(y / 7) + rng.int(20)))),
  );
}

test('facesToTensor: float32 [n,48,48,1] raw values, honours the range', () => {
  const set = randomFaces(5, 1);
  const t = facesToTensor(set, 1, 4);
  assert.deepEqual(t.shape, [3, 48, 48, 1]);
  assert.equal(t.dtype, 'float32');
  assertClose(t.dataSync(), set.pixels.subarray(FACE_PIXELS, 4 * FACE_PIXELS), 0, 'pixels');
  t.dispose();
  const all = facesToTensor(set);
  assert.deepEqual(all.shape, [5, 48, 48, 1]);
  all.dispose();
  assert.throws(() => facesToTensor(set, 2, 6), RangeError);
});

test('equalizeHistogram: two levels map to 0 and 255', () => {
  const [out] = run(equalizeHistogram, image((x) => (x < 24 ? 10 : 200)));
  assertClose(out!, image((x) => (x < 24 ? 0 : 255)), 0, 'levels');
});

test('equalizeHistogram: three levels follow round((cdf - cdf_min) * 255 / (N - cdf_min))', () => {
  // 1536 px at 50, 256 px at 100, 512 px at 150: cdf_min = 1536, N - cdf_min = 768,
  // 100 -> round(256 * 255 / 768) = 85, 150 -> 255.
  const input = image((x, y) => (y < 32 ? 50 : y < 37 || (y === 37 && x < 16) ? 100 : 150));
  const counts = new Map<number, number>();
  for (const v of input) counts.set(v, (counts.get(v) ?? 0) + 1);
  assert.deepEqual([...counts.entries()].sort((a, b) => a[0] - b[0]), [[50, 1536], [100, 256], [150, 512]]);
  const [out] = run(equalizeHistogram, input);
  assertClose(out!, input.map((v) => (v === 50 ? 0 : v === 100 ? 85 : 255)), 0, 'levels');
});

test('equalizeHistogram: a single odd pixel, a constant image, and independent images in a batch', () => {
  const odd = image(() => 5);
  odd[100] = 9;
  const constant = image(() => 77);
  const [a, b, c] = run(equalizeHistogram, odd, constant, image((x) => (x < 24 ? 10 : 200)));
  assertClose(a!, odd.map((v) => (v === 5 ? 0 : 255)), 0, 'odd pixel');
  assertClose(b!, constant, 0, 'constant image is unchanged, as OpenCV');
  assertClose(c!, image((x) => (x < 24 ? 0 : 255)), 0, 'third image unaffected by the others');
});

test('equalizeHistogram: matches a float64 OpenCV-formula reference on random images', () => {
  const set = randomFaces(3, 7);
  // Non-uniform histogram: squash the random values towards dark levels.
  for (let i = 0; i < set.pixels.length; i++) set.pixels[i] = Math.floor(((set.pixels[i] as number) ** 2) / 255);
  const t = facesToTensor(set);
  const out = equalizeHistogram(t);
  const got = out.dataSync();
  tf.dispose([t, out]);
  let exact = 0;
  for (let i = 0; i < set.count; i++) {
    const px = set.pixels.subarray(i * FACE_PIXELS, (i + 1) * FACE_PIXELS);
    const hist = new Array<number>(256).fill(0);
    for (const v of px) hist[v]!++;
    const cdf: number[] = [];
    hist.reduce((s, h, v) => (cdf[v] = s + h), 0);
    const cdfMin = cdf[Math.min(...px)] as number;
    for (let k = 0; k < FACE_PIXELS; k++) {
      const want = Math.round((((cdf[px[k] as number] as number) - cdfMin) * 255) / (FACE_PIXELS - cdfMin));
      const diff = Math.abs((got[i * FACE_PIXELS + k] as number) - want);
      assert.ok(diff <= 1, `image ${i} pixel ${k}: ${got[i * FACE_PIXELS + k]} vs ${want}`);
      if (diff === 0) exact++;
    }
  }
  // Only exact .5 ties (rounded half-to-even in float32) may differ.
  assert.ok(exact >= 0.99 * set.count * FACE_PIXELS, `${exact} exact`);
});

test('removePlane: a perfect plane leaves residual 0', () => {
  const [out] = run(removePlane, image((x, y) => 3 + 0.5 * x - 0.25 * y));
  assertClose(out!, new Float32Array(FACE_PIXELS), 1e-4, 'residual');
});

test('removePlane: a checkerboard (orthogonal to 1, x, y) on a plane comes back unchanged', () => {
  const checker = (x: number, y: number): number => ((x + y) % 2 === 0 ? 10 : -10);
  const [out] = run(removePlane, image((x, y) => 100 - 1.5 * x + 2 * y + checker(x, y)));
  assertClose(out!, image(checker), 1e-3, 'residual');
});

test('removePlane: residual of a random image is orthogonal to 1, x and y', () => {
  const rng = new Rng(3);
  const [out] = run(removePlane, image(() => rng.int(256)));
  let s1 = 0;
  let sx = 0;
  let sy = 0;
  out!.forEach((v, k) => {
    s1 += v;
    sx += v * (k % FACE_SIZE);
    sy += v * Math.floor(k / FACE_SIZE);
  });
  assert.ok(Math.abs(s1) < 0.05 && Math.abs(sx) < 2 && Math.abs(sy) < 2, `${s1} ${sx} ${sy}`);
});

test('standardize: hand example, random image, constant and round-off images give zeros', () => {
  const rng = new Rng(4);
  const noise = image(() => 1000 + (rng.next() - 0.5) * MIN_STD);
  const [twoLevel, random, constant, roundOff] = run(
    (t) => standardize(t),
    image((x) => (x % 2 === 0 ? 1 : 3)),
    image(() => rng.next() * 50 - 7),
    image(() => 42),
    noise,
  );
  assertClose(twoLevel!, image((x) => (x % 2 === 0 ? -1 : 1)), 1e-6, 'two-level');
  const s = stats(random!);
  assert.ok(Math.abs(s.mean) < 1e-5 && Math.abs(s.std - 1) < 1e-5, JSON.stringify(s));
  assertClose(constant!, new Float32Array(FACE_PIXELS), 0, 'constant');
  assertClose(roundOff!, new Float32Array(FACE_PIXELS), 0, 'std below MIN_STD');
});

test('preprocess: zero mean, unit variance, finite; a constant image gives zeros', () => {
  const [face, constant] = run(preprocess, smoothFace(5), image(() => 128));
  const s = stats(face!);
  assert.ok(Math.abs(s.mean) < 1e-5 && Math.abs(s.std - 1) < 1e-4, JSON.stringify(s));
  assert.ok(face!.every(Number.isFinite));
  assertClose(constant!, new Float32Array(FACE_PIXELS), 0, 'constant');
});

test('preprocess: invariant to a strictly increasing remap of grey levels', () => {
  const rng = new Rng(6);
  const low = image(() => rng.int(128));
  const [a, b] = run(preprocess, low, low.map((v) => 2 * v + 1));
  assertClose(a!, b!, 1e-5, 'remapped');
});

test('preprocess: equals the three steps composed', () => {
  const input = batch(smoothFace(8), smoothFace(9));
  const composed = standardize(removePlane(equalizeHistogram(input)));
  const whole = preprocess(input);
  assertClose(whole.dataSync(), composed.dataSync(), 0, 'pipeline');
  tf.dispose([input, composed, whole]);
});

test('preprocessFaces: batchwise result equals one batch, no tensors leak', () => {
  const set = randomFaces(7, 10);
  const t = facesToTensor(set);
  const once = preprocess(t);
  const expected = once.dataSync();
  tf.dispose([t, once]);
  const before = tf.memory().numTensors;
  const cached = preprocessFaces(set, 3);
  assert.equal(tf.memory().numTensors, before);
  assert.ok(cached instanceof Float32Array);
  assert.equal(cached.length, 7 * FACE_PIXELS);
  assertClose(cached, expected, 1e-5, 'cache');
  assert.throws(() => preprocessFaces(set, 0), RangeError);
  assert.equal(preprocessFaces({ count: 0, pixels: new Uint8Array(0), labels: new Int8Array(0) }).length, 0);
});

test('preprocess: wasm backend matches cpu', async () => {
  const set = randomFaces(4, 11);
  set.pixels.set(new Uint8Array(FACE_PIXELS).fill(9), 3 * FACE_PIXELS);
  const cpu = preprocessFaces(set);
  try {
    assert.ok(await tf.setBackend('wasm'));
    const wasm = preprocessFaces(set);
    assertClose(wasm, cpu, 1e-4, 'wasm vs cpu');
  } finally {
    await tf.setBackend('cpu');
  }
});
