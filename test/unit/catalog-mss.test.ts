// The MSS (Legacy) settings: every "MSS:" setting that the Security Configuration Editor update registers
// (test/fixtures/mss, vendored from plus3it/ash-windows-formula) has exactly one catalog entry of kind MSS
// at the same registry value, with the same type, the editor's title and, for boolean and choice settings,
// the editor's choices; and the catalog has no MSS entry the update does not register.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isRegistryEntry, loadCatalog, type RegistryCatalogEntry as CatalogEntry } from '../../src/catalog/catalog.js';
import { normaliseData } from '../../src/kinds/registry/data.js';
import { meetsCondition, parseCondition } from '../../src/kinds/condition.js';
import type { WireData } from '../../src/kinds/registry/model.js';

const FIXTURES = resolve(process.cwd(), 'test', 'fixtures', 'mss');
const GPO_PATH = 'Computer Configuration\\Administrative Templates\\MSS (Legacy)';

/** regType of the registration: 1 REG_SZ, 4 REG_DWORD. */
const VALUE_TYPES: Record<number, NonNullable<CatalogEntry['registry']>['valueType']> = { 1: 'String', 4: 'DWord' };

interface Registration {
  /** HKLM\<key>, as the file spells it. */
  key: string;
  /** Trimmed: the source writes the Tcpip6 TcpMaxDataRetransmissions name with a trailing blank. */
  valueName: string;
  valueType: NonNullable<CatalogEntry['registry']>['valueType'];
  /** 0 boolean, 1 number, 3 choice list. */
  displayType: number;
  title: string;
  /** Boolean and choice settings: display name -> registry data (string data for REG_SZ). */
  choices?: Map<string, WireData>;
}

interface Strings {
  text: Map<string, string>;
  /** Ids whose value has no closing quote (a quirk of the source file). */
  unterminated: string[];
}

const lines = (file: string): string[] =>
  readFileSync(resolve(FIXTURES, file), 'utf8')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '' && !line.startsWith(';'));

/**
 * `Id = "text"`, sometimes without blanks around '=' and with a blank after the closing quote. One
 * string (NtfsDisable8dot3NameCreation2) lacks its closing quote: its text runs to the end of the line.
 */
function parseStrings(file: string): Strings {
  const text = new Map<string, string>();
  const unterminated: string[] = [];
  for (const line of lines(file)) {
    const m = /^(\w+)\s*=\s*"([^"]*)("?)\s*$/.exec(line);
    assert.ok(m, `unparsed string line: ${line}`);
    const [, id, value, close] = m!;
    assert.not.ok(text.has(id!), `string ${id} is defined twice`);
    if (!close) unterminated.push(id!);
    text.set(id!, close ? value! : value!.trimEnd());
  }
  return { text, unterminated };
}

/**
 * `MACHINE\<key>\<valueName>,<regType>,%<StringId>%,<displayType>[,<data>|%<choiceStringId>%...]`. Some
 * lines end in a blank, and one value name (Tcpip6 TcpMaxDataRetransmissions) is followed by a blank
 * before its comma: both are trimmed away.
 */
function parseValues(file: string, strings: Strings): { regs: Registration[]; paddedNames: string[] } {
  const str = (ref: string): string => {
    const m = /^%(\w+)%$/.exec(ref.trim());
    assert.ok(m, `not a string reference: ${ref}`);
    const value = strings.text.get(m![1]!);
    assert.ok(value !== undefined, `string ${ref} is not defined`);
    return value!;
  };
  const regs: Registration[] = [];
  const paddedNames: string[] = [];
  for (const line of lines(file)) {
    const [path, regType, titleRef, displayType, ...choiceFields] = line.trimEnd().split(',');
    assert.ok(path && regType && titleRef && displayType, `unparsed value line: ${line}`);
    const m = /^MACHINE\\(.+)\\([^\\]+)$/i.exec(path!);
    assert.ok(m, `registration outside MACHINE: ${path}`);
    const valueName = m![2]!.trim();
    if (valueName !== m![2]) paddedNames.push(valueName);
    const valueType = VALUE_TYPES[Number(regType)];
    assert.ok(valueType, `${path}: regType ${regType}`);
    const reg: Registration = { key: `HKLM\\${m![1]}`, valueName, valueType: valueType!, displayType: Number(displayType), title: str(titleRef!) };
    const asData = (n: number): WireData => (valueType === 'String' ? String(n) : n);
    if (reg.displayType === 0) {
      assert.equal(choiceFields, [], `${path}: a boolean lists no choices`);
      reg.choices = new Map([['Enabled', asData(1)], ['Disabled', asData(0)]]);
    } else if (reg.displayType === 3) {
      assert.ok(choiceFields.length > 0, `${path}: a choice list lists choices`);
      reg.choices = new Map();
      for (const field of choiceFields) {
        const [data, ref] = field.split('|');
        assert.ok(/^\d+$/.test(data!.trim()) && ref, `${path}: choice ${field}`);
        const name = str(ref!);
        assert.not.ok(reg.choices.has(name), `${path}: choice name ${name} twice`);
        reg.choices.set(name, asData(Number(data)));
      }
    } else {
      assert.is(reg.displayType, 1, `${path}: displayType ${displayType}`);
      assert.equal(choiceFields, [], `${path}: a number lists no choices`);
    }
    regs.push(reg);
  }
  return { regs, paddedNames };
}

const strings = parseStrings('Strings-sceregvl.txt');
const { regs: registrations, paddedNames } = parseValues('Values-sceregvl.txt', strings);
const catalog = loadCatalog();
const entries = catalog.entries.filter(isRegistryEntry);
const mss = entries.filter((e) => e.kind === 'MSS');

const locationOf = (key: string, valueName: string): string => `${key}\\${valueName}`.toLowerCase();
const entryLocation = (e: CatalogEntry): string => locationOf(e.registry!.key, e.registry!.valueName);
const regLocation = (r: Registration): string => locationOf(r.key, r.valueName);

test('the update registers 22 MSS settings, each with a title from the Strings file, quirks included', () => {
  assert.is(registrations.length, 22);
  assert.is(new Set(registrations.map(regLocation)).size, 22, 'no registry value is registered twice');
  assert.is(new Set(registrations.map((r) => r.title)).size, 22, 'no title is used twice');
  for (const r of registrations) assert.ok(r.title.startsWith(`MSS: (${r.valueName}`), `${r.key}\\${r.valueName}: title ${r.title}`);
  assert.equal(paddedNames, ['TcpMaxDataRetransmissions'], 'the one value name padded with a blank');
  assert.equal(strings.unterminated, ['NtfsDisable8dot3NameCreation2'], 'the one string without a closing quote');
  assert.equal(
    registrations.map((r) => r.displayType).reduce((n, t) => ({ ...n, [t]: (n[t] ?? 0) + 1 }), {} as Record<number, number>),
    { 0: 11, 1: 3, 3: 8 },
    'booleans, numbers and choice lists',
  );
  assert.equal(registrations.filter((r) => r.valueType === 'String').map((r) => r.valueName), ['AutoAdminLogon', 'ScreenSaverGracePeriod']);
});

test('every registration has exactly one MSS catalog entry, with its type, title and choices', () => {
  for (const r of registrations) {
    const found = entries.filter((e) => entryLocation(e) === regLocation(r));
    assert.is(found.length, 1, `${r.key}\\${r.valueName}: entries ${found.map((e) => e.id).join(', ') || 'none'}`);
    const e = found[0];
    if (!e) continue;
    assert.is(e.kind, 'MSS', `${e.id}: kind`);
    assert.is(e.registry!.valueType, r.valueType, `${e.id}: value type`);
    assert.is(e.title, r.title, `${e.id}: title`);
    assert.is(e.gpoPath, GPO_PATH, `${e.id}: gpoPath`);
    assert.is(e.area, 'MSS (Legacy)', `${e.id}: area`);
    if (r.choices) {
      const byName = (pairs: [string, WireData][]): [string, WireData][] => [...pairs].sort((a, b) => a[0].localeCompare(b[0]));
      assert.equal(byName((e.choices ?? []).map((c) => [c.name, c.data])), byName([...r.choices]), `${e.id}: choices`);
    } else {
      assert.is(e.choices, undefined, `${e.id}: a number setting offers no named choices`);
    }
  }
});

test('every MSS entry in the catalog is one of the registrations', () => {
  const registered = new Set(registrations.map(regLocation));
  for (const e of mss) assert.ok(registered.has(entryLocation(e)), `${e.id}: ${e.registry!.key}\\${e.registry!.valueName} is not an MSS registration`);
  assert.is(mss.length, registrations.length, 'one MSS entry per registration');
});

test('every MSS entry resolves by id and title, and its recommended value resolves to data the setting accepts', () => {
  let recommended = 0;
  for (const e of mss) {
    assert.is(catalog.find(e.id), e, `${e.id}: found by id`);
    assert.is(catalog.find(e.title), e, `${e.id}: found by title`);
    if (e.recommended === undefined) continue;
    recommended++;
    let data: WireData | undefined;
    if (typeof e.recommended === 'string') {
      data = e.choices?.find((c) => c.name === e.recommended)?.data;
      assert.ok(data !== undefined, `${e.id}: recommended '${e.recommended}' names none of its choices`);
    } else {
      data = e.recommended.valueData;
      if (e.choices) assert.ok(e.choices.some((c) => c.data === data), `${e.id}: recommended data ${JSON.stringify(data)} is one of the editor's choices`);
      if (e.recommended.condition) {
        const parsed = parseCondition(e.recommended.condition, e.registry!.valueType);
        assert.ok(parsed.ok, `${e.id}: condition parses`);
        if (parsed.ok) assert.ok(meetsCondition(parsed.condition, e.registry!.valueType, data!), `${e.id}: recommended data meets its condition`);
      }
    }
    if (data === undefined) continue;
    const normalised = normaliseData(e.registry!.valueType, data);
    assert.ok(normalised.ok, `${e.id}: recommended data ${JSON.stringify(data)} is not ${e.registry!.valueType} data`);
    if (normalised.ok) assert.equal(normalised.data, data, `${e.id}: recommended data in wire form`);
  }
  assert.ok(recommended >= 13, `only ${recommended} MSS entries state a recommendation`);
});

test.run();
