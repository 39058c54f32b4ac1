// Which STIG rules a setting answers in checklists: the catalog's STIG ids when the document sets the
// catalog's recommendation; the document's own STIG reference (as `import stig` writes it per rule)
// when it gives one; none when it sets another value without citing a rule, so that a checklist
// never passes a STIG rule on another baseline's value.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildReportModel } from '../../src/report/model.js';
import type { RunReport } from '../../src/engine/results.js';
import { planFromYaml } from '../helpers.js';

const DELEGATION_MS = ['V-225020', 'V-73779', 'SV-88443', 'WN16-MS-000420'];
const DELEGATION_DC = ['V-225005', 'V-73777', 'SV-88441', 'WN16-DC-000420'];
const NETWORK_MS = ['V-225014', 'V-73733', 'SV-88397', 'WN16-MS-000340'];

/** The STIG ids the report model gives the document's only resource. */
function stigRefs(resource: string): string[] {
  const plan = planFromYaml(`metadata: { name: refs }\nresources:\n${resource}`);
  const r = plan.resources[0]!;
  const result = { tool: 'winstate', version: '0.1.0', document: 'refs', mode: 'Test', target: 'snapshot', snapshot: '/x.inf', whatIf: false, backup: null, partial: false, durationMs: 1,
    summary: { total: 1, inDesiredState: 1, drifted: 0, changed: 0, failed: 0, skipped: 0, waived: 0 },
    results: [{ name: r.name, type: r.type, target: 'User right', desired: {}, actual: {}, inDesiredState: true, differingProperties: [] }] } as unknown as RunReport;
  const model = buildReportModel({ command: 'test', plan, result, startedAt: new Date(0), finishedAt: new Date(1), exitCode: 0, host: { hostname: 'h' } });
  return model.settings[0]!.references.stig;
}

test('the catalog\'s recommendation keeps every STIG id of the entry', () => {
  assert.equal(stigRefs('  - { name: delegation, type: Policy, properties: { policy: Enable computer and user accounts to be trusted for delegation, value: recommended } }'), [...DELEGATION_DC, ...DELEGATION_MS]);
});

test('another value without a STIG reference of its own answers no STIG rule', () => {
  assert.equal(stigRefs('  - { name: delegation, type: Policy, properties: { policy: Enable computer and user accounts to be trusted for delegation, value: [Administrators] } }'), []);
  // The catalog recommends nothing where the value differs by role: no value is the STIG's as such.
  assert.equal(stigRefs('  - { name: network, type: Policy, properties: { policy: Access this computer from the network, value: [Administrators, Authenticated Users] } }'), []);
});

test('the document\'s own STIG reference is kept, alone: the DC value cited for the DC rule', () => {
  const cite = (ids: string[]) => `    metadata: { references: { stig: [${ids.join(', ')}] } }\n`;
  assert.equal(stigRefs(`  - name: delegation\n    type: Policy\n${cite(DELEGATION_DC)}    properties: { stig: WN16-DC-000420, value: [Administrators] }\n`), DELEGATION_DC);
  assert.equal(stigRefs(`  - name: network\n    type: Policy\n${cite(NETWORK_MS)}    properties: { stig: WN16-MS-000340, value: [Administrators, Authenticated Users] }\n`), NETWORK_MS);
});

test.run();
