import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Engine, WinstateRunError } from '../../src/engine/engine.js';
import { PwshSession } from '../../src/bridge/session.js';
import { ps } from '../../src/compile/quote.js';
import { compilePlan } from '../../src/compile/emit.js';
import { listRuns, readJournal, TargetLockedError } from '../../src/engine/state.js';
import type { BackupRecord, RegistryBackupEntry } from '../../src/engine/rollback.js';
import type { RunReport } from '../../src/engine/results.js';
import { planFromYaml, runPwshFile, tempDir, waitFor, writeReg } from '../helpers.js';

// One PowerShell for the whole file (the engines below run in it too, and never close it), except
// where a test kills PowerShell.
const session = new PwshSession();
test.after(() => session.close());

/** Every key and value of a snapshot, order-independent, through the runtime's own reader. */
async function dump(file: string): Promise<unknown> {
  const runtime = ['src/compile/runtime/core.ps1', 'src/compile/runtime/safety.ps1', 'src/kinds/registry/registry-snapshot.ps1', 'src/kinds/registry/registry.ps1'].map((f) => resolve(f));
  const r = await session.invoke(ps`foreach ($f in ${runtime}) { . $f }
$s = Open-WsSnapshotStore -LiteralPath ${file}
$keys = foreach ($k in $s.KeyMap.get_Values()) {
    $values = foreach ($v in $k.ValueMap.get_Values()) { '{0}={1}:{2}' -f $v.Name.ToLowerInvariant(), $v.Kind, (ConvertTo-WsAsciiJson -InputObject (ConvertTo-WsWireData -Kind $v.Kind -Data $v.Data)) }
    $k.Path.ToLowerInvariant() + ' {' + ((@($values) | Sort-Object) -join '; ') + '}'
}
(@($keys) | Sort-Object) -join [string][char]10`);
  assert.ok(r.ok, r.error?.message);
  return r.output.split('\n');
}

const DOC = `
metadata: { name: safety }
resources:
  - { name: changed data, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\S\\A', valueName: Num, valueType: DWord, valueData: 2 } }
  - { name: changed type, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\S\\A', valueName: Typed, valueType: DWord, valueData: 1 } }
  - { name: new value, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\S\\A', valueName: Fresh, valueType: MultiString, valueData: [x, y] } }
  - { name: removed value, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\S\\A', valueName: Old, ensure: Absent } }
  - { name: removed tree, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\S\\Tree', ensure: Absent } }
  - { name: created keys, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\S\\New\\Deeper', valueName: Q, valueType: QWord, valueData: 18446744073709551615 } }
  - { name: already fine, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\S\\A', valueName: Same, valueType: String, valueData: same } }
`;

function startSnapshot(dir: string): string {
  const file = join(dir, 'machine.reg');
  writeReg(file, [
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\S\\A]',
    '"Num"=dword:00000001',
    '"Typed"="1"',
    '"Old"=hex(2):25,00,58,00,25,00,00,00',
    '"Same"="same"',
    '',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\S\\Tree]',
    '@="root default"',
    '"Bin"=hex:01,02',
    '',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\S\\Tree\\Child]',
    '"Big"=hex(b):01,00,00,00,00,00,00,80',
    '"List"=hex(7):61,00,00,00,00,00',
  ]);
  return file;
}

test('set records the prior state of everything it changes before changing it', async () => {
  const stateDir = tempDir('winstate-state-');
  const engine = new Engine({ stateDir, session });
  try {
    const snapshot = startSnapshot(tempDir());
    const report = await engine.set(planFromYaml(DOC), { snapshot });
    assert.is(report.summary.changed, 6);
    assert.ok(report.backup && report.runId);
    const backup = JSON.parse(readFileSync(report.backup!, 'utf8')) as BackupRecord;
    const byName = Object.fromEntries((backup.entries as RegistryBackupEntry[]).map((e) => [e.resource, e]));
    assert.is(backup.entries.length, 6, 'only what changes is recorded');
    assert.equal(byName['changed data']!.value, { exists: true, valueType: 'DWord', typeCode: 4, valueData: 1 });
    assert.equal(byName['changed type']!.value, { exists: true, valueType: 'String', typeCode: 1, valueData: '1' });
    assert.equal(byName['new value']!.value, { exists: false });
    assert.equal(byName['removed value']!.value, { exists: true, valueType: 'ExpandString', typeCode: 2, valueData: '%X%' });
    assert.is(byName['created keys']!.keyExisted, false);
    assert.equal(byName['created keys']!.createdKeys, ['SOFTWARE\\S\\New', 'SOFTWARE\\S\\New\\Deeper']);
    const tree = byName['removed tree']!.removedTree!;
    assert.equal(tree.map((k) => k.subKey), ['SOFTWARE\\S\\Tree', 'SOFTWARE\\S\\Tree\\Child']);
    assert.equal(tree[1]!.values, [
      { name: 'Big', valueType: 'QWord', typeCode: 11, valueData: '9223372036854775809' },
      { name: 'List', valueType: 'MultiString', typeCode: 7, valueData: ['a'] },
    ]);
    const journal = readJournal(report.backup!);
    assert.is(journal.complete, true);
    assert.is(journal.applied.length, 6);
    const runs = listRuns(stateDir);
    assert.is(runs.length, 1);
    assert.is(runs[0]!.status, 'converged');
    assert.is(runs[0]!.changes.length, 6);
  } finally {
    await engine.close();
  }
});

test('rollback restores exactly: data, types, absence, removed trees; created keys go when empty', async () => {
  const stateDir = tempDir('winstate-state-');
  const engine = new Engine({ stateDir, session });
  try {
    const snapshot = startSnapshot(tempDir());
    const original = await dump(snapshot);
    const applied = await engine.apply(planFromYaml(DOC), { snapshot });
    assert.ok(applied.converged);
    assert.not.equal(await dump(snapshot), original);
    const rollback = await engine.rollback('latest');
    assert.is(rollback.of.id, applied.runId);
    assert.ok(rollback.report.converged, JSON.stringify(rollback.report.verify?.results.filter((r) => !r.inDesiredState)));
    assert.equal(await dump(snapshot), original);
    assert.ok(existsSync(rollback.documentFile) && existsSync(rollback.scriptFile));
    assert.is(rollback.run!.rollbackOf, applied.runId);
    // The rollback is itself a run with a backup: rolling it back re-applies the change.
    const again = await engine.rollback(rollback.run!.id);
    assert.ok(again.report.converged);
    assert.is((await engine.test(planFromYaml(DOC), { snapshot })).summary.drifted, 0);
  } finally {
    await engine.close();
  }
});

test('a key the run created is kept by rollback when something else was put in it since', async () => {
  const stateDir = tempDir('winstate-state-');
  const engine = new Engine({ stateDir, session });
  try {
    const snapshot = startSnapshot(tempDir());
    const first = await engine.apply(planFromYaml(DOC), { snapshot });
    const other = planFromYaml(`metadata: { name: other }\nresources:\n  - { name: o, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\S\\New', valueName: Later, valueType: DWord, valueData: 5 } }\n`);
    await engine.set(other, { snapshot });
    const rb = await engine.rollback(first.runId!);
    assert.ok(rb.report.converged);
    const after = (await dump(snapshot)) as string[];
    assert.ok(after.some((l) => l.startsWith('hkey_local_machine\\software\\s\\new {later=DWord:5}')), after.join('\n'));
    assert.not.ok(after.some((l) => l.includes('\\new\\deeper')));
  } finally {
    await engine.close();
  }
});

test('a held lock stops a second apply with the holder named; a dead holder\'s lock is taken over', async () => {
  const engine = new Engine({ stateDir: tempDir('winstate-state-'), session });
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  try {
    const snapshot = startSnapshot(tempDir());
    const before = readFileSync(snapshot);
    const holder = { pid: sleeper.pid, host: (await import('node:os')).hostname(), processStarted: new Date().toISOString(), document: 'other-doc', since: new Date().toISOString() };
    writeFileSync(`${snapshot}.lock`, JSON.stringify(holder));
    try {
      await engine.apply(planFromYaml(DOC), { snapshot });
      assert.unreachable('apply should refuse a locked target');
    } catch (error) {
      assert.instance(error, TargetLockedError);
      assert.match((error as Error).message, new RegExp(`process ${sleeper.pid} .*'other-doc'`));
    }
    assert.ok(readFileSync(snapshot).equals(before));
    // The standalone script honours the same lock file.
    const file = join(tempDir(), 'safety.ps1');
    writeFileSync(file, compilePlan(planFromYaml(DOC)).text);
    const direct = runPwshFile(file, ['-Mode', 'Set', '-RegistrySnapshot', snapshot]);
    assert.is.not(direct.status, 0);
    assert.match(direct.stderr + direct.stdout, new RegExp(`locked by process ${sleeper.pid}`));
    assert.ok(readFileSync(snapshot).equals(before));

    sleeper.kill('SIGKILL');
    await new Promise((r) => sleeper.once('exit', r));
    const report = await engine.apply(planFromYaml(DOC), { snapshot });
    assert.ok(report.converged, 'stale lock taken over');
    assert.not.ok(existsSync(`${snapshot}.lock`), 'lock released');
  } finally {
    sleeper.kill('SIGKILL');
    await engine.close();
  }
});

test('PowerShell killed mid-set: reported as interrupted, snapshot untouched, backup intact, session restarts', async () => {
  const stateDir = tempDir('winstate-state-');
  const engine = new Engine({ stateDir });
  try {
    const dir = tempDir();
    const snapshot = join(dir, 'big.reg');
    writeReg(snapshot, ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\Big]', '"seed"=dword:00000000']);
    const before = readFileSync(snapshot);
    const resources = Array.from({ length: 60 }, (_, i) => `  - { name: r${i}, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Big\\K${i % 10}', valueName: V${i}, valueType: String, valueData: v${i} } }`);
    const plan = planFromYaml(`metadata: { name: big }\nresources:\n${resources.join('\n')}\n`);
    // The runtime's test hooks hold the run after its first change (backup written, nothing saved),
    // where PowerShell is killed: no race against the run's speed.
    const hooks = join(dir, 'hooks');
    mkdirSync(hooks);
    const armed = await engine.session.invoke(ps`$env:WINSTATE_TEST_HOOKS = ${hooks}`);
    assert.ok(armed.ok, armed.error?.message);
    const running = engine.set(plan, { snapshot });
    for (const phase of ['locked', 'backup']) {
      await waitFor(() => existsSync(join(hooks, `${phase}.reached`)), `the run to reach ${phase}`, 120_000);
      writeFileSync(join(hooks, `${phase}.go`), '');
    }
    await waitFor(() => existsSync(join(hooks, 'changed.reached')), 'the first change', 120_000);
    const runsDir = join(stateDir, 'runs');
    const backup = join(runsDir, readdirSync(runsDir)[0]!, 'backup.json');
    assert.ok(existsSync(backup), 'the backup is written before changes start');
    process.kill(engine.session.powershellPid!, 'SIGKILL');
    try {
      await running;
      assert.unreachable('set should fail when PowerShell dies');
    } catch (error) {
      assert.instance(error, WinstateRunError);
      const run = (error as WinstateRunError).run!;
      assert.is(run.status, 'interrupted');
      assert.equal(run.appliedBeforeInterruption, [], 'snapshot changes only count once saved');
      assert.match((error as Error).message, /interrupted/);
    }
    assert.ok(readFileSync(snapshot).equals(before), 'snapshot not half-written');
    assert.not.ok(readdirSync(dir).some((f) => f.endsWith('.tmp')), 'no temp file left');
    const record = JSON.parse(readFileSync(backup, 'utf8')) as BackupRecord;
    assert.is(record.entries.length, 60);
    assert.is(listRuns(stateDir)[0]!.status, 'interrupted');
    // The new process has no hooks (they were set in the killed one only).
    const after = await engine.test(plan, { snapshot });
    assert.is(after.summary.drifted, 60, 'the session restarted and still works');
    assert.ok(engine.session.starts >= 2);
  } finally {
    await engine.close();
  }
});

/** The seed document's script with one resource sabotaged so that writing it fails at run time. */
function sabotaged(names: string[]): string {
  const plan = planFromYaml(`metadata: { name: sab }\nresources:\n${names.map((n) => `  - { name: ${n}, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\P', valueName: ${n}, valueType: DWord, valueData: 1 } }`).join('\n')}\n`);
  const text = compilePlan(plan).text;
  const marker = "ValueName = 'broken'\n        Ensure = 'Present'\n        ValueType = 'DWord'";
  assert.ok(text.includes(marker));
  return text.replace(marker, marker.replace("'DWord'", "'Bogus'"));
}

test('one failing setting does not stop the others; the run is partial (exit 4) and recorded in the journal', () => {
  const dir = tempDir();
  const snapshot = join(dir, 'p.reg');
  writeReg(snapshot, ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\P]']);
  const file = join(dir, 'sab.ps1');
  writeFileSync(file, sabotaged(['first', 'broken', 'last']));
  const backupPath = join(dir, 'backup.json');
  const run = runPwshFile(file, ['-Mode', 'Set', '-RegistrySnapshot', snapshot, '-OutputFormat', 'Json', '-BackupPath', backupPath]);
  assert.is(run.status, 4, run.stderr);
  const report = JSON.parse(run.stdout) as RunReport;
  assert.is(report.partial, true);
  assert.equal(report.results.map((r) => [r.name, r.changed ?? null, r.error ? 'error' : 'ok']), [['first', true, 'ok'], ['broken', false, 'error'], ['last', true, 'ok']]);
  assert.equal(readJournal(backupPath), { applied: ['first', 'last'], complete: true });
});

test('fail-fast stops at the first failure and skips the rest', () => {
  const dir = tempDir();
  const snapshot = join(dir, 'p.reg');
  writeReg(snapshot, ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\P]']);
  const file = join(dir, 'sab.ps1');
  writeFileSync(file, sabotaged(['first', 'broken', 'last']));
  const run = runPwshFile(file, ['-Mode', 'Set', '-RegistrySnapshot', snapshot, '-OutputFormat', 'Json', '-FailFast', '-BackupPath', join(dir, 'b.json')]);
  assert.is(run.status, 4);
  const report = JSON.parse(run.stdout) as RunReport;
  assert.equal(report.summary, { total: 3, inDesiredState: 0, drifted: 0, changed: 1, failed: 1, skipped: 1, waived: 0 }, "each resource counted once");
  assert.is(report.results[2]!.skipped, true);
});

test('the standalone script writes its backup to a default place under the state directory and says where', () => {
  const dir = tempDir();
  const stateDir = tempDir('winstate-state-');
  const snapshot = join(dir, 'p.reg');
  writeReg(snapshot, ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\P]']);
  const file = join(dir, 'ok.ps1');
  writeFileSync(file, compilePlan(planFromYaml(`metadata: { name: okdoc }\nresources:\n  - { name: a, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\P', valueName: a, valueType: DWord, valueData: 1 } }\n`)).text);
  const saved = process.env.WINSTATE_STATE_DIR;
  process.env.WINSTATE_STATE_DIR = stateDir;
  try {
    const run = runPwshFile(file, ['-Mode', 'Set', '-RegistrySnapshot', snapshot]);
    assert.is(run.status, 0, run.stderr);
    const backups = readdirSync(join(stateDir, 'backups')).filter((f) => f.endsWith('.json'));
    assert.is(backups.length, 1);
    assert.match(backups[0]!, /^okdoc-\d{8}T\d{9}Z\.json$/);
    assert.ok(run.stdout.includes(join(stateDir, 'backups', backups[0]!)), 'the text output names the backup');
  } finally {
    process.env.WINSTATE_STATE_DIR = saved;
  }
});

test.run();
