// The live registry through the CLI exactly as an administrator runs it (no --snapshot): get,
// test, apply, set, rollback, runs, the lock, the shipped seed document, and a generated script
// run with -File. On Linux this is the Windows build of PowerShell under Wine (see live-env.ts).
import { underWine, invokeLive, readValues, writeValues, deleteTree, deleteValue, dumpTree, keyExists, type RegValue } from './live-env.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PwshSession } from '../../src/bridge/session.js';
import { ps } from '../../src/compile/quote.js';
import { projectPath } from '../../src/paths.js';
import { lockPathFor } from '../../src/engine/state.js';
import type { BackupRecord, RegistryBackupEntry } from '../../src/engine/rollback.js';
import type { ApplyReport, RunReport } from '../../src/engine/results.js';
import { runCli, runPwshFile, shareCliSession, tempDir } from '../helpers.js';

// The CLI's commands share one PowerShell under Wine (its start alone takes seconds); `direct`
// reads and writes the registry from a process of its own.
shareCliSession(test.after);

const TAG = randomBytes(4).toString('hex');
const KEY = `HKCU\\Software\\winstate-cli-${TAG}`;
const direct = new PwshSession();
const dir = tempDir();

const SEED_KEY = 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters';
let seedBefore: { workstationExisted: boolean; value: RegValue | null } | undefined;

test.after(async () => {
  await deleteTree(direct, KEY);
  if (seedBefore) {
    // Put the seed setting back as it was; the key is removed only if this test created it.
    if (!seedBefore.workstationExisted) await deleteTree(direct, 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation');
    else if (seedBefore.value) await writeValues(direct, SEED_KEY, { EnableSecuritySignature: seedBefore.value });
    else await deleteValue(direct, SEED_KEY, 'EnableSecuritySignature');
  }
  await direct.close();
});

function documentFile(name: string, yaml: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

const DOC = `metadata: { name: live-cli }
resources:
  - { name: changed data, type: Registry, properties: { key: '${KEY}\\A', valueName: Num, valueType: DWord, valueData: 2 } }
  - { name: changed type, type: Registry, properties: { key: '${KEY}\\A', valueName: Typed, valueType: DWord, valueData: 1 } }
  - { name: new value, type: Registry, properties: { key: '${KEY}\\A', valueName: Fresh, valueType: MultiString, valueData: [x, '', y] } }
  - { name: removed value, type: Registry, properties: { key: '${KEY}\\A', valueName: Old, ensure: Absent } }
  - { name: removed tree, type: Registry, properties: { key: '${KEY}\\Tree', ensure: Absent } }
  - { name: created keys, type: Registry, properties: { key: '${KEY}\\New\\Deeper', valueName: Q, valueType: QWord, valueData: 18446744073709551615 } }
  - { name: binary, type: Registry, properties: { key: '${KEY}\\A', valueName: Bytes, valueType: Binary, valueData: 'deadbeef' } }
  - { name: expand, type: Registry, properties: { key: '${KEY}\\A', valueName: Where, valueType: ExpandString, valueData: '%ProgramFiles%\\new' } }
  - { name: already fine, type: Registry, properties: { key: '${KEY}\\A', valueName: Same, valueType: String, valueData: same } }
`;

/** The state before: every value type, a tree to remove, and no New key. */
async function writeBefore(): Promise<void> {
  await deleteTree(direct, KEY);
  await writeValues(direct, `${KEY}\\A`, {
    Num: { kind: 'DWord', data: 1 },
    Typed: { kind: 'String', data: '1' },
    Old: { kind: 'ExpandString', data: '%X%' },
    Same: { kind: 'String', data: 'same' },
    Bytes: { kind: 'Binary', data: '0001' },
    Where: { kind: 'ExpandString', data: '%SystemRoot%\\old' },
  });
  await writeValues(direct, `${KEY}\\Tree`, { '': { kind: 'String', data: 'root default' }, Bin: { kind: 'Binary', data: '0102' } });
  await writeValues(direct, `${KEY}\\Tree\\Child`, {
    Big: { kind: 'QWord', data: '9223372036854775809' },
    List: { kind: 'MultiString', data: ['a', ''] },
    Small: { kind: 'DWord', data: 4294967295 },
  });
}

test('get, test, apply --what-if, apply, test: the CLI on the live registry, no snapshot', async () => {
  await writeBefore();
  const original = await dumpTree(direct, KEY);
  const file = documentFile('live-cli', DOC);

  const got = await runCli(['get', file, '--json']);
  assert.is(got.code, 0, got.stderr);
  const gotReport = JSON.parse(got.stdout) as RunReport;
  assert.is(gotReport.target, 'live');
  assert.is(gotReport.snapshot, null);
  assert.equal(gotReport.results.find((r) => r.name === 'changed type')!.actual, { ensure: 'Present', valueType: 'String', valueData: '1' });

  const drift = await runCli(['test', file]);
  assert.is(drift.code, 2, drift.stderr);

  const whatIf = await runCli(['apply', file, '--what-if']);
  assert.is(whatIf.code, 2, whatIf.stderr);
  assert.equal(await dumpTree(direct, KEY), original, 'what-if changed nothing');

  const applied = await runCli(['apply', file, '--json']);
  assert.is(applied.code, 0, applied.stderr);
  const report = JSON.parse(applied.stdout) as ApplyReport;
  assert.ok(report.converged);
  assert.is(report.plan.length, 8);
  assert.equal(await readValues(direct, `${KEY}\\A`, ['Num', 'Typed', 'Fresh', 'Old', 'Bytes', 'Where', 'Same']), {
    Num: { kind: 'DWord', data: 2 },
    Typed: { kind: 'DWord', data: 1 },
    Fresh: { kind: 'MultiString', data: ['x', '', 'y'] },
    Old: null,
    Bytes: { kind: 'Binary', data: 'deadbeef' },
    Where: { kind: 'ExpandString', data: '%ProgramFiles%\\new' },
    Same: { kind: 'String', data: 'same' },
  });
  assert.not.ok(await keyExists(direct, `${KEY}\\Tree`), 'the whole tree is gone');
  assert.equal(await readValues(direct, `${KEY}\\New\\Deeper`, ['Q']), { Q: { kind: 'QWord', data: '18446744073709551615' } });

  // The prior state was on disk before the first change, through the same PowerShell.
  const backup = JSON.parse(readFileSync(report.set!.backup!, 'utf8')) as BackupRecord;
  const byName = Object.fromEntries((backup.entries as RegistryBackupEntry[]).map((e) => [e.resource, e]));
  assert.equal(byName['changed type']!.value, { exists: true, valueType: 'String', typeCode: 1, valueData: '1' });
  assert.equal(byName['removed value']!.value, { exists: true, valueType: 'ExpandString', typeCode: 2, valueData: '%X%' });
  assert.equal(byName['removed tree']!.removedTree!.map((k) => k.subKey), [`Software\\winstate-cli-${TAG}\\Tree`, `Software\\winstate-cli-${TAG}\\Tree\\Child`]);
  assert.equal(byName['created keys']!.createdKeys, [`Software\\winstate-cli-${TAG}\\New`, `Software\\winstate-cli-${TAG}\\New\\Deeper`]);

  const clean = await runCli(['test', file]);
  assert.is(clean.code, 0, clean.stderr);
});

test('rollback latest restores every value and type exactly, the removed tree included; created keys go', async () => {
  await writeBefore();
  const original = await dumpTree(direct, KEY);
  console.log(`\n  before, through RegistryKey:\n    ${original.join('\n    ')}`);
  const file = documentFile('live-cli', DOC);
  const set = await runCli(['set', file, '--json']);
  assert.is(set.code, 0, set.stderr);
  const changed = await dumpTree(direct, KEY);
  assert.not.equal(changed, original);

  const runs = await runCli(['runs', '--json']);
  assert.is(runs.code, 0, runs.stderr);
  const latest = (JSON.parse(runs.stdout) as { id: string; target: string; status: string }[]).at(-1)!;
  assert.equal([latest.target, latest.status], ['live', 'converged']);

  const rolled = await runCli(['rollback', 'latest']);
  assert.is(rolled.code, 0, rolled.stderr);
  const after = await dumpTree(direct, KEY);
  console.log(`  after rollback, through RegistryKey:\n    ${after.join('\n    ')}`);
  assert.equal(after, original);
  assert.not.ok(await keyExists(direct, `${KEY}\\New`), 'keys the run created are removed again');
});

test('failure isolation through the CLI: exit 4 (partial), the rest applied, rollback undoes it', async () => {
  await deleteTree(direct, KEY);
  const file = documentFile('partial', `metadata: { name: partial }
resources:
  - { name: fine, type: Registry, properties: { key: '${KEY}\\P', valueName: Fine, valueType: DWord, valueData: 1 } }
  - { name: volatile parent, type: Registry, properties: { key: 'HKLM\\HARDWARE\\winstate-cli-${TAG}', valueName: X, valueType: DWord, valueData: 1 } }
  - { name: also fine, type: Registry, properties: { key: '${KEY}\\P', valueName: AlsoFine, valueType: String, valueData: yes } }
`);
  const partial = await runCli(['set', file]);
  assert.is(partial.code, 4, partial.stdout + partial.stderr);
  assert.equal(await readValues(direct, `${KEY}\\P`, ['Fine', 'AlsoFine']), { Fine: { kind: 'DWord', data: 1 }, AlsoFine: { kind: 'String', data: 'yes' } });
  const rolled = await runCli(['rollback', 'latest']);
  assert.is(rolled.code, 0, rolled.stderr);
  assert.not.ok(await keyExists(direct, `${KEY}\\P`));
});

test('the lock: a changing run refuses while another holds the live registry, and changes nothing', async () => {
  await deleteTree(direct, KEY);
  const file = documentFile('locked', `metadata: { name: locked }
resources:
  - { name: v, type: Registry, properties: { key: '${KEY}\\L', valueName: V, valueType: DWord, valueData: 1 } }
`);
  const lock = lockPathFor(undefined);
  mkdirSync(dirname(lock), { recursive: true });
  const holder = { pid: 4242, host: 'another-host', processStarted: new Date().toISOString(), document: 'elsewhere', since: new Date().toISOString() };
  writeFileSync(lock, JSON.stringify(holder), { flag: 'wx' });
  try {
    const refused = await runCli(['apply', file]);
    assert.is(refused.code, 1);
    assert.match(refused.stderr, /locked by process 4242 on another-host/);
    assert.not.ok(await keyExists(direct, `${KEY}\\L`));
  } finally {
    rmSync(lock, { force: true });
  }
  const now = await runCli(['apply', file]);
  assert.is(now.code, 0, now.stderr);
  assert.not.ok(existsSync(lock), 'the lock is released after the run');
});

test('the seed document end to end: test, apply, test, rollback (its key made first: Wine has none)', async () => {
  const workstationExisted = await keyExists(direct, 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation');
  const value = (await readValues(direct, SEED_KEY, ['EnableSecuritySignature'])).EnableSecuritySignature ?? null;
  seedBefore = { workstationExisted, value };
  await writeValues(direct, SEED_KEY, { EnableSecuritySignature: { kind: 'DWord', data: 0 } });
  const seed = projectPath('configurations', 'smb-client-signing.yaml');

  const drift = await runCli(['test', seed]);
  assert.is(drift.code, 2, drift.stdout + drift.stderr);
  const applied = await runCli(['apply', seed]);
  assert.is(applied.code, 0, applied.stdout + applied.stderr);
  assert.equal(await readValues(direct, SEED_KEY, ['EnableSecuritySignature']), { EnableSecuritySignature: { kind: 'DWord', data: 1 } });
  const clean = await runCli(['test', seed, '--json']);
  assert.is(clean.code, 0, clean.stderr);
  const report = JSON.parse(clean.stdout) as RunReport;
  assert.equal(report.results.map((r) => r.actual!.policyValue ?? r.actual!.valueData), ['Enabled', 1]);
  const rolled = await runCli(['rollback', 'latest']);
  assert.is(rolled.code, 0, rolled.stderr);
  assert.equal(await readValues(direct, SEED_KEY, ['EnableSecuritySignature']), { EnableSecuritySignature: { kind: 'DWord', data: 0 } });
});

test('the generated script run by hand: -Mode Set converges (exit 0), then -Mode Test exits 0', async () => {
  await writeValues(direct, SEED_KEY, { EnableSecuritySignature: { kind: 'DWord', data: 0 } });
  const script = projectPath('generated-ps', 'smb-client-signing.ps1');
  const before = runPwshFile(script, ['-Mode', 'Test']);
  assert.is(before.status, 2, before.stdout + before.stderr);
  const set = runPwshFile(script, ['-Mode', 'Set']);
  assert.is(set.status, 0, set.stdout + set.stderr);
  assert.match(set.stdout, /Prior state saved to/);
  const after = runPwshFile(script, ['-Mode', 'Test']);
  assert.is(after.status, 0, after.stdout + after.stderr);
  assert.equal(await readValues(direct, SEED_KEY, ['EnableSecuritySignature']), { EnableSecuritySignature: { kind: 'DWord', data: 1 } });
});

test('the generated script takes the same lock when run by hand', async () => {
  // The lock file where the script itself looks for it (%ProgramData% as PowerShell sees it).
  const placed = await invokeLive(direct, ps`$path = [System.IO.Path]::Combine($env:ProgramData, 'winstate', 'registry.lock')
$null = [System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($path))
[System.IO.File]::WriteAllText($path, '{"pid":4242,"host":"another-host","processStarted":"2026-01-01T00:00:00Z","document":"elsewhere","since":"2026-01-01T00:00:00Z"}')
$path`);
  assert.ok(placed.ok, placed.error?.message);
  try {
    const refused = runPwshFile(projectPath('generated-ps', 'smb-client-signing.ps1'), ['-Mode', 'Set']);
    assert.is(refused.status, 1, refused.stdout + refused.stderr);
    assert.match(refused.stdout + refused.stderr, /locked by process 4242 on another-host/);
  } finally {
    const removed = await invokeLive(direct, ps`[System.IO.File]::Delete(${placed.output.trim()})`);
    assert.ok(removed.ok, removed.error?.message);
  }
});

void underWine;
test.run();
