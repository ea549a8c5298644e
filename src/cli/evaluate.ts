import type { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadFaces, requireSplit } from '../data/dataset.js';
import { testTimePerturbations } from '../data/perturb.js';
import { Ensemble, type CombinationMethod } from '../ensemble/ensemble.js';
import { argmaxRows, comparisonTable, confusionSvg, confusionTable, evaluatePredictions, markdownReport, type Evaluation } from '../report/evaluation.js';
import { writeFileAtomic } from '../util/atomic.js';
import { ProgressBar } from '../util/progress.js';
import { addDataOptions, addEngineOptions, dataPath, positiveInt, reportBadRows, startEngine, takeSubset, toInputs, type DataOptions, type EngineOptions } from './common.js';

interface EvaluateOptions extends DataOptions, EngineOptions {
  model: string;
  split: string;
  voting?: boolean;
  votingSet: 'standard' | 'full';
  subset?: number;
  report?: string;
  json?: boolean;
}

export function registerEvaluateCommand(program: Command): void {
  const command = program
    .command('evaluate')
    .description('accuracy, per-class recall and confusion matrix of a network or an ensemble (every member, average, vote, log-likelihood and hinge weights) on one split')
    .requiredOption('--model <dir>', 'a model folder (model.json) or an ensemble folder (ensemble.json)')
    .option('--split <name>', 'split to evaluate', 'PublicTest')
    .option('--voting', 'also report test-time voting: the softmax averaged over perturbed copies')
    .option('--voting-set <kind>', '"standard" (a small grid) or "full" (every perturbation)', 'standard')
    .option('--subset <n>', 'evaluate a seeded random subset of n faces', positiveInt('--subset'))
    .option('--report <dir>', 'where to write evaluation.json and the confusion images (default: <model>/eval-<split>)')
    .option('--json', 'print JSON instead of tables');
  addDataOptions(command);
  addEngineOptions(command);
  command.action(async (opts: EvaluateOptions) => {
    await startEngine(opts);
    const source = dataPath(opts);
    const faces = await loadFaces(source, { skipBadRows: opts.skipBadRows ?? false });
    reportBadRows(faces.bad);
    const set = takeSubset(requireSplit(faces, opts.split), opts.subset, 1);
    const data = toInputs(set);
    const ensemble = await Ensemble.load(opts.model);
    const variants: [string, ReturnType<typeof testTimePerturbations> | undefined][] = [['', undefined]];
    if (opts.voting) variants.push([`, voting ${testTimePerturbations(opts.votingSet).length}`, testTimePerturbations(opts.votingSet)]);
    const evaluations: Evaluation[] = [];
    for (const [suffix, voting] of variants) {
      const members = ensemble.members.length;
      const bar = new ProgressBar(`predict${suffix}`, set.count * members, 'img');
      const memberProbabilities = ensemble.members.map((_, k) => {
        const one = ensemble.memberProbabilities(data.inputs, { ...(voting ? { voting } : {}) }, k);
        bar.tick(set.count);
        return one;
      });
      bar.finish();
      const rows: [string, Float32Array][] = members === 1
        ? [[`network${suffix}`, memberProbabilities[0] as Float32Array]]
        : [
            ...memberProbabilities.map((p, k) => [`member ${k + 1}${suffix}`, p] as [string, Float32Array]),
            ...ensemble.availableMethods().map((method: CombinationMethod) => [`${method}${suffix}`, ensemble.combine(memberProbabilities, method)] as [string, Float32Array]),
          ];
      for (const [name, probabilities] of rows) evaluations.push(evaluatePredictions(name, argmaxRows(probabilities), set.labels));
    }
    ensemble.dispose();
    const reportDir = opts.report ?? join(opts.model, `eval-${opts.split}`);
    await mkdir(reportDir, { recursive: true });
    const report = { model: opts.model, data: source, split: opts.split, faces: set.count, evaluations };
    await writeFileAtomic(join(reportDir, 'evaluation.json'), JSON.stringify(report, null, 2));
    const imageOf = (e: Evaluation): string => `confusion-${e.name.replace(/[^a-z0-9]+/gi, '-')}.svg`;
    for (const evaluation of evaluations) await writeFileAtomic(join(reportDir, imageOf(evaluation)), confusionSvg(evaluation));
    await writeFileAtomic(join(reportDir, 'report.md'), markdownReport(`${opts.model} on ${opts.split} (${set.count} faces)`, evaluations, imageOf));
    if (opts.json) {
      console.log(JSON.stringify(report, null, 2));
      return;
    }
    console.log(`${opts.model} on ${source} ${opts.split} (${set.count} faces)\n`);
    console.log(comparisonTable(evaluations));
    const best = evaluations.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    console.log(`\nconfusion matrix, ${best.name} (the most accurate):\n${confusionTable(best)}`);
    console.log(`\nreport: ${reportDir}/report.md, evaluation.json and confusion-*.svg`);
  });
}
