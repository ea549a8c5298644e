/** One epoch's numbers, as written to metrics.jsonl. */
export interface EpochMetrics {
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAccuracy: number;
  evalAccuracy?: number;
  evalLoss?: number;
  imagesPerSecond: number;
  seconds: number;
  note?: string;
}

/** A training-curve plot (loss on the left axis, accuracies on the right) as SVG. */
export function trainingCurveSvg(history: readonly EpochMetrics[], title: string): string {
  const width = 720;
  const height = 400;
  const m = { left: 60, right: 60, top: 40, bottom: 50 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const maxEpoch = Math.max(1, ...history.map((e) => e.epoch));
  const maxLoss = Math.max(1e-6, ...history.map((e) => Math.max(e.trainLoss, e.evalLoss ?? 0))) * 1.05;
  const x = (epoch: number): number => m.left + (epoch / maxEpoch) * w;
  const yLoss = (v: number): number => m.top + h - (v / maxLoss) * h;
  const yAcc = (v: number): number => m.top + h - v * h;
  const path = (points: [number, number][]): string => points.map(([px, py], i) => `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`).join('');
  type Series = { label: string; color: string; points: [number, number][]; dash?: string };
  const point = (px: number, py: number): [number, number] => [px, py];
  const series: Series[] = ([
    { label: 'train loss', color: '#d62728', points: history.map((e) => point(x(e.epoch), yLoss(e.trainLoss))) },
    { label: 'train accuracy', color: '#1f77b4', points: history.map((e) => point(x(e.epoch), yAcc(e.trainAccuracy))) },
    { label: 'eval accuracy', color: '#2ca02c', points: history.filter((e) => e.evalAccuracy !== undefined).map((e) => point(x(e.epoch), yAcc(e.evalAccuracy as number))) },
    { label: 'eval loss', color: '#ff7f0e', dash: '5,4', points: history.filter((e) => e.evalLoss !== undefined).map((e) => point(x(e.epoch), yLoss(e.evalLoss as number))) },
  ] as Series[]).filter((s) => s.points.length > 0);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    `<rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`,
    ...ticks.map((t) => `<line x1="${m.left}" x2="${m.left + w}" y1="${yAcc(t)}" y2="${yAcc(t)}" stroke="#eee"/>` +
      `<text x="${m.left + w + 6}" y="${yAcc(t) + 4}">${t.toFixed(2)}</text>` +
      `<text x="${m.left - 6}" y="${yAcc(t) + 4}" text-anchor="end">${(t * maxLoss).toFixed(2)}</text>`),
    `<text x="${m.left + w / 2}" y="${height - 12}" text-anchor="middle">epoch (of ${maxEpoch})</text>`,
    `<text transform="translate(16 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">loss</text>`,
    `<text transform="translate(${width - 12} ${m.top + h / 2}) rotate(90)" text-anchor="middle">accuracy</text>`,
    ...series.map((s) => `<path d="${path(s.points)}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`),
    ...series.map((s, i) => `<line x1="${m.left + 10}" x2="${m.left + 30}" y1="${m.top + 14 + i * 16}" y2="${m.top + 14 + i * 16}" stroke="${s.color}" stroke-width="2"/>` +
      `<text x="${m.left + 36}" y="${m.top + 18 + i * 16}">${s.label}</text>`),
    '</svg>',
  ];
  return parts.join('\n');
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}
