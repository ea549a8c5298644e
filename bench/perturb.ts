/**
 * Per-batch cost of the data pipeline: preprocess (paper §4) on 128 raw faces and perturb
 * (paper §5.2) on 128 preprocessed faces, on the wasm and cpu backends. Median of 20 runs
 * after warm-up, so one-off kernel setup does not count.
 *
 *   node dist/bench/perturb.js
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { FACE_PIXELS, type FaceSet } from '../src/data/faces.js';
import { facesToTensor, preprocess } from '../src/data/preprocess.js';
import { perturb, randomPerturbation } from '../src/data/perturb.js';
import { Rng } from '../src/util/rng.js';

const BATCH = 128;
const RUNS = 20;
const WARMUP = 3;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Median wall time of `fn`, which must return a tensor; reading it back forces completion. */
function time(fn: () => tf.Tensor): number {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t0 = performance.now();
    const out = fn();
    out.dataSync();
    const dt = performance.now() - t0;
    out.dispose();
    if (i >= WARMUP) samples.push(dt);
  }
  return median(samples);
}

const rng = new Rng(2015);
const pixels = new Uint8Array(BATCH * FACE_PIXELS);
for (let i = 0; i < pixels.length; i++) pixels[i] = rng.int(256);
const set: FaceSet = { count: BATCH, pixels, labels: new Int8Array(BATCH) };

for (const backend of ['wasm', 'cpu']) {
  if (!(await tf.setBackend(backend))) {
    console.log(`${backend}: unavailable`);
    continue;
  }
  await tf.ready();
  const raw = facesToTensor(set);
  const pre = preprocess(raw);
  const preMs = time(() => preprocess(raw));
  const perturbMs = time(() => perturb(pre, Array.from({ length: BATCH }, () => randomPerturbation(rng))));
  tf.dispose([raw, pre]);
  console.log(
    `${backend.padEnd(4)}  preprocess ${preMs.toFixed(2)} ms/batch of ${BATCH}  ` +
      `perturb ${perturbMs.toFixed(2)} ms/batch of ${BATCH}  (median of ${RUNS})`,
  );
}
