import { EMOTIONS, NUM_CLASSES } from '../data/labels.js';
import { formatTable } from '../util/table.js';
import { escapeXml } from './curve.js';

export { argmaxRows } from '../ensemble/combine.js';

export interface Evaluation {
  name: string;
  count: number;
  accuracy: number;
  /** Recall per class in FER2013 order (NaN for a class with no examples). */
  recall: number[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
}

export function evaluatePredictions(name: string, predicted: ArrayLike<number>, labels: ArrayLike<number>): Evaluation {
  const confusion = Array.from({ length: NUM_CLASSES }, () => new Array<number>(NUM_CLASSES).fill(0));
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const truth = labels[i] as number;
    const guess = predicted[i] as number;
    (confusion[truth] as number[])[guess]! += 1;
    if (truth === guess) correct++;
  }
  const recall = confusion.map((row, c) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? Number.NaN : (row[c] as number) / total;
  });
  return { name, count: labels.length, accuracy: labels.length ? correct / labels.length : Number.NaN, recall, confusion };
}

const percent = (v: number): string => (Number.isNaN(v) ? '-' : `${(v * 100).toFixed(2)}`);

/** One row per evaluated model: accuracy and per-class recall, in percent. */
export function comparisonTable(evaluations: readonly Evaluation[]): string {
  return formatTable(
    ['model', 'faces', 'accuracy %', ...EMOTIONS.map((e) => `${e} %`)],
    evaluations.map((e) => [e.name, e.count, percent(e.accuracy), ...e.recall.map(percent)]),
  );
}

export function confusionTable(evaluation: Evaluation): string {
  return formatTable(
    ['true \\ predicted', ...EMOTIONS],
    evaluation.confusion.map((row, c) => [EMOTIONS[c] as string, ...row]),
  );
}

/** The confusion matrix as an SVG heat map, rows normalised to recall. */
export function confusionSvg(evaluation: Evaluation): string {
  const cell = 64;
  const left = 90;
  const top = 70;
  const size = left + cell * NUM_CLASSES + 20;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${top + cell * NUM_CLASSES + 40}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${size / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(evaluation.name)}: accuracy ${percent(evaluation.accuracy)}% (${evaluation.count} faces)</text>`,
    `<text x="${left + (cell * NUM_CLASSES) / 2}" y="${top + cell * NUM_CLASSES + 30}" text-anchor="middle">predicted</text>`,
  ];
  EMOTIONS.forEach((name, c) => {
    parts.push(`<text x="${left + c * cell + cell / 2}" y="${top - 8}" text-anchor="middle">${name}</text>`);
    parts.push(`<text x="${left - 6}" y="${top + c * cell + cell / 2 + 4}" text-anchor="end">${name}</text>`);
  });
  evaluation.confusion.forEach((row, r) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((count, c) => {
      const share = count / total;
      const shade = Math.round(255 - share * 200);
      parts.push(`<rect x="${left + c * cell}" y="${top + r * cell}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#ccc"/>`);
      parts.push(`<text x="${left + c * cell + cell / 2}" y="${top + r * cell + cell / 2}" text-anchor="middle" fill="${share > 0.6 ? 'white' : 'black'}">${count}</text>`);
      parts.push(`<text x="${left + c * cell + cell / 2}" y="${top + r * cell + cell / 2 + 14}" text-anchor="middle" font-size="10" fill="${share > 0.6 ? 'white' : '#555'}">${(share * 100).toFixed(0)}%</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** A Markdown report: the comparison table, then each model's confusion matrix (as table and image). */
export function markdownReport(title: string, evaluations: readonly Evaluation[], imageOf: (e: Evaluation) => string): string {
  const lines = [`# ${title}`, '', '```', comparisonTable(evaluations), '```', ''];
  for (const e of evaluations) {
    lines.push(`## ${e.name}: ${percent(e.accuracy)}%`, '', `![confusion matrix](${imageOf(e)})`, '', '```', confusionTable(e), '```', '');
  }
  return lines.join('\n');
}
