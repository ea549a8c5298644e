import { stat } from 'node:fs/promises';
import { DataError, type BadRowPolicy } from './errors.js';
import type { FaceSet } from './faces.js';
import { readFer2013 } from './fer2013.js';
import { readImageFolder } from './image-folder.js';

export interface LoadedFaces {
  source: string;
  kind: 'fer2013-csv' | 'image-folder';
  splits: Map<string, FaceSet>;
  bad: DataError[];
}

/** Reads faces from a fer2013.csv(.gz) file or an ImageFolder directory. */
export async function loadFaces(path: string, policy: BadRowPolicy = {}): Promise<LoadedFaces> {
  const info = await stat(path).catch(() => {
    throw new DataError(path, undefined, undefined, 'no such file or folder');
  });
  if (info.isDirectory()) {
    const result = await readImageFolder(path, policy);
    return { source: path, kind: 'image-folder', splits: result.splits, bad: result.badFiles };
  }
  const result = await readFer2013(path, policy);
  return { source: path, kind: 'fer2013-csv', splits: result.splits, bad: result.badRows };
}

/** One named split, with an error that lists the splits the source does have. */
export function requireSplit(faces: LoadedFaces, split: string): FaceSet {
  const set = faces.splits.get(split);
  if (!set) {
    throw new DataError(faces.source, undefined, 'split', `no "${split}" split (it has: ${[...faces.splits.keys()].join(', ') || 'none'})`);
  }
  return set;
}
