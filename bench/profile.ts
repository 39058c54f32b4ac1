// Profile of one `winstate test|apply` run, phase by phase, for bench/README.md. Two halves:
//  - node: the CLI's own steps in this process (module load, validate, payload, request
//    building, the JSON report), CPU time and wall time each;
//  - PowerShell: the bridge script as the CLI sends it, with timing wrappers placed around the
//    runtime's phase functions (payload deserialisation, store read, batch read, changes, save,
//    JSON), run in a fresh pwsh as the CLI does. The runtime files are not changed.
// Usage: node dist/bench/profile.js [--size 3000]
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { locatePwsh } from '../src/bridge/locate.js';
import { PROJECT_ROOT } from '../src/paths.js';

const sizeAt = process.argv.indexOf('--size');
const N = sizeAt > 0 ? Number(process.argv[sizeAt + 1]) : 3000;
const dir = mkdtempSync(join(tmpdir(), 'winstate-profile-'));
const pwsh = locatePwsh();

interface Step { name: string; wallMs: number; cpuMs: number }
const steps: Step[] = [];
async function step<T>(name: string, run: () => T | Promise<T>): Promise<T> {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const value = await run();
  const used = process.cpuUsage(cpu);
  steps.push({ name, wallMs: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 });
  return value;
}

/** The phase functions of the runtime that get a timing wrapper (calls and total ms). */
const TIMED = ['ConvertFrom-WsPayload', 'Invoke-WsConfiguration', 'Invoke-WsSetPhase', 'Open-WsStore', 'Get-WsRegistryStates', 'Get-WsRegistryState', 'Get-WsRegistryBackupEntries', 'Write-WsBackup', 'Set-WsRegistryState', 'Save-WsStore', 'Add-WsJournal', 'ConvertTo-WsAsciiJson'];

function instrument(text: string): string {
  const wrappers = TIMED.map((f) => {
    const saved = `${f.replace(/-/g, '')}Untimed`;
    return `\${function:${saved}} = \${function:${f}}
function ${f} { $wsCpu = [System.Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime; $wsTimer = [System.Diagnostics.Stopwatch]::StartNew(); try { ${saved} @args } finally { $global:WsProfile['${f}'] += $wsTimer.Elapsed.TotalMilliseconds; $global:WsCpu['${f}'] += ([System.Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime - $wsCpu).TotalMilliseconds; $global:WsCalls['${f}'] += 1 } }`;
  }).join('\n');
  const end = text.indexOf('#endregion');
  if (end < 0) throw new Error('the bridge script has no #endregion after its runtime');
  return `${text.slice(0, end)}#endregion\n${wrappers}\n${text.slice(end + '#endregion'.length)}`;
}

const HARNESS = String.raw`param([string] $ScriptPath, [string] $PayloadPath, [string] $Snapshot, [string] $Mode, [string] $ReportPath)
$clock = [System.Diagnostics.Stopwatch]::StartNew()
$global:WsProfile = [ordered]@{}
$global:WsCalls = @{}
$global:WsCpu = @{}
$cpu0 = [System.Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime
$text = [System.IO.File]::ReadAllText($ScriptPath)
$payload = [System.IO.File]::ReadAllText($PayloadPath)
$read = $clock.Elapsed.TotalMilliseconds
$cpuRead = [System.Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime
$block = [scriptblock]::Create($text)
$parsed = $clock.Elapsed.TotalMilliseconds
$cpuParsed = [System.Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime
$json = & $block -Mode $Mode -RegistrySnapshot $Snapshot -OutputFormat Json -Payload $payload -NoLock -BackupPath ($Snapshot + '.backup.json')
$ran = $clock.Elapsed.TotalMilliseconds
$cpuRan = [System.Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime
[System.IO.File]::WriteAllText($ReportPath, [string]$json)
# [wall ms, CPU ms]; CPU is every thread of the process (JIT and GC threads too).
$out = [ordered]@{
    'before the harness ran (runtime start)' = @(0, $cpu0.TotalMilliseconds)
    'read script + payload files' = @($read, ($cpuRead - $cpu0).TotalMilliseconds)
    'parse the script ([scriptblock]::Create)' = @(($parsed - $read), ($cpuParsed - $cpuRead).TotalMilliseconds)
    'run (total)' = @(($ran - $parsed), ($cpuRan - $cpuParsed).TotalMilliseconds)
}
foreach ($k in $global:WsProfile.Keys) { $out[$k + ' x' + $global:WsCalls[$k]] = @($global:WsProfile[$k], $global:WsCpu[$k]) }
[System.Console]::Out.WriteLine(($out | ConvertTo-Json -Compress))
`;

async function main(): Promise<void> {
  // The floor bench's document, export and (for comparison) hand-written script at this size.
  const made = spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'bench', 'floor.js'), '--sizes', String(N), '--keep', dir], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(made.stderr);
  const [doc, export0] = made.stdout.trim().split(' ');
  const dist = (p: string) => pathToFileURL(join(PROJECT_ROOT, 'dist', 'src', p)).href;

  const { validateFile } = await step('import validate (YAML, schema, kinds)', () => import(dist('document/validate.js')));
  const plan = await step('validate the document', () => validateFile(doc!).plan);
  if (!plan) throw new Error('the document does not validate');
  const { bridgePayload, bridgeScript } = await step('import compile', () => import(dist('compile/emit.js')));
  const payload: string = await step('build the payload (CLIXML)', () => bridgePayload(plan));
  const script = await step('bridge script text', () => bridgeScript());
  await step('import engine and bridge', () => import(dist('engine/engine.js')));
  const { renderRun } = await step('import the text report', () => import(dist('report/text.js')));
  const { settingArea } = await import(dist('report/model.js'));

  const scriptPath = join(dir, 'bridge.ps1');
  const payloadPath = join(dir, 'payload.xml');
  const harness = join(dir, 'harness.ps1');
  writeFileSync(scriptPath, instrument(script.text));
  writeFileSync(payloadPath, payload);
  writeFileSync(harness, HARNESS);
  spawnSync(pwsh, ['-NoProfile', '-Command', 'exit']); // warms the file cache
  const bareTimes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    spawnSync(pwsh, ['-NoProfile', '-NonInteractive', '-Command', 'exit']);
    bareTimes.push(performance.now() - t);
  }
  const reports: Record<string, string> = {};
  const pwshLines: string[] = [];
  for (const mode of ['Test', 'Set']) {
    const snapshot = join(dir, `${mode}.reg`);
    const reportPath = join(dir, `${mode}.json`);
    copyFileSync(export0!, snapshot);
    const t = performance.now();
    const run = spawnSync(pwsh, ['-NoProfile', '-NonInteractive', '-File', harness, scriptPath, payloadPath, snapshot, mode, reportPath], { encoding: 'utf8', maxBuffer: 2 ** 28 });
    const whole = performance.now() - t;
    if (run.status !== 0) throw new Error(`harness ${mode} exited ${run.status}: ${run.stderr.slice(0, 2000)}`);
    const figures = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, [number, number]>;
    pwshLines.push(`  PowerShell, mode ${mode} (a fresh pwsh; ${whole.toFixed(0)} ms for the whole process; functions are inclusive):`);
    for (const [k, [wall, cpu]] of Object.entries(figures)) pwshLines.push(`    ${k.padEnd(44)} ${wall.toFixed(0).padStart(6)} ms wall ${cpu.toFixed(0).padStart(6)} ms CPU`);
    reports[mode] = readFileSync(reportPath, 'utf8');
  }
  const report = await step('JSON.parse of the Test report', () => JSON.parse(reports.Test!));
  const areas = new Map(plan.resources.map((r: { name: string }) => [r.name, settingArea(r as never)]));
  await step('render the text report (test)', () => renderRun(report, { areaOf: (name: string) => areas.get(name) }));

  console.log(`profile of one run at N = ${N} (payload ${(payload.length / 2 ** 20).toFixed(1)} MiB CLIXML, bridge script ${(script.text.length / 1024).toFixed(0)} KiB)`);
  console.log('  node, in this process (the CLI runs the same steps):');
  for (const s of steps) console.log(`    ${s.name.padEnd(44)} ${s.wallMs.toFixed(0).padStart(6)} ms wall ${s.cpuMs.toFixed(0).padStart(6)} ms CPU`);
  console.log(`  pwsh -NoProfile -NonInteractive -Command exit: ${[...bareTimes].sort((a, b) => a - b)[1]!.toFixed(0)} ms (median of 3)`);
  console.log(pwshLines.join('\n'));
  rmSync(dir, { recursive: true, force: true });
}

await main();
