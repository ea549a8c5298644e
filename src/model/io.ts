import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { NetworkConfig } from './network.js';
// Registering the custom layers lets tfjs rebuild them from model.json.
import './seeded-dropout.js';
import './stochastic-pooling.js';

export const MODEL_JSON = 'model.json';

/** What is saved beside the topology in model.json's userDefinedMetadata. */
export interface ModelMetadata {
  network: NetworkConfig;
  /** Free-form provenance: training command, data hash, accuracy. */
  [key: string]: unknown;
}

/**
 * A tfjs IOHandler for a folder holding model.json and one weight file, the format that
 * tf.loadLayersModel reads in a browser too. The weight file is named by its content hash
 * and model.json is renamed into place last, so a crash leaves the previous model whole.
 */
export function folderHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await mkdir(dir, { recursive: true });
      const weights = new Uint8Array(artifacts.weightData ? tf.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer | ArrayBuffer[]) : new ArrayBuffer(0));
      const weightFile = `weights.${createHash('sha256').update(weights).digest('hex').slice(0, 12)}.bin`;
      await writeFileAtomic(join(dir, weightFile), weights);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as {},
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [weightFile], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      await writeFileAtomic(join(dir, MODEL_JSON), JSON.stringify(modelJson));
      const stale = (await readdir(dir)).filter((f) => /^weights\.[0-9a-f]+\.bin$/.test(f) && f !== weightFile);
      await Promise.all(stale.map((f) => rm(join(dir, f), { force: true })));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const path = join(dir, MODEL_JSON);
      const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new Error(`${path}: cannot read model: ${err.code ?? err.message}`);
      });
      const modelJson = JSON.parse(text) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const file of group.paths) {
            const bytes = await readFile(join(dir, file));
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          }
        }
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

export async function saveModel(model: tfl.LayersModel, dir: string, metadata: ModelMetadata): Promise<void> {
  model.setUserDefinedMetadata(metadata as unknown as {});
  await model.save(folderHandler(dir));
}

export async function loadModel(dir: string): Promise<{ model: tfl.LayersModel; metadata: ModelMetadata }> {
  const model = await tfl.loadLayersModel(folderHandler(dir));
  return { model, metadata: (model.getUserDefinedMetadata() ?? {}) as ModelMetadata };
}
