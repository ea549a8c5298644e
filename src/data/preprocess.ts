/**
 * Input preprocessing of paper §4, batched with tf ops: histogram equalisation,
 * subtraction of the least-squares illumination plane, per-image z-score.
 * Every step takes and returns [n, 48, 48, 1] float32 and is made of tf ops only (no
 * per-pixel JS), available on both the cpu and wasm backends.
 */
import * as tf from '@tensorflow/tfjs-core';
import { FACE_PIXELS, FACE_SIZE, type FaceSet } from './faces.js';
import { gatherFlat, repeatColumn } from '../util/tensor-ops.js';

const LEVELS = 256;

/**
 * Residual standard deviations below this (in grey levels) are float round-off of an image
 * the plane explains completely, such as a constant one; dividing by them would blow the
 * round-off up to unit variance, so such images become all zeros instead. Real residuals are
 * whole grey levels in size, since equalisation rounds to integers.
 */
export const MIN_STD = 1e-2;

/** Raw faces [start, end) as float32 [n, 48, 48, 1] with values 0..255. */
export function facesToTensor(set: FaceSet, start = 0, end = set.count): tf.Tensor4D {
  if (start < 0 || end > set.count || start > end) {
    throw new RangeError(`facesToTensor: range [${start}, ${end}) outside 0..${set.count}`);
  }
  const pixels = set.pixels.subarray(start * FACE_PIXELS, end * FACE_PIXELS);
  return tf.tensor4d(Float32Array.from(pixels), [end - start, FACE_SIZE, FACE_SIZE, 1], 'float32');
}

/**
 * Standard histogram equalisation of each 8-bit image, the OpenCV `equalizeHist` formula:
 *
 *   out(v) = round((cdf(v) - cdf_min) * 255 / (N - cdf_min))
 *
 * with N = 2304 pixels, cdf(v) = #pixels <= v and cdf_min = cdf(min pixel), so the darkest
 * level present maps to 0 and the brightest to 255. Rounding is half-to-even, as OpenCV's
 * cvRound. A constant image (N = cdf_min) is returned unchanged, as OpenCV does.
 * Inputs are rounded and clipped to 0..255 first, since the formula is defined on 8-bit levels.
 */
export function equalizeHistogram(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [n] = images.shape;
    const levelsF: tf.Tensor2D = tf.reshape(tf.clipByValue(tf.round(images), 0, LEVELS - 1), [n, FACE_PIXELS]);
    const levels = tf.cast(levelsF, 'int32');
    const hist = tf.denseBincount(levels, tf.tensor2d([], [0, 0], 'float32'), LEVELS);
    const cdf = tf.cumsum(hist, 1);
    // The smallest non-zero cdf entry is the count of the darkest level present.
    const cdfMin = tf.min(tf.where(tf.greater(cdf, 0), cdf, tf.scalar(FACE_PIXELS)), 1, true);
    const range = tf.sub(FACE_PIXELS, cdfMin);
    const constant = tf.cast(tf.equal(range, 0), 'float32');
    const scale = tf.div(LEVELS - 1, tf.add(range, constant));
    // Levels below the darkest present get negative values here but are never looked up.
    // A constant image's own level has lut 0; adding the level back returns it unchanged.
    const lut = tf.add(
      tf.round(tf.mul(tf.sub(cdf, cdfMin), scale)),
      tf.mul(constant, tf.range(0, LEVELS, 1, 'float32')),
    );
    const lutStart = repeatColumn(tf.reshape(tf.range(0, n * LEVELS, LEVELS, 'float32'), [n, 1]), FACE_PIXELS);
    const lutIndex: tf.Tensor1D = tf.cast(tf.reshape(tf.add(levelsF, lutStart), [n * FACE_PIXELS]), 'int32');
    const equalised = gatherFlat(tf.reshape(lut, [n * LEVELS]), lutIndex);
    return tf.reshape(equalised, [n, FACE_SIZE, FACE_SIZE, 1]);
  });
}

/**
 * Least-squares fit onto span{1, x, y} over the 48x48 grid. Centred coordinates
 * (x - 23.5, y - 23.5) span the same planes a + bx + cy but are mutually orthogonal on the grid,
 * so the normal equations are diagonal and pinv(B) is the basis divided by its squared norms.
 * Built once in float64, rounded to float32 once.
 */
const plane = ((): { pinvT: Float32Array; basisT: Float32Array } => {
  const centre = (FACE_SIZE - 1) / 2;
  let sq = 0;
  for (let i = 0; i < FACE_SIZE; i++) sq += (i - centre) ** 2;
  const norm2 = sq * FACE_SIZE;
  const basisT = new Float32Array(3 * FACE_PIXELS);
  const pinvT = new Float32Array(FACE_PIXELS * 3);
  for (let y = 0; y < FACE_SIZE; y++) {
    for (let x = 0; x < FACE_SIZE; x++) {
      const k = y * FACE_SIZE + x;
      basisT[k] = 1;
      basisT[FACE_PIXELS + k] = x - centre;
      basisT[2 * FACE_PIXELS + k] = y - centre;
      pinvT[3 * k] = 1 / FACE_PIXELS;
      pinvT[3 * k + 1] = (x - centre) / norm2;
      pinvT[3 * k + 2] = (y - centre) / norm2;
    }
  }
  return { pinvT, basisT };
})();

/**
 * Subtracts from each image its least-squares plane a + bx + cy (x = column, y = row):
 * coefficients = X · pinv(B)^T, residual = X - coefficients · B^T. Two thin matmuls per batch
 * instead of one with the dense 2304x2304 projector I - B pinv(B), which is 700x the work.
 */
export function removePlane(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [n] = images.shape;
    const flat = tf.reshape(images, [n, FACE_PIXELS]);
    const coefficients = tf.matMul(flat, tf.tensor2d(plane.pinvT, [FACE_PIXELS, 3]));
    const fitted = tf.matMul(coefficients, tf.tensor2d(plane.basisT, [3, FACE_PIXELS]));
    return tf.reshape(tf.sub(flat, fitted), [n, FACE_SIZE, FACE_SIZE, 1]);
  });
}

/**
 * Per-image zero mean, unit (population, divide-by-N) variance. Images whose standard deviation
 * is below `minStd` become all zeros rather than amplified round-off or NaN.
 */
export function standardize(images: tf.Tensor4D, minStd = MIN_STD): tf.Tensor4D {
  return tf.tidy(() => {
    const [n] = images.shape;
    const flat = tf.reshape(images, [n, FACE_PIXELS]);
    const centred = tf.sub(flat, repeatColumn(tf.mean(flat, 1, true), FACE_PIXELS));
    const std = tf.sqrt(tf.mean(tf.square(centred), 1, true));
    // Per-image factor: 1/std, or 0 for images too flat to standardise.
    const flatImage = tf.less(std, minStd);
    const invStd = tf.where(flatImage, tf.zerosLike(std), tf.div(1, tf.where(flatImage, tf.onesLike(std), std)));
    const z = tf.mul(centred, repeatColumn(invStd, FACE_PIXELS));
    return tf.reshape(z, [n, FACE_SIZE, FACE_SIZE, 1]);
  });
}

/** The full paper §4 pipeline on raw 0..255 faces [n, 48, 48, 1]. */
export function preprocess(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => standardize(removePlane(equalizeHistogram(images))));
}

/**
 * The whole set preprocessed into one n*2304 float32 buffer (face i at [i*2304, (i+1)*2304)),
 * batchwise so that peak tensor memory stays bounded; this is the cache training perturbs.
 */
export function preprocessFaces(set: FaceSet, batchSize = 1024): Float32Array {
  if (!(batchSize >= 1)) throw new RangeError(`preprocessFaces: batchSize must be >= 1, got ${batchSize}`);
  const out = new Float32Array(set.count * FACE_PIXELS);
  for (let start = 0; start < set.count; start += batchSize) {
    const end = Math.min(set.count, start + batchSize);
    const batch = tf.tidy(() => preprocess(facesToTensor(set, start, end)));
    out.set(batch.dataSync() as Float32Array, start * FACE_PIXELS);
    batch.dispose();
  }
  return out;
}
