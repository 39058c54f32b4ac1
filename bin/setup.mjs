#!/usr/bin/env node
// Installs what winstate needs and is missing: npm packages, then PowerShell 7 as a local .NET tool.
// Uses only Node built-ins, so it runs from a fresh clone.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const PWSH_VERSION = '7.6.9';
// npm is a .cmd script on Windows, which only a shell can start.
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], shell: process.platform === 'win32' });
const say = (text) => process.stderr.write(`setup: ${text}\n`);

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  say('installing npm packages (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

function findPwsh() {
  const exe = process.platform === 'win32' ? 'pwsh.exe' : 'pwsh';
  if (process.env.WINSTATE_PWSH) return process.env.WINSTATE_PWSH;
  const local = join(root, '.tools', exe);
  if (existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    if (existsSync(join(dir, exe))) return join(dir, exe);
  }
  return undefined;
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
