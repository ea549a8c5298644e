import type { Command } from 'commander';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadFaces, requireSplit } from '../data/dataset.js';
import type { FaceSet } from '../data/faces.js';
import { faceSetHash } from '../data/hash.js';
import { testTimePerturbations } from '../data/perturb.js';
import { ENSEMBLE_JSON, type EnsembleFile, type LearnedWeights } from '../ensemble/ensemble.js';
import { chooseHyperparameters, type EnsembleObjective, type GridPointResult } from '../ensemble/fit-weights.js';
import { loadModel } from '../model/io.js';
import { predictProbabilities } from '../model/predict.js';
import { writeFileAtomic } from '../util/atomic.js';
import { ProgressBar } from '../util/progress.js';
import { formatTable } from '../util/table.js';
import { addDataOptions, addEngineOptions, dataPath, positiveInt, reportBadRows, startEngine, takeSubset, toInputs, type DataOptions, type EngineOptions } from './common.js';
import { addTrainingOptions, describeBest, prepareTraining, trainOne, type TrainingOptions } from './train.js';

export const memberDir = (k: number): string => `member-${k}`;
const MEMBER_SEED_STRIDE = 1000;

async function completedEpochs(outDir: string): Promise<number> {
  const text = await readFile(join(outDir, 'checkpoint', 'latest.json'), 'utf8').catch(() => null);
  return text === null ? 0 : (JSON.parse(text) as { epoch: number }).epoch;
}

export function registerEnsembleCommands(program: Command): void {
  const ensemble = program.command('ensemble').description('multiple deep network learning: train K members, fit their weights');

  const train = ensemble
    .command('train')
    .description('train K networks that differ only in their seed, each resumable in <out>/member-k')
    .requiredOption('--out <dir>', 'ensemble folder')
    .option('--members <k>', 'number of members (the paper uses 6)', positiveInt('--members'), 6)
    .option('--member <k>', 'train only member k (1-based), e.g. on another machine', positiveInt('--member'));
  addTrainingOptions(train).action(async (opts: TrainingOptions & { out: string; members: number; member?: number }) => {
    if (opts.member !== undefined && opts.member > opts.members) throw new Error(`--member ${opts.member} is above --members ${opts.members}`);
    const todo = opts.member !== undefined ? [opts.member] : Array.from({ length: opts.members }, (_, i) => i + 1);
    const pending: number[] = [];
    for (const k of todo) {
      if ((await completedEpochs(join(opts.out, memberDir(k)))) >= opts.epochs) console.error(`member ${k}: complete (${opts.epochs} epochs), skipped`);
      else pending.push(k);
    }
    if (pending.length === 0) return;
    const data = await prepareTraining(opts);
    for (const k of pending) {
      // Members differ only in the seed, which drives the initial weights and all sampling.
      const seed = opts.seed + (k - 1) * MEMBER_SEED_STRIDE;
      console.error(`member ${k}/${opts.members}: seed ${seed}`);
      const summary = await trainOne(opts, data, seed, join(opts.out, memberDir(k)), true);
      console.log(`member ${k}: ${describeBest(summary, opts.selectBy)}`);
    }
  });

  const fit = ensemble
    .command('fit')
    .description('learn the members\' weights on the simplex by log-likelihood (Eq. 6) and hinge (Eq. 7), lambda and gamma chosen on a selection split')
    .requiredOption('--dir <dir>', 'ensemble folder with member-k/model')
    .option('--fit-split <name>', 'split whose responses the weights are fitted on (the paper: training)', 'Training')
    .option('--select-split <name>', 'split that chooses lambda and gamma', 'PublicTest')
    .option('--fit-subset <n>', 'fit on a seeded random subset of n faces of the fit split', positiveInt('--fit-subset'))
    .option('--voting', 'fit on responses averaged over the standard test-time perturbations (slower)')
    .option('--method <name>', 'combination predict uses by default: hinge, loglik, average or vote', 'hinge');
  addDataOptions(fit);
  addEngineOptions(fit);
  fit.action(async (opts: DataOptions & EngineOptions & { dir: string; fitSplit: string; selectSplit: string; fitSubset?: number; voting?: boolean; method: string }) => {
    if (!['hinge', 'loglik', 'average', 'vote'].includes(opts.method)) throw new Error(`--method must be hinge, loglik, average or vote, got "${opts.method}"`);
    await startEngine(opts);
    const members = await findMembers(opts.dir);
    const source = dataPath(opts);
    const faces = await loadFaces(source, { skipBadRows: opts.skipBadRows ?? false });
    reportBadRows(faces.bad);
    const fitSet = takeSubset(requireSplit(faces, opts.fitSplit), opts.fitSubset, 1);
    const selectSet = requireSplit(faces, opts.selectSplit);
    const fitProbs = await memberResponses(opts.dir, members, fitSet, opts.fitSplit, opts.voting ?? false);
    const selectProbs = await memberResponses(opts.dir, members, selectSet, opts.selectSplit, opts.voting ?? false);
    const learned: Partial<Record<EnsembleObjective, LearnedWeights>> = {};
    for (const objective of ['loglik', 'hinge'] as const) {
      const started = performance.now();
      const choice = chooseHyperparameters({ probs: fitProbs, labels: fitSet.labels }, { probs: selectProbs, labels: selectSet.labels }, { objective });
      const { best } = choice;
      learned[objective] = {
        weights: best.weights, lambda: best.lambda, ...(best.gamma !== undefined ? { gamma: best.gamma } : {}),
        objective: best.objective, converged: best.converged, optimalityGap: best.optimalityGap, selectionAccuracy: best.selectionAccuracy,
      };
      console.log(`\n${objective}: ${choice.grid.length} grid points in ${((performance.now() - started) / 1000).toFixed(1)} s; chosen lambda ${best.lambda}${best.gamma !== undefined ? `, gamma ${best.gamma}` : ''}`);
      console.log(gridTable(choice.grid, members.length));
    }
    const file: EnsembleFile = {
      format: 'fer-ensemble/1',
      members: members.map((m) => `${m}/model`),
      method: opts.method as EnsembleFile['method'],
      learned,
      fittedWithVoting: opts.voting ?? false,
      fit: { data: source, split: opts.fitSplit, faces: fitSet.count, sha256: faceSetHash(fitSet) },
      selection: { data: source, split: opts.selectSplit, faces: selectSet.count, sha256: faceSetHash(selectSet) },
    };
    await writeFileAtomic(join(opts.dir, ENSEMBLE_JSON), JSON.stringify(file, null, 2));
    console.log(`\nwrote ${join(opts.dir, ENSEMBLE_JSON)}`);
  });
}

async function findMembers(dir: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^member-\d+$/.test(n));
  const complete: string[] = [];
  for (const name of names.sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)))) {
    if ((await readFile(join(dir, name, 'model', 'model.json')).catch(() => null)) !== null) complete.push(name);
    else console.error(`${join(dir, name)}: no model yet, left out`);
  }
  if (complete.length < 2) throw new Error(`${dir}: an ensemble needs at least 2 trained members, found ${complete.length} (run fer ensemble train)`);
  return complete;
}

/**
 * Each member's softmax responses on a split, cached under <dir>/responses by data hash, since
 * fitting with a new grid or method must not recompute them.
 */
async function memberResponses(dir: string, members: string[], set: FaceSet, split: string, voting: boolean): Promise<Float32Array[]> {
  const hash = faceSetHash(set).slice(0, 16);
  const cacheDir = join(dir, 'responses');
  await mkdir(cacheDir, { recursive: true });
  let inputs: Float32Array | undefined;
  const out: Float32Array[] = [];
  for (const member of members) {
    const cache = join(cacheDir, `${member}.${split}.${voting ? 'voting' : 'plain'}.${hash}.f32`);
    const cached = await readFile(cache).catch(() => null);
    if (cached) {
      out.push(new Float32Array(cached.buffer.slice(cached.byteOffset, cached.byteOffset + cached.byteLength)));
      continue;
    }
    inputs ??= toInputs(set).inputs;
    const { model } = await loadModel(join(dir, member, 'model'));
    const bar = new ProgressBar(`${member} on ${split}`, set.count, 'img');
    let last = 0;
    const probabilities = predictProbabilities(model, inputs, { ...(voting ? { voting: testTimePerturbations('standard') } : {}), onBatch: (done) => { bar.tick(done - last); last = done; } });
    bar.finish();
    model.dispose();
    await writeFileAtomic(cache, new Uint8Array(probabilities.buffer));
    out.push(probabilities);
  }
  return out;
}

function gridTable(grid: readonly GridPointResult[], members: number): string {
  return formatTable(
    ['lambda', 'gamma', 'selection acc %', 'converged', ...Array.from({ length: members }, (_, k) => `w${k + 1}`)],
    grid.map((g) => [g.lambda, g.gamma === undefined ? '-' : String(g.gamma), (g.selectionAccuracy * 100).toFixed(2), g.converged ? 'yes' : 'no', ...g.weights.map((w) => w.toFixed(4))]),
  );
}
