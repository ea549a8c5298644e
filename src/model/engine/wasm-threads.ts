/**
 * Starts tfjs-backend-wasm 4.22 in Node, with the threaded-SIMD binary when more than one
 * thread is asked for. Out of the box the wasm backend is single-threaded in Node
 * (tfjs issue #3830); three temporary patches make the threaded binary start:
 *
 * 1. WASM_HAS_MULTITHREAD_SUPPORT is forced true (its flag returns false whenever IS_NODE).
 * 2. Blob / URL.createObjectURL: tfjs hands emscripten the pthread worker script as a blob:
 *    URL, which worker_threads cannot load. The script is written to a temporary .cjs file and
 *    its path is returned instead. The worker then receives the module factory as a Blob too,
 *    and its own createObjectURL would again give a blob: URL that importScripts (a plain
 *    readFileSync there) cannot read, so the worker file starts with a line pointing that
 *    call at the package's standalone factory script in wasm-out/.
 * 3. os.cpus(): the C++ side caps the XNNPACK pool at emscripten_num_logical_cores()/2
 *    (it assumes hyper-threading), which is 1 on a 2-vCPU machine, so during start-up the
 *    core count reads as twice the requested thread count.
 *
 * All three are undone once the backend has started. This depends on tfjs 4.22 internals.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

export interface WasmStart {
  threads: number;
  /** Why fewer threads than requested are running; absent when the request was met. */
  fallbackReason?: string;
}

const THREAD_FLAG = 'WASM_HAS_MULTITHREAD_SUPPORT';
const START_TIMEOUT_MS = 60_000;

const requireFromHere = createRequire(import.meta.url);
const wasmPackageDir = path.dirname(
  requireFromHere.resolve('@tensorflow/tfjs-backend-wasm/package.json'),
);
const wasmDistDir = path.join(wasmPackageDir, 'dist');
const threadedFactoryScript = path.join(wasmPackageDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');

/**
 * Initialises the wasm backend (if it is not running yet) and makes it current.
 * Never throws for a threading problem: it falls back to the single-threaded SIMD binary
 * and says why in `fallbackReason`. Throws only when the wasm backend cannot start at all.
 */
export async function startWasmBackend(threads: number): Promise<WasmStart> {
  // Not tf.findBackend: it would start the backend, before the thread settings below.
  if (tf.engine().registry['wasm'] != null) {
    await setBackendOrThrow();
    return describeRunning(threads, 'the wasm backend was already running; its thread count is fixed at start-up');
  }
  setWasmPaths(wasmDistDir + path.sep);
  let reason: string | undefined;
  if (threads > 1) {
    reason = threadSupportProblem();
    if (reason == null) {
      try {
        await startThreaded(threads);
        return describeRunning(threads);
      } catch (err) {
        reason = `the threaded wasm binary failed to start (${err instanceof Error ? err.message : String(err)})`;
      }
    }
  }
  // A failed or timed-out threaded start leaves the factory registered without an instance,
  // so this runs init() again for the plain SIMD binary; the engine makes a still-pending
  // threaded start obsolete.
  tf.env().set(THREAD_FLAG, false);
  setThreadsCount(1);
  await setBackendOrThrow();
  return reason == null ? { threads: 1 } : { threads: 1, fallbackReason: reason };
}

/**
 * Checked before the threaded start because a pthread worker that fails to load raises an
 * uncaught exception in the main thread (emscripten rethrows it), which cannot be caught.
 */
function threadSupportProblem(): string | undefined {
  for (const file of [threadedFactoryScript, path.join(wasmDistDir, 'tfjs-backend-wasm-threaded-simd.wasm')]) {
    if (!existsSync(file)) return `${file} is missing`;
  }
  if (typeof SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is not available';
  const probe = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
  if (!(probe.buffer instanceof SharedArrayBuffer)) return 'shared WebAssembly memory is not supported';
  return undefined;
}

async function startThreaded(threads: number): Promise<void> {
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'fer-wasm-'));
  // The pthread workers read their script when they start, which can be after start-up.
  process.once('exit', () => rmSync(tmpDir, { recursive: true, force: true }));
  const restore = patchForThreadedStart(threads, tmpDir);
  try {
    tf.env().set(THREAD_FLAG, true);
    setThreadsCount(threads);
    const started = await withTimeout(tf.setBackend('wasm'), START_TIMEOUT_MS);
    if (!started) throw new Error('tf.setBackend("wasm") returned false; see the warning above');
    unrefPoolThreads();
  } finally {
    restore();
  }
}

/**
 * Emscripten ref()s the worker of every running pthread, and XNNPACK's pool threads never
 * exit, so the process would never end on its own. The main thread waits for the pool
 * inside wasm (on a futex), never through the event loop, so the workers need no ref.
 */
function unrefPoolThreads(): void {
  const backend = tf.backend() as unknown as { wasm?: { PThread?: { runningWorkers?: { unref(): void }[] } } };
  for (const worker of backend.wasm?.PThread?.runningWorkers ?? []) worker.unref();
}

/** Returns a function that undoes every patch. */
function patchForThreadedStart(threads: number, tmpDir: string): () => void {
  const g = globalThis as { Blob: typeof Blob };
  const OriginalBlob = g.Blob;
  const originalCreateObjectURL = URL.createObjectURL;
  const mutableOs = os as { cpus: typeof os.cpus };
  const originalCpus = mutableOs.cpus;

  // Real Blob instances are returned so that postMessage can still clone them; the source
  // text is remembered on the side.
  const sources = new WeakMap<Blob, string>();
  const RecordingBlob = function (parts?: BlobPart[], options?: BlobPropertyBag): Blob {
    const blob = new OriginalBlob(parts, options);
    if (parts?.every((p) => typeof p === 'string')) sources.set(blob, parts.join(''));
    return blob;
  } as unknown as typeof Blob;
  g.Blob = RecordingBlob;

  let workerFiles = 0;
  URL.createObjectURL = (obj: Blob): string => {
    const source = sources.get(obj);
    if (source == null || !source.includes('WasmBackendModuleThreadedSimd(Module)')) {
      return originalCreateObjectURL(obj);
    }
    const file = path.join(tmpDir, `pthread-worker-${workerFiles++}.cjs`);
    const factoryRedirect =
      `URL.createObjectURL=()=>${JSON.stringify(threadedFactoryScript)};URL.revokeObjectURL=()=>{};\n`;
    writeFileSync(file, factoryRedirect + source);
    return file;
  };

  const cpus = originalCpus();
  mutableOs.cpus = () => Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]!);

  return () => {
    g.Blob = OriginalBlob;
    URL.createObjectURL = originalCreateObjectURL;
    mutableOs.cpus = originalCpus;
  };
}

async function setBackendOrThrow(): Promise<void> {
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend failed to start');
}

function describeRunning(requested: number, whyFewer?: string): WasmStart {
  const threads = getThreadsCount();
  if (threads >= requested) return { threads };
  return {
    threads,
    fallbackReason: whyFewer ?? `XNNPACK started ${threads} thread(s) instead of ${requested}`,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no start within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
