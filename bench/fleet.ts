// Benchmark: 20 hosts x the Windows Server 2016 STIG member-server document, test phase.
//   fleet:      one `winstate test --hosts` over PowerShell remoting (SSH, loopback, a real sshd),
//               throttle 10: sessions opened at once, one Invoke-Command for all hosts;
//   sequential: the same 20 tests as 20 CLI runs one after another (`winstate test --snapshot`).
// Prints both wall times, the ratio, and the per-host overhead of a remoting session over a local run
// (a 1-host fleet run against one local CLI run). Each host has its own non-compliant snapshot.
// Usage: npm run build && node dist/bench/fleet.js [--hosts N] [--throttle N]
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { validateFile } from '../src/document/validate.js';
import { nonCompliantSnapshot } from './stig.js';
import { startSshd } from '../test/fleet/sshd.js';
import { tempDir } from '../test/helpers.js';

const { values } = parseArgs({ options: { hosts: { type: 'string', default: '20' }, throttle: { type: 'string', default: '10' } } });
const hostCount = Number(values.hosts);
const throttle = Number(values.throttle);
const root = process.cwd();
const cli = resolve(root, 'bin', 'winstate.js');
const document = resolve(root, 'configurations', 'windows-server-2016-stig-ms.yaml');

const { plan } = validateFile(document);
if (!plan) throw new Error(`${document} is invalid`);
const dir = tempDir('winstate-bench-fleet-');
const snapshot = nonCompliantSnapshot(plan).bytes;
const snapshots = Array.from({ length: hostCount }, (_, i) => {
  const file = join(dir, `host${i + 1}.reg`);
  writeFileSync(file, snapshot);
  return file;
});
// The document's user rights, account and security policies read a security template, its audit
// policies an auditpol backup: empty ones (each host its own, as it has its own machine), so that
// every such setting drifts too.
const templates = snapshots.map((_, i) => {
  const file = join(dir, `host${i + 1}.inf`);
  writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('[Unicode]\r\nUnicode=yes\r\n[Version]\r\nsignature="$CHICAGO$"\r\nRevision=1\r\n', 'utf16le')]));
  return file;
});
const audits = snapshots.map((_, i) => {
  const file = join(dir, `host${i + 1}.csv`);
  writeFileSync(file, 'Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting,Setting Value\r\n');
  return file;
});
const addresses = Array.from({ length: hostCount }, (_, i) => `127.0.0.${i + 2}`);

/** One CLI process, as a person or a scheduler would start it; exit 2 is the expected drift. */
function winstate(args: string[]): { ms: number; stdout: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 600_000, maxBuffer: 256 * 2 ** 20 });
  if (r.status !== 2) throw new Error(`winstate ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
  return { ms: performance.now() - t, stdout: r.stdout };
}
const phases = (stdout: string) => {
  const t = (JSON.parse(stdout) as { timings: Record<string, number> }).timings;
  return Object.entries(t).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ');
};

const sshd = await startSshd(addresses);
try {
  const inventory = (file: string, n: number) => {
    const hosts = addresses.slice(0, n).map((a, i) => `  - { name: host${i + 1}, address: ${a}, snapshot: { registry: ${snapshots[i]}, securityTemplate: ${templates[i]}, auditBackup: ${audits[i]} } }`);
    writeFileSync(file, `throttle: ${throttle}\ndefaults: { user: root, port: ${sshd.port}, keyFile: ${sshd.key} }\nhosts:\n${hosts.join('\n')}\n`);
    return file;
  };
  console.log(`fleet bench: ${hostCount} hosts x ${plan.resources.length} settings (STIG MS), test phase, throttle ${throttle}`);
  const fleet = winstate(['test', document, '--hosts', inventory(join(dir, 'all.yaml'), hostCount), '--json']);
  const fleetMs = fleet.ms;
  console.log(`  fleet (remoting, one Invoke-Command): ${(fleetMs / 1000).toFixed(1)} s (${phases(fleet.stdout)})`);
  let sequentialMs = 0;
  for (const [i, file] of snapshots.entries()) sequentialMs += winstate(['test', document, '--snapshot', file, '--snapshot', templates[i]!, '--snapshot', audits[i]!, '--json']).ms;
  console.log(`  sequential (${hostCount} CLI runs):        ${(sequentialMs / 1000).toFixed(1)} s`);
  console.log(`  ratio sequential / fleet:              ${(sequentialMs / fleetMs).toFixed(2)}x (target >= 5x)`);
  const one = winstate(['test', document, '--hosts', inventory(join(dir, 'one.yaml'), 1), '--json']);
  const oneLocal = sequentialMs / hostCount;
  console.log(`  per host: 1-host fleet run ${(one.ms / 1000).toFixed(1)} s (${phases(one.stdout)}) vs a local run ${(oneLocal / 1000).toFixed(1)} s: remoting overhead ${((one.ms - oneLocal) / 1000).toFixed(1)} s`);
} finally {
  await sshd.stop();
}
