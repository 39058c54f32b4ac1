import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { compilePlan } from '../../src/compile/emit.js';
import type { RunReport } from '../../src/engine/results.js';
import { planFromYaml, readReg, runPwshFile, tempDir, writeReg } from '../helpers.js';

const KEY = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Winstate\\Test';
const engine = new Engine();
test.after(() => engine.close());

const EVERY_TYPE = `
metadata: { name: every-type }
resources:
  - { name: text, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Winstate\\Test', valueName: Text, valueType: String, valueData: "it's \\"quoted\\" \\\\ back" } }
  - { name: expand, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Winstate\\Test', valueName: Path, valueType: ExpandString, valueData: '%SystemRoot%\\system32' } }
  - { name: dword max, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Winstate\\Test', valueName: Max32, valueType: DWord, valueData: 4294967295 } }
  - { name: qword max, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Winstate\\Test', valueName: Max64, valueType: QWord, valueData: 18446744073709551615 } }
  - { name: multi, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Winstate\\Test', valueName: List, valueType: MultiString, valueData: [a, '', c] } }
  - { name: binary, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Winstate\\Test', valueName: Bytes, valueType: Binary, valueData: '00 ff 10' } }
  - { name: default value, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Winstate\\Test', valueName: '', valueType: String, valueData: default } }
  - { name: wrong type, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Winstate\\Test', valueName: Typed, valueType: DWord, valueData: 1 } }
  - { name: value gone, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Winstate\\Test', valueName: Legacy, ensure: Absent } }
  - { name: key gone, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Winstate\\Old', ensure: Absent } }
  - { name: new key, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Winstate\\New\\Deep', ensure: Present } }
  - { name: case-insensitive name, type: Registry, properties: { key: 'hklm\\software\\winstate\\test', valueName: MIXEDCASE, valueType: DWord, valueData: 7 } }
`;

function startSnapshot(dir: string): string {
  const file = join(dir, 'machine.reg');
  writeReg(file, [
    `[${KEY}]`,
    '"Text"="old"',
    '"Max32"=dword:00000000',
    '"Typed"="1"',
    '"Legacy"=dword:00000001',
    '"mixedCase"=dword:00000007',
    '',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Winstate\\Old]',
    '"X"=dword:00000001',
    '',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Winstate\\Old\\Child]',
    '"Y"="z"',
  ]);
  return file;
}

const byName = (report: RunReport) => Object.fromEntries(report.results.map((r) => [r.name, r]));

test('test reports every mismatch with its differing properties, and compliant settings too', async () => {
  const snapshot = startSnapshot(tempDir());
  const report = await engine.test(planFromYaml(EVERY_TYPE), { snapshot });
  const r = byName(report);
  assert.is(report.results.length, 12);
  assert.equal(r['text']!.differingProperties, ['valueData']);
  assert.equal(r['text']!.actual, { ensure: 'Present', valueType: 'String', valueData: 'old' });
  assert.equal(r['expand']!.differingProperties, ['ensure', 'valueType', 'valueData']);
  assert.equal(r['wrong type']!.differingProperties, ['valueType', 'valueData']);
  assert.equal(r['wrong type']!.actual, { ensure: 'Present', valueType: 'String', valueData: '1' });
  assert.equal(r['value gone']!.differingProperties, ['ensure']);
  assert.equal(r['key gone']!.differingProperties, ['ensure']);
  assert.equal(r['new key']!.actual, { ensure: 'Absent' });
  assert.is(r['case-insensitive name']!.inDesiredState, true);
  assert.equal(r['case-insensitive name']!.differingProperties, []);
  assert.equal(report.summary, { total: 12, inDesiredState: 1, drifted: 11, changed: 0, failed: 0, skipped: 0, waived: 0 });
});

test('set writes every value type exactly; get and a fresh test read them back', async () => {
  const snapshot = startSnapshot(tempDir());
  const plan = planFromYaml(EVERY_TYPE);
  const set = await engine.set(plan, { snapshot });
  assert.is(set.summary.changed, 11);
  assert.is(set.summary.drifted, 0);
  const before = byName(set);
  assert.equal(before['dword max']!.before, { ensure: 'Present', valueType: 'DWord', valueData: 0 });
  assert.equal(before['dword max']!.after, { ensure: 'Present', valueType: 'DWord', valueData: 4294967295 });

  const got = byName(await engine.get(plan, { snapshot }));
  assert.equal(got['text']!.actual!.valueData, 'it\'s "quoted" \\ back');
  assert.equal(got['expand']!.actual, { ensure: 'Present', valueType: 'ExpandString', valueData: '%SystemRoot%\\system32' });
  assert.equal(got['qword max']!.actual, { ensure: 'Present', valueType: 'QWord', valueData: '18446744073709551615' });
  assert.equal(got['multi']!.actual!.valueData, ['a', '', 'c']);
  assert.equal(got['binary']!.actual!.valueData, '00ff10');
  assert.equal(got['default value']!.actual!.valueData, 'default');
  assert.equal(got['wrong type']!.actual, { ensure: 'Present', valueType: 'DWord', valueData: 1 });
  assert.equal(got['value gone']!.actual, { ensure: 'Absent' });
  assert.equal(got['key gone']!.actual, { ensure: 'Absent' });
  assert.equal(got['new key']!.actual, { ensure: 'Present' });

  const text = readReg(snapshot);
  assert.ok(text.includes('"Max64"=hex(b):ff,ff,ff,ff,ff,ff,ff,ff'), 'QWORD written as hex(b)');
  assert.ok(text.includes('"Max32"=dword:ffffffff'));
  assert.ok(text.includes('@="default"'));
  assert.not.ok(/Winstate\\Old/.test(text), 'removed key and its child are gone');
  assert.ok(text.includes('"mixedCase"=dword:00000007'), 'untouched value keeps its spelling');
  const retest = await engine.test(plan, { snapshot });
  assert.equal(retest.summary, { total: 12, inDesiredState: 12, drifted: 0, changed: 0, failed: 0, skipped: 0, waived: 0 });
});

test('apply twice: the second run plans nothing and leaves the file byte for byte', async () => {
  const snapshot = startSnapshot(tempDir());
  const plan = planFromYaml(EVERY_TYPE);
  const first = await engine.apply(plan, { snapshot });
  assert.is(first.plan.length, 11);
  assert.ok(first.converged);
  const bytes = readFileSync(snapshot);
  const second = await engine.apply(plan, { snapshot });
  assert.is(second.plan.length, 0);
  assert.is(second.set, undefined);
  assert.ok(second.converged);
  assert.ok(readFileSync(snapshot).equals(bytes));
});

test('what-if describes the changes and changes nothing', async () => {
  const snapshot = startSnapshot(tempDir());
  const bytes = readFileSync(snapshot);
  const report = await engine.apply(planFromYaml(EVERY_TYPE), { snapshot, whatIf: true });
  assert.is(report.plan.length, 11);
  assert.ok(report.set!.whatIf);
  assert.is(report.set!.summary.changed, 0);
  assert.ok(report.set!.results.filter((r) => r.whatIf).length === 11);
  assert.is(report.converged, false);
  assert.ok(readFileSync(snapshot).equals(bytes), 'snapshot bytes unchanged');
});

test('the generated script run directly by pwsh gives the same results as the bridge', async () => {
  const dir = tempDir();
  const snapshot = startSnapshot(dir);
  const plan = planFromYaml(EVERY_TYPE);
  const scriptFile = join(dir, 'every-type.ps1');
  writeFileSync(scriptFile, compilePlan(plan).text);
  const viaBridge = await engine.test(plan, { snapshot });
  const direct = runPwshFile(scriptFile, ['-Mode', 'Test', '-RegistrySnapshot', snapshot, '-OutputFormat', 'Json']);
  assert.is(direct.status, 2, `exit code 2 for drift; stderr: ${direct.stderr}`);
  const directReport = JSON.parse(direct.stdout) as RunReport;
  assert.equal(directReport.results, viaBridge.results);
  assert.equal(directReport.summary, viaBridge.summary);

  const setRun = runPwshFile(scriptFile, ['-Mode', 'Set', '-RegistrySnapshot', snapshot]);
  assert.is(setRun.status, 0, setRun.stderr);
  assert.match(setRun.stdout, /\n12 resources: 11 changed, 1 already in desired state, 0 drifted, 0 failed\r?\n/);
  // Read like the CLI: setting, current -> desired, never raw JSON objects.
  assert.match(setRun.stdout, /\[CHANGED\] [^\n]+: [^\n]+ -> [^\n]+/);
  assert.not.match(setRun.stdout, /\{"ensure"/);
  assert.is((await engine.test(plan, { snapshot })).summary.inDesiredState, 12);
});

test('the generated script run by hand: -WhatIf names the setting with its current and desired value; text output in policy terms', () => {
  const dir = tempDir();
  const snapshot = join(dir, 's.reg');
  writeReg(snapshot, ['[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters]', '"EnableSecuritySignature"=dword:00000000']);
  const before = readFileSync(snapshot);
  const scriptFile = join(dir, 'smb.ps1');
  writeFileSync(scriptFile, compilePlan(planFromYaml(`metadata: { name: smb }
resources:
  - { name: SMB signing, type: SecurityOption, properties: { policy: "Microsoft network client: Digitally sign communications (if server agrees)", value: Enabled } }
`)).text);
  const run = runPwshFile(scriptFile, ['-Mode', 'Set', '-RegistrySnapshot', snapshot, '-WhatIf']);
  assert.is(run.status, 2, run.stderr);
  assert.match(run.stdout, /What if: Performing the operation "Set Disabled -> Enabled" on target "SMB signing \[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters!EnableSecuritySignature\]"/);
  assert.match(run.stdout, /\[WHATIF\]  SMB signing: would change Disabled -> Enabled/);
  assert.ok(readFileSync(snapshot).equals(before), 'nothing written under -WhatIf');
  const test = runPwshFile(scriptFile, ['-Mode', 'Test', '-RegistrySnapshot', snapshot]);
  assert.match(test.stdout, /\[DRIFT\]   SMB signing: Disabled -> Enabled\r?\n1 resource: 0 changed, 0 in desired state, 1 drifted, 0 failed/);
});

test('policy resources report in the policy\'s own terms', async () => {
  const dir = tempDir();
  const snapshot = join(dir, 's.reg');
  writeReg(snapshot, ['[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters]', '"EnableSecuritySignature"=dword:00000005']);
  const plan = planFromYaml(readFileSync('configurations/smb-client-signing.yaml', 'utf8'));
  const [policy, raw] = (await engine.test(plan, { snapshot })).results;
  assert.equal(policy!.desired, { ensure: 'Present', valueType: 'DWord', valueData: 1, policyValue: 'Enabled' });
  assert.equal(policy!.actual, { ensure: 'Present', valueType: 'DWord', valueData: 5, policyValue: null });
  assert.is(policy!.id, 'smb-client-signing-if-server-agrees');
  assert.is(raw!.actual!.policyValue, undefined);
  assert.ok(!existsSync(join(dir, 's.reg.tmp')));
});

test.run();
