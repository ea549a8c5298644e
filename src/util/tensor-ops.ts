import * as tf from '@tensorflow/tfjs-core';

/**
 * params[indices] for 1-D tensors. The wasm GatherV2 kernel validates every index in a JS loop,
 * which makes it ~10x slower than its GatherNd (no validation, so indices must be in range);
 * on the cpu backend GatherV2 is the faster of the two.
 */
export function gatherFlat(params: tf.Tensor1D, indices: tf.Tensor1D): tf.Tensor1D {
  if (tf.getBackend() !== 'wasm') return tf.gather(params, indices);
  return tf.gatherND(params, tf.reshape(indices, [indices.size, 1])) as tf.Tensor1D;
}

/**
 * Column [n, 1] repeated to [n, width], as an outer product with ones. The cpu backend's
 * binary ops take a per-element generic path whenever an operand broadcasts (~10x slower than
 * same-shape), so per-image constants are expanded once and combined same-shape.
 */
export function repeatColumn(column: tf.Tensor, width: number): tf.Tensor2D {
  return tf.matMul(column, tf.ones([1, width]));
}
