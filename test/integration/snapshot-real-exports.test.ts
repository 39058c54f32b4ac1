import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { planFromYaml, tempDir } from '../helpers.js';
import { readRegFile, type RegEntry, type RegFile } from '../reg-reader.js';

// Every vendored export (test/fixtures/reg/README.md says where each comes from) is read, applied
// without change, changed in one value and rolled back, and judged by the independent reader.
const FIXTURES = [
  'plus3it_sceWin8.reg',
  'wine_regedit_alltypes.reg',
  'mscs_sideshow_Pictures.reg',
  'mscs_appmem_AppMem.reg',
  'conemu_FarWhite.reg',
  'conemu_Settings-ConEmu.reg',
  'conemu_Far2_ShiftEnter.reg',
  'raphire_Enable_Game_Bar_Integration.reg',
  'raphire_Sysprep_Disable_Animations.reg',
];

const engine = new Engine({ stateDir: tempDir() });
test.after(() => engine.close());

/** A fresh copy of a fixture, so tests can write to it. */
function copyOf(fixture: string): string {
  const file = join(tempDir(), fixture);
  copyFileSync(join('test', 'fixtures', 'reg', fixture), file);
  return file;
}

/** UTF-16LE code units as they are (lone surrogates too), an odd last byte padded with zero. */
function utf16Units(bytes: Buffer): string {
  const padded = bytes.length % 2 === 0 ? bytes : Buffer.concat([bytes, Buffer.alloc(1)]);
  let out = '';
  for (let i = 0; i < padded.length; i += 2) out += String.fromCharCode(padded.readUInt16LE(i));
  return out;
}

/**
 * What reading the value through the registry API gives (RegistryKey.GetValue), worked out from
 * the independent reader's type and bytes: one terminating NUL dropped from strings, the list
 * terminator from multi-strings; sizes a type does not fit and unknown types stay raw bytes.
 */
function expectedActual(entry: RegEntry, reg: RegFile): { valueType: string; valueData: unknown } {
  const bytes = Buffer.from(entry.hex, 'hex');
  const text = () => (entry.quoted || reg.encoding !== 'windows-1252' ? utf16Units(bytes) : new TextDecoder('windows-1252').decode(bytes));
  if (entry.type === 1 || entry.type === 2) {
    const s = text().replace(/\0$/, '');
    return { valueType: entry.type === 1 ? 'String' : 'ExpandString', valueData: s };
  }
  if (entry.type === 7) {
    let s = text().replace(/\0$/, '');
    if (s === '') return { valueType: 'MultiString', valueData: [] };
    s = s.replace(/\0$/, '');
    return { valueType: 'MultiString', valueData: s.split('\0') };
  }
  if (entry.type === 3) return { valueType: 'Binary', valueData: entry.hex };
  if (entry.type === 4 && bytes.length === 4) return { valueType: 'DWord', valueData: bytes.readUInt32LE(0) };
  if (entry.type === 11 && bytes.length === 8) return { valueType: 'QWord', valueData: bytes.readBigUInt64LE(0).toString() };
  return { valueType: `Raw${entry.type}`, valueData: entry.hex };
}

/** A document property block, as JSON (valid YAML flow), that sets `entry` to `data` of `valueType`. */
function resource(index: number, entry: RegEntry, valueType: string, valueData: unknown): string {
  const properties: Record<string, unknown> = { key: entry.key, valueName: entry.name };
  if (valueType.startsWith('Raw')) {
    Object.assign(properties, { valueType: 'Binary', typeCode: Number(valueType.slice(3)), valueData });
  } else {
    Object.assign(properties, { valueType, valueData });
  }
  // A QWord is written as a bare integer: the document wants a number, and JSON has none that large.
  const json = JSON.stringify(properties).replace(/"valueData":"(\d+)"}$/, (all, digits: string) => (valueType === 'QWord' ? `"valueData":${digits}}` : all));
  return `  - { name: "v${index}", type: Registry, properties: ${json} }`;
}

const documentOf = (rows: string[]) => planFromYaml(`metadata: { name: real-export }\nresources:\n${rows.join('\n')}\n`);

/** Byte offset in the file of a character offset in the reader's decoded text. */
function byteOffset(reg: RegFile, at: number): number {
  if (reg.encoding === 'utf16le') return reg.bomLength + 2 * at;
  if (reg.encoding === 'windows-1252') return at;
  return reg.bomLength + Buffer.byteLength(reg.text.slice(0, at), 'utf8');
}

/** Where two decoded files first differ, line by line, for a message a person can act on. */
function firstDifference(before: RegFile, after: RegFile): string {
  const a = before.text.split('\n');
  const b = after.text.split('\n');
  const at = a.findIndex((line, i) => line !== b[i]);
  if (at < 0) return b.length === a.length ? 'same text, different bytes' : `line ${a.length + 1}: ${JSON.stringify(b[a.length])} added`;
  return `line ${at + 1}: ${JSON.stringify(a[at])} became ${JSON.stringify(b[at])}`;
}

const idOf = (e: RegEntry) => `${e.key.toLowerCase()}!${e.name.toLowerCase()}`;

/** The value a one-value change rewrites: a DWord from the middle of the file, else a string, else bytes. */
function changeFor(reg: RegFile): { entry: RegEntry; valueType: string; valueData: unknown; hex: string; type: number } {
  const middle = (list: RegEntry[]) => list[Math.floor(list.length / 2)];
  const dword = middle(reg.entries.filter((e) => e.type === 4 && e.hex.length === 8));
  if (dword) {
    const next = (Buffer.from(dword.hex, 'hex').readUInt32LE(0) + 1) % 2 ** 32;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(next);
    return { entry: dword, valueType: 'DWord', valueData: next, hex: b.toString('hex'), type: 4 };
  }
  const text = middle(reg.entries.filter((e) => e.quoted));
  if (text) {
    const value = `${expectedActual(text, reg).valueData as string} (changed)`;
    return { entry: text, valueType: 'String', valueData: value, hex: Buffer.from(`${value}\0`, 'utf16le').toString('hex'), type: 1 };
  }
  const binary = middle(reg.entries.filter((e) => e.type === 3))!;
  const hex = Buffer.from(Buffer.from(binary.hex, 'hex').map((b) => b ^ 0xff)).toString('hex') || '00';
  return { entry: binary, valueType: 'Binary', valueData: hex, hex, type: 3 };
}

for (const fixture of FIXTURES) {
  test(`${fixture}: a test run reads every value as the independent reader does; an apply that changes nothing leaves the file byte for byte`, async () => {
    const file = copyOf(fixture);
    const reg = readRegFile(file);
    assert.ok(reg.entries.length > 0, 'the fixture has values');
    const report = await engine.test(documentOf(reg.entries.map((e, i) => resource(i, e, 'DWord', 0))), { snapshot: file });
    assert.is(report.results.length, reg.entries.length);
    reg.entries.forEach((entry, i) => {
      const result = report.results[i]!;
      assert.equal(result.actual, { ensure: 'Present', ...expectedActual(entry, reg) }, `${entry.key}!${entry.name}`);
    });

    // Every value named with the data it has: nothing drifts, nothing is written. Text holding a
    // lone surrogate has no document form (the document is UTF-8), so those values are left out.
    const same = reg.entries.flatMap((e, i) => {
      const { valueType, valueData } = expectedActual(e, reg);
      if (JSON.stringify(valueData).match(/\\ud[89a-f][0-9a-f]{2}/)) return [];
      return [resource(i, e, valueType, valueData)];
    });
    const applied = await engine.apply(documentOf(same), { snapshot: file });
    assert.equal(applied.plan.map((p) => p.name), [], 'nothing differs');
    assert.ok(readFileSync(file).equals(reg.buffer), 'the file is byte for byte as it was');
  });

  test(`${fixture}: an apply that changes one value changes only that value's lines; rollback restores the bytes`, async () => {
    const file = copyOf(fixture);
    const before = readRegFile(file);
    const change = changeFor(before);
    const applied = await engine.apply(documentOf([resource(0, change.entry, change.valueType, change.valueData)]), { snapshot: file });
    assert.ok(applied.converged, JSON.stringify(applied.verify?.results[0]));
    assert.ok(applied.runId);

    const after = readRegFile(file);
    const changedId = idOf(change.entry);
    const values = (reg: RegFile) => new Map(reg.entries.map((e) => [idOf(e), `${e.type}:${e.hex}`]));
    const expected = values(before);
    expected.set(changedId, `${change.type}:${change.hex}`);
    assert.equal([...values(after)].sort(), [...expected].sort(), 'every other value is as it was');
    assert.equal(after.keys, before.keys, 'the same keys in the same order');

    // Outside the changed value's lines the bytes are the original ones. Every check runs and
    // all that fail are reported together, so one run shows the whole of what a file breaks.
    const problems: string[] = [];
    const check = (ok: boolean, message: string) => ok || problems.push(message);
    const head = before.buffer.subarray(0, byteOffset(before, change.entry.start));
    const tail = before.buffer.subarray(byteOffset(before, change.entry.end));
    const changedLines = after.entries.find((e) => idOf(e) === changedId)!;
    const where = `${change.entry.name} changed; first difference at ${firstDifference(before, after)}`;
    check(after.buffer.subarray(0, head.length).equals(head), `the bytes before the changed value are not the original ones (${where})`);
    check(after.buffer.subarray(after.buffer.length - tail.length).equals(tail), 'the bytes after the changed value are not the original ones');
    check(byteOffset(after, changedLines.start) === head.length && after.buffer.length - byteOffset(after, changedLines.end) === tail.length, 'the new lines do not stand where the old ones stood');

    const rolledBack = await engine.rollback(applied.runId!, { target: file });
    check(rolledBack.report.converged, 'the rollback did not converge');
    const restored = readRegFile(file);
    check(restored.buffer.equals(before.buffer), `rollback did not restore the file byte for byte (first difference at ${firstDifference(before, restored)})`);
    assert.equal(problems, []);
  });
}

test('a REGEDIT4 export in plain ASCII stays in the ANSI code page: new text is written as regedit would read it back', async () => {
  // ASCII is valid UTF-8 too, but REGEDIT4 files are read by regedit in the ANSI code page, so
  // 'café' written as UTF-8 would come back as 'cafÃ©'.
  const file = copyOf('conemu_Far2_ShiftEnter.reg');
  const before = readRegFile(file);
  assert.is(before.header, 'REGEDIT4');
  assert.ok(!/[^\x00-\x7f]/.test(before.text), 'the export is plain ASCII');
  const key = 'HKEY_CURRENT_USER\\Software\\Far2\\KeyMacros\\Search\\ShiftEnter';
  const applied = await engine.apply(planFromYaml(`metadata: { name: ansi }\nresources:\n  - { name: text, type: Registry, properties: { key: '${key}', valueName: Description, valueType: String, valueData: "café" } }\n`), { snapshot: file });
  assert.ok(applied.converged);
  const bytes = readFileSync(file);
  assert.ok(bytes.includes(Buffer.from('"Description"="caf\xe9"', 'latin1')), 'é is the code page byte E9');
  assert.not.ok(bytes.includes(Buffer.from('caf\xc3\xa9', 'latin1')), 'not the UTF-8 bytes C3 A9');
});

test('the fixtures cover the layouts the snapshot reader has to read', () => {
  const regs = FIXTURES.map((f) => readRegFile(join('test', 'fixtures', 'reg', f)));
  const types = new Set(regs.flatMap((r) => r.entries.map((e) => e.type)));
  for (const type of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 256]) assert.ok(types.has(type), `a value of type ${type}`);
  assert.ok(regs.some((r) => r.header === 'REGEDIT4' && r.encoding === 'windows-1252'), 'a REGEDIT4 export in an ANSI code page');
  assert.ok(regs.some((r) => r.encoding === 'utf16le' && r.text.includes('\r\n')), 'a UTF-16LE export with CRLF');
  assert.ok(regs.some((r) => r.encoding === 'utf16le' && !r.text.includes('\r\n')), 'a UTF-16LE file with LF only');
  assert.ok(regs.some((r) => r.encoding === 'utf8' && !r.text.includes('\r\n')), 'an 8-bit file with LF only');
  assert.ok(regs.some((r) => /^\[-HKEY_/m.test(r.text)), 'a removed key');
  assert.ok(regs.some((r) => /^"[^"\r\n]*"=-\r?$/m.test(r.text)), 'a removed value');
  assert.ok(regs.some((r) => /^;/m.test(r.text)), 'comments');
});

test.run();
