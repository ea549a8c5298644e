import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FACE_PIXELS, FACE_SIZE } from '../data/faces.js';
import { NUM_CLASSES } from '../data/labels.js';
import { perturb, randomPerturbation } from '../data/perturb.js';
import { argmaxRows } from '../ensemble/combine.js';
import { reseedNetwork } from '../model/network.js';
import { saveModel, type ModelMetadata } from '../model/io.js';
import { predictProbabilities } from '../model/predict.js';
import { trainingCurveSvg, type EpochMetrics } from '../report/curve.js';
import { writeFileAtomic } from '../util/atomic.js';
import { ProgressBar } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { loadCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.js';
import { LossSchedule } from './schedule.js';

export interface TrainConfig {
  seed: number;
  epochs: number;
  batchSize: number;
  lr: number;
  minLr: number;
  /** Random affine perturbation of every training face (paper §5.2). */
  perturb: boolean;
  /** Which epoch's weights become `<out>/model`: best eval accuracy, or best training accuracy (the paper's rule). */
  selectBy: 'eval' | 'train';
}

export const DEFAULT_TRAIN: TrainConfig = { seed: 1, epochs: 50, batchSize: 128, lr: 0.005, minLr: 0.0001, perturb: true, selectBy: 'eval' };

/** Preprocessed faces (n*2304 floats) with their labels. */
export interface LabelledInputs {
  inputs: Float32Array;
  labels: ArrayLike<number>;
}

export interface TrainRun {
  outDir: string;
  resume: boolean;
  metadata: ModelMetadata;
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface TrainSummary {
  history: EpochMetrics[];
  best: { epoch: number; score: number } | null;
  modelDir: string;
}

/**
 * Trains `model` in place on `train`, checking `evaluation` after each epoch. Every epoch ends
 * with a checkpoint, metrics.jsonl and curve.svg in `outDir`; `<outDir>/model` holds the
 * selected epoch's weights. With `resume`, it continues from the newest checkpoint.
 */
export async function trainNetwork(model: tfl.LayersModel, train: LabelledInputs, evaluation: LabelledInputs | undefined, config: TrainConfig, run: TrainRun): Promise<TrainSummary> {
  const log = run.log ?? ((line: string) => console.error(line));
  await mkdir(run.outDir, { recursive: true });
  const count = train.labels.length;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = tf.train.adagrad(config.lr);

  let state: TrainState = { epoch: 0, rng: new Rng(config.seed).state(), schedule: LossSchedule.start(config.lr, config.minLr).state, history: [], best: null };
  let bestLossWeights: tf.Tensor[] | null = null;
  const checkpoint = run.resume ? await loadCheckpoint(run.outDir) : null;
  if (checkpoint) {
    state = checkpoint.state;
    model.setWeights(checkpoint.weights);
    tf.dispose(checkpoint.weights);
    await optimizer.setWeights(checkpoint.optimizer);
    bestLossWeights = checkpoint.bestLossWeights;
    log(`resuming ${run.outDir} after epoch ${state.epoch} (lr ${state.schedule.lr})`);
  }
  const rng = Rng.fromState(state.rng);
  const schedule = new LossSchedule(state.schedule, config.minLr);
  const setLearningRate = (lr: number): void => {
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
  };
  setLearningRate(schedule.state.lr);

  const batchInputs = new Float32Array(config.batchSize * FACE_PIXELS);
  const batchLabels = new Int32Array(config.batchSize);
  const modelDir = join(run.outDir, 'model');

  for (let epoch = state.epoch + 1; epoch <= config.epochs; epoch++) {
    const started = performance.now();
    const order = rng.shuffle(Int32Array.from({ length: count }, (_, i) => i));
    const bar = new ProgressBar(`epoch ${epoch}/${config.epochs}`, count, 'img', { quiet: run.quiet });
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < count; start += config.batchSize) {
      const size = Math.min(config.batchSize, count - start);
      for (let k = 0; k < size; k++) {
        const i = order[start + k] as number;
        batchInputs.set(train.inputs.subarray(i * FACE_PIXELS, (i + 1) * FACE_PIXELS), k * FACE_PIXELS);
        batchLabels[k] = train.labels[i] as number;
      }
      const perturbations = config.perturb ? Array.from({ length: size }, () => randomPerturbation(rng)) : null;
      reseedNetwork(model, rng.seed());
      const [loss, hits] = tf.tidy(() => {
        const raw = tf.tensor4d(batchInputs.subarray(0, size * FACE_PIXELS), [size, FACE_SIZE, FACE_SIZE, 1]);
        const x = perturbations ? perturb(raw, perturbations) : raw;
        const labels = tf.tensor1d(batchLabels.subarray(0, size), 'int32');
        let predicted: tf.Tensor | undefined;
        const lossValue = optimizer.minimize(() => {
          const logits = model.apply(x, { training: true }) as tf.Tensor2D;
          predicted = tf.keep(tf.argMax(logits, 1));
          return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, NUM_CLASSES), logits) as tf.Scalar;
        }, true, variables) as tf.Scalar;
        const batchHits = tf.sum(tf.cast(tf.equal(predicted as tf.Tensor, labels), 'int32'));
        tf.dispose(predicted as tf.Tensor);
        return [lossValue, batchHits];
      });
      const batchLoss = (await loss.data())[0] as number;
      const batchHits = (await hits.data())[0] as number;
      tf.dispose([loss, hits]);
      if (!Number.isFinite(batchLoss)) throw new Error(`training diverged at epoch ${epoch}: loss is ${batchLoss} (try a lower --lr)`);
      lossSum += batchLoss * size;
      correct += batchHits;
      bar.tick(size, `loss ${(lossSum / (start + size)).toFixed(4)} acc ${(correct / (start + size)).toFixed(4)}`);
    }
    const trainLoss = lossSum / count;
    const trainAccuracy = correct / count;
    const seconds = (performance.now() - started) / 1000;
    bar.finish(`loss ${trainLoss.toFixed(4)} acc ${trainAccuracy.toFixed(4)}`);

    const metrics: EpochMetrics = { epoch, lr: schedule.state.lr, trainLoss, trainAccuracy, imagesPerSecond: count / seconds, seconds };
    if (evaluation) Object.assign(metrics, evaluate(model, evaluation));

    const decision = schedule.step(epoch, trainLoss);
    if (decision.newBest) {
      tf.dispose(bestLossWeights ?? []);
      bestLossWeights = model.getWeights().map((w) => tf.keep(tf.clone(w)));
    }
    const score = config.selectBy === 'eval' && metrics.evalAccuracy !== undefined ? metrics.evalAccuracy : trainAccuracy;
    if (state.best === null || score > state.best.score) {
      state.best = { epoch, score };
      await saveModel(model, modelDir, { ...run.metadata, epoch, selectedBy: config.selectBy, score });
    }
    if (decision.halve && bestLossWeights) {
      model.setWeights(bestLossWeights);
      setLearningRate(schedule.state.lr);
      metrics.note = `${decision.reason}: lr halved to ${schedule.state.lr}, weights of epoch ${schedule.state.bestLossEpoch} reloaded`;
      log(metrics.note);
    }
    state = { epoch, rng: rng.state(), schedule: schedule.state, history: [...state.history, metrics], best: state.best };
    await saveCheckpoint(run.outDir, model, optimizer, bestLossWeights, state, run.metadata);
    await writeFileAtomic(join(run.outDir, 'metrics.jsonl'), state.history.map((m) => JSON.stringify(m)).join('\n') + '\n');
    await writeFileAtomic(join(run.outDir, 'curve.svg'), trainingCurveSvg(state.history, `training: ${run.outDir}`));
    log(`epoch ${epoch}: train loss ${trainLoss.toFixed(4)} acc ${trainAccuracy.toFixed(4)}` +
      (metrics.evalAccuracy !== undefined ? `, eval loss ${metrics.evalLoss?.toFixed(4)} acc ${metrics.evalAccuracy.toFixed(4)}` : '') +
      `, ${metrics.imagesPerSecond.toFixed(1)} img/s`);
  }
  tf.dispose(bestLossWeights ?? []);
  optimizer.dispose();
  return { history: state.history, best: state.best, modelDir };
}

/** Accuracy and mean negative log-likelihood, without test-time voting. */
export function evaluate(model: tfl.LayersModel, data: LabelledInputs): { evalAccuracy: number; evalLoss: number } {
  const probabilities = predictProbabilities(model, data.inputs);
  const predicted = argmaxRows(probabilities);
  let correct = 0;
  let nll = 0;
  const n = data.labels.length;
  for (let i = 0; i < n; i++) {
    const label = data.labels[i] as number;
    if (predicted[i] === label) correct++;
    nll -= Math.log(Math.max(probabilities[i * NUM_CLASSES + label] as number, 1e-12));
  }
  return { evalAccuracy: correct / n, evalLoss: nll / n };
}
