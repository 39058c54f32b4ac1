import type { PwshSession } from '../bridge/session.js';
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { printable, formatDiagnostic } from '../document/diagnostics.js';
import { EXIT } from '../engine/results.js';
import { defaultStateDir, listRuns } from '../engine/state.js';
import { writeFileAtomic } from '../fs.js';
import type { FanOutProgress } from './fanout.js';
import { readIdentityFile, type Identity } from './guard.js';
import { adHocHost, DEFAULT_THROTTLE, loadInventory, MAX_THROTTLE, type FleetHost } from './inventory.js';
import { hostStateDir, plansForHosts, rollbackHost, runFleet, type FleetReport, type HostRun } from './run.js';
import { counted } from '../plural.js';

/** What the CLI hands over: its parsed arguments (see src/cli/cli.ts) and its output streams. */
export interface FleetArgs {
  command: string;
  files: string[];
  /** The value of each option that is not repeatable. */
  flags: Map<string, string | true>;
  reports: string[];
  /** Every value of a repeatable option (--host, --snapshot), in order. */
  lists: Map<string, string[]>;
}
export interface FleetIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY?: { stdout?: boolean; stderr?: boolean };
  progressIntervalMs?: number;
  /** A caller-owned PowerShell session (the CLI's CliIo.session); DSC runs in it. */
  session?: PwshSession;
  /** Where `dsc` reads its instance; the process's stdin when absent. */
  stdin?: () => Promise<string>;
}

export class FleetUsageError extends Error {}

const str = (v: string | true | undefined) => (typeof v === 'string' ? v : undefined);
/** Every value of a repeatable option. */
export const listOf = (args: Pick<FleetArgs, 'lists'>, name: string): string[] => args.lists.get(name) ?? [];

/** `--hosts inventory.yaml` (optionally narrowed by `--host name`), or `--host [user@]address[:port]`... alone. */
export function selectHosts(args: FleetArgs, io: FleetIo): { hosts: FleetHost[]; throttle: number } | undefined {
  const inventoryFile = str(args.flags.get('--hosts'));
  const named = listOf(args, '--host');
  const keyFile = str(args.flags.get('--key-file'));
  let hosts: FleetHost[];
  let throttle = DEFAULT_THROTTLE;
  if (keyFile !== undefined && (inventoryFile !== undefined || named.length === 0)) {
    throw new FleetUsageError(`--key-file goes with --host [user@]address[:port] and no inventory${inventoryFile !== undefined ? `; give keyFile: in ${inventoryFile} (per host or under defaults)` : ''}`);
  }
  if (keyFile !== undefined && !existsSync(keyFile)) throw new FleetUsageError(`--key-file ${keyFile} does not exist`);
  if (inventoryFile !== undefined) {
    if (!existsSync(inventoryFile)) throw new FleetUsageError(`inventory ${inventoryFile} does not exist`);
    const { inventory, diagnostics } = loadInventory(inventoryFile);
    for (const d of diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
    if (!inventory) return undefined;
    throttle = inventory.throttle;
    hosts = inventory.hosts;
    if (named.length) {
      const missing = named.filter((n) => !hosts.some((h) => h.name.toLowerCase() === n.toLowerCase()));
      if (missing.length) throw new FleetUsageError(`--host ${missing.join(', ')}: not in ${inventoryFile} (it has ${hosts.map((h) => h.name).join(', ')})`);
      hosts = hosts.filter((h) => named.some((n) => n.toLowerCase() === h.name.toLowerCase()));
    }
  } else {
    hosts = named.map((spec) => {
      const host = adHocHost(spec, keyFile);
      if (typeof host === 'string') throw new FleetUsageError(host);
      return host;
    });
    const names = new Set(hosts.map((h) => h.name));
    if (names.size !== hosts.length) throw new FleetUsageError('--host names one host more than once');
  }
  const throttleText = str(args.flags.get('--throttle'));
  if (throttleText !== undefined) {
    if (!/^\d{1,3}$/.test(throttleText) || Number(throttleText) < 1 || Number(throttleText) > MAX_THROTTLE) throw new FleetUsageError(`--throttle takes a whole number of hosts from 1 to ${MAX_THROTTLE}, not '${printable(throttleText)}'`);
    throttle = Number(throttleText);
  }
  return { hosts, throttle };
}

function asIdentity(args: FleetArgs): Identity | undefined {
  const file = str(args.flags.get('--as'));
  if (file === undefined) return undefined;
  try {
    return readIdentityFile(file);
  } catch (error) {
    throw new FleetUsageError(`--as: ${(error as Error).message}`);
  }
}

async function stateDirOf(args: FleetArgs): Promise<string> {
  return resolve(str(args.flags.get('--state-dir')) ?? defaultStateDir());
}

/** A progress line on stderr: hosts done/running/failed (rewritten in place on a terminal). */
function progressPrinter(io: FleetIo, total: number) {
  const tty = io.isTTY?.stderr === true;
  const interval = io.progressIntervalMs ?? (tty ? 250 : 5000);
  let last = '';
  let lastAt = 0;
  let shown = false;
  return {
    update(phase: string, p: FanOutProgress) {
      const line = `winstate: ${phase} on ${total} host(s): ${p.done} done, ${p.running} running, ${p.failed} failed${p.waiting ? `, ${p.waiting} waiting` : ''}`;
      const finished = p.running === 0 && p.waiting === 0;
      if (line === last || (!finished && Date.now() - lastAt < interval)) return;
      last = line;
      lastAt = Date.now();
      shown = true;
      io.stderr(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    },
    stop() {
      if (tty && shown) io.stderr('\n');
    },
  };
}

/** `winstate get|test|set|apply <doc> --hosts <inventory> | --host <h>...`. */
export async function fleetCommand(args: FleetArgs, io: FleetIo, session: import('../bridge/session.js').PwshSession): Promise<number> {
  if (args.files.length !== 1) throw new FleetUsageError(`${args.command} takes exactly one document`);
  if (listOf(args, '--snapshot').length) throw new FleetUsageError('--snapshot names local files; on remote hosts, give each host its snapshot: in an inventory (--hosts)');
  const whatIf = args.flags.has('--what-if');
  if (whatIf && (args.command === 'get' || args.command === 'test')) throw new FleetUsageError('--what-if goes with set or apply');
  const selected = selectHosts(args, io);
  if (!selected) return EXIT.invalidInput;
  const identity = asIdentity(args);
  const documentFile = args.files[0]!;
  const { plans, diagnostics } = plansForHosts(documentFile, selected.hosts);
  for (const d of diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
  if (diagnostics.some((d) => d.severity === 'error') || plans.size !== selected.hosts.length) return EXIT.invalidInput;
  const { parseReportSpecs, ReportSpecError } = await import('../report/formats.js');
  let specs;
  try {
    const inventory = args.flags.get('--hosts');
    specs = parseReportSpecs(args.reports, [documentFile, ...(typeof inventory === 'string' ? [inventory] : [])]);
  } catch (error) {
    if (error instanceof ReportSpecError) throw new FleetUsageError(error.message);
    throw error;
  }
  const json = args.flags.has('--json');
  const startedAt = new Date();
  io.stderr(`winstate: ${args.command} ${documentFile} on ${selected.hosts.length} host(s), at most ${selected.throttle} at once\n`);
  const progress = progressPrinter(io, selected.hosts.length);
  let report: FleetReport;
  try {
    report = await runFleet(session, {
      command: args.command as 'get' | 'test' | 'set' | 'apply',
      documentFile,
      hosts: selected.hosts,
      throttle: selected.throttle,
      whatIf,
      failFast: args.flags.has('--fail-fast'),
      stateDir: await stateDirOf(args),
      ...(identity ? { asIdentity: identity } : {}),
      onProgress: (phase, p) => progress.update(phase, p),
    });
  } finally {
    progress.stop();
  }
  const human = (text: string) => (json ? io.stderr(text) : io.stdout(text));
  human(renderFleet(report));
  if (json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  if (specs.length && args.command !== 'get') {
    try {
      for (const file of await writeFleetReports(specs, report, plans, args.command as 'test' | 'set' | 'apply', startedAt)) io.stderr(`winstate: wrote ${file}\n`);
    } catch (error) {
      io.stderr(`winstate: could not write a report: ${(error as Error).message}\n`);
      return EXIT.runtimeError;
    }
  }
  return report.exitCode;
}

/** One line per host, then the totals and the exit code's meaning. */
export function renderFleet(report: FleetReport): string {
  const width = Math.max(4, ...report.hosts.map((h) => h.host.length));
  const lines = report.hosts.map((h) => {
    const counts = h.report ? countsText(h) : '';
    const extra = h.error ? `: ${printable(h.error)}` : counts ? `: ${counts}` : '';
    const accepted = (h.lockout ?? []).filter((f) => f.accepted).map((f) => `\n${' '.repeat(width + 4)}lockout risk accepted for ${printable(f.resource)}: ${printable(f.accepted!)} (${printable(f.message)})`).join('');
    return `  ${h.host.padEnd(width)}  ${h.status}${extra}${h.runId ? ` (run ${h.runId})` : ''}${accepted}`;
  });
  const totals = Object.entries(report.summary).filter(([k]) => k !== 'hosts').map(([k, v]) => `${v} ${k}`).join(', ');
  return `${lines.join('\n')}\n${report.summary.hosts} host(s): ${totals}; exit code ${report.exitCode} (the worst over the hosts)\n`;
}

function countsText(h: HostRun): string {
  const r = h.report!;
  const s = 'plan' in r ? r.summary : r.summary;
  if (!s) return '';
  return Object.entries(s).filter(([k, v]) => k !== 'total' && v).map(([k, v]) => `${v} ${k}`).join(', ');
}

/**
 * Reports per host: each format's file once per host (`<name>.<host><ext>`), a JUnit file with one
 * suite per host, and beside an HTML report an overview page linking every host's page.
 */
async function writeFleetReports(
  specs: import('../report/formats.js').ReportSpec[],
  report: FleetReport,
  plans: Map<string, import('../document/validate.js').Plan>,
  command: 'test' | 'set' | 'apply',
  startedAt: Date,
): Promise<string[]> {
  const { buildReportModel } = await import('../report/model.js');
  const { writeReports, outputFiles } = await import('../report/formats.js');
  const { xmlAttr, html } = await import('../report/escape.js');
  const written: string[] = [];
  const perHost = (file: string, host: string) => join(dirname(file), `${basename(file, extname(file))}.${host}${extname(file)}`);
  const models = report.hosts.filter((h) => h.report).map((h) => ({
    run: h,
    model: buildReportModel({
      command, plan: plans.get(h.host)!, result: h.report!, startedAt, finishedAt: new Date(), exitCode: h.exitCode,
      host: { hostname: h.host, user: h.identity?.user ?? null, os: h.identity?.platform ?? 'remote host' },
      ...(h.lockout ? { lockout: h.lockout } : {}),
    }),
  }));
  for (const spec of specs) {
    if (spec.format.name === 'junit') {
      const render = outputFiles(spec)[0]!.render;
      const suites = models.map(({ model }) => /<testsuite [\s\S]*<\/testsuite>/.exec(render(model))?.[0] ?? '');
      // Hosts without results are one failing suite each, with the reason.
      for (const h of report.hosts.filter((x) => !x.report)) {
        suites.push(`<testsuite name="${xmlAttr(`winstate.${h.host}`)}" hostname="${xmlAttr(h.host)}" tests="1" failures="0" errors="1" skipped="0"><testcase classname="${xmlAttr(h.host)}" name="${xmlAttr(`host ${h.status}`)}"><error message="${xmlAttr(h.error ?? h.status)}"/></testcase></testsuite>`);
      }
      const renamed = suites.map((s, i) => (i < models.length ? s.replace(/name="winstate\.([^"]*)"/, (_m, doc) => `name="winstate.${xmlAttr(models[i]!.run.host)}.${doc}"`) : s));
      writeFileAtomic(spec.file, `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="winstate fleet">\n${renamed.join('\n')}\n</testsuites>\n`);
      written.push(spec.file);
      continue;
    }
    for (const { run, model } of models) {
      const result = writeReports([{ format: spec.format, file: perHost(spec.file, run.host) }], model);
      written.push(...result.written);
      if (result.failed.length) throw new Error(result.failed.map((f) => `${f.file}: ${f.message}`).join('; '));
    }
    if (spec.format.name === 'html') {
      const rows = report.hosts.map((h) => {
        const link = h.report ? `<a href="${html(basename(perHost(spec.file, h.host)))}">${html(h.host)}</a>` : html(h.host);
        const accepted = (h.lockout ?? []).filter((f) => f.accepted).map((f) => `${f.resource}: ${f.accepted}`).join('; ');
        return `<tr><td>${link}</td><td>${html(h.status)}</td><td>${h.exitCode}</td><td>${html(h.error ?? (h.report ? countsText(h) : ''))}</td><td>${html(accepted)}</td></tr>`;
      });
      writeFileAtomic(spec.file, `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>winstate ${html(command)}: ${counted(report.summary.hosts, 'host')}</title></head><body>\n<h1>winstate ${html(command)} on ${counted(report.summary.hosts, 'host')}</h1>\n<p>exit code ${report.exitCode} (the worst over the hosts)</p>\n<table><thead><tr><th>host</th><th>status</th><th>exit</th><th>details</th><th>lockout risks accepted</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></body></html>\n`);
      written.push(spec.file);
    }
  }
  return written;
}

/** `winstate rollback <run-id|latest> --host <name> [--hosts inventory]`. */
export async function fleetRollbackCommand(args: FleetArgs, io: FleetIo, session: import('../bridge/session.js').PwshSession): Promise<number> {
  if (args.files.length !== 1) throw new FleetUsageError('rollback --host takes one run id, or latest');
  // Without an inventory, the host is reached as its recorded run reached it.
  const recorded = str(args.flags.get('--hosts')) === undefined ? await recordedHost(args) : undefined;
  const selected = recorded ? { hosts: [recorded], throttle: 1 } : selectHosts(args, io);
  if (!selected) return EXIT.invalidInput;
  if (selected.hosts.length !== 1) throw new FleetUsageError('rollback restores one host at a time: name it with --host');
  const host = selected.hosts[0]!;
  const json = args.flags.has('--json');
  const identity = asIdentity(args);
  const result = await rollbackHost(session, host, args.files[0]!, {
    stateDir: await stateDirOf(args), whatIf: args.flags.has('--what-if'), failFast: args.flags.has('--fail-fast'), ...(identity ? { asIdentity: identity } : {}),
  });
  const human = (text: string) => (json ? io.stderr(text) : io.stdout(text));
  human(`rollback of run ${result.of.id} (${printable(result.of.document.name)}) on host ${host.name} using ${result.documentFile}\n`);
  for (const item of result.unsupported) human(`  cannot restore ${printable(item)}\n`);
  human(renderFleet(result.report));
  if (json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  return result.report.exitCode;
}

/** The host of a recorded run (`rollback <id|latest> --host <name>` without --hosts), if there is one. */
async function recordedHost(args: FleetArgs): Promise<FleetHost | undefined> {
  const names = listOf(args, '--host');
  if (names.length !== 1) return undefined;
  const { findRun } = await import('../engine/state.js');
  const run = findRun(hostStateDir(await stateDirOf(args), names[0]!), args.files[0]!) as (ReturnType<typeof findRun> & { host?: Partial<FleetHost> }) | undefined;
  const h = run?.host;
  if (!h?.name || !h.address || !h.user || !h.port) return undefined;
  return { name: h.name, address: h.address, user: h.user, port: h.port, transport: h.transport ?? 'ssh', groups: [], waivers: [], ...(h.keyFile ? { keyFile: h.keyFile } : {}) };
}

/** `winstate runs --host <name>`: the runs recorded for that host. */
export function fleetRunsOf(stateDir: string, host: string) {
  return listRuns(hostStateDir(stateDir, host));
}
