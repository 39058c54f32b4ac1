// Every catalog entry that cites a STIG rule matches that rule exactly: registry location, type,
// severity, ids, and a recommended value the rule accepts. Facts come from the real DISA file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isRegistryEntry, loadCatalog, type RegistryCatalogEntry as CatalogEntry } from '../../src/catalog/catalog.js';
import { extractAll, parseXccdf } from '../../src/catalog/stig/xccdf.js';
import { mapCondition } from '../../src/catalog/stig/import.js';
import { meetsCondition, parseCondition } from '../../src/kinds/condition.js';
import { parseKeyPath, type WireData } from '../../src/kinds/registry/model.js';

const XCCDF = resolve(process.cwd(), 'test', 'fixtures', 'stig', 'U_MS_Windows_Server_2016_STIG_V2R10_Manual-xccdf.xml');
const rules = extractAll(parseXccdf(readFileSync(XCCDF, 'utf8')));
const byStigId = new Map(rules.map((r) => [r.rule.stigId, r]));
const entries = loadCatalog().entries.filter(isRegistryEntry);

function recommendedData(entry: CatalogEntry): WireData | undefined {
  const r = entry.recommended;
  if (typeof r === 'object') return r.valueData;
  return entry.choices?.find((c) => c.name === r)?.data;
}

const big = (v: unknown): unknown => (typeof v === 'number' ? BigInt(v) : Array.isArray(v) ? v.map(big) : v);

test('catalog entries that cite a STIG rule match the rule: location, type, severity, ids, an accepted recommended value', () => {
  let checked = 0;
  for (const entry of entries) {
    const stigIds = (entry.references.stig ?? []).filter((id) => id.startsWith('WN16-'));
    for (const stigId of stigIds) {
      const found = byStigId.get(stigId);
      assert.ok(found, `${entry.id}: ${stigId} is not in the STIG`);
      const { rule, extraction } = found!;
      if (entry.siteDefined) {
        // The rule asks for the organisation's own text: no value to compare, but the same registry value.
        assert.match(rule.checkText, new RegExp(`Value Name:\\s*${entry.registry!.valueName}\\b`), `${entry.id}: ${stigId} checks ${entry.registry!.valueName}`);
        assert.is(entry.severity, rule.severity, `${entry.id}: severity`);
        assert.ok(entry.references.stig!.includes(rule.vulnId), `${entry.id}: cites ${rule.vulnId}`);
        checked++;
        continue;
      }
      assert.is(extraction.kind, 'registry', `${entry.id}: ${stigId} is not a registry rule`);
      if (extraction.kind !== 'registry') continue;
      const value = extraction.values.find((v) => v.valueName.toLowerCase() === entry.registry!.valueName.toLowerCase());
      assert.ok(value, `${entry.id}: ${stigId} has no value ${entry.registry!.valueName}`);
      const target = parseKeyPath(entry.registry!.key);
      assert.ok(typeof target !== 'string', `${entry.id}: key`);
      if (typeof target === 'string' || !value) continue;
      assert.is(target.hive, value.hive, `${entry.id}: hive`);
      assert.is(target.subKey.toLowerCase(), value.path.toLowerCase(), `${entry.id}: path`);
      assert.is(entry.registry!.valueType, value.valueType, `${entry.id}: type`);
      assert.is(entry.severity, rule.severity, `${entry.id}: severity`);
      assert.ok(entry.references.stig!.includes(rule.vulnId), `${entry.id}: cites ${rule.vulnId}`);
      const data = recommendedData(entry);
      assert.ok(data !== undefined, `${entry.id}: has a recommended value`);
      const mapped = mapCondition(value, rule);
      assert.ok(mapped.ok, `${entry.id}: the rule's condition maps`);
      if (!mapped.ok) continue;
      if (mapped.condition) {
        const parsed = parseCondition(Object.fromEntries(Object.entries(mapped.condition).map(([k, v]) => [k, big(v)])), value.valueType);
        assert.ok(parsed.ok && meetsCondition(parsed.condition, value.valueType, data!), `${entry.id}: recommended ${JSON.stringify(data)} meets ${JSON.stringify(mapped.condition, (_, v) => (typeof v === 'bigint' ? Number(v) : v))}`);
      } else {
        const expected = typeof mapped.valueData === 'bigint' ? mapped.valueData.toString() : mapped.valueData;
        assert.equal(data, expected, `${entry.id}: recommended data equals the rule's value`);
      }
      checked++;
    }
  }
  assert.ok(checked >= 1, 'at least the seed entry is checked');
});

test('every registry value the STIG requires has a catalog entry', () => {
  const cited = new Set(entries.flatMap((e) => (e.references.stig ?? []).filter((s) => s.startsWith('WN16-')).map((s) => `${s}!${e.registry!.valueName.toLowerCase()}`)));
  const missing: string[] = [];
  for (const { rule, extraction } of rules) {
    if (extraction.kind !== 'registry') continue;
    for (const value of extraction.values) if (!cited.has(`${rule.stigId}!${value.valueName.toLowerCase()}`)) missing.push(`${rule.stigId} ${value.valueName}`);
  }
  assert.equal(missing, []);
});

test('no two catalog entries cite the same STIG rule value', () => {
  const seen = new Map<string, string>();
  for (const entry of entries) {
    for (const id of (entry.references.stig ?? []).filter((s) => s.startsWith('WN16-'))) {
      const key = `${id}!${entry.registry!.valueName.toLowerCase()}`;
      assert.not.ok(seen.has(key), `${key} is in ${seen.get(key)} and ${entry.id}`);
      seen.set(key, entry.id);
    }
  }
});

test.run();
