/**
 * The `torch` tfjs backend: every kernel of the network runs as ATen ops on tensors kept in
 * libtorch memory (via the addon in native/). Usage:
 *
 *   const status = torchAvailability();            // { available, reason? }, loads nothing else
 *   await startTorchBackend(2);                     // registers 'torch' and makes it current
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadAddon } from './addon.js';
import { TorchBackend } from './backend.js';
import { cpuFallback } from './fallback.js';
import { buildKernels } from './kernels.js';

export { fallbacksUsed } from './fallback.js';
export { TorchBackend } from './backend.js';

export const TORCH_BACKEND = 'torch';

export type TorchAvailability = { available: true; torchVersion: string; addonPath: string } | { available: false; reason: string };

export function torchAvailability(): TorchAvailability {
  const s = loadAddon();
  return s.ok ? { available: true, torchVersion: s.addon.torchVersion, addonPath: s.path } : { available: false, reason: s.reason };
}

let registered = false;
let requestedThreads = 2;

/**
 * Registers the backend and its kernels (once). Kernels the addon lacks are routed through
 * the cpu backend, so any tfjs program runs, if slowly where it leaves the network's path.
 * Throws, with the reason, when the addon cannot be loaded.
 */
export function registerTorchBackend(threads = 2): void {
  const s = loadAddon();
  if (!s.ok) throw new Error(`torch backend not available: ${s.reason}`);
  requestedThreads = threads;
  if (registered) return;
  registered = true;
  const addon = s.addon;
  tf.registerBackend(TORCH_BACKEND, () => new TorchBackend(addon, requestedThreads), 1);
  const native = buildKernels(addon);
  const names = new Set([...Object.keys(native), ...tf.getKernelsForBackend('cpu').map((c) => c.kernelName)]);
  for (const kernelName of names) {
    if (tf.getKernel(kernelName, TORCH_BACKEND) != null) continue;
    const cpuKernel = tf.getKernel(kernelName, 'cpu')?.kernelFunc;
    const fallback = cpuKernel == null ? undefined : cpuFallback(kernelName, cpuKernel);
    const own = native[kernelName];
    const kernelFunc =
      own == null
        ? fallback!
        : (args: Parameters<typeof own>[0]) => {
            // tfjs passes no attrs object to kernels without attributes.
            const r = own({ ...args, attrs: args.attrs ?? {} });
            if (r !== undefined) return r;
            if (fallback == null) throw new Error(`torch backend: ${kernelName} has no implementation for these arguments`);
            return fallback(args);
          };
    tf.registerKernel({ kernelName, backendName: TORCH_BACKEND, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}

/** Registers the backend if needed and makes it current; compute runs on `threads` threads. */
export async function startTorchBackend(threads = 2): Promise<{ backend: string; threads: number }> {
  registerTorchBackend(threads);
  if (!(await tf.setBackend(TORCH_BACKEND))) throw new Error('the torch backend failed to start');
  // The backend may have been created earlier with another count; libtorch's pool resizes.
  return { backend: TORCH_BACKEND, threads: (tf.backend() as TorchBackend).addon.setThreads(threads) };
}
