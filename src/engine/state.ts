import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { makeDirectory, writeFileAtomic } from '../fs.js';
import { processAlive } from '../processes.js';
import type { StateView } from './results.js';
import type { Snapshots } from './snapshots.js';

/**
 * Where runs and their backups are kept: $WINSTATE_STATE_DIR, else %ProgramData%\winstate on
 * Windows (the registry is the machine's), else $XDG_STATE_HOME/winstate or ~/.local/state/winstate.
 * The generated scripts' runtime (safety.ps1) follows the same rule.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WINSTATE_STATE_DIR) return resolve(env.WINSTATE_STATE_DIR);
  if (process.platform === 'win32') return join(env.ProgramData ?? 'C:\\ProgramData', 'winstate');
  return join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'winstate');
}

export type RunStatus = 'running' | 'converged' | 'not-converged' | 'no-change' | 'what-if' | 'partial' | 'failed' | 'interrupted';

export interface RunChange {
  name: string;
  target: string;
  before?: StateView;
  after?: StateView;
}

/** One set/apply/rollback, as `winstate runs` lists it. */
export interface RunRecord {
  id: string;
  command: 'set' | 'apply' | 'rollback';
  document: { name: string; file: string };
  target: 'live' | 'snapshot';
  /** The registry file of an offline run (else its first file), or null for a live run. */
  snapshot: string | null;
  /** Every file of an offline run, per store. */
  snapshots?: Snapshots;
  startedAt: string;
  finishedAt?: string;
  status: RunStatus;
  /** The prior-state record written before the first change; null when nothing was to change. */
  backup: string | null;
  changes: RunChange[];
  failures: { name: string; error: string }[];
  /** For an interrupted run: what the journal shows as applied before the process died. */
  appliedBeforeInterruption?: string[];
  rollbackOf?: string;
  error?: string;
  /** The process that runs it; a `running` record whose owner is gone was interrupted. */
  owner?: { pid: number; host: string };
}

/** Sortable by time (to the millisecond), unique by its random tail: 20261125T155500123Z-1a2b3c. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
}

export function runDir(stateDir: string, id: string): string {
  if (!/^[0-9TZ]+-[0-9a-f]{6}$/.test(id)) throw new Error(`not a run id: ${id}`);
  return join(stateDir, 'runs', id);
}

export function writeRun(stateDir: string, record: RunRecord): void {
  writeFileAtomic(join(runDir(stateDir, record.id), 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
}

export function listRuns(stateDir: string): RunRecord[] {
  const dir = join(stateDir, 'runs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((id) => existsSync(join(dir, id, 'run.json')))
    .sort()
    .map((id) => settle(readRunRecord(join(dir, id, 'run.json'))));
}

/** A run record; one that cannot be read is an error naming its file (never skipped: `latest` would pick an older run). */
function readRunRecord(file: string): RunRecord {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
  } catch (error) {
    throw new Error(`${file} is not a readable run record (${(error as Error).message}); repair it or move its folder out of the runs folder`);
  }
}

/**
 * A record still saying `running` whose process is gone was interrupted: nothing wrote its end.
 * It is shown as such, with what its journal shows; rollback then restores every planned change.
 */
function settle(record: RunRecord): RunRecord {
  if (record.status !== 'running') return record;
  const owner = record.owner;
  if (owner && owner.host.toLowerCase() === hostname().toLowerCase() && alive(owner.pid)) return record;
  const settled: RunRecord = { ...record, status: 'interrupted', error: record.error ?? 'the process running it ended before it finished' };
  if (record.backup && existsSync(record.backup)) settled.appliedBeforeInterruption = readJournal(record.backup).applied;
  else settled.backup = null;
  return settled;
}

/** True for a run that ended without reporting what it did: its journal may be short. */
export function wasInterrupted(record: RunRecord): boolean {
  return record.status === 'interrupted' || record.status === 'running';
}

/** A run by id, or the newest one that changed (or, interrupted, may have changed) something for `latest`. */
export function findRun(stateDir: string, idOrLatest: string): RunRecord | undefined {
  const runs = listRuns(stateDir);
  if (idOrLatest === 'latest') {
    return runs.reverse().find((r) => r.backup !== null && (wasInterrupted(r) || r.changes.length + (r.appliedBeforeInterruption?.length ?? 0) > 0));
  }
  return runs.find((r) => r.id === idOrLatest);
}

/** Lines of the journal a run's script appends after each applied change; a torn last line is ignored. */
export function readJournal(backupPath: string): { applied: string[]; complete: boolean } {
  const file = `${backupPath}.journal`;
  if (!existsSync(file)) return { applied: [], complete: false };
  const applied: string[] = [];
  let complete = false;
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    let entry: { resource?: string; complete?: boolean };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue; // the process died while appending this line
    }
    if (entry.complete) complete = true;
    else if (entry.resource !== undefined) applied.push(entry.resource);
  }
  return { applied, complete };
}

// ---- the target lock: same file and format as Enter-WsLock in the generated scripts ----

export interface LockHolder {
  /** The process that writes the target (the PowerShell that saves). */
  pid: number;
  host: string;
  processStarted: string;
  document: string;
  since: string;
  /** Checked by the writer before every save: a writer whose token no longer holds the lock saves nothing. */
  token?: string;
  /** The winstate process that started the writer; when it is gone, the writer stops before its next save. */
  parentPid?: number;
}

export class TargetLockedError extends Error {
  constructor(readonly lockFile: string, readonly holder: LockHolder | undefined) {
    super(
      holder
        ? `the target is locked by process ${holder.pid} on ${holder.host} (document '${holder.document}', since ${holder.since}); lock file ${lockFile}`
        : `the target is locked: ${lockFile} exists but cannot be read; remove it if no winstate run is active`,
    );
    this.name = 'TargetLockedError';
  }
}

export function lockPathFor(snapshot: string | undefined): string {
  if (snapshot) return `${resolve(snapshot)}.lock`;
  // The live registry is one per machine: one lock in the machine-wide folder, whatever the state dir.
  return join(process.env.ProgramData ?? 'C:\\ProgramData', 'winstate', 'registry.lock');
}

/**
 * Every lock a run takes: one per snapshot file, in ordinal order of the lock paths, or the
 * machine's lock when there is none. Get-WsLockPathList (safety.ps1) takes the same order, so a CLI
 * run and a script run by hand over the same files cannot each hold one lock and wait for the
 * other (test/fixtures/kinds/lock-path-cases.json holds the cases both must pass).
 */
export function lockPathsFor(files: readonly string[]): string[] {
  if (files.length === 0) return [lockPathFor(undefined)];
  return files.map((f) => lockPathFor(f)).sort(compareOrdinal);
}

/** Ordinal order of UTF-16 code units, as .NET's StringComparer.Ordinal. */
function compareOrdinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Exported for tests: the one rule for a running process (src/processes.ts). */
export const alive = processAlive;

/** Same rule as Test-WsLockStale in safety.ps1: the writer is gone, or the winstate process that started it is. */
function stale(holder: LockHolder): boolean {
  if (holder.host.toLowerCase() !== hostname().toLowerCase()) return false;
  return !alive(holder.pid) || (holder.parentPid !== undefined && !alive(holder.parentPid));
}

export interface HeldLock {
  token: string;
  /** Removes the lock file, but only while it still carries this lock's token. */
  release(): void;
}

/**
 * Takes the lock for a writer (by default this process) or throws TargetLockedError naming the
 * holder; a stale lock (see stale) is taken over, and its former writer then fails at its next save.
 */
export function acquireLock(file: string, document: string, writer?: { pid: number; processStarted: string }, token = randomBytes(16).toString('hex')): HeldLock {
  makeDirectory(dirname(file));
  const record: LockHolder = {
    pid: writer?.pid ?? process.pid,
    host: hostname(),
    processStarted: writer?.processStarted ?? new Date(Date.now() - process.uptime() * 1000).toISOString(),
    document,
    since: new Date().toISOString(),
    token,
    ...(writer ? { parentPid: process.pid } : {}),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, JSON.stringify(record));
      } finally {
        closeSync(fd);
      }
      return { token, release: () => releaseLock(file, token) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: LockHolder | undefined;
    try {
      holder = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    } catch {
      holder = undefined;
    }
    if (holder && stale(holder)) {
      rmSync(file, { force: true });
      continue;
    }
    throw new TargetLockedError(file, holder);
  }
  throw new TargetLockedError(file, undefined);
}

/**
 * Takes every lock (in the order given, which callers keep stable) under one token, or none: on a
 * held lock the ones taken are released again and, within waitMs, the whole set is tried again.
 */
export async function acquireLocks(files: string[], document: string, writer: { pid: number; processStarted: string } | undefined, waitMs = 0): Promise<HeldLock> {
  const deadline = Date.now() + waitMs;
  const token = randomBytes(16).toString('hex');
  for (let pause = 50; ; pause = Math.min(pause * 2, 1000)) {
    const held: HeldLock[] = [];
    try {
      for (const file of files) held.push(acquireLock(file, document, writer, token));
      return { token, release: () => held.forEach((l) => l.release()) };
    } catch (error) {
      held.forEach((l) => l.release());
      if (!(error instanceof TargetLockedError) || Date.now() + pause > deadline) {
        if (error instanceof TargetLockedError && waitMs > 0) error.message += ` (waited ${Math.round(waitMs / 1000)} s)`;
        throw error;
      }
      await new Promise((done) => setTimeout(done, pause));
    }
  }
}

function releaseLock(file: string, token: string): void {
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as LockHolder).token !== token) return; // taken over: not ours to remove
  } catch {
    return;
  }
  rmSync(file, { force: true });
}
