import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../fs.js';
import type { StateView } from './results.js';

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

export type RunStatus = 'converged' | 'not-converged' | 'no-change' | 'what-if' | 'partial' | 'failed' | 'interrupted';

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
  snapshot: string | null;
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
    .map((id) => JSON.parse(readFileSync(join(dir, id, 'run.json'), 'utf8')) as RunRecord);
}

/** A run by id, or the newest one that changed something for `latest`. */
export function findRun(stateDir: string, idOrLatest: string): RunRecord | undefined {
  const runs = listRuns(stateDir);
  if (idOrLatest === 'latest') return runs.reverse().find((r) => r.backup !== null && r.changes.length + (r.appliedBeforeInterruption?.length ?? 0) > 0);
  return runs.find((r) => r.id === idOrLatest);
}

/** Lines of the journal a run's script appends after each applied change. */
export function readJournal(backupPath: string): { applied: string[]; complete: boolean } {
  const file = `${backupPath}.journal`;
  if (!existsSync(file)) return { applied: [], complete: false };
  const applied: string[] = [];
  let complete = false;
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const entry = JSON.parse(line) as { resource?: string; complete?: boolean };
    if (entry.complete) complete = true;
    else if (entry.resource !== undefined) applied.push(entry.resource);
  }
  return { applied, complete };
}

// ---- the target lock: same file and format as Enter-WsLock in the generated scripts ----

export interface LockHolder {
  pid: number;
  host: string;
  processStarted: string;
  document: string;
  since: string;
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock or throws TargetLockedError naming the holder; a lock of a dead local process is taken over. */
export function acquireLock(file: string, document: string): () => void {
  mkdirSync(dirname(file), { recursive: true });
  const record: LockHolder = {
    pid: process.pid,
    host: hostname(),
    processStarted: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    document,
    since: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, JSON.stringify(record));
      } finally {
        closeSync(fd);
      }
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: LockHolder | undefined;
    try {
      holder = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    } catch {
      holder = undefined;
    }
    if (holder && holder.host.toLowerCase() === hostname().toLowerCase() && !alive(holder.pid)) {
      rmSync(file, { force: true });
      continue;
    }
    throw new TargetLockedError(file, holder);
  }
  throw new TargetLockedError(file, undefined);
}
