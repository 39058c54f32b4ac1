// A STIG checklist that merges with the official one: `test` of the imported STIG MS document with
// --benchmark writes a CKL whose STIG_INFO and rule ids are the benchmark's own and which lists every
// member-server rule of the XCCDF: managed rules with their result, the others Not_Reviewed with why.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseXccdf, ruleApplicability } from '../../src/catalog/stig/xccdf.js';
import { validateFile } from '../../src/document/validate.js';
import { parseDocument } from 'yaml';
import { writeFileSync } from 'node:fs';
import { runCli, shareCliSession, tempDir, writeReg } from '../helpers.js';

shareCliSession(test.after);

const XCCDF = resolve(process.cwd(), 'test', 'fixtures', 'stig', 'U_MS_Windows_Server_2016_STIG_V2R10_Manual-xccdf.xml');
const DOC = 'configurations/windows-server-2016-stig-ms.yaml';

function xmllint(file: string, expr: string): string {
  const r = spawnSync('xmllint', ['--xpath', expr, file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`xmllint is needed (Debian: apt-get install libxml2-utils): ${r.error.message}`);
  return r.stdout.replace(/\n$/, '');
}

/** The XCCDF's own Rule ids, read with xmllint (not with winstate's parser). */
function xccdfRuleIds(): string[] {
  return xmllint(XCCDF, '//*[local-name()="Rule"]/@id').split('\n').map((l) => /id="([^"]+)"/.exec(l)?.[1]).filter((x): x is string => Boolean(x));
}

/**
 * The imported document's registry resources only: a run on one regedit export cannot test the user
 * right, account and audit policy resources (they need a security template and an audit backup).
 */
function registryPart(dir: string): string {
  const names = new Set(validateFile(DOC).plan!.resources.filter((r) => r.kind === 'Registry').map((r) => r.name));
  const doc = parseDocument(readFileSync(DOC, 'utf8'));
  const resources = doc.get('resources') as { items: { get(k: string): unknown }[] };
  resources.items = resources.items.filter((item) => names.has(String(item.get('name'))));
  const file = join(dir, 'stig-ms-registry.yaml');
  writeFileSync(file, doc.toString({ lineWidth: 0 }));
  return file;
}

test('the CKL of the imported STIG MS document lists the 230 member-server rules under the benchmark\'s own ids', async () => {
  const dir = tempDir();
  const snapshot = join(dir, 's.reg');
  writeReg(snapshot, ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies]']);
  const ckl = join(dir, 'ms.ckl');
  const doc = registryPart(dir);
  const r = await runCli(['test', doc, '--snapshot', snapshot, '--report', `ckl:${ckl}`, '--benchmark', XCCDF]);
  assert.is(r.code, 2, r.stderr);

  // STIG_INFO names the benchmark as STIG Viewer does.
  const info = (name: string) => xmllint(ckl, `string(//STIG_INFO/SI_DATA[SID_NAME="${name}"]/SID_DATA)`);
  assert.is(info('stigid'), 'Windows_Server_2016_STIG');
  assert.is(info('version'), '2');
  assert.is(info('releaseinfo'), 'Release: 10 Benchmark Date: 15 Jan 2025');
  assert.is(info('title'), 'Microsoft Windows Server 2016 Security Technical Implementation Guide');

  // Every member-server rule of the XCCDF, once, in benchmark order.
  const ruleIds = xmllint(ckl, '//VULN/STIG_DATA[VULN_ATTRIBUTE="Rule_ID"]/ATTRIBUTE_DATA/text()').split('\n').filter(Boolean);
  assert.is(ruleIds.length, 230);
  assert.is(new Set(ruleIds).size, 230);
  const all = xccdfRuleIds();
  assert.is(all.length, 273);
  assert.ok(ruleIds.every((id) => all.includes(id)), 'only the benchmark\'s own rule ids');
  const ms = parseXccdf(readFileSync(XCCDF, 'utf8')).rules.filter((rule) => ruleApplicability(rule).scope.includes('MS'));
  assert.equal(ruleIds, ms.map((rule) => rule.ruleId));
  assert.is(Number(xmllint(ckl, 'count(//VULN[STIG_DATA[VULN_ATTRIBUTE="Rule_ID"]/ATTRIBUTE_DATA="SV-224836r958472_rule"])')), 1);

  // Texts come from the benchmark: one rule checked field by field.
  const attr = (rule: string, name: string) =>
    xmllint(ckl, `string(//VULN[STIG_DATA[VULN_ATTRIBUTE="Rule_ID"]/ATTRIBUTE_DATA="${rule}"]/STIG_DATA[VULN_ATTRIBUTE="${name}"]/ATTRIBUTE_DATA)`);
  assert.is(attr('SV-224836r958472_rule', 'Vuln_Num'), 'V-224836');
  assert.is(attr('SV-224836r958472_rule', 'Rule_Ver'), 'WN16-00-000200');
  assert.is(attr('SV-224836r958472_rule', 'Group_Title'), 'SRG-OS-000080-GPOS-00048');
  assert.match(attr('SV-224836r958472_rule', 'Vuln_Discuss'), /^Windows shares are a means by which files, folders, printers/);
  assert.match(attr('SV-224836r958472_rule', 'Check_Content'), /^Open "Devices and Printers"/);
  assert.match(attr('SV-224836r958472_rule', 'Fix_Text'), /^Configure the permissions on shared printers/);
  assert.is(attr('SV-224836r958472_rule', 'TargetKey'), '4205');
  assert.is(xmllint(ckl, 'string(//VULN[STIG_DATA[ATTRIBUTE_DATA="SV-224836r958472_rule"]]/STIG_DATA[VULN_ATTRIBUTE="CCI_REF"]/ATTRIBUTE_DATA)'), 'CCI-000213');

  // Managed rules carry the run's result; the others are Not_Reviewed with the reason.
  const statuses = xmllint(ckl, '//VULN/STATUS/text()').split('\n').filter(Boolean);
  const count = (s: string) => statuses.filter((x) => x === s).length;
  const { plan } = validateFile(doc);
  const managed = new Set(plan!.resources.map((x) => x.metadata!.references!.stig![0]!));
  assert.ok(managed.size > 90, `managed rules: ${managed.size}`);
  assert.is(count('Open') + count('NotAFinding'), managed.size, 'each managed rule has its result');
  assert.ok(count('Open') > 80, `Open: ${count('Open')}`);
  assert.is(count('Not_Reviewed'), 230 - managed.size);
  assert.match(xmllint(ckl, 'string(//VULN[STIG_DATA[ATTRIBUTE_DATA="SV-224836r958472_rule"]]/FINDING_DETAILS)'), /^Not reviewed by winstate: this rule is not a registry value/);
  assert.is(xmllint(ckl, 'string(//VULN[STIG_DATA[ATTRIBUTE_DATA="SV-224836r958472_rule"]]/STATUS)'), 'Not_Reviewed');
  assert.is(Number(xmllint(ckl, 'count(//VULN[STATUS="Not_Reviewed"][FINDING_DETAILS=""])')), 0, 'every unreviewed rule says why');
  // The XCCDF TestResult beside it is well-formed.
  const wf = spawnSync('xmllint', ['--noout', join(dir, 'ms.xccdf.xml')], { encoding: 'utf8' });
  assert.is(wf.status, 0, wf.stderr);
  const xccdf = readFileSync(join(dir, 'ms.xccdf.xml'), 'utf8');
  assert.is(xccdf.match(/<rule-result /g)!.length, 230, 'the TestResult covers the same rules');
  assert.match(xccdf, /<rule-result idref="xccdf_mil\.disa\.stig_rule_SV-224836r958472_rule" severity="low" [^>]*version="WN16-00-000200">\s*<result>notchecked<\/result>/);
  assert.match(xccdf, /<benchmark href="U_MS_Windows_Server_2016_STIG_V2R10_Manual-xccdf\.xml" id="xccdf_mil\.disa\.stig_benchmark_Windows_Server_2016_STIG"\/>/);
});

test('--benchmark is checked before anything runs', async () => {
  const dir = tempDir();
  const cases: [string[], RegExp][] = [
    [['test', DOC, '--benchmark', XCCDF], /--benchmark goes with --report ckl/],
    [['test', DOC, '--report', `ckl:${dir}/x.ckl`, '--benchmark', join(dir, 'missing.xml')], /--benchmark: cannot read/],
    [['test', DOC, '--report', `ckl:${dir}/x.ckl`, '--benchmark', DOC], /is not a readable STIG XCCDF benchmark/],
  ];
  for (const [argv, message] of cases) {
    const r = await runCli([...argv, '--pwsh', '/nonexistent/pwsh'], { session: undefined });
    assert.is(r.code, 3, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test.run();
