import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readReg, runCli, tempDir, writeReg } from '../helpers.js';
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
  const r = await runCli([...argv, '--json', ...(['set', 'apply'].includes(argv[0]!) ? ['--state-dir', stateDir()] : [])]);
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
  assert.match(stderr, /winstate: (test|set|verify) on 7 host\(s\): \d+ done, \d+ running, \d+ failed/);

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
});

test('accepted lockout risk: the host proceeds and the acceptance is recorded', async () => {
  writeFileSync(join(dir, 'accepted.yaml'), ACCEPTED_DOC);
  const snap = snapshot('accepted');
  const inv = inventory('accepted-inv.yaml', [`{ name: ok1, address: 127.0.0.8, snapshot: ${snap} }`]);
  const { code, report, stderr } = await fleet(['set', join(dir, 'accepted.yaml'), '--hosts', inv]);
  assert.is(code, 0, `${stderr}\n${JSON.stringify(report.hosts[0]?.error)}`);
  const h = report.hosts[0]!;
  assert.is(h.status, 'converged', h.error);
  assert.equal(h.lockout?.map((f) => [f.resource, f.accepted]), [['No SSH server', 'the console is the only way in after this, by design']]);
  assert.match(stderr, /lockout risk accepted for No SSH server/);
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
