// The security template (.inf) store, src/kinds/security-policy/security-template.ps1, in real
// PowerShell on the vendored secedit fixture and its UTF-16LE+BOM+CRLF form.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ps } from '../../src/compile/quote.js';
import { tempDir } from '../helpers.js';
import { asUtf16Crlf, fixturePath, KindsShell } from '../kinds-helpers.js';

const shell = new KindsShell();
const dir = tempDir('ws-inf-');
test.after(async () => {
  await shell.close();
  rmSync(dir, { recursive: true, force: true });
});

const original = readFileSync(fixturePath('secedit', 'SecurityPolicyDsc_sample.inf'));
let counter = 0;
/** A fresh copy of the fixture in one of the forms the store must keep. */
function copy(form: 'ascii-lf' | 'utf16-crlf' | 'utf8bom-crlf' | 'no-final-newline', bytes = original): string {
  const file = join(dir, `t${++counter}-${form}.inf`);
  const content =
    form === 'utf16-crlf' ? asUtf16Crlf(bytes)
    : form === 'utf8bom-crlf' ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(bytes.toString('utf8').replace(/\n/g, '\r\n'))])
    : form === 'no-final-newline' ? Buffer.from(bytes.toString('utf8').replace(/\n$/, ''))
    : bytes;
  writeFileSync(file, content);
  return file;
}

/** Decodes a template file the way the test wrote it, and says how. */
function decode(file: string): { text: string; bom: string; crlf: boolean } {
  const b = readFileSync(file);
  if (b[0] === 0xff && b[1] === 0xfe) return { text: b.subarray(2).toString('utf16le'), bom: 'utf16le', crlf: true };
  if (b[0] === 0xef) return { text: b.subarray(3).toString('utf8'), bom: 'utf8', crlf: true };
  return { text: b.toString('utf8'), bom: '', crlf: false };
}

function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split(/\r?\n/);
  const b = after.split(/\r?\n/);
  return { removed: a.filter((l) => !b.includes(l)), added: b.filter((l) => !a.includes(l)) };
}

// Keys with backslashes travel as values: a template literal would eat them.
const LEGAL = String.raw`MACHINE\Software\Microsoft\Windows\CurrentVersion\Policies\System\LegalNoticeText`;
const SAM = String.raw`MACHINE\System\CurrentControlSet\Control\Lsa\RestrictRemoteSAM`;
const FORMS = ['ascii-lf', 'utf16-crlf', 'utf8bom-crlf', 'no-final-newline'] as const;

test('every form is written back byte for byte when the store is rewritten unchanged', async () => {
  for (const form of FORMS) {
    const file = copy(form);
    const out = `${file}.out`;
    await shell.text(ps`$s = Open-WsSecurityTemplate -LiteralPath ${file}; Write-WsTextFile -File $s.File -LiteralPath ${out}`);
    assert.ok(readFileSync(out).equals(readFileSync(file)), form);
  }
});

test('reads every section the same in every form: values, quoted names, registry values, principal lists', async () => {
  for (const form of FORMS) {
    const file = copy(form);
    const [r] = await shell.json<Record<string, unknown>>(ps`$s = Open-WsSecurityTemplate -LiteralPath ${file}
@{
  Sections = @($s.Sections.get_Keys())
  Length = Get-WsSecurityTemplateEntry -Store $s -Section 'system access' -Key 'minimumpasswordlength'
  Guest = ConvertFrom-WsTemplateString -Value (Get-WsSecurityTemplateEntry -Store $s -Section 'System Access' -Key 'NewGuestName')
  Audit = Get-WsSecurityTemplateEntry -Store $s -Section 'Event Audit' -Key 'AuditAccountLogon'
  Legal = Get-WsSecurityTemplateEntry -Store $s -Section 'Registry Values' -Key ${LEGAL}
  Sam = Get-WsSecurityTemplateEntry -Store $s -Section 'Registry Values' -Key ${SAM}
  Signature = Get-WsSecurityTemplateEntry -Store $s -Section 'Version' -Key 'signature'
  Debug = Get-WsPrivilegeRight -Store $s -Right 'SeDebugPrivilege'
  Tcb = Get-WsPrivilegeRight -Store $s -Right 'SeTcbPrivilege'
  Missing = Get-WsSecurityTemplateEntry -Store $s -Section 'Kerberos Policy' -Key 'MaxTicketAge'
}`);
    assert.equal(r, {
      Sections: ['Unicode', 'System Access', 'Event Audit', 'Registry Values', 'Version', 'Privilege Rights'],
      Length: '8',
      Guest: '  Guest',
      Audit: '3',
      Legal: '7,',
      Sam: '1,"O:BAG:BAD:(A;;RC;;;BA)"',
      Signature: '"$CHICAGO$"',
      Debug: ['testuser1', '*S-1-5-32-544'],
      Tcb: [],
      Missing: null,
    }, form);
  }
});

test('a change rewrites only its own line and keeps encoding, BOM and CRLF', async () => {
  for (const form of ['ascii-lf', 'utf16-crlf'] as const) {
    const file = copy(form);
    const before = decode(file);
    const changed = await shell.json<boolean>(ps`$s = Open-WsSecurityTemplate -LiteralPath ${file}
@(
  Set-WsPrivilegeRight -Store $s -Right 'SeDebugPrivilege' -Principal @('*S-1-5-32-544')
  Set-WsSecurityTemplateEntry -Store $s -Section 'System Access' -Key 'MinimumPasswordLength' -Value '14'
  Set-WsSecurityTemplateEntry -Store $s -Section 'System Access' -Key 'NewGuestName' -Value (ConvertTo-WsTemplateString -Text 'Visitor')
  Save-WsSecurityTemplate -Store $s
)`);
    assert.equal(changed, [true, true, true, true]);
    const after = decode(file);
    assert.is(after.bom, before.bom);
    assert.equal(changedLines(before.text, after.text), {
      removed: ['MinimumPasswordLength = 8', 'NewGuestName = "  Guest"', 'SeDebugPrivilege = testuser1,*S-1-5-32-544'],
      added: ['MinimumPasswordLength = 14', 'NewGuestName = "Visitor"', 'SeDebugPrivilege = *S-1-5-32-544'],
    });
    assert.is(after.text.split(/\r?\n/).length, before.text.split(/\r?\n/).length);
    if (form === 'utf16-crlf') assert.not.match(after.text, /[^\r]\n/);
    else assert.not.match(after.text, /\r/);
  }
});

test('new entries go after the last entry of their section; a new section goes at the end; both with the file\'s line ending', async () => {
  const file = copy('utf16-crlf');
  await shell.text(ps`$s = Open-WsSecurityTemplate -LiteralPath ${file}
$null = Set-WsPrivilegeRight -Store $s -Right 'SeDenyNetworkLogonRight' -Principal @('*S-1-5-32-546', '*S-1-5-114')
$null = Set-WsSecurityTemplateEntry -Store $s -Section 'System Access' -Key 'LockoutDuration' -Value '15'
$null = Set-WsSecurityTemplateEntry -Store $s -Section 'Kerberos Policy' -Key 'MaxClockSkew' -Value '5'
$null = Save-WsSecurityTemplate -Store $s`);
  const lines = decode(file).text.split('\r\n');
  const at = (l: string) => lines.indexOf(l);
  assert.is(at('SeDenyNetworkLogonRight = *S-1-5-32-546,*S-1-5-114'), at('SeCreateSymbolicLinkPrivilege = *S-1-5-32-544') + 1);
  assert.is(at('LockoutDuration = 15'), asUtf16Crlf(original).subarray(2).toString('utf16le').split('\r\n').indexOf('LockoutDuration = 30'));
  assert.equal(lines.slice(-3), ['[Kerberos Policy]', 'MaxClockSkew = 5', '']);
  assert.not.match(decode(file).text, /[^\r]\n/);
});

test('a file without a final line break keeps ending without one after an entry is appended to its last section', async () => {
  const file = copy('no-final-newline');
  await shell.text(ps`$s = Open-WsSecurityTemplate -LiteralPath ${file}
$null = Set-WsPrivilegeRight -Store $s -Right 'SeTcbPrivilege' -Principal @('*S-1-5-18')
$null = Save-WsSecurityTemplate -Store $s`);
  const text = readFileSync(file, 'utf8');
  assert.ok(text.endsWith('SeCreateSymbolicLinkPrivilege = *S-1-5-32-544\nSeTcbPrivilege = *S-1-5-18'));
  assert.is(text.slice(0, original.length - 1), original.toString('utf8').slice(0, -1));
});

test('a right with no principals: removed as secedit /export leaves it out, or "Right = " with -KeepEmpty; both read as empty', async () => {
  const file = copy('ascii-lf');
  const [r] = await shell.json<Record<string, unknown>>(ps`$s = Open-WsSecurityTemplate -LiteralPath ${file}
$removed = Set-WsPrivilegeRight -Store $s -Right 'SeTrustedCredManAccessPrivilege' -Principal @()
$kept = Set-WsPrivilegeRight -Store $s -Right 'SeDebugPrivilege' -Principal @() -KeepEmpty
$again = Set-WsPrivilegeRight -Store $s -Right 'SeDebugPrivilege' -Principal @() -KeepEmpty
$null = Save-WsSecurityTemplate -Store $s
$t = Open-WsSecurityTemplate -LiteralPath ${file}
@{ Removed = $removed; Kept = $kept; Again = $again
   Trusted = Get-WsPrivilegeRight -Store $t -Right 'SeTrustedCredManAccessPrivilege'
   Debug = Get-WsPrivilegeRight -Store $t -Right 'SeDebugPrivilege'
   DebugRaw = Get-WsSecurityTemplateEntry -Store $t -Section 'Privilege Rights' -Key 'SeDebugPrivilege' }`);
  assert.equal(r, { Removed: true, Kept: true, Again: false, Trusted: [], Debug: [], DebugRaw: '' });
  const text = readFileSync(file, 'utf8');
  assert.not.match(text, /SeTrustedCredManAccessPrivilege/);
  assert.match(text, /\nSeDebugPrivilege = \n/);
});

test('setting what is already there changes nothing: same principals in another order, same value; the file is not rewritten', async () => {
  const file = copy('utf16-crlf');
  const before = readFileSync(file);
  const r = await shell.json(ps`$s = Open-WsSecurityTemplate -LiteralPath ${file}
@(
  Set-WsPrivilegeRight -Store $s -Right 'sebackupprivilege' -Principal @('*S-1-5-32-551', '*s-1-5-32-544')
  Set-WsSecurityTemplateEntry -Store $s -Section 'System Access' -Key 'MinimumPasswordLength' -Value '8'
  Remove-WsSecurityTemplateEntry -Store $s -Section 'Kerberos Policy' -Key 'MaxTicketAge'
  Save-WsSecurityTemplate -Store $s
  $s.Changed.get_Count()
)`);
  assert.equal(r, [false, false, false, false, 0]);
  assert.ok(readFileSync(file).equals(before));
});

test('apply, then apply again: the second leaves every byte; removing restores the original bytes', async () => {
  const file = copy('utf16-crlf');
  const apply = ps`$s = Open-WsSecurityTemplate -LiteralPath ${file}
$null = Set-WsPrivilegeRight -Store $s -Right 'SeDenyRemoteInteractiveLogonRight' -Principal @('*S-1-5-32-546')
$null = Set-WsSecurityTemplateEntry -Store $s -Section 'Kerberos Policy' -Key 'MaxTicketAge' -Value '10'
Save-WsSecurityTemplate -Store $s`;
  assert.equal(await shell.json(apply), [true]);
  const once = readFileSync(file);
  assert.equal(await shell.json(apply), [false]);
  assert.ok(readFileSync(file).equals(once));
  await shell.text(ps`$s = Open-WsSecurityTemplate -LiteralPath ${file}
$null = Remove-WsSecurityTemplateEntry -Store $s -Section 'Privilege Rights' -Key 'SeDenyRemoteInteractiveLogonRight'
$null = Remove-WsSecurityTemplateEntry -Store $s -Section 'Kerberos Policy' -Key 'MaxTicketAge'
$null = Save-WsSecurityTemplate -Store $s`);
  // The [Kerberos Policy] section the apply created goes with its last entry: the original, byte for byte.
  assert.ok(readFileSync(file).equals(readFileSync(copy('utf16-crlf'))));
});

test('saving leaves no temporary file beside the template', async () => {
  const sub = tempDir('ws-inf-atomic-');
  const file = join(sub, 'policy.inf');
  copyFileSync(fixturePath('secedit', 'SecurityPolicyDsc_sample.inf'), file);
  await shell.text(ps`$s = Open-WsSecurityTemplate -LiteralPath ${file}; $null = Set-WsPrivilegeRight -Store $s -Right 'SeTcbPrivilege' -Principal @('*S-1-5-18'); $null = Save-WsSecurityTemplate -Store $s`);
  assert.equal(readdirSync(sub), ['policy.inf']);
  rmSync(sub, { recursive: true, force: true });
});

test('bad templates are positioned errors (file:line) and nothing is written', async () => {
  const cases: [string, Buffer, RegExp][] = [
    ['bad-header', Buffer.from('[Unicode]\nUnicode=yes\n[System Access\nMinimumPasswordLength = 8\n'), /:3: a section header must be one name in brackets/],
    ['no-equals', Buffer.from('[Unicode]\nUnicode=yes\n[System Access]\nMinimumPasswordLength 8\n'), /:4: expected 'key = value' in \[System Access\]/],
    ['duplicate-key', Buffer.from('[System Access]\nLockoutBadCount = 3\n\nlockoutbadcount = 5\n'), /:4: 'lockoutbadcount' is set a second time in \[System Access\] \(first at line 2\)/],
    ['duplicate-section', Buffer.from('[Version]\nRevision=1\n[Privilege Rights]\n[version]\n'), /:4: section \[version\] appears a second time \(first at line 1\)/],
    ['before-section', Buffer.from('Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE]\n'), /:1: text before the first \[section\]/],
    ['empty', Buffer.from('\n; nothing\n'), /:1: no \[section\] found/],
    ['odd-utf16', Buffer.concat([asUtf16Crlf(Buffer.from('[Unicode]\nUnicode=yes\n[Version]\n')), Buffer.from([0x41])]), /:4: the file is UTF-16 but has an odd number of bytes/],
    ['utf16-no-bom', Buffer.from('[Unicode]\r\n', 'utf16le'), /^$/],
  ];
  for (const [name, bytes, expected] of cases) {
    const file = join(dir, `${name}.inf`);
    writeFileSync(file, bytes);
    if (expected.source === '^$') {
      // UTF-16 without a byte order mark is recognised, not an error.
      assert.equal(await shell.json(ps`@((Open-WsSecurityTemplate -LiteralPath ${file}).Sections.get_Keys())`), ['Unicode']);
      continue;
    }
    const message = await shell.error(ps`Open-WsSecurityTemplate -LiteralPath ${file}`);
    assert.ok(message.startsWith(`${file}:`), message);
    assert.match(message, expected, name);
    assert.ok(readFileSync(file).equals(bytes), name);
  }
});

test('unknown sections are kept as they are, even lines that are not key = value', async () => {
  const text = '[Unicode]\r\nUnicode=yes\r\n[Service General Setting]\r\n"W32Time",2,""\r\n; comment\r\n[Privilege Rights]\r\nSeTcbPrivilege = \r\n[Version]\r\nsignature="$CHICAGO$"\r\n';
  const file = join(dir, 'gpo.inf');
  writeFileSync(file, text);
  await shell.text(ps`$s = Open-WsSecurityTemplate -LiteralPath ${file}; $null = Set-WsPrivilegeRight -Store $s -Right 'SeTcbPrivilege' -Principal @('*S-1-5-18'); $null = Save-WsSecurityTemplate -Store $s`);
  assert.is(readFileSync(file, 'utf8'), text.replace('SeTcbPrivilege = ', 'SeTcbPrivilege = *S-1-5-18'));
});

test('values that would break the line syntax are refused', async () => {
  const file = copy('ascii-lf');
  for (const code of [
    ps`Set-WsSecurityTemplateEntry -Store (Open-WsSecurityTemplate -LiteralPath ${file}) -Section 'System Access' -Key 'A=B' -Value '1'`,
    ps`Set-WsSecurityTemplateEntry -Store (Open-WsSecurityTemplate -LiteralPath ${file}) -Section 'System Access' -Key 'NewGuestName' -Value ${'"x"\n[Privilege Rights]'}`,
    ps`Set-WsPrivilegeRight -Store (Open-WsSecurityTemplate -LiteralPath ${file}) -Right 'SeTcbPrivilege' -Principal @('*S-1-5-18,*S-1-1-0')`,
    ps`Set-WsPrivilegeRight -Store (Open-WsSecurityTemplate -LiteralPath ${file}) -Right 'SeTcbPrivilege' -Principal @('*S-1-5-18', '*s-1-5-18')`,
    ps`Set-WsPrivilegeRight -Store (Open-WsSecurityTemplate -LiteralPath ${file}) -Right 'NotARight' -Principal @('*S-1-5-18')`,
  ]) {
    assert.ok((await shell.error(code)).length > 0);
  }
  assert.ok(readFileSync(file).equals(original));
});

test('the change file for secedit /configure holds only the changed entries, UTF-16LE with BOM and CRLF, an emptied right as "Right = "', async () => {
  const file = copy('ascii-lf');
  const out = join(dir, 'change.inf');
  const [areas] = await shell.json<string[]>(ps`$s = Open-WsSecurityTemplate -LiteralPath ${file}
$null = Set-WsPrivilegeRight -Store $s -Right 'SeTrustedCredManAccessPrivilege' -Principal @()
$null = Set-WsPrivilegeRight -Store $s -Right 'SeDenyNetworkLogonRight' -Principal @('*S-1-5-32-546')
$null = Set-WsSecurityTemplateEntry -Store $s -Section 'System Access' -Key 'LockoutBadCount' -Value '3'
$change = New-WsSecurityTemplateChangeFile -Store $s -LiteralPath ${out}
$null = Save-WsSecurityTemplate -Store $change.Template
, $change.Areas`);
  assert.equal(areas, ['USER_RIGHTS', 'SECURITYPOLICY']);
  const bytes = readFileSync(out);
  assert.equal([...bytes.subarray(0, 2)], [0xff, 0xfe]);
  assert.is(
    bytes.subarray(2).toString('utf16le'),
    '[Unicode]\r\nUnicode=yes\r\n[Version]\r\nsignature="$CHICAGO$"\r\nRevision=1\r\n[Privilege Rights]\r\nSeTrustedCredManAccessPrivilege = \r\nSeDenyNetworkLogonRight = *S-1-5-32-546\r\n[System Access]\r\nLockoutBadCount = 3\r\n',
  );
  // The change file reads back through the same reader.
  assert.equal(await shell.json(ps`Get-WsPrivilegeRight -Store (Open-WsSecurityTemplate -LiteralPath ${out}) -Right 'SeDenyNetworkLogonRight'`), [['*S-1-5-32-546']]);
});

test('the live layer refuses to run off Windows with a clear message; its work directory is removed on close', async () => {
  assert.match(await shell.error(ps`Open-WsLiveSecurityTemplate`), /secedit exists only on Windows/);
  assert.match(await shell.error(ps`Open-WsLiveAuditBackup`), /auditpol exists only on Windows/);
  // The work directory a live store exports into is private and removed when the store is closed.
  assert.equal(await shell.json(ps`$d = New-WsWorkDirectory; $s = @{ WorkDirectory = $d }
[System.IO.File]::WriteAllText([System.IO.Path]::Combine($d, 'export.inf'), '[Unicode]')
Close-WsLiveStore -Store $s
[System.IO.Directory]::Exists($d)
$null -eq $s.WorkDirectory`), [false, true]);
});

test('mixed line endings and ANSI text (not UTF-8) survive a change byte for byte outside the changed line', async () => {
  const head = Buffer.from('; Vorlage f', 'ascii');
  const ansi = Buffer.from([0xfc, 0x72]); // "\u00fcr" in Windows-1252, invalid as UTF-8
  const rest = Buffer.from(' Server\r\n[Unicode]\nUnicode=yes\r\n[Privilege Rights]\nSeTcbPrivilege = *S-1-5-18\r\nSeDebugPrivilege = *S-1-5-32-544\n[Version]\r\nRevision=1', 'ascii');
  const bytes = Buffer.concat([head, ansi, rest]);
  const file = join(dir, 'mixed.inf');
  writeFileSync(file, bytes);
  await shell.text(ps`$s = Open-WsSecurityTemplate -LiteralPath ${file}; $null = Set-WsPrivilegeRight -Store $s -Right 'SeTcbPrivilege' -Principal @('*S-1-5-19'); $null = Save-WsSecurityTemplate -Store $s`);
  const expected = Buffer.concat([head, ansi, Buffer.from(rest.toString('ascii').replace('SeTcbPrivilege = *S-1-5-18', 'SeTcbPrivilege = *S-1-5-19'), 'ascii')]);
  assert.ok(readFileSync(file).equals(expected), readFileSync(file).toString('latin1'));
});

test.run();
