import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { DataError, type BadRowPolicy } from './errors.js';
import { FACE_PIXELS, FACE_SIZE, type FaceSet } from './faces.js';
import { classIndexOf } from './labels.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

export interface ImageFolderResult {
  root: string;
  /** One FaceSet per split folder (or one named after the root when it holds class folders). */
  splits: Map<string, FaceSet>;
  /** Source file of each face, per split, in FaceSet order. */
  files: Map<string, string[]>;
  badFiles: DataError[];
}

/**
 * Reads an ImageFolder tree: `<root>/<split>/<Class>/<image>` or `<root>/<Class>/<image>`.
 * Class folders map to FER2013 indices by name (see labels.ts for the aliases), so the
 * alphabetical order ImageFolder tools use never matters.
 */
export async function readImageFolder(root: string, policy: BadRowPolicy & { concurrency?: number } = {}): Promise<ImageFolderResult> {
  const top = await subfolders(root);
  if (top.length === 0) throw new DataError(root, undefined, undefined, 'no class or split folders inside');
  const isClassLayout = top.every((name) => classIndexOf(name) !== undefined);
  const splitDirs = isClassLayout ? [[basename(root), root] as const] : top.map((name) => [name, join(root, name)] as const);

  const result: ImageFolderResult = { root, splits: new Map(), files: new Map(), badFiles: [] };
  for (const [split, dir] of splitDirs) {
    const entries: { file: string; label: number }[] = [];
    for (const className of await subfolders(dir)) {
      const label = classIndexOf(className);
      if (label === undefined) {
        throw new DataError(join(dir, className), undefined, 'class folder', `unknown class "${className}" (expected one of Angry, Disgust, Fear, Happy, Sad, Surprise, Neutral or an alias such as Happiness)`);
      }
      const names = (await readdir(join(dir, className))).filter((n) => IMAGE_EXTENSIONS.some((ext) => n.toLowerCase().endsWith(ext))).sort();
      for (const name of names) entries.push({ file: join(dir, className, name), label });
    }
    const pixels = new Uint8Array(entries.length * FACE_PIXELS);
    const ok = new Uint8Array(entries.length);
    await forEachConcurrently(entries, policy.concurrency ?? 8, async ({ file }, i) => {
      try {
        pixels.set(await decodeFace(file), i * FACE_PIXELS);
        ok[i] = 1;
      } catch (err) {
        const error = err instanceof DataError ? err : new DataError(file, undefined, undefined, String(err));
        if (!policy.skipBadRows) throw error;
        result.badFiles.push(error);
      }
    });
    const kept = entries.map((_, i) => i).filter((i) => ok[i]);
    const set: FaceSet = {
      count: kept.length,
      pixels: kept.length === entries.length ? pixels : compact(pixels, kept),
      labels: Int8Array.from(kept, (i) => (entries[i] as { label: number }).label),
    };
    result.splits.set(split, set);
    result.files.set(split, kept.map((i) => (entries[i] as { file: string }).file));
  }
  return result;
}

/** Decodes one face image to 48x48 grayscale: the centre square, as FER2013's faces are square crops. */
export async function decodeFace(file: string | Buffer): Promise<Uint8Array> {
  try {
    const { data } = await sharp(file)
      .rotate()
      .grayscale()
      .resize(FACE_SIZE, FACE_SIZE, { fit: 'cover', position: 'centre' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return new Uint8Array(data.buffer, data.byteOffset, FACE_PIXELS);
  } catch (err) {
    const name = typeof file === 'string' ? file : '<buffer>';
    throw new DataError(name, undefined, undefined, `cannot decode image: ${(err as Error).message}`);
  }
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new DataError(dir, undefined, undefined, `cannot read folder: ${err.code ?? err.message}`);
  });
  const isFolder = async (name: string): Promise<boolean> => (await stat(join(dir, name))).isDirectory();
  const candidates = entries.filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => e.name);
  const flags = await Promise.all(candidates.map(isFolder));
  return candidates.filter((_, i) => flags[i]).sort();
}

function compact(pixels: Uint8Array, kept: number[]): Uint8Array {
  const out = new Uint8Array(kept.length * FACE_PIXELS);
  kept.forEach((i, k) => out.set(pixels.subarray(i * FACE_PIXELS, (i + 1) * FACE_PIXELS), k * FACE_PIXELS));
  return out;
}

export async function forEachConcurrently<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
