import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Writes through a temporary file in the same directory and renames it, so readers never see half a file. */
export function writeFileAtomic(file: string, text: string): void {
  makeDirectory(dirname(file));
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, text);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * mkdir -p that tells the real reason it failed. Node's recursive mkdir says ENOENT ("no such file
 * or directory") where the file system is read-only or the parent is not writable; creating the
 * first missing level alone then gives EROFS or EACCES.
 */
export function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    let missing = dir;
    while (!existsSync(dirname(missing)) && dirname(missing) !== missing) missing = dirname(missing);
    mkdirSync(missing); // throws the real error; if it worked after all, the rest follows
    mkdirSync(dir, { recursive: true });
  }
}
