// --report through the CLI with real PowerShell on registry snapshots: every format written and
// validated for real (ajv with the published schemas, xmllint with the JUnit XSD), usage errors
// before anything runs, hostile names end to end, colour only on a terminal, progress on stderr.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import Ajv04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { main, type CliIo } from '../../src/cli/cli.js';
import type { ReportModel } from '../../src/report/model.js';
import { tempDir, writeReg } from '../helpers.js';
import { runCli, shareCliSession } from '../helpers.js';

shareCliSession(test.after);

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SEED = 'configurations/smb-client-signing.yaml';
const JUNIT_XSD = join(ROOT, 'test', 'fixtures', 'junit.xsd');

const reportAjv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormatsModule.default(reportAjv);
const validateReport = reportAjv.compile(JSON.parse(readFileSync(join(ROOT, 'schema', 'report.schema.json'), 'utf8')) as object);
const sarifAjv = new Ajv04Module.default({ allErrors: true, strict: false });
addFormatsModule.default(sarifAjv);
const validateSarif = sarifAjv.compile(JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'sarif-schema-2.1.0.json'), 'utf8')) as object);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const cli = runCli;

function demoSnapshot(dir = tempDir()): string {
  const file = join(dir, 'server.reg');
  copyFileSync('examples/demo/server-before.reg', file);
  return file;
}

function xmllint(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('xmllint', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`xmllint is needed (Debian: apt-get install libxml2-utils): ${r.error.message}`);
  return { status: r.status, stdout: r.stdout.replace(/\n$/, ''), stderr: r.stderr };
}

function allFormats(dir: string): string[] {
  return ['json:r.json', 'junit:r.junit.xml', 'sarif:r.sarif', 'html:r.html', 'ckl:r.ckl'].flatMap((s) => ['--report', s.replace(':', `:${dir}/`)]);
}

/** Reads and checks every file allFormats writes; returns the JSON report. */
function checkAll(dir: string): { json: ReportModel; sarif: { runs: { results: { ruleId: string; message: { text: string } }[] }[] } } {
  assert.equal(readdirSync(dir).filter((f) => f.startsWith('r.')).sort(), ['r.ckl', 'r.html', 'r.json', 'r.junit.xml', 'r.sarif', 'r.xccdf.xml']);
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary files left');
  const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as ReportModel;
  assert.ok(validateReport(json), JSON.stringify(validateReport.errors, null, 2));
  const sarif = JSON.parse(readFileSync(join(dir, 'r.sarif'), 'utf8')) as ReturnType<typeof checkAll>['sarif'];
  assert.ok(validateSarif(sarif), JSON.stringify(validateSarif.errors, null, 2));
  const junit = xmllint('--noout', '--schema', JUNIT_XSD, join(dir, 'r.junit.xml'));
  assert.is(junit.status, 0, junit.stderr);
  for (const f of ['r.ckl', 'r.xccdf.xml']) {
    const wf = xmllint('--noout', join(dir, f));
    assert.is(wf.status, 0, `${f}: ${wf.stderr}`);
  }
  return { json, sarif };
}

// apply leaves run records: keep them out of the user's state directory while this file runs
// (uvu runs every file in one process, so the variable is restored afterwards).
const savedStateDir = process.env.WINSTATE_STATE_DIR;
test.before(() => {
  process.env.WINSTATE_STATE_DIR = tempDir('winstate-report-cli-state-');
});
test.after(() => {
  if (savedStateDir === undefined) delete process.env.WINSTATE_STATE_DIR;
  else process.env.WINSTATE_STATE_DIR = savedStateDir;
});

test('test --report (every format) on drift: exit 2, every file valid, drift is failure / Open / fail', async () => {
  const dir = tempDir();
  const r = await cli(['test', SEED, '--snapshot', demoSnapshot(dir), ...allFormats(dir)]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /wrote .*r\.json/);
  assert.match(r.stderr, /wrote .*r\.xccdf\.xml/);
  const { json, sarif } = checkAll(dir);
  assert.is(json.command, 'test');
  assert.is(json.outcome, 'drift');
  assert.is(json.exitCode, 2);
  assert.is(json.document.name, 'smb-client-signing');
  assert.is(json.host.psEdition, 'Core');
  assert.ok(json.timings.test! >= 0);
  assert.equal(json.settings.map((s) => [s.name, s.status]), [
    ['SMB client signing (if server agrees)', 'drift'],
    ['Same value, written as a raw registry value', 'drift'],
  ]);
  assert.equal(json.settings[0]!.actual, { ensure: 'Present', valueType: 'DWord', valueData: 0, policyValue: 'Disabled' });
  assert.equal(json.settings[0]!.differingProperties, ['valueData']);
  assert.is(sarif.runs[0]!.results.length, 2);
  assert.is(sarif.runs[0]!.results[0]!.ruleId, 'smb-client-signing-if-server-agrees');
  assert.is(xmllint('--xpath', 'string(//testsuite/@failures)', join(dir, 'r.junit.xml')).stdout, '2');
  assert.is(xmllint('--xpath', 'string(//VULN/STATUS)', join(dir, 'r.ckl')).stdout, 'Open');
  assert.is(xmllint('--xpath', "string(/*/*[local-name()='rule-result'][1]/*[local-name()='result'])", join(dir, 'r.xccdf.xml')).stdout, 'fail');
  const page = readFileSync(join(dir, 'r.html'), 'utf8');
  assert.ok(page.includes('SMB client signing (if server agrees)'));
  assert.ok(page.includes('Drift found'));
});

test('apply --report: the final state is verified, the changes carry before/after; NotAFinding / fixed / no failures', async () => {
  const dir = tempDir();
  const snapshot = demoSnapshot(dir);
  const r = await cli(['apply', SEED, '--snapshot', snapshot, ...allFormats(dir)]);
  assert.is(r.code, 0, r.stderr);
  const { json, sarif } = checkAll(dir);
  assert.is(json.outcome, 'converged');
  // Both resources name the same value: the first changes it, the second then finds it right.
  assert.equal(json.settings.map((s) => s.status), ['changed', 'ok']);
  assert.equal(json.changes.map((c) => [c.name, c.status]), [['SMB client signing (if server agrees)', 'changed']]);
  assert.equal(json.changes[0]!.before, { ensure: 'Present', valueType: 'DWord', valueData: 0, policyValue: 'Disabled' });
  assert.equal(json.changes[0]!.after, { ensure: 'Present', valueType: 'DWord', valueData: 1, policyValue: 'Enabled' });
  assert.equal(json.settings[0]!.actual, json.settings[0]!.desired, 'actual is the verified state');
  assert.ok(json.timings.set !== null && json.timings.verify !== null);
  assert.is(sarif.runs[0]!.results.length, 0, 'nothing non-compliant is left');
  assert.is(xmllint('--xpath', 'string(//testsuite/@failures)', join(dir, 'r.junit.xml')).stdout, '0');
  assert.is(xmllint('--xpath', 'string(//VULN/STATUS)', join(dir, 'r.ckl')).stdout, 'NotAFinding');
  assert.match(xmllint('--xpath', 'string(//VULN/FINDING_DETAILS)', join(dir, 'r.ckl')).stdout, /changed by winstate from Disabled \(DWord 0\) to Enabled \(DWord 1\)/);
  assert.is(xmllint('--xpath', "string(/*/*[local-name()='rule-result'][1]/*[local-name()='result'])", join(dir, 'r.xccdf.xml')).stdout, 'fixed');
  const page = readFileSync(join(dir, 'r.html'), 'utf8');
  assert.ok(page.includes('Changes made'));
  assert.ok(page.includes('Converged'));
});

test('apply --what-if --report: pending changes reported, the snapshot untouched; set --report: what it changed', async () => {
  const dir = tempDir();
  const snapshot = demoSnapshot(dir);
  const before = readFileSync(snapshot);
  const r = await cli(['apply', SEED, '--snapshot', snapshot, '--what-if', '--report', `json:${dir}/r.json`, '--report', `junit:${dir}/r.xml`]);
  assert.is(r.code, 2, r.stderr);
  assert.ok(readFileSync(snapshot).equals(before));
  const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as ReportModel;
  assert.ok(validateReport(json), JSON.stringify(validateReport.errors));
  assert.ok(json.whatIf);
  assert.is(json.outcome, 'would-change');
  assert.equal(json.settings.map((s) => s.status), ['whatif', 'whatif']);
  assert.equal(json.changes[0]!.after, { ensure: 'Present', valueType: 'DWord', valueData: 1, policyValue: 'Enabled' });
  assert.is(xmllint('--xpath', 'string(//testcase[1]/failure/@type)', join(dir, 'r.xml')).stdout, 'whatif');

  const set = await cli(['set', SEED, '--snapshot', snapshot, '--report', `json:${dir}/set.json`]);
  assert.is(set.code, 0, set.stderr);
  const setReport = JSON.parse(readFileSync(join(dir, 'set.json'), 'utf8')) as ReportModel;
  assert.ok(validateReport(setReport), JSON.stringify(validateReport.errors));
  assert.is(setReport.command, 'set');
  assert.equal(setReport.settings.map((s) => s.status), ['changed', 'ok'], 'set reports what it changed');
  assert.equal(setReport.settings[0]!.actual, { ensure: 'Present', valueType: 'DWord', valueData: 1, policyValue: 'Enabled' });
});

test('usage errors exit 3 before anything runs: unknown format, missing file, --report on get, one file twice', async () => {
  const dir = tempDir();
  const snapshot = demoSnapshot(dir);
  // With a PowerShell that does not exist, anything that got as far as running would exit 1.
  const cases: [string[], RegExp][] = [
    [['test', SEED, '--report', `pdf:${dir}/r.pdf`], /unknown format 'pdf' \(known: json, junit, sarif, html, ckl, xccdf\)/],
    [['test', SEED, '--report', 'json'], /name the file to write, as --report json:<file>/],
    [['apply', SEED, '--report', 'html:'], /name the file to write/],
    [['test', SEED, '--report'], /--report needs a value/],
    [['get', SEED, '--report', `json:${dir}/r.json`], /get does not take --report \(it goes with test, set, apply\)/],
    [['test', SEED, '--report', `json:${dir}/same`, '--report', `junit:${dir}/same`], /written by both json and junit/],
    // A report never overwrites what the run reads: the snapshot, the document, the benchmark.
    [['test', SEED, '--report', `json:${snapshot}`], /--report json: .*server\.reg is a file this run reads; a report never overwrites it/],
    [['apply', SEED, '--report', `html:${SEED}`], /--report html: .*smb-client-signing\.yaml is a file this run reads/],
    [['test', SEED, '--benchmark', `${dir}/b.xml`, '--report', `ckl:${dir}/b.ckl`, '--report', `xccdf:${dir}/b.xml`], /--report xccdf: .*b\.xml is a file this run reads/],
  ];
  const snapshotBefore = readFileSync(snapshot, 'utf8');
  for (const [argv, message] of cases) {
    const r = await cli([...argv, '--snapshot', snapshot, '--pwsh', '/nonexistent/pwsh'], { session: undefined });
    assert.is(r.code, 3, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.equal(readdirSync(dir), ['server.reg'], 'no report written');
  assert.is(readFileSync(snapshot, 'utf8'), snapshotBefore, 'the snapshot is untouched');
});

test('a report that cannot be written is a runtime error (exit 1) after the run; the other reports are still written', async () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'taken'));
  const r = await cli(['test', SEED, '--snapshot', demoSnapshot(dir), '--report', `json:${dir}/taken`, '--report', `html:${dir}/after.html`]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /could not write the report .*taken: /);
  assert.ok(existsSync(join(dir, 'after.html')), `the report after the failing one is written: ${r.stderr}`);
  assert.match(r.stderr, /wrote .*after\.html/);
});

test('hostile names and value names go through real PowerShell into every report intact and escaped', async () => {
  const dir = tempDir();
  const names = [
    `q "double" 'single' <b>bold</b> & amp ]]> </script><script>alert(1)</script>`,
    `ctl \u0001\u0007\u001b[31m red`,
    `emoji \u{1F600} and \u{1D11E} clef`,
    `<!-- comment --> <![CDATA[ x ]]>`,
  ];
  const valueNames = [`v"<&>]]>`, `ctl\u0002`, `\u{1F600}`, `plain`];
  const yaml = [
    'metadata: { name: hostile-names }',
    'resources:',
    ...names.flatMap((name, i) => [
      `  - name: ${JSON.stringify(name)}`,
      '    type: Registry',
      `    properties: { key: ${JSON.stringify('HKLM\\Software\\Winstate <&> "Test"')}, valueName: ${JSON.stringify(valueNames[i])}, valueType: String, valueData: ${JSON.stringify(`data ${i} <&>`)} }`,
    ]),
  ].join('\n');
  const doc = join(dir, 'hostile.yaml');
  writeFileSync(doc, `${yaml}\n`);
  const snapshot = join(dir, 'empty.reg');
  writeReg(snapshot, ['[HKEY_LOCAL_MACHINE\\Software\\Winstate <&> "Test"]', `"${valueNames[3]}"="other"`]);
  const r = await cli(['test', doc, '--snapshot', snapshot, ...allFormats(dir)]);
  assert.is(r.code, 2, r.stderr);
  const { json, sarif } = checkAll(dir);
  assert.equal(json.settings.map((s) => s.name), names, 'names come back from PowerShell unchanged');
  assert.equal(json.settings.map((s) => s.status), ['drift', 'drift', 'drift', 'drift']);
  assert.ok(json.settings[0]!.target.endsWith(`!${valueNames[0]}`));
  assert.equal(json.settings[3]!.actual, { ensure: 'Present', valueType: 'String', valueData: 'other' });
  assert.equal(sarif.runs[0]!.results.map((x) => x.message.text.split(': expected')[0]), names);
  assert.is(xmllint('--xpath', 'string(//testcase[1]/@name)', join(dir, 'r.junit.xml')).stdout, names[0]);
  assert.is(xmllint('--xpath', 'string(//testcase[2]/@name)', join(dir, 'r.junit.xml')).stdout, 'ctl \\u0001\\u0007\\u001b[31m red');
  const page = readFileSync(join(dir, 'r.html'), 'utf8');
  assert.is(page.match(/<script/g)!.length, 2);
  assert.not.ok(page.includes('<b>bold</b>'));
  assert.ok(page.includes('\u{1F600}'));
  const data = JSON.parse(page.match(/<script type="application\/json" id="winstate-report">([\s\S]*?)<\/script>/)![1]!) as ReportModel;
  assert.equal(data.settings.map((s) => s.name), names);
  // The terminal listing shows control characters as markers, never raw escape sequences.
  const human = await cli(['test', doc, '--snapshot', snapshot]);
  assert.ok(human.stdout.includes('ctl \\u0001\\u0007\\u001b[31m red'));
  assert.not.ok(human.stdout.includes('\u001b'));
});

test('human output: colour and → only on a terminal, never under NO_COLOR; grouped by area with a summary line', async () => {
  const snapshot = demoSnapshot();
  const plain = await cli(['apply', SEED, '--snapshot', snapshot, '--what-if'], { isTTY: { stdout: false, stderr: false }, env: {} });
  assert.is(plain.code, 2);
  assert.not.ok(plain.stdout.includes('\u001b['), 'no ANSI when not a terminal');
  assert.match(plain.stdout, /\n {2}Microsoft network client\n {4}~ SMB client signing \(if server agrees\): Disabled -> Enabled\n/);
  assert.match(plain.stdout, /\n {2}HKLM\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters\n {4}~ Same value, written as a raw registry value: DWord 0 -> 1\n/);
  assert.match(plain.stdout, /\napply \(what-if\) of 2 resources: 2 to change, 0 already in desired state, 0 failed\n$/);

  const tty = await cli(['apply', SEED, '--snapshot', snapshot, '--what-if'], { isTTY: { stdout: true, stderr: true }, env: {} });
  assert.is(tty.code, 2);
  assert.ok(tty.stdout.includes('\u001b[31mDisabled\u001b[0m → \u001b[32mEnabled\u001b[0m'), tty.stdout);
  assert.ok(tty.stdout.includes('\u001b[1mMicrosoft network client\u001b[0m'));

  const noColor = await cli(['apply', SEED, '--snapshot', snapshot, '--what-if'], { isTTY: { stdout: true, stderr: true }, env: { NO_COLOR: '1' } });
  assert.not.ok(noColor.stdout.includes('\u001b['), 'NO_COLOR turns colour off');
  assert.ok(noColor.stdout.includes('~ SMB client signing (if server agrees): Disabled → Enabled'));

  const emptyNoColor = await cli(['test', SEED, '--snapshot', snapshot], { isTTY: { stdout: true }, env: { NO_COLOR: '' } });
  assert.ok(emptyNoColor.stdout.includes('\u001b['), 'an empty NO_COLOR does not count (no-color.org)');

  // With --json the human text goes to stderr, so stderr's terminal decides.
  const json = await cli(['test', SEED, '--snapshot', snapshot, '--json'], { isTTY: { stdout: false, stderr: true }, env: {} });
  assert.is((JSON.parse(json.stdout) as { mode: string }).mode, 'Test');
  assert.ok(json.stderr.includes('\u001b[33mDRIFT'), json.stderr);
});

test('a long run reports progress on stderr: a line per interval, or one line rewritten on a terminal', async () => {
  const snapshot = demoSnapshot();
  // Each in a PowerShell of its own: a run in the file's warm session can end before 25 ms.
  const lines = await cli(['test', SEED, '--snapshot', snapshot], { progressIntervalMs: 25, env: {}, session: undefined });
  assert.is(lines.code, 2);
  assert.match(lines.stderr, /winstate: test smb-client-signing: still running, \d+\.\d s elapsed\n/);
  assert.match(lines.stderr, /winstate: test smb-client-signing: finished in \d+\.\d s\n/);
  assert.not.ok(lines.stdout.includes('still running'), 'progress never goes to stdout');
  const tty = await cli(['test', SEED, '--snapshot', snapshot], { progressIntervalMs: 25, isTTY: { stderr: true }, env: {}, session: undefined });
  assert.match(tty.stderr, /\r\u001b\[2Kwinstate: test smb-client-signing [|/\-\\] \d+\.\d s/);
  const quiet = await cli(['test', SEED, '--snapshot', snapshot], { progressIntervalMs: 600_000, env: {} });
  assert.not.ok(quiet.stderr.includes('still running'), 'a run shorter than the interval shows none');
  assert.ok(existsSync(snapshot));
});

test.run();
