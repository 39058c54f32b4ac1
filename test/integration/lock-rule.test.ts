import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PwshSession } from '../../src/bridge/session.js';
import { compilePlan } from '../../src/compile/emit.js';
import { acquireLock, TargetLockedError } from '../../src/engine/state.js';
import { planFromYaml, tempDir, writeReg } from '../helpers.js';

/**
 * The stale-lock rule lives twice: stale() in src/engine/state.ts (the CLI) and Test-WsLockStale in
 * safety.ps1 (the scripts). Both are checked here with the same cases.
 */

const session = new PwshSession();
test.after(() => session.close());

const PLAN = planFromYaml(`metadata: { name: lock-rule }
resources:
  - { name: v, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\L', valueName: V, valueType: DWord, valueData: 1 } }
`);

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

const started = new Date(Date.now() - process.uptime() * 1000).toISOString();

test('the CLI and the scripts judge a lock stale by the same rule', async () => {
  const dead = await deadPid();
  const cases: { name: string; holder: Record<string, unknown>; stale: boolean }[] = [
    { name: 'writer gone', holder: { pid: dead }, stale: true },
    { name: 'writer alive, its parent gone', holder: { pid: process.pid, parentPid: dead }, stale: true },
    { name: 'writer and parent alive', holder: { pid: process.pid, parentPid: process.pid }, stale: false },
    { name: 'writer alive, no parent', holder: { pid: process.pid }, stale: false },
    { name: 'another host', holder: { pid: dead, host: 'elsewhere' }, stale: false },
  ];
  for (const c of cases) {
    const dir = tempDir();
    const snapshot = join(dir, 'm.reg');
    writeReg(snapshot, ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\L]', '"V"=dword:00000000']);
    const lock = `${snapshot}.lock`;
    const write = () => writeFileSync(lock, JSON.stringify({ host: hostname(), processStarted: started, document: 'other', since: started, token: 'held', ...c.holder }));

    write();
    let cliTookOver: boolean;
    try {
      acquireLock(lock, 'lock-rule').release();
      cliTookOver = true;
    } catch (error) {
      assert.instance(error, TargetLockedError);
      cliTookOver = false;
    }
    assert.is(cliTookOver, c.stale, `CLI: ${c.name}`);

    write();
    const r = await session.runScript(compilePlan(PLAN), { Mode: 'Set', RegistrySnapshot: snapshot, OutputFormat: 'Json', BackupPath: join(dir, 'b.json') });
    assert.is(r.ok, c.stale, `script: ${c.name}: ${r.error?.message ?? ''}`);
    if (!c.stale) assert.match(r.error!.message, /locked by process/);
    // A lock the script took over is its own, released when it ends; one it refused stays.
    assert.is(existsSync(lock), !c.stale, `script: ${c.name}: lock file`);
    if (!c.stale) assert.is(JSON.parse(readFileSync(lock, 'utf8')).token, 'held');
  }
});

test.run();
