// Benchmark: how close a winstate run comes to the floor, as a user meets it (whole processes, side
// by side in one run): `winstate test|apply` of N registry settings on a regedit export against one
// hand-written PowerShell script doing the same checks (or changes) on the same file, and node's
// and PowerShell's peak memory. Targets (issue: near the floor): test <= 1.3x at 300, <= 1.5x at
// 10,000; N = 1 at most 0.3 s over a bare `pwsh -NoProfile -Command exit`; node <= 250 MiB at 10,000.
// First, the headline: `winstate test` of 50 settings against one PowerShell process per resource.
// Rounds: 5 up to 300 settings, 3 at 3,000, 1 at 10,000 (each is printed).
// Usage: node dist/bench/floor.js [--sizes 1,300,3000,10000] [--rounds n] [--per-resource 50|0]
//        node dist/bench/floor.js --sizes 3000 --keep <dir>   (only write the files, for profiling)
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { locatePwsh } from '../src/bridge/locate.js';
import { compilePlan } from '../src/compile/emit.js';
import { validateFile } from '../src/document/validate.js';
import { PROJECT_ROOT } from '../src/paths.js';

const arg = (name: string) => (process.argv.indexOf(name) > 0 ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const sizes = (arg('--sizes') ?? '1,300,3000,10000').split(',').map(Number);
const roundsWanted = arg('--rounds') ? Number(arg('--rounds')) : undefined;
const perResourceN = Number(arg('--per-resource') ?? 50);
/** Only write each size's document, export and hand-written script into this folder (for profiling). */
const keep = arg('--keep');
const dir = keep ? (mkdirSync(keep, { recursive: true }), keep) : mkdtempSync(join(tmpdir(), 'winstate-floor-'));
const pwsh = locatePwsh();
const winstate = join(PROJECT_ROOT, 'bin', 'winstate.js');
/** Per-request limit of the measured runs: a loaded machine can stretch a 10,000-setting request past the 2-minute default. */
const TIMEOUT_MS = String(30 * 60 * 1000);

/** N DWord settings over N/10 keys; a third of them drifted in the export. */
function makeCase(n: number): { yaml: string; reg: string; script: string } {
  const resources: string[] = [];
  const keys = new Map<string, string[]>();
  const expected: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = `SOFTWARE\\Floor\\Area${Math.floor(i / 10)}`;
    resources.push(`  - { name: setting ${i}, type: Registry, properties: { key: 'HKLM\\${key}', valueName: V${i}, valueType: DWord, valueData: ${i} } }`);
    if (!keys.has(key)) keys.set(key, []);
    keys.get(key)!.push(`"V${i}"=dword:${(i % 3 === 0 ? i + 1 : i).toString(16).padStart(8, '0')}`);
    expected.push(`    @{ Key = 'HKEY_LOCAL_MACHINE\\${key}'; Name = 'V${i}'; Data = ${i} }`);
  }
  const yaml = `metadata: { name: floor-${n} }\nresources:\n${resources.join('\n')}\n`;
  const reg = ['Windows Registry Editor Version 5.00', '', ...[...keys].flatMap(([k, values]) => [`[HKEY_LOCAL_MACHINE\\${k}]`, ...values, '']), ''].join('\r\n');
  // What an admin would write by hand: read the export once, index it, compare; Set rewrites the
  // drifted lines and saves the file.
  const script = String.raw`param([string] $Path, [switch] $Set)
$wanted = @(
${expected.join(',\n')}
)
$lines = [System.IO.File]::ReadAllLines($Path, [System.Text.Encoding]::Unicode)
$index = @{}
$key = ''
for ($i = 0; $i -lt $lines.Length; $i++) {
    $line = $lines[$i]
    if ($line.StartsWith('[')) { $key = $line.Substring(1, $line.Length - 2); continue }
    if ($line.StartsWith('"')) { $end = $line.IndexOf('"', 1); $index[$key + '!' + $line.Substring(1, $end - 1)] = $i }
}
$drift = 0
foreach ($w in $wanted) {
    $at = $index[$w.Key + '!' + $w.Name]
    $ok = $false
    if ($null -ne $at) { $ok = ([Convert]::ToUInt32($lines[$at].Substring($lines[$at].IndexOf(':') + 1), 16) -eq $w.Data) }
    if (-not $ok) {
        $drift++
        if ($Set) { $lines[$at] = '"' + $w.Name + '"=dword:' + ([uint32]$w.Data).ToString('x8') }
    }
}
if ($Set -and $drift -gt 0) { [System.IO.File]::WriteAllLines($Path, $lines, [System.Text.Encoding]::Unicode) }
"$drift drifted"
`;
  return { yaml, reg, script };
}

interface Measured { ms: number; cpuMs: number | undefined; peaks: Map<string, number> }

/**
 * Runs a process to its end; samples the resident memory of it and its descendants (Linux /proc).
 * On Linux it runs under a shell that then reports its waited-for children's CPU time (utime +
 * stime of the process and everything it waited for), and the samples add the CPU time of every
 * descendant: a busy machine stretches the wall time, far less the CPU time.
 */
function measure(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const linux = process.platform === 'linux';
    const child = linux
      ? spawn('/bin/sh', ['-c', '"$@"; rc=$?; cat /proc/$$/stat >&3; exit $rc', 'sh', command, ...args], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env })
      : spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    let stat = '';
    child.stderr!.on('data', (c) => { stderr += c; });
    child.stdio[3]?.on('data', (c) => { stat += c; });
    const peaks = new Map<string, number>();
    /** CPU ticks of each process seen, as last sampled: the bridge's pwsh may end after node, unreaped by it. */
    const ticks = new Map<number, number>();
    const sample = () => {
      for (const pid of descendants(child.pid!)) {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          ticks.set(pid, Number(fields[11]) + Number(fields[12]));
          const status = readFileSync(`/proc/${pid}/status`, 'utf8');
          const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?';
          const rss = Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
          const label = name.startsWith('node') ? 'node' : /pwsh|dotnet/.test(name) ? 'pwsh' : name;
          peaks.set(label, Math.max(peaks.get(label) ?? 0, rss));
        } catch { /* gone */ }
      }
    };
    const timer = linux ? setInterval(sample, 25) : undefined;
    child.on('close', (code) => {
      if (timer) clearInterval(timer);
      const ms = performance.now() - started;
      if (code !== 0 && code !== 2) {
        reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`));
        return;
      }
      // Both undercount, neither double-counts: the shell's count misses a child its parent did not
      // wait for, the samples miss each process's last 25 ms.
      const sampled = [...ticks.values()].reduce((a, b) => a + b, 0) * 10;
      const waited = childrenCpuMs(stat);
      resolve({ ms, cpuMs: waited === undefined ? undefined : Math.max(waited, sampled), peaks });
    });
  });
}

/** cutime + cstime (fields 16 and 17 of /proc/<pid>/stat, in clock ticks of 10 ms) of the wrapping shell. */
function childrenCpuMs(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
  const cutime = Number(fields[13]);
  const cstime = Number(fields[14]);
  return Number.isFinite(cutime) && Number.isFinite(cstime) ? (cutime + cstime) * 10 : undefined;
}

function descendants(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${out[i]}/task`)) {
        const children = readFileSync(`/proc/${out[i]}/task/${task}/children`, 'utf8').trim();
        if (children) out.push(...children.split(/\s+/).map(Number));
      }
    } catch { /* gone */ }
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mib = (b: number | undefined) => (b === undefined ? 'n/a' : `${(b / 2 ** 20).toFixed(0)} MiB`);
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const medianCpu = (xs: Measured[]) => (xs.every((m) => m.cpuMs !== undefined) ? median(xs.map((m) => m.cpuMs!)) : undefined);
const maxPeaks = (xs: Measured[], label: string) => Math.max(...xs.map((m) => m.peaks.get(label) ?? 0)) || undefined;

/** "winstate 2.10 s (CPU 2.40 s), hand-written script 1.10 s (CPU 1.30 s): 1.91x (CPU 1.85x)" */
function sideBySide(ours: Measured[], theirs: Measured[], theirLabel: string): string {
  const [w, h] = [median(ours.map((m) => m.ms)), median(theirs.map((m) => m.ms))];
  const [wc, hc] = [medianCpu(ours), medianCpu(theirs)];
  const cpu = (x: number | undefined) => (x === undefined ? '' : ` (CPU ${secs(x)})`);
  const cpuRatio = wc !== undefined && hc ? ` (CPU ${(wc / hc).toFixed(2)}x)` : '';
  return `winstate ${secs(w)}${cpu(wc)}, ${theirLabel} ${secs(h)}${cpu(hc)}: ${(w / h).toFixed(2)}x${cpuRatio}`;
}

function writeCase(n: number): { doc: string; export0: string; ps1: string } {
  const { yaml, reg, script } = makeCase(n);
  const doc = join(dir, `floor-${n}.yaml`);
  const export0 = join(dir, `floor-${n}.reg`);
  const ps1 = join(dir, `floor-${n}.ps1`);
  writeFileSync(doc, yaml);
  writeFileSync(export0, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(reg, 'utf16le')]));
  writeFileSync(ps1, script);
  return { doc, export0, ps1 };
}

async function main(): Promise<void> {
  if (keep) {
    for (const n of sizes) console.log(Object.values(writeCase(n)).join(' '));
    return;
  }
  const stateDir = join(dir, 'state');
  const env = { ...process.env, WINSTATE_STATE_DIR: stateDir, NO_COLOR: '1' };
  console.log(`near the floor: whole processes run one after another, median of the rounds (CPU: user + system time of the process tree), ${pwsh}`);
  const bare: Measured[] = [];
  for (let i = 0; i < 5; i++) bare.push(await measure(pwsh, ['-NoProfile', '-Command', 'exit']));
  const bareMs = median(bare.map((m) => m.ms));
  const bareCpu = medianCpu(bare);
  console.log(`  bare pwsh -NoProfile -Command exit (5 rounds): ${secs(bareMs)}${bareCpu === undefined ? '' : ` (CPU ${secs(bareCpu)})`}`);

  if (perResourceN > 0) {
    // The headline: what the CLI costs against the model of one PowerShell process per resource
    // (each resource its own generated script, run by its own pwsh), both as whole processes.
    const { doc, export0 } = writeCase(perResourceN);
    const { plan } = validateFile(doc);
    if (!plan) throw new Error(`the generated ${perResourceN}-setting document does not validate`);
    const scripts = plan.resources.map((resource, i) => {
      const file = join(dir, `one-${i}.ps1`);
      writeFileSync(file, compilePlan({ ...plan, name: `one-${i}`, resources: [resource] }).text);
      return file;
    });
    const rounds = roundsWanted ?? 3;
    const cli: Measured[] = [];
    for (let r = 0; r < rounds; r++) cli.push(await measure(process.execPath, [winstate, 'test', doc, '--snapshot', export0, '--timeout', TIMEOUT_MS], env));
    const started = performance.now();
    let cpu: number | undefined = 0;
    for (const file of scripts) {
      const one = await measure(pwsh, ['-NoProfile', '-NonInteractive', '-File', file, '-Mode', 'Test', '-RegistrySnapshot', export0, '-OutputFormat', 'Json']);
      cpu = cpu === undefined || one.cpuMs === undefined ? undefined : cpu + one.cpuMs;
    }
    const perResource: Measured = { ms: performance.now() - started, cpuMs: cpu, peaks: new Map() };
    console.log(`  N = ${perResourceN}, one PowerShell process per resource (the headline; winstate ${rounds} rounds, the ${perResourceN} processes once):`);
    console.log(`    test: ${sideBySide(cli, [perResource], `${perResourceN} pwsh processes`)}; that is ${(perResource.ms / median(cli.map((m) => m.ms))).toFixed(1)}x faster`);
  }

  for (const n of sizes) {
    const { doc, export0, ps1 } = writeCase(n);
    const rounds = roundsWanted ?? (n <= 300 ? 5 : n <= 3000 ? 3 : 1);
    const runs = { test: [] as Measured[], floorTest: [] as Measured[], apply: [] as Measured[], floorApply: [] as Measured[] };
    for (let r = 0; r < rounds; r++) {
      runs.test.push(await measure(process.execPath, [winstate, 'test', doc, '--snapshot', export0, '--timeout', TIMEOUT_MS], env));
      runs.floorTest.push(await measure(pwsh, ['-NoProfile', '-File', ps1, export0]));
      const target = join(dir, `apply-${n}-${r}.reg`);
      copyFileSync(export0, target);
      runs.apply.push(await measure(process.execPath, [winstate, 'apply', doc, '--snapshot', target, '--timeout', TIMEOUT_MS], env));
      const byHand = join(dir, `hand-${n}-${r}.reg`);
      copyFileSync(export0, byHand);
      runs.floorApply.push(await measure(pwsh, ['-NoProfile', '-File', ps1, byHand, '-Set']));
      if (existsSync(stateDir)) rmSync(stateDir, { recursive: true, force: true });
    }
    const overBare = n === 1 ? `; ${secs(median(runs.test.map((m) => m.ms)) - bareMs)} over a bare pwsh start` : '';
    console.log(`  N = ${n} (${rounds} round${rounds > 1 ? 's' : ''}):`);
    console.log(`    test:  ${sideBySide(runs.test, runs.floorTest, 'hand-written script')}${overBare}`);
    console.log(`    apply: ${sideBySide(runs.apply, runs.floorApply, 'hand-written script')}`);
    console.log(`    peak memory: test node ${mib(maxPeaks(runs.test, 'node'))}, PowerShell ${mib(maxPeaks(runs.test, 'pwsh'))}; apply node ${mib(maxPeaks(runs.apply, 'node'))}, PowerShell ${mib(maxPeaks(runs.apply, 'pwsh'))}`);
  }
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
