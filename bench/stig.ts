// Benchmark: the full Windows Server 2016 STIG member-server baseline
// (configurations/windows-server-2016-stig-ms.yaml), test phase against a registry export in which
// every setting is out of compliance (missing, failing or of the wrong type). Warm: one PowerShell
// process, median of several runs. Cold: a new PowerShell process per run (start, script sent, test).
// Usage: npm run build && node dist/bench/stig.js [--runs N]
//
// Also exports the snapshot generator the STIG import tests use.
import { registrySpec } from '../src/kinds/registry/kind.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { validateFile, type Plan, type PlannedResource } from '../src/document/validate.js';
import { Engine } from '../src/engine/engine.js';
import { meetsCondition } from '../src/kinds/condition.js';
import type { WireData } from '../src/kinds/registry/model.js';

export type FailureKind = 'missing' | 'failing' | 'wrong-type';

/** regedit's string escaping: `\` and `"`. */
function regString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function hexBytes(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(',');
}

/** Whether `data` (wire form) is what the resource accepts. */
function accepts(r: PlannedResource, data: WireData): boolean {
  const d = registrySpec(r)!.desired;
  if (d.condition) return meetsCondition(d.condition, d.valueType!, data);
  return JSON.stringify(data) === JSON.stringify(d.valueData);
}

/** A value of the resource's own type that the resource does not accept. */
export function failingData(r: PlannedResource): WireData {
  const d = registrySpec(r)!.desired;
  const type = d.valueType!;
  if (type === 'DWord' || type === 'QWord') {
    const max = type === 'DWord' ? 0xffffffffn : 0xffffffffffffffffn;
    const data = BigInt(d.valueData as number | string);
    const c = d.condition;
    const candidates = [data + 1n, data - 1n, 0n, 7n, max, c?.atMost !== undefined ? c.atMost + 1n : -1n, c?.atLeast !== undefined ? c.atLeast - 1n : -1n];
    for (const n of candidates) {
      if (n < 0n || n > max) continue;
      const wire = type === 'DWord' ? Number(n) : n.toString();
      if (!accepts(r, wire)) return wire;
    }
    throw new Error(`${r.name}: no failing ${type} value found`);
  }
  if (type === 'String' || type === 'ExpandString') {
    const c = d.condition;
    if (c && (c.atMost !== undefined || c.atLeast !== undefined || c.oneOf?.some((v: bigint | string) => typeof v === 'bigint'))) {
      for (const text of [String((c.atMost ?? 0n) + 1n), '0', '99999', 'not a number']) if (!accepts(r, text)) return text;
    }
    const text = `${d.valueData as string}-wrong`;
    if (!accepts(r, text)) return text;
    throw new Error(`${r.name}: no failing ${type} value found`);
  }
  if (type === 'MultiString') return ['wrong'];
  return 'ff';
}

function regLine(name: string, type: string, data: WireData): string {
  const n = regString(name);
  switch (type) {
    case 'DWord':
      return `${n}=dword:${(data as number).toString(16).padStart(8, '0')}`;
    case 'QWord': {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(data as string));
      return `${n}=hex(b):${hexBytes(b)}`;
    }
    case 'String':
      return `${n}=${regString(data as string)}`;
    case 'ExpandString':
      return `${n}=hex(2):${hexBytes(Buffer.from(`${data as string}\0`, 'utf16le'))}`;
    case 'MultiString':
      return `${n}=hex(7):${hexBytes(Buffer.from(`${(data as string[]).join('\0')}\0\0`, 'utf16le'))}`;
    default:
      return `${n}=hex:${(data as string).match(/../g)!.join(',')}`;
  }
}

/** A value of another type, with the data a careless admin would write (the same number as text, etc.). */
function wrongTypeLine(r: PlannedResource): string {
  const d = registrySpec(r)!.desired;
  const name = registrySpec(r)!.target.valueName!;
  if (d.valueType === 'DWord' || d.valueType === 'QWord') return regLine(name, 'String', String(d.valueData));
  if (d.valueType === 'String' && /^\d+$/.test(String(d.valueData)) && Number(d.valueData) <= 0xffffffff) return regLine(name, 'DWord', Number(d.valueData));
  return regLine(name, 'Binary', '00');
}

/**
 * A regedit export (UTF-16LE, CRLF) in which every Registry value of the plan fails its resource:
 * in turn missing (unless absence is acceptable), set to a failing value, or (every `wrongTypeEvery`th)
 * of the wrong type. `extra` lines are appended (other keys the run must keep). Returns the file
 * bytes and, per resource name, how it was made to fail.
 */
export function nonCompliantSnapshot(plan: Plan, extra: string[] = [], wrongTypeEvery = 7): { bytes: Buffer; kinds: Map<string, FailureKind> } {
  const keys = new Map<string, { header: string; lines: string[] }>();
  const kinds = new Map<string, FailureKind>();
  plan.resources.forEach((r, i) => {
    // Only registry values are broken here; user rights and the other kinds read their own snapshots.
    if (!registrySpec(r) || registrySpec(r)!.target.valueName === null || registrySpec(r)!.desired.ensure !== 'Present') return;
    const header = `[${registrySpec(r)!.target.hive}\\${registrySpec(r)!.target.subKey}]`;
    const id = header.toLowerCase();
    if (!keys.has(id)) keys.set(id, { header, lines: [] });
    const key = keys.get(id)!;
    let kind: FailureKind = i % wrongTypeEvery === 3 ? 'wrong-type' : i % 3 === 0 && !registrySpec(r)!.desired.absentOk ? 'missing' : 'failing';
    if (kind === 'missing') {
      kinds.set(r.name, kind);
      return;
    }
    if (kind === 'wrong-type') key.lines.push(wrongTypeLine(r));
    else key.lines.push(regLine(registrySpec(r)!.target.valueName!, registrySpec(r)!.desired.valueType!, failingData(r)));
    kinds.set(r.name, kind);
  });
  const body = [...keys.values()].flatMap((k) => [k.header, ...k.lines, '']);
  const text = ['Windows Registry Editor Version 5.00', '', ...body, ...extra, ''].join('\r\n');
  return { bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), kinds };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number): string => `${x.toFixed(1)} ms`;

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
  // Any baseline document can be measured; the STIG member-server baseline is the default.
  const fileArg = process.argv.indexOf('--file');
  const file = fileArg > 0 ? process.argv[fileArg + 1]! : 'configurations/windows-server-2016-stig-ms.yaml';
  const { plan, diagnostics } = validateFile(file);
  if (!plan) throw new Error(`${file} is invalid: ${JSON.stringify(diagnostics[0])}`);
  const dir = mkdtempSync(join(tmpdir(), 'winstate-bench-stig-'));
  const snapshot = join(dir, 'stig-noncompliant.reg');
  const { bytes } = nonCompliantSnapshot(plan);
  writeFileSync(snapshot, bytes);

  // Warm: one PowerShell process; the first run sends the script, the rest reuse it.
  const engine = new Engine();
  let t = performance.now();
  const first = await engine.test(plan, { snapshot });
  const firstMs = performance.now() - t;
  if (first.summary.total !== plan.resources.length || first.summary.drifted !== plan.resources.length) {
    throw new Error(`expected ${plan.resources.length} drifted settings, got ${JSON.stringify(first.summary)}`);
  }
  const warm: number[] = [];
  const inside: number[] = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    const report = await engine.test(plan, { snapshot });
    warm.push(performance.now() - t);
    inside.push(report.durationMs);
  }
  await engine.close();

  // Cold: a new PowerShell process each time (start, script sent, test run, exit).
  const cold: number[] = [];
  for (let i = 0; i < Math.max(3, Math.min(7, runs)); i++) {
    const e = new Engine();
    t = performance.now();
    await e.test(plan, { snapshot });
    cold.push(performance.now() - t);
    await e.close();
  }

  console.log(`winstate baseline benchmark: ${plan.name}, ${plan.resources.length} settings, snapshot ${bytes.length} bytes (all drifted), pwsh ${first.psVersion}`);
  console.log(`  test phase, warm (one pwsh process, median of ${warm.length}):  ${ms(median(warm))}  (min ${ms(Math.min(...warm))}, max ${ms(Math.max(...warm))})`);
  console.log(`    of which the resource loop in PowerShell (script-reported):   ${ms(median(inside))}`);
  console.log(`  first run in the session (script sent and loaded):              ${ms(firstMs)}`);
  console.log(`  test phase, cold (new pwsh process, median of ${cold.length}):        ${ms(median(cold))}  (min ${ms(Math.min(...cold))}, max ${ms(Math.max(...cold))})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
