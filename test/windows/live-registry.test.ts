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

void underWine;
const KEY = `HKCU\\Software\\winstate-test-${randomBytes(4).toString('hex')}`;
const engine = new Engine();
const cleanup = planFromYaml(`metadata: { name: cleanup }\nresources:\n  - { name: gone, type: Registry, properties: { key: '${KEY}', ensure: Absent } }\n`);
test.after(async () => {
  await engine.set(cleanup);
  await engine.close();
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
