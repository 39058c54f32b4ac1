// Reports of results of every kind: each renderer shows the setting's target and its state in words
// (principals by name where the SID is well known), and stateText agrees with the shared cases the
// runtime's Format-Ws<Kind>StateText is tested with.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { projectPath } from '../../src/paths.js';
import { buildReportModel, stateText, type ReportModel } from '../../src/report/model.js';
import { renderRun } from '../../src/report/text.js';
import { renderJson } from '../../src/report/json.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderSarif } from '../../src/report/sarif.js';
import { renderHtml } from '../../src/report/html.js';
import { renderCkl, renderXccdf } from '../../src/report/ckl.js';
import type { KindName } from '../../src/kinds/kind.js';
import type { ResourceResult, RunReport, StateView } from '../../src/engine/results.js';
import { planFromYaml } from '../helpers.js';

interface StateCase { kind: KindName; view: StateView | null; text: string; note?: string }
const { cases } = JSON.parse(readFileSync(projectPath('test', 'fixtures', 'kinds', 'state-text-cases.json'), 'utf8')) as { cases: StateCase[] };

test('stateText gives the shared cases their words, kind by kind', () => {
  assert.ok(cases.length >= 40);
  for (const c of cases) assert.is(stateText(c.view, c.kind), c.text, `${c.kind} ${JSON.stringify(c.view)}${c.note ? ` (${c.note})` : ''}`);
  for (const kind of ['Registry', 'UserRight', 'AccountPolicy', 'SecurityPolicy', 'AuditPolicy']) assert.ok(cases.some((c) => c.kind === kind), kind);
});

const refs = (n: number) => `    metadata: { title: Setting ${n}, severity: medium, references: { stig: [V-9900${n}] } }\n`;
const plan = planFromYaml(`metadata: { name: kinds-report }
resources:
  - name: Deny network logon
    type: UserRight
${refs(1)}    properties: { right: SeDenyNetworkLogonRight, principals: [Guests, Local account] }
  - name: Lockout duration
    type: AccountPolicy
${refs(2)}    properties: { policy: LockoutDuration, value: 15, condition: { anyOf: [{ atLeast: 15 }, { oneOf: [0] }] } }
  - name: Guest account
    type: SecurityPolicy
${refs(3)}    properties: { policy: EnableGuestAccount, value: Disabled }
  - name: Credential validation
    type: AuditPolicy
${refs(4)}    properties: { subcategory: Credential Validation, success: enabled, failure: enabled }
  - name: Raw value
    type: Registry
${refs(5)}    properties: { key: HKLM\\Software\\Kinds, valueName: v, valueType: DWord, valueData: 1 }
`, 'kinds-report.yaml');

const RESULTS: ResourceResult[] = [
  {
    name: 'Deny network logon', type: 'UserRight', kind: 'UserRight', target: 'User right SeDenyNetworkLogonRight',
    desired: { principals: ['*S-1-5-32-546', '*S-1-5-113'] }, actual: { ensure: 'Present', principals: ['*S-1-5-32-546', '*S-1-5-32-544'] },
    inDesiredState: false, differingProperties: ['principals'],
  },
  {
    name: 'Lockout duration', type: 'AccountPolicy', kind: 'AccountPolicy', target: 'System Access: LockoutDuration',
    desired: { value: 15, condition: { anyOf: [{ atLeast: 15 }, { oneOf: [0] }] } }, actual: { ensure: 'Present', value: 5 },
    inDesiredState: false, differingProperties: ['value'],
  },
  {
    name: 'Guest account', type: 'SecurityPolicy', kind: 'SecurityPolicy', target: 'System Access: EnableGuestAccount',
    desired: { value: 0, policyValue: 'Disabled' }, actual: { ensure: 'Present', value: 1, policyValue: 'Enabled' },
    inDesiredState: false, differingProperties: ['value'],
  },
  {
    name: 'Credential validation', type: 'AuditPolicy', kind: 'AuditPolicy', target: 'Audit {0CCE923F-69AE-11D9-BED3-505054503030} (Credential Validation)',
    desired: { success: true, failure: true }, actual: { ensure: 'Present', success: true, failure: false, setting: 'Success' },
    inDesiredState: false, differingProperties: ['failure'],
  },
  {
    name: 'Raw value', type: 'Registry', kind: 'Registry', target: 'HKEY_LOCAL_MACHINE\\Software\\Kinds!v',
    desired: { ensure: 'Present', valueType: 'DWord', valueData: 1 }, actual: { ensure: 'Present', valueType: 'DWord', valueData: 0 },
    inDesiredState: false, differingProperties: ['valueData'],
  },
];

const run: RunReport = {
  tool: 'winstate', version: '0.1.0', document: plan.name, mode: 'Test', target: 'snapshot', snapshot: '/tmp/server.reg',
  snapshots: { Registry: '/tmp/server.reg', SecurityTemplate: '/tmp/secedit.inf', AuditBackup: '/tmp/audit.csv' },
  whatIf: false, backup: null, partial: false, psVersion: '7.4.0', psEdition: 'Core', durationMs: 10,
  summary: { total: 5, inDesiredState: 0, drifted: 5, changed: 0, failed: 0, skipped: 0, waived: 0 },
  results: RESULTS,
};

const model: ReportModel = buildReportModel({
  command: 'test', plan, result: run, exitCode: 2,
  startedAt: new Date('2026-12-01T10:00:00Z'), finishedAt: new Date('2026-12-01T10:00:01Z'),
  host: { hostname: 'srv01', os: 'TestOS', user: 'ops', node: 'v20', psVersion: '7.4.0', psEdition: 'Core' },
});

/** What each setting must show, in words: its target, its desired and its actual state. */
const WORDS: [string, string, string][] = [
  ['User right SeDenyNetworkLogonRight', 'BUILTIN\\Guests, NT AUTHORITY\\Local account', 'BUILTIN\\Guests, BUILTIN\\Administrators'],
  ['System Access: LockoutDuration', '15', '5'],
  ['System Access: EnableGuestAccount', 'Disabled', 'Enabled'],
  ['Audit {0CCE923F-69AE-11D9-BED3-505054503030} (Credential Validation)', 'Success and Failure', 'Success'],
  ['HKEY_LOCAL_MACHINE\\Software\\Kinds!v', 'DWord 1', 'DWord 0'],
];

/** Undoes the escaping of XML and HTML text, so the words can be looked for as they are. */
const unescape = (text: string) => text.replace(/<wbr>/g, '').replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

test('the model knows each setting\'s kind and groups non-registry settings by their kind\'s area', () => {
  assert.equal(model.settings.map((s) => s.kind), ['UserRight', 'AccountPolicy', 'SecurityPolicy', 'AuditPolicy', 'Registry']);
  assert.equal(model.settings.map((s) => s.area), ['User Rights Assignment', 'Account Policies', 'Security Options', 'Advanced Audit Policy', 'HKLM\\Software\\Kinds']);
  assert.equal(model.settings.map((s) => s.status), ['drift', 'drift', 'drift', 'drift', 'drift']);
});

for (const [name, render] of [
  ['text', () => renderRun(run)],
  ['JUnit', () => renderJunit(model)],
  ['SARIF', () => renderSarif(model)],
  ['HTML', () => renderHtml(model)],
  ['CKL', () => renderCkl(model)],
  ['XCCDF', () => renderXccdf(model)],
] as const) {
  test(`${name} shows every kind's target and its states in words`, () => {
    const raw = render();
    // JSON-based formats escape backslashes; XML and HTML escape markup.
    const text = unescape(name === 'SARIF' ? JSON.stringify(JSON.parse(raw)).replace(/\\\\/g, '\\') : raw);
    for (const [target, desired, actual] of WORDS) {
      // The text format shows a drifted setting by name, a compliant one with its state.
      if (name !== 'text' && name !== 'XCCDF') assert.ok(text.includes(target), `${name}: ${target}`);
      if (name === 'XCCDF') continue;
      // The text diff leaves out what both sides share (DWord 0 -> 1).
      if (name === 'text' && target.startsWith('HKEY')) {
        assert.ok(text.includes('Raw value: DWord 0 -> 1'), text);
        continue;
      }
      assert.ok(text.includes(desired), `${name}: ${target} desired "${desired}"`);
      assert.ok(text.includes(actual), `${name}: ${target} actual "${actual}"`);
    }
  });
}

test('XCCDF results carry every kind\'s rule, its result and its states in words', () => {
  const text = unescape(renderXccdf(model));
  assert.is((text.match(/<rule-result /g) ?? []).length, 5);
  assert.is((text.match(/<result>fail<\/result>/g) ?? []).length, 5);
  for (const [target, desired] of WORDS.slice(0, 4)) {
    assert.ok(text.includes(target), `XCCDF: ${target}`);
    assert.ok(text.includes(desired), `XCCDF: ${desired}`);
  }
});

test('JSON keeps each kind\'s views and validates against the report schema', () => {
  const json = JSON.parse(renderJson(model)) as ReportModel;
  const schema = JSON.parse(readFileSync(projectPath('schema', 'report.schema.json'), 'utf8')) as object;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormatsModule.default(ajv);
  const validate = ajv.compile(schema);
  assert.ok(validate(json), JSON.stringify(validate.errors?.slice(0, 3)));
  assert.equal(json.settings[0]!.actual, { ensure: 'Present', principals: ['*S-1-5-32-546', '*S-1-5-32-544'] });
  assert.equal(json.settings[3]!.actual, { ensure: 'Present', success: true, failure: false, setting: 'Success' });
  assert.equal(json.settings.map((s) => s.target), WORDS.map((w) => w[0]));
  assert.equal(json.target.snapshots, { Registry: '/tmp/server.reg', SecurityTemplate: '/tmp/secedit.inf', AuditBackup: '/tmp/audit.csv' });
});

test('checklists and HTML name every file an offline run used', () => {
  for (const text of [renderCkl(model), renderHtml(model), renderJunit(model)]) assert.ok(text.includes('/tmp/server.reg, /tmp/secedit.inf, /tmp/audit.csv'));
});

test.run();
