// Values RegistryKey cannot write (REG_NONE, REG_LINK, a resource list, an odd-sized DWORD, a
// type code beyond QWORD, text with a NUL) overwritten by an apply on the live registry, then put
// back by rollback byte for byte. Written and compared with reg.exe, an independent reader.
import { underWine, deleteTree, invokeLive } from './live-env.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PwshSession } from '../../src/bridge/session.js';
import { ps } from '../../src/compile/quote.js';
import type { ApplyReport } from '../../src/engine/results.js';
import { runCli, shareCliSession, tempDir } from '../helpers.js';

// apply and rollback share one PowerShell under Wine; `direct` (reg.exe) is a process of its own.
shareCliSession(test.after);

const TAG = randomBytes(4).toString('hex');
const KEY = `HKCU\\Software\\winstate-raw-${TAG}`;
const direct = new PwshSession();
const dir = tempDir();
test.after(async () => {
  await deleteTree(direct, KEY);
  await direct.close();
});

/** The path PowerShell on Windows (or under Wine) uses for a file here. */
const windowsPath = (file: string) => (underWine ? `Z:${file.replace(/\//g, '\\')}` : file);

async function reg(...args: string[]): Promise<void> {
  const result = await invokeLive(direct, ps`$out = & (Join-Path ([System.Environment]::SystemDirectory) 'reg.exe') @(${args}) 2>&1; if ($LASTEXITCODE -ne 0) { throw ('reg.exe failed: ' + ($out -join ' ')) }; 'ok'`);
  if (!result.ok) throw result.error!;
}

async function exportKey(name: string): Promise<Buffer> {
  const file = join(dir, name);
  await reg('export', KEY, windowsPath(file), '/y');
  return readFileSync(file);
}

const VALUES: [string, string][] = [
  ['None', 'hex(0):01,02,03'],
  ['Link', 'hex(6):5c,00,52,00,65,00,67,00'],
  ['Resources', 'hex(8):00,01,02,03,04,05,06,07'],
  ['OddDword', 'hex(4):01,02,03'],
  ['Beyond', 'hex(c):ff,ee'],
  ['TextNul', 'hex(1):41,00,00,00,42,00,00,00'],
];

test('apply overwrites six values RegistryKey cannot write; rollback puts each back byte for byte', async () => {
  const fixture = join(dir, 'before-import.reg');
  const lines = ['Windows Registry Editor Version 5.00', '', `[HKEY_CURRENT_USER\\${KEY.slice('HKCU\\'.length)}]`, ...VALUES.map(([n, v]) => `"${n}"=${v}`), ''];
  writeFileSync(fixture, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(lines.join('\r\n'), 'utf16le')]));
  await reg('import', windowsPath(fixture));
  const before = await exportKey('before.reg');
  for (const [name] of VALUES) assert.ok(before.toString('utf16le').includes(`"${name}"=`), `${name} was imported`);

  const doc = join(dir, 'raw.yaml');
  writeFileSync(doc, `metadata: { name: live-raw }\nresources:\n${VALUES.map(([n]) => `  - { name: overwrite ${n}, type: Registry, properties: { key: '${KEY}', valueName: ${n}, valueType: DWord, valueData: 7 } }`).join('\n')}\n`);
  const applied = await runCli(['apply', doc, '--json']);
  assert.is(applied.code, 0, applied.stderr);
  assert.is((JSON.parse(applied.stdout) as ApplyReport).set!.summary.changed, VALUES.length);
  assert.not.ok((await exportKey('changed.reg')).equals(before), 'the apply changed the values');

  const rolled = await runCli(['rollback', 'latest']);
  assert.is(rolled.code, 0, `${rolled.stdout}\n${rolled.stderr}`);
  assert.not.match(rolled.stdout, /cannot restore/);
  const after = await exportKey('after.reg');
  assert.is(after.toString('utf16le'), before.toString('utf16le'));
});

test.run();
