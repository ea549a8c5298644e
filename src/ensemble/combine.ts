/**
 * Ways of combining K members' class distributions (each N*7 row-major) into one ensemble output.
 */
import { NUM_CLASSES } from '../data/labels.js';
import type { LabelArray } from './objectives.js';

/**
 * Weight of the summed-probability tie-break inside majorityVote, in votes. It is below one vote,
 * so it can only reorder classes with equal counts, and large enough that float32 still resolves
 * probability differences of about 1e-5 between tied classes.
 */
const VOTE_TIE_BREAK_WEIGHT = 0.01;

function sampleCount(probs: readonly Float32Array[]): number {
  if (probs.length === 0) throw new Error('combine: no member responses');
  const length = (probs[0] as Float32Array).length;
  if (length % NUM_CLASSES !== 0) throw new Error(`combine: ${length} values is not a multiple of ${NUM_CLASSES}`);
  for (const p of probs) {
    if (p.length !== length) throw new Error('combine: members have different numbers of samples');
  }
  return length / NUM_CLASSES;
}

/** sum_k weights[k] * probs[k], accumulated in float64. */
export function weightedAverage(probs: readonly Float32Array[], weights: ArrayLike<number>): Float32Array {
  if (weights.length !== probs.length) {
    throw new Error(`combine: ${weights.length} weights for ${probs.length} members`);
  }
  const n = sampleCount(probs);
  const sum = new Float64Array(n * NUM_CLASSES);
  probs.forEach((p, k) => {
    const wk = weights[k] as number;
    if (wk === 0) return;
    for (let j = 0; j < sum.length; j++) sum[j] = (sum[j] as number) + wk * (p[j] as number);
  });
  return Float32Array.from(sum);
}

/** The unweighted mean of the members ("Average" in the paper). */
export function plainAverage(probs: readonly Float32Array[]): Float32Array {
  return weightedAverage(probs, new Array<number>(probs.length).fill(1 / probs.length));
}

/**
 * Each member votes for its argmax class; the result is the vote share per class. Classes with
 * equal counts are ordered by their summed probability over the members, folded in as
 * (votes + VOTE_TIE_BREAK_WEIGHT * meanProbability) / (K + VOTE_TIE_BREAK_WEIGHT) so that the
 * row still sums to one and argmaxRows applies the tie-break.
 */
export function majorityVote(probs: readonly Float32Array[]): Float32Array {
  const n = sampleCount(probs);
  const k = probs.length;
  const votes = new Float64Array(n * NUM_CLASSES);
  for (const p of probs) {
    const choice = argmaxRows(p);
    for (let i = 0; i < n; i++) votes[i * NUM_CLASSES + (choice[i] as number)] += 1;
  }
  const mean = plainAverage(probs);
  const out = new Float32Array(n * NUM_CLASSES);
  for (let j = 0; j < out.length; j++) {
    out[j] = ((votes[j] as number) + VOTE_TIE_BREAK_WEIGHT * (mean[j] as number)) / (k + VOTE_TIE_BREAK_WEIGHT);
  }
  return out;
}

/** Index of the largest value in each row of 7; the first index wins a tie. */
export function argmaxRows(p: Float32Array | Float64Array): Int32Array {
  if (p.length % NUM_CLASSES !== 0) throw new Error(`argmaxRows: ${p.length} values is not a multiple of ${NUM_CLASSES}`);
  const n = p.length / NUM_CLASSES;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * NUM_CLASSES;
    let best = 0;
    let bestValue = p[row] as number;
    for (let c = 1; c < NUM_CLASSES; c++) {
      const v = p[row + c] as number;
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Fraction of predictions equal to their label. */
export function accuracy(predictions: ArrayLike<number>, labels: LabelArray | Int32Array): number {
  if (predictions.length !== labels.length) {
    throw new Error(`accuracy: ${predictions.length} predictions for ${labels.length} labels`);
  }
  if (labels.length === 0) throw new Error('accuracy: no samples');
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return correct / labels.length;
}
