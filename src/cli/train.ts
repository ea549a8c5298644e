import type { Command } from 'commander';
import { join } from 'node:path';
import { loadFaces, requireSplit } from '../data/dataset.js';
import { DEFAULT_FER_FILE } from '../data/paths.js';
import { buildNetwork, DEFAULT_NETWORK } from '../model/network.js';
import { describeEngine } from '../model/engine/backend.js';
import { DEFAULT_TRAIN, trainNetwork, type LabelledInputs, type TrainConfig, type TrainSummary } from '../train/trainer.js';
import { addDataOptions, addEngineOptions, dataPath, positiveInt, positiveNumber, reportBadRows, startEngine, takeSubset, toInputs, type DataOptions, type EngineOptions } from './common.js';

export interface TrainingOptions extends DataOptions, EngineOptions {
  seed: number;
  epochs: number;
  batch: number;
  lr: number;
  minLr: number;
  dropout: number;
  subset?: number;
  evalSubset?: number;
  trainSplit: string;
  evalSplit: string;
  perturb: boolean;
  selectBy: string;
  quiet?: boolean;
}

export interface TrainingDefaults {
  epochs: number;
  lr: number;
  trainSplit: string;
  evalSplit: string;
  data: string;
}

const PRETRAINING: TrainingDefaults = { epochs: DEFAULT_TRAIN.epochs, lr: DEFAULT_TRAIN.lr, trainSplit: 'Training', evalSplit: 'PublicTest', data: DEFAULT_FER_FILE };

/** The options every command that trains networks shares (train, ensemble train, finetune). */
export function addTrainingOptions(command: Command, defaults: TrainingDefaults = PRETRAINING): Command {
  command
    .option('--seed <n>', 'seed of weights, shuffling, perturbation, pooling and dropout', positiveInt('--seed'), DEFAULT_NETWORK.initSeed)
    .option('--epochs <n>', 'epochs', positiveInt('--epochs'), defaults.epochs)
    .option('--batch <n>', 'batch size', positiveInt('--batch'), DEFAULT_TRAIN.batchSize)
    .option('--lr <x>', 'initial AdaGrad learning rate', positiveNumber('--lr'), defaults.lr)
    .option('--min-lr <x>', 'floor of the halved learning rate', positiveNumber('--min-lr'), DEFAULT_TRAIN.minLr)
    .option('--dropout <x>', 'dropout rate of the two hidden FC layers (the paper gives none)', positiveNumber('--dropout'), DEFAULT_NETWORK.dropout)
    .option('--subset <n>', 'train on a seeded random subset of n faces', positiveInt('--subset'))
    .option('--eval-subset <n>', 'evaluate on a seeded random subset of n faces', positiveInt('--eval-subset'))
    .option('--train-split <name>', 'split to train on', defaults.trainSplit)
    .option('--eval-split <name>', 'split checked after every epoch and used for model selection', defaults.evalSplit)
    .option('--no-perturb', 'train on the faces as they are, without random affine perturbation')
    .option('--select-by <what>', 'keep the epoch with the best "eval" accuracy or best "train" accuracy (the paper)', 'eval')
    .option('--quiet', 'no progress bar');
  addDataOptions(command, defaults.data);
  return addEngineOptions(command);
}

export interface PreparedTraining {
  source: string;
  train: LabelledInputs & { count: number };
  evaluation: LabelledInputs | undefined;
}

/** Starts the engine, reads and preprocesses the training and eval splits once. */
export async function prepareTraining(opts: TrainingOptions, fallbackData = DEFAULT_FER_FILE): Promise<PreparedTraining> {
  if (opts.selectBy !== 'eval' && opts.selectBy !== 'train') throw new Error(`--select-by must be "eval" or "train", got "${opts.selectBy}"`);
  await startEngine(opts);
  const source = dataPath(opts, fallbackData);
  const faces = await loadFaces(source, { skipBadRows: opts.skipBadRows ?? false });
  reportBadRows(faces.bad);
  const train = takeSubset(requireSplit(faces, opts.trainSplit), opts.subset, opts.seed);
  const evalSet = faces.splits.has(opts.evalSplit) ? takeSubset(requireSplit(faces, opts.evalSplit), opts.evalSubset, opts.seed) : undefined;
  console.error(`data: ${source}: ${train.count} training faces (${opts.trainSplit})` + (evalSet ? `, ${evalSet.count} eval faces (${opts.evalSplit})` : ', no eval split'));
  return { source, train: { ...toInputs(train), count: train.count }, evaluation: evalSet ? toInputs(evalSet) : undefined };
}

/** Trains one network with `seed` into `outDir`. */
export async function trainOne(opts: TrainingOptions, data: PreparedTraining, seed: number, outDir: string, resume: boolean): Promise<TrainSummary> {
  const config: TrainConfig = {
    seed, epochs: opts.epochs, batchSize: opts.batch, lr: opts.lr, minLr: opts.minLr, perturb: opts.perturb, selectBy: opts.selectBy as TrainConfig['selectBy'],
  };
  return trainNetwork(buildNetwork({ dropout: opts.dropout, initSeed: seed }), data.train, data.evaluation, config, {
    outDir,
    resume,
    quiet: opts.quiet ?? false,
    metadata: {
      network: { architecture: 'yu-zhang-2015', dropout: opts.dropout, initSeed: seed },
      training: { ...config, data: data.source, trainSplit: opts.trainSplit, trainFaces: data.train.count, evalSplit: data.evaluation ? opts.evalSplit : null, engine: describeEngine() },
      command: `fer ${process.argv.slice(2).join(' ')}`,
    },
  });
}

export function describeBest(summary: TrainSummary, selectBy: string): string {
  const best = summary.best;
  return `${summary.modelDir} (epoch ${best?.epoch ?? '-'}, ${selectBy} accuracy ${best ? (best.score * 100).toFixed(2) : '-'}%)`;
}

export function registerTrainCommand(program: Command): void {
  const command = program
    .command('train')
    .description('train one network of the paper (AdaGrad, perturbation, lr halving on loss rises), checkpointing every epoch')
    .requiredOption('--out <dir>', 'output folder: model/, checkpoint/, metrics.jsonl, curve.svg')
    .option('--resume', 'continue from the newest checkpoint in --out');
  addTrainingOptions(command).action(async (opts: TrainingOptions & { out: string; resume?: boolean }) => {
    const data = await prepareTraining(opts);
    const summary = await trainOne(opts, data, opts.seed, opts.out, opts.resume ?? false);
    console.log(`model: ${describeBest(summary, opts.selectBy)}`);
    console.log(`metrics: ${join(opts.out, 'metrics.jsonl')}, curve: ${join(opts.out, 'curve.svg')}`);
  });
}
