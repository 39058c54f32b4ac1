import { test } from 'uvu';
import { registrySpec } from '../../src/kinds/registry/kind.js';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { rollbackDocument, type BackupRecord } from '../../src/engine/rollback.js';
import { validateText } from '../../src/document/validate.js';

const BACKUP: BackupRecord = {
  tool: 'winstate', version: '0.1.0', document: 'd', target: 'Snapshot', snapshot: '/x.reg', createdAt: '2026-11-25T00:00:00Z',
  entries: [
    { resource: 'applied', target: 'T1', hive: 'HKEY_LOCAL_MACHINE', subKey: 'SOFTWARE\\A', valueName: 'v', keyExisted: true, value: { exists: true, valueType: 'QWord', typeCode: 11, valueData: '18446744073709551615' } },
    { resource: 'failed', target: 'T2', hive: 'HKEY_LOCAL_MACHINE', subKey: 'SOFTWARE\\B', valueName: 'w', keyExisted: false, value: { exists: false }, createdKeys: ['SOFTWARE\\B'] },
    { resource: 'odd', target: 'T3', hive: 'HKEY_LOCAL_MACHINE', subKey: 'SOFTWARE\\A', valueName: 'n', keyExisted: true, value: { exists: true, valueType: 'Raw', typeCode: 0, valueData: '' } },
    // Backups since the raw form: exact bytes for what the typed form cannot put back.
    { resource: 'none', target: 'T4', hive: 'HKEY_LOCAL_MACHINE', subKey: 'SOFTWARE\\A', valueName: 'z', keyExisted: true, value: { exists: true, valueType: 'Raw', typeCode: 0, valueData: '0102', rawData: '0102' } },
    { resource: 'nul', target: 'T5', hive: 'HKEY_LOCAL_MACHINE', subKey: 'SOFTWARE\\A', valueName: 's', keyExisted: true, value: { exists: true, valueType: 'String', typeCode: 1, valueData: 'a\0b', rawData: '6100000062000000' } },
    { resource: 'unnamable', target: 'T6', hive: 'HKEY_LOCAL_MACHINE', subKey: 'SOFTWARE\\A', valueName: 'x\0y', keyExisted: true, value: { exists: true, valueType: 'DWord', typeCode: 4, valueData: 1 } },
  ],
};

test('rollback restores only what the run applied, exactly, and names what it cannot express', () => {
  const { yaml, unsupported } = rollbackDocument(BACKUP, '20261125T000000000Z-abcdef', new Set(['applied', 'odd', 'none', 'nul', 'unnamable']));
  const { plan, diagnostics } = validateText('rollback.yaml', yaml);
  assert.equal(diagnostics, []);
  assert.is(plan!.resources.length, 3);
  assert.equal(registrySpec(plan!.resources[0]!)!.desired, { ensure: 'Present', valueType: 'QWord', valueData: '18446744073709551615' });
  assert.equal(registrySpec(plan!.resources[1]!)!.desired, { ensure: 'Present', valueType: 'Binary', valueData: '0102', typeCode: 0 });
  assert.equal(registrySpec(plan!.resources[2]!)!.desired, { ensure: 'Present', valueType: 'Binary', valueData: '6100000062000000', typeCode: 1 });
  assert.equal(unsupported, [
    'HKEY_LOCAL_MACHINE\\SOFTWARE\\A!n: type Raw 0 has no document form',
    'HKEY_LOCAL_MACHINE\\SOFTWARE\\A!x\0y: registry text cannot contain the NUL character (U+0000): Windows ends the string there',
  ]);
  assert.not.ok(yaml.includes('SOFTWARE\\B'), 'the failed resource and the key it would have created are left alone');
  const all = parse(rollbackDocument(BACKUP, '20261125T000000000Z-abcdef').yaml) as { resources: { properties: Record<string, unknown> }[] };
  assert.equal(all.resources.map((r) => r.properties.ensure ?? 'Present'), ['Present', 'Absent', 'Present', 'Present', 'Absent']);
  assert.is(all.resources[4]!.properties.onlyIfEmpty, true);
});

test('the raw form needs valueType Binary and takes no condition', () => {
  const bad = validateText('raw.yaml', `metadata: { name: raw }
resources:
  - { name: r, type: Registry, properties: { key: 'HKLM\\S', valueName: v, valueType: String, valueData: x, typeCode: 1 } }
`);
  assert.is(bad.plan, undefined);
  assert.match(bad.diagnostics[0]!.message, /typeCode \(the raw form\) goes with valueType: Binary/);
});

test.run();
