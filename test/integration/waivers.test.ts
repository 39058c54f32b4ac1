import type { RegistrySpec } from '../../src/kinds/registry/kind.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { validateText } from '../../src/document/validate.js';
import { exitCodeOf } from '../../src/engine/results.js';
import { planFromYaml, tempDir, writeReg } from '../helpers.js';

const engine = new Engine();
test.after(() => engine.close());

const RESOURCES = `
metadata: { name: waived }
resources:
  - { name: skipped one, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\W', valueName: A, valueType: DWord, valueData: 1 } }
  - { name: relaxed one, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\W', valueName: B, valueType: DWord, valueData: 1 } }
  - { name: expired one, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\W', valueName: C, valueType: DWord, valueData: 1 } }
  - name: policy relaxed
    type: SecurityOption
    properties: { policy: "Microsoft network client: Digitally sign communications (if server agrees)", value: Enabled }
waivers:
  - resource: skipped one
    justification: Legacy scanner needs A off until it is replaced
    expires: 2099-12-31
    approvedBy: CISO
  - resource: relaxed one
    justification: Vendor supports only 2 for this release
    expires: 2099-12-31
    override: { valueData: 2 }
  - resource: expired one
    justification: Temporary exception for the migration weekend
    expires: 2020-01-31
  - resource: policy relaxed
    justification: Old NAS cannot sign; replaced next quarter
    expires: 2099-06-30
    override: { value: Disabled }
`;

function snapshot(): string {
  const file = join(tempDir(), 'w.reg');
  writeReg(file, [
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\W]', '"A"=dword:00000000', '"B"=dword:00000000', '"C"=dword:00000000', '',
    '[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters]', '"EnableSecuritySignature"=dword:00000001',
  ]);
  return file;
}

test('an expired waiver is reported when the document is validated, with its position', () => {
  const { plan, diagnostics, warnings } = validateText('w.yaml', RESOURCES, { now: new Date('2026-11-25T12:00:00Z') });
  assert.ok(plan);
  assert.equal(diagnostics, []);
  assert.is(warnings!.length, 1);
  assert.is(warnings![0]!.severity, 'warning');
  assert.is(warnings![0]!.start.line, 21); // the expires line of that waiver
  assert.match(warnings![0]!.message, /"expired one" expired on 2020-01-31: the resource is enforced again/);
  assert.is(plan.resources[0]!.waiver!.expired, false);
  assert.is(plan.resources[2]!.waiver!.expired, true);
});

test('test: an active waiver skips, an override replaces what is wanted, an expired one is enforced and says so', async () => {
  const report = await engine.test(planFromYaml(RESOURCES), { snapshot: snapshot() });
  const r = Object.fromEntries(report.results.map((x) => [x.name, x]));
  assert.is(r['skipped one']!.waived, true);
  assert.is(r['skipped one']!.inDesiredState, undefined);
  assert.equal(r['skipped one']!.waiver, { justification: 'Legacy scanner needs A off until it is replaced', expires: '2099-12-31', status: 'active', approvedBy: 'CISO' });
  assert.equal(r['relaxed one']!.desired!.valueData, 2);
  assert.is(r['relaxed one']!.waiver!.override, true);
  assert.is(r['relaxed one']!.inDesiredState, false);
  assert.is(r['expired one']!.waiver!.status, 'expired');
  assert.is(r['expired one']!.inDesiredState, false, 'enforced again');
  assert.is(r['policy relaxed']!.desired!.policyValue, 'Disabled');
  assert.is(r['policy relaxed']!.inDesiredState, false);
  assert.equal([report.summary.waived, report.summary.drifted], [1, 3]);
});

test('set leaves a waived value alone and writes overrides; the result converges with exit code 0', async () => {
  const file = snapshot();
  const plan = planFromYaml(RESOURCES);
  const report = await engine.apply(plan, { snapshot: file });
  assert.ok(report.converged);
  assert.is(exitCodeOf(report), 0);
  const got = Object.fromEntries((await engine.get(plan, { snapshot: file })).results.map((x) => [x.name, x.actual!.valueData]));
  assert.equal(got, { 'skipped one': 0, 'relaxed one': 2, 'expired one': 1, 'policy relaxed': 0 });
  assert.match(readFileSync(file).toString('utf16le'), /"A"=dword:00000000/);
});

test('the CLI prints an expired waiver as a warning and still runs', async () => {
  const { main } = await import('../../src/cli/cli.js');
  const dir = tempDir();
  const doc = join(dir, 'w.yaml');
  (await import('node:fs')).writeFileSync(doc, RESOURCES);
  let stderr = '';
  const code = await main(['test', doc, '--snapshot', snapshot()], { stdout: () => {}, stderr: (t) => void (stderr += t), session: engine.session });
  assert.is(code, 2, 'drift from the enforced resources, not an input error');
  assert.match(stderr, /w\.yaml:21:\d+: warning: the waiver for "expired one" expired on 2020-01-31/);
});

test('an override may not make two resources disagree about one value; an absentOk-only override keeps the condition', () => {
  const twice = `metadata: { name: t }
resources:
  - { name: one, type: Registry, properties: { key: 'HKLM\\X', valueName: v, valueType: DWord, valueData: 1 } }
  - { name: two, type: Registry, properties: { key: 'HKLM\\X', valueName: v, valueType: DWord, valueData: 1 } }
waivers:
  - { resource: two, justification: vendor wants two here, expires: 2099-01-01, override: { valueData: 2 } }
`;
  const conflict = validateText('t.yaml', twice).diagnostics;
  assert.is(conflict.length, 1);
  assert.is(conflict[0]!.code, 'conflict');
  assert.match(conflict[0]!.message, /^two: conflicts with "one" \(line 3\): both set .* \(after waivers\)$/);
  const relaxed = validateText('r.yaml', `metadata: { name: r }
resources:
  - { name: r, type: Registry, properties: { key: 'HKLM\\X', valueName: v, valueType: DWord, valueData: 1, condition: { oneOf: [1, 3] } } }
waivers:
  - { resource: r, justification: may be missing for now, expires: 2099-01-01, override: { absentOk: true } }
`);
  const override = (relaxed.plan!.resources[0]!.waiver!.override!.spec as RegistrySpec).desired;
  assert.equal(override.condition?.oneOf, [1n, 3n]);
  assert.is(override.absentOk, true);
});

test('waivers are checked: unknown resource, second waiver, impossible date, override of the wrong field or out of range', () => {
  const bad = (waiver: string) => validateText('w.yaml', `${RESOURCES.replace(/waivers:[\s\S]*/, '')}waivers:\n${waiver}`).diagnostics.map((d) => `${d.start.line}: ${d.message}`).join('\n');
  assert.match(bad('  - { resource: nope, justification: some reason here, expires: 2099-01-01 }'), /no resource has that name/);
  assert.match(bad('  - { resource: skipped one, justification: some reason here, expires: 2099-01-01 }\n  - { resource: Skipped One, justification: another reason here, expires: 2099-01-01 }'), /one per resource/);
  assert.match(bad('  - { resource: skipped one, justification: some reason here, expires: 2026-02-30 }'), /not a calendar date/);
  assert.match(bad('  - { resource: skipped one, justification: some reason here, expires: 2099-01-01, override: { value: Enabled } }'), /override may set valueData, condition, absentOk, not value/);
  assert.match(bad('  - { resource: skipped one, justification: some reason here, expires: 2099-01-01, override: { valueData: 4294967296 } }'), /outside the DWord range/);
  assert.match(bad('  - { resource: policy relaxed, justification: some reason here, expires: 2099-01-01, override: { value: Sometimes } }'), /not a value of/);
  assert.match(bad('  - { resource: skipped one, justification: short, expires: 2099-01-01 }'), /justification/);
});

test('a waiver may name a resource by the STIG id (V- or WN16-) or CIS number it cites, with a did-you-mean on a near miss', () => {
  const doc = (resource: string) => `metadata: { name: ids }
resources:
  - { name: autoplay, type: Policy, properties: { policy: Turn off AutoPlay, value: All drives } }
  - name: blank passwords
    type: Registry
    metadata: { references: { cis: ['2.3.1.4'] } }
    properties: { key: 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa', valueName: LimitBlankPasswordUse, valueType: DWord, valueData: 1 }
waivers:
  - { resource: ${resource}, justification: kiosk needs it for now, expires: 2099-01-01 }
`;
  for (const [id, name] of [['WN16-CC-000270', 'autoplay'], ['v-224934', 'autoplay'], ['2.3.1.4', 'blank passwords']] as const) {
    const { plan, diagnostics } = validateText('ids.yaml', doc(id));
    assert.equal(diagnostics, [], id);
    assert.equal(plan!.resources.filter((r) => r.waiver).map((r) => r.name), [name], id);
  }
  const miss = validateText('ids.yaml', doc('WN16-CC-00270')).diagnostics;
  assert.is(miss.length, 1);
  assert.is(miss[0]!.start.line, 9);
  assert.match(miss[0]!.message, /no resource has that name, STIG id or CIS number; did you mean "WN16-CC-000270"\?/);
});

test.run();
