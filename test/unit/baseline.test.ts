// Baselines as data: selection by role and level, references added to catalog entries, and the
// generated document (valid, one Policy resource per setting, the inexpressible listed at its top).
import { test } from 'uvu';
import { registrySpec } from '../../src/kinds/registry/kind.js';
import * as assert from 'uvu/assert';
import { Catalog, loadCatalog } from '../../src/catalog/catalog.js';
import { baselineName, findBaseline, isNewest, loadBaselines, selectSettings, type Baseline } from '../../src/catalog/baseline.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { baselineDocument } from '../../src/catalog/baseline-document.js';
import { catalogEntryView } from '../../src/catalog/view.js';
import { validateText } from '../../src/document/validate.js';
import { conditionView } from '../../src/kinds/condition.js';

const shipped = loadCatalog();
/** Fresh copies: a Catalog adds baseline references to the entries it is given. */
const entries = () => shipped.entries.map((e) => structuredClone({ ...e, references: { stig: e.references.stig, oval: e.references.oval, cce: e.references.cce } }));

const SAMPLE: Baseline = {
  id: 'sample',
  title: 'Sample benchmark',
  publisher: 'CIS',
  version: 'v9.9.9',
  documentName: 'sample',
  referenceKind: 'cis',
  source: { description: 'made up for the test', files: [] },
  levels: ['L1', 'L2'],
  settings: [
    { ref: '2.3.8.2', entry: 'smb-client-signing-if-server-agrees', level: 'L1', scope: ['MS', 'DC'], value: 'Enabled', setting: 'Enabled' },
    { ref: '2.3.7.3', entry: 'machine-inactivity-limit', level: 'L1', scope: ['MS', 'DC'], value: 900, condition: { atMost: 900, not: 0 } },
    { ref: '9.9.1', entry: 'smb-client-signing-if-server-agrees', level: 'L2', scope: ['DC'], value: 'recommended' },
  ],
  notExpressible: [{ ref: '1.1.1', title: 'Enforce password history', level: 'L1', scope: ['MS', 'DC'], reason: 'account policy' }],
};

test('selection: a level includes the levels before it; a role keeps its own and shared settings', () => {
  assert.equal(selectSettings(SAMPLE, SAMPLE.settings, 'MS', 'L2').map((s) => s.ref), ['2.3.8.2', '2.3.7.3']);
  assert.equal(selectSettings(SAMPLE, SAMPLE.settings, 'DC', 'L1').map((s) => s.ref), ['2.3.8.2', '2.3.7.3']);
  assert.equal(selectSettings(SAMPLE, SAMPLE.settings, 'DC', 'L2').map((s) => s.ref), ['2.3.8.2', '2.3.7.3', '9.9.1']);
  assert.equal(selectSettings(SAMPLE, SAMPLE.settings).length, 3);
});

test('a baseline adds its references to the entries it sets, and the catalog view shows what it wants', () => {
  const catalog = new Catalog(entries(), [SAMPLE]);
  const entry = catalog.find('smb-client-signing-if-server-agrees')!;
  assert.equal(entry.references.cis, ['2.3.8.2', '9.9.1']);
  const view = catalogEntryView(entry, catalog);
  assert.equal(view.references.cis, ['2.3.8.2', '9.9.1']);
  assert.equal(view.baselines.map((b) => `${b.baseline} ${b.ref} ${b.level} ${b.scope.join('+')}`), ['sample 2.3.8.2 L1 MS+DC', 'sample 9.9.1 L2 DC']);
  assert.throws(() => new Catalog(entries(), [{ ...SAMPLE, settings: [{ ...SAMPLE.settings[0]!, entry: 'no-such-entry' }] }]), /names catalog entry 'no-such-entry'/);
});

test('versions: a plain id names the newest version, id@version any; only the newest version\'s numbers become references', () => {
  const older: Baseline = { ...SAMPLE, version: 'v1.2.0', settings: [{ ...SAMPLE.settings[0]!, ref: '2.3.8.1' }] };
  const newer: Baseline = { ...SAMPLE, version: 'v10.0.0' };
  const all = [older, newer, SAMPLE];
  assert.is(findBaseline(all, 'sample'), newer, 'v10.0.0 is newer than v9.9.9: numbers, not text');
  assert.is(findBaseline(all, 'SAMPLE@1.2.0'), older);
  assert.is(findBaseline(all, 'sample@v9.9.9'), SAMPLE);
  assert.is(findBaseline(all, 'sample@2.0'), undefined);
  assert.equal(all.map((b) => [isNewest(b, all), baselineName(b, all)]), [[false, 'sample@1.2.0'], [true, 'sample'], [false, 'sample@9.9.9']]);
  const catalog = new Catalog(entries(), [older, newer]);
  assert.equal(catalog.find('smb-client-signing-if-server-agrees')!.references.cis, ['2.3.8.2', '9.9.1']);
  assert.equal(catalog.findAll('2.3.8.1'), [], 'an older version\'s number names nothing');
  assert.equal(catalogEntryView(catalog.find('smb-client-signing-if-server-agrees')!, catalog).baselines.map((b) => `${b.version} ${b.ref}`), ['v1.2.0 2.3.8.1', 'v10.0.0 2.3.8.2', 'v10.0.0 9.9.1']);
  // Files: <id>.json, or <id>@<version>.json for a kept older version; anything else is refused.
  const dir = join(tempDir(), 'baselines');
  mkdirSync(dir);
  writeFileSync(join(dir, 'sample.json'), JSON.stringify(newer));
  writeFileSync(join(dir, 'sample@1.2.0.json'), JSON.stringify(older));
  assert.equal(loadBaselines(dir).map((b) => b.version), ['v10.0.0', 'v1.2.0']);
  writeFileSync(join(dir, 'sample@1.3.0.json'), JSON.stringify(older));
  assert.throws(() => loadBaselines(dir), /id 'sample' and version 'v1.2.0' do not match the file name/);
});

test('the document: one valid Policy resource per selected setting, CIS number in metadata, the rest listed', () => {
  const catalog = new Catalog(entries(), [SAMPLE]);
  const doc = baselineDocument(SAMPLE, catalog, { scope: 'MS', level: 'L1' });
  assert.is(doc.documentName, 'sample-l1-ms');
  assert.is(doc.resources, 2);
  assert.match(doc.yaml, /^# yaml-language-server: \$schema=/);
  assert.match(doc.yaml, /^# +1\.1\.1: Enforce password history: account policy$/m);
  const result = validateText('sample.yaml', doc.yaml, { catalog });
  assert.equal(result.diagnostics, []);
  const resources = result.plan!.resources;
  assert.equal(resources.map((r) => r.name), ['2.3.8.2: Microsoft network client: Digitally sign communications (if server agrees)', '2.3.7.3: Interactive logon: Machine inactivity limit']);
  assert.equal(registrySpec(resources[1]!)!.desired!.valueData, 900);
  assert.equal(conditionView(registrySpec(resources[1]!)!.desired!.condition!), { atMost: 900, not: [0] });
  assert.equal(resources[0]!.metadata?.references?.cis, ['2.3.8.2']);
});

test.run();
