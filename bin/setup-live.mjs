#!/usr/bin/env node
// Prepares the live-registry lane on Linux: Wine, the Windows build of PowerShell 7.6.9 and a Wine
// prefix of its own, all cached under .tools/live/ (ignored by git), then a launcher
// .tools/live/pwsh that the bridge and the tests start like any pwsh.
//
//   node bin/setup-live.mjs                  prepare (seconds once cached)
//   node bin/setup-live.mjs -- <command...>  prepare, run the command with WINSTATE_LIVE_PWSH set to
//                                            the launcher and a persistent wineserver, then stop it
//
// On Windows there is nothing to prepare: the command runs with the PowerShell the environment names.
// Node.js built-ins only, so it runs from a fresh clone.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const PWSH_VERSION = '7.6.9';
const live = join(root, '.tools', 'live');
const pwshDir = join(live, 'pwsh-win');
const prefix = join(live, 'wineprefix');
const launcher = join(live, 'pwsh');
const logs = join(live, 'logs');
const marker = join(pwshDir, '.winstate-build');
const started = Date.now();
const say = (text) => process.stderr.write(`setup-live: ${text}\n`);
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

const dashes = process.argv.indexOf('--');
const command = dashes >= 0 ? process.argv.slice(dashes + 1) : [];

if (process.platform === 'win32') {
  say('on Windows the live tests use the PowerShell named by WINSTATE_PWSH (or found on PATH); nothing to prepare');
  process.exit(command.length ? runCommand(command, process.env) : 0);
}

mkdirSync(logs, { recursive: true });

/** Runs a tool with its output in a log file, never a pipe: Wine's services would hold a pipe open. */
function logged(name, cmd, args, options = {}) {
  const log = join(logs, `${name}.log`);
  const fd = openSync(log, 'w');
  try {
    const result = spawnSync(cmd, args, { cwd: options.cwd ?? root, env: options.env ?? process.env, stdio: ['ignore', fd, fd] });
    if (result.error) throw new Error(`${cmd}: ${result.error.message}`);
    if (result.status !== 0 && !options.allowFailure) {
      const tail = readFileSync(log, 'utf8').split('\n').slice(-15).join('\n');
      throw new Error(`${cmd} ${args.join(' ')} exited with ${result.status}; see ${log}:\n${tail}`);
    }
    return result.status;
  } finally {
    closeSync(fd);
  }
}

function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).filter(Boolean).some((dir) => existsSync(join(dir, name)));
}

function fail(message) {
  say(message);
  process.exit(1);
}

// ---- 1. Wine (Debian packages) ----
if (!onPath('wine')) {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    fail('Wine is not installed. As root run: apt-get update && apt-get install -y --no-install-recommends wine wine64 (or run this script as root)');
  }
  const t = Date.now();
  say('installing Wine (apt-get install wine wine64)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    logged('apt-update', 'apt-get', ['update'], { env });
    logged('apt-install', 'apt-get', ['install', '-y', '--no-install-recommends', 'wine', 'wine64'], { env });
  } catch (error) {
    fail(`could not install Wine: ${error.message}`);
  }
  say(`Wine installed in ${seconds(t)}`);
}
if (!onPath('script')) fail('`script` (util-linux) is missing; it gives Windows PowerShell the console it needs. Debian: apt-get install bsdutils');

// ---- 2. Windows PowerShell: a self-contained win-x64 publish of the SDK, with pwsh's own files on top ----
if (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== PWSH_VERSION) {
  if (!onPath('dotnet')) fail('the .NET SDK (10 or later) is needed once, to build the Windows PowerShell; install it and run again');
  const t = Date.now();
  say(`building Windows PowerShell ${PWSH_VERSION} (dotnet publish -r win-x64 --self-contained; about a minute)`);
  const build = join(live, 'build');
  const packages = join(live, 'nuget');
  const staging = `${pwshDir}.tmp`;
  rmSync(build, { recursive: true, force: true });
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(build, { recursive: true });
  // The project is named pwsh so its apphost is pwsh.exe, loading pwsh.dll; that dll is replaced
  // below by the real one from the PowerShell tool package, which this restore also downloads.
  writeFileSync(join(build, 'pwsh.csproj'), `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <AssemblyName>pwsh</AssemblyName>
    <RuntimeIdentifier>win-x64</RuntimeIdentifier>
    <SelfContained>true</SelfContained>
    <ImplicitUsings>disable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Microsoft.PowerShell.SDK" Version="${PWSH_VERSION}" />
    <PackageDownload Include="PowerShell" Version="[${PWSH_VERSION}]" />
  </ItemGroup>
</Project>
`);
  writeFileSync(join(build, 'Program.cs'), 'public static class Program { public static int Main() => 0; }\n');
  const env = { ...process.env, NUGET_PACKAGES: packages, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' };
  try {
    logged('dotnet-publish', 'dotnet', ['publish', '-c', 'Release', '-o', staging], { cwd: build, env });
  } catch (error) {
    fail(`could not build Windows PowerShell: ${error.message}`);
  }
  const tool = join(packages, 'powershell', PWSH_VERSION, 'tools', 'net10.0', 'any', 'win');
  if (!existsSync(join(tool, 'pwsh.dll'))) fail(`the PowerShell tool package has no ${join(tool, 'pwsh.dll')}`);
  // Keep the self-contained apphost, runtimeconfig and deps; take everything else (pwsh.dll,
  // Modules, the host assemblies) from the tool.
  const own = new Set(['pwsh.exe', 'pwsh.runtimeconfig.json', 'pwsh.deps.json']);
  for (const entry of readdirSync(tool)) {
    if (!own.has(entry)) cpSync(join(tool, entry), join(staging, entry), { recursive: true, force: true });
  }
  writeFileSync(join(staging, '.winstate-build'), `${PWSH_VERSION}\n`);
  rmSync(pwshDir, { recursive: true, force: true });
  renameSync(staging, pwshDir);
  rmSync(build, { recursive: true, force: true });
  rmSync(packages, { recursive: true, force: true });
  say(`Windows PowerShell built in ${seconds(t)}`);
}

// ---- 3. The launcher: what WINSTATE_LIVE_PWSH names ----
const shellQuote = (text) => `'${text.replace(/'/g, `'\\''`)}'`;
const launcherText = `#!/bin/sh
# Written by bin/setup-live.mjs: starts the Windows build of PowerShell under Wine like pwsh.
# Windows PowerShell needs a console. Wine gives a process one only when a standard stream is a
# terminal, so cmd.exe runs on a terminal from script(1) and starts pwsh.exe from a batch file with
# all three streams redirected to named pipes: pwsh.exe inherits the console, and its output never
# passes through the console's screen rendering. Wine cannot use the sockets Node.js gives a child as
# its standard streams either, so cat relays them to and from the named pipes.
export WINEPREFIX=${shellQuote(prefix)}
export WINEDEBUG=-all DISPLAY= DOTNET_EnableWriteXorExecute=0 WINEDLLOVERRIDES='winemenubuilder.exe=d'
export POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off
# The pipes go in the caller's temporary folder; Wine itself runs without TMPDIR. Wine (Debian's
# build) keeps its server socket under TMPDIR, so with the runner's per-file TMPDIR every test file
# started a wineserver of its own on the one prefix, never stopped; and the Windows PowerShell on a
# new prefix found no cmdlets of its own modules ("Join-Path is not recognized").
pipes_parent=\${TMPDIR:-/tmp}
unset TMPDIR
# A wineserver started here would hand our pipes to Wine's services: make sure one runs already.
wineserver -p </dev/null >/dev/null 2>&1
windows_path() { printf 'Z:%s' "$1" | tr / '\\\\'; }
line="@\\"$(windows_path ${shellQuote(join(pwshDir, 'pwsh.exe'))})\\""
for arg in "$@"; do
  case "$arg" in
    *'"'* | *[!\\\ -~]*) echo "pwsh (Wine launcher): an argument with a double quote or a non-ASCII character cannot pass through cmd.exe: $arg" >&2; exit 64 ;;
  esac
  line="$line \\"$(printf '%s' "$arg" | sed 's/%/%%/g')\\""
done
dir=$(mktemp -d "$pipes_parent/winstate-wine.XXXXXX") || exit 1
mkfifo "$dir/in" "$dir/out" "$dir/err" || exit 1
printf '%s < "%s" > "%s" 2> "%s"\\r\\n@exit /b %%ERRORLEVEL%%\\r\\n' "$line" "$(windows_path "$dir/in")" "$(windows_path "$dir/out")" "$(windows_path "$dir/err")" >"$dir/run.cmd"
exec 3<&0
cat <&3 >"$dir/in" 3<&- &
relay_in=$!
cat <"$dir/out" 3<&- &
relay_out=$!
cat <"$dir/err" >&2 3<&- &
relay_err=$!
# Afterwards, opening each FIFO read-write (which never blocks) releases a relay still waiting for
# the other end; the folder goes then too, even when this script itself was killed.
script -qec "wine cmd /c '$(windows_path "$dir/run.cmd")'; s=\\$?; for f in in out err; do : <>'$dir/'\\$f; done; rm -rf '$dir'; exit \\$s" /dev/null </dev/null >/dev/null 2>&1 3<&- &
console=$!
trap 'kill $console 2>/dev/null' TERM INT HUP
wait $console
status=$?
# When the console was stopped by a signal, its shell did not get to release the relays.
for f in out err; do [ -p "$dir/$f" ] && : <>"$dir/$f"; done
wait $relay_out $relay_err
kill $relay_in 2>/dev/null
rm -rf "$dir"
exit $status
`;
if (!existsSync(launcher) || readFileSync(launcher, 'utf8') !== launcherText) {
  writeFileSync(`${launcher}.tmp`, launcherText);
  chmodSync(`${launcher}.tmp`, 0o755);
  renameSync(`${launcher}.tmp`, launcher);
}

// ---- 4. The Wine prefix, and a wineserver that outlives each PowerShell ----
// Without TMPDIR, as the launcher runs Wine: Wine finds its server under TMPDIR, so this is the one
// wineserver every PowerShell of the run shares, and the one stopped at the end.
const { TMPDIR: _ignoredTmpdir, ...envWithoutTmpdir } = process.env;
const wineEnv = { ...envWithoutTmpdir, WINEPREFIX: prefix, WINEDEBUG: '-all', DISPLAY: '', WINEDLLOVERRIDES: 'winemenubuilder.exe=d' };
logged('wineserver', 'wineserver', ['-p'], { env: wineEnv, allowFailure: true });
if (!existsSync(join(prefix, 'system.reg'))) {
  const t = Date.now();
  say(`creating the Wine prefix ${prefix} (wineboot -i)`);
  logged('wineboot', 'wine', ['wineboot', '-i'], { env: wineEnv });
  say(`Wine prefix created in ${seconds(t)}`);
} else {
  // Starts Wine's services now, with their output in a log, before any test starts a PowerShell.
  logged('wineboot', 'wine', ['wineboot'], { env: wineEnv });
}

// ---- 5. Probe: the PowerShell must say it runs on Windows ----
{
  const t = Date.now();
  const out = join(logs, 'probe.out');
  const fd = openSync(out, 'w');
  const probe = spawnSync(launcher, ['-NoProfile', '-NonInteractive', '-Command', "'PSVersion=' + $PSVersionTable.PSVersion + ' Platform=' + [System.Environment]::OSVersion.Platform"], { stdio: ['ignore', fd, 'ignore'] });
  closeSync(fd);
  const text = readFileSync(out, 'utf8').trim();
  if (probe.status !== 0 || !/Platform=Win32NT/.test(text)) fail(`the Windows PowerShell did not start (exit ${probe.status}): ${text}`);
  say(`${text} (started in ${seconds(t)}) via ${launcher}`);
}
say(`ready in ${seconds(started)}; .tools/live holds ${diskUse(live)}`);

if (command.length) {
  let status = 1;
  try {
    // Only the live tests use it (test/windows/live-env.ts); the rest of a run keeps the Linux pwsh.
    status = runCommand(command, { ...process.env, WINSTATE_LIVE_PWSH: launcher });
  } finally {
    logged('wineserver-stop', 'wineserver', ['-k'], { env: wineEnv, allowFailure: true });
  }
  process.exit(status);
}

function runCommand(argv, env) {
  const result = spawnSync(argv[0], argv.slice(1), { cwd: root, env, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.error) {
    say(`${argv[0]}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

function diskUse(dir) {
  let bytes = 0;
  const walk = (path) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) bytes += statSync(full).size;
    }
  };
  walk(dir);
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}
