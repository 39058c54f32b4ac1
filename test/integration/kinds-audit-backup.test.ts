// The auditpol backup (.csv) store, src/kinds/audit-policy/audit-backup.ps1, in real PowerShell
// on the vendored auditpol fixture and its UTF-16LE+BOM+CRLF form.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ps } from '../../src/compile/quote.js';
import { tables } from '../../src/kinds/tables.js';
import { tempDir } from '../helpers.js';
import { asUtf16Crlf, fixturePath, KindsShell } from '../kinds-helpers.js';

const shell = new KindsShell();
const dir = tempDir('ws-csv-');
test.after(async () => {
  await shell.close();
  rmSync(dir, { recursive: true, force: true });
});

const original = readFileSync(fixturePath('auditpol', 'AuditPolicyDsc_audit.csv'));
const LOGON = '{0CCE9215-69AE-11D9-BED3-505054503030}';
const CREDENTIAL_VALIDATION = '{0CCE923F-69AE-11D9-BED3-505054503030}';
let counter = 0;
function copy(form: 'ascii-lf' | 'utf16-crlf', bytes: Buffer = original): string {
  const file = join(dir, `a${++counter}-${form}.csv`);
  writeFileSync(file, form === 'utf16-crlf' ? asUtf16Crlf(bytes) : bytes);
  return file;
}
function text(file: string): string {
  const b = readFileSync(file);
  return b[0] === 0xff ? b.subarray(2).toString('utf16le') : b.toString('utf8');
}

test('both forms are written back byte for byte when rewritten unchanged; every fixture row reads as the table says', async () => {
  for (const form of ['ascii-lf', 'utf16-crlf'] as const) {
    const file = copy(form);
    await shell.text(ps`$s = Open-WsAuditBackup -LiteralPath ${file}; Write-WsTextFile -File $s.File -LiteralPath ${`${file}.out`}`);
    assert.ok(readFileSync(`${file}.out`).equals(readFileSync(file)), form);
    const rows = await shell.json<{ Guid: string; Name: string; Value: number; Success: boolean; Failure: boolean; Inclusion: string }>(
      ps`$s = Open-WsAuditBackup -LiteralPath ${file}; foreach ($g in @($s.Rows.get_Keys())) { Get-WsAuditSubcategory -Store $s -Guid $g }`,
    );
    assert.is(rows.length, 59);
    const byValue = new Map(tables().audit.settingValues.map((v) => [v.value, v]));
    for (const r of rows) {
      const v = byValue.get(r.Value as 0 | 1 | 2 | 3)!;
      assert.is(r.Inclusion, v.inclusion, r.Name);
      assert.is(r.Success, v.success);
      assert.is(r.Failure, v.failure);
    }
  }
});

test('a GUID in any case, with or without braces, finds its row; an unknown one gives $null', async () => {
  const file = copy('ascii-lf');
  const r = await shell.json(ps`$s = Open-WsAuditBackup -LiteralPath ${file}
(Get-WsAuditSubcategory -Store $s -Guid '0cce9215-69ae-11d9-bed3-505054503030').Name
(Get-WsAuditSubcategory -Store $s -Guid ${LOGON}).Value
$null -eq (Get-WsAuditSubcategory -Store $s -Guid '{0CCE92FF-69AE-11D9-BED3-505054503030}')`);
  assert.equal(r, ['Logon', 3, true]);
});

test('setting a subcategory rewrites only its row, Setting Value and Inclusion Setting together; encoding and CRLF kept', async () => {
  for (const form of ['ascii-lf', 'utf16-crlf'] as const) {
    const file = copy(form);
    const before = text(file);
    const r = await shell.json(ps`$s = Open-WsAuditBackup -LiteralPath ${file}
Set-WsAuditSubcategory -Store $s -Guid ${CREDENTIAL_VALIDATION} -Value 1
Set-WsAuditSubcategory -Store $s -Guid '{0CCE9217-69AE-11D9-BED3-505054503030}' -Value 2
Save-WsAuditBackup -Store $s`);
    assert.equal(r, [true, true, true]);
    const after = text(file);
    const a = before.split(/\r?\n/);
    const b = after.split(/\r?\n/);
    assert.is(b.length, a.length);
    const diff = a.map((l, i) => [l, b[i]]).filter(([x, y]) => x !== y);
    assert.equal(diff, [
      ['BIRDSOFPRAY,System,Account Lockout,{0CCE9217-69AE-11D9-BED3-505054503030},No Auditing,,0', 'BIRDSOFPRAY,System,Account Lockout,{0CCE9217-69AE-11D9-BED3-505054503030},Failure,,2'],
      ['BIRDSOFPRAY,System,Credential Validation,{0CCE923F-69AE-11D9-BED3-505054503030},Success and Failure,,3', 'BIRDSOFPRAY,System,Credential Validation,{0CCE923F-69AE-11D9-BED3-505054503030},Success,,1'],
    ]);
    if (form === 'utf16-crlf') {
      assert.equal([...readFileSync(file).subarray(0, 2)], [0xff, 0xfe]);
      assert.not.match(after, /[^\r]\n/);
    }
  }
});

test('setting the value already there changes nothing and does not rewrite the file; a second apply leaves every byte', async () => {
  const file = copy('utf16-crlf');
  const before = readFileSync(file);
  assert.equal(await shell.json(ps`$s = Open-WsAuditBackup -LiteralPath ${file}; Set-WsAuditSubcategory -Store $s -Guid ${LOGON} -Value 3; Save-WsAuditBackup -Store $s`), [false, false]);
  assert.ok(readFileSync(file).equals(before));
  const apply = ps`$s = Open-WsAuditBackup -LiteralPath ${file}; $null = Set-WsAuditSubcategory -Store $s -Guid ${LOGON} -Value 0; Save-WsAuditBackup -Store $s`;
  assert.equal(await shell.json(apply), [true]);
  const once = readFileSync(file);
  assert.equal(await shell.json(apply), [false]);
  assert.ok(readFileSync(file).equals(once));
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

test('a subcategory missing from the backup gets a row after the last subcategory row, before the option rows', async () => {
  const withoutLogon = Buffer.from(original.toString('utf8').split('\n').filter((l) => !l.includes(LOGON)).join('\n'));
  const file = copy('ascii-lf', withoutLogon);
  assert.match(await shell.error(ps`$s = Open-WsAuditBackup -LiteralPath ${file}; Set-WsAuditSubcategory -Store $s -Guid ${LOGON} -Value 3`), /needs the subcategory's name/);
  await shell.text(ps`$s = Open-WsAuditBackup -LiteralPath ${file}; $null = Set-WsAuditSubcategory -Store $s -Guid ${LOGON.toLowerCase()} -Value 3 -Name 'Logon'; $null = Save-WsAuditBackup -Store $s`);
  const lines = text(file).split('\n');
  const at = lines.indexOf(`BIRDSOFPRAY,System,Logon,${LOGON},Success and Failure,,3`);
  assert.ok(at > 0);
  assert.is(lines[at - 1], 'BIRDSOFPRAY,System,Kerberos Authentication Service,{0CCE9242-69AE-11D9-BED3-505054503030},Success and Failure,,3');
  assert.is(lines[at + 1], 'BIRDSOFPRAY,,Option:CrashOnAuditFail,,Disabled,,0');
});

test('option rows and quoted fields survive; a changed row with a comma in a field is quoted', async () => {
  const csv = 'Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting,Setting Value\r\nHOST,System,"Odd, name",{0CCE9215-69AE-11D9-BED3-505054503030},No Auditing,,0\r\nHOST,,Option:CrashOnAuditFail,,Disabled,,0\r\nHOST,,FileGlobalSacl,,,,\r\n';
  const file = join(dir, 'quoted.csv');
  writeFileSync(file, csv);
  const r = await shell.json(ps`$s = Open-WsAuditBackup -LiteralPath ${file}; (Get-WsAuditSubcategory -Store $s -Guid ${LOGON}).Name; $null = Set-WsAuditSubcategory -Store $s -Guid ${LOGON} -Value 1; $null = Save-WsAuditBackup -Store $s`);
  assert.equal(r, ['Odd, name']);
  assert.is(readFileSync(file, 'utf8'), csv.replace('No Auditing,,0', 'Success,,1'));
});

test('bad backups are positioned errors (file:line) and nothing is written', async () => {
  const header = 'Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting,Setting Value';
  const cases: [string, string, RegExp][] = [
    ['missing-column', 'Machine Name,Policy Target,Subcategory,Inclusion Setting,Exclusion Setting,Setting Value\n', /:1: missing column 'Subcategory GUID'/],
    ['short-row', `${header}\nHOST,System,Logon,${LOGON},Success,1\n`, /:2: expected 7 fields as in the header, found 6/],
    ['not-a-guid', `${header}\nHOST,System,Logon,${LOGON},Success,,1\nHOST,System,Logoff,{0CCE9216-69AE-11D9-BED3},Success,,1\n`, /:3: Subcategory GUID '\{0CCE9216-69AE-11D9-BED3\}' is not a GUID/],
    ['bad-value', `${header}\nHOST,System,Logon,${LOGON},Success,,5\n`, /:2: Setting Value must be 0, 1, 2 or 3, found '5'/],
    ['duplicate', `${header}\nHOST,System,Logon,${LOGON},Success,,1\n\nHOST,System,Logon,${LOGON.toLowerCase()},Success,,1\n`, /:4: subcategory \{0CCE9215-69AE-11D9-BED3-505054503030\} appears a second time \(first at line 2\)/],
    ['open-quote', `${header}\nHOST,System,"Logon,${LOGON},Success,,1\n`, /:2: a quoted field is not closed/],
    ['empty', '', /:1: empty; expected the auditpol header/],
  ];
  for (const [name, content, expected] of cases) {
    const file = join(dir, `${name}.csv`);
    writeFileSync(file, content);
    const message = await shell.error(ps`Open-WsAuditBackup -LiteralPath ${file}`);
    assert.ok(message.startsWith(`${file}:`), message);
    assert.match(message, expected, name);
    assert.is(readFileSync(file, 'utf8'), content, name);
  }
  assert.match(await shell.error(ps`Set-WsAuditSubcategory -Store (Open-WsAuditBackup -LiteralPath ${copy('ascii-lf')}) -Guid ${LOGON} -Value 4`), /4/);
});

test('the live layer turns a stored setting into auditpol /set arguments by GUID', async () => {
  const file = copy('ascii-lf');
  const r = await shell.json(ps`$s = Open-WsAuditBackup -LiteralPath ${file}
$null = Set-WsAuditSubcategory -Store $s -Guid ${CREDENTIAL_VALIDATION} -Value 2
, (Get-WsAuditSetArgument -Store $s -Guid ${CREDENTIAL_VALIDATION})
, (Get-WsAuditSetArgument -Store $s -Guid ${LOGON})`);
  assert.equal(r, [
    ['/set', `/subcategory:${CREDENTIAL_VALIDATION}`, '/success:disable', '/failure:enable'],
    ['/set', `/subcategory:${LOGON}`, '/success:enable', '/failure:enable'],
  ]);
});

test.run();
