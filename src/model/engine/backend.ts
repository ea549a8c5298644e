/**
 * Chooses and starts the compute engine once per process: the native torch backend when its
 * addon is built (see scripts/build-torch.mjs), else tfjs-backend-wasm with the training
 * kernels it lacks; cpu only for reference results.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// The tfjs-core node bundle registers no gradient functions; tfjs-layers registers them all.
import '@tensorflow/tfjs-layers';
import os from 'node:os';
import { startTorchBackend, torchAvailability } from './torch/index.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import { startWasmBackend } from './wasm-threads.js';

export type EngineName = 'wasm' | 'cpu' | 'torch';

export interface EngineOptions {
  /** 'auto' picks the fastest engine available: torch when its addon is built, else wasm. */
  backend?: EngineName | 'auto';
  /** Compute threads; default min(2, available parallelism). */
  threads?: number;
}

export interface EngineInfo {
  backend: string;
  threads: number;
  /** Why fewer threads run than were asked for, when that happened. */
  note?: string;
}

type EngineStarter = (threads: number) => Promise<EngineInfo>;

const engines: Record<EngineName, EngineStarter> = {
  wasm: async (threads) => {
    const started = await startWasmBackend(threads);
    registerWasmTrainingKernels();
    return {
      backend: 'wasm',
      threads: started.threads,
      ...(started.fallbackReason ? { note: started.fallbackReason } : {}),
    };
  },
  // The plain JavaScript backend: about 100x slower than wasm; for reference results only.
  cpu: async () => {
    if (!(await tf.setBackend('cpu'))) throw new Error('the tfjs cpu backend failed to start');
    return { backend: 'cpu', threads: 1 };
  },
  torch: (threads) => startTorchBackend(threads),
};

function autoEngine(): EngineName {
  return torchAvailability().available ? 'torch' : 'wasm';
}

let running: { key: string; info: Promise<EngineInfo> } | undefined;
let current: EngineInfo | undefined;

/**
 * Starts the engine. Idempotent: later calls with the same options return the same result;
 * asking for a different engine or thread count once one is running is an error, because the
 * wasm thread pool cannot be resized.
 */
export async function initEngine(opts: EngineOptions = {}): Promise<EngineInfo> {
  const threads = opts.threads ?? Math.min(2, os.availableParallelism());
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${opts.threads}`);
  const requested = opts.backend ?? 'auto';
  // An unspecified request accepts whatever engine already runs.
  if (running != null && requested === 'auto' && opts.threads === undefined) return running.info;
  const name = requested === 'auto' ? autoEngine() : requested;
  const key = `${name}/${threads}`;
  if (running != null) {
    if (running.key !== key) {
      const was = await running.info;
      throw new Error(`engine already started as ${was.backend} with ${was.threads} thread(s); cannot switch to ${name} with ${threads}`);
    }
    return running.info;
  }
  const info = engines[name](threads).then((started) => {
    current = started;
    if (started.note != null) console.error(`engine: ${started.backend} runs ${started.threads} thread(s): ${started.note}`);
    return started;
  });
  running = { key, info };
  // A failed start can be retried, e.g. with another engine.
  info.catch(() => {
    running = undefined;
  });
  return info;
}

/** One line for logs and run records, e.g. "wasm, 2 threads". */
export function describeEngine(): string {
  if (current == null) return 'not started';
  return `${current.backend}, ${current.threads} thread${current.threads === 1 ? '' : 's'}`;
}
