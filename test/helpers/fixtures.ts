import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { dataRoot } from '../../src/data/paths.js';

/** A fresh temporary folder, removed when the callback is done. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'fer-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A deterministic 48x48 face's pixels as the CSV's space-separated text. */
export function pixelText(seed: number): string {
  return Array.from({ length: 2304 }, (_, i) => (i * 7 + seed * 13) % 256).join(' ');
}

/** A fer2013.csv text with the given rows of [emotion, Usage]. */
export function ferCsv(rows: readonly (readonly [number, string])[]): string {
  return ['emotion,pixels,Usage', ...rows.map(([label, usage], i) => `${label},${pixelText(i)},${usage}`)].join('\n') + '\n';
}

/**
 * The shared data folder for integration tests, or a skip reason naming where it was looked
 * for, so that a missing folder shows up as a skipped test rather than a silent pass.
 */
export function sharedData(relative: string): { path: string; skip: string | false } {
  const path = join(dataRoot(), relative);
  return { path, skip: existsSync(path) ? false : `shared data not found at ${path} (set FER_DATA)` };
}

/** Element-wise |actual - expected| <= tol, naming the first index that is not. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (!(Math.abs(a - e) <= tol)) assert.fail(`${what}: index ${i}: ${a} vs ${e} (tol ${tol})`);
  }
}
