// Policy and SecurityOption resources naming catalog entries with a `storage` block resolve through
// that entry's kind, with the value forms of CONTRACT.md ("Policy/SecurityOption values").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Catalog, type CatalogEntry } from '../../src/catalog/catalog.js';
import { validateText } from '../../src/document/validate.js';
import { formatDiagnostic } from '../../src/document/diagnostics.js';
import { resourceFields } from '../../src/compile/emit.js';
import { buildReportModel } from '../../src/report/model.js';

const base = { severity: 'medium' as const, scope: ['MS', 'DC'] as ('MS' | 'DC')[], platforms: ['Windows Server 2016'], rationale: 'r', impact: 'i', references: { stig: ['V-1'] } };
const ENTRIES: CatalogEntry[] = [
  { ...base, id: 'deny-network-logon', kind: 'UserRightsAssignment', title: 'Deny access to this computer from the network', gpoPath: 'Computer Configuration\\...\\User Rights Assignment', storage: { kind: 'UserRight', right: 'SeDenyNetworkLogonRight' }, recommended: { principals: ['Guests', 'Local account'] } },
  { ...base, id: 'backup-files', kind: 'UserRightsAssignment', title: 'Back up files and directories', gpoPath: 'x', storage: { kind: 'UserRight', right: 'SeBackupPrivilege' }, recommended: { mustExclude: ['Everyone'] }, references: { stig: ['V-2'] } },
  { ...base, id: 'lockout-duration', kind: 'AccountPolicy', title: 'Account lockout duration', gpoPath: 'x', storage: { kind: 'AccountPolicy', section: 'System Access', key: 'LockoutDuration' }, recommended: { value: 15, condition: { anyOf: [{ atLeast: 15 }, { oneOf: [0] }] }, text: '15 or more, or 0' }, references: { stig: ['V-3'] } },
  { ...base, id: 'guest-account-status', kind: 'SecurityOption', title: 'Accounts: Guest account status', gpoPath: 'x', storage: { kind: 'SecurityPolicy', section: 'System Access', key: 'EnableGuestAccount' }, choices: [{ name: 'Enabled', data: 1, meaning: 'on' }, { name: 'Disabled', data: 0, meaning: 'off' }], recommended: 'Disabled', references: { stig: ['V-4'] } },
  { ...base, id: 'rename-admin', kind: 'SecurityOption', title: 'Accounts: Rename administrator account', gpoPath: 'x', storage: { kind: 'SecurityPolicy', section: 'System Access', key: 'NewAdministratorName' }, siteDefined: true, recommended: { condition: { not: ['Administrator'] }, text: 'not Administrator' }, references: { stig: ['V-5'] } },
  { ...base, id: 'audit-credential-validation', kind: 'AdvancedAuditPolicy', title: 'Audit Credential Validation', gpoPath: 'x', storage: { kind: 'AuditPolicy', guid: '{0CCE923F-69AE-11D9-BED3-505054503030}', subcategory: 'Credential Validation' }, recommended: { failure: 'enabled' }, references: { stig: ['V-6'] } },
];
const catalog = new Catalog(ENTRIES);
const FILE = 'catalog-kinds.yaml';
const plan = (resources: string) => validateText(FILE, `metadata: { name: c }\nresources:\n${resources}`, { catalog });

test('recommended values of every kind resolve through the entry\'s kind', () => {
  const r = plan(['deny-network-logon', 'backup-files', 'lockout-duration', 'guest-account-status', 'rename-admin', 'audit-credential-validation']
    .map((id, i) => `  - { name: r${i}, type: ${id.startsWith('guest') || id.startsWith('rename') ? 'SecurityOption' : 'Policy'}, properties: { id: ${id}, value: recommended } }\n`).join(''));
  assert.equal(r.diagnostics.map(formatDiagnostic), []);
  const rows = r.plan!.resources.map(resourceFields);
  assert.equal(rows.map((x) => [x.Kind, x.Id]), ENTRIES.map((e) => [e.storage!.kind, e.id]));
  assert.equal(rows[0]!.Principals, ['*S-1-5-32-546', '*S-1-5-113']);
  assert.equal(rows[1]!.MustExclude, ['*S-1-1-0']);
  assert.equal([rows[2]!.Value, rows[2]!.ConditionView, (rows[2]!.Policy as { Value: string }).Value], [15, { anyOf: [{ atLeast: 15 }, { oneOf: [0] }] }, '15 or more, or 0']);
  assert.equal([rows[3]!.Value, (rows[3]!.Policy as { Value: string; Choices: unknown[] }).Choices], [0, [{ Name: 'Enabled', Data: 1 }, { Name: 'Disabled', Data: 0 }]]);
  assert.equal([rows[4]!.Value, rows[4]!.ConditionView], [null, { not: ['Administrator'] }]);
  assert.equal([rows[5]!.Success, rows[5]!.Failure], [null, 'enabled']);
});

test('explicit values take each kind\'s own form; a wrong form is a positioned error', () => {
  const ok = plan(`  - { name: a, type: Policy, properties: { policy: Deny access to this computer from the network, value: [Guests] } }
  - { name: b, type: Policy, properties: { id: lockout-duration, value: 30 } }
  - { name: c, type: SecurityOption, properties: { policy: 'Accounts: Guest account status', value: Enabled } }
  - { name: d, type: Policy, properties: { id: audit-credential-validation, value: Success and Failure } }
  - { name: e, type: SecurityOption, properties: { id: rename-admin, value: ops-admin } }
`);
  assert.equal(ok.diagnostics.map(formatDiagnostic), []);
  const rows = ok.plan!.resources.map(resourceFields);
  assert.equal([rows[0]!.Principals, rows[1]!.Value, rows[2]!.Value, rows[3]!.Success, rows[3]!.Failure, rows[4]!.Value], [['*S-1-5-32-546'], 30, 1, 'enabled', 'enabled', 'ops-admin']);
  const bad = plan(`  - { name: a, type: Policy, properties: { id: deny-network-logon, value: Guests } }
  - { name: b, type: Policy, properties: { id: lockout-duration, value: 100000 } }
  - { name: c, type: Policy, properties: { id: audit-credential-validation, value: Sometimes } }
  - { name: d, type: Policy, properties: { id: deny-network-logon, value: [Guests, '*S-1-5-32-546'] } }
  - { name: e, type: SecurityOption, properties: { id: guest-account-status, value: Maybe } }
`);
  assert.equal(bad.diagnostics.map((d) => `${d.start.line}:${d.start.col} ${d.code}`), ['3:75 invalid-value', '4:73 out-of-range', '5:84 invalid-value', '6:84 invalid-value', '7:85 invalid-value']);
  assert.match(bad.diagnostics[0]!.message, /is a user right: give a list of principals/);
  assert.match(bad.diagnostics[2]!.message, /use Success, Failure, Success and Failure, No Auditing or recommended/);
  assert.match(bad.diagnostics[3]!.message, /same principal/);
});

test('a STIG checklist keeps a setting only when it is set to the catalog\'s recommendation', () => {
  const r = plan(`  - { name: rec, type: Policy, properties: { id: lockout-duration, value: recommended } }
  - { name: own, type: Policy, properties: { id: deny-network-logon, value: [Guests] } }
`);
  const model = buildReportModel({
    command: 'test', plan: r.plan!, exitCode: 0, startedAt: new Date(0), finishedAt: new Date(0),
    result: { tool: 'winstate', version: '0', document: 'c', mode: 'Test', target: 'snapshot', snapshot: null, whatIf: false, backup: null, partial: false, psVersion: '7', psEdition: 'Core', durationMs: 0, summary: { total: 2, inDesiredState: 2, drifted: 0, changed: 0, failed: 0, skipped: 0, waived: 0 }, results: [] },
  });
  assert.equal(model.settings.map((s) => s.references.stig), [['V-3'], []]);
  // A recommendation in the kind's words, or the entry's own text.
  assert.equal(model.settings.map((s) => s.recommended), ['15 or more, or 0', 'BUILTIN\\Guests, NT AUTHORITY\\Local account']);
});

test.run();
