import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { FACE_PIXELS, FACE_SIZE } from '../../src/data/faces.js';
import {
  IDENTITY,
  affineMatrix,
  allPerturbations,
  perturb,
  randomPerturbation,
  testTimePerturbations,
  type Perturbation,
} from '../../src/data/perturb.js';
import { Rng } from '../../src/util/rng.js';
import { assertClose } from '../helpers/fixtures.js';

await tf.setBackend('cpu');

const TEN = Math.PI / 18;

function randomImages(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * FACE_PIXELS }, () => rng.next() * 255);
}

function warp(data: Float32Array, ps: Perturbation[]): Float32Array {
  const input = tf.tensor4d(data, [ps.length, FACE_SIZE, FACE_SIZE, 1]);
  const out = perturb(input, ps);
  assert.deepEqual(out.shape, [ps.length, FACE_SIZE, FACE_SIZE, 1]);
  assert.equal(out.dtype, 'float32');
  const values = out.dataSync() as Float32Array;
  tf.dispose([input, out]);
  return values;
}

const at = (img: Float32Array, x: number, y: number): number => img[y * FACE_SIZE + x] as number;


const key = (p: Perturbation): string =>
  [p.rotation, p.skewX, p.skewY, p.delta, p.shiftX, p.shiftY, p.flip].map(String).join('|');

function onGrid(p: Perturbation): boolean {
  return (
    [-TEN, 0, TEN].includes(p.rotation) &&
    [-0.1, 0, 0.1].includes(p.skewX) &&
    [-0.1, 0, 0.1].includes(p.skewY) &&
    Number.isInteger(p.delta) &&
    p.delta >= 0 &&
    p.delta <= 4 &&
    [0, p.delta].includes(p.shiftX) &&
    [0, p.delta].includes(p.shiftY) &&
    typeof p.flip === 'boolean'
  );
}

test('randomPerturbation: only grid values, every value reached, reproducible from the seed', () => {
  const a = new Rng(123);
  const b = new Rng(123);
  const seen = new Set<string>();
  let flips = 0;
  for (let i = 0; i < 5000; i++) {
    const p = randomPerturbation(a);
    assert.deepEqual(randomPerturbation(b), p);
    assert.ok(onGrid(p), JSON.stringify(p));
    seen.add(key(p));
    if (p.flip) flips++;
  }
  // 5000 draws cover nearly all 918 configurations (expected misses well under 10).
  assert.ok(seen.size > 900, `${seen.size} distinct`);
  assert.ok(Math.abs(flips / 5000 - 0.5) < 0.03, `${flips} flips`);
  const c = new Rng(124);
  const d = new Rng(123);
  const differs = Array.from({ length: 20 }, () => key(randomPerturbation(c)) !== key(randomPerturbation(d)));
  assert.ok(differs.some(Boolean));
});

test('allPerturbations: the 918-point grid, unique, identity first', () => {
  const all = allPerturbations();
  assert.equal(all.length, 918);
  assert.equal(new Set(all.map(key)).size, 918);
  assert.ok(all.every(onGrid));
  assert.equal(all.filter((p) => p.flip).length, 459);
  assert.deepEqual(all[0], IDENTITY);
});

test('testTimePerturbations: standard is 14 grid points with and without flip; full is the grid', () => {
  const grid = new Set(allPerturbations().map(key));
  const standard = testTimePerturbations();
  assert.equal(standard.length, 14);
  assert.deepEqual(standard[0], IDENTITY);
  assert.equal(new Set(standard.map(key)).size, 14);
  assert.ok(standard.every((p) => grid.has(key(p))));
  assert.equal(standard.filter((p) => p.flip).length, 7);
  assert.deepEqual(testTimePerturbations('full'), allPerturbations());
});

test('affineMatrix: identity, flip, and the paper formula x = x\'/c + t for pure scale', () => {
  assertClose(affineMatrix(IDENTITY), [1, 0, 0, 0, 1, 0], 0, 'identity');
  assertClose(affineMatrix({ ...IDENTITY, flip: true }), [-1, 0, 47, 0, 1, 0], 0, 'flip');
  for (let delta = 0; delta <= 4; delta++) {
    for (const [t1, t2] of [[0, 0], [delta, 0], [0, delta], [delta, delta]] as const) {
      const m = affineMatrix({ ...IDENTITY, delta, shiftX: t1, shiftY: t2 });
      const inv = (47 - delta) / 47;
      assertClose(m, [inv, 0, t1, 0, inv, t2], 1e-12, `delta ${delta} t ${t1},${t2}`);
    }
  }
});

test('affineMatrix: linear part is (c R(θ) [[1,s1],[s2,1]])^-1, centre fixed up to the shift', () => {
  for (const p of allPerturbations().filter((_, i) => i % 7 === 0)) {
    const [a, b, c, d, e, f] = affineMatrix(p);
    const s = 47 / (47 - p.delta);
    const [cos, sin] = [Math.cos(p.rotation), Math.sin(p.rotation)];
    // Forward A = s R S, built independently; A^-1 A must be I (with the flip's mirror on x').
    const A = [
      [s * (cos - sin * p.skewY), s * (cos * p.skewX - sin)],
      [s * (sin + cos * p.skewY), s * (sin * p.skewX + cos)],
    ] as const;
    const fx = p.flip ? -1 : 1;
    const prod = [
      [a * fx * A[0][0] + b * A[1][0], a * fx * A[0][1] + b * A[1][1]],
      [d * fx * A[0][0] + e * A[1][0], d * fx * A[0][1] + e * A[1][1]],
    ];
    assertClose(prod.flat(), [1, 0, 0, 1], 1e-12, key(p));
    // The output centre maps to the source centre moved by t - δ/2.
    const cx = 23.5 * a + 23.5 * b + c;
    const cy = 23.5 * d + 23.5 * e + f;
    assertClose([cx, cy], [23.5 + p.shiftX - p.delta / 2, 23.5 + p.shiftY - p.delta / 2], 1e-9, key(p));
  }
});

test('perturb: identity leaves images bit-exact', () => {
  const data = randomImages(3, 1);
  assert.deepEqual(warp(data, [IDENTITY, IDENTITY, IDENTITY]), data);
});

test('perturb: flip equals tf.reverse on the width axis', () => {
  const data = randomImages(2, 2);
  const input = tf.tensor4d(data, [2, FACE_SIZE, FACE_SIZE, 1]);
  const reversed = tf.reverse(input, 2);
  assertClose(warp(data, [{ ...IDENTITY, flip: true }, { ...IDENTITY, flip: true }]), reversed.dataSync(), 0, 'flip');
  tf.dispose([input, reversed]);
});

test('perturb: integer shift moves pixels, border reflects about the edge pixel (-1 -> 1, 48 -> 46)', () => {
  const data = randomImages(1, 3);
  const out = warp(data, [{ ...IDENTITY, shiftX: 2, shiftY: -3 }]);
  const mirror = (i: number): number => (i < 0 ? -i : i > 47 ? 94 - i : i);
  for (let y = 0; y < FACE_SIZE; y++) {
    for (let x = 0; x < FACE_SIZE; x++) {
      assert.equal(at(out, x, y), at(data, mirror(x + 2), mirror(y - 3)), `(${x}, ${y})`);
    }
  }
  // Spelled out: output column 47 reads source column 49, mirrored to 45; row 0 reads row -3 -> 3.
  assert.equal(at(out, 47, 10), at(data, 45, 7));
  assert.equal(at(out, 5, 0), at(data, 7, 3));
});

test('perturb: bilinear value at a half-pixel shift, including across the border', () => {
  const data = randomImages(1, 4);
  const out = warp(data, [{ ...IDENTITY, shiftX: 0.5, shiftY: 0.25 }]);
  const lerp = (x0: number, x1: number, y: number): number => (at(data, x0, y) + at(data, x1, y)) / 2;
  for (const [x, y] of [[0, 0], [10, 20], [46, 5], [47, 30], [47, 47]] as const) {
    const x1 = x === 47 ? 46 : x + 1; // 47.5 sits between column 47 and its mirror 48 -> 46.
    const y1 = y === 47 ? 46 : y + 1;
    const want = 0.75 * lerp(x, x1, y) + 0.25 * lerp(x, x1, y1);
    assert.ok(Math.abs(at(out, x, y) - want) < 1e-3, `(${x}, ${y}): ${at(out, x, y)} vs ${want}`);
  }
});

test('perturb: positive rotation turns +x towards +y (clockwise on screen) about the centre', () => {
  const data = new Float32Array(FACE_PIXELS);
  data[23 * FACE_SIZE + 40] = 1; // right of centre (23.5, 23.5)
  const out = warp(data, [{ ...IDENTITY, rotation: Math.PI / 2 }]);
  assert.ok(Math.abs(at(out, 24, 40) - 1) < 1e-5, 'pixel lands below the centre');
  let total = 0;
  for (const v of out) total += v;
  assert.ok(Math.abs(total - 1) < 1e-4, `${total}`);
  // The paper's +10° moves a right-of-centre blob down too.
  const blob = new Float32Array(FACE_PIXELS);
  for (let y = 20; y < 28; y++) for (let x = 36; x < 44; x++) blob[y * FACE_SIZE + x] = 1;
  const turned = warp(blob, [{ ...IDENTITY, rotation: TEN }]);
  let my = 0;
  let mass = 0;
  turned.forEach((v, k) => {
    my += v * Math.floor(k / FACE_SIZE);
    mass += v;
  });
  assert.ok(my / mass > 23.5 + 2, `centroid row ${my / mass}`);
});

test('perturb: corner crops of the scale grid sample the paper\'s windows', () => {
  const data = new Float32Array(FACE_PIXELS);
  for (let k = 0; k < FACE_PIXELS; k++) data[k] = 3 * (k % FACE_SIZE) + 0.5 * Math.floor(k / FACE_SIZE);
  const topLeft = warp(data, [{ ...IDENTITY, delta: 4 }]);
  const bottomRight = warp(data, [{ ...IDENTITY, delta: 4, shiftX: 4, shiftY: 4 }]);
  // On a linear image bilinear sampling is exact, so out(x', y') = image(x'*43/47 + t1, y'*43/47 + t2).
  const s = 43 / 47;
  for (const [x, y] of [[0, 0], [47, 47], [13, 29]] as const) {
    assert.ok(Math.abs(at(topLeft, x, y) - (3 * x * s + 0.5 * y * s)) < 1e-3, `top-left (${x}, ${y})`);
    const want = 3 * (x * s + 4) + 0.5 * (y * s + 4);
    assert.ok(Math.abs(at(bottomRight, x, y) - want) < 1e-3, `bottom-right (${x}, ${y})`);
  }
});

test('perturb: each image gets its own configuration; values stay within the input range', () => {
  const rng = new Rng(5);
  const ps = Array.from({ length: 6 }, () => randomPerturbation(rng));
  const data = randomImages(6, 6);
  const together = warp(data, ps);
  for (let i = 0; i < 6; i++) {
    const alone = warp(data.slice(i * FACE_PIXELS, (i + 1) * FACE_PIXELS), [ps[i]!]);
    assertClose(together.subarray(i * FACE_PIXELS, (i + 1) * FACE_PIXELS), alone, 1e-4, `image ${i}`);
  }
  for (const v of together) assert.ok(v >= 0 && v <= 255, `${v}`);
});

test('perturb: rejects bad shapes and counts, handles an empty batch, leaks nothing', () => {
  const before = tf.memory().numTensors;
  const four = tf.zeros([2, FACE_SIZE, FACE_SIZE, 1]) as tf.Tensor4D;
  assert.throws(() => perturb(four, [IDENTITY]), /1 perturbations for 2 images/);
  const wrong = tf.zeros([1, 32, 32, 1]) as tf.Tensor4D;
  assert.throws(() => perturb(wrong, [IDENTITY]), /expected/);
  assert.throws(() => perturb(four, [IDENTITY, { ...IDENTITY, rotation: NaN }]), /non-finite/);
  const empty = tf.zeros([0, FACE_SIZE, FACE_SIZE, 1]) as tf.Tensor4D;
  const out = perturb(empty, []);
  assert.deepEqual(out.shape, [0, FACE_SIZE, FACE_SIZE, 1]);
  const warped = perturb(four, testTimePerturbations().slice(0, 2));
  tf.dispose([four, wrong, empty, out, warped]);
  assert.equal(tf.memory().numTensors, before);
});

test('perturb: wasm backend matches cpu', async () => {
  const rng = new Rng(7);
  const ps = Array.from({ length: 8 }, () => randomPerturbation(rng));
  const data = randomImages(8, 8);
  const cpu = warp(data, ps);
  try {
    assert.ok(await tf.setBackend('wasm'));
    // Matmul rounding differs between backends by ~1e-5 px, times gradients up to 255 per px.
    assertClose(warp(data, ps), cpu, 1e-2, 'wasm vs cpu');
  } finally {
    await tf.setBackend('cpu');
  }
});
