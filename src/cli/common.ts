import type { DataError } from '../data/errors.js';

const SHOWN_BAD_ROWS = 20;

/** Prints skipped bad rows to stderr: the count and the first few, each with file and line. */
export function reportBadRows(bad: readonly DataError[]): void {
  if (bad.length === 0) return;
  console.error(`\n${bad.length} bad row(s) skipped:`);
  for (const error of bad.slice(0, SHOWN_BAD_ROWS)) console.error(`  ${error.message}`);
  if (bad.length > SHOWN_BAD_ROWS) console.error(`  ... and ${bad.length - SHOWN_BAD_ROWS} more`);
}
