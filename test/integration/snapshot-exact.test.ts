import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { compilePlan } from '../../src/compile/emit.js';
import { planFromYaml, runCli, shareCliSession, sharedSession, tempDir } from '../helpers.js';
import { readRegValues } from '../reg-reader.js';

shareCliSession(test.after);

const session = sharedSession();

const utf16 = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);

/** Values of every awkward kind, as regedit (or Wine) writes them. */
const AWKWARD = [
  'Windows Registry Editor Version 5.00',
  '',
  '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Exact]',
  '"Lone"="a \ud800 b"',
  '"Two lines"="first\r\nsecond"',
  '"None"=hex(0):01,02,03',
  '"Odd dword"=hex(4):01,02,03',
  '"Link"=hex(6):5c,00,3f,00',
  '"Resources"=hex(8):01,00,00,00',
  '"Nul"=hex(1):61,00,00,00,62,00,00,00',
  '"No terminator"=hex(1):61,00,62,00',
  '"Upper"=hex:0A,FF',
  '"Wrapped"=hex:00,01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,10,11,12,13,14,15,16,17,\\',
  '  18,19',
  '"Name\\0with NUL"=dword:00000001',
  '"Num"=dword:00000005',
  '',
  '',
].join('\r\n');

const CHANGE = `metadata: { name: exact }
resources:
  - { name: num, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Exact', valueName: Num, valueType: DWord, valueData: 6 } }
`;

test('values a run does not touch keep their exact bytes (lone surrogates, strings over two lines, odd types)', async () => {
  const dir = tempDir();
  const file = join(dir, 'exact.reg');
  writeFileSync(file, utf16(AWKWARD));
  const doc = join(dir, 'exact.yaml');
  writeFileSync(doc, CHANGE);
  const r = await runCli(['set', doc, '--snapshot', file, '--state-dir', join(dir, 'state')]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(readFileSync(file).equals(utf16(AWKWARD.replace('"Num"=dword:00000005', '"Num"=dword:00000006'))), 'only the changed line differs');
});

test('a string that runs over two physical lines is read as one value with its line break', async () => {
  const dir = tempDir();
  const file = join(dir, 'exact.reg');
  writeFileSync(file, utf16(AWKWARD));
  const doc = join(dir, 'two.yaml');
  writeFileSync(doc, `metadata: { name: two }\nresources:\n  - { name: two, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Exact', valueName: Two lines, valueType: String, valueData: "first\\r\\nsecond" } }\n`);
  const r = await runCli(['test', doc, '--snapshot', file, '--json']);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.is(JSON.parse(r.stdout).results[0].actual.valueData, 'first\r\nsecond');
});

test('rollback puts back every kind of value byte for byte; a name it cannot express is reported, exit non-zero', async () => {
  const dir = tempDir();
  const file = join(dir, 'exact.reg');
  // The same values again in a subkey the run removes whole: restored from its removed tree.
  const values = AWKWARD.slice(AWKWARD.indexOf(']\r\n') + 3).trimEnd();
  writeFileSync(file, utf16(`${AWKWARD}[HKEY_LOCAL_MACHINE\\SOFTWARE\\Exact\\Sub]\r\n${values}\r\n\r\n`));
  const prior = readRegValues(file);
  const names = ['Lone', 'Two lines', 'None', 'Odd dword', 'Link', 'Resources', 'Nul', 'No terminator', 'Upper', 'Wrapped'];
  const rows = names.map((n, i) => `  - { name: r${i}, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Exact', valueName: '${n}', valueType: DWord, valueData: ${i} } }`);
  rows.push("  - { name: gone, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Exact\\Sub', ensure: Absent } }");
  const doc = join(dir, 'overwrite.yaml');
  writeFileSync(doc, `metadata: { name: overwrite }\nresources:\n${rows.join('\n')}\n`);
  const state = join(dir, 'state');
  const applied = await runCli(['apply', doc, '--snapshot', file, '--state-dir', state]);
  assert.is(applied.code, 0, applied.stderr);
  assert.is(readRegValues(file).has('hkey_local_machine\\software\\exact\\sub'), false);
  const rb = await runCli(['rollback', 'latest', '--state-dir', state]);
  assert.is(rb.code, 4, 'partial restore is never success');
  assert.match(rb.stdout, /cannot restore HKEY_LOCAL_MACHINE\\SOFTWARE\\Exact\\Sub!Name\\u0000with NUL: registry text cannot contain the NUL character/);
  const after = readRegValues(file);
  assert.ok(prior.size >= 26);
  for (const [id, bytes] of prior) {
    if (id.includes('sub!name0with nul')) continue;
    assert.is(after.get(id), bytes, id);
  }
});

test('a REGEDIT4 (ANSI) export refuses text its code page cannot hold before writing; the rest is applied', async () => {
  const dir = tempDir();
  const file = join(dir, 'ansi.reg');
  const original = Buffer.from('REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Ansi]\r\n"Old"="caf\xe9"\r\n\r\n', 'latin1');
  writeFileSync(file, original);
  const doc = join(dir, 'ansi.yaml');
  writeFileSync(doc, `metadata: { name: ansi }
resources:
  - { name: fits, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Ansi', valueName: Fits, valueType: String, valueData: "déjà" } }
  - { name: does not fit, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Ansi', valueName: Wide, valueType: String, valueData: "日本" } }
`);
  const r = await runCli(['set', doc, '--snapshot', file, '--state-dir', join(dir, 'state')]);
  assert.is(r.code, 4, r.stdout + r.stderr);
  assert.match(r.stdout, /Wide.*cannot be stored in .*ansi\.reg: it is a REGEDIT4 file \(code page 1252\)/);
  assert.is(readFileSync(file).toString('latin1'), `${original.toString('latin1')}`.replace('"Old"="caf\xe9"\r\n', '"Old"="caf\xe9"\r\n"Fits"="d\xe9j\xe0"\r\n'));
});

test('snapshot errors read file:line: message, PowerShell position only with --verbose; a directory is named as one', async () => {
  const dir = tempDir();
  const file = join(dir, 'cut.reg');
  writeFileSync(file, utf16('Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Cut]\r\n"Blob"=hex:01,02,\\\r\n'));
  const doc = join(dir, 'cut.yaml');
  writeFileSync(doc, CHANGE);
  const r = await runCli(['test', doc, '--snapshot', file]);
  assert.is(r.code, 1);
  assert.equal(r.stderr.split('\n').filter((l) => l.includes(file) && !/ \(\d+ resources?\) on /.test(l)), [`winstate: ${file}:4: hex data continues with '\\' but the next line is empty (truncated?)`]);
  assert.not.match(r.stderr, /At line|char:|undefined/);
  const verbose = await runCli(['test', doc, '--snapshot', file, '--verbose']);
  assert.match(verbose.stderr, /At .*char:/);
  const folder = join(dir, 'folder.reg');
  mkdirSync(folder);
  const d = await runCli(['test', doc, '--snapshot', folder]);
  assert.is(d.code, 3);
  assert.match(d.stderr, /is a directory, not an exported file/);
});

test('a real regedit export is written back byte for byte when a run changes nothing in it', async () => {
  const dir = tempDir();
  const file = join(dir, 'sce.reg');
  const original = readFileSync(join('test', 'fixtures', 'reg', 'plus3it_sceWin8.reg'));
  writeFileSync(file, original);
  const doc = join(dir, 'add.yaml');
  writeFileSync(doc, `metadata: { name: add }\nresources:\n  - { name: add, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Added', valueName: X, valueType: DWord, valueData: 1 } }\n`);
  const r = await runCli(['set', doc, '--snapshot', file, '--state-dir', join(dir, 'state')]);
  assert.is(r.code, 0, r.stderr);
  const added = readFileSync(file);
  assert.ok(added.length > original.length);
  // Everything but the new key block is as it was, byte for byte.
  const block = Buffer.from('[HKEY_LOCAL_MACHINE\\SOFTWARE\\Added]\r\n"X"=dword:00000001\r\n\r\n', 'utf16le');
  const at = added.indexOf(block);
  assert.ok(at > 0);
  assert.ok(Buffer.concat([added.subarray(0, at), added.subarray(at + block.length)]).equals(original));
  const prior = readRegValues(join('test', 'fixtures', 'reg', 'plus3it_sceWin8.reg'));
  assert.is([...prior.keys()].filter((k) => k.includes('!')).length, 294);
});

/** The exact script, run in this session as by hand, with a lock file we write ourselves. */
async function setWithLock(holder: Record<string, unknown>, token: string): Promise<{ ok: boolean; message: string; file: string; before: Buffer }> {
  const dir = tempDir();
  const file = join(dir, 'fenced.reg');
  writeFileSync(file, utf16(AWKWARD));
  writeFileSync(`${file}.lock`, JSON.stringify({ host: hostname(), processStarted: new Date().toISOString(), document: 'x', since: new Date().toISOString(), ...holder }));
  const r = await session.runScript(compilePlan(planFromYaml(CHANGE)), { Mode: 'Set', RegistrySnapshot: file, OutputFormat: 'Json', LockToken: token, BackupPath: join(dir, 'b.json') });
  return { ok: r.ok, message: r.error?.message ?? '', file, before: utf16(AWKWARD) };
}

test('a writer whose token no longer holds the lock saves nothing and fails loudly', async () => {
  const r = await setWithLock({ pid: process.pid, token: 'someone-else' }, 'mine');
  assert.not.ok(r.ok);
  assert.match(r.message, /no longer holds the target lock .*fenced\.reg\.lock: another writer took it over/);
  assert.ok(readFileSync(r.file).equals(r.before), 'nothing saved');
});

test('a writer whose parent winstate process is gone stops before saving', async () => {
  const gone = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => gone.once('exit', resolve));
  const r = await setWithLock({ pid: process.pid, token: 'mine', parentPid: gone.pid }, 'mine');
  assert.not.ok(r.ok);
  assert.match(r.message, new RegExp(`winstate process ${gone.pid} that started this run is gone`));
  assert.ok(readFileSync(r.file).equals(r.before), 'nothing saved');
});

test.run();
