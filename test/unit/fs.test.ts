// Writing files: whole or not at all, and a failure that names its real cause.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirectory, writeFileAtomic } from '../../src/fs.js';
import { tempDir } from '../helpers.js';

test('writeFileAtomic creates the folders, replaces the file whole and leaves no temporary file', () => {
  const dir = tempDir();
  const file = join(dir, 'a', 'b', 'out.txt');
  writeFileAtomic(file, 'one');
  writeFileAtomic(file, 'two');
  assert.is(readFileSync(file, 'utf8'), 'two');
  assert.equal(readdirSync(join(dir, 'a', 'b')), ['out.txt']);
});

test('on a read-only file system the error says so (EROFS), not "no such file or directory"', () => {
  // A real read-only mount: needs root (CI and this machine have it); elsewhere there is nothing to mount.
  const mountPoint = join(tempDir(), 'ro');
  mkdirSync(mountPoint);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', mountPoint], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    console.log(`  (skipped: cannot mount a read-only tmpfs here: ${(mounted.stderr || mounted.error?.message || '').trim()})`);
    return;
  }
  try {
    // Node's own recursive mkdir reports ENOENT here: the case this guards.
    assert.throws(() => mkdirSync(join(mountPoint, 'x', 'y'), { recursive: true }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    assert.throws(() => makeDirectory(join(mountPoint, 'x', 'y')), (e: NodeJS.ErrnoException) => e.code === 'EROFS' && /read-only file system/.test(e.message));
    assert.throws(() => writeFileAtomic(join(mountPoint, 'state', 'runs', 'run.json'), '{}'), (e: NodeJS.ErrnoException) => e.code === 'EROFS');
    assert.throws(() => writeFileAtomic(join(mountPoint, 'file.txt'), 'x'), (e: NodeJS.ErrnoException) => e.code === 'EROFS');
  } finally {
    spawnSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  }
});

test.run();
