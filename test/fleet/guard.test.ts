import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lockoutFindings, readIdentityFile, refusal, type Identity } from '../../src/fleet/guard.js';
import type { Plan, PlannedResource } from '../../src/document/validate.js';
import { planFromYaml, readReg, runCli, tempDir, writeReg } from '../helpers.js';

// The lockout guard over plans and identities, offline (the identities are --as files), and
// through the CLI on a snapshot: refused before any change, or accepted and recorded.

const LOCAL_ADMIN: Identity = readIdentityFile(new URL('../../../examples/fleet/identity.json', import.meta.url).pathname);
const DOMAIN_ADMIN: Identity = { user: 'CORP\\ops', sid: 'S-1-5-21-1-2-3-1105', local: false, authentication: 'Kerberos', groups: [{ sid: 'S-1-5-32-544', name: 'BUILTIN\\Administrators' }, { sid: 'S-1-5-21-1-2-3-512', name: 'CORP\\Domain Admins' }] };
const BUILTIN_ADMIN: Identity = { ...LOCAL_ADMIN, user: 'WEB1\\Administrator', sid: 'S-1-5-21-1004336348-1177238915-682003330-500' };

const registry = (name: string, key: string, valueName: string, valueData: number) =>
  `  - { name: ${name}, type: Registry, properties: { key: '${key}', valueName: ${valueName}, valueType: DWord, valueData: ${valueData} } }\n`;
const plan = (...resources: string[]) => planFromYaml(`metadata: { name: guard }\nresources:\n${resources.join('')}`);
const SYSTEM = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System';

/** A UserRight resource as the kind refactor's plan carries it (contract row columns). */
function userRight(name: string, right: string, spec: Record<string, unknown>): PlannedResource {
  return { name, type: 'UserRight', kind: 'UserRight', spec: { right, ...spec } } as unknown as PlannedResource;
}
const withRights = (...rs: PlannedResource[]): Plan => ({ file: '/nonexistent.yaml', name: 'rights', resources: rs });

test('LocalAccountTokenFilterPolicy = 0 refuses a local non-builtin administrator only', () => {
  const p = plan(registry('UAC remote restrictions', SYSTEM, 'LocalAccountTokenFilterPolicy', 0));
  const conn = { transport: 'winrm' as const, port: 5985 };
  const found = lockoutFindings(p, { identity: LOCAL_ADMIN, ...conn });
  assert.is(found.length, 1);
  assert.match(found[0]!.message, /LocalAccountTokenFilterPolicy = 0 would give WEB1\\deploy/);
  assert.equal(lockoutFindings(p, { identity: BUILTIN_ADMIN, ...conn }), []);
  assert.equal(lockoutFindings(p, { identity: DOMAIN_ADMIN, ...conn }), []);
  assert.equal(lockoutFindings(plan(registry('UAC', SYSTEM, 'LocalAccountTokenFilterPolicy', 1)), { identity: LOCAL_ADMIN, ...conn }), []);
});

test('deny rights holding Local account (S-1-5-113) or a group of the identity; allow rights it drops out of', () => {
  const conn = { identity: LOCAL_ADMIN, transport: 'ssh' as const, port: 22 };
  const deny = lockoutFindings(withRights(userRight('Deny network', 'SeDenyNetworkLogonRight', { principals: ['*S-1-5-32-546', '*S-1-5-113'] })), conn);
  assert.is(deny.length, 1);
  assert.match(deny[0]!.message, /SeDenyNetworkLogonRight .* would hold its group NT AUTHORITY\\Local account \(S-1-5-113\)/);
  const byName = lockoutFindings(withRights(userRight('Deny RDP', 'SeDenyRemoteInteractiveLogonRight', { mustInclude: ['Local account and member of Administrators group'] })), conn);
  assert.match(byName[0]!.principal!, /S-1-5-114/);
  assert.equal(lockoutFindings(withRights(userRight('Deny guests', 'SeDenyNetworkLogonRight', { principals: ['*S-1-5-32-546'] })), conn), []);
  assert.equal(lockoutFindings(withRights(userRight('Deny network', 'SeDenyNetworkLogonRight', { principals: ['*S-1-5-113'] })), { ...conn, identity: DOMAIN_ADMIN }), []);
  const allow = lockoutFindings(withRights(userRight('Network logon', 'SeNetworkLogonRight', { principals: ['*S-1-5-32-551'] })), conn);
  assert.match(allow[0]!.message, /drop out/);
  assert.equal(lockoutFindings(withRights(userRight('Network logon', 'SeNetworkLogonRight', { principals: ['*S-1-5-32-544'] })), conn), []);
  assert.match(lockoutFindings(withRights(userRight('Network logon', 'SeNetworkLogonRight', { mustExclude: ['Administrators'] })), conn)[0]!.message, /would remove its group BUILTIN\\Administrators/);
});

test('NTLM restriction, the transport\'s service, and a firewall that blocks the port', () => {
  const ntlm = plan(registry('No NTLM in', 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0', 'RestrictReceivingNTLMTraffic', 2));
  assert.is(lockoutFindings(ntlm, { identity: LOCAL_ADMIN, transport: 'winrm', port: 5985 }).length, 1);
  assert.equal(lockoutFindings(ntlm, { identity: DOMAIN_ADMIN, transport: 'winrm', port: 5985 }), []);
  const services = plan(registry('No SSH', 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\sshd', 'Start', 4), registry('No WinRM', 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinRM', 'Start', 4));
  assert.equal(lockoutFindings(services, { identity: DOMAIN_ADMIN, transport: 'ssh', port: 22 }).map((f) => f.resource), ['No SSH']);
  assert.equal(lockoutFindings(services, { identity: DOMAIN_ADMIN, transport: 'winrm', port: 5985 }).map((f) => f.resource), ['No WinRM']);
  const shields = plan(registry('Shields up', 'HKLM\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\DomainProfile', 'DoNotAllowExceptions', 1));
  assert.match(lockoutFindings(shields, { identity: DOMAIN_ADMIN, transport: 'ssh', port: 2222 })[0]!.message, /port 2222/);
  const merge = plan(
    registry('Block inbound', 'HKLM\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\PublicProfile', 'DefaultInboundAction', 1),
    registry('No local rules', 'HKLM\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\PublicProfile', 'AllowLocalPolicyMerge', 0),
  );
  assert.equal(lockoutFindings(merge, { identity: DOMAIN_ADMIN, transport: 'ssh', port: 22 }).map((f) => f.resource), ['No local rules']);
  const refused = refusal(lockoutFindings(services, { identity: DOMAIN_ADMIN, transport: 'ssh', port: 22 }), DOMAIN_ADMIN)!;
  assert.match(refused, /as CORP\\ops: No SSH: the sshd service/);
});

test('identity files are checked', () => {
  const dir = tempDir('winstate-guard-');
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ user: 'x', groups: [{ sid: 'not-a-sid' }] }));
  assert.throws(() => readIdentityFile(bad), /groups\[0\]\.sid 'not-a-sid' is not a SID/);
  writeFileSync(bad, '{');
  assert.throws(() => readIdentityFile(bad), /is not JSON/);
});

test('offline: set --snapshot --as refuses before any change; acceptLockoutRisk lets it run, recorded', async () => {
  const dir = tempDir('winstate-guard-');
  const snap = join(dir, 'web1.reg');
  writeReg(snap, [`[${SYSTEM.replace('HKLM', 'HKEY_LOCAL_MACHINE')}]`, '"LocalAccountTokenFilterPolicy"=dword:00000001']);
  const before = readFileSync(snap);
  const doc = join(dir, 'doc.yaml');
  writeFileSync(doc, `metadata: { name: uac }\nresources:\n${registry('UAC remote restrictions', SYSTEM, 'LocalAccountTokenFilterPolicy', 0)}`);
  const identity = new URL('../../../examples/fleet/identity.json', import.meta.url).pathname;
  const refused = await runCli(['set', doc, '--snapshot', snap, '--as', identity, '--state-dir', join(dir, 'state')]);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /lockout guard: refused before any change, as WEB1\\deploy: UAC remote restrictions: LocalAccountTokenFilterPolicy = 0/);
  assert.ok(readFileSync(snap).equals(before));
  writeFileSync(doc, `metadata: { name: uac }\nresources:\n  - name: UAC remote restrictions\n    acceptLockoutRisk: deploy moves to a domain account this week\n    type: Registry\n    properties: { key: '${SYSTEM}', valueName: LocalAccountTokenFilterPolicy, valueType: DWord, valueData: 0 }\n`);
  const report = join(dir, 'r.json');
  const accepted = await runCli(['set', doc, '--snapshot', snap, '--as', identity, '--state-dir', join(dir, 'state'), '--report', `json:${report}`]);
  assert.is(accepted.code, 0, accepted.stderr);
  // A local report carries the resource's accepted risk too (no fleet guard judged it in that run).
  const model = JSON.parse(readFileSync(report, 'utf8')) as { settings: { lockoutRisk: unknown }[] };
  assert.equal(model.settings[0]!.lockoutRisk, { reason: 'deploy moves to a domain account this week', findings: [] });
  assert.match(accepted.stderr, /lockout risk accepted for UAC remote restrictions: deploy moves to a domain account this week/);
  assert.match(readReg(snap), /"LocalAccountTokenFilterPolicy"=dword:00000000/);
});

test.run();
