// Benchmark, library figures: the test phase of a 300-setting document against a snapshot through
// the Engine API in this process, warm (one long-lived session, script already loaded) and cold,
// beside one PowerShell process per resource (DSC v3's model), plus compile time for 1,000
// resources. A CLI user never sees the warm figure: every `winstate` run is a new node and a new
// pwsh; bench/floor.ts measures those whole processes (its N = 50 line is the headline).
// Usage: node dist/bench/run.js [--quick]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { validateText, type Plan } from '../src/document/validate.js';
import { compilePlan } from '../src/compile/emit.js';
import { Engine } from '../src/engine/engine.js';
import { locatePwsh } from '../src/bridge/locate.js';

const quick = process.argv.includes('--quick');
const dir = mkdtempSync(join(tmpdir(), 'winstate-bench-'));

/** n Registry resources over n/10 keys, every value type, about a third drifted in the snapshot. */
function makeDocument(n: number): { yaml: string; reg: string } {
  const types = [
    ['DWord', (i: number) => i, (i: number) => `dword:${(i % 3 === 0 ? i + 1 : i).toString(16).padStart(8, '0')}`],
    ['String', (i: number) => `value ${i}`, (i: number) => `"value ${i % 3 === 0 ? 'old' : i}"`],
    ['QWord', (i: number) => i * 1000, (i: number) => `hex(b):${Buffer.from(new BigUint64Array([BigInt(i % 3 === 0 ? 0 : i * 1000)]).buffer).toJSON().data.map((b) => b.toString(16).padStart(2, '0')).join(',')}`],
  ] as const;
  const resources: string[] = [];
  const keys = new Map<string, string[]>();
  for (let i = 0; i < n; i++) {
    const key = `SOFTWARE\\Bench\\Area${Math.floor(i / 10)}`;
    const [type, data, reg] = types[i % types.length]!;
    resources.push(`  - { name: setting ${i}, type: Registry, properties: { key: 'HKLM\\${key}', valueName: V${i}, valueType: ${type}, valueData: ${JSON.stringify(data(i))} } }`);
    if (!keys.has(key)) keys.set(key, []);
    keys.get(key)!.push(`"V${i}"=${reg(i)}`);
  }
  const yaml = `metadata: { name: bench-${n} }\nresources:\n${resources.join('\n')}\n`;
  const reg = ['Windows Registry Editor Version 5.00', '', ...[...keys].flatMap(([k, values]) => [`[HKEY_LOCAL_MACHINE\\${k}]`, ...values, '']), ''].join('\r\n');
  return { yaml, reg };
}

function plan(yaml: string): Plan {
  const { plan, diagnostics } = validateText('bench.yaml', yaml);
  if (!plan) throw new Error(JSON.stringify(diagnostics[0]));
  return plan;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function main(): Promise<void> {
  const N = 300;
  const { yaml, reg } = makeDocument(N);
  const snapshot = join(dir, 'bench.reg');
  writeFileSync(snapshot, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(reg, 'utf16le')]));
  const doc = plan(yaml);

  // Compile: 1,000 resources, plan -> script, and validate + compile from YAML text.
  const big = makeDocument(1000).yaml;
  const bigPlan = plan(big);
  const compileTimes: number[] = [];
  const fullTimes: number[] = [];
  for (let i = 0; i < 7; i++) {
    let t = performance.now();
    compilePlan(bigPlan);
    compileTimes.push(performance.now() - t);
    t = performance.now();
    compilePlan(plan(big));
    fullTimes.push(performance.now() - t);
  }

  // Warm: one session, script already loaded.
  const engine = new Engine();
  const first = await engine.test(doc, { snapshot });
  if (first.summary.total !== N) throw new Error('unexpected result count');
  const warm: number[] = [];
  const inside: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    const report = await engine.test(doc, { snapshot });
    warm.push(performance.now() - t);
    inside.push(report.durationMs);
  }
  await engine.close();

  // Cold: a new PowerShell process, script sent, test run.
  const cold: number[] = [];
  for (let i = 0; i < (quick ? 2 : 5); i++) {
    const e = new Engine();
    const t = performance.now();
    await e.test(doc, { snapshot });
    cold.push(performance.now() - t);
    await e.close();
  }

  // One process per resource: a one-resource script per setting, each run by its own pwsh.
  const pwsh = locatePwsh();
  const count = quick ? 30 : N;
  const scripts = doc.resources.slice(0, count).map((r, i) => {
    const file = join(dir, `one-${i}.ps1`);
    writeFileSync(file, compilePlan({ ...doc, name: `one-${i}`, resources: [r] }).text);
    return file;
  });
  const t0 = performance.now();
  for (const file of scripts) {
    const run = spawnSync(pwsh, ['-NoProfile', '-NonInteractive', '-File', file, '-Mode', 'Test', '-RegistrySnapshot', snapshot, '-OutputFormat', 'Json'], { encoding: 'utf8' });
    if (run.status !== 0 && run.status !== 2) throw new Error(`per-resource run failed: ${run.stderr}`);
  }
  const perResourceMeasured = performance.now() - t0;
  const perResource = (perResourceMeasured / count) * N;

  const warmMs = median(warm);
  const coldMs = median(cold);
  console.log(`library figures, not a CLI run (${N}-setting document through the Engine API in one node process, snapshot ${reg.length} chars, pwsh ${first.psVersion})`);
  console.log(`  test phase, warm library session (median of ${warm.length}):   ${ms(warmMs)}   target <= 100 ms   ${warmMs <= 100 ? 'MET' : 'MISSED'}`);
  console.log(`    of which the resource loop in PowerShell:  ${ms(median(inside))} (script-reported; the rest is script start, JSON and transport)`);
  console.log(`  test phase, cold (new process, median of ${cold.length}):  ${ms(coldMs)}`);
  console.log(`  one pwsh process per resource:              ${ms(perResource)}${quick ? ` (measured ${count} of ${N}, scaled)` : ''}`);
  console.log(`  ratio per-resource / warm library session:  ${(perResource / warmMs).toFixed(0)}x   target >= 50x   ${perResource / warmMs >= 50 ? 'MET' : 'MISSED'} (warm: no node or pwsh start; see the floor bench for whole CLI runs)`);
  console.log(`  ratio per-resource / cold:                  ${(perResource / coldMs).toFixed(0)}x`);
  console.log(`  compile 1,000 resources (plan -> .ps1, median of 7):    ${ms(median(compileTimes))}   target <= 200 ms   ${median(compileTimes) <= 200 ? 'MET' : 'MISSED'}`);
  console.log(`  validate + compile 1,000 resources from YAML (median):  ${ms(median(fullTimes))}`);
}

await main();
