import type * as tfl from '@tensorflow/tfjs-layers';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { testTimePerturbations, type Perturbation } from '../data/perturb.js';
import { loadModel, MODEL_JSON } from '../model/io.js';
import { predictProbabilities } from '../model/predict.js';
import { majorityVote, plainAverage, weightedAverage } from './combine.js';
import type { EnsembleObjective } from './fit-weights.js';

export const ENSEMBLE_JSON = 'ensemble.json';

export type CombinationMethod = EnsembleObjective | 'average' | 'vote';

/** A learned weighting of the members, with the hyper-parameters it was chosen with. */
export interface LearnedWeights {
  weights: number[];
  lambda: number;
  gamma?: number;
  objective: number;
  converged: boolean;
  optimalityGap: number;
  selectionAccuracy: number;
}

/** ensemble.json: the members (folders relative to it) and how to combine them. */
export interface EnsembleFile {
  format: 'fer-ensemble/1';
  members: string[];
  /** The combination `predict` uses unless told otherwise. */
  method: CombinationMethod;
  learned: Partial<Record<EnsembleObjective, LearnedWeights>>;
  /** Whether the responses the weights were fitted on were averaged over test-time perturbations. */
  fittedWithVoting: boolean;
  fit: { data: string; split: string; faces: number; sha256: string };
  selection: { data: string; split: string; faces: number; sha256: string };
}

export interface EnsemblePredictOptions {
  /** Test-time voting: true for the standard copies, or an explicit list. */
  voting?: boolean | readonly Perturbation[];
  method?: CombinationMethod;
  batchSize?: number;
}

/**
 * K networks and their combination, used as one model: `predict` returns 7 probabilities per
 * face. A plain model folder loads as an ensemble of one.
 */
export class Ensemble {
  private constructor(
    readonly dir: string,
    readonly members: tfl.LayersModel[],
    readonly file: EnsembleFile | null,
  ) {}

  static async load(dir: string): Promise<Ensemble> {
    const root = resolve(dir);
    const ensemblePath = join(root, ENSEMBLE_JSON);
    if (!existsSync(ensemblePath)) {
      if (!existsSync(join(root, MODEL_JSON))) throw new Error(`${root}: neither ${ENSEMBLE_JSON} nor ${MODEL_JSON} found`);
      return new Ensemble(root, [(await loadModel(root)).model], null);
    }
    const file = JSON.parse(await readFile(ensemblePath, 'utf8')) as EnsembleFile;
    if (file.format !== 'fer-ensemble/1') throw new Error(`${ensemblePath}: format: unknown format "${file.format}"`);
    const members = await Promise.all(file.members.map(async (m) => (await loadModel(join(root, m))).model));
    return new Ensemble(root, members, file);
  }

  get defaultMethod(): CombinationMethod {
    return this.file?.method ?? 'average';
  }

  /** Combinations this ensemble can use: the baselines, plus the learned weightings it has. */
  availableMethods(): CombinationMethod[] {
    return ['average', 'vote', ...(['loglik', 'hinge'] as const).filter((m) => this.file?.learned[m] !== undefined)];
  }

  /** Member k's softmax output (n*7) for preprocessed faces (n*2304). */
  memberProbabilities(faces: Float32Array, options: Pick<EnsemblePredictOptions, 'voting' | 'batchSize'>, member: number): Float32Array {
    const voting = options.voting === true ? testTimePerturbations('standard') : options.voting || undefined;
    const model = this.members[member] as tfl.LayersModel;
    return predictProbabilities(model, faces, { ...(voting ? { voting } : {}), ...(options.batchSize ? { batchSize: options.batchSize } : {}) });
  }

  /** Combined probabilities (n*7) for preprocessed faces (n*2304). */
  predict(faces: Float32Array, options: EnsemblePredictOptions = {}): Float32Array {
    const perMember = this.members.map((_, k) => this.memberProbabilities(faces, options, k));
    return this.combine(perMember, options.method ?? this.defaultMethod);
  }

  combine(probabilities: readonly Float32Array[], method: CombinationMethod): Float32Array {
    if (probabilities.length === 1) return probabilities[0] as Float32Array;
    if (method === 'average') return plainAverage(probabilities);
    if (method === 'vote') return majorityVote(probabilities);
    const learned = this.file?.learned[method];
    if (!learned) throw new Error(`${join(this.dir, ENSEMBLE_JSON)}: no ${method} weights (run fer ensemble fit)`);
    return weightedAverage(probabilities, learned.weights);
  }

  dispose(): void {
    for (const model of this.members) model.dispose();
  }
}

export function loadEnsemble(dir: string): Promise<Ensemble> {
  return Ensemble.load(dir);
}
