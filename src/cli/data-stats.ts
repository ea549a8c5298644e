import type { Command } from 'commander';
import { loadFaces } from '../data/dataset.js';
import { EMOTIONS } from '../data/labels.js';
import { splitStats } from '../data/stats.js';
import { formatTable } from '../util/table.js';
import { reportBadRows } from './common.js';

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('inspect data sets');
  data
    .command('stats')
    .description('rows and class histogram per split of a fer2013.csv(.gz) file or an ImageFolder directory')
    .argument('<path>', 'fer2013.csv, fer2013.csv.gz, or a <split>/<Class>/<image> folder')
    .option('--json', 'print JSON instead of a table')
    .option('--skip-bad-rows', 'count and report malformed rows instead of stopping at the first')
    .action(async (path: string, opts: { json?: boolean; skipBadRows?: boolean }) => {
      const faces = await loadFaces(path, { skipBadRows: opts.skipBadRows ?? false });
      const stats = [...faces.splits].map(([split, set]) => splitStats(split, set));
      if (opts.json) {
        console.log(JSON.stringify({ source: path, kind: faces.kind, splits: stats, badRows: faces.bad.map((e) => e.message) }, null, 2));
      } else {
        const hasUnlabelled = stats.some((s) => s.unlabelled > 0);
        const header = ['split', 'rows', ...EMOTIONS, ...(hasUnlabelled ? ['unlabelled'] : [])];
        const rows = stats.map((s) => [s.split, s.rows, ...EMOTIONS.map((e) => s.classes[e]), ...(hasUnlabelled ? [s.unlabelled] : [])]);
        console.log(`${path} (${faces.kind})\n`);
        console.log(formatTable(header, rows));
      }
      reportBadRows(faces.bad);
    });
}
