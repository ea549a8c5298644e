/**
 * Loads the libtorch Node-API addon (native/, built by scripts/build-torch.mjs) on first
 * use. Nothing here runs at import time, so projects without libtorch never notice it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Slot numbers name tensors held by the addon; every op writes its result's dtype and shape into `meta`. */
export interface TorchAddon {
  init(meta: Int32Array, threads: number): number;
  setThreads(threads: number): number;
  write(values: ArrayBufferView | null, shape: number[], dtype: number): number;
  read(slot: number): Float32Array | Int32Array | Uint8Array;
  free(slot: number): void;
  live(): number;
  describe(slot: number): number;
  unary(op: number, x: number, a: number, b: number): number;
  binary(op: number, a: number, b: number): number;
  cast(x: number, dtype: number): number;
  addN(xs: number[]): number;
  select(condition: number, t: number, e: number): number;
  reduce(op: number, x: number, axes: number[], keepDims: boolean): number;
  softmax(x: number, dim: number): number;
  reshape(x: number, shape: number[]): number;
  transpose(x: number, perm: number[]): number;
  slice(x: number, begin: number[], size: number[]): number;
  stridedSlice(x: number, begin: number[], end: number[], strides: number[], outShape: number[]): number;
  concat(xs: number[], axis: number): number;
  stack(xs: number[], axis: number): number;
  unstack(x: number, axis: number): number[];
  pad(x: number, paddings: number[], value: number): number;
  tile(x: number, reps: number[]): number;
  reverse(x: number, dims: number[]): number;
  gather(x: number, indices: number, axis: number): number;
  oneHot(indices: number, depth: number, on: number, off: number, dtype: number): number;
  fill(shape: number[], value: number, dtype: number): number;
  zerosLike(x: number): number;
  onesLike(x: number): number;
  matMul(a: number, b: number, transposeA: boolean, transposeB: boolean, bias: number, activation: number, alpha: number, prelu: number): number;
  conv2d(x: number, filter: number, bias: number, activation: number, alpha: number, prelu: number, strides: number[], dilations: number[], pads: number[]): number;
  conv2dBackpropInput(dy: number, filter: number, inputShape: number[], strides: number[], dilations: number[], pads: number[]): number;
  conv2dBackpropFilter(x: number, dy: number, filterShape: number[], strides: number[], dilations: number[], pads: number[]): number;
  maxPool(x: number, filterSize: number[], strides: number[], pads: number[], outSize: number[]): number;
  maxPoolGrad(dy: number, x: number, y: number, filterSize: number[], strides: number[], pads: number[], outSize: number[]): number;
  stochasticPool(x: number, poolSize: number, strides: number, training: boolean, seed: number): number[];
  stochasticPoolGrad(dy: number, argIndex: number, inputShape: number[]): number;
  readonly unaryOps: string[];
  readonly binaryOps: string[];
  readonly reduceOps: string[];
  readonly torchVersion: string;
}

export type AddonStatus = { ok: true; addon: TorchAddon; path: string } | { ok: false; reason: string };

/** dist/src/model/engine/torch/ -> package root; TORCH_BACKEND_ADDON overrides. */
export function addonPath(): string {
  return process.env['TORCH_BACKEND_ADDON'] ?? fileURLToPath(new URL('../../../../../native/build/Release/torch_backend.node', import.meta.url));
}

let status: AddonStatus | undefined;

export function loadAddon(): AddonStatus {
  if (status != null) return status;
  const path = addonPath();
  if (!existsSync(path)) {
    status = {
      ok: false,
      reason: `the torch addon is not built (${path} missing): install libtorch (apt-get install libtorch-dev libopenblas0-pthread, or set LIBTORCH) and run node scripts/build-torch.mjs`,
    };
    return status;
  }
  // libgomp reads this once, when libtorch loads. Its default (spin while waiting) makes each
  // of a training step's ~300 parallel regions stall whenever another process holds a core,
  // up to 25x slower on a busy 2-core machine; sleeping costs little on an idle one.
  // OMP_WAIT_POLICY=active in the environment restores spinning.
  process.env['OMP_WAIT_POLICY'] ??= 'passive';
  try {
    status = { ok: true, addon: createRequire(import.meta.url)(path) as TorchAddon, path };
  } catch (err) {
    status = { ok: false, reason: `the torch addon at ${path} failed to load: ${(err as Error).message}` };
  }
  return status;
}
