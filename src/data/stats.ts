import type { FaceSet } from './faces.js';
import { EMOTIONS, NUM_CLASSES } from './labels.js';

export interface SplitStats {
  split: string;
  rows: number;
  /** Count per class in FER2013 order; unlabelled faces are counted apart. */
  classes: Record<(typeof EMOTIONS)[number], number>;
  unlabelled: number;
}

export function splitStats(split: string, set: FaceSet): SplitStats {
  const counts = new Array<number>(NUM_CLASSES).fill(0);
  let unlabelled = 0;
  for (const label of set.labels) {
    if (label < 0) unlabelled++;
    else counts[label] = (counts[label] as number) + 1;
  }
  const classes = Object.fromEntries(EMOTIONS.map((name, i) => [name, counts[i] as number])) as SplitStats['classes'];
  return { split, rows: set.count, classes, unlabelled };
}
