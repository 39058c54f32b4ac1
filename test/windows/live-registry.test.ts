// Live-registry tests under a throwaway HKCU key, through the engine and bridge the CLI uses.
// On Windows runners (.github/workflows/windows-live.yml) WINSTATE_PWSH picks Windows PowerShell
// 5.1 (powershell.exe) or PowerShell 7 (pwsh.exe); on Linux, `npm run test:live` runs them against
// the Windows build of PowerShell 7 under Wine (see live-env.ts).
import { underWine, describeLivePowerShell } from './live-env.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { compilePlan } from '../../src/compile/emit.js';
import type { RunReport } from '../../src/engine/results.js';
import { planFromYaml, runPwshFile, tempDir } from '../helpers.js';
import { PwshSession } from '../../src/bridge/session.js';
import { ps } from '../../src/compile/quote.js';
import { deleteTree, keyExists, readValues, writeValues, type RegValue } from './live-env.js';

const TAG = randomBytes(4).toString('hex');
const KEY = `HKCU\\Software\\winstate-test-${TAG}`;
// HKLM\SOFTWARE is the part of the registry that a 32-bit view redirects (WOW6432Node).
const MACHINE_KEY = `HKLM\\SOFTWARE\\winstate-test-${TAG}`;
const engine = new Engine();
// A second process, for reading and writing straight through RegistryKey, apart from winstate's store.
const direct = new PwshSession();
const cleanup = planFromYaml(`metadata: { name: cleanup }\nresources:\n  - { name: gone, type: Registry, properties: { key: '${KEY}', ensure: Absent } }\n`);
test.after(async () => {
  await engine.set(cleanup);
  await deleteTree(direct, MACHINE_KEY);
  await deleteTree(direct, MACHINE_KEY, 'Registry32');
  await engine.close();
  await direct.close();
});

test('the PowerShell under test runs on Windows (Win32NT)', async () => {
  const info = await describeLivePowerShell(direct);
  console.log(`\n  live PowerShell ${info.version} (${info.edition}) Platform ${info.platform}, ${info.os}, 64-bit process: ${info.is64BitProcess}${underWine ? ', under Wine' : ''}`);
  assert.is(info.platform, 'Win32NT');
});

const DOC = `
metadata: { name: live }
resources:
  - { name: text, type: Registry, properties: { key: '${KEY}\\Sub', valueName: Text, valueType: String, valueData: "it's \\u2019 $(x) \`n" } }
  - { name: expand, type: Registry, properties: { key: '${KEY}\\Sub', valueName: Path, valueType: ExpandString, valueData: '%SystemRoot%\\x' } }
  - { name: dword, type: Registry, properties: { key: '${KEY}\\Sub', valueName: D, valueType: DWord, valueData: 4294967295 } }
  - { name: qword, type: Registry, properties: { key: '${KEY}\\Sub', valueName: Q, valueType: QWord, valueData: 18446744073709551615 } }
  - { name: multi, type: Registry, properties: { key: '${KEY}\\Sub', valueName: M, valueType: MultiString, valueData: [a, '', c] } }
  - { name: binary, type: Registry, properties: { key: '${KEY}\\Sub', valueName: B, valueType: Binary, valueData: '00ff10' } }
  - { name: default, type: Registry, properties: { key: '${KEY}\\Sub', valueName: '', valueType: String, valueData: dflt } }
  - { name: absent, type: Registry, properties: { key: '${KEY}\\Sub', valueName: Never, ensure: Absent } }
`;

test('set creates the key and every value type; test then reports all in desired state', async () => {
  const plan = planFromYaml(DOC);
  const before = await engine.test(plan);
  assert.is(before.summary.drifted, 7);
  assert.is(before.summary.inDesiredState, 1);
  const set = await engine.set(plan);
  assert.is(set.summary.failed, 0, JSON.stringify(set.results));
  assert.is(set.summary.changed, 7);
  const got = Object.fromEntries((await engine.get(plan)).results.map((r) => [r.name, r.actual]));
  assert.equal(got['text'], { ensure: 'Present', valueType: 'String', valueData: "it's \u2019 $(x) `n" });
  assert.equal(got['expand'], { ensure: 'Present', valueType: 'ExpandString', valueData: '%SystemRoot%\\x' });
  assert.equal(got['dword'], { ensure: 'Present', valueType: 'DWord', valueData: 4294967295 });
  assert.equal(got['qword'], { ensure: 'Present', valueType: 'QWord', valueData: '18446744073709551615' });
  assert.equal(got['multi'], { ensure: 'Present', valueType: 'MultiString', valueData: ['a', '', 'c'] });
  assert.equal(got['binary'], { ensure: 'Present', valueType: 'Binary', valueData: '00ff10' });
  assert.equal(got['default'], { ensure: 'Present', valueType: 'String', valueData: 'dflt' });
  assert.is((await engine.test(plan)).summary.inDesiredState, 8);
  // The same values, read straight through RegistryKey: kind and data as written.
  const back = await readValues(direct, `${KEY}\\Sub`, ['Text', 'Path', 'D', 'Q', 'M', 'B', '', 'Never']);
  console.log(`  read back through RegistryKey: ${JSON.stringify(back)}`);
  assert.equal(back, {
    Text: { kind: 'String', data: "it's \u2019 $(x) `n" },
    Path: { kind: 'ExpandString', data: '%SystemRoot%\\x' },
    D: { kind: 'DWord', data: 4294967295 },
    Q: { kind: 'QWord', data: '18446744073709551615' },
    M: { kind: 'MultiString', data: ['a', '', 'c'] },
    B: { kind: 'Binary', data: '00ff10' },
    '': { kind: 'String', data: 'dflt' },
    Never: null,
  });
});

test('every value type written through RegistryKey reads back exactly, the boundaries included', async () => {
  const values = {
    Q1: { kind: 'QWord', data: '9223372036854775809' },
    Q0: { kind: 'QWord', data: '0' },
    D0: { kind: 'DWord', data: 2147483648 },
    E: { kind: 'ExpandString', data: '%PATH%;%NOPE%' },
    M1: { kind: 'MultiString', data: [''] },
    M0: { kind: 'MultiString', data: [] },
    B0: { kind: 'Binary', data: '' },
    S0: { kind: 'String', data: '' },
  } satisfies Record<string, RegValue>;
  await writeValues(direct, `${KEY}\\Fixture`, values);
  const plan = planFromYaml(`metadata: { name: types }
resources:
  - { name: Q1, type: Registry, properties: { key: '${KEY}\\Fixture', valueName: Q1, valueType: QWord, valueData: 9223372036854775809 } }
  - { name: Q0, type: Registry, properties: { key: '${KEY}\\Fixture', valueName: Q0, valueType: QWord, valueData: 0 } }
  - { name: D0, type: Registry, properties: { key: '${KEY}\\Fixture', valueName: D0, valueType: DWord, valueData: 2147483648 } }
  - { name: E, type: Registry, properties: { key: '${KEY}\\Fixture', valueName: E, valueType: ExpandString, valueData: '%PATH%;%NOPE%' } }
  - { name: M1, type: Registry, properties: { key: '${KEY}\\Fixture', valueName: M1, valueType: MultiString, valueData: [''] } }
  - { name: M0, type: Registry, properties: { key: '${KEY}\\Fixture', valueName: M0, valueType: MultiString, valueData: [] } }
  - { name: B0, type: Registry, properties: { key: '${KEY}\\Fixture', valueName: B0, valueType: Binary, valueData: '' } }
  - { name: S0, type: Registry, properties: { key: '${KEY}\\Fixture', valueName: S0, valueType: String, valueData: '' } }
`);
  const report = await engine.test(plan);
  assert.equal(report.results.filter((r) => !r.inDesiredState).map((r) => [r.name, r.actual]), []);
  assert.equal(Object.fromEntries(report.results.map((r) => [r.name, r.actual!.valueData])), {
    Q1: '9223372036854775809', Q0: '0', D0: 2147483648, E: '%PATH%;%NOPE%', M1: [''], M0: [], B0: '', S0: '',
  });
});

test('get tells absent keys, absent values and present ones apart', async () => {
  const plan = planFromYaml(`metadata: { name: presence }
resources:
  - { name: no key, type: Registry, properties: { key: '${KEY}\\Missing', valueName: X, valueType: DWord, valueData: 1 } }
  - { name: no value, type: Registry, properties: { key: '${KEY}\\Sub', valueName: Missing, valueType: DWord, valueData: 1 } }
  - { name: key only, type: Registry, properties: { key: '${KEY}\\Sub' } }
  - { name: key only absent, type: Registry, properties: { key: '${KEY}\\Missing' } }
  - { name: value present, type: Registry, properties: { key: '${KEY}\\Sub', valueName: D, valueType: DWord, valueData: 4294967295 } }
`);
  const got = Object.fromEntries((await engine.get(plan)).results.map((r) => [r.name, r.actual!.ensure]));
  assert.equal(got, { 'no key': 'Absent', 'no value': 'Absent', 'key only': 'Present', 'key only absent': 'Absent', 'value present': 'Present' });
  const tested = await engine.test(plan);
  assert.equal(tested.results.map((r) => r.inDesiredState), [false, false, true, false, true]);
});

test('conditions: set leaves a compliant value alone and writes valueData over a failing one', async () => {
  await writeValues(direct, `${KEY}\\Cond`, { Big: { kind: 'DWord', data: 65536 }, Small: { kind: 'DWord', data: 100 }, Text: { kind: 'String', data: '600' } });
  const plan = planFromYaml(`metadata: { name: cond }
resources:
  - { name: big, type: Registry, properties: { key: '${KEY}\\Cond', valueName: Big, valueType: DWord, valueData: 0x8000, condition: { atLeast: 0x8000 } } }
  - { name: small, type: Registry, properties: { key: '${KEY}\\Cond', valueName: Small, valueType: DWord, valueData: 0x8000, condition: { atLeast: 0x8000 } } }
  - { name: text, type: Registry, properties: { key: '${KEY}\\Cond', valueName: Text, valueType: String, valueData: '900', condition: { atMost: 900, not: '0' } } }
  - { name: optional, type: Registry, properties: { key: '${KEY}\\Cond', valueName: Gone, valueType: DWord, valueData: 1, absentOk: true } }
`);
  const before = await engine.test(plan);
  assert.equal(before.results.map((r) => r.inDesiredState), [true, false, true, true]);
  const set = await engine.set(plan);
  assert.equal(set.results.filter((r) => r.changed).map((r) => r.name), ['small']);
  assert.equal(await readValues(direct, `${KEY}\\Cond`, ['Big', 'Small', 'Text', 'Gone']), {
    Big: { kind: 'DWord', data: 65536 }, Small: { kind: 'DWord', data: 32768 }, Text: { kind: 'String', data: '600' }, Gone: null,
  });
});

test('waivers: an active one skips, an override is enforced instead, an expired one no longer applies', async () => {
  await writeValues(direct, `${KEY}\\Waived`, { A: { kind: 'DWord', data: 0 }, B: { kind: 'DWord', data: 0 }, C: { kind: 'DWord', data: 0 } });
  const plan = planFromYaml(`metadata: { name: waived }
resources:
  - { name: skipped, type: Registry, properties: { key: '${KEY}\\Waived', valueName: A, valueType: DWord, valueData: 1 } }
  - { name: relaxed, type: Registry, properties: { key: '${KEY}\\Waived', valueName: B, valueType: DWord, valueData: 1 } }
  - { name: expired, type: Registry, properties: { key: '${KEY}\\Waived', valueName: C, valueType: DWord, valueData: 1 } }
waivers:
  - { resource: skipped, justification: The old scanner needs it off, expires: 2099-12-31 }
  - { resource: relaxed, justification: Two is enough for now, expires: 2099-12-31, override: { valueData: 2 } }
  - { resource: expired, justification: Was needed last year, expires: 2020-01-01 }
`);
  const set = await engine.set(plan);
  const byName = Object.fromEntries(set.results.map((r) => [r.name, r]));
  assert.is(byName['skipped']!.waived, true);
  assert.is(byName['expired']!.waiver!.status, 'expired');
  assert.equal(await readValues(direct, `${KEY}\\Waived`, ['A', 'B', 'C']), {
    A: { kind: 'DWord', data: 0 }, B: { kind: 'DWord', data: 2 }, C: { kind: 'DWord', data: 1 },
  });
  assert.is((await engine.test(plan)).summary.drifted, 0);
});

test('one failing setting does not stop the others; fail-fast skips the rest', async () => {
  // HKLM\HARDWARE is volatile: a lasting key cannot be created below it, on Windows and under Wine alike.
  const plan = planFromYaml(`metadata: { name: failing }
resources:
  - { name: before, type: Registry, properties: { key: '${KEY}\\Fail', valueName: Before, valueType: DWord, valueData: 1 } }
  - { name: broken, type: Registry, properties: { key: 'HKLM\\HARDWARE\\winstate-test-${TAG}', valueName: X, valueType: DWord, valueData: 1 } }
  - { name: after, type: Registry, properties: { key: '${KEY}\\Fail', valueName: After, valueType: DWord, valueData: 1 } }
`);
  const fast = await engine.set(plan, { failFast: true });
  assert.equal(fast.results.map((r) => [r.name, Boolean(r.changed), Boolean(r.error), Boolean(r.skipped)]), [
    ['before', true, false, false], ['broken', false, true, false], ['after', false, false, true],
  ]);
  assert.is(fast.partial, true);
  const report = await engine.set(plan);
  const broken = report.results.find((r) => r.name === 'broken')!;
  assert.ok(broken.error, 'a lasting key below a volatile one fails');
  console.log(`  the failing setting reported: ${broken.error}`);
  assert.is(report.summary.failed, 1);
  assert.equal(report.results.filter((r) => r.changed).map((r) => r.name), ['after']);
  assert.equal(await readValues(direct, `${KEY}\\Fail`, ['Before', 'After']), { Before: { kind: 'DWord', data: 1 }, After: { kind: 'DWord', data: 1 } });
});

test('the 64-bit view: winstate writes where Group Policy reads, and ignores the 32-bit copy', async () => {
  // A value that only exists in the 32-bit view (WOW6432Node) is not the machine's setting.
  await writeValues(direct, MACHINE_KEY, { Only32: { kind: 'DWord', data: 7 } }, 'Registry32');
  const plan = planFromYaml(`metadata: { name: view }
resources:
  - { name: native, type: Registry, properties: { key: '${MACHINE_KEY}', valueName: Native, valueType: DWord, valueData: 64 } }
  - { name: only32, type: Registry, properties: { key: '${MACHINE_KEY}', valueName: Only32, valueType: DWord, valueData: 7 } }
`);
  const before = await engine.get(plan);
  assert.equal(before.results.map((r) => r.actual!.ensure), ['Absent', 'Absent']);
  const set = await engine.set(plan);
  assert.is(set.summary.failed, 0, JSON.stringify(set.results));
  assert.equal(await readValues(direct, MACHINE_KEY, ['Native', 'Only32']), { Native: { kind: 'DWord', data: 64 }, Only32: { kind: 'DWord', data: 7 } });
  assert.equal(await readValues(direct, MACHINE_KEY, ['Native', 'Only32'], 'Registry32'), { Native: null, Only32: { kind: 'DWord', data: 7 } });
  assert.ok(await keyExists(direct, 'HKLM\\SOFTWARE\\WOW6432Node'), 'the 32-bit view has its own branch');
});

test('one session answers many short requests in a row (replies that arrive in one read are still found)', async () => {
  // Under Wine, with CRLF delimiter lines, one of the first few hundred requests used to wait forever.
  for (let i = 0; i < 300; i++) {
    const r = await direct.invoke(ps`${i} + 1`, 30_000);
    assert.ok(r.ok, `request ${i}: ${r.error?.message}`);
    assert.is(r.output, String(i + 1));
  }
});

test('a wrong type is drift and set fixes it; value names compare case-insensitively', async () => {
  const wrong = planFromYaml(`metadata: { name: w }\nresources:\n  - { name: d, type: Registry, properties: { key: '${KEY}\\Sub', valueName: d, valueType: String, valueData: '1' } }\n`);
  await engine.set(wrong);
  const plan = planFromYaml(DOC);
  const report = await engine.test(plan);
  const dword = report.results.find((r) => r.name === 'dword')!;
  assert.equal(dword.differingProperties, ['valueType', 'valueData']);
  await engine.set(plan);
  assert.is((await engine.test(plan)).summary.inDesiredState, 8);
});

test('what-if changes nothing; the standalone script agrees with the bridge', async () => {
  const plan = planFromYaml(DOC.replace('valueData: dflt', 'valueData: other'));
  const whatIf = await engine.apply(plan, { whatIf: true });
  assert.is(whatIf.plan.length, 1);
  const still = (await engine.get(plan)).results.find((r) => r.name === 'default')!;
  assert.is(still.actual!.valueData, 'dflt');
  const file = join(tempDir(), 'live.ps1');
  writeFileSync(file, compilePlan(plan).text);
  const direct = runPwshFile(file, ['-Mode', 'Test', '-OutputFormat', 'Json']);
  assert.is(direct.status, 2, direct.stderr);
  assert.equal((JSON.parse(direct.stdout) as RunReport).results, (await engine.test(plan)).results);
});

test('ensure Absent removes a value and then the whole key tree', async () => {
  const removeValue = planFromYaml(`metadata: { name: rv }\nresources:\n  - { name: v, type: Registry, properties: { key: '${KEY}\\Sub', valueName: D, ensure: Absent } }\n`);
  await engine.set(removeValue);
  assert.is((await engine.test(removeValue)).summary.inDesiredState, 1);
  await engine.set(cleanup);
  const t = await engine.test(cleanup);
  assert.is(t.summary.inDesiredState, 1);
});

test.run();
