// A document with settings of every kind, compiled and run end to end offline through Engine and
// real PowerShell, against copies of the fixture regedit export, secedit template and auditpol
// backup: test finds the drift, set converges, a second set changes no byte, and the rollback
// document made from the backup restores every file byte for byte.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { rollbackDocument, type BackupRecord } from '../../src/engine/rollback.js';
import { validateText } from '../../src/document/validate.js';
import { formatDiagnostic } from '../../src/document/diagnostics.js';
import type { RunReport } from '../../src/engine/results.js';
import { projectPath } from '../../src/paths.js';
import { planFromYaml, tempDir } from '../helpers.js';
import { asUtf16Crlf } from '../kinds-helpers.js';

const dir = tempDir('winstate-kinds-e2e-');
const engine = new Engine({ stateDir: join(dir, 'state'), timeoutMs: 180_000 });
test.after(() => engine.close());

const files = {
  reg: join(dir, 'server.reg'),
  inf: join(dir, 'secedit.inf'),
  csv: join(dir, 'audit.csv'),
};
copyFileSync(projectPath('test', 'fixtures', 'reg', 'plus3it_sceWin8.reg'), files.reg);
// As secedit /export writes it: UTF-16LE with a BOM and CRLF.
writeFileSync(files.inf, asUtf16Crlf(readFileSync(projectPath('test', 'fixtures', 'secedit', 'SecurityPolicyDsc_sample.inf'))));
// Without its Logon row, so that set adds one and the rollback must take it out again.
const auditFixture = readFileSync(projectPath('test', 'fixtures', 'auditpol', 'AuditPolicyDsc_audit.csv'), 'utf8');
writeFileSync(files.csv, auditFixture.split(/(?<=\n)/).filter((line) => !line.includes('{0CCE9215-')).join(''));
const original = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, readFileSync(f)])) as Record<keyof typeof files, Buffer>;
const bytes = () => Object.fromEntries(Object.entries(files).map(([k, f]) => [k, readFileSync(f)])) as Record<keyof typeof files, Buffer>;

const plan = planFromYaml(`metadata: { name: kinds-e2e }
resources:
  - name: Recovery console display type
    type: Registry
    properties:
      key: HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\SecEdit\\Reg Values\\MACHINE/Software/Microsoft/Windows NT/CurrentVersion/Setup/RecoveryConsole/SecurityLevel
      valueName: DisplayType
      valueType: DWord
      valueData: 1
  - name: Back up files only by administrators
    type: UserRight
    properties: { right: Back up files and directories, principals: [Administrators] }
  - name: Deny network logon
    type: UserRight
    properties: { right: SeDenyNetworkLogonRight, principals: [Guests, Local account] }
  - name: Password length
    type: AccountPolicy
    properties: { policy: MinimumPasswordLength, value: 14, condition: { anyOf: [{ atLeast: 14 }, { oneOf: [0] }] } }
  - name: Guest name
    type: SecurityPolicy
    properties: { policy: NewGuestName, value: Visitor }
  - name: Credential validation
    type: AuditPolicy
    properties: { subcategory: Credential Validation, success: enabled, failure: disabled }
  - name: Logon successes
    type: AuditPolicy
    properties: { subcategory: Logon, success: enabled }
`, join(dir, 'kinds-e2e.yaml'));

const stores = { SecurityTemplate: files.inf, AuditBackup: files.csv };
const run = (mode: 'Test' | 'Set', extra: Record<string, string | boolean> = {}, p = plan): Promise<RunReport> =>
  engine.run(p, mode, { snapshot: files.reg }, { ...stores, ...extra });

test('a missing store file fails the run before anything is read, naming the file to pass', async () => {
  const error = await engine.run(plan, 'Test', { snapshot: files.reg }).then(() => undefined, (e: Error) => e);
  assert.ok(error, 'the run fails');
  assert.match(error!.message, /security template/i);
  assert.equal(bytes(), original);
});

test('test finds each kind drifted, in the kind\'s own views', async () => {
  const report = await run('Test');
  assert.equal(report.results.map((r) => [r.kind, r.inDesiredState]), [
    ['Registry', false], ['UserRight', false], ['UserRight', false], ['AccountPolicy', false], ['SecurityPolicy', false], ['AuditPolicy', false], ['AuditPolicy', false],
  ], JSON.stringify(report.results.map((r) => r.error ?? r.differingProperties)));
  const [, backup, deny, length, guest, audit, logon] = report.results;
  assert.equal(logon!.actual!.ensure, 'Absent');
  assert.equal(backup!.actual!.principals, ['*S-1-5-32-544', '*S-1-5-32-551']);
  assert.equal(deny!.actual!.ensure, 'Absent');
  assert.equal(length!.actual!.value, 8);
  assert.equal(guest!.actual!.value, '  Guest');
  assert.equal([audit!.actual!.success, audit!.actual!.failure], [true, true]);
  assert.equal(report.snapshots, { Registry: files.reg, ...stores });
});

let backupFile = '';
test('set converges every kind; a second set changes no byte of any file', async () => {
  backupFile = join(dir, 'backup.json');
  const set = await run('Set', { BackupPath: backupFile, NoLock: true });
  assert.equal(set.results.map((r) => [r.name, r.changed, r.error]), plan.resources.map((r) => [r.name, true, undefined]));
  const after = bytes();
  for (const k of ['reg', 'inf', 'csv'] as const) assert.not.equal(after[k], original[k], `${k} was written`);
  // The template keeps its encoding: UTF-16LE with BOM and CRLF.
  const inf = after.inf;
  assert.equal([inf[0], inf[1]], [0xff, 0xfe]);
  const text = inf.subarray(2).toString('utf16le');
  assert.match(text, /\r\nSeDenyNetworkLogonRight = \*S-1-5-32-546,\*S-1-5-113\r\n|\r\nSeDenyNetworkLogonRight = \*S-1-5-113,\*S-1-5-32-546\r\n/);
  assert.match(text, /\r\nSeBackupPrivilege = \*S-1-5-32-544\r\n/);
  assert.match(text, /\r\nMinimumPasswordLength = 14\r\n/);
  assert.match(text, /\r\nNewGuestName = "Visitor"\r\n/);
  assert.match(after.csv.toString('utf8'), /,Credential Validation,\{0CCE923F-69AE-11D9-BED3-505054503030\},Success,,1/);
  assert.match(after.csv.toString('utf8'), /,Logon,\{0CCE9215-69AE-11D9-BED3-505054503030\},Success,,1/);

  const verify = await run('Test');
  assert.equal(verify.results.map((r) => r.inDesiredState), plan.resources.map(() => true));
  const again = await run('Set', { BackupPath: join(dir, 'backup-2.json'), NoLock: true });
  assert.equal(again.results.map((r) => r.changed), plan.resources.map(() => false));
  assert.equal(bytes(), after, 'a second set leaves every byte');
});

test('the rollback document from the backup restores every file byte for byte', async () => {
  const backup = JSON.parse(readFileSync(backupFile, 'utf8')) as BackupRecord;
  assert.equal([...new Set(backup.entries.map((e) => e.kind ?? 'Registry'))], ['Registry', 'UserRight', 'AccountPolicy', 'SecurityPolicy', 'AuditPolicy']);
  const { yaml, unsupported } = rollbackDocument(backup, 'e2e');
  assert.equal(unsupported, []);
  const validated = validateText(join(dir, 'rollback.yaml'), yaml);
  assert.equal(validated.diagnostics.map(formatDiagnostic), []);
  const restored = await run('Set', { BackupPath: join(dir, 'backup-3.json'), NoLock: true }, validated.plan!);
  assert.equal(restored.results.filter((r) => r.error !== undefined).map((r) => `${r.name}: ${r.error}`), []);
  const now = bytes();
  for (const k of ['reg', 'inf', 'csv'] as const) assert.ok(now[k].equals(original[k]), `${k} restored byte for byte`);
});

test.run();
