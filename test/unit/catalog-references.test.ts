// References from outside the STIG: OVAL and CCE ids from DISA's SCAP benchmark (recorded in
// test/fixtures/references/), and the CIS and Microsoft baselines that add their own references.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadCatalog } from '../../src/catalog/catalog.js';

interface ScapRule {
  vid: string;
  sv: string;
  stigId: string;
  oval: string[];
  cce?: string[];
}

const SCAP = JSON.parse(readFileSync(resolve(process.cwd(), 'test', 'fixtures', 'references', 'disa-scap-ws2016-v1r7.json'), 'utf8')) as { rules: ScapRule[] };
const catalog = loadCatalog();

/** CCE ids end in a Luhn check digit over the other digits. */
function cceCheckDigitOk(cce: string): boolean {
  const digits = cce.replace(/^CCE-/, '').replace('-', '');
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

test('every entry citing a STIG rule of the SCAP benchmark carries exactly its DISA OVAL definition and CCE ids', () => {
  const byVid = new Map(SCAP.rules.map((r) => [r.vid, r]));
  let checked = 0;
  for (const entry of catalog.entries) {
    const rows = (entry.references.stig ?? []).map((id) => byVid.get(id)).filter((r): r is ScapRule => r !== undefined);
    if (rows.length === 0) continue;
    for (const row of rows) {
      assert.ok(entry.references.stig!.includes(row.sv) && entry.references.stig!.includes(row.stigId), `${entry.id}: ${row.vid} is ${row.sv} / ${row.stigId} in the benchmark`);
    }
    // Other publishers' definitions (e.g. SecPod's for the seed) may be listed too.
    assert.equal([...(entry.references.oval ?? [])].filter((id) => id.startsWith('oval:mil.disa.')).sort(), [...new Set(rows.flatMap((r) => r.oval))].sort(), `${entry.id}: OVAL ids`);
    assert.equal([...(entry.references.cce ?? [])].sort(), [...new Set(rows.flatMap((r) => r.cce ?? []))].sort(), `${entry.id}: CCE ids`);
    checked++;
  }
  assert.ok(checked >= 95, `only ${checked} entries checked`);
  const cited = new Set(catalog.entries.flatMap((e) => e.references.stig ?? []));
  for (const row of SCAP.rules) assert.ok(cited.has(row.vid), `${row.vid} is in the table but no entry cites it`);
});

test('every CCE id in the catalog has a valid check digit', () => {
  assert.ok(cceCheckDigitOk('CCE-46334-9'));
  assert.not.ok(cceCheckDigitOk('CCE-46334-8'), 'a wrong check digit is caught');
  for (const entry of catalog.entries) for (const cce of entry.references.cce ?? []) assert.ok(cceCheckDigitOk(cce), `${entry.id}: ${cce}`);
});

test.run();
