// The shipped baselines against the reference tables they were built from (test/fixtures/references):
// every registry row is a setting that resolves to the table's data at the same registry value, or
// is listed as not expressible with a reason; deliberate departures are listed here, each with why.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadCatalog, type CatalogEntry } from '../../src/catalog/catalog.js';
import { selectSettings, type Baseline, type BaselineSetting } from '../../src/catalog/baseline.js';
import { baselineDocument } from '../../src/catalog/baseline-document.js';
import { validateText } from '../../src/document/validate.js';
import { normaliseData } from '../../src/resources/registry-data.js';

const fixture = (name: string) => JSON.parse(readFileSync(resolve(process.cwd(), 'test', 'fixtures', 'references', name), 'utf8'));
const CIS = fixture('cis-ws2016.json') as {
  recommendations: { cis: string; level: string | null; profile?: string; scope: ('MS' | 'DC')[]; hive: string; key: string; valueName: string; valueType: string; data: unknown; condition: Record<string, unknown> | null }[];
  notRegistry: { cis: string }[];
};
const MS = fixture('msft-ws2016-baseline.json') as {
  settings: { gpoDisplayNames: string[]; scope: ('MS' | 'DC')[]; policy: string | null; hive: string; key: string; valueName: string; valueType: string; data: unknown; delete?: boolean }[];
};
const catalog = loadCatalog();
const baseline = (id: string) => catalog.baselines.find((b) => b.id === id)!;

/** The remotely accessible registry paths without WINS and Certificate Services, which belong only on servers with those roles. */
const REMOTE_PATHS = (CIS.recommendations.find((r) => r.cis === '2.3.10.9')!.data as string[]).filter((p) => !/\\Services\\(WINS|CertSvc)$/i.test(p));

/** Where the shipped CIS baseline departs from the implementation the table records, and why. */
const CIS_CORRECTED: Record<string, unknown> = {
  '18.3.5': 2, // "Enabled, always": the role writes 1 (when supported)
  '18.9.12.1': 0, // "Disabled": the role writes 1
  '18.9.16.2': 1, // "Disable Authenticated Proxy usage": the role writes 0
  '18.9.59.3.10.1': 900000, // 15 minutes or less: the role writes 60 minutes
  '18.9.59.3.10.2': 60000, // 1 minute: the role writes 8 hours
  '2.3.10.6': ['LSARPC', 'NETLOGON', 'SAMR'], // the DC list: the role writes an empty list
  '2.3.10.9': REMOTE_PATHS, // the role writes all 13 paths on every server
};
/** Table rows deliberately not carried into the baseline's settings. */
const CIS_LEFT_OUT: Record<string, string> = {
  '18.9.102.2|AUOptions': 'the benchmark asks only that Automatic Updates be Enabled; the role also picks an install schedule',
};

const keyOf = (hive: string, key: string, valueName: string) => `${hive}\\${key}!${valueName}`.toLowerCase();
const entryKey = (e: CatalogEntry) => `${e.registry.key}!${e.registry.valueName}`.toLowerCase();

/** The registry data a baseline setting asks for, as the Policy resource would resolve it. */
function dataOf(entry: CatalogEntry, s: BaselineSetting): unknown {
  let value = s.value;
  if (value === 'recommended') value = typeof entry.recommended === 'object' ? entry.recommended.valueData : entry.recommended!;
  const choice = typeof value === 'string' ? entry.choices?.find((c) => c.name.toLowerCase() === (value as string).toLowerCase()) : undefined;
  const raw = choice ? choice.data : value;
  const data = normaliseData(entry.registry.valueType, typeof raw === 'number' ? BigInt(raw) : raw);
  assert.ok(data.ok, `${entry.id}: ${JSON.stringify(raw)}`);
  return data.ok ? data.data : undefined;
}
function tableData(valueType: string, raw: unknown): unknown {
  const value = valueType === 'MultiString' && typeof raw === 'string' ? (raw === '' ? [] : raw.split(',')) : raw;
  const data = normaliseData(valueType as CatalogEntry['registry']['valueType'], typeof value === 'number' ? BigInt(value) : (value as string));
  return data.ok ? data.data : `unreadable ${JSON.stringify(raw)}`;
}

interface Row {
  ref: string;
  path: string;
  /** What a not-expressible listing calls it (Microsoft rows: the policy name or the registry path). */
  title?: string;
  valueType: string;
  data: unknown;
  scope: string[];
  level?: string | null;
  condition?: Record<string, unknown> | null;
  absentOk?: boolean;
}

function checkRows(b: Baseline, rows: Row[]) {
  let matched = 0;
  for (const row of rows) {
    const settings = b.settings.filter((s) => s.ref === row.ref && entryKey(catalog.find(s.entry)!) === row.path);
    if (settings.length === 0) {
      const listed = b.notExpressible.some((n) => n.ref === row.ref && (row.title === undefined || n.title === row.title));
      assert.ok(listed, `${b.id} ${row.ref} ${row.path}: neither a setting nor listed as not expressible`);
      continue;
    }
    assert.is(settings.length, 1, `${b.id} ${row.ref} ${row.path}: one setting`);
    const s = settings[0]!;
    const entry = catalog.find(s.entry)!;
    assert.is(entry.registry.valueType, row.valueType, `${b.id} ${row.ref}: value type`);
    assert.equal(dataOf(entry, s), tableData(row.valueType, row.data), `${b.id} ${row.ref} ${row.path}: data`);
    assert.equal([...s.scope].sort(), [...row.scope].sort(), `${b.id} ${row.ref} ${row.path}: scope`);
    if (row.level !== undefined) assert.is(s.level ?? null, row.level, `${b.id} ${row.ref}: level`);
    if (row.condition !== undefined) assert.equal(s.condition ?? null, row.condition, `${b.id} ${row.ref}: condition`);
    if (row.absentOk !== undefined) assert.is(s.absentOk ?? false, row.absentOk, `${b.id} ${row.ref}: absentOk`);
    matched++;
  }
  // Nothing in the baseline that the table does not have.
  for (const s of b.settings) {
    const path = entryKey(catalog.find(s.entry)!);
    assert.ok(rows.some((r) => r.ref === s.ref && r.path === path), `${b.id} ${s.ref} (${s.entry}) is not in the table`);
  }
  return matched;
}

test('CIS baseline: every registry recommendation of the table is a setting with its data, or listed with a reason', () => {
  const b = baseline('cis-ws2016');
  const rows = CIS.recommendations
    .filter((r) => !(`${r.cis}|${r.valueName}` in CIS_LEFT_OUT))
    .map((r) => ({
      ref: r.cis,
      path: keyOf(r.hive, r.key, r.valueName),
      valueType: r.valueType,
      data: r.cis in CIS_CORRECTED ? CIS_CORRECTED[r.cis] : r.data,
      scope: r.scope,
      level: r.level ?? r.profile ?? null,
      condition: r.condition,
      absentOk: false,
    }));
  const matched = checkRows(b, rows);
  assert.ok(matched >= 250, `only ${matched} CIS rows are settings`);
  for (const n of CIS.notRegistry) assert.ok(b.notExpressible.some((x) => x.ref === n.cis), `CIS ${n.cis} (not a registry value) is not listed`);
  for (const s of b.settings) {
    if (s.condition) assert.ok(validateText('c.yaml', `metadata: { name: c }\nresources:\n  - { name: r, type: Policy, properties: { id: ${s.entry}, value: ${JSON.stringify(s.value)}, condition: ${JSON.stringify(s.condition)} } }\n`).diagnostics.length === 0, `${s.ref}: value meets its condition`);
  }
});

test('Microsoft baseline: every registry value of the table is a setting per GPO with its data, or listed with a reason', () => {
  const b = baseline('msft-ws2016');
  const rows = MS.settings
    .filter((r) => !r.delete)
    .flatMap((r) =>
      r.gpoDisplayNames.map((gpo) => {
        const scope = r.gpoDisplayNames.length === 2 && r.scope.length === 2 ? [gpo.includes('Domain Controller') ? 'DC' : 'MS'] : r.scope;
        return {
          ref: gpo,
          path: keyOf(r.hive, r.key, r.valueName),
          title: r.policy ?? `${r.hive}\\${r.key}!${r.valueName}`,
          valueType: r.valueType,
          data: r.data,
          // Credential Guard is not supported on domain controllers: member servers only (the DC side is listed).
          scope: r.valueName === 'LsaCfgFlags' ? scope.filter((x) => x === 'MS') : scope,
        };
      }),
    );
  const matched = checkRows(b, rows);
  assert.ok(matched >= 120, `only ${matched} Microsoft rows are settings`);
  assert.ok(b.notExpressible.some((n) => n.scope?.join() === 'DC' && /Credential Guard is not supported on domain controllers/.test(n.reason)), 'Credential Guard on DCs is listed');
  for (const r of MS.settings.filter((x) => x.delete)) assert.ok(b.notExpressible.some((n) => r.gpoDisplayNames.includes(n.ref) && n.reason.includes('deletes')), `${r.valueName}: deletion listed`);
});

test('every baseline document (each role and level) validates, and catalog references name the baselines', () => {
  for (const b of catalog.baselines) {
    for (const scope of ['MS', 'DC'] as const) {
      for (const level of b.levels ?? [undefined]) {
        const doc = baselineDocument(b, catalog, { scope, level });
        const result = validateText(`${doc.documentName}.yaml`, doc.yaml, { catalog });
        assert.equal(result.diagnostics.map((d) => d.message), [], doc.documentName);
        assert.is(result.plan!.resources.length, selectSettings(b, b.settings, scope, level).length);
      }
    }
  }
  for (const b of catalog.baselines) for (const n of b.notExpressible) assert.not.match(n.reason, /no catalog entry/, `${b.id} ${n.ref}: a registry setting without an entry is a gap, not a reason`);
  const seed = catalog.find('smb-client-signing-if-server-agrees')!;
  assert.ok(seed.references.cis!.includes('2.3.8.2'));
  assert.ok(seed.references.microsoft!.includes('SCM Windows Server 2016 - Member Server Baseline - Computer'));
});

test.run();
