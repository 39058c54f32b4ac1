// The report model: statuses, areas, severities and counts from run results, and the published JSON
// Schema it must satisfy. Results here are written by hand in the runtime's shape (the CLI tests in
// test/integration/report-cli.test.ts produce them with real PowerShell).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { buildReportModel, type ReportInput, type ReportModel } from '../../src/report/model.js';
import { registryArea } from '../../src/kinds/registry/kind.js';
import { renderJson } from '../../src/report/json.js';
import type { ApplyReport, ResourceResult, RunReport, StateView } from '../../src/engine/results.js';
import { planFromYaml } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'report.schema.json'), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormatsModule.default(ajv);
const validate = ajv.compile(schema);

function assertValid(model: unknown): void {
  const ok = validate(model);
  assert.ok(ok, JSON.stringify(validate.errors, null, 2));
}

const YAML = `
metadata: { name: model-test, description: four kinds of setting }
resources:
  - name: SMB signing
    type: SecurityOption
    properties:
      policy: "Microsoft network client: Digitally sign communications (if server agrees)"
      value: Enabled
  - name: Value A
    type: Registry
    properties: { key: HKLM\\Software\\Test\\Sub, valueName: A, valueType: DWord, valueData: 1 }
  - name: Key only
    type: Registry
    properties: { key: HKLM\\Software\\Test\\KeyOnly }
  - name: Value B
    type: Registry
    properties: { key: HKCU\\Software\\Other, valueName: B, valueType: String, valueData: hello }
`;
const plan = planFromYaml(YAML, 'docs/model-test.yaml');

const SMB_TARGET = 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters!EnableSecuritySignature';
const TARGETS: Record<string, string> = {
  'SMB signing': SMB_TARGET,
  'Value A': 'HKEY_LOCAL_MACHINE\\Software\\Test\\Sub!A',
  'Key only': 'HKEY_LOCAL_MACHINE\\Software\\Test\\KeyOnly',
  'Value B': 'HKEY_CURRENT_USER\\Software\\Other!B',
};
const DESIRED: Record<string, StateView> = {
  'SMB signing': { ensure: 'Present', valueType: 'DWord', valueData: 1, policyValue: 'Enabled' },
  'Value A': { ensure: 'Present', valueType: 'DWord', valueData: 1 },
  'Key only': { ensure: 'Present' },
  'Value B': { ensure: 'Present', valueType: 'String', valueData: 'hello' },
};
const WRONG: Record<string, StateView> = {
  'SMB signing': { ensure: 'Present', valueType: 'DWord', valueData: 0, policyValue: 'Disabled' },
  'Value A': { ensure: 'Absent' },
  'Key only': { ensure: 'Absent' },
  'Value B': { ensure: 'Present', valueType: 'String', valueData: 'bye' },
};

type Kind = 'ok' | 'drift' | 'error' | 'skipped' | 'changed' | 'whatif';

function result(name: string, mode: 'Test' | 'Set', kind: Kind): ResourceResult & { skipped?: boolean } {
  const base = { name, type: name === 'SMB signing' ? 'SecurityOption' : 'Registry', target: TARGETS[name]!, ...(name === 'SMB signing' ? { id: 'smb-client-signing-if-server-agrees' } : {}) };
  if (kind === 'error') return { ...base, error: `access denied to ${TARGETS[name]}` };
  const desired = structuredClone(DESIRED[name]!);
  const wrong = structuredClone(WRONG[name]!);
  const differing = ['valueData'];
  if (mode === 'Test') {
    if (kind === 'skipped') return { ...base, desired, actual: wrong, inDesiredState: false, differingProperties: differing, skipped: true };
    return kind === 'ok'
      ? { ...base, desired, actual: desired, inDesiredState: true, differingProperties: [] }
      : { ...base, desired, actual: wrong, inDesiredState: false, differingProperties: differing };
  }
  switch (kind) {
    case 'ok':
      return { ...base, desired, before: desired, after: desired, inDesiredState: true, differingProperties: [], changed: false };
    case 'changed':
      return { ...base, desired, before: wrong, after: desired, inDesiredState: true, differingProperties: differing, changed: true };
    case 'whatif':
      return { ...base, desired, before: wrong, after: wrong, inDesiredState: false, differingProperties: differing, changed: false, whatIf: true };
    case 'skipped':
      return { ...base, desired, before: wrong, inDesiredState: false, differingProperties: differing, skipped: true };
    default:
      return { ...base, desired, before: wrong, after: wrong, inDesiredState: false, differingProperties: differing, changed: false };
  }
}

function run(mode: 'Test' | 'Set', kinds: Record<string, Kind>, whatIf = false): RunReport {
  const results = Object.entries(kinds).map(([name, kind]) => result(name, mode, kind));
  const count = (k: Kind) => Object.values(kinds).filter((x) => x === k).length;
  return {
    tool: 'winstate', version: '0.1.0', document: 'model-test', mode, target: 'snapshot', snapshot: '/tmp/x.reg', whatIf,
    backup: null, partial: false, psVersion: '7.6.9', psEdition: 'Core', durationMs: 12,
    summary: { total: results.length, inDesiredState: count('ok') + count('changed'), drifted: count('drift') + count('whatif'), changed: count('changed'), failed: count('error'), skipped: count('skipped') },
    results,
  } as RunReport;
}

const HOST = { hostname: 'host-1', os: 'TestOS 1', user: 'tester', node: 'v20', psVersion: '7.6.9', psEdition: 'Core' };
function model(command: ReportInput['command'], result: RunReport | ApplyReport, exitCode = 0): ReportModel {
  return buildReportModel({ command, plan, result, startedAt: new Date('2024-05-01T10:00:00Z'), finishedAt: new Date('2024-05-01T10:00:02.5Z'), exitCode, host: HOST });
}

const statuses = (m: ReportModel) => Object.fromEntries(m.settings.map((s) => [s.name, s.status]));

test('test run: one status per setting, in document order, with catalog metadata for policy settings', () => {
  const m = model('test', run('Test', { 'SMB signing': 'drift', 'Value A': 'ok', 'Key only': 'error', 'Value B': 'skipped' }), 1);
  assert.equal(statuses(m), { 'SMB signing': 'drift', 'Value A': 'ok', 'Key only': 'error', 'Value B': 'skipped' });
  assert.equal(m.settings.map((s) => s.index), [0, 1, 2, 3]);
  const smb = m.settings[0]!;
  assert.is(smb.severity, 'medium');
  assert.is(smb.area, 'Microsoft network client');
  assert.is(smb.title, 'Microsoft network client: Digitally sign communications (if server agrees)');
  assert.ok(smb.rationale!.startsWith('Signing lets each side'));
  assert.equal(smb.references.stig, ['V-225040', 'V-73655', 'SV-88319', 'WN16-SO-000200']);
  assert.equal(smb.desired, DESIRED['SMB signing']);
  assert.equal(smb.actual, WRONG['SMB signing']);
  assert.equal(smb.differingProperties, ['valueData']);
  assert.equal(smb.source, { file: 'docs/model-test.yaml', line: 4 });
  assert.is(m.settings[2]!.error, `access denied to ${TARGETS['Key only']}`);
  assert.is(m.outcome, 'error');
  assert.is(m.exitCode, 1);
  assert.equal(m.summary, { total: 4, ok: 1, changed: 0, drift: 1, whatif: 0, error: 1, skipped: 1, waived: 0 });
  assert.is(m.durationMs, 2500);
  assert.equal(m.timings, { test: 12, set: null, verify: null });
  assert.equal(m.host, HOST);
  assertValid(m);
});

test('a catalog setting set to something other than the STIG value keeps its CIS references but not its STIG ones', () => {
  const departing = planFromYaml(YAML.replace('value: Enabled', 'value: Disabled'), 'docs/model-test.yaml');
  const m = buildReportModel({ command: 'test', plan: departing, result: run('Test', { 'SMB signing': 'ok' }), startedAt: new Date(), finishedAt: new Date(), exitCode: 0, host: HOST });
  const smb = m.settings.find((s) => s.name === 'SMB signing')!;
  assert.equal(smb.references.stig, [], 'a STIG checklist must not pass WN16-SO-000200 on a Disabled value');
  assert.equal(smb.references.cis, ['2.3.8.2']);
  assert.equal(model('test', run('Test', { 'SMB signing': 'ok' })).settings[0]!.references.stig.length, 4, 'the STIG value keeps them');
});

test('raw Registry settings are unrated and grouped under the key holding the value (a key: its parent)', () => {
  const m = model('test', run('Test', { 'SMB signing': 'ok', 'Value A': 'ok', 'Key only': 'ok', 'Value B': 'drift' }), 2);
  const area = Object.fromEntries(m.settings.map((s) => [s.name, s.area]));
  assert.equal(area, {
    'SMB signing': 'Microsoft network client',
    'Value A': 'HKLM\\Software\\Test\\Sub',
    'Key only': 'HKLM\\Software\\Test',
    'Value B': 'HKCU\\Software\\Other',
  });
  assert.equal(m.settings.map((s) => s.severity), ['medium', 'unrated', 'unrated', 'unrated']);
  assert.equal(m.bySeverity.medium, { total: 1, ok: 1, changed: 0, drift: 0, whatif: 0, error: 0, skipped: 0, waived: 0 });
  assert.is(m.bySeverity.unrated.total, 3);
  assert.is(m.bySeverity.unrated.drift, 1);
  assert.equal(m.byArea.map((a) => a.area).sort(), Object.values(area).sort());
  assert.is(m.outcome, 'drift');
  // Without a plan entry the area comes from the target text the runtime reported.
  assert.is(registryArea('HKEY_LOCAL_MACHINE\\A\\B!v'), 'HKLM\\A\\B');
  assert.is(registryArea('HKEY_USERS\\S-1\\K'), 'HKU\\S-1');
  assertValid(m);
});

function apply(test: RunReport, set?: RunReport, verify?: RunReport, whatIf = false): ApplyReport {
  const plan = test.results.filter((r) => r.inDesiredState === false).map((r) => ({ name: r.name, target: r.target, current: r.actual!, desired: r.desired!, differingProperties: r.differingProperties ?? [] }));
  const converged = verify ? verify.summary.drifted === 0 && verify.summary.failed === 0 : plan.length === 0;
  return { document: 'model-test', whatIf, plan, test, set, verify, converged, failed: Math.max(test.summary.failed, set?.summary.failed ?? 0, verify?.summary.failed ?? 0) };
}

test('apply: the final state comes from the verify run; what changed carries before and after', () => {
  const t = run('Test', { 'SMB signing': 'drift', 'Value A': 'drift', 'Key only': 'ok', 'Value B': 'ok' });
  const s = run('Set', { 'SMB signing': 'changed', 'Value A': 'changed', 'Key only': 'ok', 'Value B': 'ok' });
  const v = run('Test', { 'SMB signing': 'ok', 'Value A': 'ok', 'Key only': 'ok', 'Value B': 'ok' });
  const m = model('apply', apply(t, s, v));
  assert.equal(statuses(m), { 'SMB signing': 'changed', 'Value A': 'changed', 'Key only': 'ok', 'Value B': 'ok' });
  assert.is(m.outcome, 'converged');
  assert.equal(m.changes.map((c) => [c.name, c.status]), [['SMB signing', 'changed'], ['Value A', 'changed']]);
  assert.equal(m.changes[0]!.before, WRONG['SMB signing']);
  assert.equal(m.changes[0]!.after, DESIRED['SMB signing']);
  assert.equal(m.settings[0]!.actual, DESIRED['SMB signing'], 'actual is the verified state');
  assert.ok(m.settings[0]!.changed);
  assert.not.ok(m.settings[2]!.changed);
  assert.equal(m.timings, { test: 12, set: 12, verify: 12 });
  assertValid(m);
});

test('apply --what-if: pending changes are "whatif", and "after" is the state they would produce', () => {
  const t = run('Test', { 'SMB signing': 'drift', 'Value A': 'ok', 'Key only': 'ok', 'Value B': 'drift' });
  const s = run('Set', { 'SMB signing': 'whatif', 'Value A': 'ok', 'Key only': 'ok', 'Value B': 'whatif' }, true);
  const m = model('apply', apply(t, s, undefined, true), 2);
  assert.ok(m.whatIf);
  assert.equal(statuses(m), { 'SMB signing': 'whatif', 'Value A': 'ok', 'Key only': 'ok', 'Value B': 'whatif' });
  assert.is(m.outcome, 'would-change');
  assert.equal(m.changes.map((c) => c.status), ['whatif', 'whatif']);
  assert.equal(m.changes[1]!.before, WRONG['Value B']);
  assert.equal(m.changes[1]!.after, DESIRED['Value B']);
  assert.equal(m.settings[3]!.actual, WRONG['Value B'], 'actual is what is there now');
  assertValid(m);
});

test('apply that does not converge, and an error during set, are reported as such', () => {
  const t = run('Test', { 'SMB signing': 'drift', 'Value A': 'drift', 'Key only': 'ok', 'Value B': 'ok' });
  const s = run('Set', { 'SMB signing': 'changed', 'Value A': 'error', 'Key only': 'ok', 'Value B': 'ok' });
  const v = run('Test', { 'SMB signing': 'drift', 'Value A': 'drift', 'Key only': 'ok', 'Value B': 'ok' });
  const m = model('apply', apply(t, s, v), 1);
  assert.equal(statuses(m), { 'SMB signing': 'drift', 'Value A': 'error', 'Key only': 'ok', 'Value B': 'ok' });
  assert.is(m.settings[1]!.error, `access denied to ${TARGETS['Value A']}`);
  assert.is(m.outcome, 'error');
  const noError = model('apply', apply(t, run('Set', { 'SMB signing': 'changed', 'Value A': 'changed', 'Key only': 'ok', 'Value B': 'ok' }), v), 2);
  assert.is(noError.outcome, 'not-converged');
  assert.is(noError.settings[0]!.status, 'drift');
  assertValid(m);
  assertValid(noError);
});

test('set command: changed, in desired state, skipped; a state property the schema does not know is dropped', () => {
  const s = run('Set', { 'SMB signing': 'changed', 'Value A': 'ok', 'Key only': 'skipped', 'Value B': 'ok' });
  (s.results[1]!.after as StateView & { extra?: number }).extra = 1;
  const m = model('set', s);
  assert.equal(statuses(m), { 'SMB signing': 'changed', 'Value A': 'ok', 'Key only': 'skipped', 'Value B': 'ok' });
  assert.equal(m.settings[1]!.actual, DESIRED['Value A']);
  assert.equal(m.changes.map((c) => c.name), ['SMB signing']);
  assertValid(m);
});

test('the schema is strict: it rejects an unknown status, a missing field and an extra property', () => {
  const m = model('test', run('Test', { 'SMB signing': 'drift', 'Value A': 'ok', 'Key only': 'ok', 'Value B': 'ok' }), 2);
  const json = JSON.parse(renderJson(m)) as ReportModel;
  assertValid(json);
  const badStatus = structuredClone(json) as unknown as { settings: { status: string }[] };
  badStatus.settings[0]!.status = 'fine';
  assert.not.ok(validate(badStatus));
  const missing = structuredClone(json) as Partial<ReportModel>;
  delete missing.host;
  assert.not.ok(validate(missing));
  const extra = structuredClone(json) as unknown as Record<string, unknown>;
  extra.surprise = true;
  assert.not.ok(validate(extra));
  assert.is(json.$schema, (schema as { $id: string }).$id);
});

test.run();
