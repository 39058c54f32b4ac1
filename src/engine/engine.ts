import { existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { bridgePayload, bridgeScript, compilePlan } from '../compile/emit.js';
import { runtimeFunction } from '../compile/runtime-text.js';
import { PwshSession, type SessionOptions } from '../bridge/session.js';
import { releaseGarbage } from '../bridge/memory.js';
import { PsCode } from '../compile/quote.js';
import type { Plan } from '../document/validate.js';
import { writeFileAtomic } from '../fs.js';
import { applyCounts, type ApplyReport, type Mode, type PlanItem, type RunReport } from './results.js';
import { rollbackDocument, type BackupRecord } from './rollback.js';
import { runReportProblems } from './report-check.js';
import {
  acquireLocks, defaultStateDir, findRun, lockPathFor, lockPathsFor, newRunId, readJournal, runDir, wasInterrupted, writeRun,
  type RunRecord, type RunStatus,
} from './state.js';
import { snapshotFiles, STORE_FILES, type Snapshots, type StoreName } from './snapshots.js';

export interface RunOptions {
  /** A regedit export to work on instead of the live registry (the same as snapshots.Registry). */
  snapshot?: string;
  /** Exported files to work on instead of the live machine, one per store (see classifySnapshots). */
  snapshots?: Snapshots;
  /** How long to wait for a locked target before giving up (default: not at all). */
  waitMs?: number;
  /** Describe changes without making them. */
  whatIf?: boolean;
  /** Stop at the first setting that fails (default: the others still run). */
  failFast?: boolean;
  timeoutMs?: number;
}

export interface EngineOptions extends SessionOptions {
  /** Where run records and backups go; see defaultStateDir. */
  stateDir?: string;
  /** A session to run in (already started, perhaps); otherwise the engine starts its own. */
  session?: PwshSession;
  /** Whether close() ends the given session too; by default the caller owns it. */
  closesSession?: boolean;
}

export class WinstateRunError extends Error {
  readonly timedOut: boolean;
  /** Where in the script PowerShell stopped (its position message): for --verbose, not for everyone. */
  detail?: string;
  /** Set when a changing run was cut short: its record, with what was applied before it died. */
  readonly run?: RunRecord;
  /** The request itself was wrong (an unknown run, another target, a file that is no backup): nothing ran or changed. */
  readonly refused: boolean;
  constructor(message: string, options: { cause?: unknown; timedOut?: boolean; run?: RunRecord; refused?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = 'WinstateRunError';
    this.timedOut = options.timedOut ?? false;
    this.run = options.run;
    this.refused = options.refused ?? false;
  }
}

/**
 * A rollback restores the run's own target; `target` (the snapshot paths, or null for live) states
 * where the caller means, and a run on another target is refused.
 */
export type RollbackOptions = Omit<RunOptions, 'snapshot' | 'snapshots'> & { target?: string | string[] | null };

/** The files of an offline run (full paths), from `snapshots` and the older single `snapshot`. */
export function snapshotsOf(options: Pick<RunOptions, 'snapshot' | 'snapshots'>): Snapshots {
  const snapshots: Snapshots = {};
  for (const [store, file] of Object.entries(options.snapshots ?? {})) if (file) snapshots[store as StoreName] = resolvePath(file);
  if (options.snapshot) snapshots.Registry = resolvePath(options.snapshot);
  return snapshots;
}

/** What rollback did: the apply of the generated rollback document, and where that document is. */

export interface RollbackResult {
  of: RunRecord;
  documentFile: string;
  scriptFile: string;
  unsupported: string[];
  report: ApplyReport;
  /** The rollback's own run record; none for a what-if rollback, which changes and records nothing. */
  run?: RunRecord;
}

/**
 * Runs compiled documents through one persistent PowerShell process: the very script
 * `compile` writes, with a mode and a target passed in. Changing runs take the target lock,
 * record the prior state before the first change, and leave a run record for `runs`/`rollback`.
 */
export class Engine {
  private sessionInstance: PwshSession | undefined;
  readonly stateDir: string;

  constructor(private readonly options: EngineOptions = {}) {
    this.stateDir = resolvePath(options.stateDir ?? defaultStateDir());
  }

  /** Each plan's payload, built once: a plan does not change once validated. */
  private readonly payloads = new WeakMap<Plan, string>();

  get session(): PwshSession {
    return (this.sessionInstance ??= this.options.session ?? new PwshSession(this.options));
  }

  /** One run of the script; changing runs should go through set/apply, which add lock and records. */
  async run(plan: Plan, mode: Mode, options: RunOptions = {}, extra: Record<string, string | boolean> = {}): Promise<RunReport> {
    const parameters: Record<string, string | boolean> = { Mode: mode, OutputFormat: 'Json', ...extra };
    for (const [store, file] of Object.entries(snapshotsOf(options))) parameters[STORE_FILES[store as StoreName].parameter] = file;
    if (options.whatIf) parameters.WhatIf = true;
    if (options.failFast) parameters.FailFast = true;
    // The runtime travels once per session; each run sends only its resources, as data, built
    // once per plan (apply sends the same plan three times: at 10,000 settings 7 MiB each).
    let payload = this.payloads.get(plan);
    if (payload === undefined) this.payloads.set(plan, (payload = bridgePayload(plan)));
    parameters.Payload = payload;
    const result = await this.session.runScript(bridgeScript(), parameters, options.timeoutMs);
    if (!result.ok) {
      const { message, position } = splitPowerShellError(result.error?.message ?? 'unknown error');
      // A snapshot that cannot be read says file:line: message; that is all a person needs.
      const text = /^[^\n]+:\d+: /.test(message) ? message : `${plan.name}: ${mode} failed: ${message}`;
      const error = new WinstateRunError(text, { cause: result.error, timedOut: result.timedOut });
      if (position) error.detail = position;
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(result.output);
      // The reply of a large plan is megabytes of text, garbage once parsed; node's peak is what it keeps.
      if (plan.resources.length >= 1000) {
        result.output = '';
        releaseGarbage();
      }
    } catch (error) {
      throw new WinstateRunError(`${plan.name}: ${mode} returned output that is not JSON: ${result.output.slice(0, 200)}`, { cause: error });
    }
    const problems = runReportProblems(parsed);
    if (problems.length > 0) {
      throw new WinstateRunError(`${plan.name}: ${mode} returned a report that does not match the runtime's schema (${problems.length} problem(s)): ${problems.slice(0, 3).join('; ')}`);
    }
    return withRestartFacts(plan, parsed as RunReport);
  }

  get(plan: Plan, options?: RunOptions): Promise<RunReport> {
    return this.run(plan, 'Get', options);
  }

  test(plan: Plan, options?: RunOptions): Promise<RunReport> {
    return this.run(plan, 'Test', options);
  }

  /** Set what differs, under the target lock, with a backup and a run record. */
  async set(plan: Plan, options: RunOptions = {}): Promise<RunReport> {
    return this.locked(plan, options, (token) => this.recordedSet(plan, options, 'set', token));
  }

  /** Test, plan what drifted, set it (or describe it under whatIf), then test again to verify. */
  async apply(plan: Plan, options: RunOptions = {}, command: RunRecord['command'] = 'apply', rollbackOf?: string): Promise<ApplyReport> {
    return this.locked(plan, options, async (token) => {
      const whatIf = options.whatIf ?? false;
      const test = await this.test(plan, options);
      const items: PlanItem[] = test.results
        .filter((r) => r.inDesiredState === false && !r.checkOnly)
        .map((r) => ({ name: r.name, target: r.target, current: r.actual!, desired: r.desired!, differingProperties: r.differingProperties ?? [] }));
      const report: ApplyReport = { document: plan.name, whatIf, plan: items, test, converged: false, failed: test.summary.failed };
      if (items.length === 0) {
        report.converged = test.summary.failed === 0;
        report.summary = applyCounts(report);
        return report;
      }
      report.set = await this.recordedSet(plan, options, command, token, rollbackOf);
      report.runId = report.set.runId;
      report.failed = report.set.summary.failed;
      report.partial = report.set.partial;
      if (whatIf) {
        report.summary = applyCounts(report);
        return report;
      }
      report.verify = await this.test(plan, options);
      report.failed = Math.max(report.failed, report.verify.summary.failed);
      report.converged = report.verify.summary.drifted === 0 && report.verify.summary.failed === 0;
      report.summary = applyCounts(report);
      return report;
    });
  }

  /**
   * Restores what a run (an id, or 'latest') changed, by applying a generated rollback document. `target` is where the caller means to restore (a snapshot path, or
   * null for the live registry); a run on another target is refused, never rolled back elsewhere.
   */
  async rollback(idOrLatest: string, options: RollbackOptions = {}): Promise<RollbackResult> {
    const of = findRun(this.stateDir, idOrLatest);
    if (!of) throw new WinstateRunError(`no run '${idOrLatest}' with changes to roll back in ${join(this.stateDir, 'runs')}`, { refused: true });
    if (of.status === 'running') throw new WinstateRunError(`run ${of.id} is still running (process ${of.owner?.pid ?? '?'}); roll it back once it has ended`);
    if (!of.backup || !existsSync(of.backup)) throw new WinstateRunError(`run ${of.id} has no backup to restore from`);
    const backup = JSON.parse(readFileSync(of.backup, 'utf8')) as BackupRecord;
    // An interrupted run's journal may be short (the process died between a change and its line):
    // every planned change is restored, and the rollback's own test reads the target to see which differ.
    const applied = wasInterrupted(of) ? undefined : new Set([...of.changes.map((c) => c.name), ...(of.appliedBeforeInterruption ?? [])]);
    return this.restore(of, backup, applied, options);
  }

  /**
   * Restores from a backup that a generated script wrote when run by hand (-BackupPath): its
   * journal says what was applied; without a complete journal every entry is restored, judged by
   * reading the target.
   */
  async rollbackBackup(file: string, options: RollbackOptions = {}): Promise<RollbackResult> {
    if (!existsSync(file)) throw new WinstateRunError(`backup ${file} does not exist`, { refused: true });
    let backup: BackupRecord;
    try {
      backup = JSON.parse(readFileSync(file, 'utf8')) as BackupRecord;
    } catch (error) {
      throw new WinstateRunError(`backup ${file} is not JSON: ${(error as Error).message}`, { cause: error, refused: true });
    }
    if (backup?.tool !== 'winstate' || !Array.isArray(backup.entries) || (backup.target !== 'Snapshot' && backup.target !== 'Live')) {
      throw new WinstateRunError(`${file} is not a backup written by winstate`, { refused: true });
    }
    const journal = readJournal(resolvePath(file));
    const snapshots: Snapshots = backup.snapshots ?? (backup.snapshot ? { Registry: backup.snapshot } : {});
    const of: RunRecord = {
      id: newRunId(),
      command: 'set',
      document: { name: backup.document, file: resolvePath(file) },
      ...recordTarget(snapshots),
      startedAt: backup.createdAt,
      status: journal.complete ? 'converged' : 'interrupted',
      backup: resolvePath(file),
      changes: [],
      failures: [],
    };
    return this.restore(of, backup, journal.complete ? new Set(journal.applied) : undefined, options);
  }

  private async restore(of: RunRecord, backup: BackupRecord, applied: Set<string> | undefined, options: RollbackOptions): Promise<RollbackResult> {
    const runSnapshots = runSnapshotsOf(of);
    if (options.target !== undefined) {
      const wanted = options.target === null ? [] : (Array.isArray(options.target) ? options.target : [options.target]).map((t) => resolvePath(t)).sort();
      const own = snapshotFiles(runSnapshots);
      if (wanted.join('\n') !== own.join('\n')) {
        const where = (files: string[]) => (files.length === 0 ? 'the live machine' : files.join(', '));
        throw new WinstateRunError(`run ${of.id} changed ${where(own)}, not ${where(wanted)}: nothing was rolled back (name the run's own target, or leave --snapshot out to restore it there)`, { refused: true });
      }
    }
    if (applied?.size === 0 || backup.entries.length === 0) throw new WinstateRunError(`run ${of.id} changed nothing, so there is nothing to roll back`);
    const { yaml, unsupported } = rollbackDocument(backup, of.id, applied);
    const dir = runDir(this.stateDir, of.id);
    const documentFile = join(dir, 'rollback.yaml');
    writeFileAtomic(documentFile, yaml);
    // Loaded here: only a rollback reads a document, and the module costs every start.
    const { validateText } = await import('../document/validate.js');
    const { formatDiagnostic } = await import('../document/diagnostics.js');
    const { plan, diagnostics } = validateText(documentFile, yaml);
    if (!plan) throw new WinstateRunError(`the rollback document for ${of.id} is invalid:\n${diagnostics.map(formatDiagnostic).join('\n')}`);
    const scriptFile = join(dir, 'rollback.ps1');
    writeFileAtomic(scriptFile, compilePlan(plan).text);
    const report = await this.apply(plan, { ...options, snapshots: runSnapshots }, 'rollback', of.id);
    const run = report.runId ? findRun(this.stateDir, report.runId)! : options.whatIf ? undefined : this.writeNoChangeRun(plan, runSnapshots, of.id);
    return { of, documentFile, scriptFile, unsupported, report, run };
  }

  private writeNoChangeRun(plan: Plan, snapshots: Snapshots, rollbackOf: string): RunRecord {
    const now = new Date().toISOString();
    const record: RunRecord = {
      id: newRunId(), command: 'rollback', document: { name: plan.name, file: plan.file }, ...recordTarget(snapshots),
      startedAt: now, finishedAt: now, status: 'no-change', backup: null, changes: [], failures: [], rollbackOf,
    };
    writeRun(this.stateDir, record);
    return record;
  }

  /**
   * Runs body under the target lock. The lock names the PowerShell process that saves (with this
   * process as its parent) and carries a token that the script checks before every save.
   */
  private async locked<T>(plan: Plan, options: RunOptions, body: (token?: string) => Promise<T>): Promise<T> {
    if (options.whatIf) return body();
    const live = snapshotFiles(snapshotsOf(options)).length === 0;
    const writer = await this.writerProcess();
    // Said plainly before anything is locked or read: a live change needs an elevated PowerShell.
    if (live && writer.elevation === 'not-elevated') {
      throw new WinstateRunError(`${plan.name}: changing the live machine needs administrator rights, and this PowerShell is not elevated: run winstate from an elevated prompt (Run as administrator); nothing was changed`);
    }
    const lock = await acquireLocks(lockPathsOf(snapshotsOf(options)), plan.name, writer.process, options.waitMs ?? 0);
    try {
      return await body(lock.token);
    } finally {
      lock.release();
    }
  }

  /**
   * The session's PowerShell process (started if need be): the one that will write the target, and
   * whether it runs elevated on Windows ('n/a' elsewhere, where there is no live target).
   */
  private async writerProcess(): Promise<{ process?: { pid: number; processStarted: string }; elevation: 'elevated' | 'not-elevated' | 'n/a' }> {
    const result = await this.session.invoke(new PsCode(writerProbe()));
    const [pid, started, elevation] = result.output.split('\n').map((l) => l.trim());
    if (!result.ok || !pid || !started || !elevation) throw new WinstateRunError(`PowerShell did not start: ${result.error?.message ?? 'no process id'}`, { cause: result.error });
    const level = elevation === 'elevated' || elevation === 'not-elevated' ? elevation : 'n/a';
    // A PowerShell on another system (Windows under Wine, driven from Linux) cannot see this
    // process, nor this one it: the lock then names this process, and the token alone fences.
    if (this.session.powershellPid === undefined) return { elevation: level };
    return { process: { pid: Number(pid), processStarted: started }, elevation: level };
  }

  /**
   * The Set run itself, write-ahead: the record (status running, target, backup path) is on disk
   * before the script starts, and the script writes the backup before its first change; the
   * record is completed when the run ends. A record left `running` by a dead process reads as interrupted.
   */
  private async recordedSet(plan: Plan, options: RunOptions, command: RunRecord['command'], token?: string, rollbackOf?: string): Promise<RunReport> {
    if (options.whatIf) return this.run(plan, 'Set', options);
    const id = newRunId();
    const backup = join(runDir(this.stateDir, id), 'backup.json');
    const snapshots = snapshotsOf(options);
    const record: RunRecord = {
      id, command, document: { name: plan.name, file: plan.file }, ...recordTarget(snapshots), startedAt: new Date().toISOString(),
      status: 'running', backup, changes: [], failures: [], ...(rollbackOf ? { rollbackOf } : {}),
      owner: { pid: process.pid, host: hostname() },
    };
    writeRun(this.stateDir, record);
    let report: RunReport;
    try {
      report = await this.run(plan, 'Set', options, token ? { BackupPath: backup, ...fenceParameters(snapshots, token) } : { BackupPath: backup, NoLock: true });
    } catch (error) {
      // The process died or hung mid-change: the journal tells what reached the target.
      record.finishedAt = new Date().toISOString();
      record.status = 'interrupted';
      record.error = (error as Error).message;
      if (existsSync(backup)) record.appliedBeforeInterruption = readJournal(backup).applied;
      else record.backup = null;
      writeRun(this.stateDir, record);
      const applied = record.appliedBeforeInterruption ?? [];
      throw new WinstateRunError(
        `${(error as Error).message}\nrun ${id} was interrupted; applied before that: ${applied.length ? applied.join(', ') : 'nothing'}` +
          (record.backup ? `; roll back with: winstate rollback ${id}` : ''),
        { cause: error, timedOut: error instanceof WinstateRunError && error.timedOut, run: record },
      );
    }
    record.finishedAt = new Date().toISOString();
    // The script names the file the engine chose in its own spelling: a Windows PowerShell under
    // Wine turns /tmp/x into Z:\tmp\x. Node needs its own path to that file.
    if (report.backup !== null) report.backup = backup;
    record.backup = report.backup;
    record.changes = report.results.filter((r) => r.changed).map((r) => ({ name: r.name, target: r.target, before: r.before, after: r.after }));
    record.failures = report.results.filter((r) => r.error !== undefined).map((r) => ({ name: r.name, error: r.error! }));
    record.status = runStatus(report);
    if (report.backup !== null || record.failures.length > 0) writeRun(this.stateDir, record);
    else rmSync(runDir(this.stateDir, id), { recursive: true, force: true }); // nothing to change: no run
    return { ...report, runId: report.backup !== null ? id : undefined };
  }

  async close(): Promise<void> {
    if (this.sessionInstance !== this.options.session || this.options.closesSession) await this.sessionInstance?.close();
    this.sessionInstance = undefined;
  }
}

/**
 * The writer's process id, start time and elevation (an administrator token on Windows), the
 * elevation judged by the runtime's own Test-WsElevated, which the generated scripts use too.
 */
function writerProbe(): string {
  return `${runtimeFunction('Test-WsElevated')}\n` +
    "$PID; (Get-Process -Id $PID).StartTime.ToUniversalTime().ToString('o'); " +
    "if ([System.Environment]::OSVersion.Platform -ne [System.PlatformID]::Win32NT) { 'n/a' } " +
    "elseif (Test-WsElevated) { 'elevated' } else { 'not-elevated' }";
}

/**
 * PowerShell's message apart from its position ("At line:990 char:43" and the code under it), and
 * without the "undefined" line a process-exit error of node-powershell carries when it has no cause.
 */
export function splitPowerShellError(text: string): { message: string; position?: string } {
  const lines = text.split('\n').filter((line) => line.trim() !== 'undefined');
  const at = lines.findIndex((line, i) => i > 0 && /^At (line:\d+|.*:\d+) char:\d+/.test(line.trim()));
  if (at < 0) return { message: lines.join('\n').trim() };
  return { message: lines.slice(0, at).join('\n').trim(), position: lines.slice(at).join('\n').trim() };
}

/** Marks the settings the catalog says take effect only after a restart, and lists those this run changed. */
function withRestartFacts(plan: Plan, report: RunReport): RunReport {
  const restart = new Set(plan.resources.filter((r) => r.entry?.restartRequired).map((r) => r.name));
  if (restart.size === 0) return report;
  for (const r of report.results) if (restart.has(r.name)) r.restartRequired = true;
  const changed = report.results.filter((r) => r.restartRequired && r.changed).map((r) => r.name);
  if (changed.length > 0) report.restartNeeded = changed;
  return report;
}

/** A run record's target fields: `snapshots` per store, and `snapshot` (the registry file, else the first) for older readers. */
function recordTarget(snapshots: Snapshots): Pick<RunRecord, 'target' | 'snapshot' | 'snapshots'> {
  const files = snapshotFiles(snapshots);
  if (files.length === 0) return { target: 'live', snapshot: null };
  return { target: 'snapshot', snapshot: snapshots.Registry ?? files[0]!, snapshots };
}

/** The files a run changed: its snapshots per store (older records name only the registry file). */
export function runSnapshotsOf(run: Pick<RunRecord, 'snapshot' | 'snapshots'>): Snapshots {
  if (run.snapshots) return run.snapshots;
  return run.snapshot ? { Registry: run.snapshot } : {};
}

/** One lock per file of an offline run (in a stable order), or the machine's lock for a live run. */
function lockPathsOf(snapshots: Snapshots): string[] {
  return lockPathsFor(snapshotFiles(snapshots));
}

/**
 * What the script needs to check the caller's lock before each save: the token, and for a live run
 * the lock file (under Wine the two sides need not agree on %ProgramData%); an offline store's
 * lock is its file's name with .lock, which both sides spell the same way.
 */
function fenceParameters(snapshots: Snapshots, token: string): Record<string, string> {
  return snapshotFiles(snapshots).length === 0 ? { LockToken: token, LockPath: lockPathFor(undefined) } : { LockToken: token };
}


function runStatus(report: RunReport): RunStatus {
  if (report.partial) return 'partial';
  if (report.summary.failed > 0) return 'failed';
  if (report.summary.changed === 0) return 'no-change';
  return report.summary.drifted === 0 ? 'converged' : 'not-converged';
}
