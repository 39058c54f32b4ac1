// Every renderer against hostile names and data: XML checked by xmllint (JUnit against the vendored
// JUnit XSD), SARIF by ajv against the official SARIF 2.1.0 schema, HTML for escaping and embedding.
import { test } from 'uvu';
import { registrySpec } from '../../src/kinds/registry/kind.js';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Ajv04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { buildReportModel, type ReportModel } from '../../src/report/model.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderSarif } from '../../src/report/sarif.js';
import { renderHtml } from '../../src/report/html.js';
import { renderCkl, renderXccdf } from '../../src/report/ckl.js';
import { html, jsonForScript, xmlAttr, xmlSafeChars, xmlText } from '../../src/report/escape.js';
import { parseReportSpecs, parseReportSpec, ReportSpecError, outputFiles } from '../../src/report/formats.js';
import type { PlannedResource } from '../../src/document/validate.js';
import type { ResourceResult, RunReport } from '../../src/engine/results.js';
import { planFromYaml, tempDir } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const JUNIT_XSD = join(ROOT, 'test', 'fixtures', 'junit.xsd');
const SARIF_SCHEMA = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'sarif-schema-2.1.0.json'), 'utf8')) as Record<string, unknown>;

const sarifAjv = new Ajv04Module.default({ allErrors: true, strict: false });
addFormatsModule.default(sarifAjv);
const validateSarif = sarifAjv.compile(SARIF_SCHEMA);

// Hostile names, written into the YAML as JSON strings (valid YAML double-quoted scalars).
const NAMES = [
  `SMB "signing" <b>&amp; ]]> </script><script>alert(1)</script>`,
  `it's <!-- a comment --> & <![CDATA[x]]>`,
  `ctl \u0001\u0007\u001b[31m red \u007f del`,
  `emoji \u{1F600} clef \u{1D11E}`,
  `line\nbreak\ttab\r`,
];
const HOSTILE_VALUE = `v"al<ue>&]]>\u0002`;
/** JSON leaves DEL raw; YAML text may not hold it, so it goes in as an escape too. */
const q = (text: string) => JSON.stringify(text).replace(/\u007f/g, '\\x7f');
const YAML = `
metadata: { name: hostile, description: ${q('desc </script> & <!-- \u2028 -->')} }
resources:
  - name: ${q(NAMES[0]!)}
    type: SecurityOption
    properties:
      policy: "Microsoft network client: Digitally sign communications (if server agrees)"
      value: Enabled
  - name: ${q(NAMES[1]!)}
    type: Registry
    properties: { key: ${q('HKLM\\Software\\<Evil> & "Co"')}, valueName: ${q(HOSTILE_VALUE)}, valueType: String, valueData: "x" }
  - name: ${q(NAMES[2]!)}
    type: Registry
    properties: { key: ${q('HKLM\\Software\\A')}, valueName: b, valueType: DWord, valueData: 1 }
  - name: ${q(NAMES[3]!)}
    type: Registry
    properties: { key: ${q('HKLM\\Software\\A')}, valueName: c, valueType: DWord, valueData: 1 }
  - name: ${q(NAMES[4]!)}
    type: Registry
    properties: { key: ${q('HKLM\\Software\\A')}, valueName: d, valueType: DWord, valueData: 1 }
`;
const plan = planFromYaml(YAML, 'docs/hostile <&> doc.yaml');

function targetOf(r: PlannedResource): string {
  return `${registrySpec(r)!.target.hive}\\${registrySpec(r)!.target.subKey}${registrySpec(r)!.target.valueName === null ? '' : `!${registrySpec(r)!.target.valueName}`}`;
}

/** A test run: first drift, second error, third skipped, the rest in desired state. */
function testRun(): RunReport {
  const results: (ResourceResult & { skipped?: boolean })[] = plan.resources.map((r, i) => {
    const base = { name: r.name, type: r.type, target: targetOf(r), ...(r.entry ? { id: r.entry.id } : {}) };
    const desired = { ensure: 'Present' as const, valueType: registrySpec(r)!.desired.valueType, valueData: registrySpec(r)!.desired.valueData, ...(r.policy ? { policyValue: r.policy.value } : {}) };
    if (i === 0) return { ...base, desired, actual: { ensure: 'Present', valueType: 'DWord', valueData: 0, policyValue: 'Disabled' }, inDesiredState: false, differingProperties: ['valueData'] };
    if (i === 1) return { ...base, error: `cannot open <key> & "value" ]]> \u0003` };
    if (i === 2) return { ...base, desired, actual: { ensure: 'Absent' }, inDesiredState: false, differingProperties: ['ensure'], skipped: true };
    return { ...base, desired, actual: desired, inDesiredState: true, differingProperties: [] };
  });
  return {
    tool: 'winstate', version: '0.1.0', document: plan.name, mode: 'Test', target: 'snapshot', snapshot: '/tmp/a "b" <c>.reg', whatIf: false,
    backup: null, partial: false, psVersion: '7.6.9', psEdition: 'Core', durationMs: 42,
    summary: { total: 5, inDesiredState: 2, drifted: 1, changed: 0, failed: 1, skipped: 1, waived: 0 },
    results,
  } as RunReport;
}

const model: ReportModel = buildReportModel({
  command: 'test', plan, result: testRun(), exitCode: 1,
  startedAt: new Date('2024-05-01T10:00:00Z'), finishedAt: new Date('2024-05-01T10:00:01Z'),
  host: { hostname: 'host <&> "x"', os: 'TestOS', user: `o'brien`, node: 'v20', psVersion: '7.6.9', psEdition: 'Core' },
});
const dir = tempDir('winstate-report-render-');

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function xmllint(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('xmllint', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`xmllint is needed (Debian: apt-get install libxml2-utils): ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function xpath(file: string, expression: string): string {
  const r = xmllint('--xpath', expression, file);
  assert.is(r.status, 0, `${expression}: ${r.stderr}`);
  return r.stdout.replace(/\n$/, ''); // xmllint ends what it prints with a line break
}

/** What a name looks like once characters XML cannot carry are marked. */
const xmlName = (name: string) => xmlSafeChars(name);

test('the hostile plan really holds control characters, astral characters and markup', () => {
  assert.ok(plan.resources[2]!.name.includes('\u0001'));
  assert.ok(plan.resources[2]!.name.includes('\u001b'));
  assert.ok(plan.resources[3]!.name.includes('\u{1F600}'));
  assert.ok(plan.resources[4]!.name.includes('\n'));
  assert.ok(registrySpec(plan.resources[1]!)!.target.valueName!.includes('\u0002'));
  assert.equal(model.settings.map((s) => s.status), ['drift', 'error', 'skipped', 'ok', 'ok']);
});

test('escaping helpers: no "]]>", no forbidden characters, astral characters kept, lone surrogates marked', () => {
  const text = xmlText('a]]>b <&> \u0001 \u{1F600} \uD800 x \uDC00');
  assert.not.ok(text.includes(']]>'));
  assert.is(text, 'a]]&gt;b &lt;&amp;&gt; \\u0001 \u{1F600} \\ud800 x \\udc00');
  assert.is(xmlAttr('"\'\t\n\r'), '&quot;&apos;&#9;&#10;&#13;');
  assert.is(html(`<a href="x">'&'</a>\u0000`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\\u0000');
  const embedded = jsonForScript({ s: '</script><!-- \u2028 & >' });
  assert.not.ok(/<|>|&|\u2028/.test(embedded));
  assert.equal(JSON.parse(embedded), { s: '</script><!-- \u2028 & >' });
});

test('junit: valid against the JUnit XSD; drift is a failure, an error an error, skipped skipped; names survive', () => {
  const file = write('junit.xml', renderJunit(model));
  const v = xmllint('--noout', '--schema', JUNIT_XSD, file);
  assert.is(v.status, 0, v.stderr);
  assert.is(xpath(file, 'count(//testcase)'), '5');
  assert.is(xpath(file, 'string(//testsuite/@failures)'), '1');
  assert.is(xpath(file, 'string(//testsuite/@errors)'), '1');
  assert.is(xpath(file, 'string(//testsuite/@skipped)'), '1');
  assert.is(xpath(file, 'string(//testsuite/@hostname)'), 'host <&> "x"');
  assert.is(xpath(file, 'count(//testcase[failure])'), '1');
  assert.is(xpath(file, 'string(//testcase[failure]/@name)'), xmlName(NAMES[0]!));
  assert.is(xpath(file, 'string(//testcase/failure/@message)'), 'expected Enabled, actual Disabled (differs in valueData)');
  assert.match(xpath(file, 'string(//testcase/failure)'), /expected: Enabled \[DWord 1\]\nactual: {3}Disabled \[DWord 0\]/);
  assert.is(xpath(file, 'string(//testcase[error]/error/@message)'), 'cannot open <key> & "value" ]]> \\u0003');
  assert.is(xpath(file, 'string(//testcase[skipped]/@name)'), 'ctl \\u0001\\u0007\\u001b[31m red \u007f del');
  assert.is(xpath(file, 'string(//testcase[5]/@name)'), 'line\nbreak\ttab\r', 'line breaks and tabs survive attribute normalisation');
  assert.ok(xpath(file, 'string(//testcase[4]/@name)').includes('\u{1F600}'));
  // An invalid document is caught: the check can fail.
  const broken = write('junit-broken.xml', renderJunit(model).replace('<properties>', '<props>').replace('</properties>', '</props>'));
  assert.is.not(xmllint('--noout', '--schema', JUNIT_XSD, broken).status, 0);
});

test('sarif: valid against the official SARIF 2.1.0 schema; one result per non-compliant setting, rule metadata from the catalog', () => {
  const text = renderSarif(model);
  const log = JSON.parse(text) as {
    version: string;
    runs: { tool: { driver: { name: string; rules: { id: string; shortDescription: { text: string }; fullDescription: { text: string }; help: { text: string; markdown: string }; properties: { severity: string; 'security-severity': string; tags: string[] } }[] } }; results: { ruleId: string; ruleIndex: number; level: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[];
  };
  assert.ok(validateSarif(log), JSON.stringify(validateSarif.errors, null, 2));
  assert.is(log.version, '2.1.0');
  const run = log.runs[0]!;
  assert.equal(run.results.map((r) => r.level), ['warning', 'error'], 'drift of a medium setting, and an error');
  const rule = run.tool.driver.rules[run.results[0]!.ruleIndex]!;
  assert.is(rule.id, 'smb-client-signing-if-server-agrees');
  assert.is(rule.shortDescription.text, 'Microsoft network client: Digitally sign communications (if server agrees)');
  assert.ok(rule.fullDescription.text.startsWith('Signing lets each side'));
  assert.match(rule.help.text, /Impact: Signed sessions/);
  assert.match(rule.help.text, /References: STIG V-225040/);
  assert.is(rule.properties.severity, 'medium');
  assert.is(rule.properties['security-severity'], '5.5');
  assert.ok(rule.properties.tags.includes('V-225040'));
  assert.is(run.results[0]!.message.text, `${NAMES[0]}: expected Enabled, actual Disabled (differs in valueData)`);
  assert.is(run.results[1]!.message.text, `${plan.resources[1]!.name}: the setting failed: cannot open <key> & "value" ]]> \u0003`);
  assert.is(run.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri, 'docs/hostile%20%3C%26%3E%20doc.yaml');
  assert.is(run.results[0]!.locations[0]!.physicalLocation.region.startLine, 4);
  // The validator does reject a broken log.
  assert.not.ok(validateSarif({ ...log, version: '2.0.0' }));
});

test('ckl: well-formed; one VULN per STIG-referenced setting with its status and finding details', () => {
  const file = write('check.ckl', renderCkl(model));
  const v = xmllint('--noout', file);
  assert.is(v.status, 0, v.stderr);
  assert.is(xpath(file, 'count(/CHECKLIST/ASSET/HOST_NAME)'), '1');
  assert.is(xpath(file, 'string(/CHECKLIST/ASSET/HOST_NAME)'), 'a "b" <c>', 'the snapshot names the asset');
  assert.is(xpath(file, 'count(/CHECKLIST/STIGS/iSTIG/STIG_INFO/SI_DATA)'), '11');
  assert.is(xpath(file, 'count(//VULN)'), '1', 'only the STIG-referenced setting');
  assert.is(xpath(file, "string(//VULN/STIG_DATA[VULN_ATTRIBUTE='Vuln_Num']/ATTRIBUTE_DATA)"), 'V-225040');
  assert.is(xpath(file, "string(//VULN/STIG_DATA[VULN_ATTRIBUTE='Rule_Ver']/ATTRIBUTE_DATA)"), 'WN16-SO-000200');
  assert.is(xpath(file, "string(//VULN/STIG_DATA[VULN_ATTRIBUTE='Severity']/ATTRIBUTE_DATA)"), 'medium');
  assert.is(xpath(file, "count(//VULN/STIG_DATA[VULN_ATTRIBUTE='LEGACY_ID'])"), '2');
  assert.is(xpath(file, 'string(//VULN/STATUS)'), 'Open');
  const details = xpath(file, 'string(//VULN/FINDING_DETAILS)');
  assert.match(details, /Expected: Enabled \(DWord 1\)\nActual: Disabled \(DWord 0\)/);
  assert.ok(details.includes(NAMES[0]!), 'the hostile name round-trips');
  for (const tag of ['COMMENTS', 'SEVERITY_OVERRIDE', 'SEVERITY_JUSTIFICATION']) assert.is(xpath(file, `count(//VULN/${tag})`), '1');
});

test('xccdf: a well-formed XCCDF 1.2 TestResult with a rule-result per setting, idents and a score', () => {
  const file = write('result.xccdf.xml', renderXccdf(model));
  const v = xmllint('--noout', file);
  assert.is(v.status, 0, v.stderr);
  const ns = "namespace-uri(/*)='http://checklists.nist.gov/xccdf/1.2'";
  assert.is(xpath(file, `boolean(/*[local-name()='TestResult' and ${ns}])`), 'true');
  assert.match(xpath(file, "string(/*/@id)"), /^xccdf_io\.winstate_testresult_hostile$/);
  assert.ok(xpath(file, 'string(/*/@end-time)').startsWith('2024-05-01T10:00:01'));
  assert.is(xpath(file, "count(/*/*[local-name()='target'])"), '1');
  assert.is(xpath(file, "count(/*/*[local-name()='rule-result'])"), '5');
  const results = [1, 2, 3, 4, 5].map((i) => xpath(file, `string(/*/*[local-name()='rule-result'][${i}]/*[local-name()='result'])`));
  assert.equal(results, ['fail', 'error', 'notchecked', 'pass', 'pass']);
  assert.is(xpath(file, "string(/*/*[local-name()='rule-result'][1]/@idref)"), 'xccdf_io.winstate_rule_smb-client-signing-if-server-agrees');
  assert.is(xpath(file, "string(/*/*[local-name()='rule-result'][1]/@version)"), 'WN16-SO-000200');
  assert.is(xpath(file, "string(/*/*[local-name()='rule-result'][1]/*[local-name()='ident'][1])"), 'V-225040');
  // The first child of rule-result is result, as the schema's sequence demands; score comes last.
  assert.is(xpath(file, "local-name(/*/*[local-name()='rule-result'][1]/*[1])"), 'result');
  assert.is(xpath(file, 'local-name(/*/*[last()])'), 'score');
  assert.is(xpath(file, "string(/*/*[local-name()='score'])"), '66.67');
});

test('html: escaped everywhere, JSON embedded safely, nothing loaded from the network', () => {
  const page = renderHtml(model);
  assert.not.ok(/(src|href)\s*=\s*["']?\s*(https?:)?\/\//i.test(page), 'no external src/href');
  assert.not.ok(/https?:/i.test(page.replace(/<script type="application\/json"[\s\S]*?<\/script>/, '')), 'no URL at all outside the data');
  assert.is(page.match(/<script/g)!.length, 2, 'only the two scripts of the page');
  assert.is(page.match(/<\/script>/g)!.length, 2);
  assert.not.ok(page.includes('<b>&amp;'), 'a name with markup is not markup');
  assert.ok(page.includes('SMB &quot;signing&quot; &lt;b&gt;&amp;amp; ]]&gt; &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(page.includes('ctl \\u0001\\u0007\\u001b[31m red \\u007f del'), 'control characters are shown as markers');
  assert.ok(page.includes('\u{1F600}'), 'emoji kept');
  const data = page.match(/<script type="application\/json" id="winstate-report">([\s\S]*?)<\/script>/)![1]!;
  assert.equal(JSON.parse(data), JSON.parse(JSON.stringify(model)), 'the embedded JSON is the model, intact');
  assert.match(page, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
  assert.is((page.match(/<tr data-status=/g) ?? []).length, 5, 'a row per setting');
});

test('--report specs: known formats, a missing file, duplicates; ckl also writes an XCCDF file beside it', () => {
  assert.is(parseReportSpec('junit:out/r.xml').format.name, 'junit');
  assert.is(parseReportSpec('HTML:C:\\reports\\r.html').file, 'C:\\reports\\r.html');
  assert.throws(() => parseReportSpec('pdf:r.pdf'), (e: Error) => e instanceof ReportSpecError && /unknown format 'pdf' \(known: json, junit, sarif, html, ckl, xccdf\)/.test(e.message));
  assert.throws(() => parseReportSpec('json'), /name the file to write/);
  assert.throws(() => parseReportSpec('json:'), /name the file to write/);
  assert.throws(() => parseReportSpecs(['json:a.json', 'junit:a.json']), /a\.json is written by both json and junit/);
  assert.throws(() => parseReportSpecs(['ckl:r.ckl', 'xccdf:r.xccdf.xml']), /written by both ckl and xccdf/);
  assert.equal(outputFiles(parseReportSpec('ckl:out/host.ckl')).map((o) => o.file), ['out/host.ckl', join('out', 'host.xccdf.xml')]);
});

test.run();
