import { test } from 'uvu';
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
  ],
};

test('rollback restores only what the run applied, exactly, and names what it cannot express', () => {
  const { yaml, unsupported } = rollbackDocument(BACKUP, '20261125T000000000Z-abcdef', new Set(['applied', 'odd']));
  const { plan, diagnostics } = validateText('rollback.yaml', yaml);
  assert.equal(diagnostics, []);
  assert.is(plan!.resources.length, 1);
  assert.equal(plan!.resources[0]!.desired, { ensure: 'Present', valueType: 'QWord', valueData: '18446744073709551615' });
  assert.equal(unsupported, ['HKEY_LOCAL_MACHINE\\SOFTWARE\\A!n (type Raw 0)']);
  assert.not.ok(yaml.includes('SOFTWARE\\B'), 'the failed resource and the key it would have created are left alone');
  const all = parse(rollbackDocument(BACKUP, '20261125T000000000Z-abcdef').yaml) as { resources: { properties: Record<string, unknown> }[] };
  assert.equal(all.resources.map((r) => r.properties.ensure ?? 'Present'), ['Present', 'Absent', 'Absent']);
  assert.is(all.resources[2]!.properties.onlyIfEmpty, true);
});

test.run();
