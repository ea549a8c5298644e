/**
 * Shared by the torch backend tests: the skip reason when the addon is absent, seeded
 * inputs, and `onBoth`, which runs one computation on cpu and on torch and compares.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// The tfjs-core node bundle registers no gradients; tfjs-layers registers them all.
import '@tensorflow/tfjs-layers';
import { Rng } from '../../src/util/rng.js';
import { registerTorchBackend, torchAvailability } from '../../src/model/engine/torch/index.js';

const availability = torchAvailability();
/** `test(name, { skip }, ...)`: false when the addon loads, otherwise why it does not. */
export const skip: false | string = availability.available ? false : `torch backend unavailable: ${availability.reason}`;
if (availability.available) registerTorchBackend(2);

export function uniform(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(size);
  for (let i = 0; i < size; i++) v[i] = lo + (hi - lo) * rng.next();
  return tf.tensor(v, shape);
}

export function ints(shape: number[], seed: number, lo: number, hi: number): tf.Tensor {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const v = new Int32Array(size);
  for (let i = 0; i < size; i++) v[i] = lo + Math.floor((hi - lo) * rng.next());
  return tf.tensor(v, shape, 'int32');
}

export function bools(shape: number[], seed: number): tf.Tensor {
  return tf.cast(ints(shape, seed, 0, 2), 'bool');
}

export interface Result {
  shape: number[];
  dtype: tf.DataType;
  values: Float32Array | Int32Array | Uint8Array;
}

/** Evaluates `compute` on `backend` and returns its outputs as plain arrays. */
export async function evaluate(backend: string, compute: () => tf.Tensor | tf.Tensor[]): Promise<Result[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const r = compute();
    return Array.isArray(r) ? r : [r];
  });
  const results = outs.map((o) => ({ shape: o.shape, dtype: o.dtype, values: o.dataSync() as Result['values'] }));
  tf.dispose(outs);
  return results;
}

/** max |a - b| / max(1, max |b|), NaN matching NaN; Infinity when only one side is NaN. */
export function scaledError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity;
      continue;
    }
    if (x === y) continue;
    diff = Math.max(diff, Math.abs(x - y));
    if (Number.isFinite(y)) scale = Math.max(scale, Math.abs(y));
  }
  return diff / scale;
}

/**
 * Runs `compute` on cpu (the reference) and on torch; shapes and dtypes must agree, int
 * and bool values exactly, float values within `tol` (see scaledError). Returns the worst error.
 */
export async function onBoth(compute: () => tf.Tensor | tf.Tensor[], tol: number): Promise<number> {
  const ref = await evaluate('cpu', compute);
  const got = await evaluate('torch', compute);
  assert.equal(got.length, ref.length, 'number of outputs');
  let worst = 0;
  ref.forEach((r, i) => {
    const g = got[i]!;
    assert.deepEqual(g.shape, r.shape, `output ${i} shape`);
    assert.equal(g.dtype, r.dtype, `output ${i} dtype`);
    if (r.dtype !== 'float32') {
      assert.deepEqual(Array.from(g.values), Array.from(r.values), `output ${i} values`);
      return;
    }
    const err = scaledError(g.values, r.values);
    assert.ok(err <= tol, `output ${i}: error ${err} > ${tol}`);
    worst = Math.max(worst, err);
  });
  return worst;
}
