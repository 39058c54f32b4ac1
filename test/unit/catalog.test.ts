// The catalog: every entry is well formed, and the seed entry agrees with DISA's STIG and OVAL content.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { isRegistryEntry, loadCatalog, type RegistryCatalogEntry as CatalogEntry } from '../../src/catalog/catalog.js';
import { parseKeyPath, type RegistryTarget } from '../../src/kinds/registry/model.js';
import { normaliseData } from '../../src/kinds/registry/data.js';
import { meetsCondition, parseCondition } from '../../src/kinds/condition.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ENTRIES_DIR = join(ROOT, 'src', 'catalog', 'entries');
const ENTRY_SCHEMA = join(ROOT, 'src', 'catalog', 'catalog-entry.schema.json');
const FIXTURES = resolve(process.cwd(), 'test', 'fixtures');
const STIG_XCCDF = join(FIXTURES, 'stig', 'U_MS_Windows_Server_2016_STIG_V2R10_Manual-xccdf.xml');
const OVAL_EXCERPT = join(FIXTURES, 'oval', 'EnableSecuritySignature_excerpt-oval.xml');

const SEED_ID = 'smb-client-signing-if-server-agrees';
const SEED_TITLE = 'Microsoft network client: Digitally sign communications (if server agrees)';

const files = readdirSync(ENTRIES_DIR).filter((f) => f.endsWith('.json')).sort();
// The registry entries; those with a storage block are checked in catalog-kinds.test.ts.
const allEntries = files.map((file) => ({ file, entry: JSON.parse(readFileSync(join(ENTRIES_DIR, file), 'utf8')) as CatalogEntry }));
const entries: { file: string; entry: CatalogEntry }[] = allEntries.filter((e) => isRegistryEntry(e.entry));

function targetOf(entry: CatalogEntry): RegistryTarget {
  const target = parseKeyPath(entry.registry!.key);
  if (typeof target === 'string') throw new Error(`${entry.id}: ${target}`);
  return target;
}

// --- every entry ----------------------------------------------------------------------------------------

test('the entries directory holds only catalog entries, at least the seed', () => {
  assert.ok(files.includes(`${SEED_ID}.json`));
  assert.equal(readdirSync(ENTRIES_DIR).filter((f) => !f.endsWith('.json')), []);
});

test('every entry validates against catalog-entry.schema.json (ajv 2020)', () => {
  const validate = new Ajv2020({ allErrors: true, allowUnionTypes: true }).compile(JSON.parse(readFileSync(ENTRY_SCHEMA, 'utf8')));
  for (const { file, entry } of entries) {
    const ok = validate(entry);
    assert.ok(ok, `${file}: ${JSON.stringify(validate.errors)}`);
  }
  // The schema is not vacuous: a broken copy of the seed fails it.
  const seed = entries.find((e) => e.entry.id === SEED_ID)!.entry;
  const broken = { ...seed, severity: 'critical', extra: true, references: { stig: ['not-a-stig-id'] } };
  assert.not.ok(validate(broken));
  assert.ok(validate.errors!.length >= 3, JSON.stringify(validate.errors));
});

test('ids are unique and each file is named <id>.json', () => {
  const ids = entries.map((e) => e.entry.id);
  assert.is(new Set(ids).size, ids.length, `duplicate ids: ${ids.join(', ')}`);
  for (const { file, entry } of entries) assert.is(file, `${entry.id}.json`);
});

test('titles are unique, ignoring case and blanks', () => {
  const titles = entries.map((e) => e.entry.title.trim().replace(/\s+/g, ' ').toLowerCase());
  assert.is(new Set(titles).size, titles.length);
});

test('every registry key parses', () => {
  for (const { entry } of entries) {
    const target = parseKeyPath(entry.registry!.key);
    assert.type(target, 'object', `${entry.id}: ${String(target)}`);
    assert.ok((target as RegistryTarget).subKey.length > 0, entry.id);
    assert.ok(entry.registry!.valueName.length > 0, `${entry.id}: a policy names a value`);
  }
});

test("every choice's data normalises for the entry's value type, to itself", () => {
  for (const { entry } of entries) {
    const names = (entry.choices ?? []).map((c) => c.name.toLowerCase());
    assert.is(new Set(names).size, names.length, `${entry.id}: choice names must be unique`);
    for (const choice of entry.choices ?? []) {
      const result = normaliseData(entry.registry!.valueType, choice.data);
      assert.ok(result.ok, `${entry.id} ${choice.name}: ${result.ok ? '' : result.message}`);
      if (result.ok) assert.equal(result.data, choice.data, `${entry.id} ${choice.name}: data must be in wire form`);
    }
  }
});

test('recommended and default name existing choices; recommended data complies with its own condition', () => {
  for (const { entry } of entries) {
    const names = (entry.choices ?? []).map((c) => c.name);
    if (typeof entry.recommended === 'string') assert.ok(names.includes(entry.recommended), `${entry.id}: recommended ${entry.recommended}`);
    if (typeof entry.recommended === 'object') {
      const data = normaliseData(entry.registry!.valueType, entry.recommended.valueData);
      assert.ok(data.ok, `${entry.id}: recommended data`);
      if (entry.recommended.condition) {
        const parsed = parseCondition(entry.recommended.condition, entry.registry!.valueType);
        assert.ok(parsed.ok && meetsCondition(parsed.condition, entry.registry!.valueType, entry.recommended.valueData!), `${entry.id}: recommended data meets its condition`);
      }
    }
    if (entry.recommended === undefined) assert.ok(names.length > 0 || entry.siteDefined, `${entry.id}: a setting with no choices needs a recommended value, unless it is site-defined`);
    if (entry.siteDefined) assert.is(entry.recommended, undefined, `${entry.id}: a site-defined setting has no recommendation`);
    if (entry.default !== undefined) assert.ok(names.includes(entry.default), `${entry.id}: default ${entry.default}`);
  }
});

test('loadCatalog accepts every entry', () => {
  const catalog = loadCatalog();
  assert.is(catalog.entries.length, allEntries.length);
});

// --- the seed entry ----------------------------------------------------------------------------------------

const seed = (): CatalogEntry => entries.find((e) => e.entry.id === SEED_ID)!.entry;

test('the seed entry has the facts of the Group Policy setting', () => {
  const e = seed();
  assert.is(e.kind, 'SecurityOption');
  assert.is(e.title, SEED_TITLE);
  assert.is(e.gpoPath, 'Computer Configuration\\Windows Settings\\Security Settings\\Local Policies\\Security Options');
  assert.is(e.registry!.key, 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters');
  assert.is(e.registry!.valueName, 'EnableSecuritySignature');
  assert.is(e.registry!.valueType, 'DWord');
  assert.equal(e.choices!.map((c) => [c.name, c.data]), [['Enabled', 1], ['Disabled', 0]]);
  assert.is(e.recommended, 'Enabled');
});

test('the seed entry carries its STIG, CIS, CCE and OVAL references (CIS from the shipped baseline)', () => {
  assert.not.ok('cis' in seed().references, 'the entry file itself holds no CIS numbers');
  const refs = loadCatalog().find(SEED_ID)!.references;
  for (const id of ['V-73655', 'V-225040', 'WN16-SO-000200']) assert.ok(refs.stig?.includes(id), `stig ${id}`);
  assert.ok(refs.cis?.includes('2.3.8.2'), 'cis 2.3.8.2');
  assert.ok(refs.cce?.includes('CCE-46334-9'), 'CCE-46334-9');
  for (const id of ['oval:org.secpod.oval:def:40264', 'oval:mil.disa.stig.windows:def:1199']) assert.ok(refs.oval?.includes(id), id);
});

// --- cross-check against third-party content ----------------------------------------------------------------------

const decode = (s: string): string =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** `Label: value` from STIG check text, which pads the colon with one or more blanks. */
function field(text: string, label: string): string {
  const m = new RegExp(`^\\s*${label}:\\s*(.*?)\\s*$`, 'm').exec(text);
  assert.ok(m, `no '${label}:' in check-content`);
  return m![1]!;
}

test('the DISA STIG rule WN16-SO-000200 names the same registry value and data', () => {
  assert.ok(existsSync(STIG_XCCDF), `fixture missing: ${STIG_XCCDF}`);
  const xml = readFileSync(STIG_XCCDF, 'utf8');
  const rules = [...xml.matchAll(/<Rule\b[^>]*>([\s\S]*?)<\/Rule>/g)].filter((m) => /<version>\s*WN16-SO-000200\s*<\/version>/.test(m[1]!));
  assert.is(rules.length, 1, 'exactly one Rule with version WN16-SO-000200');
  const rule = rules[0]!;
  const body = rule[1]!;

  const group = [...xml.slice(0, rule.index).matchAll(/<Group id="([^"]+)"/g)].pop();
  assert.is(group?.[1], 'V-225040');
  const idents = [...body.matchAll(/<ident\b[^>]*>([^<]+)<\/ident>/g)].map((m) => m[1]!.trim());
  assert.ok(idents.includes('V-73655'), `idents: ${idents.join(', ')}`);
  assert.ok(decode(/<title>([\s\S]*?)<\/title>/.exec(body)![1]!).includes(SEED_TITLE));

  const check = decode(/<check-content>([\s\S]*?)<\/check-content>/.exec(body)![1]!);
  const e = seed();
  const target = targetOf(e);
  assert.is(field(check, 'Registry Hive'), target.hive);
  const stigPath = field(check, 'Registry Path').replace(/^\\+|\\+$/g, '');
  assert.is(stigPath.toLowerCase(), target.subKey.toLowerCase());
  assert.is(field(check, 'Value Name'), e.registry!.valueName);
  assert.is(field(check, 'Value Type'), 'REG_DWORD');
  assert.is(e.registry!.valueType, 'DWord');
  const valueText = field(check, 'Value');
  const stigValue = /^0x([0-9a-f]+)\s*\((\d+)\)$/i.exec(valueText);
  assert.ok(stigValue, `unexpected Value: ${valueText}`);
  assert.is(parseInt(stigValue![1]!, 16), Number(stigValue![2]));
  const recommended = e.choices!.find((c) => c.name === e.recommended)!;
  assert.is(recommended.data, Number(stigValue![2]));
  assert.is(recommended.data, 1);
});

test('the DISA OVAL definition 1199 checks the same registry value for reg_dword 1', () => {
  assert.ok(existsSync(OVAL_EXCERPT), `fixture missing: ${OVAL_EXCERPT}`);
  const xml = readFileSync(OVAL_EXCERPT, 'utf8');
  const element = (tag: string, id: string): string => {
    const m = new RegExp(`<${tag}\\b[^>]*\\bid="${id.replace(/[.]/g, '\\.')}"[^>]*>([\\s\\S]*?)</${tag}>`).exec(xml);
    assert.ok(m, `no <${tag} id="${id}">`);
    return m![1]!;
  };
  const text = (body: string, tag: string): string => {
    const m = new RegExp(`<${tag}\\b[^>]*>([\\s\\S]*?)</${tag}>`).exec(body);
    assert.ok(m, `no <${tag}>`);
    return decode(m![1]!.trim());
  };
  const ref = (body: string, tag: string, attr: string): string => {
    const m = new RegExp(`<${tag}\\b[^>]*\\b${attr}="([^"]+)"`).exec(body);
    assert.ok(m, `no <${tag} ${attr}>`);
    return m![1]!;
  };

  const definition = element('definition', 'oval:mil.disa.stig.windows:def:1199');
  assert.ok(definition.includes('CCE-46334-9'));
  const testId = ref(definition, 'criterion', 'test_ref');
  const registryTest = element('registry_test', testId);
  const object = element('registry_object', ref(registryTest, 'object', 'object_ref'));
  const state = element('registry_state', ref(registryTest, 'state', 'state_ref'));

  const e = seed();
  const target = targetOf(e);
  assert.is(text(object, 'hive'), target.hive);
  assert.is(text(object, 'key').toLowerCase(), target.subKey.toLowerCase());
  assert.is(text(object, 'name'), e.registry!.valueName);
  assert.is(text(state, 'type'), 'reg_dword');
  assert.is(e.registry!.valueType, 'DWord');
  const recommended = e.choices!.find((c) => c.name === e.recommended)!;
  assert.is(Number(text(state, 'value')), recommended.data);
  assert.is(recommended.data, 1);
});

// --- lookup ----------------------------------------------------------------------------------------------------------

test('Catalog.find resolves the id, the exact title, a sloppily typed title and the STIG id', () => {
  const catalog = loadCatalog();
  assert.is(catalog.find(SEED_ID)?.id, SEED_ID);
  assert.is(catalog.find(SEED_TITLE)?.id, SEED_ID);
  assert.is(catalog.find('  MICROSOFT network  client:   digitally sign communications (IF SERVER agrees) ')?.id, SEED_ID);
  assert.is(catalog.find('WN16-SO-000200')?.id, SEED_ID);
  assert.is(catalog.find('V-73655')?.id, SEED_ID);
  assert.is(catalog.find('no such policy'), undefined);
});

test('Catalog.suggest returns the real title for a near miss, and nothing for nonsense', () => {
  const catalog = loadCatalog();
  assert.is(catalog.suggest('Microsoft network client: Digitaly sign communication (if server agree)')[0], SEED_TITLE, 'the closest title first');
  assert.equal(catalog.suggest('Zebra crossing quota for quantum teapots'), []);
});

test.run();
