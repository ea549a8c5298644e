import type { Command } from 'commander';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { FerModel, type ImagePrediction } from '../api.js';
import type { Box } from '../detect/boxes.js';
import { DEFAULT_CROP_MARGIN } from '../detect/crop.js';
import { IMAGE_EXTENSIONS } from '../data/image-folder.js';
import { EMOTIONS } from '../data/labels.js';
import { DEFAULT_MODEL_DIR } from '../data/paths.js';
import { annotateImage } from '../report/annotate.js';
import { writeFileAtomic } from '../util/atomic.js';
import { ProgressBar } from '../util/progress.js';
import { formatTable } from '../util/table.js';
import { addEngineOptions, type EngineOptions } from './common.js';

interface PredictOptions extends EngineOptions {
  model: string;
  json?: boolean;
  csv?: boolean;
  annotate?: string;
  voting?: boolean;
  boxes?: string;
  margin: string;
  quiet?: boolean;
}

export interface PhotoResult extends Partial<ImagePrediction> {
  file: string;
  error?: string;
}

export function registerPredictCommand(program: Command): void {
  const command = program
    .command('predict')
    .description('find every face in photos and classify its expression')
    .argument('<inputs...>', 'image files or folders of images')
    .option('--model <dir>', 'model or ensemble folder', DEFAULT_MODEL_DIR)
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV, one row per face')
    .option('--annotate <dir>', 'write copies with boxes and labels drawn, and predictions.json, to this folder')
    .option('--voting', 'average over test-time perturbed copies of each face')
    .option('--boxes <file>', 'your own face boxes instead of detection: {"file.jpg": {"boxes": [{left, top, width, height}]}}')
    .option('--margin <x>', 'context around each box, as a fraction of its longer side', String(DEFAULT_CROP_MARGIN))
    .option('--quiet', 'no progress bar');
  addEngineOptions(command);
  command.action(async (inputs: string[], opts: PredictOptions) => {
    const files = await listImages(inputs);
    const userBoxes = opts.boxes ? await readBoxes(opts.boxes) : undefined;
    const model = await FerModel.load(opts.model, { backend: opts.backend, ...(opts.threads ? { threads: Number(opts.threads) } : {}) });
    if (opts.annotate) await mkdir(opts.annotate, { recursive: true });
    const bar = new ProgressBar('predict', files.length, 'img', { quiet: opts.quiet ?? files.length < 2 });
    const results: PhotoResult[] = [];
    for (const file of files) {
      try {
        const boxes = userBoxes?.get(basename(file));
        const prediction = await model.predictImage(file, { ...(boxes ? { boxes } : {}), voting: opts.voting ?? false, margin: Number(opts.margin) });
        results.push({ file, ...prediction });
        if (opts.annotate) {
          const format = extname(file).toLowerCase() === '.png' ? 'png' : 'jpeg';
          await writeFileAtomic(join(opts.annotate, basename(file)), await annotateImage(file, prediction.width, prediction.height, prediction.faces, format));
        }
      } catch (err) {
        results.push({ file, error: (err as Error).message });
        console.error(`${file}: skipped: ${(err as Error).message}`);
      }
      bar.tick();
    }
    bar.finish();
    await model.dispose();
    if (opts.json) console.log(JSON.stringify(results, null, 2));
    else if (opts.csv) console.log(toCsv(results));
    else console.log(toTable(results));
    if (opts.annotate) {
      await writeFileAtomic(join(opts.annotate, 'predictions.json'), JSON.stringify(results, null, 2));
      console.error(`annotated images and predictions.json written to ${opts.annotate}`);
    }
    const failed = results.filter((r) => r.error).length;
    if (failed > 0) console.error(`${failed} of ${results.length} file(s) could not be read`);
  });
}

async function listImages(inputs: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => null);
    if (!info) throw new Error(`${input}: no such file or folder`);
    if (!info.isDirectory()) {
      files.push(input);
      continue;
    }
    const names = (await readdir(input)).filter((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase())).sort();
    files.push(...names.map((n) => join(input, n)));
  }
  return files;
}

async function readBoxes(file: string): Promise<Map<string, Box[]>> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as Record<string, { boxes?: Box[] }>;
  const boxes = new Map<string, Box[]>();
  for (const [name, entry] of Object.entries(parsed)) {
    if (!Array.isArray(entry.boxes)) throw new Error(`${file}: "${name}": boxes: expected a list of {left, top, width, height}`);
    entry.boxes.forEach((b, i) => {
      if (![b.left, b.top, b.width, b.height].every((v) => typeof v === 'number' && Number.isFinite(v)) || b.width <= 0 || b.height <= 0) {
        throw new Error(`${file}: "${name}": boxes[${i}]: expected numbers left, top and positive width, height`);
      }
    });
    boxes.set(name, entry.boxes);
  }
  return boxes;
}

function toTable(results: readonly PhotoResult[]): string {
  const rows = results.flatMap((r) =>
    r.error
      ? [[r.file, '-', `error: ${r.error}`, '', '']]
      : (r.faces ?? []).length === 0
        ? [[r.file, '-', 'no face found', '', '']]
        : (r.faces ?? []).map((f, i) => [r.file, String(i + 1), f.label, `${(f.probabilities[f.label] * 100).toFixed(1)}%`, `${Math.round(f.box.left)},${Math.round(f.box.top)} ${Math.round(f.box.width)}x${Math.round(f.box.height)}`]),
  );
  return formatTable(['file', 'face', 'label', 'p', 'box (left,top wxh)'], rows);
}

function toCsv(results: readonly PhotoResult[]): string {
  const header = ['file', 'face', 'left', 'top', 'width', 'height', 'detector', 'score', 'label', ...EMOTIONS].join(',');
  const quote = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const rows = results.flatMap((r) =>
    (r.faces ?? []).map((f, i) =>
      [quote(r.file), i + 1, f.box.left.toFixed(1), f.box.top.toFixed(1), f.box.width.toFixed(1), f.box.height.toFixed(1), f.box.detector, f.box.score.toFixed(4), f.label, ...EMOTIONS.map((e) => f.probabilities[e].toFixed(6))].join(','),
    ),
  );
  return [header, ...rows].join('\n');
}
