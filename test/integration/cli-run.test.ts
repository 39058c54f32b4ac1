import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { main, type CliIo } from '../../src/cli/cli.js';
import type { ApplyReport, RunReport } from '../../src/engine/results.js';
import { runPwshFile, tempDir } from '../helpers.js';
import { runCli, shareCliSession } from '../helpers.js';

shareCliSession(test.after);
const SEED = 'configurations/smb-client-signing.yaml';

const cli = runCli;

function demoSnapshot(): string {
  const file = join(tempDir(), 'server.reg');
  copyFileSync('examples/demo/server-before.reg', file);
  return file;
}

test('test on drift exits 2; --json puts only JSON on stdout and the human report on stderr', async () => {
  const snapshot = demoSnapshot();
  const r = await cli(['test', SEED, '--snapshot', snapshot, '--json']);
  assert.is(r.code, 2);
  const report = JSON.parse(r.stdout) as RunReport;
  assert.is(report.summary.drifted, 2);
  assert.match(r.stderr, /DRIFT\s+SMB client signing \(if server agrees\): Disabled -> Enabled/);
});

test('apply --what-if prints the plan, exits 2 and leaves the snapshot bytes unchanged', async () => {
  const snapshot = demoSnapshot();
  const before = readFileSync(snapshot);
  const r = await cli(['apply', SEED, '--snapshot', snapshot, '--what-if']);
  assert.is(r.code, 2);
  assert.match(r.stdout, /~ SMB client signing \(if server agrees\): Disabled -> Enabled/);
  assert.match(r.stdout, /what-if: nothing was changed/);
  assert.ok(readFileSync(snapshot).equals(before));
});

test('apply converges (exit 0), a second apply changes nothing (exit 0, same bytes)', async () => {
  const snapshot = demoSnapshot();
  const first = await cli(['apply', SEED, '--snapshot', snapshot, '--json']);
  assert.is(first.code, 0, first.stderr);
  const report = JSON.parse(first.stdout) as ApplyReport;
  assert.is(report.plan.length, 2);
  assert.ok(report.converged);
  assert.equal(report.verify!.summary.inDesiredState, 2);
  const bytes = readFileSync(snapshot);
  const second = await cli(['apply', SEED, '--snapshot', snapshot, '--json']);
  assert.is(second.code, 0);
  assert.is((JSON.parse(second.stdout) as ApplyReport).plan.length, 0);
  assert.ok(readFileSync(snapshot).equals(bytes));
  const t = await cli(['test', SEED, '--snapshot', snapshot]);
  assert.is(t.code, 0);
});

test('a broken snapshot is a runtime error (exit 1) naming file and line; a missing one is invalid input (3)', async () => {
  const dir = tempDir();
  const broken = join(dir, 'broken.reg');
  writeFileSync(broken, 'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\X]\r\n"v"=bogus:1\r\n');
  const r = await cli(['test', SEED, '--snapshot', broken]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /broken\.reg:4:/);
  const missing = await cli(['test', SEED, '--snapshot', join(dir, 'nope.reg')]);
  assert.is(missing.code, 3);
});

test('an invalid document runs nothing and exits 3', async () => {
  const dir = tempDir();
  const doc = join(dir, 'bad.yaml');
  writeFileSync(doc, 'metadata: { name: bad }\nresources:\n  - name: x\n    type: Registry\n    properties: { key: HKXX\\Foo, valueName: a, valueType: DWord, valueData: 1 }\n');
  const snapshot = demoSnapshot();
  const before = readFileSync(snapshot);
  const r = await cli(['apply', doc, '--snapshot', snapshot]);
  assert.is(r.code, 3);
  assert.match(r.stderr, /bad\.yaml:5:\d+: error: .*unknown registry root 'HKXX'/);
  assert.ok(readFileSync(snapshot).equals(before));
});

test('no PowerShell found: exit 1 with install instructions', async () => {
  const r = await cli(['test', SEED, '--snapshot', demoSnapshot(), '--pwsh', '/nonexistent/pwsh'], { session: undefined });
  assert.is(r.code, 1);
  assert.match(r.stderr, /dotnet tool install --tool-path \.tools PowerShell --version 7\.6\.9/);
});

test('get prints current values and exits 0 even with drift', async () => {
  const r = await cli(['get', SEED, '--snapshot', demoSnapshot(), '--json']);
  assert.is(r.code, 0);
  const report = JSON.parse(r.stdout) as RunReport;
  assert.equal(report.results[0]!.actual, { ensure: 'Present', valueType: 'DWord', valueData: 0, policyValue: 'Disabled' });
});

test('runs lists what apply changed; rollback latest restores it; runs shows the rollback too', async () => {
  const snapshot = demoSnapshot();
  const stateDir = tempDir('winstate-state-');
  const before = await cli(['get', SEED, '--snapshot', snapshot, '--json']);
  const applied = await cli(['apply', SEED, '--snapshot', snapshot, '--state-dir', stateDir]);
  assert.is(applied.code, 0, applied.stderr);
  const listed = await cli(['runs', '--state-dir', stateDir]);
  assert.is(listed.code, 0);
  assert.match(listed.stdout, /apply\s+converged\s+smb-client-signing on .*server\.reg: 1 changed\n$/);
  // One run in full, by id or as latest: each change with its target.
  const runId = listed.stdout.split(' ')[0]!;
  for (const which of [runId, 'latest']) {
    const shown = await cli(['runs', which, '--state-dir', stateDir]);
    assert.is(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^${runId}  .*apply\\s+converged\\s+smb-client-signing on .*server\\.reg\n    changed SMB client signing \\(if server agrees\\): HKEY_LOCAL_MACHINE\\\\.*EnableSecuritySignature\n  1 changed\n$`));
  }
  assert.is((JSON.parse((await cli(['runs', runId, '--json', '--state-dir', stateDir])).stdout) as { id: string }).id, runId);
  const unknown = await cli(['runs', 'no-such-run', '--state-dir', stateDir]);
  assert.is(unknown.code, 3);
  assert.match(unknown.stderr, /no run 'no-such-run'/);
  assert.is((await cli(['runs', runId, '--limit', '1', '--state-dir', stateDir])).code, 3, '--limit goes with the list');
  // Another file named: refused, and that file untouched; the run's own target, named or not, is restored.
  const other = demoSnapshot();
  const otherBefore = readFileSync(other);
  const elsewhere = await cli(['rollback', 'latest', '--snapshot', other, '--state-dir', stateDir]);
  assert.is(elsewhere.code, 3, 'a refusal: nothing ran');
  assert.match(elsewhere.stderr, /run \S+ changed .*server\.reg, not .*server\.reg: nothing was rolled back/);
  assert.equal(readFileSync(other), otherBefore);
  // A what-if rollback describes and records nothing, so latest still means the apply.
  const preview = await cli(['rollback', 'latest', '--what-if', '--state-dir', stateDir]);
  assert.is(preview.code, 2, preview.stderr); // as apply --what-if: there is something to change
  assert.is((JSON.parse((await cli(['runs', '--state-dir', stateDir, '--json'])).stdout) as unknown[]).length, 1);
  const rolled = await cli(['rollback', 'latest', '--snapshot', snapshot, '--state-dir', stateDir, '--json']);
  assert.is(rolled.code, 0, rolled.stderr);
  assert.match(rolled.stderr, new RegExp(`rollback of run \\S+ \\(smb-client-signing\\) on ${snapshot.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // Its results keep the names the apply's results had, with what each does.
  const rollbackNames = (JSON.parse(rolled.stdout) as { report: { test: RunReport } }).report.test.results.map((r) => r.name);
  assert.ok(rollbackNames.some((n) => /^\d+: SMB client signing \(if server agrees\): restore HKEY_LOCAL_MACHINE\\/.test(n)), rollbackNames.join('; '));
  const after = await cli(['get', SEED, '--snapshot', snapshot, '--json']);
  assert.equal((JSON.parse(after.stdout) as RunReport).results, (JSON.parse(before.stdout) as RunReport).results, 'prior state restored');
  const runs = JSON.parse((await cli(['runs', '--state-dir', stateDir, '--json'])).stdout) as { id: string; command: string; rollbackOf?: string }[];
  assert.equal(runs.map((r) => r.command), ['apply', 'rollback']);
  assert.is(runs[1]!.rollbackOf, runs[0]!.id);
  // Filters and dates: the newest n, one target (a file or live), each line with its start time.
  const newest = JSON.parse((await cli(['runs', '--state-dir', stateDir, '--limit', '1', '--json'])).stdout) as { command: string }[];
  assert.equal(newest.map((r) => r.command), ['rollback']);
  assert.is(JSON.parse((await cli(['runs', '--state-dir', stateDir, '--target', snapshot, '--json'])).stdout).length, 2);
  assert.is(JSON.parse((await cli(['runs', '--state-dir', stateDir, '--target', 'live', '--json'])).stdout).length, 0);
  assert.match((await cli(['runs', '--state-dir', stateDir, '--target', 'live'])).stdout, /^no runs on the live machine in .* \(2 on other targets\)\n$/);
  assert.match((await cli(['runs', '--state-dir', stateDir])).stdout, /^\S+  \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z  apply /m);
  assert.is((await cli(['runs', '--state-dir', stateDir, '--limit', '0'])).code, 3);
  const nothing = await cli(['rollback', 'nope', '--state-dir', tempDir('winstate-state-')]);
  assert.is(nothing.code, 3);
  assert.match(nothing.stderr, /no run 'nope'/);
});

test('rollback --backup restores what a generated script changed when run by hand', async () => {
  const snapshot = demoSnapshot();
  const original = readFileSync(snapshot);
  const stateDir = tempDir('winstate-state-');
  const backup = join(tempDir(), 'by-hand.backup.json');
  const byHand = runPwshFile(join('generated-ps', 'smb-client-signing.ps1'), ['-Mode', 'Set', '-RegistrySnapshot', snapshot, '-BackupPath', backup]);
  assert.is(byHand.status, 0, byHand.stderr);
  assert.not.equal(readFileSync(snapshot), original, 'the script changed the file');
  const elsewhere = await cli(['rollback', '--backup', backup, '--snapshot', demoSnapshot(), '--state-dir', stateDir]);
  assert.is(elsewhere.code, 3);
  assert.match(elsewhere.stderr, /nothing was rolled back/);
  const rolled = await cli(['rollback', '--backup', backup, '--state-dir', stateDir]);
  assert.is(rolled.code, 0, rolled.stderr);
  assert.equal(readFileSync(snapshot), original, 'the file is back byte for byte');
  const both = await cli(['rollback', 'latest', '--backup', backup, '--state-dir', stateDir]);
  assert.is(both.code, 3);
  assert.match(both.stderr, /one run id, or latest, or --backup/);
  const notOurs = join(tempDir(), 'other.json');
  writeFileSync(notOurs, '{"hello":1}');
  const foreign = await cli(['rollback', '--backup', notOurs, '--state-dir', stateDir]);
  assert.is(foreign.code, 3);
  assert.match(foreign.stderr, /is not a backup written by winstate/);
});

test('set through the CLI takes the target lock and names the holder when it cannot', async () => {
  const snapshot = demoSnapshot();
  const before = readFileSync(snapshot);
  writeFileSync(`${snapshot}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), processStarted: new Date().toISOString(), document: 'someone-else', since: '2026-11-25T00:00:00Z' }));
  const r = await cli(['set', SEED, '--snapshot', snapshot, '--state-dir', tempDir('winstate-state-')]);
  assert.is(r.code, 1);
  assert.match(r.stderr, new RegExp(`locked by process ${process.pid} .*'someone-else'`));
  assert.ok(readFileSync(snapshot).equals(before));
});

test.run();
