// Waivers in every output, through the CLI with real PowerShell on a snapshot: a skip waiver, an
// override waiver and an expired waiver each appear with their justification in the console,
// --json and every report format, and every summary counts each resource exactly once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ReportModel } from '../../src/report/model.js';
import type { ApplyReport, RunReport, RunSummary } from '../../src/engine/results.js';
import { runCli, shareCliSession, tempDir, writeReg } from '../helpers.js';
import { assertCklSchema, assertXccdfSchema } from '../report-schemas.js';

shareCliSession(test.after);

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const reportAjv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormatsModule.default(reportAjv);
const validateReport = reportAjv.compile(JSON.parse(readFileSync(join(ROOT, 'schema', 'report.schema.json'), 'utf8')) as object);

const SKIP = 'Legacy kiosk app needs AutoPlay on removable media until March';
const OVERRIDE = 'Installer DVDs of the lab rely on autorun for this release';
const EXPIRED = 'Temporary exception for the migration weekend';

const DOC = `metadata: { name: waiver-reports }
resources:
  - { name: autoplay, type: Policy, properties: { policy: Turn off AutoPlay, value: All drives } }
  - { name: autorun, type: Policy, properties: { policy: Set the default behavior for AutoRun, value: Do not execute any autorun commands } }
  - { name: restart sign-on, type: Policy, properties: { policy: Sign-in last interactive user automatically after a system-initiated restart, value: Disabled } }
  - { name: plain value, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\W', valueName: A, valueType: DWord, valueData: 1 } }
  - { name: fine value, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\W', valueName: B, valueType: DWord, valueData: 1 } }
waivers:
  - { resource: autoplay, justification: ${SKIP}, expires: 2099-12-31, approvedBy: CISO }
  - { resource: autorun, justification: ${OVERRIDE}, expires: 2099-06-30, override: { value: Automatically execute autorun commands } }
  - { resource: restart sign-on, justification: ${EXPIRED}, expires: 2020-01-31 }
`;

function setup(): { dir: string; doc: string; snapshot: string } {
  const dir = tempDir();
  const doc = join(dir, 'w.yaml');
  writeFileSync(doc, DOC);
  const snapshot = join(dir, 's.reg');
  writeReg(snapshot, [
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\W]', '"A"=dword:00000000', '"B"=dword:00000001', '',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\Explorer]', '"NoDriveTypeAutoRun"=dword:000000b5', '"NoAutorun"=dword:00000001', '',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System]', '"DisableAutomaticRestartSignOn"=dword:00000000',
  ]);
  return { dir, doc, snapshot };
}

function xpath(file: string, expr: string): string {
  const r = spawnSync('xmllint', ['--xpath', expr, file], { encoding: 'utf8' });
  if (r.error) throw new Error(`xmllint is needed (Debian: apt-get install libxml2-utils): ${r.error.message}`);
  return r.stdout.replace(/\n$/, '');
}

/** changed + inDesiredState + drifted + failed + waived + skipped = resources. */
function addsUp(s: RunSummary, what: string): void {
  assert.is(s.changed + s.inDesiredState + s.drifted + s.failed + s.waived + s.skipped, s.total, `${what}: ${JSON.stringify(s)}`);
}

function addsUpModel(m: ReportModel): void {
  for (const c of [m.summary, ...Object.values(m.bySeverity), ...m.byArea.map((a) => a.counts)]) {
    assert.is(c.ok + c.changed + c.drift + c.whatif + c.error + c.skipped + c.waived, c.total, JSON.stringify(c));
  }
  assert.is(m.summary.total, m.settings.length);
}

/** The numbers of a console summary line, which must add up to its total. */
function consoleAddsUp(line: string): void {
  const total = Number(/(\d+) resources/.exec(line)![1]);
  const parts = [...line.replace(/^.*resources:/, '').matchAll(/(\d+) (changed|(?:already )?in desired state|drifted|still drifted|to change|failed|waived|skipped)/g)];
  assert.ok(parts.length >= 4, line);
  assert.is(parts.reduce((n, m) => n + Number(m[1]), 0), total, line);
}

test('test: every format carries the skip, override and expired waiver with its justification', async () => {
  const { dir, doc, snapshot } = setup();
  const formats = ['json:r.json', 'junit:r.junit.xml', 'sarif:r.sarif', 'html:r.html', 'ckl:r.ckl'].flatMap((s) => ['--report', s.replace(':', `:${dir}/`)]);
  const r = await runCli(['test', doc, '--snapshot', snapshot, '--json', ...formats]);
  assert.is(r.code, 2, r.stderr);

  // --json and the console
  const run = JSON.parse(r.stdout) as RunReport;
  addsUp(run.summary, 'test --json');
  assert.equal([run.summary.waived, run.summary.skipped], [1, 0]);
  assert.match(r.stderr, /WAIVED\s+autoplay: until 2099-12-31, approved by CISO: Legacy kiosk app .* \(current: CD-ROM and removable media drives\)/);
  assert.match(r.stderr, /DRIFT\s+autorun: Do not execute any autorun commands -> Automatically execute autorun commands \[waiver override until 2099-06-30; baseline wants Do not execute any autorun commands\]/);
  assert.match(r.stderr, /DRIFT\s+restart sign-on: .* \[waiver expired 2020-01-31: enforced\]/);
  assert.not.match(r.stderr, /not attempted/);
  consoleAddsUp(r.stderr.split('\n').find((l) => /\d+ resources:/.test(l))!);

  // JSON report
  const model = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as ReportModel;
  assert.ok(validateReport(model), JSON.stringify(validateReport.errors, null, 2));
  addsUpModel(model);
  const by = Object.fromEntries(model.settings.map((s) => [s.name, s]));
  assert.is(by.autoplay!.status, 'waived');
  assert.equal(by.autoplay!.waiver, { status: 'active', justification: SKIP, expires: '2099-12-31', approvedBy: 'CISO', override: false, baseline: { ensure: 'Present', valueType: 'DWord', valueData: 255, policyValue: 'All drives' } });
  assert.is(by.autorun!.status, 'drift');
  assert.is(by.autorun!.desired!.policyValue, 'Automatically execute autorun commands');
  assert.is(by.autorun!.waiver!.baseline!.policyValue, 'Do not execute any autorun commands');
  assert.is(by['restart sign-on']!.waiver!.status, 'expired');
  assert.is(by['restart sign-on']!.status, 'drift', 'an expired waiver is enforced');
  assert.equal(model.summary, { total: 5, ok: 1, changed: 0, drift: 3, whatif: 0, error: 0, skipped: 0, waived: 1 });

  // JUnit: the waived setting is skipped with its justification; the others' waivers are in the output
  const junit = join(dir, 'r.junit.xml');
  assert.is(xpath(junit, 'string(//testcase[@name="autoplay"]/skipped/@message)'), `waived: ${SKIP}`);
  assert.match(xpath(junit, 'string(//testcase[@name="autorun"]/failure)'), new RegExp(`waiver: .*${OVERRIDE}`));
  assert.match(xpath(junit, 'string(//testcase[@name="restart sign-on"]/failure)'), /waiver expired on 2020-01-31/);
  assert.is(xpath(junit, 'string(//testsuite/@skipped)'), '1');

  // SARIF: the waived setting is a suppressed result with the justification
  const sarif = JSON.parse(readFileSync(join(dir, 'r.sarif'), 'utf8')) as { runs: { results: { message: { text: string }; suppressions?: { kind: string; justification: string }[]; properties: { setting: string } }[] }[] };
  const results = Object.fromEntries(sarif.runs[0]!.results.map((x) => [x.properties.setting, x]));
  assert.equal(results.autoplay!.suppressions!.map((x) => [x.kind, x.justification]), [['external', SKIP]]);
  assert.is(results.autorun!.suppressions, undefined, 'an override that does not hold is a finding');
  assert.match(results['restart sign-on']!.message.text, /expected Disabled/);

  // HTML: a waiver card and the waiver on each row
  const page = readFileSync(join(dir, 'r.html'), 'utf8');
  assert.match(page, /<div class="card-value">1<\/div><div class="card-label">Waived<\/div><div class="card-note">1 override, 1 expired, enforced<\/div>/);
  for (const text of [SKIP, OVERRIDE, EXPIRED, 'approved by CISO', 'Waived until 2099-12-31', 'Waiver override until 2099-06-30', 'Waiver expired 2020-01-31: enforced again']) assert.ok(page.includes(text), text);

  // CKL: the waived rule is Not_Applicable with the justification in COMMENTS; each waiver is there
  const ckl = join(dir, 'r.ckl');
  const vuln = (id: string, what: string) => xpath(ckl, `string(//VULN[STIG_DATA[VULN_ATTRIBUTE="Vuln_Num"]/ATTRIBUTE_DATA="${id}"]/${what})`);
  assert.is(vuln('V-224934', 'STATUS'), 'Not_Applicable');
  assert.match(vuln('V-224934', 'COMMENTS'), new RegExp(SKIP));
  assert.is(vuln('V-224933', 'STATUS'), 'Open');
  assert.match(vuln('V-224933', 'COMMENTS'), new RegExp(OVERRIDE));
  assert.match(vuln('V-224933', 'FINDING_DETAILS'), /Baseline: Do not execute any autorun commands \(DWord 1\); enforced instead: Automatically execute autorun commands \(DWord 2\)/);
  assert.is(vuln('V-224956', 'STATUS'), 'Open', 'an expired waiver is enforced');
  assert.match(vuln('V-224956', 'COMMENTS'), new RegExp(`waiver expired on 2020-01-31; enforced again: ${EXPIRED}`));

  // XCCDF: the waived rule is notapplicable
  assertCklSchema(ckl);
  assertXccdfSchema(join(dir, 'r.xccdf.xml'));
  const xccdf = readFileSync(join(dir, 'r.xccdf.xml'), 'utf8');
  assert.match(xccdf, /<result>notapplicable<\/result>[\s\S]*?Legacy kiosk app/);
});

test('apply: an override that now holds is Not_Applicable/informational/suppressed; every summary adds up', async () => {
  const { dir, doc, snapshot } = setup();
  const r = await runCli(['apply', doc, '--snapshot', snapshot, '--json', '--report', `json:${dir}/a.json`, '--report', `ckl:${dir}/a.ckl`, '--report', `sarif:${dir}/a.sarif`]);
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ApplyReport;
  for (const [what, s] of [['test', report.test.summary], ['set', report.set!.summary], ['verify', report.verify!.summary], ['apply', report.summary!]] as const) addsUp(s, what);
  assert.equal(report.summary, { total: 5, inDesiredState: 1, drifted: 0, changed: 3, failed: 0, skipped: 0, waived: 1 });
  assert.equal(report.set!.summary, { total: 5, inDesiredState: 1, drifted: 0, changed: 3, failed: 0, skipped: 0, waived: 1 });
  const summaryLine = r.stderr.split('\n').find((l) => l.startsWith('apply of'))!;
  assert.is(summaryLine, 'apply of 5 resources: 3 changed, 1 already in desired state, 0 still drifted, 0 failed, 1 waived');
  consoleAddsUp(summaryLine);
  for (const line of r.stderr.split('\n').filter((l) => /\d+ resources:/.test(l))) consoleAddsUp(line);

  const model = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as ReportModel;
  assert.ok(validateReport(model), JSON.stringify(validateReport.errors, null, 2));
  addsUpModel(model);
  assert.equal(model.summary, { total: 5, ok: 1, changed: 3, drift: 0, whatif: 0, error: 0, skipped: 0, waived: 1 });
  const ckl = join(dir, 'a.ckl');
  assert.is(xpath(ckl, 'string(//VULN[STIG_DATA[VULN_ATTRIBUTE="Vuln_Num"]/ATTRIBUTE_DATA="V-224933"]/STATUS)'), 'Not_Applicable');
  assertXccdfSchema(join(dir, 'a.xccdf.xml'));
  assert.match(readFileSync(join(dir, 'a.xccdf.xml'), 'utf8'), /<result>informational<\/result>[\s\S]*?Installer DVDs/);
  const sarif = JSON.parse(readFileSync(join(dir, 'a.sarif'), 'utf8')) as { runs: { results: { properties: { setting: string }; suppressions?: { justification: string }[] }[] }[] };
  const autorun = sarif.runs[0]!.results.find((x) => x.properties.setting === 'autorun')!;
  assert.is(autorun.suppressions![0]!.justification, OVERRIDE);
});

test('a setting read at boot: results say restartRequired, the summary names what needs a restart, reports carry it', async () => {
  const dir = tempDir();
  const doc = join(dir, 'boot.yaml');
  writeFileSync(doc, `metadata: { name: boot }
resources:
  - { name: sehop, type: Policy, properties: { policy: Enable Structured Exception Handling Overwrite Protection (SEHOP), value: Enabled } }
  - { name: plain, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\W', valueName: A, valueType: DWord, valueData: 1 } }
`);
  const snapshot = join(dir, 's.reg');
  writeReg(snapshot, ['[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\kernel]', '"DisableExceptionChainValidation"=dword:00000001', '', '[HKEY_LOCAL_MACHINE\\SOFTWARE\\W]', '"A"=dword:00000000']);
  const r = await runCli(['apply', doc, '--snapshot', snapshot, '--json', '--report', `json:${dir}/b.json`]);
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ApplyReport;
  assert.equal(report.set!.restartNeeded, ['sehop']);
  assert.equal(report.set!.results.map((x) => x.restartRequired ?? false), [true, false]);
  assert.match(r.stderr, /\nrestart Windows for this change to take effect: sehop\n/);
  const model = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')) as ReportModel;
  assert.ok(validateReport(model), JSON.stringify(validateReport.errors, null, 2));
  assert.equal(model.settings.map((x) => x.restartRequired), [true, false]);
  // Nothing changed, nothing to restart for.
  const again = await runCli(['apply', doc, '--snapshot', snapshot]);
  assert.not.match(again.stdout, /restart Windows/);
});

test.run();
