import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { validateText } from '../../src/document/validate.js';
import { meetsCondition, parseCondition } from '../../src/kinds/condition.js';
import { planFromYaml, tempDir, writeReg } from '../helpers.js';

const engine = new Engine();
test.after(() => engine.close());

const KEY = 'HKLM\\SOFTWARE\\Cond';
const DOC = `
metadata: { name: conditions }
resources:
  - { name: at least ok, type: Registry, properties: { key: '${KEY}', valueName: Big, valueType: DWord, valueData: 0x8000, condition: { atLeast: 0x8000 } } }
  - { name: at least low, type: Registry, properties: { key: '${KEY}', valueName: Low, valueType: DWord, valueData: 0x8000, condition: { atLeast: 0x8000 } } }
  - { name: numeric text ok, type: Registry, properties: { key: '${KEY}', valueName: T1, valueType: String, valueData: '900', condition: { atMost: 900, not: 0 } } }
  - { name: numeric text zero, type: Registry, properties: { key: '${KEY}', valueName: T2, valueType: String, valueData: '900', condition: { atMost: 900, not: 0 } } }
  - { name: numeric text words, type: Registry, properties: { key: '${KEY}', valueName: T3, valueType: String, valueData: '900', condition: { atMost: 900, not: 0 } } }
  - { name: one of or absent, type: Registry, properties: { key: '${KEY}', valueName: Gone, valueType: DWord, valueData: 1, condition: { oneOf: [1, 3, 8] }, absentOk: true } }
  - { name: one of hit, type: Registry, properties: { key: '${KEY}', valueName: Three, valueType: DWord, valueData: 1, condition: { oneOf: [1, 3, 8] } } }
  - { name: one of miss, type: Registry, properties: { key: '${KEY}', valueName: Two, valueType: DWord, valueData: 1, condition: { oneOf: [1, 3, 8] } } }
  - { name: bit set, type: Registry, properties: { key: '${KEY}', valueName: Mask, valueType: DWord, valueData: 8, condition: { bitsSet: 8 } } }
  - { name: bit missing, type: Registry, properties: { key: '${KEY}', valueName: Mask2, valueType: DWord, valueData: 15, condition: { bitsSet: 8, bitsClear: 0x10 } } }
  - { name: qword huge, type: Registry, properties: { key: '${KEY}', valueName: Q, valueType: QWord, valueData: 18446744073709551615, condition: { atLeast: 18446744073709551614 } } }
  - { name: text one of, type: Registry, properties: { key: '${KEY}', valueName: Mode, valueType: String, valueData: strict, condition: { oneOf: [strict, paranoid] } } }
`;

function snapshot(): string {
  const file = join(tempDir(), 'cond.reg');
  writeReg(file, [
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Cond]',
    '"Big"=dword:00010000',
    '"Low"=dword:00000064',
    '"T1"=" 600"',
    '"T2"="0"',
    '"T3"="nine hundred"',
    '"Three"=dword:00000003',
    '"Two"=dword:00000002',
    '"Mask"=dword:0000000f',
    '"Mask2"=dword:00000017',
    '"Q"=hex(b):fe,ff,ff,ff,ff,ff,ff,ff',
    '"Mode"="paranoid"',
  ]);
  return file;
}

test('test judges every condition exactly; compliant values other than valueData are in desired state', async () => {
  const report = await engine.test(planFromYaml(DOC), { snapshot: snapshot() });
  const verdict = Object.fromEntries(report.results.map((r) => [r.name, r.inDesiredState]));
  assert.equal(verdict, {
    'at least ok': true, 'at least low': false, 'numeric text ok': true, 'numeric text zero': false, 'numeric text words': false,
    'one of or absent': true, 'one of hit': true, 'one of miss': false, 'bit set': true, 'bit missing': false, 'qword huge': true, 'text one of': true,
  });
  const low = report.results.find((r) => r.name === 'at least low')!;
  assert.equal(low.desired, { ensure: 'Present', valueType: 'DWord', valueData: 32768, condition: { atLeast: 32768 } });
  assert.equal(low.differingProperties, ['valueData']);
  assert.is(report.results.find((r) => r.name === 'one of or absent')!.desired!.absentOk, true);
});

test('set writes valueData only where the condition fails, and converges', async () => {
  const file = snapshot();
  const plan = planFromYaml(DOC);
  const set = await engine.set(plan, { snapshot: file });
  const changed = set.results.filter((r) => r.changed).map((r) => r.name).sort();
  assert.equal(changed, ['at least low', 'bit missing', 'numeric text words', 'numeric text zero', 'one of miss']);
  const got = Object.fromEntries((await engine.get(plan, { snapshot: file })).results.map((r) => [r.name, r.actual]));
  assert.equal(got['at least ok'], { ensure: 'Present', valueType: 'DWord', valueData: 65536 }, 'a compliant value is left as it was');
  assert.equal(got['numeric text ok'], { ensure: 'Present', valueType: 'String', valueData: ' 600' });
  assert.equal(got['one of or absent'], { ensure: 'Absent' }, 'absence was fine, nothing written');
  assert.equal(got['bit missing'], { ensure: 'Present', valueType: 'DWord', valueData: 15 });
  assert.is((await engine.test(plan, { snapshot: file })).summary.drifted, 0);
});

test('conditions are checked when the document is validated', () => {
  const bad = (props: string) => validateText('c.yaml', `metadata: { name: c }\nresources:\n  - { name: r, type: Registry, properties: { key: 'HKLM\\X', valueName: v, ${props} } }\n`).diagnostics.map((d) => d.message).join('\n');
  assert.match(bad('valueType: DWord, valueData: 0, condition: { atLeast: 1 }'), /does not meet the condition/);
  assert.match(bad('valueType: DWord, valueData: 5, condition: { atLeast: 10, atMost: 2 }'), /no value can comply/);
  assert.match(bad("valueType: String, valueData: 'a', condition: { bitsSet: 1 }"), /DWord and QWord/);
  assert.match(bad('valueType: MultiString, valueData: [a], condition: { oneOf: [a] }'), /not MultiString/);
  assert.match(bad('valueType: DWord, valueData: 1, condition: { oneOf: [1, x] }'), /lists numbers/);
  assert.match(bad('valueType: DWord, valueData: 1, condition: { atMost: 4294967296 }'), /0\.\.4294967295/);
  assert.match(bad('valueType: DWord, valueData: 1, condition: { between: 1 }'), /unknown property 'between'/);
  assert.match(bad("valueType: String, valueData: ' 4', condition: { atMost: 4 }"), /does not meet the condition/, 'valueData under number tests is plain digits');
});

test('meetsCondition (validation) and the runtime agree on edge cases', () => {
  const c = (raw: Record<string, unknown>, type: 'DWord' | 'String' | 'QWord') => {
    const parsed = parseCondition(raw, type);
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.condition;
  };
  assert.ok(meetsCondition(c({ atMost: 4n }, 'String'), 'String', ' 4 '));
  assert.not.ok(meetsCondition(c({ atLeast: 1n }, 'String'), 'String', '18446744073709551616'), 'past 2^64-1 the runtime cannot read it');
  assert.not.ok(meetsCondition(c({ atLeast: 1n }, 'String'), 'String', '\uFEFF5'), '.NET Trim keeps U+FEFF');
  assert.not.ok(meetsCondition(c({ atMost: 4n }, 'String'), 'String', '4x'));
  assert.not.ok(meetsCondition(c({ atMost: 4n }, 'String'), 'String', '-1'));
  assert.ok(meetsCondition(c({ bitsSet: 0x8000n, bitsClear: 1n }, 'DWord'), 'DWord', 0x8002));
  assert.ok(meetsCondition(c({ atLeast: 18446744073709551614n }, 'QWord'), 'QWord', '18446744073709551615'));
});


test('a Policy resource can state its own condition: test accepts the range, set writes the value only on a miss', async () => {
  const doc = `
metadata: { name: policy-conditions }
resources:
  - { name: cache, type: Policy, properties: { policy: 'Interactive logon: Number of previous logons to cache (in case domain controller is not available)', value: '2', condition: { atMost: 2 } } }
  - { name: idle, type: Policy, properties: { policy: 'Interactive logon: Machine inactivity limit', value: 600, condition: { atMost: 600, not: 0 }, absentOk: false } }
`;
  const file = join(tempDir(), 'policy-cond.reg');
  writeReg(file, [
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon]',
    '"CachedLogonsCount"="1"',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System]',
    '"InactivityTimeoutSecs"=dword:00000384',
  ]);
  const plan = planFromYaml(doc);
  const before = await engine.test(plan, { snapshot: file });
  assert.equal(Object.fromEntries(before.results.map((r) => [r.name, r.inDesiredState])), { cache: true, idle: false }, '1 cached logon is within 2; 900 s exceeds 600');
  assert.equal(before.results[0]!.desired!.condition, { atMost: 2 });
  assert.not.ok('policyValue' in before.results[0]!.actual!, 'a setting without named choices has no word for its data');
  const set = await engine.set(plan, { snapshot: file });
  assert.equal(set.results.map((r) => r.changed), [false, true]);
  const got = (await engine.get(plan, { snapshot: file })).results.map((r) => r.actual!.valueData);
  assert.equal(got, ['1', 600]);
});

test('a Policy condition is refused with value: recommended, and when the value itself fails it', () => {
  const bad = (props: string) => validateText('p.yaml', `metadata: { name: p }\nresources:\n  - { name: r, type: Policy, properties: { policy: 'Interactive logon: Machine inactivity limit', ${props} } }\n`).diagnostics.map((d) => d.message).join('\n');
  assert.match(bad('value: recommended, condition: { atMost: 600 }'), /condition does not go with value: recommended/);
  assert.match(bad('value: recommended, absentOk: true'), /absentOk does not go with value: recommended/);
  assert.match(bad('value: 900, condition: { atMost: 600 }'), /value 900 does not meet the condition/);
  assert.is(bad('value: 600, condition: { atMost: 600, not: 0 }'), '');
});

test.run();
