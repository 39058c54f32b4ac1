// The kind-based runtime through real PowerShell: the bridge script with hand-built table rows
// (as the kind units' row() produce them) on the fixture security template and audit backup.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PwshSession } from '../../src/bridge/session.js';
import { toClixml } from '../../src/bridge/clixml.js';
import { bridgeScript, compilePlan, runtimeHeader, RUNTIME_FILES } from '../../src/compile/emit.js';
import { ps, PsTyped } from '../../src/compile/quote.js';
import { VERSION } from '../../src/version.js';
import { projectPath } from '../../src/paths.js';
import { planFromYaml, runCli, runPwshFile, tempDir, writeReg } from '../helpers.js';
import { missingStoreProblem, STORE_FILES } from '../../src/engine/snapshots.js';
import { unitOf } from '../../src/kinds/index.js';
import { summaryText } from '../../src/report/text.js';
import { ajv2020 } from '../../src/build-artifacts.js';
import { asUtf16Crlf, KindsShell } from '../kinds-helpers.js';

const session = new PwshSession({ timeoutMs: 120_000 });
const shell = new KindsShell();
test.after(async () => {
  await session.close();
  await shell.close();
});

const INF = projectPath('test', 'fixtures', 'secedit', 'SecurityPolicyDsc_sample.inf');
const CSV = projectPath('test', 'fixtures', 'auditpol', 'AuditPolicyDsc_audit.csv');

/* eslint-disable @typescript-eslint/no-explicit-any */
type Report = any;

function copies(): { dir: string; inf: string; csv: string } {
  const dir = tempDir();
  const inf = join(dir, 'secedit.inf');
  writeFileSync(inf, asUtf16Crlf(readFileSync(INF)));
  const csv = join(dir, 'audit.csv');
  copyFileSync(CSV, csv);
  return { dir, inf, csv };
}

const common = (kind: string, name: string, target: string) => ({ Name: name, Type: kind, Kind: kind, Id: null, Target: target, Waiver: null });
const userRight = (name: string, right: string, spec: { principals?: string[]; mustInclude?: string[]; mustExclude?: string[]; ensure?: string; allowLockout?: boolean }) => ({
  ...common('UserRight', name, `User right ${right}`),
  Right: right,
  Ensure: spec.ensure ?? 'Present',
  Principals: spec.principals ?? null,
  MustInclude: spec.mustInclude ?? null,
  MustExclude: spec.mustExclude ?? null,
  AllowLockout: spec.allowLockout ?? false,
});
const policy = (kind: string, name: string, key: string, valueKind: string, spec: { value?: number | string; condition?: Record<string, unknown>; choices?: [string, number][]; ensure?: string }) => ({
  ...common(kind, name, `System Access: ${key}`),
  Section: 'System Access',
  Key: key,
  ValueKind: valueKind,
  Ensure: spec.ensure ?? 'Present',
  Value: spec.value ?? null,
  Condition: spec.condition ?? null,
  ConditionView: spec.condition ? { condition: 'as given' } : null,
  Policy: spec.choices ? { Title: key, Value: spec.choices[0]![0], Choices: spec.choices.map(([Name, Data]) => ({ Name, Data })) } : null,
});
const audit = (name: string, guid: string, subcategory: string, success: string | null, failure: string | null) => ({
  ...common('AuditPolicy', name, `Audit ${guid} (${subcategory})`),
  Guid: guid,
  Subcategory: subcategory,
  Success: success,
  Failure: failure,
});

// Every report and backup record in these tests must match the published schemas.
const ajv = ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const reportValid = ajv.compile(JSON.parse(readFileSync(projectPath('src', 'engine', 'run-report.schema.json'), 'utf8')));
const backupValid = ajv.compile(JSON.parse(readFileSync(projectPath('src', 'engine', 'backup.schema.json'), 'utf8')));
const readBackup = (file: string): any => {
  const record = JSON.parse(readFileSync(file, 'utf8'));
  assert.ok(backupValid(record), JSON.stringify(backupValid.errors));
  return record;
};

async function run(mode: string, rows: unknown[], files: Record<string, string>, extra: Record<string, string | boolean> = {}): Promise<Report> {
  const payload = toClixml({ Document: { Name: 'kinds', WinstateVersion: VERSION }, Resources: rows });
  const result = await session.runScript(bridgeScript(), { Mode: mode, OutputFormat: 'Json', Payload: payload, ...files, ...extra });
  if (!result.ok) throw result.error ?? new Error('run failed');
  const report = JSON.parse(result.output);
  assert.ok(reportValid(report), JSON.stringify(reportValid.errors));
  return report;
}
const byName = (report: Report): Record<string, any> => Object.fromEntries(report.results.map((r: any) => [r.name, r]));
const lines = (file: string) => {
  const bytes = readFileSync(file);
  const text = bytes[0] === 0xff ? bytes.subarray(2).toString('utf16le') : bytes.toString('utf8');
  return text.split(/(?<=\n)/);
};

const RIGHTS = [
  userRight('network logon reordered', 'SeNetworkLogonRight', { principals: ['*S-1-5-32-551', '*S-1-1-0', '*S-1-5-32-545', '*S-1-5-32-544'] }),
  userRight('debug by name', 'SeDebugPrivilege', { principals: ['Administrators', 'TESTUSER1'] }),
  userRight('deny network to guests', 'SeDenyNetworkLogonRight', { mustInclude: ['*S-1-5-32-546'] }),
  userRight('no everyone bypass', 'SeChangeNotifyPrivilege', { mustExclude: ['*S-1-1-0'] }),
  userRight('undock undefined', 'SeUndockPrivilege', { ensure: 'Absent' }),
  userRight('shutdown exactly', 'SeShutdownPrivilege', { principals: ['*S-1-5-32-544'] }),
];

test('user rights: principals compare as sets (SIDs, names ignoring case), mustInclude/mustExclude, ensure Absent', async () => {
  const { inf } = copies();
  const r = byName(await run('Test', RIGHTS, { SecurityTemplate: inf }));
  assert.is(r['network logon reordered'].inDesiredState, true);
  assert.is(r['network logon reordered'].kind, 'UserRight');
  assert.equal(r['network logon reordered'].actual.principals, ['*S-1-1-0', '*S-1-5-32-544', '*S-1-5-32-545', '*S-1-5-32-551'], 'file order, as stored');
  assert.is(r['debug by name'].inDesiredState, true, 'Administrators is *S-1-5-32-544; testuser1 matches TESTUSER1');
  assert.equal(r['deny network to guests'].actual, { ensure: 'Absent', principals: [] });
  assert.equal(r['deny network to guests'].differingProperties, ['mustInclude']);
  assert.equal(r['deny network to guests'].desired, { mustInclude: ['*S-1-5-32-546'] });
  assert.equal(r['no everyone bypass'].differingProperties, ['mustExclude']);
  assert.equal(r['undock undefined'].differingProperties, ['ensure']);
  assert.equal(r['undock undefined'].desired, { ensure: 'Absent' });
  assert.equal(r['shutdown exactly'].differingProperties, ['principals']);
});

test('user rights: apply changes only the lines of changed rights; a second apply changes no byte', async () => {
  const { dir, inf } = copies();
  const before = lines(inf);
  const backup = join(dir, 'backup.json');
  const set = await run('Set', RIGHTS, { SecurityTemplate: inf }, { BackupPath: backup });
  assert.is(set.summary.changed, 4, JSON.stringify(set.summary));
  assert.is(set.summary.failed, 0);
  const r = byName(set);
  assert.equal(r['deny network to guests'].after, { ensure: 'Present', principals: ['*S-1-5-32-546'] });
  assert.equal(r['no everyone bypass'].after.principals, ['*S-1-5-19', '*S-1-5-20', '*S-1-5-32-544', '*S-1-5-32-545', '*S-1-5-32-551', '*S-1-5-90-0']);
  assert.equal(r['undock undefined'].after, { ensure: 'Absent', principals: [] });
  const after = lines(inf);
  const changed = (prefix: string) => after.find((l) => l.startsWith(prefix));
  assert.is(changed('SeChangeNotifyPrivilege'), 'SeChangeNotifyPrivilege = *S-1-5-19,*S-1-5-20,*S-1-5-32-544,*S-1-5-32-545,*S-1-5-32-551,*S-1-5-90-0\r\n');
  assert.is(changed('SeShutdownPrivilege'), 'SeShutdownPrivilege = *S-1-5-32-544\r\n');
  assert.is(changed('SeDenyNetworkLogonRight'), 'SeDenyNetworkLogonRight = *S-1-5-32-546\r\n');
  assert.is(changed('SeUndockPrivilege'), undefined);
  // Every other line is byte for byte the same, in the same order.
  const touched = /^(SeChangeNotifyPrivilege|SeShutdownPrivilege|SeDenyNetworkLogonRight|SeUndockPrivilege) /;
  assert.equal(after.filter((l) => !touched.test(l)), before.filter((l) => !touched.test(l)));
  // Backup: one entry per changed right, with its kind and the prior principals (null: undefined).
  const record = readBackup(backup);
  assert.equal(record.snapshots, { SecurityTemplate: inf });
  assert.is(record.target, 'Snapshot');
  const entries = Object.fromEntries(record.entries.map((e: any) => [e.resource, e]));
  assert.equal(entries['deny network to guests'], { kind: 'UserRight', resource: 'deny network to guests', target: 'User right SeDenyNetworkLogonRight', right: 'SeDenyNetworkLogonRight', principals: null });
  assert.equal(entries['undock undefined'].principals, ['*S-1-5-32-544']);
  assert.is(record.entries.length, 4);
  // Journal: written after the save, one line per change and the completion line.
  const journal = readFileSync(backup + '.journal', 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.is(journal.length, 5);
  assert.equal(journal[4], { complete: true, applied: 4 });

  const bytes = readFileSync(inf);
  const again = await run('Set', RIGHTS, { SecurityTemplate: inf }, { BackupPath: join(dir, 'again.json') });
  assert.is(again.summary.changed, 0);
  assert.is(again.summary.inDesiredState, RIGHTS.length);
  assert.ok(readFileSync(inf).equals(bytes), 'second apply leaves every byte');
  assert.not.ok(existsSync(join(dir, 'again.json')), 'nothing to change: no backup');
});

const POLICIES = [
  policy('AccountPolicy', 'lockout 15 or more, or 0', 'LockoutDuration', 'integer', { value: 15, condition: { AnyOf: [{ AtLeast: 15, Numeric: true, Signed: true }, { OneOf: [0], Numeric: true, Signed: true }], Numeric: true, Signed: true } }),
  policy('AccountPolicy', 'password length 14', 'MinimumPasswordLength', 'integer', { value: 14 }),
  policy('AccountPolicy', 'max age 60 not 0', 'MaximumPasswordAge', 'integer', { value: 60, condition: { AtMost: 60, Not: [0], Numeric: true, Signed: true } }),
  policy('SecurityPolicy', 'guest disabled', 'EnableGuestAccount', 'boolean', { value: 0, choices: [['Disabled', 0], ['Enabled', 1]] }),
  policy('SecurityPolicy', 'admin enabled is wrong', 'EnableAdminAccount', 'boolean', { value: 0, choices: [['Disabled', 0], ['Enabled', 1]] }),
  policy('SecurityPolicy', 'guest renamed', 'NewGuestName', 'string', { value: 'Visitor' }),
  policy('SecurityPolicy', 'admin not Administrator', 'NewAdministratorName', 'string', { condition: { Not: ['  ADMINISTRATOR'], Numeric: false, IgnoreCase: true } }),
];

test('account and security policy: values, signed conditions with anyOf, choices, strings quoted', async () => {
  const { dir, inf } = copies();
  const before = lines(inf);
  const t = byName(await run('Test', POLICIES, { SecurityTemplate: inf }));
  assert.is(t['lockout 15 or more, or 0'].inDesiredState, true, '30 meets atLeast 15');
  assert.equal(t['lockout 15 or more, or 0'].actual, { ensure: 'Present', value: 30 });
  assert.equal(t['password length 14'].differingProperties, ['value']);
  assert.equal(t['max age 60 not 0'].differingProperties, ['value'], '70 is over 60');
  assert.equal(t['guest disabled'].actual, { ensure: 'Present', value: 0, policyValue: 'Disabled' });
  assert.is(t['guest disabled'].inDesiredState, true);
  assert.equal(t['admin enabled is wrong'].actual.policyValue, 'Enabled');
  assert.equal(t['guest renamed'].actual, { ensure: 'Present', value: '  Guest' }, 'quotes taken off, spaces kept');
  assert.equal(t['admin not Administrator'].differingProperties, ['value'], 'not compares ignoring case');
  assert.equal(t['admin not Administrator'].desired, { condition: { condition: 'as given' } });

  const set = byName(await run('Set', POLICIES, { SecurityTemplate: inf }, { BackupPath: join(dir, 'b.json') }));
  assert.match(set['admin not Administrator'].error, /no value to write: give value/);
  assert.equal(set['guest renamed'].after, { ensure: 'Present', value: 'Visitor' });
  assert.equal(set['max age 60 not 0'].after, { ensure: 'Present', value: 60 });
  const after = lines(inf);
  const changed = /^(MinimumPasswordLength|MaximumPasswordAge|EnableAdminAccount|NewGuestName) /;
  assert.equal(after.filter((l) => changed.test(l)), ['MaximumPasswordAge = 60\r\n', 'MinimumPasswordLength = 14\r\n', 'NewGuestName = "Visitor"\r\n', 'EnableAdminAccount = 0\r\n']);
  assert.equal(after.filter((l) => !changed.test(l)), before.filter((l) => !changed.test(l)));
  const record = readBackup(join(dir, 'b.json'));
  const guest = record.entries.find((e: any) => e.resource === 'guest renamed');
  assert.equal(guest, { kind: 'SecurityPolicy', resource: 'guest renamed', target: 'System Access: NewGuestName', section: 'System Access', key: 'NewGuestName', value: '"  Guest"' });
  assert.is(record.entries.find((e: any) => e.resource === 'password length 14').kind, 'AccountPolicy');

  const bytes = readFileSync(inf);
  const again = await run('Set', POLICIES.filter((p) => p.Name !== 'admin not Administrator'), { SecurityTemplate: inf }, { BackupPath: join(dir, 'c.json') });
  assert.is(again.summary.changed, 0);
  assert.ok(readFileSync(inf).equals(bytes), 'second apply leaves every byte');
});

const AUDITS = [
  audit('credential validation failure only', '{0CCE923F-69AE-11D9-BED3-505054503030}', 'Credential Validation', 'disabled', null),
  audit('account lockout failure', '{0CCE9217-69AE-11D9-BED3-505054503030}', 'Account Lockout', null, 'enabled'),
  audit('logon both', '{0CCE9215-69AE-11D9-BED3-505054503030}', 'Logon', 'enabled', 'enabled'),
  audit('ipsec driver no failure', '{0CCE9213-69AE-11D9-BED3-505054503030}', 'IPsec Driver', null, 'disabled'),
];

test('audit policy: success/failure with either, set keeps the flag left unstated; only changed rows change', async () => {
  const { dir, csv } = copies();
  const before = lines(csv);
  const t = byName(await run('Test', AUDITS, { AuditBackup: csv }));
  assert.equal(t['credential validation failure only'].actual, { ensure: 'Present', success: true, failure: true, setting: 'Success and Failure' });
  assert.equal(t['credential validation failure only'].differingProperties, ['success']);
  assert.equal(t['credential validation failure only'].desired, { success: false });
  assert.equal(t['account lockout failure'].differingProperties, ['failure']);
  assert.is(t['logon both'].inDesiredState, true);
  assert.is(t['ipsec driver no failure'].inDesiredState, true);

  const set = byName(await run('Set', AUDITS, { AuditBackup: csv }, { BackupPath: join(dir, 'b.json') }));
  assert.equal(set['credential validation failure only'].after, { ensure: 'Present', success: false, failure: true, setting: 'Failure' });
  assert.equal(set['account lockout failure'].after.setting, 'Failure');
  const after = lines(csv);
  assert.is(after[58], 'BIRDSOFPRAY,System,Credential Validation,{0CCE923F-69AE-11D9-BED3-505054503030},Failure,,2\r\n'.replace('\r\n', before[58]!.endsWith('\r\n') ? '\r\n' : '\n'));
  assert.match(after[14]!, /^BIRDSOFPRAY,System,Account Lockout,\{0CCE9217-69AE-11D9-BED3-505054503030\},Failure,,2\r?\n$/);
  assert.equal(after.filter((_, i) => i !== 58 && i !== 14), before.filter((_, i) => i !== 58 && i !== 14));
  const record = readBackup(join(dir, 'b.json'));
  assert.equal(record.entries[0], { kind: 'AuditPolicy', resource: 'credential validation failure only', target: 'Audit {0CCE923F-69AE-11D9-BED3-505054503030} (Credential Validation)', guid: '{0CCE923F-69AE-11D9-BED3-505054503030}', subcategory: 'Credential Validation', value: 3 });

  const bytes = readFileSync(csv);
  const again = await run('Set', AUDITS, { AuditBackup: csv }, { BackupPath: join(dir, 'c.json') });
  assert.is(again.summary.changed, 0);
  assert.ok(readFileSync(csv).equals(bytes), 'second apply leaves every byte');
});

test('the generated script\'s summary line reads as the CLI\'s, on the same counts (one resource, several, waived, skipped)', async () => {
  const cases = [
    { mode: 'Test', summary: { total: 1, changed: 0, inDesiredState: 0, drifted: 1, failed: 0, waived: 0, skipped: 0 } },
    { mode: 'Test', summary: { total: 2, changed: 0, inDesiredState: 1, drifted: 0, failed: 0, waived: 1, skipped: 0 } },
    { mode: 'Set', summary: { total: 1, changed: 1, inDesiredState: 0, drifted: 0, failed: 0, waived: 0, skipped: 0 } },
    { mode: 'Set', summary: { total: 0, changed: 0, inDesiredState: 0, drifted: 0, failed: 0, waived: 0, skipped: 0 } },
    { mode: 'Set', summary: { total: 3, changed: 1, inDesiredState: 0, drifted: 0, failed: 1, waived: 0, skipped: 1 } },
  ];
  for (const c of cases) {
    const line = await shell.text(ps`$s = ${c.summary}
(Format-WsText -Report @{ mode = ${c.mode}; results = @(); summary = $s }) | Select-Object -Last 1`);
    assert.is(line.trim(), summaryText(c.summary, c.mode === 'Set' ? 'already in desired state' : 'in desired state'), JSON.stringify(c));
  }
});

test('one run over three stores: each opened once, reported in snapshots; text output in each kind\'s words', async () => {
  const { dir, inf, csv } = copies();
  const reg = join(dir, 'machine.reg');
  writeReg(reg, ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\Winstate]', '"A"=dword:00000001']);
  const registryRow = {
    ...common('Registry', 'registry value', 'HKLM\\SOFTWARE\\Winstate!A'),
    Hive: 'HKEY_LOCAL_MACHINE', SubKey: 'SOFTWARE\\Winstate', ValueName: 'A', Ensure: 'Present', ValueType: 'DWord', ValueData: new PsTyped('uint32', 2), WireData: 2,
  };
  const rows = [registryRow, RIGHTS[2], POLICIES[1], AUDITS[1]];
  const files = { RegistrySnapshot: reg, SecurityTemplate: inf, AuditBackup: csv };
  const report = await run('Test', rows, files);
  assert.is(report.target, 'snapshot');
  assert.is(report.snapshot, reg);
  assert.equal(report.snapshots, { Registry: reg, SecurityTemplate: inf, AuditBackup: csv });
  assert.equal(report.results.map((r: any) => r.kind), ['Registry', 'UserRight', 'AccountPolicy', 'AuditPolicy']);
  const payload = toClixml({ Document: { Name: 'kinds', WinstateVersion: VERSION }, Resources: rows });
  const text = { output: await shell.text(ps`$data = ConvertFrom-WsPayload -Payload ${payload}
$report = Invoke-WsConfiguration -Document $data.Document -Resources $data.Resources -Mode Test -RegistrySnapshot ${reg} -SecurityTemplate ${inf} -AuditBackup ${csv}
(Format-WsText -Report $report) -join [string][char]10`) };
  assert.match(text.output, /\[DRIFT\]   registry value: DWord 1 -> DWord 2/, text.output);
  assert.match(text.output, /\[DRIFT\]   deny network to guests: not defined -> includes BUILTIN\\Guests/);
  assert.match(text.output, /\[DRIFT\]   password length 14: 8 -> 14/);
  assert.match(text.output, /\[DRIFT\]   account lockout failure: No Auditing -> includes Failure/);
  assert.match(text.output, /4 resources: 0 changed, 0 in desired state, 4 drifted, 0 failed/);

  // One set over the three stores: one backup with an entry of each kind, each file saved once.
  const set = await run('Set', rows, files, { BackupPath: join(dir, 'b.json') });
  assert.is(set.summary.changed, 4);
  const record = readBackup(join(dir, 'b.json'));
  assert.equal(record.entries.map((e: any) => e.kind), ['Registry', 'UserRight', 'AccountPolicy', 'AuditPolicy']);
  assert.equal(record.snapshots, { Registry: reg, SecurityTemplate: inf, AuditBackup: csv });
  const journal = readFileSync(join(dir, 'b.json.journal'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(journal.map((j: any) => j.resource ?? 'complete'), ['registry value', 'deny network to guests', 'password length 14', 'account lockout failure', 'complete']);
  const verify = await run('Test', rows, files);
  assert.is(verify.summary.inDesiredState, 4);
});

test('offline, a kind whose store has no file fails the run naming the file it needs; nothing is read or written', async () => {
  const { dir, inf } = copies();
  const reg = join(dir, 'machine.reg');
  writeReg(reg, ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\Winstate]']);
  const bytes = readFileSync(reg);
  const payload = toClixml({ Document: { Name: 'kinds', WinstateVersion: VERSION }, Resources: [RIGHTS[2]] });
  const result = await session.runScript(bridgeScript(), { Mode: 'Set', OutputFormat: 'Json', Payload: payload, RegistrySnapshot: reg, BackupPath: join(dir, 'b.json') });
  assert.not.ok(result.ok);
  assert.match(result.error!.message, /UserRight resources need a security template: pass --snapshot <secedit\.inf> \(script parameter -SecurityTemplate\)/);
  assert.ok(readFileSync(reg).equals(bytes));
  assert.not.ok(existsSync(`${reg}.lock`), 'refused before the lock');
  const audit = await session.runScript(bridgeScript(), { Mode: 'Test', OutputFormat: 'Json', Payload: toClixml({ Document: { Name: 'k', WinstateVersion: VERSION }, Resources: [AUDITS[0]] }), SecurityTemplate: inf });
  assert.match(audit.error!.message, /AuditPolicy resources need an audit policy backup: pass --snapshot <audit\.csv> \(script parameter -AuditBackup\)/);
  // The CLI says the same before PowerShell starts (missingStoreProblem): word for word, same cases.
  const kindStore = (kind: string) => unitOf(kind as Parameters<typeof unitOf>[0]).store;
  const said = (message: string) => /^[^\n]*resources need[^\n]*\)/m.exec(message)![0]!.replace(/^.*?(\w+ resources need)/, '$1');
  assert.is(missingStoreProblem(['Registry', 'UserRight'], { Registry: reg }, kindStore), said(result.error!.message));
  assert.is(missingStoreProblem(['AuditPolicy'], { SecurityTemplate: inf }, kindStore), said(audit.error!.message));
  assert.is(missingStoreProblem(['UserRight'], {}, kindStore), undefined, 'a live run needs no file');
  assert.is(missingStoreProblem(['CimInstance', 'Registry'], { Registry: reg }, kindStore), undefined, 'a kind without a store needs none');
});

test('the store facts the CLI words its refusal with are the runtime store table\'s (Parameter, Need, Example)', () => {
  const whole = readFileSync(projectPath('src', 'compile', 'runtime', 'core.ps1'), 'utf8');
  const core = whole.slice(whole.indexOf('$script:WsStoreTable = @{'), whole.indexOf('$script:WsStoreOrder'));
  assert.ok(core.length > 0, 'the runtime has its store table');
  for (const [store, facts] of Object.entries(STORE_FILES)) {
    const row = new RegExp(`\\b${store}\\s*=\\s*@\\{[^}]*\\}`).exec(core)?.[0];
    assert.ok(row, `the runtime's store table has ${store}`);
    assert.match(row!, `Parameter = '${facts.parameter}'`, store);
    assert.match(row!, `Need = '${facts.need}'`, store);
    assert.match(row!, `Example = '${facts.example}'`, store);
  }
});

test('the CLI refuses an offline run missing a store\'s file with exit 3, before it needs PowerShell', async () => {
  const { dir, inf } = copies();
  const doc = join(dir, 'doc.yaml');
  writeFileSync(doc, `metadata: { name: missing-store }\nresources:\n  - { name: v, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Winstate', valueName: A, valueType: DWord, valueData: 1 } }\n`);
  const r = await runCli(['test', doc, '--snapshot', inf, '--pwsh', join(dir, 'no-such-pwsh')]);
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /Registry resources need a registry export: pass --snapshot <file\.reg> \(script parameter -RegistrySnapshot\)/);
  assert.not.match(r.stderr, /PowerShell/, 'decided before PowerShell is looked for');
});

test('a waiver override replaces the kind\'s desired columns', async () => {
  const { inf } = copies();
  const row = { ...userRight('shutdown', 'SeShutdownPrivilege', { principals: ['*S-1-5-32-544'] }), Waiver: { Justification: 'backup operators still shut down', Expires: '2999-01-01', ApprovedBy: null, Override: { MustInclude: ['*S-1-5-32-551'] } } };
  const r = byName(await run('Test', [row], { SecurityTemplate: inf }))['shutdown'];
  assert.is(r.inDesiredState, true, 'the override keeps only mustInclude');
  assert.equal(r.desired, { mustInclude: ['*S-1-5-32-551'] });
  assert.is(r.waiver.override, true);
});

test('a snapshot is parsed once per session: reused while its file is unchanged, read again when it changed', async () => {
  const { csv } = copies();
  const marker = async (set: boolean): Promise<string> => {
    const r = await session.invoke(ps`$cache = [System.AppDomain]::CurrentDomain.GetData('winstate.storeCache')
$entry = $cache['AuditBackup|' + ${csv}]
if ($null -eq $entry) { 'none' } elseif (${set}) { $entry.Store.TestMarker = 'kept'; 'set' } elseif ($entry.Store.TestMarker) { $entry.Store.TestMarker } else { 'fresh' }`);
    assert.ok(r.ok, r.error?.message);
    return r.output.trim();
  };
  await run('Test', [AUDITS[1]], { AuditBackup: csv });
  assert.is(await marker(true), 'set');
  const again = await run('Test', [AUDITS[1]], { AuditBackup: csv });
  assert.is(await marker(false), 'kept', 'the second run used the parsed store');
  assert.equal(again.results[0].differingProperties, ['failure']);
  // A set saves the file and keeps the store, now matching the file: the next test reuses it.
  await run('Set', [AUDITS[1]], { AuditBackup: csv }, { NoLock: true });
  assert.is(await marker(false), 'kept');
  assert.is((await run('Test', [AUDITS[1]], { AuditBackup: csv })).summary.inDesiredState, 1);
  // Someone else changes the file: it is read again.
  writeFileSync(csv, readFileSync(csv, 'utf8').replace('Account Lockout,{0CCE9217-69AE-11D9-BED3-505054503030},Failure,,2', 'Account Lockout,{0CCE9217-69AE-11D9-BED3-505054503030},No Auditing,,0'));
  const changed = await run('Test', [AUDITS[1]], { AuditBackup: csv });
  assert.equal(changed.results[0].differingProperties, ['failure']);
  assert.is(await marker(false), 'fresh');
});

// The lockout guard's decision, with the account's SIDs given: the cases that matter in practice.
const ADMIN_LOCAL = ['*S-1-5-21-1-2-3-500', '*S-1-1-0', '*S-1-5-32-544', '*S-1-5-32-545', '*S-1-5-113', '*S-1-5-11', '*S-1-5-2'];
const GUARD: { right: string; added?: string[]; removed?: string[]; sids?: string[]; name?: string; refused: string | null }[] = [
  { right: 'SeDenyNetworkLogonRight', added: ['*S-1-5-113'], refused: '*S-1-5-113' },
  { right: 'SeDenyNetworkLogonRight', added: ['*S-1-5-32-546', 'Local account'], refused: 'Local account' },
  { right: 'SeDenyNetworkLogonRight', added: ['*S-1-5-32-546'], refused: null },
  { right: 'SeDenyRemoteInteractiveLogonRight', added: ['BUILTIN\\Administrators'], refused: 'BUILTIN\\Administrators' },
  { right: 'SeDenyInteractiveLogonRight', added: ['*S-1-5-32-544'], sids: ['*S-1-5-21-1-2-3-1001', '*S-1-5-32-545'], refused: null },
  { right: 'SeNetworkLogonRight', removed: ['*S-1-5-32-544'], refused: '*S-1-5-32-544' },
  { right: 'SeNetworkLogonRight', removed: ['Administrators'], refused: 'Administrators' },
  { right: 'SeRemoteInteractiveLogonRight', removed: ['*S-1-5-32-555'], refused: null },
  { right: 'SeNetworkLogonRight', added: ['*S-1-5-113'], refused: null },
  { right: 'SeBackupPrivilege', removed: ['*S-1-5-32-544'], refused: null },
  { right: 'SeDenyNetworkLogonRight', added: ['ops-admin'], name: 'HOST\\ops-admin', refused: null },
  { right: 'SeDenyNetworkLogonRight', added: ['host\\OPS-ADMIN'], name: 'HOST\\ops-admin', refused: 'host\\OPS-ADMIN' },
  { right: 'SeDenyNetworkLogonRight', added: ['*S-1-5-21-1-2-3-500'], refused: '*S-1-5-21-1-2-3-500' },
];

test('lockout guard: refuses what would lock the running account out, names the setting and the principal', async () => {
  for (const c of GUARD) {
    const [message] = await shell.json<string | null>(ps`Get-WsLockoutRisk -Right ${c.right} -Added ${c.added ?? []} -Removed ${c.removed ?? []} -AccountSid ${c.sids ?? ADMIN_LOCAL} -AccountName ${c.name ?? 'HOST\\admin'}`);
    const label = JSON.stringify(c);
    if (c.refused === null) assert.is(message ?? null, null, label);
    else {
      assert.ok(message, label);
      assert.ok(message!.includes(c.right), label);
      assert.ok(message!.includes(`'${c.refused}'`), label);
    }
  }
});

test('lockout guard on a live store: a refused change fails that resource and changes nothing; allowLockout lets it through', async () => {
  const { inf } = copies();
  const out = await shell.json(ps`$store = Open-WsSecurityTemplate -LiteralPath ${inf}
$store.Offline = $false
& (Get-Module WsKinds) { param($sids) $script:WsCurrentAccountSids = [string[]]$sids; $script:WsCurrentAccountName = 'HOST\admin' } ${ADMIN_LOCAL}
$row = @{ Name = 'deny'; Right = 'SeDenyNetworkLogonRight'; Ensure = 'Present'; Principals = $null; MustInclude = @('*S-1-5-113'); MustExclude = $null; AllowLockout = $false }
$refused = $null
try { $null = Set-WsUserRightState -Store $store -Resource $row } catch { $refused = $_.Exception.Message }
$untouched = ($null -eq (Get-WsSecurityTemplateEntry -Store $store -Section 'Privilege Rights' -Key 'SeDenyNetworkLogonRight')) -and -not $store.Dirty
$row.AllowLockout = $true
$allowed = (Set-WsUserRightState -Store $store -Resource $row).View.principals
@{ refused = $refused; untouched = $untouched; allowed = @($allowed) }`);
  const result = out[0] as { refused: string; untouched: boolean; allowed: string[] };
  assert.match(result.refused, /lockout guard: adding '\*S-1-5-113' to SeDenyNetworkLogonRight/);
  assert.is(result.untouched, true);
  assert.equal(result.allowed, ['*S-1-5-113']);
});

test('a compiled script takes -SecurityTemplate and -AuditBackup: test exits 2 on drift, set converges, a second set changes no byte', async () => {
  const { dir, inf, csv } = copies();
  const plan = planFromYaml(`metadata: { name: kinds-script }
resources:
  - name: Deny network logon
    type: UserRight
    properties: { right: Deny access to this computer from the network, mustInclude: [Guests] }
  - name: Lockout duration
    type: AccountPolicy
    properties: { policy: LockoutDuration, value: 15, condition: { anyOf: [{ atLeast: 15 }, { oneOf: [0] }] } }
  - name: Guest account
    type: SecurityPolicy
    properties: { policy: EnableGuestAccount, value: Disabled }
  - name: Account lockout auditing
    type: AuditPolicy
    properties: { subcategory: Account Lockout, failure: enabled }
`);
  const script = join(dir, 'kinds-script.ps1');
  writeFileSync(script, compilePlan(plan).text);
  const args = ['-SecurityTemplate', inf, '-AuditBackup', csv, '-OutputFormat', 'Json'];
  const test1 = runPwshFile(script, ['-Mode', 'Test', ...args]);
  assert.is(test1.status, 2, test1.stderr);
  const report: Report = JSON.parse(test1.stdout);
  assert.ok(reportValid(JSON.parse(test1.stdout)), JSON.stringify(reportValid.errors));
  assert.equal(report.results.map((r: any) => [r.kind, r.inDesiredState]), [['UserRight', false], ['AccountPolicy', true], ['SecurityPolicy', true], ['AuditPolicy', false]]);
  // The exit codes here are -File behaviour (exit 0 after a set is tested in engine.test.ts); the
  // sets run the same script text with the same parameters in the file's session.
  const parameters = { SecurityTemplate: inf, AuditBackup: csv, OutputFormat: 'Json' };
  const set = await session.runScript(compilePlan(plan), { Mode: 'Set', BackupPath: join(dir, 'b.json'), ...parameters });
  assert.ok(set.ok, set.error?.message);
  assert.is(JSON.parse(set.output).summary.changed, 2);
  const files = [readFileSync(inf), readFileSync(csv)];
  const again = await session.runScript(compilePlan(plan), { Mode: 'Set', BackupPath: join(dir, 'c.json'), ...parameters });
  assert.ok(again.ok, again.error?.message);
  assert.is(JSON.parse(again.output).summary.changed, 0);
  assert.ok(readFileSync(inf).equals(files[0]!) && readFileSync(csv).equals(files[1]!), 'second set leaves every byte');
  const missing = runPwshFile(script, ['-Mode', 'Test', '-SecurityTemplate', inf]);
  assert.is(missing.status, 1);
  assert.match(missing.stderr + missing.stdout, /AuditPolicy resources need an audit policy backup/);
});

test('the runtime region starts with the version and the SHA-256 of the runtime text', () => {
  const text = bridgeScript().text;
  const start = text.indexOf('#region Runtime');
  const region = text.slice(text.indexOf('\n', start) + 1, text.indexOf('\n#endregion', start));
  const [header, ...rest] = region.split('\n');
  const body = rest.join('\n');
  const digest = createHash('sha256').update(body, 'utf8').digest('hex');
  assert.is(header, `# winstate runtime ${VERSION} sha256:${digest}`);
  assert.is(runtimeHeader(body), header);
  assert.ok(body.includes('# --- runtime: src/kinds/user-right/user-right.ps1 ---'));
});

test('no kind or store name outside the dispatch tables of the engine core; no store kind tests anywhere', () => {
  const whole = readFileSync(projectPath('src', 'compile', 'runtime', 'core.ps1'), 'utf8');
  const core = whole.slice(whole.indexOf('$script:WsStoreTable = @{'), whole.indexOf('$script:WsStoreOrder'));
  assert.ok(core.length > 0, 'the runtime has its store table');
  const engine = core.slice(core.indexOf('function Invoke-WsConfiguration'), core.indexOf('function Get-WsExitCode'));
  // The script's parameters name the files; nothing else in the run may name a kind or a store.
  const code = engine.split('\n').filter((l) => !/^\s+(\$Document, |\[AllowEmptyString\(\)\]\[string\] \$(BackupPath|LockFile)|\$given = )/.test(l));
  for (const name of ['Registry', 'UserRight', 'AccountPolicy', 'SecurityPolicy', 'AuditPolicy', 'SecurityTemplate', 'AuditBackup']) {
    assert.equal(code.filter((l) => l.includes(name)), [], `${name} named in Invoke-WsConfiguration`);
  }
  for (const file of RUNTIME_FILES) {
    assert.not.match(readFileSync(projectPath(file), 'utf8'), /Kind -eq '(Snapshot|Live)'/, file);
  }
});

test.run();
