import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Engine, WinstateRunError } from '../../src/engine/engine.js';
import { PwshSession } from '../../src/bridge/session.js';
import { compilePlan } from '../../src/compile/emit.js';
import { ps } from '../../src/compile/quote.js';
import { alive, listRuns, type RunRecord } from '../../src/engine/state.js';
import { planFromYaml, tempDir } from '../helpers.js';
import { readRegValues } from '../reg-reader.js';

/**
 * Kills node (the CLI) or PowerShell at each phase of an apply of 85 settings, stepping
 * through the phases with the runtime's test hooks (WINSTATE_TEST_HOOKS), and checks after each
 * kill: the run is listed, a concurrent writer's change survives, and rollback puts every value
 * back to its prior bytes as an independent reader (test/reg-reader.ts) sees them.
 */

const PHASES = ['locked', 'backup', 'changed', 'swap', 'saved', 'journal', 'done'] as const;
type Phase = (typeof PHASES)[number];
// Small on purpose: the phases are stepped by hooks, so size proves nothing here; 80 prior values
// cover every kind of prior data (priorValue) several times over.
const KEYS = 4;
const PER_KEY = 20;
const CREATED = 5;

/** Prior data of every kind a run may overwrite, regedit layout (hex lines wrapped), as text lines. */
function priorValue(i: number): string {
  const name = `"V${i}"=`;
  switch (i % 11) {
    case 0: return `${name}dword:${(i * 7).toString(16).padStart(8, '0')}`;
    case 1: return `${name}"text ${i} \\"quoted\\""`;
    case 2: return `${name}hex(0):01,02,${(i % 256).toString(16).padStart(2, '0')}`; // REG_NONE
    case 3: return `${name}hex(1):61,00,00,00,62,00,00,00`; // REG_SZ holding a NUL
    case 4: return `${name}hex(4):01,02,03`; // odd-sized REG_DWORD
    case 5: return `${name}hex(6):5c,00,52,00,65,00,67,00`; // REG_LINK
    case 6: return `${name}hex(8):01,00,00,00,02,00,00,00`; // resource list
    case 7: return `${name}hex(7):61,00,00,00,00,00,62,00,00,00,00,00`; // multi-string with an empty item
    case 8: return `${name}"line one\r\nline two"`; // a string over two physical lines
    case 9: return `${name}"lone \ud800 surrogate"`;
    default: {
      // regedit wraps long hex lists with a trailing backslash and a two-space indent.
      const bytes = Array.from({ length: 40 }, (_, b) => ((b + i) % 256).toString(16).padStart(2, '0'));
      return `${name}hex:${bytes.slice(0, 20).join(',')},\\\r\n  ${bytes.slice(20).join(',')}`;
    }
  }
}

function writeSnapshot(file: string): void {
  const lines = ['Windows Registry Editor Version 5.00', ''];
  for (let k = 0; k < KEYS; k++) {
    lines.push(`[HKEY_LOCAL_MACHINE\\SOFTWARE\\Kill\\K${k}]`);
    for (let v = 0; v < PER_KEY; v++) {
      lines.push(priorValue(k * PER_KEY + v));
    }
    lines.push('');
  }
  writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf16le')]));
}

/** 76 overwritten values (every prior kind), 4 removed, 5 created under new keys. */
function documentYaml(): string {
  const rows: string[] = [];
  for (let i = 0; i < KEYS * PER_KEY; i++) {
    const key = `HKLM\\SOFTWARE\\Kill\\K${Math.floor(i / PER_KEY)}`;
    if (i % 20 === 19) rows.push(`  - { name: r${i}, type: Registry, properties: { key: '${key}', valueName: V${i}, ensure: Absent } }`);
    else rows.push(`  - { name: r${i}, type: Registry, properties: { key: '${key}', valueName: V${i}, valueType: DWord, valueData: ${i + 1} } }`);
  }
  for (let i = 0; i < CREATED; i++) rows.push(`  - { name: n${i}, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Kill\\New${i % 5}\\Deep', valueName: N${i}, valueType: String, valueData: new${i} } }`);
  return `metadata: { name: kill }\nresources:\n${rows.join('\n')}\n`;
}

const SECOND = planFromYaml(`metadata: { name: second-writer }
resources:
  - { name: mark, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Second', valueName: Mark, valueType: DWord, valueData: 7 } }
`);

// Generous: on a busy machine a cold start of PowerShell and the runtime takes a while; these are limits, not waits.
async function until<T>(what: string, probe: () => T | undefined | false, ms = 300_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Lets the run pass every phase before `at`; returns the pid PowerShell wrote when it reached `at`. */
async function stepTo(hooks: string, at: Phase): Promise<number> {
  for (const phase of PHASES) {
    const reached = join(hooks, `${phase}.reached`);
    // Only a real process id: signalling 0 would hit this test's own process group.
    const pid = await until(`phase ${phase}`, () => {
      const written = existsSync(reached) ? Number(readFileSync(reached, 'utf8')) : 0;
      return written > 0 ? written : false;
    });
    if (phase === at) return pid;
    writeFileSync(join(hooks, `${phase}.go`), '');
  }
  throw new Error(`no phase ${at}`);
}

function releaseAll(hooks: string): void {
  for (const phase of PHASES) writeFileSync(join(hooks, `${phase}.go`), '');
}

const stateDir = tempDir('winstate-kill-state-');
const yaml = documentYaml();
const plan = planFromYaml(yaml);
// The second writer and the rollbacks share one PowerShell; the runs under test have their own.
const session = new PwshSession();
const restorer = new Engine({ stateDir, session });
test.after(async () => {
  await session.close();
  await restorer.close();
});

/** The second writer: the generated script run by hand, taking the lock itself. */
async function secondWriter(snapshot: string): Promise<void> {
  const result = await session.runScript(compilePlan(SECOND), { Mode: 'Set', RegistrySnapshot: snapshot, OutputFormat: 'Json', BackupPath: join(tempDir(), 'b.json') });
  assert.ok(result.ok, result.error?.message);
  assert.is(JSON.parse(result.output).summary.changed, 1);
}

/** After a kill: the run is listed, the writer's mark survives, rollback restores every prior value exactly. */
async function check(label: string, snapshot: string, prior: Map<string, string>): Promise<void> {
  const runs = listRuns(stateDir).filter((r) => r.snapshot === resolve(snapshot) && r.command === 'apply');
  assert.is(runs.length, 1, `${label}: runs lists the run`);
  const run = runs[0] as RunRecord;
  assert.is(run.status, 'interrupted', `${label}: listed as interrupted`);
  const marked = readRegValues(snapshot);
  assert.is(marked.get('hkey_local_machine\\software\\second!mark'), '4:07000000', `${label}: the second writer's change is intact`);
  const rollback = await restorer.rollback(run.id);
  assert.equal(rollback.unsupported, [], `${label}: every value has a form`);
  assert.ok(rollback.report.converged, `${label}: rollback converged`);
  const after = readRegValues(snapshot);
  after.delete('hkey_local_machine\\software\\second!mark');
  after.delete('hkey_local_machine\\software\\second');
  const differences = [...new Set([...prior.keys(), ...after.keys()])].filter((k) => prior.get(k) !== after.get(k));
  assert.equal(differences.slice(0, 5).map((k) => `${k}: ${prior.get(k)} -> ${after.get(k)}`), [], `${label}: every value back to its prior bytes`);
}

const results: string[] = [];
// Each point costs a fresh PowerShell and two cold loads of the script, so by default two points
// run: node killed with the new file written but not swapped in (the orphan then resumes after a second writer took the target and
// must be fenced off), and PowerShell killed after the save with the journal still empty (rollback
// must judge by the target). WINSTATE_KILL_POINTS=all runs all 11; a comma list picks some.
const ALL = process.env.WINSTATE_KILL_POINTS === 'all';
const chosen = (process.env.WINSTATE_KILL_POINTS ?? '').split(',');
const runs = (point: string, byDefault: boolean) => ALL || chosen.includes(point) || (byDefault && !process.env.WINSTATE_KILL_POINTS);

for (const at of ['locked', 'backup', 'swap', 'saved', 'journal', 'done'] as Phase[]) {
  if (!runs(`node@${at}`, at === 'swap')) continue;
  test(`node killed at ${at}: the orphan saves nothing after losing the lock; runs, writer and rollback hold`, async () => {
    const dir = tempDir('winstate-kill-');
    const hooks = join(dir, 'hooks');
    mkdirSync(hooks);
    const snapshot = join(dir, 'machine.reg');
    writeSnapshot(snapshot);
    const prior = readRegValues(snapshot);
    const doc = join(dir, 'kill.yaml');
    writeFileSync(doc, yaml);
    const cli = spawn(process.execPath, [resolve('bin/winstate.js'), 'apply', doc, '--snapshot', snapshot, '--state-dir', stateDir], {
      env: { ...process.env, WINSTATE_TEST_HOOKS: hooks }, stdio: 'ignore',
    });
    const exited = new Promise((r) => cli.once('exit', r));
    const orphan = await stepTo(hooks, at);
    cli.kill('SIGKILL');
    await exited;
    await secondWriter(snapshot);
    releaseAll(hooks);
    await until('the orphaned PowerShell to end', () => !alive(orphan));
    await check(`node@${at}`, snapshot, prior);
    results.push(`node@${at}: ok`);
  });
}

for (const at of ['backup', 'changed', 'swap', 'saved', 'journal'] as Phase[]) {
  if (!runs(`pwsh@${at}`, at === 'saved')) continue;
  test(`PowerShell killed at ${at}: recorded as interrupted; writer and rollback hold`, async () => {
    const dir = tempDir('winstate-kill-');
    const hooks = join(dir, 'hooks');
    mkdirSync(hooks);
    const snapshot = join(dir, 'machine.reg');
    writeSnapshot(snapshot);
    const prior = readRegValues(snapshot);
    const engine = new Engine({ stateDir });
    try {
      const started = await engine.session.invoke(ps`$env:WINSTATE_TEST_HOOKS = ${hooks}`);
      assert.ok(started.ok);
      const running = engine.apply(plan, { snapshot });
      const pid = await stepTo(hooks, at);
      process.kill(pid, 'SIGKILL');
      try {
        await running;
        assert.unreachable('apply should fail when PowerShell dies');
      } catch (error) {
        assert.instance(error, WinstateRunError);
        assert.not.match((error as Error).message, /undefined/);
      }
    } finally {
      await engine.close();
    }
    await secondWriter(snapshot);
    await check(`pwsh@${at}`, snapshot, prior);
    results.push(`pwsh@${at}: ok`);
  });
}

test('kill points summary', () => {
  console.log(`\n  kill points: ${results.length} (${results.join(', ')})`);
  assert.ok(results.length >= 1 && results.every((r) => r.endsWith(': ok')));
});

test.run();
