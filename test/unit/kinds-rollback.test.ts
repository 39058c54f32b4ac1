// Rollback documents from backup entries of every kind (src/kinds/CONTRACT.md "Backup entries"):
// each entry becomes a resource of its kind that puts the prior state back, and the document validates.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { rollbackDocument, rollbackName, type BackupRecord } from '../../src/engine/rollback.js';
import { RESOURCE_NAME_MAX } from '../../src/document/schema.js';
import { validateText } from '../../src/document/validate.js';
import { formatDiagnostic } from '../../src/document/diagnostics.js';

const ENTRIES: BackupRecord['entries'] = [
  { resource: 'reg', target: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\A!v', hive: 'HKEY_LOCAL_MACHINE', subKey: 'SOFTWARE\\A', valueName: 'v', keyExisted: true, value: { exists: true, valueType: 'DWord', typeCode: 4, valueData: 3 } },
  { kind: 'UserRight', resource: 'deny', target: 'User right SeDenyNetworkLogonRight', right: 'SeDenyNetworkLogonRight', principals: ['*S-1-5-32-546', 'Guests', 'svc-backup'] },
  { kind: 'UserRight', resource: 'new right', target: 'User right SeBackupPrivilege', right: 'SeBackupPrivilege', principals: null },
  { kind: 'UserRight', resource: 'emptied', target: 'User right SeDebugPrivilege', right: 'SeDebugPrivilege', principals: [] },
  { kind: 'AccountPolicy', resource: 'lockout', target: 'System Access: LockoutDuration', section: 'System Access', key: 'LockoutDuration', value: '-1' },
  { kind: 'AccountPolicy', resource: 'new policy', target: 'System Access: MinimumPasswordLength', section: 'System Access', key: 'MinimumPasswordLength', value: null },
  { kind: 'SecurityPolicy', resource: 'guest name', target: 'System Access: NewGuestName', section: 'System Access', key: 'NewGuestName', value: '"Guest"' },
  { kind: 'SecurityPolicy', resource: 'guest status', target: 'System Access: EnableGuestAccount', section: 'System Access', key: 'EnableGuestAccount', value: '1' },
  { kind: 'AuditPolicy', resource: 'cred', target: 'Audit {0CCE923F-69AE-11D9-BED3-505054503030} (Credential Validation)', guid: '{0CCE923F-69AE-11D9-BED3-505054503030}', subcategory: 'Credential Validation', value: 2 },
  { kind: 'AuditPolicy', resource: 'new row', target: 'Audit {0CCE9215-69AE-11D9-BED3-505054503030} (Logon)', guid: '{0CCE9215-69AE-11D9-BED3-505054503030}', subcategory: 'Logon', value: null },
];

const record = (target: 'Snapshot' | 'Live'): BackupRecord => ({
  tool: 'winstate', version: '0.2.0', document: 'd', target, snapshot: null, createdAt: '2026-12-01T00:00:00Z',
  snapshots: target === 'Snapshot' ? { Registry: '/x.reg', SecurityTemplate: '/x.inf', AuditBackup: '/x.csv' } : {}, entries: ENTRIES,
});

test('offline: every entry of every kind becomes a resource that restores it, and the document is valid', () => {
  const { yaml, unsupported } = rollbackDocument(record('Snapshot'), 'r1');
  assert.equal(unsupported, []);
  const doc = parse(yaml) as { resources: { name: string; type: string; properties: Record<string, unknown> }[] };
  assert.equal(doc.resources.map((r) => [r.name, r.type, r.properties]), [
    ['1: reg: restore HKEY_LOCAL_MACHINE\\SOFTWARE\\A!v', 'Registry', { key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\A', valueName: 'v', valueType: 'DWord', valueData: 3 }],
    // A holder listed twice in the template (SID and name) is one holder.
    ['2: deny: restore User right SeDenyNetworkLogonRight', 'UserRight', { right: 'SeDenyNetworkLogonRight', principals: ['*S-1-5-32-546', 'svc-backup'] }],
    ['3: new right: remove User right SeBackupPrivilege again', 'UserRight', { right: 'SeBackupPrivilege', ensure: 'Absent' }],
    ['4: emptied: restore User right SeDebugPrivilege', 'UserRight', { right: 'SeDebugPrivilege', principals: [] }],
    ['5: lockout: restore System Access: LockoutDuration', 'AccountPolicy', { policy: 'LockoutDuration', value: -1 }],
    ['6: new policy: remove System Access: MinimumPasswordLength again', 'AccountPolicy', { policy: 'MinimumPasswordLength', ensure: 'Absent' }],
    ['7: guest name: restore System Access: NewGuestName', 'SecurityPolicy', { policy: 'NewGuestName', value: 'Guest' }],
    ['8: guest status: restore System Access: EnableGuestAccount', 'SecurityPolicy', { policy: 'EnableGuestAccount', value: 1 }],
    ['9: cred: restore Audit {0CCE923F-69AE-11D9-BED3-505054503030} (Credential Validation)', 'AuditPolicy', { subcategory: '{0CCE923F-69AE-11D9-BED3-505054503030}', success: 'disabled', failure: 'enabled' }],
    ['10: new row: remove Audit {0CCE9215-69AE-11D9-BED3-505054503030} (Logon) again', 'AuditPolicy', { subcategory: '{0CCE9215-69AE-11D9-BED3-505054503030}', ensure: 'Absent' }],
  ]);
  const validated = validateText('rollback.yaml', yaml);
  assert.equal(validated.diagnostics.map(formatDiagnostic), []);
  assert.equal(validated.plan!.resources.map((r) => r.kind), ['Registry', 'UserRight', 'UserRight', 'UserRight', 'AccountPolicy', 'AccountPolicy', 'SecurityPolicy', 'SecurityPolicy', 'AuditPolicy', 'AuditPolicy']);
});

test('live: an undefined right is emptied; a policy or audit row without a prior value is not restorable', () => {
  const { yaml, unsupported } = rollbackDocument(record('Live'), 'r2');
  const doc = parse(yaml) as { resources: { name: string; properties: Record<string, unknown> }[] };
  assert.ok(doc.resources.some((r) => r.name === '3: new right: empty User right SeBackupPrivilege again' && JSON.stringify(r.properties) === '{"right":"SeBackupPrivilege","principals":[]}'));
  assert.equal(unsupported, [
    'System Access: MinimumPasswordLength: was not defined before, and a live policy cannot be undefined',
    'Audit {0CCE9215-69AE-11D9-BED3-505054503030} (Logon): had no row before, and a live subcategory cannot be removed',
  ]);
  assert.is(doc.resources.length, 8);
  assert.equal(validateText('rollback.yaml', yaml).diagnostics, []);
});

test('only the applied resources, and entries a document cannot express are named', () => {
  const bad: BackupRecord = {
    ...record('Snapshot'),
    entries: [
      { kind: 'UserRight', resource: 'x', target: 'User right SeMadeUpRight', right: 'SeMadeUpRight', principals: [] },
      { kind: 'AccountPolicy', resource: 'y', target: 'System Access: LockoutDuration', section: 'System Access', key: 'LockoutDuration', value: 'soon' },
      { kind: 'AuditPolicy', resource: 'z', target: 'Audit {x}', guid: '{x}', subcategory: 'x', value: 1 },
      ...ENTRIES,
    ],
  };
  const { yaml, unsupported } = rollbackDocument(bad, 'r3', new Set(['x', 'y', 'z', 'lockout']));
  assert.equal(unsupported, [
    "User right SeMadeUpRight: unknown user right 'SeMadeUpRight'",
    "System Access: LockoutDuration: the prior value 'soon' is not a number",
    "Audit {x}: '{x}' is not a GUID",
  ]);
  assert.equal((parse(yaml) as { resources: unknown[] }).resources, [{ name: '1: lockout: restore System Access: LockoutDuration', type: 'AccountPolicy', properties: { policy: 'LockoutDuration', value: -1 } }]);
});

test('a rollback name keeps what the resource does and fits the name limit, shortening the setting\'s name first', () => {
  const does = 'restore HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services!fEncryptRPCTraffic';
  const long = `Remote Desktop Services: ${'x'.repeat(300)}`;
  const name = rollbackName(12, long, does);
  assert.is(name.length, RESOURCE_NAME_MAX);
  assert.ok(name.startsWith('12: Remote Desktop Services: xxx') && name.endsWith(`...: ${does}`), name);
  assert.is(rollbackName(1, 'short', 'remove it again'), '1: short: remove it again');
  // No room for the setting's name: what it does, cut to the limit.
  const huge = `restore ${'k'.repeat(400)}`;
  assert.is(rollbackName(3, 'name', huge).length, RESOURCE_NAME_MAX);
  assert.ok(rollbackName(3, 'name', huge).startsWith('3: restore kkk'));
  const { yaml } = rollbackDocument({ ...record('Snapshot'), entries: [{ ...ENTRIES[0]!, resource: long }] }, 'r3');
  assert.equal(validateText('rollback.yaml', yaml).diagnostics.map(formatDiagnostic), []);
});

test.run();
