import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EXAMPLES_DIR = join(REPO_ROOT, 'examples');
export const INVALID_DIR = join(REPO_ROOT, 'test', 'fixtures', 'invalid');
export const CRDS_DIR = join(REPO_ROOT, 'crds');
