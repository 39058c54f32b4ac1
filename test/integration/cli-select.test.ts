// --only/--skip, --wait and several --snapshot files through the CLI, with real PowerShell.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ApplyReport, RunReport } from '../../src/engine/results.js';
import { runCli, shareCliSession, tempDir } from '../helpers.js';

shareCliSession(test.after);

const SEED = 'configurations/smb-client-signing.yaml';

function demoSnapshot(): string {
  const file = join(tempDir(), 'server.reg');
  copyFileSync('examples/demo/server-before.reg', file);
  return file;
}

test('--only and --skip pick resources by name; an unknown name is invalid input with a did-you-mean', async () => {
  const snapshot = demoSnapshot();
  const only = await runCli(['test', SEED, '--snapshot', snapshot, '--json', '--only', 'Same value, written as a raw registry value']);
  assert.is(only.code, 2, only.stderr);
  assert.equal((JSON.parse(only.stdout) as RunReport).results.map((r) => r.name), ['Same value, written as a raw registry value']);
  const skip = await runCli(['test', SEED, '--snapshot', snapshot, '--json', '--skip', 'same value, written as a raw registry value']);
  assert.equal((JSON.parse(skip.stdout) as RunReport).results.map((r) => r.name), ['SMB client signing (if server agrees)']);
  const typo = await runCli(['test', SEED, '--snapshot', snapshot, '--only', 'SMB client signing (if server agree)']);
  assert.is(typo.code, 3);
  assert.match(typo.stderr, /--only SMB client signing \(if server agree\): no resource of smb-client-signing has that name.*did you mean "SMB client signing \(if server agrees\)"/);
  const none = await runCli(['test', SEED, '--snapshot', snapshot, '--skip', 'SMB client signing (if server agrees)', '--skip', 'Same value, written as a raw registry value']);
  assert.is(none.code, 3);
  assert.match(none.stderr, /leave none of the 2 resources/);
});

test('--only by STIG id: apply changes only the selected setting', async () => {
  const snapshot = demoSnapshot();
  const before = readFileSync(snapshot);
  // The catalog entry of SMB client signing cites its STIG rule; the raw Registry resource cites nothing.
  const show = await runCli(['catalog', 'show', 'Microsoft network client: Digitally sign communications (if server agrees)', '--json']);
  const stig = (JSON.parse(show.stdout) as { references: { stig: string[] } }).references.stig.find((id) => /^WN16-/.test(id))!;
  assert.ok(stig, 'the entry cites a STIG id');
  const r = await runCli(['apply', SEED, '--snapshot', snapshot, '--json', '--only', stig.toLowerCase()]);
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ApplyReport;
  assert.equal(report.test.results.map((x) => x.name), ['SMB client signing (if server agrees)']);
  assert.not.ok(readFileSync(snapshot).equals(before));
});

test('--wait: a changing run waits for a held lock and proceeds once it is released; without it, it fails at once', async () => {
  const snapshot = demoSnapshot();
  const holder = { pid: process.pid, host: hostname(), processStarted: new Date().toISOString(), document: 'ci-job-1', since: new Date().toISOString(), token: 'x' };
  writeFileSync(`${snapshot}.lock`, JSON.stringify(holder));
  const refused = await runCli(['apply', SEED, '--snapshot', snapshot]);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /locked by process .*'ci-job-1'/);
  setTimeout(() => rmSync(`${snapshot}.lock`), 1500).unref();
  const waited = await runCli(['apply', SEED, '--snapshot', snapshot, '--wait', '60', '--json']);
  assert.is(waited.code, 0, waited.stderr);
  assert.ok((JSON.parse(waited.stdout) as ApplyReport).converged);
  const bad = await runCli(['apply', SEED, '--snapshot', snapshot, '--wait', 'soon']);
  assert.is(bad.code, 3);
  assert.match(bad.stderr, /--wait takes whole seconds/);
});

test('several --snapshot files: one per kind, told by content; a second file of one kind or an unknown file is invalid input', async () => {
  const snapshot = demoSnapshot();
  const dir = tempDir();
  copyFileSync('test/fixtures/secedit/SecurityPolicyDsc_sample.inf', join(dir, 'a.inf'));
  copyFileSync('test/fixtures/secedit/SecurityPolicyDsc_sample.inf', join(dir, 'b.inf'));
  const two = await runCli(['test', SEED, '--snapshot', snapshot, '--snapshot', join(dir, 'a.inf'), '--snapshot', join(dir, 'b.inf')]);
  assert.is(two.code, 3);
  assert.match(two.stderr, /both a secedit export or security template/);
  writeFileSync(join(dir, 'notes.txt'), 'not an export\n');
  const unknown = await runCli(['test', SEED, '--snapshot', join(dir, 'notes.txt')]);
  assert.is(unknown.code, 3);
  assert.match(unknown.stderr, /notes\.txt:1: not a regedit export/);
  // A registry document with a template given too: the run names every file it works on.
  const both = await runCli(['test', SEED, '--snapshot', snapshot, '--snapshot', join(dir, 'a.inf')]);
  assert.is(both.code, 2, both.stderr);
  assert.match(both.stderr, /on .*a\.inf, .*server\.reg|on .*server\.reg, .*a\.inf/);
});

test.run();
