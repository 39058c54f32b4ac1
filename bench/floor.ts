// Benchmark: how close a winstate run comes to the floor, as a user meets it (whole processes, side
// by side in one run): `winstate test|apply` of N registry settings on a regedit export against one
// hand-written PowerShell script doing the same checks (or changes) on the same file, and node's
// and PowerShell's peak memory. Targets (issue: near the floor): test <= 1.3x at 300, <= 1.5x at
// 10,000; N = 1 at most 0.3 s over a bare `pwsh -NoProfile -Command exit`; node <= 250 MiB at 10,000.
// Usage: node dist/bench/floor.js [--sizes 1,300,3000,10000] [--rounds n]
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { locatePwsh } from '../src/bridge/locate.js';
import { PROJECT_ROOT } from '../src/paths.js';

const arg = (name: string) => (process.argv.indexOf(name) > 0 ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const sizes = (arg('--sizes') ?? '1,300,3000,10000').split(',').map(Number);
const roundsWanted = arg('--rounds') ? Number(arg('--rounds')) : undefined;
const dir = mkdtempSync(join(tmpdir(), 'winstate-floor-'));
const pwsh = locatePwsh();
const cli = join(PROJECT_ROOT, 'bin', 'winstate.js');

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

interface Measured { ms: number; peaks: Map<string, number> }

/** Runs a process to its end; samples the resident memory of it and its descendants (Linux /proc). */
function measure(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (c) => { stderr += c; });
    const peaks = new Map<string, number>();
    const sample = () => {
      for (const pid of descendants(child.pid!)) {
        try {
          const status = readFileSync(`/proc/${pid}/status`, 'utf8');
          const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?';
          const rss = Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
          const label = name.startsWith('node') ? 'node' : /pwsh|dotnet/.test(name) ? 'pwsh' : name;
          peaks.set(label, Math.max(peaks.get(label) ?? 0, rss));
        } catch { /* gone */ }
      }
    };
    const timer = process.platform === 'linux' ? setInterval(sample, 25) : undefined;
    child.on('close', (code) => {
      if (timer) clearInterval(timer);
      const ms = performance.now() - started;
      if (code !== 0 && code !== 2) reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ ms, peaks });
    });
  });
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

async function main(): Promise<void> {
  const stateDir = join(dir, 'state');
  const env = { ...process.env, WINSTATE_STATE_DIR: stateDir, NO_COLOR: '1' };
  console.log(`near the floor: whole processes, median of the rounds, ${pwsh}`);
  const bare: number[] = [];
  for (let i = 0; i < 5; i++) bare.push((await measure(pwsh, ['-NoProfile', '-Command', 'exit'])).ms);
  const bareMs = median(bare);
  console.log(`  bare pwsh -NoProfile -Command exit: ${secs(bareMs)}`);
  for (const n of sizes) {
    const { yaml, reg, script } = makeCase(n);
    const doc = join(dir, `floor-${n}.yaml`);
    const export0 = join(dir, `floor-${n}.reg`);
    const ps1 = join(dir, `floor-${n}.ps1`);
    writeFileSync(doc, yaml);
    writeFileSync(export0, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(reg, 'utf16le')]));
    writeFileSync(ps1, script);
    const rounds = roundsWanted ?? (n <= 300 ? 5 : n <= 3000 ? 3 : 1);
    const times = { test: [] as number[], floorTest: [] as number[], apply: [] as number[], floorApply: [] as number[] };
    let peaks = new Map<string, number>();
    for (let r = 0; r < rounds; r++) {
      times.test.push((await measure(process.execPath, [cli, 'test', doc, '--snapshot', export0], env)).ms);
      times.floorTest.push((await measure(pwsh, ['-NoProfile', '-File', ps1, export0])).ms);
      const target = join(dir, `apply-${n}-${r}.reg`);
      copyFileSync(export0, target);
      const applied = await measure(process.execPath, [cli, 'apply', doc, '--snapshot', target], env);
      times.apply.push(applied.ms);
      peaks = applied.peaks;
      const byHand = join(dir, `hand-${n}-${r}.reg`);
      copyFileSync(export0, byHand);
      times.floorApply.push((await measure(pwsh, ['-NoProfile', '-File', ps1, byHand, '-Set'])).ms);
      if (existsSync(stateDir)) rmSync(stateDir, { recursive: true, force: true });
    }
    const t = median(times.test), ft = median(times.floorTest), a = median(times.apply), fa = median(times.floorApply);
    console.log(`  N = ${n} (${rounds} round${rounds > 1 ? 's' : ''}):`);
    console.log(`    test:  winstate ${secs(t)}, hand-written script ${secs(ft)}: ${(t / ft).toFixed(2)}x${n === 1 ? `; ${secs(t - bareMs)} over a bare pwsh start` : ''}`);
    console.log(`    apply: winstate ${secs(a)}, hand-written script ${secs(fa)}: ${(a / fa).toFixed(2)}x`);
    console.log(`    peak memory during apply: node ${mib(peaks.get('node'))}, PowerShell ${mib(peaks.get('pwsh'))}`);
  }
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
