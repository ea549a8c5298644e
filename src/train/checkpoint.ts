import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { loadModel, saveModel, type ModelMetadata } from '../model/io.js';
import type { EpochMetrics } from '../report/curve.js';
import type { LossScheduleState } from './schedule.js';

/** Everything besides tensors that a resumed run needs to continue exactly where it stopped. */
export interface TrainState {
  /** Epochs completed. */
  epoch: number;
  rng: number[];
  schedule: LossScheduleState;
  history: EpochMetrics[];
  best: { epoch: number; score: number } | null;
}

export interface Checkpoint {
  state: TrainState;
  weights: tf.Tensor[];
  optimizer: NamedTensor[];
  bestLossWeights: tf.Tensor[] | null;
}

const LATEST = 'latest.json';

/**
 * Checkpoints live in `<out>/checkpoint/epoch-NNNN/`; `latest.json` names the newest and is
 * renamed into place only after its folder is complete, so a kill at any moment leaves the
 * previous checkpoint usable. Older epoch folders are removed afterwards.
 */
export async function saveCheckpoint(outDir: string, model: tfl.LayersModel, optimizer: tf.Optimizer, bestLossWeights: tf.Tensor[] | null, state: TrainState, metadata: ModelMetadata): Promise<void> {
  const root = join(outDir, 'checkpoint');
  const name = `epoch-${String(state.epoch).padStart(4, '0')}`;
  const dir = join(root, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await saveModel(model, join(dir, 'model'), metadata);
  await writeTensors(join(dir, 'optimizer'), await optimizer.getWeights());
  if (bestLossWeights) await writeTensors(join(dir, 'best-loss'), bestLossWeights.map((tensor, i) => ({ name: `w${i}`, tensor })));
  await writeFileAtomic(join(dir, 'state.json'), JSON.stringify(state));
  await writeFileAtomic(join(root, LATEST), JSON.stringify({ epoch: state.epoch, dir: name }));
  const stale = (await readdir(root)).filter((f) => f.startsWith('epoch-') && f !== name);
  await Promise.all(stale.map((f) => rm(join(root, f), { recursive: true, force: true })));
}

/** The newest complete checkpoint under `outDir`, or null when there is none. */
export async function loadCheckpoint(outDir: string): Promise<Checkpoint | null> {
  const root = join(outDir, 'checkpoint');
  const latestText = await readFile(join(root, LATEST), 'utf8').catch(() => null);
  if (latestText === null) return null;
  const dir = join(root, (JSON.parse(latestText) as { dir: string }).dir);
  const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as TrainState;
  const { model } = await loadModel(join(dir, 'model'));
  const weights = model.getWeights().map((w) => tf.clone(w));
  model.dispose();
  const optimizer = await readTensors(join(dir, 'optimizer'));
  const bestLoss = state.schedule.bestLoss === null ? null : (await readTensors(join(dir, 'best-loss'))).map((t) => t.tensor);
  return { state, weights, optimizer, bestLossWeights: bestLoss };
}

async function writeTensors(base: string, tensors: NamedTensor[]): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await writeFileAtomic(`${base}.bin`, new Uint8Array(data));
  await writeFileAtomic(`${base}.json`, JSON.stringify(specs));
}

async function readTensors(base: string): Promise<NamedTensor[]> {
  const specs = JSON.parse(await readFile(`${base}.json`, 'utf8')) as tf.io.WeightsManifestEntry[];
  const bytes = await readFile(`${base}.bin`);
  const map = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, specs);
  return specs.map((s) => ({ name: s.name, tensor: map[s.name] as tf.Tensor }));
}
