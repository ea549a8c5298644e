import type { Command } from 'commander';
import { join } from 'node:path';
import type { DataError } from '../data/errors.js';
import { faceSubset, type FaceSet } from '../data/faces.js';
import { dataRoot, DEFAULT_FER_FILE } from '../data/paths.js';
import { preprocessFaces } from '../data/preprocess.js';
import { initEngine } from '../model/engine/backend.js';
import type { LabelledInputs } from '../train/trainer.js';
import { Rng } from '../util/rng.js';

const SHOWN_BAD_ROWS = 20;

/** Prints skipped bad rows to stderr: the count and the first few, each with file and line. */
export function reportBadRows(bad: readonly DataError[]): void {
  if (bad.length === 0) return;
  console.error(`\n${bad.length} bad row(s) skipped:`);
  for (const error of bad.slice(0, SHOWN_BAD_ROWS)) console.error(`  ${error.message}`);
  if (bad.length > SHOWN_BAD_ROWS) console.error(`  ... and ${bad.length - SHOWN_BAD_ROWS} more`);
}

export interface EngineOptions {
  backend: 'wasm' | 'cpu' | 'torch' | 'auto';
  threads?: string;
}

export function addEngineOptions(command: Command): Command {
  return command
    .option('--backend <name>', 'tfjs backend: auto, torch, wasm or cpu', 'auto')
    .option('--threads <n>', 'compute threads (default: up to 2)');
}

/** Starts the compute engine and says which one runs. */
export async function startEngine(opts: EngineOptions): Promise<void> {
  const engine = await initEngine({ backend: opts.backend, ...(opts.threads ? { threads: Number(opts.threads) } : {}) });
  console.error(`engine: ${engine.backend}, ${engine.threads} thread(s)`);
}

export interface DataOptions {
  data?: string;
  dataRoot?: string;
  skipBadRows?: boolean;
}

export function addDataOptions(command: Command, defaultData = DEFAULT_FER_FILE): Command {
  return command
    .option('--data <path>', `fer2013.csv(.gz) or ImageFolder (default: <data-root>/${defaultData})`)
    .option('--data-root <dir>', 'root of the shared data folders (default: $FER_DATA or ../shared/data)')
    .option('--skip-bad-rows', 'count and report malformed rows instead of stopping at the first');
}

export function dataPath(opts: DataOptions, fallback = DEFAULT_FER_FILE): string {
  return opts.data ?? join(dataRoot(opts.dataRoot), fallback);
}

/** A seeded random subset of `limit` faces (all when limit is absent). */
export function takeSubset(set: FaceSet, limit: number | undefined, seed: number): FaceSet {
  if (limit === undefined || limit >= set.count) return set;
  const order = new Rng(seed).shuffle(Int32Array.from({ length: set.count }, (_, i) => i));
  return faceSubset(set, order.subarray(0, limit).sort());
}

export function toInputs(set: FaceSet): LabelledInputs {
  return { inputs: preprocessFaces(set), labels: set.labels };
}

export function positiveInt(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${value}"`);
    return n;
  };
}

export function positiveNumber(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${value}"`);
    return n;
  };
}
