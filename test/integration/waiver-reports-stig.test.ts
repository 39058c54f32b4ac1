// Waivers on STIG rules of the kinds that are not registry values (user right, account policy, audit
// policy), named by STIG id, through `test --benchmark` with every report format: the skip, the
// held override and the expired waiver each carry their justification in every format, the
// benchmark checklist gives each rule the status the waiver states, and every summary adds up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { ReportModel } from '../../src/report/model.js';
import type { RunReport } from '../../src/engine/results.js';
import { projectPath } from '../../src/paths.js';
import { runCli, tempDir } from '../helpers.js';
import { asUtf16Crlf } from '../kinds-helpers.js';
import { assertCklSchema, assertXccdfSchema } from '../report-schemas.js';

const XCCDF = resolve(process.cwd(), 'test', 'fixtures', 'stig', 'U_MS_Windows_Server_2016_STIG_V2R10_Manual-xccdf.xml');
const SKIP = 'The credential broker service still needs Credential Manager access until its upgrade';
const OVERRIDE = 'Ten attempts until the help desk can unlock accounts around the clock';
const EXPIRED = 'Privilege use failures were too noisy during the migration';

const DOC = `metadata: { name: stig-waivers }
resources:
  - { name: credential manager, type: Policy, properties: { stig: WN16-UR-000010, value: recommended } }
  - { name: lockout threshold, type: Policy, properties: { stig: WN16-AC-000020, value: recommended } }
  - { name: sensitive privilege use, type: Policy, properties: { stig: WN16-AU-000350, value: Success and Failure } }
  - { name: password history, type: Policy, properties: { stig: WN16-AC-000040, value: recommended } }
waivers:
  - { resource: WN16-UR-000010, justification: ${SKIP}, expires: 2099-12-31, approvedBy: CISO }
  - { resource: WN16-AC-000020, justification: ${OVERRIDE}, expires: 2099-06-30, override: { value: 10 } }
  - { resource: V-224904, justification: ${EXPIRED}, expires: 2020-01-31 }
`;

function xpath(file: string, expr: string): string {
  const r = spawnSync('xmllint', ['--xpath', expr, file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`xmllint is needed (Debian: apt-get install libxml2-utils): ${r.error.message}`);
  return r.stdout.replace(/\n$/, '');
}

test('skip, held override and expired waiver on user right, account and audit policy rules: every format, every summary', async () => {
  const dir = tempDir();
  const doc = join(dir, 'w.yaml');
  writeFileSync(doc, DOC);
  const inf = join(dir, 's.inf');
  const csv = join(dir, 's.csv');
  writeFileSync(inf, asUtf16Crlf(readFileSync(projectPath('test', 'fixtures', 'secedit', 'SecurityPolicyDsc_sample.inf'))));
  copyFileSync(projectPath('test', 'fixtures', 'auditpol', 'AuditPolicyDsc_audit.csv'), csv);
  const reports = ['json:r.json', 'junit:r.junit.xml', 'sarif:r.sarif', 'html:r.html', 'ckl:r.ckl'].flatMap((s) => ['--report', s.replace(':', `:${dir}/`)]);
  const r = await runCli(['test', doc, '--snapshot', inf, '--snapshot', csv, '--json', '--benchmark', XCCDF, ...reports]);
  assert.is(r.code, 2, r.stderr);

  // --json and the console: one waived, the override judged against its value, the expired one enforced.
  const run = JSON.parse(r.stdout) as RunReport;
  const s = run.summary;
  assert.equal(s, { total: 4, inDesiredState: 2, drifted: 1, changed: 0, failed: 0, skipped: 0, waived: 1 });
  assert.is(s.changed + s.inDesiredState + s.drifted + s.failed + s.waived + s.skipped, s.total);
  assert.match(r.stderr, new RegExp(`WAIVED\\s+credential manager: until 2099-12-31, approved by CISO: ${SKIP} \\(current: TestUserc30098, BUILTIN\\\\Administrators`));
  assert.match(r.stderr, /OK\s+lockout threshold: 10 \[waiver override until 2099-06-30; baseline wants 3 or fewer attempts, but not 0\]/);
  assert.match(r.stderr, /DRIFT\s+sensitive privilege use: Success -> Success and Failure \[waiver expired 2020-01-31: enforced\]/);
  const line = r.stderr.split('\n').find((l) => /^4 resources:/.test(l))!;
  assert.is(line.replace(/ \(\d+ ms\)$/, ''), '4 resources: 0 changed, 2 in desired state, 1 drifted, 0 failed, 1 waived');

  // JSON report: statuses, waivers and the counts in every grouping.
  const model = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as ReportModel;
  for (const c of [model.summary, ...Object.values(model.bySeverity), ...model.byArea.map((a) => a.counts)]) {
    assert.is(c.ok + c.changed + c.drift + c.whatif + c.error + c.skipped + c.waived, c.total, JSON.stringify(c));
  }
  const by = Object.fromEntries(model.settings.map((x) => [x.name, x]));
  assert.equal([by['credential manager']!.status, by['lockout threshold']!.status, by['sensitive privilege use']!.status], ['waived', 'ok', 'drift']);
  assert.equal([by['credential manager']!.waiver!.justification, by['lockout threshold']!.waiver!.justification, by['sensitive privilege use']!.waiver!.justification], [SKIP, OVERRIDE, EXPIRED]);
  assert.is(by['sensitive privilege use']!.waiver!.status, 'expired');
  assert.is(by['lockout threshold']!.waiver!.baseline!.value, 3);

  // JUnit: the waived one skipped with its justification; the counts add up.
  const junit = join(dir, 'r.junit.xml');
  assert.is(xpath(junit, 'string(//testcase[@name="credential manager"]/skipped/@message)'), `waived: ${SKIP}`);
  assert.match(xpath(junit, 'string(//testcase[@name="sensitive privilege use"]/failure)'), new RegExp(`waiver expired on 2020-01-31; enforced again: ${EXPIRED}`));
  assert.match(xpath(junit, 'string(//system-out)'), new RegExp(OVERRIDE));
  const suite = (a: string) => Number(xpath(junit, `string(//testsuite/@${a})`));
  assert.equal([suite('tests'), suite('failures'), suite('errors'), suite('skipped')], [4, 1, 0, 1]);
  assert.is(Number(xpath(junit, 'count(//testcase[not(failure) and not(error) and not(skipped)])')) + suite('failures') + suite('errors') + suite('skipped'), suite('tests'));

  // SARIF: the skip and the held override are suppressed with their justifications; the expired one is a finding.
  const sarif = JSON.parse(readFileSync(join(dir, 'r.sarif'), 'utf8')) as { runs: { results: { suppressions?: { justification: string }[]; properties: { setting: string } }[]; properties: { summary: ReportModel['summary'] } }[] };
  const results = Object.fromEntries(sarif.runs[0]!.results.map((x) => [x.properties.setting, x]));
  assert.equal(results['credential manager']!.suppressions!.map((x) => x.justification), [SKIP]);
  assert.equal(results['lockout threshold']!.suppressions!.map((x) => x.justification), [OVERRIDE]);
  assert.is(results['sensitive privilege use']!.suppressions, undefined);
  assert.equal(sarif.runs[0]!.properties.summary, model.summary);

  // HTML: each waiver on its row; the cards add up to the settings.
  const page = readFileSync(join(dir, 'r.html'), 'utf8');
  for (const text of [SKIP, OVERRIDE, EXPIRED, 'approved by CISO']) assert.ok(page.includes(text), text);
  const cards = Object.fromEntries([...page.matchAll(/<div class="card-value">(\d+)<\/div><div class="card-label">([^<]+)<\/div>/g)].map((m) => [m[2]!, Number(m[1])]));
  const counted = ['In desired state', 'Drift', 'Errors', 'Would change', 'Skipped', 'Waived'].reduce((n, k) => n + (cards[k] ?? 0), 0);
  assert.is(counted, cards.Settings, JSON.stringify(cards));

  // The benchmark checklist: each waived rule with the status its waiver states and the justification in COMMENTS.
  const ckl = join(dir, 'r.ckl');
  assertCklSchema(ckl);
  assertXccdfSchema(join(dir, 'r.xccdf.xml'));
  const vuln = (stigId: string, what: string) => xpath(ckl, `string(//VULN[STIG_DATA[VULN_ATTRIBUTE="Rule_Ver"]/ATTRIBUTE_DATA="${stigId}"]/${what})`);
  assert.is(vuln('WN16-UR-000010', 'STATUS'), 'Not_Applicable');
  assert.match(vuln('WN16-UR-000010', 'COMMENTS'), new RegExp(SKIP));
  assert.is(vuln('WN16-AC-000020', 'STATUS'), 'Not_Applicable');
  assert.match(vuln('WN16-AC-000020', 'COMMENTS'), new RegExp(OVERRIDE));
  assert.match(vuln('WN16-AC-000020', 'FINDING_DETAILS'), /\nBaseline: 3 or fewer attempts, but not 0 \(3\); enforced instead: 10\b/);
  assert.is(vuln('WN16-AU-000350', 'STATUS'), 'Open');
  assert.match(vuln('WN16-AU-000350', 'COMMENTS'), new RegExp(`waiver expired on 2020-01-31; enforced again: ${EXPIRED}`));
  assert.is(vuln('WN16-AC-000040', 'STATUS'), 'NotAFinding');
  assert.is(Number(xpath(ckl, 'count(//VULN)')), 230);
  // A rule winstate could manage but this document does not, and one no setting can express: each says why.
  assert.match(vuln('WN16-AC-000010', 'FINDING_DETAILS'), /^Not reviewed by winstate: the document stig-waivers has no resource for this rule/);
  assert.match(vuln('WN16-00-000460', 'FINDING_DETAILS'), /^Not reviewed by winstate: winstate has no setting that can set or check this rule \(manual: /);
  assert.is(Number(xpath(ckl, 'count(//VULN[STATUS="Not_Reviewed"])')), 225, 'AU-000360 is the same subcategory as AU-000350');

  // XCCDF: notapplicable, informational, fail, pass for the four; every other rule notchecked.
  const xccdf = readFileSync(join(dir, 'r.xccdf.xml'), 'utf8');
  const result = (stigId: string) => new RegExp(`version="${stigId}">\\s*<result>([a-z]+)</result>`).exec(xccdf)?.[1];
  assert.equal(['WN16-UR-000010', 'WN16-AC-000020', 'WN16-AU-000350', 'WN16-AC-000040'].map(result), ['notapplicable', 'informational', 'fail', 'pass']);
  assert.is(xccdf.match(/<result>notchecked<\/result>/g)!.length, 225);
  for (const text of [SKIP, OVERRIDE, EXPIRED]) assert.ok(xccdf.includes(text), text);
});

test.run();
