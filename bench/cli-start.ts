// Benchmark: CLI start-up as a user meets it, whole processes side by side in one run:
// `winstate validate` of a 20-resource document (raw Registry values, and catalog settings) and
// `winstate catalog show <id>`, each against a bare `node -e 0`. Target: at most 3x a bare start.
// Usage: node dist/bench/cli-start.js [--rounds n]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadCatalog } from '../src/catalog/catalog.js';
import { PROJECT_ROOT } from '../src/paths.js';

const roundsAt = process.argv.indexOf('--rounds');
const rounds = roundsAt > 0 ? Number(process.argv[roundsAt + 1]) : 15;
const dir = mkdtempSync(join(tmpdir(), 'winstate-bench-cli-'));
const cli = join(PROJECT_ROOT, 'bin', 'winstate.js');

const registryDoc = join(dir, 'registry-20.yaml');
writeFileSync(registryDoc, `metadata: { name: registry-20 }\nresources:\n${Array.from({ length: 20 }, (_, i) =>
  `  - { name: setting ${i}, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Bench\\Area${i % 4}', valueName: V${i}, valueType: DWord, valueData: ${i} } }`).join('\n')}\n`);
const catalogDoc = join(dir, 'catalog-20.yaml');
const entries = loadCatalog().entries.filter((e) => e.choices?.some((c) => c.name === 'Enabled')).slice(0, 20);
writeFileSync(catalogDoc, `metadata: { name: catalog-20 }\nresources:\n${entries.map((e, i) =>
  `  - { name: setting ${i}, type: Policy, properties: { id: ${e.id}, value: Enabled } }`).join('\n')}\n`);

const cases: { label: string; args: string[] }[] = [
  { label: 'node -e 0 (bare start)', args: ['-e', '0'] },
  { label: 'winstate validate, 20 Registry resources', args: [cli, 'validate', registryDoc] },
  { label: 'winstate validate, 20 catalog settings', args: [cli, 'validate', catalogDoc] },
  { label: `winstate catalog show ${entries[0]!.id}`, args: [cli, 'catalog', 'show', entries[0]!.id] },
];

const times = cases.map(() => [] as number[]);
// Interleaved rounds, so a busy moment of the machine hits every case alike.
for (let round = 0; round < rounds + 1; round++) {
  cases.forEach((c, i) => {
    const started = performance.now();
    const r = spawnSync(process.execPath, c.args, { encoding: 'utf8' });
    const elapsed = performance.now() - started;
    if (r.status !== 0) throw new Error(`${c.label} exited ${r.status}: ${r.stderr}`);
    if (round > 0) times[i]!.push(elapsed); // round 0 warms the file cache
  });
}
rmSync(dir, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const bare = median(times[0]!);
console.log(`CLI start-up, median of ${rounds} interleaved rounds (whole processes):`);
cases.forEach((c, i) => {
  const m = median(times[i]!);
  const ratio = m / bare;
  const verdict = i === 0 ? '' : ratio <= 3 ? '  (target <= 3x: met)' : '  (target <= 3x: NOT met)';
  console.log(`  ${c.label.padEnd(48)} ${m.toFixed(0).padStart(5)} ms  ${(ratio).toFixed(2)}x${verdict}`);
});
