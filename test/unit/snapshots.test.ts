import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { classifySnapshots, snapshotFiles, snapshotKind, SnapshotError } from '../../src/engine/snapshots.js';
import { acquireLocks, TargetLockedError } from '../../src/engine/state.js';
import { tempDir, writeReg } from '../helpers.js';

const INF = 'test/fixtures/secedit/SecurityPolicyDsc_sample.inf';
const CSV = 'test/fixtures/auditpol/AuditPolicyDsc_audit.csv';
const REG = 'test/fixtures/reg/plus3it_sceWin8.reg';

test('each kind of export is told by its content, whatever its name and encoding', () => {
  const dir = tempDir();
  const copy = (from: string, name: string) => {
    copyFileSync(from, join(dir, name));
    return join(dir, name);
  };
  assert.is(snapshotKind(copy(INF, 'a.txt')), 'SecurityTemplate');
  assert.is(snapshotKind(copy(CSV, 'b.reg')), 'AuditBackup');
  assert.is(snapshotKind(copy(REG, 'c.inf')), 'Registry');
  // A UTF-16 regedit export (what regedit writes), a REGEDIT4 one, a UTF-8 GPO template with a BOM.
  writeReg(join(dir, 'd'), ['Windows Registry Editor Version 5.00', '']);
  assert.is(snapshotKind(join(dir, 'd')), 'Registry');
  writeFileSync(join(dir, 'e'), 'REGEDIT4\r\n\r\n');
  assert.is(snapshotKind(join(dir, 'e')), 'Registry');
  writeFileSync(join(dir, 'f'), '\ufeff; GPO template\r\n[Unicode]\r\nUnicode=yes\r\n');
  assert.is(snapshotKind(join(dir, 'f')), 'SecurityTemplate');
});

test('a file of no known kind, an empty file, a folder and a missing file are errors that say why', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'notes.txt'), 'hello world\n');
  writeFileSync(join(dir, 'empty'), '');
  mkdirSync(join(dir, 'folder'));
  assert.throws(() => snapshotKind(join(dir, 'notes.txt')), (e: Error) => e instanceof SnapshotError && /notes\.txt:1: not a regedit export.*starts with "hello world"/.test(e.message));
  assert.throws(() => snapshotKind(join(dir, 'empty')), /it is empty/);
  assert.throws(() => snapshotKind(join(dir, 'folder')), /is a directory/);
  assert.throws(() => snapshotKind(join(dir, 'missing.reg')), /does not exist/);
});

test('one file per store, full paths, stable order; two files of one kind are refused', () => {
  const snapshots = classifySnapshots([CSV, INF, REG]);
  assert.equal(snapshots, { AuditBackup: resolve(CSV), SecurityTemplate: resolve(INF), Registry: resolve(REG) });
  assert.equal(snapshotFiles(snapshots), [resolve(CSV), resolve(INF), resolve(REG)].sort());
  const dir = tempDir();
  copyFileSync(INF, join(dir, 'other.inf'));
  assert.throws(() => classifySnapshots([INF, join(dir, 'other.inf')]), /both a secedit export or security template \(\.inf\): give one file per kind/);
});

test('locks: all or none under one token, and a held one is waited for within --wait', async () => {
  const dir = tempDir();
  const [a, b] = [join(dir, 'a.lock'), join(dir, 'b.lock')];
  const holder = { pid: process.pid, host: hostname(), processStarted: new Date().toISOString(), document: 'other', since: new Date().toISOString(), token: 'theirs' };
  writeFileSync(b, JSON.stringify(holder));
  // b is held: a must not stay taken.
  await acquireLocks([a, b], 'doc', undefined).then(
    () => assert.unreachable('took a held lock'),
    (e: Error) => assert.ok(e instanceof TargetLockedError && /'other'/.test(e.message)),
  );
  assert.not.ok(existsSync(a));
  // Waiting: the holder lets go after 300 ms; a 5 s wait gets both, one token in both files.
  setTimeout(() => rmSync(b), 300).unref();
  const started = Date.now();
  const lock = await acquireLocks([a, b], 'doc', undefined, 5000);
  assert.ok(Date.now() - started >= 250, 'it waited');
  const tokens = [a, b].map((f) => (JSON.parse(readFileSync(f, 'utf8')) as { token: string }).token);
  assert.equal(tokens, [lock.token, lock.token]);
  lock.release();
  assert.not.ok(existsSync(a) || existsSync(b));
  // A wait that runs out says how long it waited.
  writeFileSync(b, JSON.stringify(holder));
  await acquireLocks([a, b], 'doc', undefined, 1000).then(
    () => assert.unreachable('took a held lock'),
    (e: Error) => assert.match(e.message, /waited 1 s/),
  );
});

test.run();
