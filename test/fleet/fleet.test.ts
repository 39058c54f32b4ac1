import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { readReg, runCli, shareCliSession, tempDir, writeReg } from '../helpers.js';
import type { ReportModel } from '../../src/report/model.js';
import type { FleetReport } from '../../src/fleet/run.js';
import { startSshd, type TestSshd } from './sshd.js';

// Real sshd on loopback addresses, PowerShell's SSH subsystem, each host its own snapshot file.
// Hosts: 127.0.0.2.. (all served by one sshd); 127.0.0.99 has no server at all.

const KEY = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Winstate\\Fleet';
const DOC = `metadata: { name: fleet-doc }
resources:
  - name: Signing
    type: Registry
    properties: { key: 'HKLM\\SOFTWARE\\Winstate\\Fleet', valueName: Signing, valueType: DWord, valueData: 1 }
  - name: Banner
    type: Registry
    properties: { key: 'HKLM\\SOFTWARE\\Winstate\\Fleet', valueName: Banner, valueType: String, valueData: hello }
`;
// A document that would disable the SSH server this connection comes through.
const LOCKOUT_DOC = `${DOC.replace('fleet-doc', 'fleet-lockout')}  - name: No SSH server
    type: Registry
    properties: { key: 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\sshd', valueName: Start, valueType: DWord, valueData: 4 }
`;
const ACCEPTED_DOC = LOCKOUT_DOC.replace('fleet-lockout', 'fleet-accepted').replace('  - name: No SSH server\n', '  - name: No SSH server\n    acceptLockoutRisk: the console is the only way in after this, by design\n');
// A STIG-cited policy (so that the checklist has a rule for it) that filters a local administrator's token.
const UAC_REASON = 'deploy moves to a domain account <this week> & "then" we revert';
const UAC_RESOURCE = `  - name: UAC for local accounts
    acceptLockoutRisk: '${UAC_REASON}'
    type: Policy
    properties: { policy: Apply UAC restrictions to local accounts on network logons, value: Enabled }
`;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const reportAjv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormatsModule.default(reportAjv);
const validateReport = reportAjv.compile(JSON.parse(readFileSync(join(ROOT, 'schema', 'report.schema.json'), 'utf8')) as object);
const xpath = (file: string, expr: string) => spawnSync('xmllint', ['--xpath', expr, file], { encoding: 'utf8' }).stdout.replace(/\n$/, '');

const ADDRESSES = Array.from({ length: 22 }, (_, i) => `127.0.0.${i + 2}`);
let sshd: TestSshd;
let dir: string;
const stateDir = () => join(dir, 'state');

test.before(async () => {
  dir = tempDir('winstate-fleet-');
  sshd = await startSshd(ADDRESSES);
  writeFileSync(join(dir, 'doc.yaml'), DOC);
  writeFileSync(join(dir, 'lockout.yaml'), LOCKOUT_DOC);
});
test.after(async () => {
  await sshd?.stop();
});
// The controller's PowerShell is one for the file (each is ~2 s of CPU); the hosts' are their own.
shareCliSession(test.after);

function snapshot(name: string, extra: string[] = []): string {
  const file = join(dir, `${name}.reg`);
  writeReg(file, [`[${KEY}]`, '"Signing"=dword:00000000', ...extra]);
  return file;
}

function inventory(file: string, hosts: string[], head = ''): string {
  writeFileSync(join(dir, file), `${head}defaults: { user: root, port: ${sshd.port}, keyFile: ${sshd.key} }\nhosts:\n${hosts.map((h) => `  - ${h}`).join('\n')}\n`);
  return join(dir, file);
}

async function fleet(argv: string[]): Promise<{ code: number; report: FleetReport; stderr: string; stdout: string }> {
  // Every progress line is printed (the interval is 0), so that each can be checked.
  const r = await runCli([...argv, '--json', ...(['set', 'apply'].includes(argv[0]!) ? ['--state-dir', stateDir()] : [])], { progressIntervalMs: 0 });
  let report: FleetReport;
  try {
    report = JSON.parse(r.stdout) as FleetReport;
  } catch {
    throw new Error(`no JSON fleet report (exit ${r.code}):\n${r.stderr}`);
  }
  return { ...r, report };
}

test('one host: test through remoting reports drift from that host\'s own snapshot, exit 2', async () => {
  const snap = snapshot('one');
  const inv = inventory('one.yaml', [`{ name: web1, address: 127.0.0.2, snapshot: ${snap} }`]);
  const { code, report, stderr } = await fleet(['test', join(dir, 'doc.yaml'), '--hosts', inv]);
  assert.is(code, 2, `${stderr}\n${JSON.stringify(report.hosts[0]?.error)}`);
  assert.is(report.hosts.length, 1);
  const h = report.hosts[0]!;
  assert.is(h.status, 'drift', h.error);
  const results = (h.report as { results: { name: string; inDesiredState: boolean; actual: { valueData?: unknown } }[] }).results;
  assert.equal(results.map((r) => [r.name, r.inDesiredState]), [['Signing', false], ['Banner', false]]);
  assert.is(results[0]!.actual.valueData, 0);
});

test('mixed fleet apply: unreachable, bad key, broken snapshot and lockout each reported; the others converge; exit is the worst', async () => {
  const good = ['a1', 'a2', 'a3'].map((n) => snapshot(n));
  const broken = join(dir, 'broken.reg');
  writeReg(broken, [`[${KEY}]`, '"Signing"=dword:00000000', 'this line is not a registry value']);
  const locked = snapshot('locked');
  const before = readFileSync(locked);
  const inv = inventory(
    'mixed.yaml',
    [
      `{ name: a1, address: 127.0.0.2, snapshot: ${good[0]} }`,
      `{ name: a2, address: 127.0.0.3, snapshot: ${good[1]} }`,
      `{ name: a3, address: 127.0.0.4, snapshot: ${good[2]} }`,
      `{ name: down, address: 127.0.0.99, snapshot: ${good[0]} }`,
      `{ name: badkey, address: 127.0.0.5, keyFile: ${sshd.wrongKey}, snapshot: ${good[0]} }`,
      `{ name: broken, address: 127.0.0.6, snapshot: ${broken} }`,
      `{ name: locked, address: 127.0.0.7, snapshot: ${locked}, groups: [ssh-off] }`,
    ],
    `throttle: 4\ngroups:\n  ssh-off: { document: lockout.yaml }\n`,
  );
  const { code, report, stderr } = await fleet(['apply', join(dir, 'doc.yaml'), '--hosts', inv]);
  const by = Object.fromEntries(report.hosts.map((h) => [h.host, h]));
  assert.is(code, 1, stderr);
  for (const n of ['a1', 'a2', 'a3']) {
    assert.is(by[n]!.status, 'converged', `${n}: ${by[n]!.error}`);
    assert.ok(by[n]!.runId, `${n} has a run record`);
    assert.match(readReg(good[Number(n[1]) - 1]!), /"Signing"=dword:00000001/);
  }
  assert.is(by.down!.status, 'unreachable');
  assert.match(by.down!.error!, /127\.0\.0\.99.*(refused|reach)/i);
  assert.is(by.badkey!.status, 'unreachable');
  assert.match(by.badkey!.error!, /refused the key/);
  assert.is(by.broken!.status, 'failed');
  assert.match(by.broken!.error!, /broken\.reg:5: /);
  assert.is(by.locked!.status, 'refused');
  assert.match(by.locked!.error!, /lockout guard.*No SSH server.*sshd service/);
  assert.ok(readFileSync(locked).equals(before), 'the refused host was not changed at all');
  assert.ok(report.concurrency.test! <= 4, `throttle 4, measured ${report.concurrency.test}`);
  // Progress is fleet-wide: every line accounts for all 7 hosts; once set runs, the 4 lost hosts count as failed.
  const lines = [...stderr.matchAll(/winstate: (\w+) on 7 host\(s\): (\d+) done, (\d+) running, (\d+) failed(?:, (\d+) waiting)?/g)];
  assert.ok(lines.length >= 3, stderr);
  for (const m of lines) assert.is(Number(m[2]) + Number(m[3]) + Number(m[4]) + Number(m[5] ?? 0), 7, m[0]);
  assert.ok(lines.some((m) => m[1] === 'test' && Number(m[4]) >= 1), 'the broken snapshot fails in test');
  const lastSet = lines.filter((m) => m[1] === 'set').at(-1)!;
  assert.equal([lastSet[2], lastSet[3], lastSet[4]], ['3', '0', '4'], lastSet[0]);

  // Rollback by host: a2's change is undone from the backup copy recorded locally; a1 and a3 keep theirs.
  const rb = await runCli(['rollback', 'latest', '--host', 'a2', '--hosts', inv, '--state-dir', stateDir()]);
  assert.is(rb.code, 0, rb.stdout + rb.stderr);
  assert.match(readReg(good[1]!), /"Signing"=dword:00000000/);
  assert.not.match(readReg(good[1]!), /"Banner"/);
  assert.match(readReg(good[0]!), /"Signing"=dword:00000001/);
  // Without the inventory, the host is reached as its recorded run reached it.
  const rb3 = await runCli(['rollback', 'latest', '--host', 'a3', '--state-dir', stateDir()]);
  assert.is(rb3.code, 0, rb3.stdout + rb3.stderr);
  assert.match(readReg(good[2]!), /"Signing"=dword:00000000/);
  const runs = await runCli(['runs', '--host', 'a2', '--state-dir', stateDir()]);
  assert.match(runs.stdout, /apply\s+converged\s+fleet-doc/);
  assert.match(runs.stdout, /rollback\s+converged/);
  // A line per run with its counts; one run in full by id or latest.
  assert.match(runs.stdout, /apply\s+converged\s+fleet-doc on .*: 2 changed\n/);
  const last = await runCli(['runs', 'latest', '--host', 'a2', '--state-dir', stateDir()]);
  assert.is(last.code, 0, last.stderr);
  assert.match(last.stdout, /rollback\s+converged[^\n]*\n(?:    changed [^\n]+\n){2}  2 changed\n$/);
  assert.is((await runCli(['runs', 'nope', '--host', 'a2', '--state-dir', stateDir()])).code, 3);
});

test('accepted lockout risks: the host proceeds; each risk is in the console, --json and every report format, per setting', async () => {
  writeFileSync(join(dir, 'accepted.yaml'), ACCEPTED_DOC + UAC_RESOURCE);
  const snap = snapshot('accepted');
  // The identity a local administrator (WEB1\deploy) would connect as, so that the UAC policy concerns it.
  const identity = join(ROOT, 'examples', 'fleet', 'identity.json');
  const inv = inventory('accepted-inv.yaml', [`{ name: ok1, address: 127.0.0.8, snapshot: { registry: ${snap} }, identity: ${identity} }`]);
  const out = join(dir, 'accepted');
  const formats = ['json', 'junit', 'sarif', 'html', 'ckl'].flatMap((f) => ['--report', `${f}:${out}.${f}`]);
  const { code, report, stdout, stderr } = await fleet(['set', join(dir, 'accepted.yaml'), '--hosts', inv, ...formats]);
  assert.is(code, 0, `${stderr}\n${JSON.stringify(report.hosts[0]?.error)}`);
  const h = report.hosts[0]!;
  assert.is(h.status, 'converged', h.error);
  assert.equal(h.lockout?.map((f) => [f.resource, f.accepted]), [['No SSH server', 'the console is the only way in after this, by design'], ['UAC for local accounts', UAC_REASON]]);
  // Console (stderr under --json): one line per accepted setting, with the reason and the finding.
  assert.match(stderr, /lockout risk accepted for No SSH server: the console is the only way in after this, by design \(the sshd service/);
  assert.match(stderr, /lockout risk accepted for UAC for local accounts: deploy moves .* \(LocalAccountTokenFilterPolicy = 0 would give WEB1\\deploy/);
  assert.match(stdout, /"accepted": "deploy moves to a domain account <this week> & \\"then\\" we revert"/);

  // JSON report: per setting, schema-valid; a setting without acceptLockoutRisk has none.
  const model = JSON.parse(readFileSync(join(dir, 'accepted.ok1.json'), 'utf8')) as ReportModel;
  assert.ok(validateReport(model), JSON.stringify(validateReport.errors, null, 2));
  const by = Object.fromEntries(model.settings.map((s) => [s.name, s]));
  assert.is(by.Signing!.lockoutRisk, null);
  assert.is(by['UAC for local accounts']!.lockoutRisk!.reason, UAC_REASON);
  assert.equal(by['UAC for local accounts']!.lockoutRisk!.findings.map((f) => [f.setting, f.principal]), [['LocalAccountTokenFilterPolicy = 0', 'the local administrator WEB1\\deploy']]);
  assert.match(by['No SSH server']!.lockoutRisk!.findings[0]!.message, /the sshd service/);

  // JUnit: one suite per host; the risks in the suite's output (passing testcases hold none).
  const junit = xpath(`${out}.junit`, 'string(//testsuite[@hostname="ok1"]/system-out)');
  assert.match(junit, new RegExp(`UAC for local accounts: lockout risk accepted: ${UAC_REASON.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; the lockout guard found: LocalAccountTokenFilterPolicy = 0`));
  assert.match(junit, /No SSH server: lockout risk accepted: the console is the only way in/);

  // SARIF: every accepted risk listed on the run (compliant settings have no result of their own).
  const sarif = JSON.parse(readFileSync(join(dir, 'accepted.ok1.sarif'), 'utf8')) as { runs: { properties: { lockoutRisksAccepted?: { setting: string; reason: string; text: string }[] } }[] };
  assert.equal(sarif.runs[0]!.properties.lockoutRisksAccepted?.map((r) => [r.setting, r.reason]), [['No SSH server', 'the console is the only way in after this, by design'], ['UAC for local accounts', UAC_REASON]]);

  // HTML: a card and a note on each row, escaped; the overview names the risks per host.
  const page = readFileSync(join(dir, 'accepted.ok1.html'), 'utf8');
  assert.match(page, /<div class="card-value">2<\/div><div class="card-label">Lockout risks accepted<\/div><div class="card-note">2 found by the lockout guard in this run<\/div>/);
  assert.ok(page.includes('<div class="lockout"><b>Lockout risk accepted</b><div class="justification">deploy moves to a domain account &lt;this week&gt; &amp; &quot;then&quot; we revert</div>'), 'row note, escaped');
  assert.not.ok(page.includes('<this week>'), 'no raw markup from the reason');
  assert.match(readFileSync(`${out}.html`, 'utf8'), /<td>No SSH server: the console is the only way in after this, by design; UAC for local accounts: deploy moves to a domain account &lt;this week&gt;/);

  // CKL and XCCDF: the STIG rule (V-225008) carries the risk in its comments and details.
  const ckl = join(dir, 'accepted.ok1.ckl');
  const vuln = (what: string) => xpath(ckl, `string(//VULN[STIG_DATA[VULN_ATTRIBUTE="Vuln_Num"]/ATTRIBUTE_DATA="V-225008"]/${what})`);
  assert.is(vuln('STATUS'), 'NotAFinding');
  assert.match(vuln('COMMENTS'), /UAC for local accounts: lockout risk accepted: deploy moves to a domain account <this week> & "then" we revert; the lockout guard found/);
  assert.match(vuln('FINDING_DETAILS'), /Lockout: lockout risk accepted: deploy moves/);
  assert.match(readFileSync(join(dir, 'accepted.ok1.xccdf.xml'), 'utf8'), /Lockout: lockout risk accepted: deploy moves to a domain account &lt;this week&gt; &amp;/);
});

test('--host [user@]address[:port] with --key-file: ad-hoc hosts reached with that key, or refused with ssh\'s reason', async () => {
  const at = (n: number) => `root@127.0.0.${n}:${sshd.port}`;
  // No snapshot for ad-hoc hosts: on this Linux "host" the script reaches the live registry and fails there,
  // which shows the connection, the key and the user worked (an unreachable host never gets that far).
  const good = await fleet(['test', join(dir, 'doc.yaml'), '--host', at(10), '--host', at(11), '--key-file', sshd.key]);
  assert.equal(good.report.hosts.map((h) => h.host), [`127.0.0.10-${sshd.port}`, `127.0.0.11-${sshd.port}`]);
  for (const h of good.report.hosts) {
    assert.is(h.status, 'failed', h.error);
    assert.not.match(h.error ?? '', /refused the key|cannot reach|not open/);
  }
  const wrong = await fleet(['test', join(dir, 'doc.yaml'), '--host', at(12), '--key-file', sshd.wrongKey]);
  assert.is(wrong.code, 1);
  assert.is(wrong.report.hosts[0]!.status, 'unreachable');
  assert.match(wrong.report.hosts[0]!.error!, new RegExp(`127\\.0\\.0\\.12:${sshd.port} refused the key .*wrong for root`));
  const missing = await runCli(['test', join(dir, 'doc.yaml'), '--host', at(12), '--key-file', join(dir, 'no-such-key')]);
  assert.is(missing.code, 3);
  assert.match(missing.stderr, /winstate: --key-file .*no-such-key does not exist/);
  const withInventory = await runCli(['test', join(dir, 'doc.yaml'), '--hosts', join(dir, 'one.yaml'), '--key-file', sshd.key]);
  assert.is(withInventory.code, 3);
  assert.match(withInventory.stderr, /--key-file goes with --host \[user@\]address\[:port\] and no inventory; give keyFile: in .*one\.yaml/);
  const alone = await runCli(['test', join(dir, 'doc.yaml'), '--key-file', sshd.key]);
  assert.is(alone.code, 3);
  assert.match(alone.stderr, /--key-file goes with --host/);
});

test('20 hosts: one Invoke-Command, throttle respected (measured), one report file per host and one JUnit suite per host', async () => {
  const hosts = ADDRESSES.slice(0, 20).map((a, i) => `{ name: h${i + 1}, address: ${a}, snapshot: ${snapshot(`h${i + 1}`, i % 2 ? ['"Banner"="hello"'] : [])} }`);
  const inv = inventory('twenty.yaml', hosts);
  const junit = join(dir, 'fleet.junit.xml');
  const { code, report, stderr } = await fleet(['test', join(dir, 'doc.yaml'), '--hosts', inv, '--throttle', '5', '--report', `junit:${junit}`, '--report', `json:${join(dir, 'r.json')}`]);
  assert.is(code, 2, stderr);
  assert.is(report.hosts.length, 20);
  assert.ok(report.hosts.every((h) => h.status === 'drift'), report.hosts.map((h) => `${h.host} ${h.status} ${h.error ?? ''}`).join('\n'));
  assert.ok(report.concurrency.test! <= 5, `at most 5 at once, measured ${report.concurrency.test}`);
  assert.ok(report.concurrency.test! >= 2, `hosts ran in parallel, measured ${report.concurrency.test}`);
  const xml = readFileSync(junit, 'utf8');
  assert.is(xml.match(/<testsuite /g)?.length, 20);
  assert.match(xml, /name="winstate\.h7\.fleet-doc"/);
  const h2 = JSON.parse(readFileSync(join(dir, 'r.h2.json'), 'utf8')) as { host: { hostname: string }; settings: { name: string; status: string }[] };
  assert.is(h2.host.hostname, 'h2');
  assert.equal(h2.settings.map((s) => [s.name, s.status]), [['Signing', 'drift'], ['Banner', 'ok']]);
});

test('inventory errors are positioned and nothing runs', async () => {
  const inv = join(dir, 'bad-inv.yaml');
  writeFileSync(inv, 'throttle: 0\nhosts:\n  - { name: x, address: 127.0.0.2, port: 70000 }\n  - { name: x, adress: 127.0.0.3 }\n');
  const r = await runCli(['test', join(dir, 'doc.yaml'), '--hosts', inv]);
  assert.is(r.code, 3);
  assert.match(r.stderr, /bad-inv\.yaml:1:11: error: expected a whole number from 1 to 256/);
  assert.match(r.stderr, /bad-inv\.yaml:3:42: error: expected a whole number from 1 to 65535/);
  assert.match(r.stderr, /bad-inv\.yaml:4:13: error: host name 'x' is used twice/);
  assert.match(r.stderr, /bad-inv\.yaml:4:16: error: unknown key 'adress'/);
  assert.match(r.stderr, /bad-inv\.yaml:4:5: error: a host needs an address/);
});

test.run();
