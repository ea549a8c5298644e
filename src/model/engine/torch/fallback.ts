/**
 * Correct-but-slow cover for kernels (or kernel cases) the addon does not implement: the
 * inputs are copied into a private tfjs cpu backend, its kernel runs there, and the
 * results are copied back. The network's own kernels never come here; `fallbacksUsed`
 * lets tests and benchmarks check that.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { TorchBackend } from './backend.js';

let cpu: MathBackendCPU | undefined;
const used = new Set<string>();

/** Kernel names that have run through the cpu fallback in this process. */
export function fallbacksUsed(): string[] {
  return [...used].sort();
}

export function cpuFallback(kernelName: string, cpuKernel: tf.KernelFunc) {
  return ({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs: Record<string, unknown>; backend: TorchBackend }): tf.TensorInfo | tf.TensorInfo[] => {
    used.add(kernelName);
    cpu ??= new MathBackendCPU();
    const local = cpu;
    const staged: tf.DataId[] = [];
    const cpuInputs: tf.NamedTensorInfoMap = {};
    for (const [name, info] of Object.entries(inputs)) {
      if (info == null) continue;
      const dataId = local.write(backend.readSync(info.dataId), info.shape, info.dtype);
      staged.push(dataId);
      cpuInputs[name] = { dataId, shape: info.shape, dtype: info.dtype };
    }
    // Array-input kernels (Concat, AddN, ...) take an array; keep that shape.
    const args = Array.isArray(inputs) ? Object.values(cpuInputs) : cpuInputs;
    const result = cpuKernel({ inputs: args as tf.NamedTensorInfoMap, attrs: attrs as tf.NamedAttrMap, backend: local });
    const results = Array.isArray(result) ? result : [result];
    const converted = results.map((r) => {
      staged.push(r.dataId);
      return backend.fromValues(local.readSync(r.dataId), r.shape, r.dtype);
    });
    for (const dataId of staged) local.disposeData(dataId, true);
    return Array.isArray(result) ? converted : converted[0]!;
  };
}
