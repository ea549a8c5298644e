import * as tf from '@tensorflow/tfjs-core';
import { FACE_SIZE } from '../data/faces.js';
import type { Box } from './boxes.js';
import type { DecodedImage } from './image.js';

export interface CropOptions {
  /**
   * Extra context on each side, as a fraction of the box's longer side: the crop is a square of side
   * max(width, height) * (1 + 2 * margin) centred on the box.
   */
  margin?: number;
}

/**
 * Reproduces FER2013's framing for SSD boxes: bench/detect-faces.ts finds that a FER2013 face is cropped
 * at about the SSD box's longer side, median margin 0.010 (quartiles -0.021..0.045) over the 147 of the
 * first 1000 training faces where SSD finds a face, 0.021 over the 90 it finds with score > 0.5.
 * Tighter boxes, such as dlib's, need a larger margin.
 */
export const DEFAULT_CROP_MARGIN = 0.02;

/**
 * Cuts the square around a face box out of the grayscale image and resizes it to the network input,
 * FACE_SIZE x FACE_SIZE bytes, row-major. Parts of the square outside the image repeat the nearest
 * border pixel, so a face cut off by the border is not given an artificial dark edge.
 * Runs synchronously on the current tfjs backend, which must be initialised (`await tf.ready()`;
 * FaceDetector.load does it).
 */
export function cropFace(image: DecodedImage, box: Box, opts: CropOptions = {}): Uint8Array {
  const margin = opts.margin ?? DEFAULT_CROP_MARGIN;
  if (!(margin >= 0)) throw new Error(`cropFace: margin must be >= 0, got ${margin}`);
  if (!(box.width > 0 && box.height > 0)) throw new Error(`cropFace: empty box ${JSON.stringify(box)}`);
  const { width: w, height: h } = image;
  const side = Math.max(1, Math.round(Math.max(box.width, box.height) * (1 + 2 * margin)));
  const x0 = Math.round(box.left + box.width / 2 - side / 2);
  const y0 = Math.round(box.top + box.height / 2 - side / 2);
  // Only the band of rows the square touches goes to the backend, not the whole photo.
  const r0 = clamp(y0, 0, h - 1);
  const r1 = clamp(y0 + side, r0 + 1, h);
  const band = image.gray.subarray(r0 * w, r1 * w);

  const pixels = tf.tidy(() => {
    const rows = tf.tensor1d(clampedRange(y0 - r0, side, r1 - r0 - 1), 'int32');
    const cols = tf.tensor1d(clampedRange(x0, side, w - 1), 'int32');
    const square = tf.gather(tf.gather(tf.tensor2d(band, [r1 - r0, w], 'int32'), rows, 0), cols, 1);
    let face = tf.cast(tf.reshape(square, [1, side, side, 1]), 'float32') as tf.Tensor4D;
    // Bilinear resizing alone reads only 4 source pixels per output pixel and aliases when shrinking a
    // large face; box-averaging by the integer factor first makes each output pixel cover its whole area.
    const factor = Math.floor(side / FACE_SIZE);
    if (factor > 1) face = tf.avgPool(face, factor, factor, 'valid');
    face = tf.image.resizeBilinear(face, [FACE_SIZE, FACE_SIZE], false, true);
    return tf.cast(tf.clipByValue(tf.round(face), 0, 255), 'int32');
  });
  const out = Uint8Array.from(pixels.dataSync());
  pixels.dispose();
  return out;
}

/** Indices start..start+count-1, each clamped to [0, max]: gathering with them repeats the border pixels. */
function clampedRange(start: number, count: number, max: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => clamp(start + i, 0, max));
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
