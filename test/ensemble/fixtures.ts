/** Synthetic member responses and brute-force minimisers shared by the ensemble tests. */
import { NUM_CLASSES } from '../../src/data/labels.js';
import { Rng } from '../../src/util/rng.js';

export interface Responses {
  probs: Float32Array[];
  labels: Int8Array;
}

/**
 * K members that see the same noisy evidence for the true class, each with its own extra noise
 * (growing with k) and sharpness, so members are correlated but differ in quality.
 */
export function syntheticResponses(seed: number, samples: number, members: number): Responses {
  const rng = new Rng(seed);
  const labels = new Int8Array(samples);
  const evidence = new Float64Array(samples * NUM_CLASSES);
  for (let i = 0; i < samples; i++) {
    labels[i] = rng.int(NUM_CLASSES);
    for (let c = 0; c < NUM_CLASSES; c++) evidence[i * NUM_CLASSES + c] = 3 * (rng.next() - 0.5) + (c === labels[i] ? 1.2 : 0);
  }
  const probs: Float32Array[] = [];
  for (let k = 0; k < members; k++) {
    const noise = 1 + 0.7 * k;
    const sharpness = 1 + 0.4 * (k % 3);
    const logits = new Float64Array(NUM_CLASSES);
    probs.push(
      softmaxRows(samples, (i) => {
        for (let c = 0; c < NUM_CLASSES; c++) {
          logits[c] = sharpness * ((evidence[i * NUM_CLASSES + c] as number) + noise * (rng.next() - 0.5));
        }
        return logits;
      }),
    );
  }
  return { probs, labels };
}

/** A member that puts all its probability on the true class. */
export function perfectMember(labels: Int8Array): Float32Array {
  const p = new Float32Array(labels.length * NUM_CLASSES);
  labels.forEach((y, i) => {
    p[i * NUM_CLASSES + y] = 1;
  });
  return p;
}

function softmaxRows(samples: number, logitsOf: (i: number) => Float64Array): Float32Array {
  const out = new Float32Array(samples * NUM_CLASSES);
  for (let i = 0; i < samples; i++) {
    const logits = logitsOf(i);
    const top = Math.max(...logits);
    let total = 0;
    for (let c = 0; c < NUM_CLASSES; c++) total += Math.exp((logits[c] as number) - top);
    for (let c = 0; c < NUM_CLASSES; c++) out[i * NUM_CLASSES + c] = Math.exp((logits[c] as number) - top) / total;
  }
  return out;
}

/** Minimiser of a convex function on [lo, hi] by golden-section search (exact for unimodal f). */
export function goldenSectionMinimum(f: (x: number) => number, lo: number, hi: number, iterations = 200): number {
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = lo;
  let b = hi;
  let x1 = b - ratio * (b - a);
  let x2 = a + ratio * (b - a);
  let f1 = f(x1);
  let f2 = f(x2);
  for (let i = 0; i < iterations && b - a > 1e-15; i++) {
    if (f1 <= f2) {
      b = x2;
      x2 = x1;
      f2 = f1;
      x1 = b - ratio * (b - a);
      f1 = f(x1);
    } else {
      a = x1;
      x1 = x2;
      f1 = f2;
      x2 = a + ratio * (b - a);
      f2 = f(x2);
    }
  }
  return (a + b) / 2;
}

/**
 * Minimiser of a convex f over the 3-simplex by nested golden sections: the minimum over w2 for
 * fixed w1 is itself convex in w1, so both searches are exact up to their resolution.
 */
export function bruteForceSimplex3(f: (w: Float64Array) => number): Float64Array {
  const at = (w1: number, w2: number): number => f(Float64Array.of(w1, w2, Math.max(0, 1 - w1 - w2)));
  const bestW2 = (w1: number): number => goldenSectionMinimum((w2) => at(w1, w2), 0, 1 - w1, 80);
  const w1 = goldenSectionMinimum((x) => at(x, bestW2(x)), 0, 1, 80);
  const w2 = bestW2(w1);
  return Float64Array.of(w1, w2, Math.max(0, 1 - w1 - w2));
}

/** Every point of the 3-simplex grid with spacing 1 / steps. */
export function* simplexGrid3(steps: number): Generator<Float64Array> {
  for (let a = 0; a <= steps; a++) {
    for (let b = 0; a + b <= steps; b++) yield Float64Array.of(a / steps, b / steps, (steps - a - b) / steps);
  }
}
