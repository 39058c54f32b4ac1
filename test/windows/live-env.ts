// Which PowerShell the live-registry tests drive. On Windows: the one the environment names
// (WINSTATE_PWSH in .github/workflows/windows-live.yml), as the CLI would find it. On Linux: the
// Windows build of PowerShell under Wine that `npm run test:live` prepares (bin/setup-live.mjs),
// started through its launcher .tools/live/pwsh.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectPath } from '../../src/paths.js';
import { PwshSession, type RequestResult } from '../../src/bridge/session.js';
import { ps, PsCode } from '../../src/compile/quote.js';

export const underWine = process.platform !== 'win32';

if (underWine) {
  const launcher = projectPath('.tools', 'live', 'pwsh');
  // bin/setup-live.mjs names its launcher in WINSTATE_LIVE_PWSH; the other tests of the same run keep the Linux pwsh.
  const live = process.env.WINSTATE_LIVE_PWSH ?? launcher;
  if (!existsSync(live)) throw new Error('live-registry tests need Windows, or Wine prepared by `npm run test:live` (bin/setup-live.mjs)');
  process.env.WINSTATE_PWSH = live;
  // The CLI's lock for the live registry lives under %ProgramData%; Linux has none, so give it
  // (and, through the environment, the PowerShell under Wine) one folder of the test's own.
  process.env.ProgramData ??= mkdtempSync(join(tmpdir(), 'winstate-programdata-'));
}

export interface LivePowerShell {
  version: string;
  edition: string;
  platform: string;
  os: string;
  is64BitProcess: boolean;
}

/**
 * A request of the tests' own (reads, and writes of fixed values: each may run twice). Once in a CI
 * run on a loaded machine, a PowerShell under Wine died as it started ('Shell process exited'); the
 * tests' scaffolding tries a second process then, and prints why the first ended. Requests of
 * winstate itself never go through here.
 */
export async function invokeLive(session: PwshSession, code: PsCode): Promise<RequestResult> {
  const result = await session.invoke(code);
  if (result.ok || !result.exited) return result;
  console.log(`  (the test's PowerShell ended during a request; trying a new one: ${result.error?.message})`);
  return session.invoke(code);
}

/** Asks the PowerShell that the tests use what it is; a live test run must be on Windows (Win32NT). */
export async function describeLivePowerShell(session: PwshSession): Promise<LivePowerShell> {
  const result = await invokeLive(session, ps`ConvertTo-Json -Compress -InputObject ([ordered]@{
    version = $PSVersionTable.PSVersion.ToString(); edition = [string]$PSVersionTable.PSEdition
    platform = [string][System.Environment]::OSVersion.Platform; os = [System.Environment]::OSVersion.VersionString
    is64BitProcess = [System.Environment]::Is64BitProcess })`);
  if (!result.ok) throw result.error!;
  return JSON.parse(result.output) as LivePowerShell;
}

/** A registry value as the tests compare it: DWord a number, QWord decimal text, Binary hex, MultiString a list. */
export interface RegValue {
  kind: 'String' | 'ExpandString' | 'DWord' | 'QWord' | 'MultiString' | 'Binary';
  data: string | number | string[];
}

export type View = 'Registry64' | 'Registry32';

function split(key: string): { hive: string; subKey: string } {
  const [root, ...rest] = key.split('\\');
  const hive = { HKCU: 'CurrentUser', HKLM: 'LocalMachine' }[root!];
  if (!hive) throw new Error(`test keys live under HKCU or HKLM: ${key}`);
  return { hive, subKey: rest.join('\\') };
}

async function run(session: PwshSession, code: ReturnType<typeof ps>): Promise<string> {
  const result = await invokeLive(session, code);
  // Slow requests are worth knowing about under Wine (start-up alone takes seconds).
  if (result.durationMs > 15_000 || result.restarted) console.log(`  (direct RegistryKey request took ${result.durationMs} ms${result.restarted ? ', PowerShell restarted' : ''})`);
  if (!result.ok) throw result.error!;
  return result.output;
}

/**
 * Reads values straight through [Microsoft.Win32.RegistryKey] (not through winstate's store),
 * unexpanded, with their kind; null for a value that does not exist.
 */
export async function readValues(session: PwshSession, key: string, names: string[], view: View = 'Registry64'): Promise<Record<string, RegValue | null>> {
  const { hive, subKey } = split(key);
  const output = await run(session, ps`$base = [Microsoft.Win32.RegistryKey]::OpenBaseKey(${hive}, ${view})
$key = $base.OpenSubKey(${subKey}, $false)
$out = [ordered]@{}
foreach ($name in ${names}) {
    $out[$name] = $null
    if ($null -eq $key -or -not (@($key.GetValueNames()) -contains $name)) { continue }
    $kind = [string]$key.GetValueKind($name)
    $raw = $key.GetValue($name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
    $data = switch ($kind) {
        'DWord' { [System.BitConverter]::ToUInt32([System.BitConverter]::GetBytes([int32]$raw), 0) }
        'QWord' { [System.BitConverter]::ToUInt64([System.BitConverter]::GetBytes([int64]$raw), 0).ToString() }
        'Binary' { -join @($raw | ForEach-Object { $_.ToString('x2') }) }
        'MultiString' { , [string[]]$raw }
        default { [string]$raw }
    }
    $out[$name] = [ordered]@{ kind = $kind; data = $data }
}
if ($null -ne $key) { $key.Dispose() }
$base.Dispose()
ConvertTo-Json -Compress -Depth 4 -InputObject $out`);
  const parsed = JSON.parse(output) as Record<string, RegValue | null>;
  // ConvertTo-Json writes a one-item list as the item itself.
  for (const value of Object.values(parsed)) if (value?.kind === 'MultiString' && !Array.isArray(value.data)) value.data = [value.data as string];
  return parsed;
}

/** Whether a key exists in a view, through RegistryKey. */
export async function keyExists(session: PwshSession, key: string, view: View = 'Registry64'): Promise<boolean> {
  const { hive, subKey } = split(key);
  const output = await run(session, ps`$base = [Microsoft.Win32.RegistryKey]::OpenBaseKey(${hive}, ${view})
$key = $base.OpenSubKey(${subKey}, $false)
$found = $null -ne $key
if ($found) { $key.Dispose() }
$base.Dispose()
if ($found) { 'yes' } else { 'no' }`);
  return output.trim() === 'yes';
}

/** Writes fixture values straight through RegistryKey, creating the key. */
export async function writeValues(session: PwshSession, key: string, values: Record<string, RegValue>, view: View = 'Registry64'): Promise<void> {
  const { hive, subKey } = split(key);
  for (const [name, { kind, data }] of Object.entries(values)) {
    const typed =
      kind === 'DWord' ? ps`[System.BitConverter]::ToInt32([System.BitConverter]::GetBytes([uint32]${String(data)}), 0)`
      : kind === 'QWord' ? ps`[System.BitConverter]::ToInt64([System.BitConverter]::GetBytes([uint64]${String(data)}), 0)`
      : kind === 'Binary' ? ps`[byte[]]@(${(String(data).match(/../g) ?? []).map((h) => parseInt(h, 16))})`
      : kind === 'MultiString' ? ps`[string[]]@(${data as string[]})`
      : ps`[string]${String(data)}`;
    await run(session, ps`$base = [Microsoft.Win32.RegistryKey]::OpenBaseKey(${hive}, ${view})
$key = $base.CreateSubKey(${subKey})
$key.SetValue(${name}, ${typed}, [Microsoft.Win32.RegistryValueKind]::${new PsCode(kindName(kind))})
$key.Dispose()
$base.Dispose()
'ok'`);
  }
}

function kindName(kind: RegValue['kind']): string {
  if (!['String', 'ExpandString', 'DWord', 'QWord', 'MultiString', 'Binary'].includes(kind)) throw new Error(`no such kind ${kind}`);
  return kind;
}

/** Removes a key tree in a view (no error when it is absent). */
export async function deleteTree(session: PwshSession, key: string, view: View = 'Registry64'): Promise<void> {
  const { hive, subKey } = split(key);
  await run(session, ps`$base = [Microsoft.Win32.RegistryKey]::OpenBaseKey(${hive}, ${view})
$base.DeleteSubKeyTree(${subKey}, $false)
$base.Dispose()
'ok'`);
}

/**
 * A key and everything below it, read through RegistryKey: one line per key, its values sorted,
 * each as name=Kind:data. An absent key gives [].
 */
export async function dumpTree(session: PwshSession, key: string): Promise<string[]> {
  const { hive, subKey } = split(key);
  const output = await run(session, ps`$base = [Microsoft.Win32.RegistryKey]::OpenBaseKey(${hive}, 'Registry64')
$lines = [System.Collections.Generic.List[string]]::new()
$pending = [System.Collections.Generic.Stack[string]]::new()
$pending.Push(${subKey})
while ($pending.Count -gt 0) {
    $path = $pending.Pop()
    $key = $base.OpenSubKey($path, $false)
    if ($null -eq $key) { continue }
    $values = foreach ($name in $key.GetValueNames()) {
        $kind = [string]$key.GetValueKind($name)
        $raw = $key.GetValue($name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
        $data = switch ($kind) {
            'DWord' { [System.BitConverter]::ToUInt32([System.BitConverter]::GetBytes([int32]$raw), 0) }
            'QWord' { [System.BitConverter]::ToUInt64([System.BitConverter]::GetBytes([int64]$raw), 0) }
            'Binary' { -join @($raw | ForEach-Object { $_.ToString('x2') }) }
            'MultiString' { '[' + ((@($raw) | ForEach-Object { '"' + $_ + '"' }) -join ',') + ']' }
            default { '"' + [string]$raw + '"' }
        }
        '{0}={1}:{2}' -f $name.ToLowerInvariant(), $kind, $data
    }
    $lines.Add($path.ToLowerInvariant() + ' {' + ((@($values) | Sort-Object) -join '; ') + '}')
    foreach ($child in $key.GetSubKeyNames()) { $pending.Push($path + '\\' + $child) }
    $key.Dispose()
}
$base.Dispose()
(@($lines) | Sort-Object) -join [string][char]10`);
  return output === '' ? [] : output.split('\n');
}

/** Removes one value (no error when it or its key is absent). */
export async function deleteValue(session: PwshSession, key: string, name: string, view: View = 'Registry64'): Promise<void> {
  const { hive, subKey } = split(key);
  await run(session, ps`$base = [Microsoft.Win32.RegistryKey]::OpenBaseKey(${hive}, ${view})
$key = $base.OpenSubKey(${subKey}, $true)
if ($null -ne $key) { $key.DeleteValue(${name}, $false); $key.Dispose() }
$base.Dispose()
'ok'`);
}
