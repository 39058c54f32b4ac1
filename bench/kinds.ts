// Benchmark: the security template store (src/kinds) in one warm PowerShell, on the secedit
// fixture and on a template ten times its size, to show that a change costs in proportion to the
// file (no quadratic step). Prints times and ratios measured in this one run.
// Usage: npx tsc -p . && node dist/bench/kinds.js
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ps } from '../src/compile/quote.js';
import { asUtf16Crlf, fixturePath, KindsShell } from '../test/kinds-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'winstate-bench-kinds-'));
const shell = new KindsShell();
const base = readFileSync(fixturePath('secedit', 'SecurityPolicyDsc_sample.inf'), 'utf8');

/** The fixture with `factor` times as many [Registry Values] lines (distinct keys). */
function scaled(factor: number): Buffer {
  const [head, rest] = base.split('[Registry Values]\n') as [string, string];
  const values = rest.split('[Version]')[0]!.trim().split('\n');
  const more: string[] = [];
  for (let i = 0; i < factor; i++) more.push(...values.map((l) => l.replace('MACHINE\\', `MACHINE\\Bench${i}\\`)));
  return asUtf16Crlf(Buffer.from(`${head}[Registry Values]\n${more.join('\n')}\n[Version]${rest.split('[Version]')[1]}`));
}

/** Open, change 30 rights and 5 options, save; median of `runs` in milliseconds. */
async function measure(file: string, runs: number): Promise<{ ms: number; lines: number }> {
  const times: number[] = [];
  let lines = 0;
  for (let i = 0; i < runs; i++) {
    writeFileSync(file, readFileSync(`${file}.orig`));
    const start = performance.now();
    const out = await shell.json<number>(ps`$s = Open-WsSecurityTemplate -LiteralPath ${file}
foreach ($right in @($s.Sections['Privilege Rights'].Entries.get_Keys())) { $null = Set-WsPrivilegeRight -Store $s -Right $right -Principal @('*S-1-5-32-544') }
foreach ($key in 'MinimumPasswordLength', 'PasswordHistorySize', 'LockoutBadCount', 'ResetLockoutCount', 'LockoutDuration') { $null = Set-WsSecurityTemplateEntry -Store $s -Section 'System Access' -Key $key -Value '15' }
$null = Save-WsSecurityTemplate -Store $s
$s.File.Lines.Count`);
    times.push(performance.now() - start);
    lines = out[0]!;
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, lines };
}

try {
  await shell.text(ps`$null = 1`); // start PowerShell and load the module outside the timings
  const small = join(dir, 'small.inf');
  const large = join(dir, 'large.inf');
  writeFileSync(`${small}.orig`, asUtf16Crlf(Buffer.from(base)));
  writeFileSync(`${large}.orig`, scaled(10));
  // One untimed round each first: PowerShell compiles a script block the first times it runs.
  await measure(small, 3);
  await measure(large, 3);
  const a = await measure(small, 7);
  const b = await measure(large, 7);
  console.log(`fixture template: ${a.lines} lines, ${a.ms.toFixed(1)} ms per open + 35 changes + save (median of 7, warm)`);
  console.log(`10x template:     ${b.lines} lines, ${b.ms.toFixed(1)} ms`);
  console.log(`ratio: ${(b.lines / a.lines).toFixed(1)}x the lines took ${(b.ms / a.ms).toFixed(2)}x the time`);
} finally {
  await shell.close();
  rmSync(dir, { recursive: true, force: true });
}
