// Integration tests for src/kinds/registry/registry-snapshot.ps1, run in real PowerShell.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PwshSession } from '../../src/bridge/session.js';
import { PsCode } from '../../src/compile/quote.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = process.cwd();
const storePs1 = path.join(root, 'src', 'kinds', 'registry', 'registry-snapshot.ps1');
const registryPs1 = path.join(root, 'src', 'kinds', 'registry', 'registry.ps1');
const corePs1 = path.join(root, 'src', 'compile', 'runtime', 'core.ps1');
const fixtureName = path.join('reg', 'plus3it_sceWin8.reg');
const fixture = path.join(root, 'test', 'fixtures', fixtureName);

const SECEDIT = 'SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\SecEdit\\Reg Values';
const WINLOGON = `${SECEDIT}\\MACHINE/Software/Microsoft/Windows NT/CurrentVersion/Winlogon`;

/** Single-quoted PowerShell literal. */
const psq = (s: string): string => `'${s.replace(/'/g, "''")}'`;

// Helpers available to every test script. $InFile/$OutFile are set before this runs.
const PRELUDE = String.raw`
function Read-Input { Get-Content -LiteralPath $InFile -Raw -Encoding UTF8 | ConvertFrom-Json }
function Write-Result($Value) {
    [System.IO.File]::WriteAllText($OutFile, (ConvertTo-Json -InputObject $Value -Depth 8 -Compress), [System.Text.UTF8Encoding]::new($false))
}
function ConvertTo-Plain($State) {
    $d = $State.Data; $type = $null; $plain = $d
    if ($null -ne $d) { $type = $d.GetType().FullName }
    if ($d -is [byte[]]) { $plain = [System.Convert]::ToHexString($d).ToLowerInvariant() }
    elseif ($d -is [uint32] -or $d -is [uint64]) { $plain = $d.ToString() }
    @{ KeyExists = $State.KeyExists; ValueExists = $State.ValueExists; Kind = $State.Kind; TypeCode = $State.TypeCode; DataType = $type; Data = $plain }
}
function ConvertFrom-TestData($Kind, $Data) {
    switch ($Kind) {
        'DWord' { return [uint32]::Parse($Data) }
        'QWord' { return [uint64]::Parse($Data) }
        'MultiString' { return ,([string[]]@($Data)) }
        'Binary' { return ,([System.Convert]::FromHexString($Data)) }
        'Raw' { return ,([System.Convert]::FromHexString($Data)) }
        default { return [string]$Data }
    }
}
function Get-ValueCount($Store) {
    $n = 0
    foreach ($k in $Store.KeyMap.get_Values()) { $n += $k.ValueMap.get_Count() }
    return $n
}
`;

interface Sandbox { dir: string; regDir: string }
const sandboxes: string[] = [];
// One PowerShell for the whole file (the project's own bridge); each script runs in its own scope.
const session = new PwshSession({ timeoutMs: 120_000 });
test.after(async () => {
  await session.close();
  for (const dir of sandboxes) fs.rmSync(dir, { recursive: true, force: true });
});

function sandbox(): Sandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-snapshot-'));
  sandboxes.push(dir);
  const regDir = path.join(dir, 'reg');
  fs.mkdirSync(regDir);
  return { dir, regDir };
}

/** Copies a file into the sandbox, writable. */
function copyIn(sb: Sandbox, src: string, name: string): string {
  const dest = path.join(sb.regDir, name);
  fs.copyFileSync(src, dest);
  fs.chmodSync(dest, 0o644);
  return dest;
}

function writeReg(sb: Sandbox, name: string, bytes: Buffer): string {
  const dest = path.join(sb.regDir, name);
  fs.writeFileSync(dest, bytes);
  return dest;
}

const utf16 = (s: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
const utf8Bom = (s: string): Buffer => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(s, 'utf8')]);
const readUtf16 = (p: string): string => fs.readFileSync(p).subarray(2).toString('utf16le');

/** Runs a script (with the store functions dot-sourced) in the session and returns what it passed to Write-Result. */
async function runPs(sb: Sandbox, body: string, input?: unknown): Promise<any> {
  const inFile = path.join(sb.dir, 'in.json');
  const outFile = path.join(sb.dir, 'out.json');
  fs.writeFileSync(inFile, JSON.stringify(input ?? null), 'utf8');
  fs.rmSync(outFile, { force: true });
  // Test code written in this file, not user text: it is the request itself.
  const script = [
    "$ErrorActionPreference = 'Stop'",
    'Set-StrictMode -Version Latest',
    `. ${psq(corePs1)}`,
    `. ${psq(storePs1)}`,
    `. ${psq(registryPs1)}`,
    `$InFile = ${psq(inFile)}`,
    `$OutFile = ${psq(outFile)}`,
    PRELUDE,
    body,
  ].join('\n');
  const r = await session.invoke(new PsCode(script));
  if (!r.ok) throw new Error(`pwsh failed:\n${r.error?.message ?? ''}\n${r.hostText}\n${r.stderr}`);
  return JSON.parse(fs.readFileSync(outFile, 'utf8'));
}

test('store file is ASCII, LF-only, 5.1-safe and uses approved verbs', async () => {
  const src = fs.readFileSync(storePs1);
  assert.ok(src.every((b) => b < 0x80), 'non-ASCII byte in store-snapshot.ps1');
  assert.not.ok(src.includes(0x0d), 'CR in store-snapshot.ps1');
  const text = src.toString('ascii');
  for (const bad of ['??', '?.', '&&', '||', '-Parallel', /^\s*class\s/m, /^\s*using\s/m, /\bclean\s*\{/]) {
    const found = typeof bad === 'string' ? text.includes(bad) : bad.test(text);
    assert.not.ok(found, `store-snapshot.ps1 contains ${String(bad)}`);
  }
  const sb = sandbox();
  const r = await runPs(sb, String.raw`
$names = @((Get-Command -Name '*-Ws*' -CommandType Function).Name)
$verbs = @(Get-Verb | ForEach-Object Verb)
Write-Result @{ names = $names; unapproved = @($names | Where-Object { $verbs -notcontains $_.Split('-')[0] }) }
`);
  for (const name of ['Open-WsSnapshotStore', 'Get-WsSnapshotState', 'Set-WsSnapshotValue', 'Remove-WsSnapshotValue',
    'New-WsSnapshotKey', 'Remove-WsSnapshotKey', 'Save-WsSnapshotStore']) {
    assert.ok(r.names.includes(name), `${name} is defined`);
  }
  assert.equal(r.unapproved, []);
});

test('real regedit export: counts, values of each kind, implied keys, byte-identical re-save', async () => {
  const sb = sandbox();
  const copy = copyIn(sb, fixture, 'sce.reg');
  const r = await runPs(sb, String.raw`
$p = (Read-Input).path
$s = Open-WsSnapshotStore -LiteralPath $p
$secedit = (Read-Input).secedit; $winlogon = (Read-Input).winlogon
$res = @{
    kind = $s.Kind; path = $s.Path; dirty = $s.Dirty
    keys = $s.KeyMap.get_Count(); values = Get-ValueCount $s
    dword = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey "$winlogon/AllocateDASD" -ValueName 'DisplayType')
    string = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey "$winlogon/AllocateDASD" -ValueName 'DisplayName')
    multi = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey "$winlogon/AllocateDASD" -ValueName 'DisplayChoices')
    lower = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey "$winlogon/allocatedasd".ToLowerInvariant() -ValueName 'displaychoices')
    missingValue = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey "$winlogon/AllocateDASD" -ValueName 'Nope')
    keyOnly = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey $secedit)
    implied = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'SOFTWARE\Microsoft')
    absent = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'SOFTWARE\Micro')
    otherHive = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_CURRENT_USER -SubKey 'SOFTWARE\Microsoft')
}
$s.Dirty = $true
$res.saved = Save-WsSnapshotStore -Store $s
$res.dirtyAfter = $s.Dirty
Write-Result $res
`, { path: copy, secedit: SECEDIT, winlogon: WINLOGON });
  assert.is(r.kind, 'Snapshot');
  assert.is(r.path, copy);
  assert.is(r.dirty, false);
  assert.is(r.keys, 90);
  assert.is(r.values, 294);
  assert.equal(r.dword, { KeyExists: true, ValueExists: true, Kind: 'DWord', TypeCode: 4, DataType: 'System.UInt32', Data: '3' });
  assert.equal(r.string, { KeyExists: true, ValueExists: true, Kind: 'String', TypeCode: 1, DataType: 'System.String', Data: '@wsecedit.dll,-59099' });
  const choices = ['0|@wsecedit.dll,-59100', '1|@wsecedit.dll,-59101', '2|@wsecedit.dll,-59102'];
  assert.equal(r.multi, { KeyExists: true, ValueExists: true, Kind: 'MultiString', TypeCode: 7, DataType: 'System.String[]', Data: choices });
  assert.equal(r.lower.Data, choices, 'key and value lookup ignore case');
  assert.equal(r.missingValue, { KeyExists: true, ValueExists: false, Kind: null, TypeCode: null, DataType: null, Data: null });
  assert.equal([r.keyOnly.KeyExists, r.keyOnly.ValueExists], [true, false]);
  assert.equal([r.implied.KeyExists, r.absent.KeyExists, r.otherHive.KeyExists], [true, false, false]);
  assert.is(r.saved, true);
  assert.is(r.dirtyAfter, false);
  assert.ok(fs.readFileSync(copy).equals(fs.readFileSync(fixture)), 're-saved export is byte-identical');
});

// Every kind, including the awkward cases; Binary/Raw data is hex, numbers are decimal strings.
const KIND_CASES: { name: string; kind: string; data: unknown; typeCode?: number; dataType: string }[] = [
  { name: '', kind: 'String', data: 'default value', dataType: 'System.String' },
  { name: 'quotes', kind: 'String', data: `It's "quoted" \\ back\\slash \u2019 \u{1F600}`, dataType: 'System.String' },
  { name: 'newlines', kind: 'String', data: 'one\r\ntwo\nthree\rfour', dataType: 'System.String' },
  { name: 'empty', kind: 'String', data: '', dataType: 'System.String' },
  { name: 'Name "with" \\ escapes', kind: 'String', data: 'x', dataType: 'System.String' },
  { name: 'expand', kind: 'ExpandString', data: '%SystemRoot%\\System32', dataType: 'System.String' },
  { name: 'dw0', kind: 'DWord', data: '0', dataType: 'System.UInt32' },
  { name: 'dwMax', kind: 'DWord', data: '4294967295', dataType: 'System.UInt32' },
  { name: 'qwMax', kind: 'QWord', data: '18446744073709551615', dataType: 'System.UInt64' },
  { name: 'multi0', kind: 'MultiString', data: [], dataType: 'System.String[]' },
  { name: 'multi1', kind: 'MultiString', data: ['only'], dataType: 'System.String[]' },
  { name: 'multi3', kind: 'MultiString', data: ['a', '', 'c \u2019'], dataType: 'System.String[]' },
  { name: 'bin0', kind: 'Binary', data: '', dataType: 'System.Byte[]' },
  { name: 'bin', kind: 'Binary', data: '0001ff7f80', dataType: 'System.Byte[]' },
  { name: 'raw0', kind: 'Raw', typeCode: 0, data: 'dead', dataType: 'System.Byte[]' },
];
const TYPE_CODES: Record<string, number> = { String: 1, ExpandString: 2, Binary: 3, DWord: 4, MultiString: 7, QWord: 11 };

test('every kind round-trips through Save and a fresh Open, then removes cleanly', async () => {
  const sb = sandbox();
  const copy = copyIn(sb, fixture, 'sce.reg');
  const r = await runPs(sb, String.raw`
$in = Read-Input
$s = Open-WsSnapshotStore -LiteralPath $in.path
$sub = 'Software\Winstate Test'
foreach ($c in $in.cases) {
    Set-WsSnapshotValue -Store $s -Hive HKEY_CURRENT_USER -SubKey $sub -ValueName $c.name -Kind $c.kind -Data (ConvertFrom-TestData $c.kind $c.data) -TypeCode $c.typeCode
}
$res = @{ dirtyAfterSet = $s.Dirty; saved = Save-WsSnapshotStore -Store $s }
$t = Open-WsSnapshotStore -LiteralPath $in.path
$res.read = @(foreach ($c in $in.cases) { ConvertTo-Plain (Get-WsSnapshotState -Store $t -Hive HKEY_CURRENT_USER -SubKey $sub -ValueName $c.name) })
$res.values = Get-ValueCount $t
foreach ($c in $in.cases) { Remove-WsSnapshotValue -Store $t -Hive HKEY_CURRENT_USER -SubKey $sub -ValueName $c.name }
$res.savedRemoval = Save-WsSnapshotStore -Store $t
$u = Open-WsSnapshotStore -LiteralPath $in.path
$res.afterRemove = @(foreach ($c in $in.cases) { ConvertTo-Plain (Get-WsSnapshotState -Store $u -Hive HKEY_CURRENT_USER -SubKey $sub -ValueName $c.name) })
$res.valuesAfterRemove = Get-ValueCount $u
Write-Result $res
`, { path: copy, cases: KIND_CASES.map((c) => ({ ...c, typeCode: c.typeCode ?? null })) });
  assert.is(r.dirtyAfterSet, true);
  assert.is(r.saved, true);
  assert.is(r.values, 294 + KIND_CASES.length);
  KIND_CASES.forEach((c, i) => {
    assert.equal(r.read[i], {
      KeyExists: true, ValueExists: true, Kind: c.kind, TypeCode: c.typeCode ?? TYPE_CODES[c.kind], DataType: c.dataType, Data: c.data,
    }, `value '${c.name}'`);
    assert.equal([r.afterRemove[i].KeyExists, r.afterRemove[i].ValueExists], [true, false], `removed '${c.name}'`);
  });
  assert.is(r.savedRemoval, true);
  assert.is(r.valuesAfterRemove, 294);

  // The written forms, as regedit writes them. The new HKCU key sorts before every HKLM key.
  const sbText = sandbox();
  const copy2 = copyIn(sbText, fixture, 'sce.reg');
  await runPs(sbText, String.raw`
$in = Read-Input
$s = Open-WsSnapshotStore -LiteralPath $in.path
foreach ($c in $in.cases) {
    Set-WsSnapshotValue -Store $s -Hive HKEY_CURRENT_USER -SubKey 'Software\Winstate Test' -ValueName $c.name -Kind $c.kind -Data (ConvertFrom-TestData $c.kind $c.data) -TypeCode $c.typeCode
}
Write-Result (Save-WsSnapshotStore -Store $s)
`, { path: copy2, cases: KIND_CASES.map((c) => ({ ...c, typeCode: c.typeCode ?? null })) });
  const text = readUtf16(copy2);
  const block = text.split('\r\n\r\n')[1];
  const lines = block.split('\r\n');
  assert.is(lines[0], '[HKEY_CURRENT_USER\\Software\\Winstate Test]');
  assert.is(lines[1], '@="default value"', 'default value is written first');
  assert.ok(lines.includes(`"quotes"="It's \\"quoted\\" \\\\ back\\\\slash \u2019 \u{1F600}"`));
  // Prefix of 18 characters: 20 bytes reach 77 characters, then the line breaks.
  assert.ok(lines.includes('"newlines"=hex(1):6f,00,6e,00,65,00,0d,00,0a,00,74,00,77,00,6f,00,0a,00,74,00,\\'));
  assert.ok(lines.includes('  68,00,72,00,65,00,65,00,0d,00,66,00,6f,00,75,00,72,00,00,00'));
  assert.ok(lines.includes('"Name \\"with\\" \\\\ escapes"="x"'));
  assert.ok(lines.includes('"expand"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,\\'));
  assert.ok(lines.includes('"dw0"=dword:00000000'));
  assert.ok(lines.includes('"dwMax"=dword:ffffffff'));
  assert.ok(lines.includes('"qwMax"=hex(b):ff,ff,ff,ff,ff,ff,ff,ff'));
  assert.ok(lines.includes('"multi0"=hex(7):00,00'));
  assert.ok(lines.includes('"multi1"=hex(7):6f,00,6e,00,6c,00,79,00,00,00,00,00'));
  assert.ok(lines.includes('"bin0"=hex:'));
  assert.ok(lines.includes('"bin"=hex:00,01,ff,7f,80'));
  assert.ok(lines.includes('"raw0"=hex(0):de,ad'));
  assert.ok(text.startsWith('Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER'));
});

test('returned and passed-in arrays do not alias the store', async () => {
  const sb = sandbox();
  const file = writeReg(sb, 'a.reg', utf16('Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\Software\\A]\r\n"m"=hex(7):61,00,00,00,00,00\r\n\r\n'));
  const r = await runPs(sb, String.raw`
$s = Open-WsSnapshotStore -LiteralPath (Read-Input).path
$got = (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A' -ValueName 'm').Data
$got[0] = 'changed'
$bytes = [byte[]]@(1, 2, 3)
Set-WsSnapshotValue -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A' -ValueName 'b' -Kind Binary -Data $bytes
$bytes[0] = 99
$strings = [string[]]@('x', 'y')
Set-WsSnapshotValue -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A' -ValueName 'n' -Kind MultiString -Data $strings
$strings[0] = 'changed'
$b = (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A' -ValueName 'b').Data
$b[1] = 42
Write-Result @{
    m = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A' -ValueName 'm')
    b = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A' -ValueName 'b')
    n = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A' -ValueName 'n')
}
`, { path: file });
  assert.equal(r.m.Data, ['a']);
  assert.is(r.m.DataType, 'System.String[]');
  assert.is(r.b.Data, '010203');
  assert.equal(r.n.Data, ['x', 'y']);
});

test('UTF-8 with BOM and LF: comments, short hives, continuation, [-key], =-, repeated headers; a change keeps every other line as it was', async () => {
  const sb = sandbox();
  const input = [
    'Windows Registry Editor Version 5.00',
    '; a comment',
    '',
    '[HKLM\\Software\\A]',
    '"x"="1"',
    '"del"="gone"',
    '"Cont"=hex:01,02,\\',
    '  03,04',
    '"del"=-',
    '',
    '[HKEY_LOCAL_MACHINE\\Software\\A\\Child]',
    '"c"=dword:00000001',
    '',
    '[HKEY_LOCAL_MACHINE\\Software\\Gone]',
    '"g"=dword:1',
    '[HKEY_LOCAL_MACHINE\\Software\\Gone\\Sub]',
    '"h"="i"',
    '',
    '[-HKEY_LOCAL_MACHINE\\Software\\Gone]',
    '',
    '[HKEY_LOCAL_MACHINE\\software\\a]',
    '"y"="caf\u00e9"',
    '"X"="2"',
    '',
  ].join('\n');
  const file = writeReg(sb, 'u8.reg', utf8Bom(input));
  const r = await runPs(sb, String.raw`
$s = Open-WsSnapshotStore -LiteralPath (Read-Input).path
$res = @{
    keys = @($s.KeyMap.get_Keys())
    x = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'SOFTWARE\A' -ValueName 'X')
    cont = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A' -ValueName 'cont')
    del = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A' -ValueName 'del')
    y = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A' -ValueName 'y')
    gone = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\Gone\Sub')
}
Set-WsSnapshotValue -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A' -ValueName 'x' -Kind String -Data '3'
Set-WsSnapshotValue -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A' -ValueName 'z' -Kind DWord -Data 5
Remove-WsSnapshotValue -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A' -ValueName 'cont'
Remove-WsSnapshotKey -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A\Child'
$res.saved = Save-WsSnapshotStore -Store $s
Write-Result $res
`, { path: file });
  assert.equal(r.keys, ['HKEY_LOCAL_MACHINE\\Software\\A', 'HKEY_LOCAL_MACHINE\\Software\\A\\Child']);
  assert.is(r.x.Data, '2');
  assert.is(r.cont.Data, '01020304');
  assert.is(r.del.ValueExists, false);
  assert.is(r.y.Data, 'caf\u00e9');
  assert.is(r.gone.KeyExists, false);
  // The last "X" line is the one that counts, so it is the one rewritten (its own spelling kept);
  // the new value follows it; the removed value and key take their lines and the blank line
  // before them along. Comments, the short hive, the removed lines and the ending stay as read.
  const expected = input
    .replace('"Cont"=hex:01,02,\\\n  03,04\n', '')
    .replace('\n[HKEY_LOCAL_MACHINE\\Software\\A\\Child]\n"c"=dword:00000001\n', '')
    .replace('"X"="2"\n', '"X"="3"\n"z"=dword:00000005\n');
  assert.is.not(expected, input);
  assert.ok(fs.readFileSync(file).equals(utf8Bom(expected)), fs.readFileSync(file).toString('utf8'));
});

test('REGEDIT4 without BOM, CRLF: read in the ANSI code page even when the bytes are valid UTF-8; header and newlines are kept; hex(2) is single-byte text', async () => {
  const sb = sandbox();
  const input = 'REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\Software\\B]\r\n"e"=hex(2):25,53,25,00\r\n"n"="\u00fc"\r\n\r\n';
  const file = writeReg(sb, 'r4.reg', Buffer.from(input, 'utf8'));
  const r = await runPs(sb, String.raw`
$s = Open-WsSnapshotStore -LiteralPath (Read-Input).path
$res = @{
    e = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_CURRENT_USER -SubKey 'Software\B' -ValueName 'e')
    n = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_CURRENT_USER -SubKey 'Software\B' -ValueName 'n')
}
Set-WsSnapshotValue -Store $s -Hive HKEY_CURRENT_USER -SubKey 'Software\B' -ValueName 'd' -Kind DWord -Data 31
$res.saved = Save-WsSnapshotStore -Store $s
Write-Result $res
`, { path: file });
  assert.equal([r.e.Kind, r.e.Data], ['ExpandString', '%S%']);
  // regedit reads a REGEDIT4 file in the ANSI code page (1252 here): the UTF-8 bytes of ü are two characters.
  assert.is(r.n.Data, '\u00c3\u00bc');
  assert.is(r.saved, true);
  const out = fs.readFileSync(file);
  assert.ok(out.equals(Buffer.from(input.replace('"n"="\u00fc"\r\n', '"n"="\u00fc"\r\n"d"=dword:0000001f\r\n'), 'utf8')),
    out.toString('utf8'));
});

test('hex(N) forms decode to their kinds; odd ones stay Raw', async () => {
  const sb = sandbox();
  const file = writeReg(sb, 'hex.reg', utf16('Windows Registry Editor Version 5.00\r\n\r\n[HKEY_USERS\\S-1-5-18\\X]\r\n' + [
    '"s"=hex(1):41,00,00,00',
    '"odd"=hex(1):41,00,42',
    '"e"=HEX(2):41,00',
    '"d"=hex(4):1f,00,00,00',
    '"q"=hex(b):01,00,00,00,00,00,00,80',
    '"m"=hex(7):61,00,00,00,00,00,00,00',
    '"short"=hex(4):01,02',
    '"a"=hex(a):01',
    '"n"=hex(0):',
  ].join('\r\n') + '\r\n\r\n'));
  const r = await runPs(sb, String.raw`
$s = Open-WsSnapshotStore -LiteralPath (Read-Input).path
$res = @{}
foreach ($n in 's', 'odd', 'e', 'd', 'q', 'm', 'short', 'a', 'n') {
    $st = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_USERS -SubKey 'S-1-5-18\X' -ValueName $n)
    $res[$n] = @($st.Kind, $st.TypeCode, $st.Data)
}
Write-Result $res
`, { path: file });
  assert.equal(r.s, ['String', 1, 'A']);
  assert.equal(r.odd, ['String', 1, 'AB']);
  assert.equal(r.e, ['ExpandString', 2, 'A']);
  assert.equal(r.d, ['DWord', 4, '31']);
  assert.equal(r.q, ['QWord', 11, '9223372036854775809']);
  assert.equal(r.m, ['MultiString', 7, ['a', '']]);
  assert.equal(r.short, ['Raw', 4, '0102']);
  assert.equal(r.a, ['Raw', 10, '01']);
  assert.equal(r.n, ['Raw', 0, '']);
});

test('Set rejects bad kinds, data and hives with clear errors', async () => {
  const sb = sandbox();
  const file = writeReg(sb, 'a.reg', utf16('Windows Registry Editor Version 5.00\r\n\r\n'));
  const r = await runPs(sb, String.raw`
$s = Open-WsSnapshotStore -LiteralPath (Read-Input).path
$attempts = @(
    @{ Kind = 'DWord'; Data = -1 },
    @{ Kind = 'DWord'; Data = [uint32[]]@(1, 2) },
    @{ Kind = 'String'; Data = 5 },
    @{ Kind = 'Raw'; Data = [byte[]]@(1); TypeCode = 1 },
    @{ Kind = 'Raw'; Data = [byte[]]@(1) },
    @{ Kind = 'Text'; Data = 'x' }
)
$errors = @(foreach ($a in $attempts) {
    try { Set-WsSnapshotValue -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'K' -ValueName 'v' @a; 'no error' } catch { $_.Exception.Message }
})
try { Set-WsSnapshotValue -Store $s -Hive HKEY_NOPE -SubKey 'K' -ValueName 'v' -Kind DWord -Data 1; $errors += 'no error' } catch { $errors += $_.Exception.Message }
Write-Result @{ errors = $errors; dirty = $s.Dirty; keys = $s.KeyMap.get_Count() }
`, { path: file });
  const expected = [/out of range/, /single number/, /must be a string/, /use that kind/, /needs a TypeCode/, /Unknown value kind 'Text'/, /Unknown registry hive 'HKEY_NOPE'/];
  expected.forEach((re, i) => assert.match(r.errors[i], re, `attempt ${i}: ${r.errors[i]}`));
  assert.is(r.dirty, false);
  assert.is(r.keys, 0);
});

test('new key headers land in sorted position; New on existing or implied keys adds nothing', async () => {
  const sb = sandbox();
  const head = 'Windows Registry Editor Version 5.00\n\n';
  const file = writeReg(sb, 'sort.reg', Buffer.from(head +
    '[HKEY_LOCAL_MACHINE\\Software\\A]\n\n[HKEY_LOCAL_MACHINE\\Software\\A\\B]\n\n[HKEY_LOCAL_MACHINE\\Software\\C]\n\n', 'utf8'));
  const r = await runPs(sb, String.raw`
$s = Open-WsSnapshotStore -LiteralPath (Read-Input).path
New-WsSnapshotKey -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'software\a'
New-WsSnapshotKey -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software'
$res = @{ dirtyAfterExisting = $s.Dirty }
New-WsSnapshotKey -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A B'
New-WsSnapshotKey -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\0'
New-WsSnapshotKey -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A\A'
New-WsSnapshotKey -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\b'
Set-WsSnapshotValue -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\D [x]*?/y' -ValueName 'v' -Kind String -Data 'w'
$res.dirty = $s.Dirty
$res.saved = Save-WsSnapshotStore -Store $s
$res.exists = @(foreach ($k in 'Software', 'Software\A B', 'Software\D [x]*?/y', 'Software\D', 'Software\A\B\Z') {
    (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey $k).KeyExists
})
Write-Result $res
`, { path: file });
  assert.is(r.dirtyAfterExisting, false);
  assert.is(r.dirty, true);
  assert.is(r.saved, true);
  assert.equal(r.exists, [true, true, true, false, false]);
  const headers = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('['));
  assert.equal(headers, [
    '[HKEY_LOCAL_MACHINE\\Software\\0]',
    '[HKEY_LOCAL_MACHINE\\Software\\A]',
    '[HKEY_LOCAL_MACHINE\\Software\\A\\A]',
    '[HKEY_LOCAL_MACHINE\\Software\\A\\B]',
    '[HKEY_LOCAL_MACHINE\\Software\\A B]',
    '[HKEY_LOCAL_MACHINE\\Software\\b]',
    '[HKEY_LOCAL_MACHINE\\Software\\C]',
    '[HKEY_LOCAL_MACHINE\\Software\\D [x]*?/y]',
  ]);
});

test('a new header for a key that a [-key] line removes goes below that line, so the removal does not undo it', async () => {
  const sb = sandbox();
  const input = 'Windows Registry Editor Version 5.00\n\n[-HKEY_CURRENT_USER\\Software\\K]\n\n[HKEY_CURRENT_USER\\Software\\Z]\n"z"=dword:00000001\n';
  const file = writeReg(sb, 'k.reg', Buffer.from(input, 'utf8'));
  const r = await runPs(sb, String.raw`
$in = Read-Input
$s = Open-WsSnapshotStore -LiteralPath $in.path
Set-WsSnapshotValue -Store $s -Hive HKEY_CURRENT_USER -SubKey 'Software\K' -ValueName 'v' -Kind String -Data 'kept'
$null = Save-WsSnapshotStore -Store $s
$t = Open-WsSnapshotStore -LiteralPath $in.path
Write-Result (ConvertTo-Plain (Get-WsSnapshotState -Store $t -Hive HKEY_CURRENT_USER -SubKey 'Software\K' -ValueName 'v'))
`, { path: file });
  assert.is(r.Data, 'kept');
  assert.is(fs.readFileSync(file, 'utf8'), input.replace('\n\n[HKEY_CURRENT_USER\\Software\\Z]', '\n\n[HKEY_CURRENT_USER\\Software\\K]\n"v"="kept"\n\n[HKEY_CURRENT_USER\\Software\\Z]'));
});

test('Remove key removes descendants only; removing absent things leaves the store clean', async () => {
  const sb = sandbox();
  const file = writeReg(sb, 'rm.reg', Buffer.from('Windows Registry Editor Version 5.00\n\n' +
    '[HKEY_LOCAL_MACHINE\\Software\\A]\n"v"=dword:00000001\n\n[HKEY_LOCAL_MACHINE\\Software\\A\\B]\n\n' +
    '[HKEY_LOCAL_MACHINE\\Software\\A\\B\\C]\n\n[HKEY_LOCAL_MACHINE\\Software\\A B]\n\n', 'utf8'));
  const r = await runPs(sb, String.raw`
$s = Open-WsSnapshotStore -LiteralPath (Read-Input).path
Remove-WsSnapshotKey -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\Nope'
Remove-WsSnapshotValue -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\Nope' -ValueName 'v'
Remove-WsSnapshotValue -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\A' -ValueName 'nope'
$res = @{ dirtyAfterAbsent = $s.Dirty }
Remove-WsSnapshotKey -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'software\a'
$res.dirty = $s.Dirty
$res.keys = @($s.KeyMap.get_Keys())
$res.exists = @(foreach ($k in 'Software\A', 'Software\A\B\C', 'Software\A B', 'Software') {
    (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey $k).KeyExists
})
Write-Result $res
`, { path: file });
  assert.is(r.dirtyAfterAbsent, false);
  assert.is(r.dirty, true);
  assert.equal(r.keys, ['HKEY_LOCAL_MACHINE\\Software\\A B']);
  assert.equal(r.exists, [false, false, true, true]);
});

test('Save without changes touches nothing; a save leaves no temp file, even when it fails', async () => {
  const sb = sandbox();
  const file = copyIn(sb, fixture, 'sce.reg');
  const old = new Date('2001-02-03T04:05:06Z');
  fs.utimesSync(file, old, old);
  const r = await runPs(sb, String.raw`
$in = Read-Input
$s = Open-WsSnapshotStore -LiteralPath $in.path
$null = Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'SOFTWARE' -ValueName 'x'
Remove-WsSnapshotValue -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'SOFTWARE\Nope' -ValueName 'x'
New-WsSnapshotKey -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'SOFTWARE\Microsoft'
$res = @{ unchanged = Save-WsSnapshotStore -Store $s }
Set-WsSnapshotValue -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'SOFTWARE\Winstate' -ValueName 'v' -Kind DWord -Data 1
$res.changed = Save-WsSnapshotStore -Store $s
# Point the store at a directory: the swap fails and the temp file must be cleaned up.
$s.Path = $in.blocked
$s.Dirty = $true
try { $null = Save-WsSnapshotStore -Store $s; $res.error = $null } catch { $res.error = $_.Exception.Message }
Write-Result $res
`, { path: file, blocked: sb.regDir });
  assert.is(r.unchanged, false);
  assert.is(r.changed, true);
  assert.match(r.error, /^Cannot save snapshot/);
  assert.equal(fs.readdirSync(sb.regDir), ['sce.reg'], 'no temp file remains');
  assert.not.ok(fs.readFileSync(file).equals(fs.readFileSync(fixture)), 'the changed save did write');

  // Separately: with no change, bytes and mtime stay.
  const sb2 = sandbox();
  const file2 = copyIn(sb2, fixture, 'sce.reg');
  fs.utimesSync(file2, old, old);
  const r2 = await runPs(sb2, String.raw`
$s = Open-WsSnapshotStore -LiteralPath (Read-Input).path
Remove-WsSnapshotKey -Store $s -Hive HKEY_USERS -SubKey 'Nope'
Write-Result (Save-WsSnapshotStore -Store $s)
`, { path: file2 });
  assert.is(r2, false);
  assert.is(fs.statSync(file2).mtime.getTime(), old.getTime());
  assert.ok(fs.readFileSync(file2).equals(fs.readFileSync(fixture)));
});

test('hex lists wrap like regedit', async () => {
  const sb = sandbox();
  const file = writeReg(sb, 'wrap.reg', utf16('Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\Software\\W]\r\n\r\n'));
  const longName = 'n'.repeat(80);
  await runPs(sb, String.raw`
$in = Read-Input
$s = Open-WsSnapshotStore -LiteralPath $in.path
$bytes = [byte[]]::new(100); for ($i = 0; $i -lt 100; $i++) { $bytes[$i] = $i }
Set-WsSnapshotValue -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\W' -ValueName 'x' -Kind Binary -Data $bytes
Set-WsSnapshotValue -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'Software\W' -ValueName $in.longName -Kind Binary -Data $bytes[0..2]
Write-Result (Save-WsSnapshotStore -Store $s)
`, { path: file, longName });
  const lines = readUtf16(file).split('\r\n');
  const x = lines.findIndex((l) => l.startsWith('"x"=hex:'));
  // 8 characters of prefix + 23 bytes of "xx," reach 77; continuation lines hold 25 bytes.
  assert.is(lines[x], '"x"=hex:' + Array.from({ length: 23 }, (_, i) => i.toString(16).padStart(2, '0') + ',').join('') + '\\');
  assert.is(lines[x + 1].length, 2 + 25 * 3 + 1);
  // 23 + 3 * 25 = 98 bytes before the last line.
  assert.is(lines[x + 4], '  62,63');
  // A name already past the limit still gets one byte before the first break.
  assert.equal(lines.slice(x + 5, x + 7), [`"${longName}"=hex:00,\\`, '  01,02']);
});

test('malformed input names the file and line', async () => {
  const sb = sandbox();
  const v5 = 'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\Software\\X]\r\n';
  const cases: { body: string; line: number; what: RegExp }[] = [
    { body: v5 + '"a"=foo:12\r\n', line: 4, what: /unknown data form/ },
    { body: v5 + '"a"=hex:zz,01\r\n', line: 4, what: /bad hex/ },
    { body: v5 + '"a"=hex(7):01,0\r\n', line: 4, what: /bad hex/ },
    { body: v5 + '"ok"=dword:1\r\n"a"=dword:123456789\r\n', line: 5, what: /bad dword/ },
    { body: v5 + '"a"="abc\r\n', line: 4, what: /unterminated string/ },
    { body: v5 + '"a"="abc"x\r\n', line: 4, what: /text after the closing quote/ },
    { body: v5 + '"a"=hex:01,\\\r\n\r\n', line: 4, what: /next line is empty/ },
    { body: v5 + '"a"=hex:01,\\', line: 4, what: /past the end/ },
    { body: v5 + '"a"\r\n', line: 4, what: /malformed value/ },
    { body: v5 + 'garbage\r\n', line: 4, what: /unexpected line/ },
    { body: 'Windows Registry Editor Version 5.00\r\n\r\n"a"="b"\r\n', line: 3, what: /value outside a key/ },
    { body: 'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_NOPE\\X]\r\n', line: 3, what: /unknown registry hive 'HKEY_NOPE'/ },
    { body: 'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\X\r\n', line: 3, what: /closing/ },
    { body: '\r\nhello\r\n', line: 2, what: /expected 'Windows Registry Editor Version 5\.00'/ },
  ];
  const files = cases.map((c, i) => writeReg(sb, `bad${i}.reg`, utf16(c.body)));
  const missing = path.join(sb.regDir, 'missing.reg');
  const r = await runPs(sb, String.raw`
$in = Read-Input
$errors = @(foreach ($f in @($in.files) + $in.missing) {
    try { $null = Open-WsSnapshotStore -LiteralPath $f; 'no error' } catch { $_.Exception.Message }
})
Write-Result $errors
`, { files, missing });
  cases.forEach((c, i) => {
    const prefix = `${files[i]}:${c.line}: `;
    assert.ok(r[i].startsWith(prefix), `case ${i}: expected prefix ${prefix}, got ${r[i]}`);
    assert.match(r[i], c.what, `case ${i}`);
  });
  assert.is(r[cases.length], `Snapshot file not found: ${missing}`);
});

test('timing: opening a generated 300-value file in a warm session', async () => {
  const sb = sandbox();
  const out: string[] = ['Windows Registry Editor Version 5.00', ''];
  for (let k = 0; k < 30; k++) {
    out.push(`[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Winstate\\Key${k}]`);
    for (let v = 0; v < 6; v++) out.push(`"DWord${v}"=dword:${(k * 10 + v).toString(16).padStart(8, '0')}`);
    out.push(`"Text"="Setting ${k} \\\\ \\"quoted\\""`, `"Other"="value ${k}"`);
    out.push('"Multi"=hex(7):61,00,00,00,62,00,00,00,00,00');
    out.push('"Bin"=hex:' + Array.from({ length: 40 }, (_, i) => (i + k).toString(16).padStart(2, '0')).join(','));
    out.push('');
  }
  const file = writeReg(sb, 'gen.reg', utf16(out.join('\r\n') + '\r\n'));
  const r = await runPs(sb, String.raw`
$p = (Read-Input).path
$sw = [System.Diagnostics.Stopwatch]::StartNew()
$s = Open-WsSnapshotStore -LiteralPath $p
$first = $sw.Elapsed.TotalMilliseconds
# Warm up: PowerShell compiles a script block only after it has been run a number of times.
for ($i = 0; $i -lt 50; $i++) { $s = Open-WsSnapshotStore -LiteralPath $p }
$sw.Restart()
for ($i = 0; $i -lt 20; $i++) { $s = Open-WsSnapshotStore -LiteralPath $p }
$sw.Stop()
Write-Result @{ values = Get-ValueCount $s; first = $first; ms = $sw.Elapsed.TotalMilliseconds / 20; bin = ConvertTo-Plain (Get-WsSnapshotState -Store $s -Hive HKEY_LOCAL_MACHINE -SubKey 'SOFTWARE\Policies\Winstate\Key29' -ValueName 'Bin') }
`, { path: file });
  assert.is(r.values, 300);
  assert.is(r.bin.Data.length, 80);
  console.log(`  snapshot store, 300-value file: first open ${r.first.toFixed(1)} ms; warm ${r.ms.toFixed(2)} ms per open (mean of 20 after 50 warm-up opens)`);
});

test.run();
