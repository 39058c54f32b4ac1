// Every registry-backed Security Option that the Security Configuration Editor registers (SeCEdit\Reg Values,
// from a genuine regedit export) has a catalog entry at the same registry value, with the same type and,
// for choice settings, only data values the editor offers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isRegistryEntry, loadCatalog, type RegistryCatalogEntry as CatalogEntry } from '../../src/catalog/catalog.js';

const REG_FILE = resolve(process.cwd(), 'test', 'fixtures', 'reg', 'plus3it_sceWin8.reg');
const REG_VALUES = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\SeCEdit\\Reg Values\\';

// Where an entry's type differs from the registration, and why (registry key \ value name, as in the file).
const TYPE_DIFFERS: Record<string, string> = {
  // The editor offers the banner text as several lines (ValueType 7), but Windows stores the policy as
  // one REG_SZ value, which is also what the STIG checks.
  'HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\LegalNoticeText': 'String',
};

const VALUE_TYPES: Record<number, NonNullable<CatalogEntry['registry']>['valueType']> = { 1: 'String', 3: 'Binary', 4: 'DWord', 7: 'MultiString' };

interface Registration {
  /** HKLM\<key>\<value name>, as the file spells it. */
  path: string;
  valueType: number;
  displayChoices?: string[];
}

/** Parses the SeCEdit registrations out of a regedit export (UTF-16LE). */
function parseRegistrations(file: string): Registration[] {
  const text = readFileSync(file).toString('utf16le').replace(/^\uFEFF/, '').replace(/\\\r?\n[ \t]*/g, '');
  const regs: Registration[] = [];
  let current: Registration | undefined;
  for (const line of text.split(/\r?\n/)) {
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      current = undefined;
      const name = header[1]!;
      if (name.toLowerCase().startsWith(REG_VALUES.toLowerCase())) {
        const rel = name.slice(REG_VALUES.length);
        assert.ok(/^MACHINE\//i.test(rel), `unexpected registration root: ${rel}`);
        current = { path: 'HKLM\\' + rel.replace(/^MACHINE\//i, '').replace(/\//g, '\\'), valueType: NaN };
        regs.push(current);
      }
      continue;
    }
    const value = /^"([^"]*)"=(.*)$/.exec(line);
    if (!value || !current) continue;
    const [, name, data] = value as unknown as [string, string, string];
    if (name === 'ValueType') current.valueType = parseInt(data.replace(/^dword:/, ''), 16);
    if (name === 'DisplayChoices') {
      assert.ok(data.startsWith('hex(7):'), `${current.path}: DisplayChoices is a multi-string`);
      const bytes = Buffer.from(data.slice('hex(7):'.length).split(',').map((b) => parseInt(b, 16)));
      current.displayChoices = bytes.toString('utf16le').split('\0').filter(Boolean).map((item) => item.slice(0, item.indexOf('|')));
    }
  }
  return regs;
}

const registrations = parseRegistrations(REG_FILE);
const entries = loadCatalog().entries.filter(isRegistryEntry);
const pathOf = (e: CatalogEntry): string => `${e.registry.key}\\${e.registry.valueName}`.toLowerCase();
const entriesFor = (r: Registration): CatalogEntry[] => entries.filter((e) => pathOf(e) === r.path.toLowerCase());
const typeDiffers = new Map(Object.entries(TYPE_DIFFERS).map(([k, v]) => [k.toLowerCase(), v]));

test('the export holds 89 registrations, each with a known value type', () => {
  assert.is(registrations.length, 89);
  assert.is(new Set(registrations.map((r) => r.path.toLowerCase())).size, 89, 'no registration is listed twice');
  for (const r of registrations) assert.ok(VALUE_TYPES[r.valueType], `${r.path}: ValueType ${r.valueType}`);
  assert.is(registrations.filter((r) => r.displayChoices).length, 18, 'choice settings carry DisplayChoices');
});

test('every registration has exactly one catalog entry, with the same value type', () => {
  const missing: string[] = [];
  for (const r of registrations) {
    const found = entriesFor(r);
    if (found.length === 0) {
      missing.push(r.path);
      continue;
    }
    assert.is(found.length, 1, `${r.path}: ${found.map((e) => e.id).join(', ')}`);
    const e = found[0]!;
    assert.is(e.registry!.valueType, typeDiffers.get(r.path.toLowerCase()) ?? VALUE_TYPES[r.valueType], `${e.id}: value type`);
    assert.is(e.kind, 'SecurityOption', `${e.id}: kind`);
  }
  assert.equal(missing, []);
});

test("an entry's choice data are among the values the editor offers (DisplayChoices)", () => {
  let checked = 0;
  for (const r of registrations) {
    if (!r.displayChoices) continue;
    for (const e of entriesFor(r)) {
      if (!e.choices) continue;
      const offered = new Set(r.displayChoices);
      for (const c of e.choices) assert.ok(offered.has(String(c.data)), `${e.id} ${c.name}: data ${JSON.stringify(c.data)} is not in ${[...offered].join(', ')}`);
      checked++;
    }
  }
  assert.is(checked, 18, 'every choice setting with an entry is checked');
});

test('the type exceptions name registrations that exist', () => {
  for (const path of Object.keys(TYPE_DIFFERS)) assert.ok(registrations.some((r) => r.path.toLowerCase() === path.toLowerCase()), `${path} is not registered in the export`);
});

test.run();
