/** Runs the same computation on the wasm and cpu backends and measures the difference. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '../../src/util/rng.js';

/** Standard normal values (Box-Muller), reproducible from the seed. */
export function normal(size: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    out[i] = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  }
  return out;
}

export function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(normal(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/**
 * Evaluates `compute` on the cpu backend, then on wasm (left current), and returns the
 * outputs of both as plain arrays. `compute` must build its inputs itself.
 */
export async function onBoth(compute: () => tf.Tensor[]): Promise<{ wasm: Float32Array[]; cpu: Float32Array[] }> {
  const run = async (backend: string): Promise<Float32Array[]> => {
    await tf.setBackend(backend);
    const outs = tf.tidy(compute);
    const values = outs.map((t) => Float32Array.from(t.dataSync()));
    tf.dispose(outs);
    return values;
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  return { wasm, cpu };
}

/** max |a - b| over max |b|: the error relative to the reference's scale. */
export function relativeError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}
