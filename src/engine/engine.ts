import { existsSync, readFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { compilePlan, type CompiledScript } from '../compile/emit.js';
import { PwshSession, type SessionOptions } from '../bridge/session.js';
import { validateText, type Plan } from '../document/validate.js';
import { formatDiagnostic } from '../document/diagnostics.js';
import { writeFileAtomic } from '../fs.js';
import type { ApplyReport, Mode, PlanItem, RunReport } from './results.js';
import { rollbackDocument, type BackupRecord } from './rollback.js';
import {
  acquireLock, defaultStateDir, findRun, lockPathFor, newRunId, readJournal, runDir, writeRun,
  type RunRecord, type RunStatus,
} from './state.js';

export interface RunOptions {
  /** A regedit export to work on instead of the live registry. */
  snapshot?: string;
  /** Describe changes without making them. */
  whatIf?: boolean;
  /** Stop at the first setting that fails (default: the others still run). */
  failFast?: boolean;
  timeoutMs?: number;
}

export interface EngineOptions extends SessionOptions {
  /** Where run records and backups go; see defaultStateDir. */
  stateDir?: string;
}

export class WinstateRunError extends Error {
  readonly timedOut: boolean;
  /** Set when a changing run was cut short: its record, with what was applied before it died. */
  readonly run?: RunRecord;
  constructor(message: string, options: { cause?: unknown; timedOut?: boolean; run?: RunRecord } = {}) {
    super(message, { cause: options.cause });
    this.name = 'WinstateRunError';
    this.timedOut = options.timedOut ?? false;
    this.run = options.run;
  }
}

/** What rollback did: the apply of the generated rollback document, and where that document is. */
export interface RollbackResult {
  of: RunRecord;
  documentFile: string;
  scriptFile: string;
  unsupported: string[];
  report: ApplyReport;
  run: RunRecord;
}

/**
 * Runs compiled documents through one persistent PowerShell process: the very script
 * `compile` writes, with a mode and a target passed in. Changing runs take the target lock,
 * record the prior state before the first change, and leave a run record for `runs`/`rollback`.
 */
export class Engine {
  private sessionInstance: PwshSession | undefined;
  private readonly scripts = new WeakMap<Plan, CompiledScript>();
  readonly stateDir: string;

  constructor(private readonly options: EngineOptions = {}) {
    this.stateDir = resolvePath(options.stateDir ?? defaultStateDir());
  }

  get session(): PwshSession {
    return (this.sessionInstance ??= new PwshSession(this.options));
  }

  private script(plan: Plan): CompiledScript {
    let script = this.scripts.get(plan);
    if (!script) this.scripts.set(plan, (script = compilePlan(plan)));
    return script;
  }

  /** One run of the script; changing runs should go through set/apply, which add lock and records. */
  async run(plan: Plan, mode: Mode, options: RunOptions = {}, extra: Record<string, string | boolean> = {}): Promise<RunReport> {
    const parameters: Record<string, string | boolean> = { Mode: mode, OutputFormat: 'Json', ...extra };
    if (options.snapshot) parameters.RegistrySnapshot = resolvePath(options.snapshot);
    if (options.whatIf) parameters.WhatIf = true;
    if (options.failFast) parameters.FailFast = true;
    const result = await this.session.runScript(this.script(plan), parameters, options.timeoutMs);
    if (!result.ok) {
      throw new WinstateRunError(`${plan.name}: ${mode} failed: ${result.error?.message ?? 'unknown error'}`, { cause: result.error, timedOut: result.timedOut });
    }
    try {
      return JSON.parse(result.output) as RunReport;
    } catch (error) {
      throw new WinstateRunError(`${plan.name}: ${mode} returned output that is not JSON: ${result.output.slice(0, 200)}`, { cause: error });
    }
  }

  get(plan: Plan, options?: RunOptions): Promise<RunReport> {
    return this.run(plan, 'Get', options);
  }

  test(plan: Plan, options?: RunOptions): Promise<RunReport> {
    return this.run(plan, 'Test', options);
  }

  /** Set what differs, under the target lock, with a backup and a run record. */
  async set(plan: Plan, options: RunOptions = {}): Promise<RunReport> {
    return this.locked(plan, options, () => this.recordedSet(plan, options, 'set'));
  }

  /** Test, plan what drifted, set it (or describe it under whatIf), then test again to verify. */
  async apply(plan: Plan, options: RunOptions = {}, command: RunRecord['command'] = 'apply', rollbackOf?: string): Promise<ApplyReport> {
    return this.locked(plan, options, async () => {
      const whatIf = options.whatIf ?? false;
      const test = await this.test(plan, options);
      const items: PlanItem[] = test.results
        .filter((r) => r.inDesiredState === false)
        .map((r) => ({ name: r.name, target: r.target, current: r.actual!, desired: r.desired!, differingProperties: r.differingProperties ?? [] }));
      const report: ApplyReport = { document: plan.name, whatIf, plan: items, test, converged: false, failed: test.summary.failed };
      if (items.length === 0) {
        report.converged = test.summary.failed === 0;
        return report;
      }
      report.set = await this.recordedSet(plan, options, command, rollbackOf);
      report.runId = report.set.runId;
      report.failed = report.set.summary.failed;
      report.partial = report.set.partial;
      if (whatIf) return report;
      report.verify = await this.test(plan, options);
      report.failed = Math.max(report.failed, report.verify.summary.failed);
      report.converged = report.verify.summary.drifted === 0 && report.verify.summary.failed === 0;
      return report;
    });
  }

  /** Restores what a run (an id, or 'latest') changed, by applying a generated rollback document. */
  async rollback(idOrLatest: string, options: Omit<RunOptions, 'snapshot'> = {}): Promise<RollbackResult> {
    const of = findRun(this.stateDir, idOrLatest);
    if (!of) throw new WinstateRunError(`no run '${idOrLatest}' with changes to roll back in ${join(this.stateDir, 'runs')}`);
    if (!of.backup || !existsSync(of.backup)) throw new WinstateRunError(`run ${of.id} has no backup to restore from`);
    const backup = JSON.parse(readFileSync(of.backup, 'utf8')) as BackupRecord;
    const applied = new Set([...of.changes.map((c) => c.name), ...(of.appliedBeforeInterruption ?? [])]);
    const { yaml, unsupported } = rollbackDocument(backup, of.id, applied);
    if (applied.size === 0) throw new WinstateRunError(`run ${of.id} changed nothing, so there is nothing to roll back`);
    const dir = runDir(this.stateDir, of.id);
    const documentFile = join(dir, 'rollback.yaml');
    writeFileAtomic(documentFile, yaml);
    const { plan, diagnostics } = validateText(documentFile, yaml);
    if (!plan) throw new WinstateRunError(`the rollback document for ${of.id} is invalid:\n${diagnostics.map(formatDiagnostic).join('\n')}`);
    const scriptFile = join(dir, 'rollback.ps1');
    writeFileAtomic(scriptFile, compilePlan(plan).text);
    const snapshot = of.snapshot ?? undefined;
    const report = await this.apply(plan, { ...options, snapshot }, 'rollback', of.id);
    const run = report.runId ? findRun(this.stateDir, report.runId)! : this.writeNoChangeRun(plan, snapshot, of.id);
    return { of, documentFile, scriptFile, unsupported, report, run };
  }

  private writeNoChangeRun(plan: Plan, snapshot: string | undefined, rollbackOf: string): RunRecord {
    const now = new Date().toISOString();
    const record: RunRecord = {
      id: newRunId(), command: 'rollback', document: { name: plan.name, file: plan.file }, target: snapshot ? 'snapshot' : 'live',
      snapshot: snapshot ? resolvePath(snapshot) : null, startedAt: now, finishedAt: now, status: 'no-change', backup: null,
      changes: [], failures: [], rollbackOf,
    };
    writeRun(this.stateDir, record);
    return record;
  }

  private async locked<T>(plan: Plan, options: RunOptions, body: () => Promise<T>): Promise<T> {
    if (options.whatIf) return body();
    const release = acquireLock(lockPathFor(options.snapshot), plan.name);
    try {
      return await body();
    } finally {
      release();
    }
  }

  /** The Set run itself: backup path in a new run directory, record written afterwards (or on failure). */
  private async recordedSet(plan: Plan, options: RunOptions, command: RunRecord["command"], rollbackOf?: string): Promise<RunReport> {
    if (options.whatIf) return this.run(plan, 'Set', options);
    const id = newRunId();
    const backup = join(runDir(this.stateDir, id), 'backup.json');
    const record: RunRecord = {
      id, command, document: { name: plan.name, file: plan.file }, target: options.snapshot ? 'snapshot' : 'live',
      snapshot: options.snapshot ? resolvePath(options.snapshot) : null, startedAt: new Date().toISOString(),
      status: 'failed', backup: null, changes: [], failures: [], ...(rollbackOf ? { rollbackOf } : {}),
    };
    let report: RunReport;
    try {
      report = await this.run(plan, 'Set', options, { BackupPath: backup, NoLock: true });
    } catch (error) {
      // The process died or hung mid-change: the journal tells what reached the target.
      record.finishedAt = new Date().toISOString();
      record.status = 'interrupted';
      record.error = (error as Error).message;
      if (existsSync(backup)) {
        record.backup = backup;
        record.appliedBeforeInterruption = readJournal(backup).applied;
      }
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
    return { ...report, runId: report.backup !== null ? id : undefined };
  }

  async close(): Promise<void> {
    await this.sessionInstance?.close();
    this.sessionInstance = undefined;
  }
}

function runStatus(report: RunReport): RunStatus {
  if (report.partial) return 'partial';
  if (report.summary.failed > 0) return 'failed';
  if (report.summary.changed === 0) return 'no-change';
  return report.summary.drifted === 0 ? 'converged' : 'not-converged';
}
