import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { FACE_PIXELS, FACE_SIZE } from '../data/faces.js';
import { NUM_CLASSES } from '../data/labels.js';
import { IDENTITY, perturb, type Perturbation } from '../data/perturb.js';

export interface PredictOptions {
  batchSize?: number;
  /**
   * Test-time voting (paper §5.3): average the softmax over these perturbed copies of each
   * face. Absent or empty: the face as it is.
   */
  voting?: readonly Perturbation[];
  onBatch?: (done: number) => void;
}

/** Copies preprocessed faces [start, end) into a [n,48,48,1] tensor. */
export function faceBatch(faces: Float32Array, start: number, end: number): tf.Tensor4D {
  return tf.tensor4d(faces.subarray(start * FACE_PIXELS, end * FACE_PIXELS), [end - start, FACE_SIZE, FACE_SIZE, 1]);
}

/** Softmax probabilities (n*7, row-major) of a network for preprocessed faces (n*2304). */
export function predictProbabilities(model: tfl.LayersModel, faces: Float32Array, options: PredictOptions = {}): Float32Array {
  const count = faces.length / FACE_PIXELS;
  const batchSize = options.batchSize ?? 256;
  const copies = options.voting && options.voting.length > 0 ? options.voting : [IDENTITY];
  const out = new Float32Array(count * NUM_CLASSES);
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    const mean = tf.tidy(() => {
      const batch = faceBatch(faces, start, end);
      const probabilities = copies.map((copy) => {
        const input = copy === IDENTITY ? batch : perturb(batch, new Array<Perturbation>(end - start).fill(copy));
        // Without batchSize tfjs would split the batch into chunks of 32.
        return tf.softmax(model.predict(input, { batchSize: end - start }) as tf.Tensor2D);
      });
      return tf.div(tf.addN(probabilities), copies.length);
    });
    out.set(mean.dataSync(), start * NUM_CLASSES);
    mean.dispose();
    options.onBatch?.(end);
  }
  return out;
}
