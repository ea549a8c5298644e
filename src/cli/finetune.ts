import type { Command } from 'commander';
import { join } from 'node:path';
import { DEFAULT_SFEW_DIR } from '../data/paths.js';
import { loadModel } from '../model/io.js';
import { convLayerNames } from '../model/network.js';
import { describeEngine } from '../model/engine/backend.js';
import { evaluate, trainNetwork, type TrainConfig } from '../train/trainer.js';
import { addTrainingOptions, describeBest, prepareTraining, type TrainingOptions } from './train.js';

export const FINETUNE_LR = 0.02;

export function registerFinetuneCommand(program: Command): void {
  const command = program
    .command('finetune')
    .description('fine-tune a pre-trained network (paper §5.5): conv layers frozen, FC layers trained, the epoch chosen on the validation split')
    .requiredOption('--model <dir>', 'pre-trained model folder (model.json)')
    .requiredOption('--out <dir>', 'output folder: model/, checkpoint/, metrics.jsonl, curve.svg')
    .option('--resume', 'continue from the newest checkpoint in --out');
  addTrainingOptions(command, { epochs: 30, lr: FINETUNE_LR, trainSplit: 'train', evalSplit: 'val', data: DEFAULT_SFEW_DIR });
  command.action(async (opts: TrainingOptions & { model: string; out: string; resume?: boolean }) => {
    const data = await prepareTraining({ ...opts, selectBy: 'eval' }, DEFAULT_SFEW_DIR);
    if (!data.evaluation) throw new Error(`${data.source}: no "${opts.evalSplit}" split to choose the epoch on`);
    const { model, metadata } = await loadModel(opts.model);
    const frozen = convLayerNames(model);
    for (const name of frozen) model.getLayer(name).trainable = false;
    const before = evaluate(model, data.evaluation);
    console.log(`before fine-tuning: ${opts.evalSplit} accuracy ${(before.evalAccuracy * 100).toFixed(2)}% (frozen: ${frozen.join(', ')})`);
    const config: TrainConfig = { seed: opts.seed, epochs: opts.epochs, batchSize: opts.batch, lr: opts.lr, minLr: opts.minLr, perturb: opts.perturb, selectBy: 'eval' };
    const summary = await trainNetwork(model, data.train, data.evaluation, config, {
      outDir: opts.out,
      resume: opts.resume ?? false,
      quiet: opts.quiet ?? false,
      metadata: {
        ...metadata,
        finetuning: { ...config, from: opts.model, data: data.source, trainSplit: opts.trainSplit, evalSplit: opts.evalSplit, frozen, engine: describeEngine(), beforeAccuracy: before.evalAccuracy },
        command: `fer ${process.argv.slice(2).join(' ')}`,
      },
    });
    console.log(`after fine-tuning: ${opts.evalSplit} accuracy ${((summary.best?.score ?? 0) * 100).toFixed(2)}% at epoch ${summary.best?.epoch}`);
    console.log(`model: ${describeBest(summary, 'eval')}; metrics: ${join(opts.out, 'metrics.jsonl')}`);
  });
}
