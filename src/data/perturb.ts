/**
 * The affine perturbation of paper §5.2 (Eq. 2-3): rotation, skew, scale tied to a corner
 * shift, horizontal flip; bilinear sampling with mirrored borders, batched with tf ops.
 *
 * Coordinates: x = column, y = row (pointing down), pixel centres at integers 0..47.
 */
import * as tf from '@tensorflow/tfjs-core';
import { FACE_PIXELS, FACE_SIZE } from './faces.js';
import type { Rng } from '../util/rng.js';
import { gatherFlat, repeatColumn } from '../util/tensor-ops.js';

export interface Perturbation {
  /** θ in radians; positive turns +x towards +y, i.e. clockwise on screen. */
  rotation: number;
  /** s1 of the skew matrix [[1, s1], [s2, 1]]. */
  skewX: number;
  /** s2 of the skew matrix. */
  skewY: number;
  /** δ: the scale is c = 47 / (47 - δ). */
  delta: number;
  /** t1 in source pixels; the paper's grid has 0 or δ. */
  shiftX: number;
  /** t2 in source pixels; the paper's grid has 0 or δ. */
  shiftY: number;
  /** Mirror the warped image left-right. */
  flip: boolean;
}

export const IDENTITY: Perturbation = Object.freeze({
  rotation: 0,
  skewX: 0,
  skewY: 0,
  delta: 0,
  shiftX: 0,
  shiftY: 0,
  flip: false,
});

const LAST = FACE_SIZE - 1;
const CENTRE = LAST / 2;
export const ROTATIONS: readonly number[] = [-Math.PI / 18, 0, Math.PI / 18];
export const SKEWS: readonly number[] = [-0.1, 0, 0.1];
export const MAX_DELTA = 4;

/**
 * One configuration drawn parameter by parameter as the paper describes them: θ and each skew
 * uniform over their three values, δ uniform over 0..4, each shift 0 or δ with probability 1/2,
 * flip with probability 1/2. (This is not uniform over the 918 grid points: δ = 0 has a single
 * shift combination but gets 1/5 of the draws.) Always consumes exactly 7 draws from `rng`.
 */
export function randomPerturbation(rng: Rng): Perturbation {
  const rotation = rng.pick(ROTATIONS);
  const skewX = rng.pick(SKEWS);
  const skewY = rng.pick(SKEWS);
  const delta = rng.int(MAX_DELTA + 1);
  const shiftX = rng.int(2) * delta;
  const shiftY = rng.int(2) * delta;
  const flip = rng.next() < 0.5;
  return { rotation, skewX, skewY, delta, shiftX, shiftY, flip };
}

/**
 * The paper's full grid: 3 rotations x 3 x 3 skews x 17 (δ, t1, t2) corner crops
 * (δ = 0: one; δ = 1..4: four each) = 459 warps, times 2 flips = 918. Identity is first.
 */
export function allPerturbations(): Perturbation[] {
  const zeroFirst = (values: readonly number[]): number[] => [0, ...values.filter((v) => v !== 0)];
  const out: Perturbation[] = [];
  for (const flip of [false, true]) {
    for (const rotation of zeroFirst(ROTATIONS)) {
      for (const skewX of zeroFirst(SKEWS)) {
        for (const skewY of zeroFirst(SKEWS)) {
          for (let delta = 0; delta <= MAX_DELTA; delta++) {
            const shifts = delta === 0 ? [0] : [0, delta];
            for (const shiftY of shifts) {
              for (const shiftX of shifts) out.push({ rotation, skewX, skewY, delta, shiftX, shiftY, flip });
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * Test-time copies for voting (paper §5.3, Eq. 5). 'full' is the whole 918-point grid.
 * 'standard' is 14 grid points, each with and without flip: identity, θ = ±10°, and the two
 * scales δ = 2 and δ = 4 each cropped at the top-left (t = 0) and bottom-right (t = δ) corner.
 * Skews are left out to keep the count small: every copy is a full forward pass (~4 ms per face).
 */
export function testTimePerturbations(kind: 'full' | 'standard' = 'standard'): Perturbation[] {
  if (kind === 'full') return allPerturbations();
  const base: Perturbation[] = [
    IDENTITY,
    { ...IDENTITY, rotation: -Math.PI / 18 },
    { ...IDENTITY, rotation: Math.PI / 18 },
    { ...IDENTITY, delta: 2 },
    { ...IDENTITY, delta: 2, shiftX: 2, shiftY: 2 },
    { ...IDENTITY, delta: 4 },
    { ...IDENTITY, delta: 4, shiftX: 4, shiftY: 4 },
  ];
  return [...base.map((p) => ({ ...p })), ...base.map((p) => ({ ...p, flip: true }))];
}

/**
 * Inverse map [a, b, c, d, e, f] from an output pixel (x', y') to its source point
 * x = a x' + b y' + c, y = d x' + e y' + f.
 *
 * The paper's Eq. 3 is x = A^-1 x' + t with A = diag(c, c) R(θ) [[1, s1], [s2, 1]], which turns
 * and skews about the top-left corner: a 10° turn would move the far corner ~12 px and push
 * much of the face out of frame. Here the linear part acts about the image centre m = (23.5, 23.5):
 *
 *   x = A^-1 (x' - m) + m + t - (δ/2, δ/2)
 *
 * The -δ/2 makes the pure-scale case (θ = s = 0) identical to the paper's formula, whose shifts
 * t ∈ {0, δ} select a (47 - δ)-wide window flush with the left/top or right/bottom edge; and
 * the identity configuration is exactly the identity map. Flip mirrors the output column,
 * x' -> 47 - x', before the warp is looked up, so the result is the warped image mirrored.
 */
export function affineMatrix(p: Perturbation): [number, number, number, number, number, number] {
  const scale = LAST / (LAST - p.delta);
  const cos = Math.cos(p.rotation);
  const sin = Math.sin(p.rotation);
  // A^-1 = S^-1 R(-θ) / c with S^-1 = [[1, -s1], [-s2, 1]] / (1 - s1 s2).
  const k = 1 / (scale * (1 - p.skewX * p.skewY));
  const l00 = k * (cos + p.skewX * sin);
  const l01 = k * (sin - p.skewX * cos);
  const l10 = k * (-p.skewY * cos - sin);
  const l11 = k * (cos - p.skewY * sin);
  // Flip: x' -> 47 - x', so the centred output column x' - m becomes m - x'.
  const fx = p.flip ? -1 : 1;
  const ox = CENTRE + p.shiftX - p.delta / 2;
  const oy = CENTRE + p.shiftY - p.delta / 2;
  return [
    l00 * fx,
    l01,
    ox - l00 * fx * CENTRE - l01 * CENTRE,
    l10 * fx,
    l11,
    oy - l10 * fx * CENTRE - l11 * CENTRE,
  ];
}

/** Rows (column, row, 1) of every output pixel, row-major: [3, 2304]. */
const GRID = ((): Float32Array => {
  const grid = new Float32Array(3 * FACE_PIXELS);
  for (let k = 0; k < FACE_PIXELS; k++) {
    grid[k] = k % FACE_SIZE;
    grid[FACE_PIXELS + k] = Math.floor(k / FACE_SIZE);
    grid[2 * FACE_PIXELS + k] = 1;
  }
  return grid;
})();

/** Flat indices are built in float32, exact only below 2^24. */
export const MAX_PERTURB_BATCH = Math.floor(2 ** 24 / FACE_PIXELS);

/**
 * Mirrors a continuous coordinate about the border pixel centres 0 and 47 (whole-sample
 * symmetric, as OpenCV BORDER_REFLECT_101 / numpy 'reflect': -1 -> 1, 48 -> 46). The mirrored
 * image is symmetric about those pixel centres, so bilinear interpolation of it at x equals
 * bilinear interpolation of the image at reflect(x): reflecting the coordinate first is the same
 * as reading mirrored neighbours, and no border pixel is doubled. Exact for points up to 47 px
 * outside the image (warps on the paper's grid reach 6 px); farther points are clamped into
 * range, which keeps every gather index valid.
 */
function reflect(x: tf.Tensor): tf.Tensor {
  return tf.clipByValue(tf.sub(LAST, tf.abs(tf.sub(LAST, tf.abs(x)))), 0, LAST);
}

/** Floor, upper neighbour (clamped at 47: its weight is 0 there) and weight of the upper one. */
function neighbours(coords: tf.Tensor): { lo: tf.Tensor; hi: tf.Tensor; weight: tf.Tensor } {
  const r = reflect(coords);
  const lo = tf.floor(r);
  return { lo, hi: tf.minimum(tf.add(lo, 1), LAST), weight: tf.sub(r, lo) };
}

/**
 * Warps image i of [n, 48, 48, 1] by perturbations[i]: each output pixel is the bilinear
 * interpolation at its inverse-mapped source point (see `affineMatrix`), mirrored into the
 * image (see `reflect`). Source points for the whole batch are a matmul of the stacked
 * matrix rows with the pixel grid; each of the four neighbours is one gather over the
 * flattened batch.
 */
export function perturb(images: tf.Tensor4D, perturbations: readonly Perturbation[]): tf.Tensor4D {
  const [n, h, w, ch] = images.shape;
  if (h !== FACE_SIZE || w !== FACE_SIZE || ch !== 1) {
    throw new Error(`perturb: expected [n, ${FACE_SIZE}, ${FACE_SIZE}, 1], got [${images.shape.join(', ')}]`);
  }
  if (perturbations.length !== n) {
    throw new Error(`perturb: ${perturbations.length} perturbations for ${n} images`);
  }
  if (n > MAX_PERTURB_BATCH) {
    throw new RangeError(`perturb: at most ${MAX_PERTURB_BATCH} images per call, got ${n}`);
  }
  const xRows = new Float32Array(3 * n);
  const yRows = new Float32Array(3 * n);
  perturbations.forEach((p, i) => {
    const m = affineMatrix(p);
    // NaN coordinates would survive the clamp and become invalid gather indices.
    if (!m.every(Number.isFinite)) throw new RangeError(`perturb: non-finite warp for ${JSON.stringify(p)}`);
    xRows.set(m.slice(0, 3), 3 * i);
    yRows.set(m.slice(3), 3 * i);
  });
  return tf.tidy(() => {
    if (n === 0) return tf.zeros([0, FACE_SIZE, FACE_SIZE, 1], 'float32') as tf.Tensor4D;
    const grid = tf.tensor2d(GRID, [3, FACE_PIXELS]);
    const x = neighbours(tf.matMul(tf.tensor2d(xRows, [n, 3]), grid));
    const y = neighbours(tf.matMul(tf.tensor2d(yRows, [n, 3]), grid));
    const imageStart = Float32Array.from({ length: n }, (_, i) => i * FACE_PIXELS);
    const base = repeatColumn(tf.tensor2d(imageStart, [n, 1]), FACE_PIXELS);
    const rowLo = tf.add(tf.mul(y.lo, FACE_SIZE), base);
    const rowHi = tf.add(tf.mul(y.hi, FACE_SIZE), base);
    const flatImages: tf.Tensor1D = tf.reshape(images, [n * FACE_PIXELS]);
    const read = (row: tf.Tensor, col: tf.Tensor): tf.Tensor => {
      const index: tf.Tensor1D = tf.cast(tf.reshape(tf.add(row, col), [n * FACE_PIXELS]), 'int32');
      return tf.reshape(gatherFlat(flatImages, index), [n, FACE_PIXELS]);
    };
    const v00 = read(rowLo, x.lo);
    const v01 = read(rowLo, x.hi);
    const v10 = read(rowHi, x.lo);
    const v11 = read(rowHi, x.hi);
    // Lerp form: a zero weight returns the near neighbour bit-exactly.
    const top = tf.add(v00, tf.mul(x.weight, tf.sub(v01, v00)));
    const bottom = tf.add(v10, tf.mul(x.weight, tf.sub(v11, v10)));
    return tf.reshape(tf.add(top, tf.mul(y.weight, tf.sub(bottom, top))), [n, FACE_SIZE, FACE_SIZE, 1]);
  });
}
