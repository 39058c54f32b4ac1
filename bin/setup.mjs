#!/usr/bin/env node
// Installs what winstate and its tests need and are missing: npm packages, PowerShell 7 as a local
// .NET tool, and (as root on Debian/Ubuntu) the system packages the tests use: ICU for .NET,
// xmllint for the XML report checks, Chromium for the HTML report test. Uses only Node built-ins,
// so it runs from a fresh clone. `--no-system` skips the system packages.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const PWSH_VERSION = '7.6.9';
// npm is a .cmd script on Windows, which only a shell can start.
const run = (cmd, args, extra = {}) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], shell: process.platform === 'win32', ...extra });
const say = (text) => process.stderr.write(`setup: ${text}\n`);

function onPath(names) {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of names) if (existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

// System packages first: PowerShell's own probe below needs ICU.
if (process.platform === 'linux' && !process.argv.includes('--no-system')) installSystemPackages();

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  say('installing npm packages (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

function findPwsh() {
  const exe = process.platform === 'win32' ? 'pwsh.exe' : 'pwsh';
  if (process.env.WINSTATE_PWSH) return process.env.WINSTATE_PWSH;
  const local = join(root, '.tools', exe);
  if (existsSync(local)) return local;
  return onPath([exe]);
}

let pwsh = findPwsh();
if (!pwsh) {
  say(`installing PowerShell ${PWSH_VERSION} into .tools/ (dotnet tool install)`);
  try {
    run('dotnet', ['tool', 'install', '--tool-path', '.tools', 'PowerShell', '--version', PWSH_VERSION]);
  } catch (error) {
    say(`could not install PowerShell: ${error.message}\nInstall the .NET SDK, or PowerShell 7 itself, and try again.`);
    process.exit(1);
  }
  pwsh = findPwsh();
}
const probe = spawnSync(pwsh, ['-NoProfile', '-NonInteractive', '-Command', '$PSVersionTable.PSVersion.ToString()'], { encoding: 'utf8' });
if (probe.status !== 0) {
  say(`${pwsh} does not start: ${(probe.stderr || probe.error?.message || '').trim()}\n` +
    'If it complains about ICU, install libicu (Debian: apt-get install libicu72) or set DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1.');
  process.exit(1);
}
say(`PowerShell ${probe.stdout.trim()} at ${pwsh}`);

/** Debian packages the tests need, installed with apt-get when running as root; otherwise named. */
function installSystemPackages() {
  const missing = [];
  const hasIcu = spawnSync('sh', ['-c', 'ldconfig -p 2>/dev/null | grep -q libicuuc'], { stdio: 'ignore' }).status === 0;
  if (!hasIcu && !process.env.DOTNET_SYSTEM_GLOBALIZATION_INVARIANT) missing.push({ why: 'ICU for .NET (PowerShell)', package: 'libicu' });
  if (!onPath(['xmllint'])) missing.push({ why: 'xmllint (XML report tests)', package: 'libxml2-utils' });
  if (!process.env.WINSTATE_CHROMIUM && !onPath(['chromium', 'chromium-browser'])) missing.push({ why: 'Chromium (HTML report test)', package: 'chromium' });
  if (!existsSync('/usr/sbin/sshd') && !onPath(['sshd'])) missing.push({ why: 'an OpenSSH server (fleet tests over PowerShell remoting)', package: 'openssh-server' });
  if (!onPath(['ansible-playbook'])) missing.push({ why: 'ansible-playbook (the example playbook is syntax-checked)', package: 'ansible' });
  if (missing.length === 0) return;
  const aptGet = onPath(['apt-get']);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!aptGet || !root) {
    say(`missing for the tests: ${missing.map((m) => m.why).join(', ')}.\n` +
      `  Install ${missing.map((m) => (m.package === 'libicu' ? 'libicu72 (or your release\'s libicuNN)' : m.package)).join(', ')} ` +
      `with your package manager (as root, npm test installs them with apt-get itself); the tests that need them will fail.`);
    return;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  say(`installing ${missing.map((m) => m.why).join(', ')} with apt-get`);
  run('apt-get', ['update', '-qq'], { env });
  const names = missing.map((m) => (m.package === 'libicu' ? newestIcuPackage() : m.package));
  run('apt-get', ['install', '-y', '-qq', ...names], { env, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** libicu72 on Debian 12, libicu76 on 13: whichever libicuNN the archive offers, newest first. */
function newestIcuPackage() {
  const found = spawnSync('apt-cache', ['pkgnames', 'libicu'], { encoding: 'utf8' }).stdout ?? '';
  const versions = found.split('\n').map((n) => /^libicu(\d+)$/.exec(n.trim())?.[1]).filter(Boolean).map(Number).sort((a, b) => b - a);
  return versions.length ? `libicu${versions[0]}` : 'libicu72';
}
