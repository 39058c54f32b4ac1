import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Document, parseDocument } from 'yaml';
import { compilePlan } from '../compile/emit.js';
import { formatDiagnostic, type Diagnostic } from '../document/diagnostics.js';
import { validateFile, validateText, type Plan } from '../document/validate.js';
import { applyCounts, EXIT, exitCodeOf, type ApplyReport, type Mode, type PlanItem, type RunReport } from '../engine/results.js';
import { rollbackDocument, type BackupRecord } from '../engine/rollback.js';
import { findRun, newRunId, readJournal, runDir, wasInterrupted, writeRun, type RunRecord, type RunStatus } from '../engine/state.js';
import { writeFileAtomic } from '../fs.js';
import { projectPath } from '../paths.js';
import type { PwshSession } from '../bridge/session.js';
import { DEFAULT_FLEET_TIMEOUTS, FleetSessions, type FanOutProgress, type FleetTimeouts, type HostOutcome } from './fanout.js';
import { acceptedRisks, lockoutFindings, readIdentityFile, refusal, type Identity, type LockoutFinding } from './guard.js';
import { STORE_FILES, type StoreName } from '../engine/snapshots.js';
import type { FleetHost } from './inventory.js';

/** How one host ended: the worst of these decides the host's exit code. */
export type HostStatus = 'in-desired-state' | 'converged' | 'drift' | 'partial' | 'failed' | 'unreachable' | 'refused';

export interface HostRun {
  host: string;
  address: string;
  port: number;
  document: string;
  status: HostStatus;
  exitCode: number;
  /** Why the host failed, could not be reached or was refused. */
  error?: string;
  report?: RunReport | ApplyReport;
  identity?: Identity;
  /** What the lockout guard found; accepted ones are recorded like waivers, the others refused the host. */
  lockout?: LockoutFinding[];
  /** The local run record of a changing run (`winstate runs --host`, `winstate rollback latest --host`). */
  runId?: string;
  /** When its script ran on the host (the host's clock), for the phase that changed or tested it last. */
  startedAt?: string;
  finishedAt?: string;
}

export interface FleetReport {
  tool: 'winstate';
  command: 'get' | 'test' | 'set' | 'apply' | 'rollback';
  whatIf: boolean;
  throttle: number;
  /** Per phase: the most hosts whose scripts ran at the same time (from the hosts' own start and end times). */
  concurrency: Record<string, number>;
  /** Wall time in milliseconds: opening the sessions, and each phase (all hosts of it). */
  timings: Record<string, number>;
  summary: { hosts: number } & Partial<Record<HostStatus, number>>;
  exitCode: number;
  hosts: HostRun[];
}

export interface FleetRunOptions {
  command: 'get' | 'test' | 'set' | 'apply';
  /** The document every host runs unless one of its groups gives its own. */
  documentFile: string;
  hosts: FleetHost[];
  throttle: number;
  whatIf?: boolean;
  failFast?: boolean;
  /** Where per-host run records and backup copies are kept (under hosts/<name>/). */
  stateDir: string;
  /** `--as`: the identity the lockout guard checks instead of probing each host. */
  asIdentity?: Identity;
  timeouts?: FleetTimeouts;
  onProgress?: (phase: string, progress: FanOutProgress) => void;
}

/** Run records and backup copies of one host, apart from the local machine's own. */
export function hostStateDir(stateDir: string, host: string): string {
  return join(stateDir, 'hosts', host);
}

/** Exit codes ranked: a runtime error outweighs a partial change, which outweighs drift. */
const EXIT_RANK: number[] = [EXIT.ok, EXIT.drift, EXIT.partial, EXIT.runtimeError, EXIT.invalidInput];
export function worstExitCode(codes: number[]): number {
  return codes.reduce((worst, code) => (EXIT_RANK.indexOf(code) > EXIT_RANK.indexOf(worst) ? code : worst), EXIT.ok);
}

/** The plan each host runs: its group's document (with its groups' waivers) or the command's. Errors stop the whole run. */
export function plansForHosts(documentFile: string, hosts: FleetHost[]): { plans: Map<string, Plan>; diagnostics: Diagnostic[] } {
  const plans = new Map<string, Plan>();
  const diagnostics: Diagnostic[] = [];
  const cache = new Map<string, Plan | undefined>();
  for (const host of hosts) {
    const file = host.document ?? documentFile;
    const key = `${resolve(file)}\n${JSON.stringify(host.waivers)}`;
    if (!cache.has(key)) {
      const result = host.waivers.length ? validateWithWaivers(file, host.waivers) : validateFile(file);
      diagnostics.push(...result.diagnostics);
      cache.set(key, result.plan);
    }
    const plan = cache.get(key);
    if (plan) plans.set(host.name, plan);
  }
  return { plans, diagnostics };
}

/** A document with a group's waivers appended to its own (errors in them point into the merged text, named as such). */
function validateWithWaivers(file: string, waivers: unknown[]) {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const own = doc.get('waivers');
  const merged = [...((own as { toJSON?: () => unknown[] } | undefined)?.toJSON?.() ?? []), ...waivers];
  doc.set('waivers', new Document(merged).contents);
  return validateText(file, doc.toString());
}

const PHASE_MODE: Record<string, Mode> = { get: 'Get', test: 'Test', set: 'Set' };

/**
 * Runs a document on many hosts: opens one remoting session per host from the CLI's PowerShell,
 * checks the lockout guard before a change, fans each phase out with one Invoke-Command, and
 * records per host. A host that fails never stops the others.
 */
export async function runFleet(session: PwshSession, options: FleetRunOptions): Promise<FleetReport> {
  const { plans } = plansForHosts(options.documentFile, options.hosts);
  const fleet = new FleetSessions(session, options.timeouts ?? DEFAULT_FLEET_TIMEOUTS);
  const runs = new Map<string, HostRun>();
  const concurrency: Record<string, number> = {};
  const timings: Record<string, number> = {};
  const timed = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await work();
    } finally {
      timings[label] = (timings[label] ?? 0) + (Date.now() - started);
    }
  };
  const byName = new Map(options.hosts.map((h) => [h.name, h]));
  for (const h of options.hosts) {
    runs.set(h.name, { host: h.name, address: h.address, port: h.port, document: plans.get(h.name)?.name ?? '', status: 'failed', exitCode: EXIT.runtimeError });
  }
  const endHost = (name: string, status: HostStatus, error: string) => Object.assign(runs.get(name)!, { status, exitCode: EXIT.runtimeError, error });
  const live = () => options.hosts.filter((h) => runs.get(h.name)!.error === undefined).map((h) => h.name);
  /**
   * One Invoke-Command's counts as fleet-wide ones, so that done + running + failed + waiting is every
   * host: hosts already out (unreachable, refused, failed) count as failed, hosts queued behind this
   * Invoke-Command (another document's, same phase) as waiting, the rest (finished, or not needed in
   * this phase) as done.
   */
  const fleetWide = (label: string, p: FanOutProgress, queued = 0, failedInPhase = 0) => {
    const out = options.hosts.filter((h) => runs.get(h.name)!.error !== undefined).length;
    const failed = out + failedInPhase + p.failed;
    const waiting = p.waiting + queued;
    options.onProgress?.(label, { done: options.hosts.length - failed - p.running - waiting, running: p.running, failed, waiting });
  };
  const wideOptions = { ...options, onProgress: (label: string, p: FanOutProgress) => fleetWide(label, p) };

  try {
    const unreachable = await timed('open', () => fleet.open(options.hosts));
    const reasons = await diagnoseConnections(options.hosts.filter((h) => unreachable.has(h.name)), options.timeouts ?? DEFAULT_FLEET_TIMEOUTS);
    for (const [name, why] of unreachable) endHost(name, 'unreachable', reasons.get(name) ?? why);

    const phase = async (label: string, names: string[], mode: Mode, extra: (host: FleetHost) => Record<string, string | boolean> = () => ({})) => {
      const outcomes = new Map<string, HostOutcome>();
      // Hosts that run the same document share one script, hence one Invoke-Command.
      const groups = new Map<Plan, string[]>();
      for (const name of names) {
        const plan = plans.get(name)!;
        groups.set(plan, [...(groups.get(plan) ?? []), name]);
      }
      let queued = names.length;
      let failedInPhase = 0;
      for (const [plan, group] of groups) {
        queued -= group.length;
        const args = new Map(group.map((name) => [name, { ...hostArguments(byName.get(name)!, mode, options), ...extra(byName.get(name)!) }]));
        const result = await timed(label, () => fleet.run(group, compilePlan(plan).text, args, options.throttle, (p) => fleetWide(label, p, queued, failedInPhase)));
        for (const [name, outcome] of result) {
          outcomes.set(name, outcome);
          if (outcome.error !== null) failedInPhase++;
        }
      }
      concurrency[label] = Math.max(concurrency[label] ?? 0, maxConcurrent([...outcomes.values()]));
      const reports = new Map<string, RunReport>();
      for (const [name, outcome] of outcomes) {
        const run = runs.get(name)!;
        if (outcome.startedAt) Object.assign(run, { startedAt: outcome.startedAt, finishedAt: outcome.finishedAt ?? undefined });
        const parsed = outcome.error === null ? parseReport(outcome.output) : undefined;
        if (parsed) reports.set(name, parsed);
        else endHost(name, 'failed', outcome.error ?? `the script returned no JSON report: ${(outcome.output ?? '').slice(0, 200)}`);
      }
      return reports;
    };

    if (options.command === 'get' || options.command === 'test') {
      const reports = await phase(options.command, live(), PHASE_MODE[options.command]!);
      for (const [name, report] of reports) settle(runs.get(name)!, report);
    } else {
      await timed('identity', () => guard(fleet, wideOptions, plans, runs, live(), endHost));
      if (options.command === 'set') {
        const reports = await phase('set', live(), 'Set');
        await recordChanges(fleet, wideOptions, plans, byName, runs, reports, 'set');
        for (const [name, report] of reports) settle(runs.get(name)!, report);
      } else {
        const tests = await phase('test', live(), 'Test');
        const applies = new Map<string, ApplyReport>();
        for (const [name, test] of tests) {
          const items: PlanItem[] = test.results
            .filter((r) => r.inDesiredState === false)
            .map((r) => ({ name: r.name, target: r.target, current: r.actual!, desired: r.desired!, differingProperties: r.differingProperties ?? [] }));
          applies.set(name, { document: test.document, whatIf: options.whatIf ?? false, plan: items, test, converged: items.length === 0 && test.summary.failed === 0, failed: test.summary.failed });
        }
        const drifted = [...applies].filter(([, a]) => a.plan.length > 0).map(([name]) => name);
        const sets = await phase('set', drifted, 'Set');
        await recordChanges(fleet, wideOptions, plans, byName, runs, sets, 'apply');
        for (const [name, set] of sets) {
          const a = applies.get(name)!;
          Object.assign(a, { set, failed: set.summary.failed, partial: set.partial, runId: runs.get(name)!.runId });
        }
        const verify = options.whatIf ? new Map<string, RunReport>() : await phase('verify', [...sets.keys()], 'Test');
        for (const [name, v] of verify) {
          const a = applies.get(name)!;
          a.verify = v;
          a.failed = Math.max(a.failed, v.summary.failed);
          a.converged = v.summary.drifted === 0 && v.summary.failed === 0;
        }
        for (const [name, a] of applies) {
          if (runs.get(name)!.error !== undefined) continue;
          a.summary = applyCounts(a);
          settle(runs.get(name)!, a);
        }
      }
    }
  } finally {
    await fleet.close();
  }
  const hosts = options.hosts.map((h) => runs.get(h.name)!);
  const summary: FleetReport['summary'] = { hosts: hosts.length };
  for (const h of hosts) summary[h.status] = (summary[h.status] ?? 0) + 1;
  return { tool: 'winstate', command: options.command, whatIf: options.whatIf ?? false, throttle: options.throttle, concurrency, timings, summary, exitCode: worstExitCode(hosts.map((h) => h.exitCode)), hosts };
}

function hostArguments(host: FleetHost, mode: Mode, options: Pick<FleetRunOptions, 'whatIf' | 'failFast'>): Record<string, string | boolean> {
  const args: Record<string, string | boolean> = { Mode: mode, OutputFormat: 'Json' };
  for (const [store, file] of Object.entries(host.snapshots ?? {}) as [StoreName, string][]) args[STORE_FILES[store].parameter] = file;
  if (mode === 'Set' && options.whatIf) args.WhatIf = true;
  if (options.failFast) args.FailFast = true;
  return args;
}

function parseReport(output: string | null): RunReport | undefined {
  if (!output) return undefined;
  try {
    const report = JSON.parse(output) as RunReport;
    return report && report.tool === 'winstate' && Array.isArray(report.results) ? report : undefined;
  } catch {
    return undefined;
  }
}

function settle(run: HostRun, report: RunReport | ApplyReport): void {
  if (run.error !== undefined) return;
  run.report = report;
  run.exitCode = exitCodeOf(report);
  const changed = 'plan' in report ? Boolean(report.set?.summary.changed) : report.summary.changed > 0;
  run.status =
    run.exitCode === EXIT.partial ? 'partial'
    : run.exitCode === EXIT.runtimeError ? 'failed'
    : run.exitCode === EXIT.drift ? 'drift'
    : changed ? 'converged' : 'in-desired-state';
}

/** The most intervals open at once: how many hosts ran their script at the same moment. */
export function maxConcurrent(outcomes: Pick<HostOutcome, 'startedAt' | 'finishedAt'>[]): number {
  const events: [number, number][] = [];
  for (const o of outcomes) {
    if (!o.startedAt || !o.finishedAt) continue;
    events.push([Date.parse(o.startedAt), 1], [Date.parse(o.finishedAt), -1]);
  }
  // An end before a start at the same instant: back-to-back scripts do not overlap.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, delta] of events) most = Math.max(most, (open += delta));
  return most;
}

let probeText: string | undefined;
/** Learns each host's identity (unless given) and refuses, per host, a plan that would lock it out. */
async function guard(
  fleet: FleetSessions,
  options: FleetRunOptions,
  plans: Map<string, Plan>,
  runs: Map<string, HostRun>,
  names: string[],
  endHost: (name: string, status: HostStatus, error: string) => void,
): Promise<void> {
  const identities = new Map<string, Identity>();
  const toProbe: string[] = [];
  for (const name of names) {
    const host = options.hosts.find((h) => h.name === name)!;
    if (options.asIdentity) identities.set(name, options.asIdentity);
    else if (host.identity) {
      try {
        identities.set(name, readIdentityFile(host.identity));
      } catch (error) {
        endHost(name, 'failed', (error as Error).message);
      }
    } else toProbe.push(name);
  }
  if (toProbe.length > 0) {
    probeText ??= readFileSync(projectPath('src', 'fleet', 'identity-probe.ps1'), 'utf8');
    const outcomes = await fleet.run(toProbe, probeText, new Map(), options.throttle, (p) => options.onProgress?.('identity', p));
    for (const [name, outcome] of outcomes) {
      try {
        if (outcome.error !== null || !outcome.output) throw new Error(outcome.error ?? 'no answer');
        identities.set(name, JSON.parse(outcome.output) as Identity);
      } catch (error) {
        endHost(name, 'failed', `could not learn the identity this connection runs as, so the lockout guard cannot judge: ${(error as Error).message}`);
      }
    }
  }
  for (const [name, identity] of identities) {
    const host = options.hosts.find((h) => h.name === name)!;
    const plan = plans.get(name)!;
    const findings = lockoutFindings(plan, { identity, transport: host.transport, port: host.port }, acceptedRisks(plan));
    const run = runs.get(name)!;
    run.identity = identity;
    if (findings.length) run.lockout = findings;
    const refused = refusal(findings, identity);
    if (refused) endHost(name, 'refused', refused);
  }
}

/**
 * For each host whose Set changed something: copies the backup it wrote on the host (and its
 * journal) into the local state directory and writes the host's run record, so that
 * `winstate rollback latest --host <name>` can restore it without the host's own files.
 */
async function recordChanges(
  fleet: FleetSessions,
  options: Pick<FleetRunOptions, 'stateDir' | 'throttle' | 'whatIf' | 'onProgress'>,
  plans: Map<string, Plan>,
  byName: Map<string, FleetHost>,
  runs: Map<string, HostRun>,
  reports: Map<string, RunReport>,
  command: RunRecord['command'],
  rollbackOf?: string,
): Promise<void> {
  if (options.whatIf) return;
  const withBackup = [...reports].filter(([, r]) => r.backup !== null).map(([name]) => name);
  const fetched = withBackup.length
    ? await fleet.run(withBackup, FETCH_BACKUP, new Map(withBackup.map((n) => [n, { Path: reports.get(n)!.backup! }])), options.throttle, (p) => options.onProgress?.('backup', p))
    : new Map<string, HostOutcome>();
  for (const [name, report] of reports) {
    if (report.backup === null && report.summary.failed === 0) continue;
    const host = byName.get(name)!;
    const dir = hostStateDir(options.stateDir, name);
    const id = newRunId();
    const record: RunRecord & { host: object; remoteBackup: string | null } = {
      id, command, document: { name: plans.get(name)!.name, file: plans.get(name)!.file }, target: host.snapshots ? 'snapshot' : 'live',
      snapshot: host.snapshots?.Registry ?? null, ...(host.snapshots ? { snapshots: host.snapshots } : {}), startedAt: runs.get(name)!.startedAt ?? new Date().toISOString(), finishedAt: new Date().toISOString(),
      status: runStatus(report), backup: null, changes: [], failures: [], ...(rollbackOf ? { rollbackOf } : {}),
      owner: { pid: process.pid, host: hostname() },
      host: { name, address: host.address, port: host.port, user: host.user, transport: host.transport, ...(host.keyFile ? { keyFile: host.keyFile } : {}) },
      remoteBackup: report.backup,
    };
    const copy = fetched.get(name);
    if (report.backup !== null) {
      const local = join(runDir(dir, id), 'backup.json');
      try {
        if (!copy || copy.error !== null || !copy.output) throw new Error(copy?.error ?? 'no answer');
        const { backup, journal } = JSON.parse(copy.output) as { backup: string; journal: string | null };
        writeFileAtomic(local, backup);
        if (journal !== null) writeFileAtomic(`${local}.journal`, journal);
        record.backup = local;
      } catch (error) {
        record.error = `the backup stays on the host at ${report.backup}; copying it failed: ${(error as Error).message}`;
      }
    }
    record.changes = report.results.filter((r) => r.changed).map((r) => ({ name: r.name, target: r.target, before: r.before, after: r.after }));
    record.failures = report.results.filter((r) => r.error !== undefined).map((r) => ({ name: r.name, error: r.error! }));
    writeRun(dir, record);
    runs.get(name)!.runId = id;
    report.runId = id;
  }
}

const FETCH_BACKUP = `param([string] $Path)
$journal = $null
if (Test-Path -LiteralPath ($Path + '.journal')) { $journal = [System.IO.File]::ReadAllText($Path + '.journal') }
ConvertTo-Json -Compress -InputObject @{ backup = [System.IO.File]::ReadAllText($Path); journal = $journal }
`;

function runStatus(report: RunReport): RunStatus {
  if (report.partial) return 'partial';
  if (report.summary.failed > 0) return 'failed';
  if (report.summary.changed === 0) return 'no-change';
  return report.summary.drifted === 0 ? 'converged' : 'not-converged';
}

/**
 * ssh's own words for a host whose session did not open (PowerShell says only that the transport
 * ended): connection refused, no route, key refused, no powershell subsystem. Bounded by the connect timeout.
 */
async function diagnoseConnections(hosts: FleetHost[], timeouts: FleetTimeouts): Promise<Map<string, string>> {
  const reasons = new Map<string, string>();
  await Promise.all(
    hosts
      .filter((h) => h.transport === 'ssh')
      .map(
        (h) =>
          new Promise<void>((done) => {
            const args = ['-o', 'BatchMode=yes', '-o', `ConnectTimeout=${timeouts.connectSeconds}`, '-o', 'StrictHostKeyChecking=accept-new', '-o', 'LogLevel=ERROR'];
            if (process.env.WINSTATE_SSH_KNOWN_HOSTS) args.push('-o', `UserKnownHostsFile=${process.env.WINSTATE_SSH_KNOWN_HOSTS}`);
            if (h.keyFile) args.push('-i', h.keyFile);
            args.push('-p', String(h.port), '-l', h.user, '-s', '--', h.address, 'powershell');
            const child = execFile('ssh', args, { timeout: (timeouts.connectSeconds + 5) * 1000, encoding: 'utf8' }, (error, _stdout, stderr) => {
              const said = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
              const last = said.at(-1);
              if (last) reasons.set(h.name, explainSsh(last, h));
              else if (error && (error as { killed?: boolean }).killed) reasons.set(h.name, `no answer from ${h.address}:${h.port} within ${timeouts.connectSeconds + 5} s`);
              done();
            });
            child.stdin?.end();
          }),
      ),
  );
  return reasons;
}

function explainSsh(line: string, h: FleetHost): string {
  if (/Permission denied/i.test(line)) return `${h.address}:${h.port} refused the key${h.keyFile ? ` ${h.keyFile}` : ''} for ${h.user} (${line})`;
  if (/subsystem request failed/i.test(line)) return `${h.address}:${h.port} has no PowerShell SSH subsystem (Subsystem powershell ... -sshs in sshd_config): ${line}`;
  if (/Connection refused|No route|timed out|Could not resolve|Network is unreachable/i.test(line)) return `cannot reach ${h.address}:${h.port}: ${line}`;
  return `${h.address}:${h.port}: ${line}`;
}

export interface FleetRollbackResult {
  of: RunRecord;
  documentFile: string;
  report: FleetReport;
  unsupported: string[];
}

/** `winstate rollback <id|latest> --host <name>`: restores one host from the backup copy its run recorded. */
export async function rollbackHost(
  session: PwshSession,
  host: FleetHost,
  idOrLatest: string,
  options: Pick<FleetRunOptions, 'stateDir' | 'whatIf' | 'failFast' | 'asIdentity' | 'timeouts' | 'onProgress'>,
): Promise<FleetRollbackResult> {
  const dir = hostStateDir(options.stateDir, host.name);
  const of = findRun(dir, idOrLatest);
  if (!of) throw new Error(`no run '${idOrLatest}' of host ${host.name} with changes to roll back in ${join(dir, 'runs')}`);
  if (!of.backup) throw new Error(`run ${of.id} of host ${host.name} has no local copy of its backup${of.error ? ` (${of.error})` : ''}`);
  const backup = JSON.parse(readFileSync(of.backup, 'utf8')) as BackupRecord;
  const journal = readJournal(of.backup);
  const applied = wasInterrupted(of) || !journal.complete ? undefined : new Set([...of.changes.map((c) => c.name)]);
  const { yaml, unsupported } = rollbackDocument(backup, of.id, applied);
  const documentFile = join(runDir(dir, of.id), 'rollback.yaml');
  writeFileAtomic(documentFile, yaml);
  const { plan, diagnostics } = validateText(documentFile, yaml);
  if (!plan) throw new Error(`the rollback document for ${of.id} is invalid:\n${diagnostics.map(formatDiagnostic).join('\n')}`);
  // The run's own target on the host: the snapshot it changed, whatever the inventory says today.
  const snapshots = of.snapshots ?? (of.snapshot ? { Registry: of.snapshot } : undefined);
  const target: FleetHost = { ...host, groups: [], waivers: [], document: documentFile, ...(snapshots ? { snapshots } : {}) };
  if (!snapshots) delete target.snapshots;
  const report = await runFleet(session, { ...options, command: 'apply', documentFile, hosts: [target], throttle: 1 });
  const hostRun = report.hosts[0]!;
  if (hostRun.runId) {
    // Mark the rollback's own record as such.
    const record = findRun(dir, hostRun.runId)!;
    writeRun(dir, { ...record, command: 'rollback', rollbackOf: of.id });
  }
  return { of, documentFile, report, unsupported };
}
