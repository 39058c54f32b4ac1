// A STIG checklist that merges with the official one: `test` of the imported STIG MS document with
// --benchmark writes a CKL whose STIG_INFO and rule ids are the benchmark's own and which lists every
// member-server rule of the XCCDF: managed rules with their result, the others Not_Reviewed with why.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseXccdf, ruleApplicability } from '../../src/catalog/stig/xccdf.js';
import { validateFile } from '../../src/document/validate.js';
import { writeFileSync } from 'node:fs';
import { runCli, shareCliSession, tempDir, writeReg } from '../helpers.js';
import { asUtf16Crlf } from '../kinds-helpers.js';
import { assertCklSchema, assertXccdfSchema } from '../report-schemas.js';
import { projectPath } from '../../src/paths.js';

shareCliSession(test.after);

const XCCDF = resolve(process.cwd(), 'test', 'fixtures', 'stig', 'U_MS_Windows_Server_2016_STIG_V2R10_Manual-xccdf.xml');
const DOC = 'configurations/windows-server-2016-stig-ms.yaml';
/** A checklist STIG Viewer 2.17 wrote (test/fixtures/stig/README.md). */
const VIEWER_SAMPLE = resolve(process.cwd(), 'test', 'fixtures', 'stig', 'stig-viewer-sample.ckl');

/** The element names in the order STIG Viewer writes them: ASSET, STIG_INFO and the first VULN's STIG_DATA. */
function layout(ckl: string): { asset: string[]; info: string[]; vuln: string[] } {
  const names = (expr: string) => xmllint(ckl, expr).split('\n').map((l) => l.trim()).filter(Boolean);
  return {
    asset: names('//ASSET/*').map((l) => /^<([A-Z_]+)/.exec(l)![1]!),
    info: names('//STIG_INFO/SI_DATA/SID_NAME/text()'),
    vuln: names('(//VULN)[1]/STIG_DATA/VULN_ATTRIBUTE/text()').filter((n) => n !== 'LEGACY_ID' && n !== 'CCI_REF'),
  };
}

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
 * One `test` of the whole imported STIG MS document, shared by the tests that read its checklist: on
 * a regedit export, a security template and an audit policy backup (user rights, account, security
 * and audit policy need the last two), with the benchmark, writing the CKL, its XCCDF and the JSON report.
 */
let wholeMsRun: Promise<{ dir: string; ckl: string }> | undefined;
function wholeMs(): Promise<{ dir: string; ckl: string }> {
  wholeMsRun ??= (async () => {
    const dir = tempDir();
    const files = { reg: join(dir, 'ms.reg'), inf: join(dir, 'ms.inf'), csv: join(dir, 'ms.csv') };
    copyFileSync(projectPath('test', 'fixtures', 'reg', 'plus3it_sceWin8.reg'), files.reg);
    writeFileSync(files.inf, asUtf16Crlf(readFileSync(projectPath('test', 'fixtures', 'secedit', 'SecurityPolicyDsc_sample.inf'))));
    copyFileSync(projectPath('test', 'fixtures', 'auditpol', 'AuditPolicyDsc_audit.csv'), files.csv);
    const ckl = join(dir, 'ms.ckl');
    const r = await runCli(['test', DOC, '--snapshot', files.reg, '--snapshot', files.inf, '--snapshot', files.csv, '--report', `ckl:${ckl}`, '--report', `json:${dir}/ms.json`, '--benchmark', XCCDF]);
    assert.is(r.code, 2, r.stderr);
    return { dir, ckl };
  })();
  return wholeMsRun;
}

test('the CKL of the imported STIG MS document lists the 230 member-server rules under the benchmark\'s own ids', async () => {
  const { dir, ckl } = await wholeMs();

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
  const cited = new Set(validateFile(DOC).plan!.resources.flatMap((x) => x.metadata!.references!.stig!));
  const managed = new Set(ms.filter((rule) => cited.has(rule.stigId)).map((rule) => rule.stigId));
  assert.is(managed.size, 173, 'the import header: 173 rules imported');
  assert.is(count('Open') + count('NotAFinding'), managed.size, 'each managed rule has its result');
  assert.ok(count('Open') > 80, `Open: ${count('Open')}`);
  assert.is(count('Not_Reviewed'), 230 - managed.size);
  assert.match(xmllint(ckl, 'string(//VULN[STIG_DATA[ATTRIBUTE_DATA="SV-224836r958472_rule"]]/FINDING_DETAILS)'), /^Not reviewed by winstate: winstate has no setting that can set or check this rule \(access-control: /);
  assert.is(xmllint(ckl, 'string(//VULN[STIG_DATA[ATTRIBUTE_DATA="SV-224836r958472_rule"]]/STATUS)'), 'Not_Reviewed');
  assert.is(Number(xmllint(ckl, 'count(//VULN[STATUS="Not_Reviewed"][FINDING_DETAILS=""])')), 0, 'every unreviewed rule says why');
  // The checklist and the XCCDF TestResult beside it follow their schemas.
  assertCklSchema(ckl);
  assertXccdfSchema(join(dir, 'ms.xccdf.xml'));
  const xccdf = readFileSync(join(dir, 'ms.xccdf.xml'), 'utf8');
  assert.is(xccdf.match(/<rule-result /g)!.length, 230, 'the TestResult covers the same rules');
  assert.match(xccdf, /<rule-result idref="xccdf_mil\.disa\.stig_rule_SV-224836r958472_rule" severity="low" [^>]*version="WN16-00-000200">\s*<result>notchecked<\/result>/);
  assert.match(xccdf, /<benchmark href="U_MS_Windows_Server_2016_STIG_V2R10_Manual-xccdf\.xml" id="xccdf_mil\.disa\.stig_benchmark_Windows_Server_2016_STIG"\/>/);
});

test('the CKL follows STIG Viewer 2.x: its schema and the element order of a checklist it wrote', async () => {
  assertCklSchema(VIEWER_SAMPLE); // the schema check passes a real STIG Viewer checklist
  const dir = tempDir();
  const snapshot = join(dir, 's.reg');
  writeReg(snapshot, ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies]']);
  const doc = join(dir, 'smb.yaml');
  writeFileSync(doc, readFileSync('configurations/smb-client-signing.yaml', 'utf8'));
  // Without --benchmark (the document's own STIG settings) and with it (the whole benchmark).
  const own = join(dir, 'own.ckl');
  const full = join(dir, 'full.ckl');
  assert.is((await runCli(['test', doc, '--snapshot', snapshot, '--report', `ckl:${own}`])).code, 2);
  assert.is((await runCli(['test', doc, '--snapshot', snapshot, '--report', `ckl:${full}`, '--benchmark', XCCDF])).code, 2);
  const viewer = layout(VIEWER_SAMPLE);
  for (const ckl of [own, full]) {
    assertCklSchema(ckl);
    assertXccdfSchema(ckl.replace(/\.ckl$/, '.xccdf.xml'));
    assert.equal(layout(ckl), viewer, ckl);
    assert.match(readFileSync(ckl, 'utf8'), /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<!--DISA STIG Viewer :: 2\.17-->\n/);
  }
  assert.is(xmllint(full, 'string(//VULN[STIG_DATA[ATTRIBUTE_DATA="WN16-SO-000200"]]/STATUS)'), 'Open');
});

test('the CKL of the whole imported STIG MS document: user right, account, security and audit policy rules carry their results', async () => {
  const { dir, ckl } = await wholeMs();

  // Every member-server rule once; every rule the document manages has a result.
  const benchmark = parseXccdf(readFileSync(XCCDF, 'utf8'));
  const ms = benchmark.rules.filter((rule) => ruleApplicability(rule).scope.includes('MS'));
  const ruleIds = xmllint(ckl, '//VULN/STIG_DATA[VULN_ATTRIBUTE="Rule_ID"]/ATTRIBUTE_DATA/text()').split('\n').filter(Boolean);
  assert.equal(ruleIds, ms.map((rule) => rule.ruleId));
  const { plan } = validateFile(DOC);
  const cited = new Set(plan!.resources.flatMap((x) => x.metadata!.references!.stig!));
  const managed = ms.filter((rule) => cited.has(rule.stigId));
  assert.is(managed.length, 173, 'the import header: 173 rules imported');
  const kinds = new Set(plan!.resources.map((x) => x.kind));
  assert.equal([...kinds].sort(), ['AccountPolicy', 'AuditPolicy', 'CimInstance', 'Registry', 'SecurityPolicy', 'UserRight']);
  const status = (stigId: string) => xmllint(ckl, `string(//VULN[STIG_DATA[VULN_ATTRIBUTE="Rule_Ver"]/ATTRIBUTE_DATA="${stigId}"]/STATUS)`);
  const details = (stigId: string) => xmllint(ckl, `string(//VULN[STIG_DATA[VULN_ATTRIBUTE="Rule_Ver"]/ATTRIBUTE_DATA="${stigId}"]/FINDING_DETAILS)`);
  const unreviewed = managed.filter((rule) => !['Open', 'NotAFinding'].includes(status(rule.stigId)));
  assert.equal(unreviewed.map((rule) => rule.stigId), [], 'each managed rule carries its result');
  const statuses = xmllint(ckl, '//VULN/STATUS/text()').split('\n').filter(Boolean);
  assert.is(statuses.filter((x) => x === 'Not_Reviewed').length, 230 - 173);

  // The same counts as the run: each resource's result lands on each rule it cites.
  const model = JSON.parse(readFileSync(join(dir, 'ms.json'), 'utf8')) as { settings: { status: string; references: { stig: string[] } }[] };
  const worst = new Map<string, string>();
  for (const s of model.settings) for (const id of s.references.stig) if (worst.get(id) !== 'drift') worst.set(id, s.status);
  for (const rule of managed) assert.is(status(rule.stigId), worst.get(rule.stigId) === 'drift' ? 'Open' : 'NotAFinding', rule.stigId);

  // One rule of each new kind, in policy terms.
  assert.is(status('WN16-MS-000340'), 'Open');
  assert.match(details('WN16-MS-000340'), /\nPolicy: User right SeNetworkLogonRight\nExpected: BUILTIN\\Administrators, NT AUTHORITY\\Authenticated Users\nActual: Everyone, BUILTIN\\Administrators, BUILTIN\\Users, BUILTIN\\Backup Operators\nResult: not in the desired state \(differs in principals\)\./);
  assert.is(status('WN16-AC-000020'), 'Open');
  assert.match(details('WN16-AC-000020'), /\nPolicy: System Access: LockoutBadCount\nExpected: 3 or fewer attempts, but not 0 \(3\)\nActual: 10\n/);
  assert.is(status('WN16-AU-000350'), 'Open');
  assert.match(details('WN16-AU-000350'), /\nPolicy: Audit \{0CCE9228-69AE-11D9-BED3-505054503030\} \(Sensitive Privilege Use\)\nExpected: Success and Failure\nActual: Success\n/);
  assert.is(status('WN16-AU-000070'), 'NotAFinding');
  assert.is(status('WN16-SO-000250'), 'NotAFinding');
  assert.match(details('WN16-SO-000250'), /\nPolicy: System Access: LSAAnonymousNameLookup\nExpected: Disabled \(0\)\nActual: Disabled \(0\)\nResult: in the desired state\./);
  // A rule no setting can express says why, in the importer's words.
  assert.match(details('WN16-00-000460'), /^Not reviewed by winstate: winstate has no setting that can set or check this rule \(manual: /);

  // The XCCDF TestResult beside it: the same rules, results and kinds of instance.
  assertXccdfSchema(join(dir, 'ms.xccdf.xml'));
  const xccdf = readFileSync(join(dir, 'ms.xccdf.xml'), 'utf8');
  const results = [...xccdf.matchAll(/<result>([a-z]+)<\/result>/g)].map((m) => m[1]);
  assert.is(results.length, 230);
  assert.is(results.filter((x) => x === 'fail').length, statuses.filter((x) => x === 'Open').length);
  assert.is(results.filter((x) => x === 'pass').length, statuses.filter((x) => x === 'NotAFinding').length);
  assert.is(results.filter((x) => x === 'notchecked').length, 230 - 173);
  for (const context of ['user-right', 'account-policy', 'security-policy', 'audit-policy', 'registry']) assert.ok(xccdf.includes(`<instance context="${context}">`), context);
});

test('the CKL of the whole imported STIG DC document: all 259 domain controller rules, the 180 managed with their results', async () => {
  const dcDoc = 'configurations/windows-server-2016-stig-dc.yaml';
  const dir = tempDir();
  const files = { reg: join(dir, 'dc.reg'), inf: join(dir, 'dc.inf'), csv: join(dir, 'dc.csv') };
  copyFileSync(projectPath('test', 'fixtures', 'reg', 'plus3it_sceWin8.reg'), files.reg);
  writeFileSync(files.inf, asUtf16Crlf(readFileSync(projectPath('test', 'fixtures', 'secedit', 'SecurityPolicyDsc_sample.inf'))));
  copyFileSync(projectPath('test', 'fixtures', 'auditpol', 'AuditPolicyDsc_audit.csv'), files.csv);
  const ckl = join(dir, 'dc.ckl');
  const r = await runCli(['test', dcDoc, '--snapshot', files.reg, '--snapshot', files.inf, '--snapshot', files.csv, '--report', `ckl:${ckl}`, '--benchmark', XCCDF]);
  assert.is(r.code, 2, r.stderr);
  assertCklSchema(ckl);
  assertXccdfSchema(join(dir, 'dc.xccdf.xml'));
  const dc = parseXccdf(readFileSync(XCCDF, 'utf8')).rules.filter((rule) => ruleApplicability(rule).scope.includes('DC'));
  assert.equal(xmllint(ckl, '//VULN/STIG_DATA[VULN_ATTRIBUTE="Rule_ID"]/ATTRIBUTE_DATA/text()').split('\n').filter(Boolean), dc.map((rule) => rule.ruleId));
  assert.is(dc.length, 259);
  const cited = new Set(validateFile(dcDoc).plan!.resources.flatMap((x) => x.metadata!.references!.stig!));
  const managed = dc.filter((rule) => cited.has(rule.stigId));
  assert.is(managed.length, 180, 'the import header: 180 rules imported');
  const status = (stigId: string) => xmllint(ckl, `string(//VULN[STIG_DATA[VULN_ATTRIBUTE="Rule_Ver"]/ATTRIBUTE_DATA="${stigId}"]/STATUS)`);
  assert.equal(managed.filter((rule) => !['Open', 'NotAFinding'].includes(status(rule.stigId))).map((rule) => rule.stigId), [], 'each managed rule carries its result');
  assert.is(Number(xmllint(ckl, 'count(//VULN[STATUS="Not_Reviewed"])')), 259 - 180);
  // The catalog recommends no one for this right (the member server value); the DC rule asks for
  // Administrators, which the imported document sets and cites: the rule keeps its result.
  assert.match(xmllint(ckl, 'string(//VULN[STIG_DATA[ATTRIBUTE_DATA="WN16-DC-000420"]]/FINDING_DETAILS)'), /\nPolicy: User right SeEnableDelegationPrivilege\nExpected: BUILTIN\\Administrators\n/);
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
