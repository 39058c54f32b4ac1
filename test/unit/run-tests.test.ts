// The test runner itself (bin/run-tests.mjs), on small test folders made here: a crash at import,
// a failing test, a file that runs nothing, a file that leaves a process behind and a hung file are
// failures under their own names; the closing line is `N passed, N failed[, N skipped]`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RUNNER = join(ROOT, 'bin', 'run-tests.mjs');
const UVU = pathToFileURL(join(ROOT, 'node_modules', 'uvu', 'dist', 'index.mjs')).href;

function folder(files: Record<string, string>): string {
  const dir = tempDir('winstate-runner-');
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), `import { test } from ${JSON.stringify(UVU)};\n${body}\n`);
  }
  return dir;
}

function runner(dir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [RUNNER, '--dir', dir, ...args], { encoding: 'utf8' });
  const lines = r.stdout.trim().split('\n');
  return { code: r.status, last: lines[lines.length - 1], out: r.stdout + r.stderr };
}

test('passing and skipped tests: exit 0 with the closing line', () => {
  const dir = folder({ 'a.test.js': "test('one', () => {}); test('two', () => {}); test.skip('three', () => {}); test.run();" });
  const r = runner(dir);
  assert.is(r.code, 0, r.out);
  assert.is(r.last, '2 passed, 0 failed, 1 skipped');
});

test('a file that fails to import is a failure with its name, never 0 passed, 0 failed', () => {
  const dir = folder({ 'good.test.js': "test('fine', () => {}); test.run();", 'broken.test.js': "import './missing-module.js';\ntest('never', () => {}); test.run();" });
  const r = runner(dir);
  assert.is(r.code, 1);
  assert.is(r.last, '1 passed, 1 failed');
  assert.match(r.out, /broken\.test\.js: crashed before reporting any result/);
});

test('a failing test fails the run; a file that runs no test fails too', () => {
  const dir = folder({ 'fail.test.js': "test('bad', () => { throw new Error('nope'); }); test.run();", 'empty.test.js': 'test.run();' });
  const r = runner(dir);
  assert.is(r.code, 1);
  assert.is(r.last, '0 passed, 2 failed');
  assert.match(r.out, /empty\.test\.js: ran no test/);
  assert.match(r.out, /nope/);
});

test('a process left running by a test file is reported, killed, and fails the file', () => {
  const dir = folder({
    'leak.test.js': "import { spawn } from 'node:child_process';\ntest('leaks', () => { spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore', detached: false }).unref(); }); test.run();",
  });
  const r = runner(dir);
  assert.is(r.code, 1);
  assert.match(r.out, /leak\.test\.js: left 1 process\(es\) running/);
  assert.is(r.last, '1 passed, 1 failed');
});

test('a hung file is killed after --file-timeout and named', () => {
  const dir = folder({ 'hang.test.js': "test('hangs', () => new Promise(() => setInterval(() => {}, 1000))); test.run();" });
  const r = runner(dir, '--file-timeout', '2');
  assert.is(r.code, 1);
  assert.match(r.out, /hang\.test\.js: still running after 2 s: killed/);
  assert.is(r.last, '0 passed, 1 failed');
});

test('-t runs only matching tests; a file pattern only matching files; no match at all fails', () => {
  const dir = folder({ 'x/a.test.js': "test('alpha', () => {}); test('beta', () => {}); test.run();", 'y/b.test.js': "test('gamma', () => {}); test.run();" });
  const named = runner(dir, '-t', '^al');
  assert.is(named.last, '1 passed, 0 failed, 2 skipped');
  const files = runner(dir, 'y/');
  assert.is(files.last, '1 passed, 0 failed');
  const none = runner(dir, 'nothing-matches');
  assert.is(none.code, 1);
  assert.is(none.last, '0 passed, 1 failed');
});

test('each file gets its own temporary folder, removed once it passes; a failing file\'s is kept and named', () => {
  // The runner's own TMPDIR, so that what it makes can be told from everything else in the system's.
  const base = tempDir('winstate-runner-tmp-');
  const body = (fail: boolean) =>
    "import { mkdtempSync, writeFileSync } from 'node:fs'; import { tmpdir } from 'node:os'; import { join } from 'node:path';\n" +
    `test('writes', () => { const d = mkdtempSync(join(tmpdir(), 'x-')); writeFileSync(join(d, 'f'), tmpdir()); ${fail ? "throw new Error('kept: ' + d);" : ''} }); test.run();`;
  const dir = folder({ 'pass.test.js': body(false), 'fail.test.js': body(true) });
  const r = spawnSync(process.execPath, [RUNNER, '--dir', dir], { encoding: 'utf8', env: { ...process.env, TMPDIR: base } });
  assert.is(r.status, 1, r.stdout);
  const kept = /fail\.test\.js: its temporary files are kept in (\S+)/.exec(r.stdout);
  assert.ok(kept, r.stdout);
  assert.ok(kept![1]!.startsWith(base), `${kept![1]} is under the runner's TMPDIR`);
  assert.ok(existsSync(kept![1]!), 'the failing file\'s folder is still there');
  // Only the failing file's folder is left: the passing file's went, with what it wrote.
  const runDirs = readdirSync(base);
  assert.is(runDirs.length, 1);
  assert.equal(readdirSync(join(base, runDirs[0]!)).sort(), [kept![1]!.split('/').pop()!]);
  const clean = spawnSync(process.execPath, [RUNNER, '--dir', folder({ 'pass.test.js': body(false) })], { encoding: 'utf8', env: { ...process.env, TMPDIR: base } });
  assert.is(clean.status, 0, clean.stdout);
  assert.equal(readdirSync(base), runDirs, 'a passing run leaves nothing behind');
});

test('--help says how to run one file or one test by name', () => {
  const r = spawnSync(process.execPath, [RUNNER, '--help'], { encoding: 'utf8' });
  assert.is(r.status, 0);
  assert.match(r.stdout, /file-pattern/);
  assert.match(r.stdout, /-t, --test <re>/);
});

test.run();
