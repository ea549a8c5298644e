import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

/** The repository (package) root: this file lives at dist/src/data/paths.js. */
export const PACKAGE_ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

/**
 * Root of the shared data folders (fer2013/, sfew2-aligned/, photos/): the FER_DATA
 * environment variable, else ../shared/data beside the repository.
 */
export function dataRoot(override?: string): string {
  return resolve(override ?? process.env['FER_DATA'] ?? join(PACKAGE_ROOT, '..', 'shared', 'data'));
}

export const DEFAULT_FER_FILE = 'fer2013/fer2013-dev.csv.gz';
export const DEFAULT_SFEW_DIR = 'sfew2-aligned';
export const DEFAULT_PHOTOS_DIR = 'photos';

/** The model the package ships, trained by this repository's own commands (see models/README.md). */
export const DEFAULT_MODEL_DIR = join(PACKAGE_ROOT, 'models', 'fer2013-net1');
