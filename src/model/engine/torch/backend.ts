/**
 * The `torch` KernelBackend: tfjs keeps graphs, tapes and optimisers; tensor data lives in
 * libtorch memory, reached through slot numbers. Data crosses into JS only when read.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TorchAddon } from './addon.js';

export const DTYPES: readonly tf.DataType[] = ['float32', 'int32', 'bool'];

export function dtypeCode(dtype: tf.DataType): number {
  const code = DTYPES.indexOf(dtype);
  if (code < 0) throw new Error(`the torch backend does not support dtype ${dtype}`);
  return code;
}

interface TensorData {
  slot: number;
  refCount: number;
}

export class TorchBackend extends tf.KernelBackend {
  /** The addon writes each result's [dtype, rank, ...shape] here. */
  private readonly meta = new Int32Array(16);
  private readonly data: tf.DataStorage<TensorData>;
  readonly threads: number;

  constructor(readonly addon: TorchAddon, threads: number) {
    super();
    this.data = new tf.DataStorage(this, tf.engine());
    this.threads = addon.init(this.meta, threads);
  }

  override write(values: tf.backend_util.BackendValues | null, shape: number[], dtype: tf.DataType): tf.DataId {
    const dataId = {};
    this.move(dataId, values, shape, dtype, 1);
    return dataId;
  }

  override move(dataId: tf.DataId, values: tf.backend_util.BackendValues | null, shape: number[], dtype: tf.DataType, refCount: number): void {
    if (values != null && !ArrayBuffer.isView(values)) throw new Error(`the torch backend cannot store ${dtype} values`);
    this.data.set(dataId, { slot: this.addon.write(values, shape, dtypeCode(dtype)), refCount });
  }

  override async read(dataId: tf.DataId): Promise<tf.backend_util.BackendValues> {
    return this.readSync(dataId);
  }

  override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
    return this.addon.read(this.data.get(dataId).slot);
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    if (!this.data.has(dataId)) return true;
    const d = this.data.get(dataId);
    d.refCount--;
    if (!force && d.refCount > 0) return false;
    this.addon.free(d.slot);
    this.data.delete(dataId);
    return true;
  }

  override refCount(dataId: tf.DataId): number {
    return this.data.has(dataId) ? this.data.get(dataId).refCount : 0;
  }

  override incRef(dataId: tf.DataId): void {
    if (this.data.has(dataId)) this.data.get(dataId).refCount++;
  }

  override numDataIds(): number {
    return this.data.numDataIds();
  }

  override memory(): { unreliable: boolean } {
    return { unreliable: false };
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override async time(f: () => void): Promise<tf.BackendTimingInfo> {
    const start = tf.util.now();
    f();
    return { kernelMs: tf.util.now() - start };
  }

  override dispose(): void {
    // Tensors still referenced by JS are freed by their own dispose calls; nothing else is held.
  }

  /** The addon slot behind a kernel input (moving it from another backend if needed). */
  slot(info: tf.TensorInfo): number {
    return this.data.get(info.dataId).slot;
  }

  /** Optional kernel input: -1 tells the addon it is absent. */
  slotOrNone(info: tf.TensorInfo | undefined): number {
    return info == null ? -1 : this.slot(info);
  }

  /** Wraps the slot the last addon call returned; its shape and dtype are in `meta`. */
  out(slot: number): tf.TensorInfo {
    const m = this.meta;
    const rank = m[1]!;
    const shape = new Array<number>(rank);
    for (let i = 0; i < rank; i++) shape[i] = m[2 + i]!;
    const dataId = {};
    this.data.set(dataId, { slot, refCount: 1 });
    return { dataId, shape, dtype: DTYPES[m[0]!]! };
  }

  /** For ops with several results: asks the addon for each slot's shape in turn. */
  outs(slots: number[]): tf.TensorInfo[] {
    return slots.map((s) => this.out(this.addon.describe(s)));
  }

  /** A result computed outside libtorch (the cpu fallback kernels). */
  fromValues(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.TensorInfo {
    return { dataId: this.write(values, shape, dtype), shape, dtype };
  }

  /** Tensors held by the addon; equals numDataIds() unless something leaks. */
  liveTensors(): number {
    return this.addon.live();
  }
}
