import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The package root: compiled code lives in dist/src, data files stay in the source tree. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function projectPath(...parts: string[]): string {
  return join(PROJECT_ROOT, ...parts);
}
