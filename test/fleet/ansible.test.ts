import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runPwshFile, tempDir, writeReg } from '../helpers.js';

// The example playbook: syntax-checked by ansible-playbook itself (Debian package ansible), and the
// fields it reads from the script's JSON checked against a real run of the compiled script.

const root = process.cwd();
const playbook = resolve(root, 'examples', 'ansible', 'winstate.yml');
const ansible = spawnSync('sh', ['-c', 'command -v ansible-playbook'], { encoding: 'utf8' }).stdout.trim();

function syntaxCheck(file: string): { status: number | null; output: string } {
  const dir = tempDir('winstate-ansible-');
  writeFileSync(join(dir, 'inventory.ini'), '[windows]\nweb1 ansible_host=192.0.2.10\n');
  const r = spawnSync(ansible, ['--syntax-check', '-i', join(dir, 'inventory.ini'), file], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ANSIBLE_LOCAL_TEMP: dir, ANSIBLE_HOME: dir } });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test('the example playbook passes ansible-playbook --syntax-check; a misspelt module does not', () => {
  assert.ok(ansible, 'ansible-playbook is not installed: bin/setup.mjs installs the Debian package ansible as root');
  const ok = syntaxCheck(playbook);
  assert.is(ok.status, 0, ok.output);
  const broken = join(tempDir('winstate-ansible-'), 'broken.yml');
  writeFileSync(broken, readFileSync(playbook, 'utf8').replace('ansible.windows.win_powershell:', 'ansible.windows.win_powershel:'));
  assert.is.not(syntaxCheck(broken).status, 0);
});

test('the JSON fields the playbook reads are what a compiled script prints', () => {
  const text = readFileSync(playbook, 'utf8');
  for (const field of ['from_json).summary.changed', 'from_json).summary.failed', 'from_json).summary.drifted', "selectattr('inDesiredState'"]) assert.ok(text.includes(field), field);
  const dir = tempDir('winstate-ansible-');
  const snap = join(dir, 'machine.reg');
  writeReg(snap, ['[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters]', '"EnableSecuritySignature"=dword:00000000']);
  const run = runPwshFile(resolve(root, 'generated-ps', 'smb-client-signing.ps1'), ['-Mode', 'Set', '-OutputFormat', 'Json', '-RegistrySnapshot', snap, '-BackupPath', join(dir, 'backup.json')]);
  const report = JSON.parse(run.stdout) as { summary: { changed: number; failed: number; drifted: number }; results: { name: string; inDesiredState?: boolean }[] };
  assert.is(report.summary.changed, 1, run.stderr);
  assert.is(report.summary.failed, 0);
  assert.is(report.summary.drifted, 0);
  assert.ok(report.results.every((r) => 'inDesiredState' in r));
});

test.run();
