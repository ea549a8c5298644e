/**
 * Euclidean projection onto the probability simplex {w : w >= 0, sum w = 1}.
 *
 * Sort-based algorithm of Duchi, Shalev-Shwartz, Singer & Chandra (ICML 2008): the projection is
 * max(v - theta, 0) for the unique threshold theta that makes the result sum to one, and theta is
 * found exactly from the sorted values in O(K log K).
 */
export function projectOntoSimplex(v: Float64Array): Float64Array {
  const k = v.length;
  if (k === 0) throw new Error('projectOntoSimplex: empty vector');
  for (let i = 0; i < k; i++) {
    if (!Number.isFinite(v[i] as number)) throw new Error(`projectOntoSimplex: non-finite entry at ${i}`);
  }
  const sorted = Float64Array.from(v).sort().reverse();
  let cumulative = 0;
  let theta = 0;
  for (let j = 0; j < k; j++) {
    const u = sorted[j] as number;
    cumulative += u;
    const candidate = (cumulative - 1) / (j + 1);
    // The support is every index whose sorted value stays above its threshold; the last such
    // index fixes theta (Duchi et al., Lemma 2).
    if (u - candidate > 0) theta = candidate;
  }
  const w = new Float64Array(k);
  for (let i = 0; i < k; i++) w[i] = Math.max((v[i] as number) - theta, 0);
  return w;
}

/** Largest violation of {w >= 0, sum w = 1}; zero for a point on the simplex. */
export function simplexViolation(w: ArrayLike<number>): number {
  let sum = 0;
  let worst = 0;
  for (let i = 0; i < w.length; i++) {
    const wi = w[i] as number;
    sum += wi;
    worst = Math.max(worst, -wi);
  }
  return Math.max(worst, Math.abs(sum - 1));
}
