import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adHocHost, inventoryFromText, loadInventory } from '../../src/fleet/inventory.js';
import { maxConcurrent, plansForHosts, worstExitCode } from '../../src/fleet/run.js';
import { formatDiagnostic } from '../../src/document/diagnostics.js';
import { tempDir } from '../helpers.js';

// Inventory loading, group documents and waivers, and the pure rules of a fleet run.

test('defaults, groups with their documents (relative to the inventory) and waivers, per-host values', () => {
  const dir = tempDir('winstate-inv-');
  const file = join(dir, 'inv.yaml');
  writeFileSync(file, `throttle: 3
defaults: { user: ops, port: 2222, keyFile: keys/id }
groups:
  web: { document: web.yaml }
  nas: { waivers: [ { resource: Signing, justification: the old NAS cannot sign, expires: 2099-12-31 } ] }
hosts:
  - { name: web1, address: 10.0.0.1, groups: [web] }
  - { name: file1, address: file1.example, user: admin, port: 22, groups: [nas], snapshot: 'C:\\snap.reg' }
`);
  const { inventory, diagnostics } = loadInventory(file);
  assert.equal(diagnostics, []);
  assert.is(inventory!.throttle, 3);
  const [web1, file1] = inventory!.hosts;
  assert.equal([web1!.user, web1!.port, web1!.keyFile, web1!.document, web1!.transport], ['ops', 2222, join(dir, 'keys', 'id'), join(dir, 'web.yaml'), 'ssh']);
  assert.equal([file1!.user, file1!.port, file1!.snapshots, file1!.waivers.length], ['admin', 22, { Registry: 'C:\\snap.reg' }, 1]);

  // The group's waiver lands in the plan that host runs; the others run the document as written.
  const doc = join(dir, 'doc.yaml');
  writeFileSync(doc, "metadata: { name: d }\nresources:\n  - { name: Signing, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\W', valueName: S, valueType: DWord, valueData: 1 } }\n");
  writeFileSync(join(dir, 'web.yaml'), "metadata: { name: web }\nresources:\n  - { name: Web, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\W', valueName: W, valueType: DWord, valueData: 1 } }\n");
  const { plans, diagnostics: problems } = plansForHosts(doc, inventory!.hosts);
  assert.equal(problems.map(formatDiagnostic), []);
  assert.is(plans.get('web1')!.name, 'web');
  assert.is(plans.get('file1')!.resources[0]!.waiver?.justification, 'the old NAS cannot sign');
});

test('the example inventory loads: groups, an SSH host on another port, a WinRM host on 5986', () => {
  const { inventory, diagnostics } = loadInventory(new URL('../../../examples/fleet/inventory.yaml', import.meta.url).pathname);
  assert.equal(diagnostics.map(formatDiagnostic), []);
  const by = Object.fromEntries(inventory!.hosts.map((h) => [h.name, h]));
  assert.equal([by.dc1!.user, by.dc1!.port, by.dc1!.transport], ['CORP\\winstate-admin', 2222, 'ssh']);
  assert.equal([by.app1!.transport, by.app1!.port], ['winrm', 5986]);
  assert.is(by.web1!.document?.endsWith('web-servers.yaml'), true);
});

test('positioned errors: unknown group, two documents for one host, bad transport, bad name', () => {
  const { inventory, diagnostics } = inventoryFromText('inv.yaml', `groups:
  a: { document: a.yaml }
  b: { document: b.yaml }
hosts:
  - { name: h1, address: x, groups: [a, b] }
  - { name: h2, address: y, groups: [c], transport: telnet }
  - { name: 'bad name', address: z }
`);
  assert.is(inventory, undefined);
  const text = diagnostics.map(formatDiagnostic).join('\n');
  assert.match(text, /inv\.yaml:5:37: error: groups a and b each give a document; a host runs one/);
  assert.match(text, /inv\.yaml:6:38: error: no group 'c' under groups: \(there are a, b\)/);
  assert.match(text, /inv\.yaml:6:53: error: transport is ssh or winrm, not 'telnet'/);
  assert.match(text, /inv\.yaml:7:13: error: host name 'bad name' may hold only/);
});

test('snapshot: a regedit export, or a mapping naming each store\'s file on the host; mistakes are positioned', () => {
  const { inventory, diagnostics } = inventoryFromText('inv.yaml', `hosts:
  - { name: a, address: x, snapshot: 'C:\\s.reg' }
  - { name: b, address: y, snapshot: { registry: 'C:\\s.reg', securityTemplate: 'C:\\s.inf', auditBackup: 'C:\\a.csv' } }
`);
  assert.equal(diagnostics, []);
  assert.equal(inventory!.hosts.map((h) => h.snapshots), [{ Registry: 'C:\\s.reg' }, { Registry: 'C:\\s.reg', SecurityTemplate: 'C:\\s.inf', AuditBackup: 'C:\\a.csv' }]);
  const bad = inventoryFromText('inv.yaml', 'hosts:\n  - { name: a, address: x, snapshot: { registy: s.reg } }\n  - { name: b, address: y, snapshot: [s.reg] }\n');
  const text = bad.diagnostics.map(formatDiagnostic).join('\n');
  assert.match(text, /inv\.yaml:2:40: error: unknown key 'registy' \(expected registry, securityTemplate, auditBackup\)/);
  assert.match(text, /inv\.yaml:3:38: error: snapshot is a regedit export's path on the host, or a mapping of registry, securityTemplate, auditBackup/);
});

test('--host without an inventory: [user@]address[:port]', () => {
  assert.equal(adHocHost('admin@10.0.0.5:2222'), { name: '10.0.0.5-2222', address: '10.0.0.5', user: 'admin', port: 2222, transport: 'ssh', groups: [], waivers: [] });
  assert.is((adHocHost('web1') as { port: number }).port, 22);
  assert.match(adHocHost('a b') as string, /--host takes \[user@\]address\[:port\]/);
  assert.match(adHocHost('h:99999') as string, /outside 1\.\.65535/);
  assert.is((adHocHost('admin@10.0.0.5', 'keys/id') as { keyFile: string }).keyFile, join(process.cwd(), 'keys', 'id'));
  assert.equal(adHocHost('[fe80::1]:2222'), { name: 'fe80--1-2222', address: 'fe80::1', user: (adHocHost('x') as { user: string }).user, port: 2222, transport: 'ssh', groups: [], waivers: [] });
});

test('the exit code is the worst over the hosts: 1 over 4 over 2 over 0', () => {
  assert.is(worstExitCode([0, 2, 0]), 2);
  assert.is(worstExitCode([2, 4, 0]), 4);
  assert.is(worstExitCode([4, 1, 2]), 1);
  assert.is(worstExitCode([]), 0);
});

test('concurrency is measured from the hosts\' start and end times; back-to-back does not overlap', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  assert.is(maxConcurrent([{ startedAt: at(0), finishedAt: at(2) }, { startedAt: at(1), finishedAt: at(3) }, { startedAt: at(2), finishedAt: at(4) }]), 2);
  assert.is(maxConcurrent([{ startedAt: at(0), finishedAt: at(1) }, { startedAt: at(1), finishedAt: at(2) }]), 1);
  assert.is(maxConcurrent([{ startedAt: null, finishedAt: null }]), 0);
});

test.run();
