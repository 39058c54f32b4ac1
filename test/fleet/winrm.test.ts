import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleetFunctionsPath, openSessionsCommand, DEFAULT_FLEET_TIMEOUTS } from '../../src/fleet/fanout.js';
import { inventoryFromText } from '../../src/fleet/inventory.js';
import { psString } from '../../src/compile/quote.js';
import { runPwshFile, tempDir } from '../helpers.js';

// WinRM hosts (transport: winrm) cannot be reached from this Linux machine: PowerShell 7 on Linux has
// no WSMan client. What is checked here is everything up to the connection: the command the CLI
// sends to its PowerShell (the same door and quoting as SSH hosts), the connection PowerShell builds
// from it (real pwsh), and that opening it fails as a per-host reason, not a crash of the run.

const INVENTORY = `defaults: { transport: winrm }
hosts:
  - { name: dc1, address: dc1.corp.example }
  - { name: dc2, address: 10.0.0.7, port: 5986 }
  - { name: v6, address: 'fe80::1', port: 5985 }
  - { name: web1, address: web1.corp.example, transport: ssh, user: "o'brien", keyFile: /keys/id }
`;

function hosts() {
  const { inventory, diagnostics } = inventoryFromText('/inv/inv.yaml', INVENTORY);
  assert.equal(diagnostics, []);
  return inventory!.hosts;
}

test('the open command for a WinRM inventory: one hashtable per host, every value a quoted literal', () => {
  const text = openSessionsCommand(hosts(), DEFAULT_FLEET_TIMEOUTS).text;
  assert.match(text, /^Open-WsFleetSession -Hosts \(/);
  assert.match(text, /-ConnectTimeoutSeconds 10 -OpenTimeoutSeconds 120$/);
  assert.ok(text.includes("'Transport'='winrm'") || text.includes("Transport = 'winrm'") || /Transport\W+=\W*'winrm'/.test(text), text);
  assert.is(text.match(/'winrm'/g)?.length, 3);
  assert.is(text.match(/'ssh'/g)?.length, 1);
  for (const value of ['dc1.corp.example', '10.0.0.7', 'fe80::1']) assert.ok(text.includes(psString(value).text), value);
  // The SSH host beside them goes through the same gate: a quote in a user name is doubled, not code.
  assert.ok(text.includes("'o''brien'"), text);
  assert.ok(/^[\x20-\x7e]*$/.test(text), 'printable ASCII only');
});

test('real pwsh: WinRM connection URIs (https on 5986, IPv6 in brackets), SSH connection fields, and an open that fails per host', () => {
  const list = hosts();
  const dir = tempDir('winstate-winrm-');
  const script = join(dir, 'open.ps1');
  const lines = [
    '$ErrorActionPreference = "Stop"',
    `. ${psString(fleetFunctionsPath()).text}`,
    '$options = @{ BatchMode = "yes" }',
    // The very command text the CLI sends, with the connection built for each host printed first.
    `$hostsGiven = ${openSessionsCommand(list, DEFAULT_FLEET_TIMEOUTS).text.replace(/^Open-WsFleetSession -Hosts /, '').replace(/ -ConnectTimeoutSeconds.*$/, '')}`,
    'foreach ($h in $hostsGiven) {',
    '  $info = New-WsFleetConnectionInfo -Target $h -OpenTimeoutSeconds 5 -SshOptions $options',
    '  if ($info -is [System.Management.Automation.Runspaces.WSManConnectionInfo]) { "$($h.Name) wsman $($info.ConnectionUri.AbsoluteUri) $($info.OpenTimeout)" }',
    '  else { "$($h.Name) ssh $($info.UserName)@$($info.ComputerName):$($info.Port) key=$($info.KeyFilePath)" }',
    '}',
    `$opened = ${openSessionsCommand(list.filter((h) => h.transport === 'winrm'), { ...DEFAULT_FLEET_TIMEOUTS, openSeconds: 5 }).text} | ConvertFrom-Json`,
    '"opened: " + @($opened.Opened).Count',
    'foreach ($p in $opened.Failures.PSObject.Properties) { "failed $($p.Name): $($p.Value)" }',
  ];
  writeFileSync(script, `${lines.join('\n')}\n`);
  const r = runPwshFile(script, []);
  assert.is(r.status, 0, r.stderr + r.stdout);
  const out = r.stdout;
  assert.match(out, /^dc1 wsman http:\/\/dc1\.corp\.example:5985\/wsman 5000$/m);
  assert.match(out, /^dc2 wsman https:\/\/10\.0\.0\.7:5986\/wsman 5000$/m);
  assert.match(out, /^v6 wsman http:\/\/\[fe80::1\]:5985\/wsman 5000$/m);
  assert.match(out, /^web1 ssh o'brien@web1\.corp\.example:22 key=\/keys\/id$/m);
  assert.match(out, /^opened: 0$/m);
  // Linux has no WSMan client: each WinRM host is a failure with PowerShell's reason, and the call returns.
  for (const name of ['dc1', 'dc2', 'v6']) assert.match(out, new RegExp(`^failed ${name}: .*WSMan`, 'm'));
});

test.run();
