import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compilePlan } from '../compile/emit.js';
import { formatDiagnostic, printable, type Diagnostic } from '../document/diagnostics.js';
import { validateFile, type Plan } from '../document/validate.js';
import { documentSchema } from '../document/schema.js';
import { Engine, WinstateRunError } from '../engine/engine.js';
import { EXIT, exitCodeOf } from '../engine/results.js';
import { defaultStateDir, listRuns, TargetLockedError } from '../engine/state.js';
import { loadCatalog } from '../catalog/catalog.js';
import { catalogEntryView, renderCatalogEntry } from '../catalog/view.js';
import { renderApply, renderRun, type TextOptions } from '../report/text.js';
import { buildReportModel, registryArea } from '../report/model.js';
import { parseReportSpecs, ReportSpecError, REPORT_FORMATS, writeReports, type ReportSpec } from '../report/formats.js';
import { writeFileAtomic } from '../fs.js';
import { VERSION } from '../version.js';
import { PwshNotFoundError } from '../bridge/locate.js';
import { importCommand } from '../catalog/stig/import.js';
import { baselineCommand } from '../catalog/baseline-document.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdout and stderr are terminals: colour, `→` and a live progress line. Absent: they are not. */
  isTTY?: { stdout?: boolean; stderr?: boolean };
  /** Where NO_COLOR is looked up; process.env when absent. */
  env?: Record<string, string | undefined>;
  /** Milliseconds between progress messages of a long run (default 1000 on a terminal, 15000 otherwise). */
  progressIntervalMs?: number;
}

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTTY: { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true },
  env: process.env,
};

export const USAGE = `winstate ${VERSION}: keep Windows security settings in a declared state

usage:
  winstate validate <file.yaml|dir>...            check documents; errors as file:line:col
  winstate compile <file.yaml|dir>... [--out dir] [--check]
                                                   write generated-ps/<name>.ps1 (--check: fail if they differ)
  winstate get|test|set|apply <file.yaml> [--snapshot file.reg] [--what-if] [--json]
                                 [--report <format>:<file>]...
                                                   run through one PowerShell process
  winstate catalog list [--json]                   every setting the catalog knows
  winstate catalog show <id|title|STIG id|CIS number> [--json]
                                                   one setting: mapping, choices, rationale, references
  winstate runs [--json]                           list past set/apply/rollback runs and what each changed
  winstate rollback <run-id|latest> [--what-if] [--json]
                                                   restore what a run changed, from its backup
  winstate schema [--out file]                     print the document JSON Schema
  winstate import stig <xccdf> [--scope MS|DC] [-o file.yaml]
                                                   a DISA STIG XCCDF as a document: one resource per registry
                                                   value; rules it cannot express listed at its top
  winstate baseline list [--json]                  the CIS and Microsoft baselines the catalog ships
  winstate baseline <id> --scope MS|DC [--level L1|L2|NG] [-o file.yaml]
                                                   a shipped baseline as a document of Policy resources

options:
  --snapshot <file.reg>  work on a regedit export instead of the live registry
  --what-if              describe changes, change nothing (set, apply)
  --json                 machine-readable result on stdout; human text goes to stderr
  --report <fmt>:<file>  also write a report (test, set, apply; repeatable); formats:
                         ${REPORT_FORMATS.map((f) => f.name).join(', ')}
  --fail-fast            stop at the first setting that fails (set, apply; default: the others still run)
  --state-dir <dir>      where runs and backups are kept (else $WINSTATE_STATE_DIR, %ProgramData%\\winstate
                         on Windows, ~/.local/state/winstate elsewhere)
  --pwsh <path>          PowerShell to use (else $WINSTATE_PWSH, .tools/, pwsh on PATH, powershell.exe)
  --timeout <ms>         per-request limit; a hung PowerShell is killed (default 120000)
  --scope MS|DC          import/baseline: only rules for member servers (MS) or domain controllers (DC)
  --level <level>        baseline: that profile level and the ones below it (CIS: L1, L2, NG)
  -o, --out <file>       where import/baseline write the document (atomically; else stdout)

exit codes: 0 in desired state / converged, 2 drift found or not converged (or --check found
differences), 3 invalid input, 1 runtime error (or target locked), 4 partial: some settings
changed while others failed or were skipped (see winstate runs / rollback)`;

interface Args {
  command: string;
  files: string[];
  flags: Map<string, string | true>;
  /** --report <format>:<file>, in order. */
  reports: ReportSpec[];
}

const VALUE_FLAGS = new Set(['--out', '-o', '--snapshot', '--pwsh', '--timeout', '--state-dir', '--scope', '--level']);
const BOOLEAN_FLAGS = new Set(['--check', '--what-if', '--json', '--help', '--version', '--fail-fast', '--verbose']);

class UsageError extends Error {}

function parseArgs(argv: string[]): Args {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  const reports: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--report') {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError('--report needs a value: <format>:<file>');
      reports.push(value);
    } else if (VALUE_FLAGS.has(arg)) {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      flags.set(arg === '-o' ? '--out' : arg, value);
    } else if (BOOLEAN_FLAGS.has(arg)) {
      flags.set(arg, true);
    } else if (arg.startsWith('--')) {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  let specs: ReportSpec[];
  try {
    specs = parseReportSpecs(reports);
  } catch (error) {
    if (error instanceof ReportSpecError) throw new UsageError(error.message);
    throw error;
  }
  const command = positional[0] ?? '';
  if (specs.length > 0 && !['test', 'set', 'apply'].includes(command)) throw new UsageError('--report goes with test, set or apply');
  if (flags.has('--scope') && command !== 'import' && command !== 'baseline') throw new UsageError('--scope goes with import or baseline');
  if (flags.has('--level') && command !== 'baseline') throw new UsageError('--level goes with baseline');
  return { command, files: positional.slice(1), flags, reports: specs };
}

/** The CLI as a plain function: arguments in, exit code out. */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    io.stderr(`winstate: ${(error as Error).message}\n\n${USAGE}\n`);
    return EXIT.invalidInput;
  }
  if (args.flags.has('--version')) {
    io.stdout(`${VERSION}\n`);
    return EXIT.ok;
  }
  if (args.flags.has('--help') || args.command === '' || args.command === 'help') {
    io.stdout(`${USAGE}\n`);
    return args.command === '' && !args.flags.has('--help') ? EXIT.invalidInput : EXIT.ok;
  }
  try {
    switch (args.command) {
      case 'validate':
        return validateCommand(args, io);
      case 'compile':
        return compileCommand(args, io);
      case 'schema':
        return schemaCommand(args, io);
      case 'get':
      case 'test':
      case 'set':
      case 'apply':
        return await runCommand(args, io);
      case 'runs':
        return runsCommand(args, io);
      case 'catalog':
        return catalogCommand(args, io);
      case 'rollback':
        return await rollbackCommand(args, io);
      case 'import':
        return importCommand({ files: args.files, out: args.flags.get('--out') as string | undefined, scope: args.flags.get('--scope') as string | undefined }, io);
      case 'baseline':
        return baselineCommand(
          { files: args.files, out: args.flags.get('--out') as string | undefined, scope: args.flags.get('--scope') as string | undefined, level: args.flags.get('--level') as string | undefined, json: args.flags.has('--json') },
          io,
        );
      default:
        io.stderr(`winstate: unknown command '${args.command}'\n\n${USAGE}\n`);
        return EXIT.invalidInput;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`winstate: ${error.message}\n`);
      return EXIT.invalidInput;
    }
    io.stderr(`winstate: ${(error as Error).message}\n`);
    return EXIT.runtimeError;
  }
}

/** Expands directories to the YAML documents in them, in a stable order. */
function documentFiles(paths: string[]): string[] {
  if (paths.length === 0) throw new UsageError('name at least one document or directory');
  return paths.flatMap((p) =>
    existsSync(p) && statSync(p).isDirectory()
      ? readdirSync(p).filter((f) => /\.ya?ml$/i.test(f)).sort().map((f) => join(p, f))
      : [p],
  );
}

function loadPlans(files: string[], io: CliIo): { plans: Plan[]; diagnostics: Diagnostic[] } {
  const plans: Plan[] = [];
  const diagnostics: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  for (const file of files) {
    const result = validateFile(file);
    diagnostics.push(...result.diagnostics);
    warnings.push(...(result.warnings ?? []));
    if (result.plan) plans.push(result.plan);
  }
  // Warnings (an expired waiver) are shown but change nothing: only errors stop a run.
  for (const d of [...diagnostics, ...warnings]) io.stderr(`${formatDiagnostic(d)}\n`);
  return { plans, diagnostics };
}

function validateCommand(args: Args, io: CliIo): number {
  const files = documentFiles(args.files);
  const { plans, diagnostics } = loadPlans(files, io);
  if (args.flags.has('--json')) io.stdout(`${JSON.stringify({ valid: diagnostics.length === 0, diagnostics }, null, 2)}\n`);
  if (diagnostics.length > 0) return EXIT.invalidInput;
  for (const plan of plans) io.stderr(`${plan.file}: valid, ${plan.resources.length} resources\n`);
  return EXIT.ok;
}

function compileCommand(args: Args, io: CliIo): number {
  const files = documentFiles(args.files);
  const { plans, diagnostics } = loadPlans(files, io);
  if (diagnostics.length > 0) return EXIT.invalidInput;
  const out = String(args.flags.get('--out') ?? 'generated-ps');
  const check = args.flags.has('--check');
  const names = new Map<string, string>();
  let differences = 0;
  for (const plan of plans) {
    const script = compilePlan(plan);
    const earlier = names.get(script.fileName);
    if (earlier) {
      io.stderr(`${plan.file}: metadata.name '${plan.name}' is also used by ${earlier}; each document needs its own script name\n`);
      return EXIT.invalidInput;
    }
    names.set(script.fileName, plan.file);
    const target = join(out, script.fileName);
    if (check) {
      const current = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
      if (current !== script.text) {
        differences++;
        io.stderr(`${target}: ${current === undefined ? 'missing' : 'differs from what the compiler emits'} (source ${plan.file})\n`);
      }
    } else {
      writeFileAtomic(target, script.text);
      io.stderr(`${plan.file} -> ${target}\n`);
    }
  }
  if (check) {
    // A script whose document is gone is stale too.
    for (const f of existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.ps1')) : []) {
      if (!names.has(f)) {
        differences++;
        io.stderr(`${join(out, f)}: no document compiles to it any more\n`);
      }
    }
    if (differences > 0) {
      io.stderr(`${differences} generated script(s) out of date: run npm run compile\n`);
      return EXIT.drift;
    }
    io.stderr(`${names.size} generated script(s) up to date\n`);
  }
  return EXIT.ok;
}

function schemaCommand(args: Args, io: CliIo): number {
  const text = `${JSON.stringify(documentSchema(), null, 2)}\n`;
  const out = args.flags.get('--out');
  if (typeof out !== 'string') {
    io.stdout(text);
    return EXIT.ok;
  }
  if (args.flags.has('--check')) {
    if (!existsSync(out) || readFileSync(out, 'utf8') !== text) {
      io.stderr(`${out}: differs from the schema the resource kinds define: run npm run compile\n`);
      return EXIT.drift;
    }
    return EXIT.ok;
  }
  writeFileAtomic(out, text);
  return EXIT.ok;
}

async function runCommand(args: Args, io: CliIo): Promise<number> {
  if (args.files.length !== 1) throw new UsageError(`${args.command} takes exactly one document`);
  const json = args.flags.has('--json');
  const whatIf = args.flags.has('--what-if');
  if (whatIf && (args.command === 'get' || args.command === 'test')) throw new UsageError('--what-if goes with set or apply');
  const { plans, diagnostics } = loadPlans(args.files, io);
  if (diagnostics.length > 0 || plans.length === 0) return EXIT.invalidInput;
  const plan = plans[0]!;
  const timeout = args.flags.get('--timeout');
  const timeoutMs = typeof timeout === 'string' ? Number(timeout) : undefined;
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) throw new UsageError('--timeout takes a positive number of milliseconds');
  const snapshot = args.flags.get('--snapshot') as string | undefined;
  if (snapshot !== undefined && !existsSync(snapshot)) {
    io.stderr(`winstate: snapshot ${snapshot} does not exist\n`);
    return EXIT.invalidInput;
  }
  if (snapshot !== undefined && statSync(snapshot).isDirectory()) {
    io.stderr(`winstate: snapshot ${snapshot} is a directory, not a registry export (.reg) file\n`);
    return EXIT.invalidInput;
  }
  const engine = startEngine(args, io, timeoutMs);
  if (!engine) return EXIT.runtimeError;
  const failFast = args.flags.has('--fail-fast');
  const human = (text: string) => (json ? io.stderr(`${text}\n`) : io.stdout(`${text}\n`));
  const text = textOptions(io, json ? 'stderr' : 'stdout', plan);
  const startedAt = new Date();
  const progress = startProgress(io, `${args.command} ${plan.name}`);
  try {
    io.stderr(`winstate: ${args.command} ${plan.name} (${plan.resources.length} resources) on ${snapshot ?? 'the live registry'}\n`);
    if (args.command === 'apply') {
      const report = await engine.apply(plan, { snapshot, whatIf, failFast });
      progress.stop();
      human(renderApply(report, text));
      if (json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
      return writeRequestedReports(args.reports, 'apply', plan, report, startedAt, exitCodeOf(report), io);
    }
    const options = { snapshot, whatIf, failFast };
    // set goes through the engine's set: target lock, backup before the first change, run record.
    const report = args.command === 'set' ? await engine.set(plan, options) : await engine.run(plan, args.command === 'get' ? 'Get' : 'Test', options);
    progress.stop();
    human(renderRun(report, text));
    if (json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    if (args.command === 'get') return exitCodeOf(report);
    return writeRequestedReports(args.reports, args.command as 'test' | 'set', plan, report, startedAt, exitCodeOf(report), io);
  } catch (error) {
    progress.stop();
    if (error instanceof WinstateRunError || error instanceof TargetLockedError) {
      io.stderr(`winstate: ${error.message}\n${verboseDetail(args, error)}${args.reports.length ? 'winstate: no report written: the run produced no results\n' : ''}`);
      return EXIT.runtimeError;
    }
    throw error;
  } finally {
    progress.stop();
    await engine.close();
  }
}

/** An engine for this invocation, or undefined after saying how to install PowerShell. */
function startEngine(args: Args, io: CliIo, timeoutMs?: number): Engine | undefined {
  try {
    const engine = new Engine({ pwshPath: args.flags.get('--pwsh') as string | undefined, timeoutMs, stateDir: args.flags.get('--state-dir') as string | undefined });
    void engine.session;
    return engine;
  } catch (error) {
    if (error instanceof PwshNotFoundError) {
      io.stderr(`winstate: ${error.message}\n`);
      return undefined;
    }
    throw error;
  }
}

function stateDirOf(args: Args): string {
  const dir = args.flags.get('--state-dir');
  return typeof dir === 'string' ? dir : defaultStateDir();
}

/** `winstate catalog list|show`. */
function catalogCommand(args: Args, io: CliIo): number {
  const [verb, ...rest] = args.files;
  const catalog = loadCatalog();
  const json = args.flags.has('--json');
  if (verb === 'list' && rest.length === 0) {
    if (json) io.stdout(`${JSON.stringify(catalog.entries.map((e) => catalogEntryView(e, catalog)), null, 2)}\n`);
    else for (const e of catalog.entries) io.stdout(`${e.id.padEnd(40)} ${e.severity.padEnd(6)} ${e.title}\n`);
    return EXIT.ok;
  }
  if (verb === 'show' && rest.length === 1) {
    const found = catalog.findAll(rest[0]!);
    const entry = found[0];
    if (!entry) {
      const hints = catalog.suggest(rest[0]!);
      io.stderr(`winstate: no catalog entry '${printable(rest[0]!)}'${hints.length ? `; did you mean ${hints.map((h) => `"${h}"`).join(' or ')}?` : ''}\n`);
      return EXIT.invalidInput;
    }
    // A STIG rule or CIS recommendation that sets several values shows every entry (JSON: an array then).
    if (json) io.stdout(`${JSON.stringify(found.length === 1 ? catalogEntryView(entry, catalog) : found.map((e) => catalogEntryView(e, catalog)), null, 2)}\n`);
    else io.stdout(`${found.map((e) => renderCatalogEntry(e, catalog)).join('\n\n')}\n`);
    return EXIT.ok;
  }
  throw new UsageError('usage: winstate catalog list [--json] | winstate catalog show <id|title|STIG id|CIS number> [--json]');
}

/** PowerShell's position of a failure, shown only with --verbose. */
function verboseDetail(args: Args, error: Error): string {
  return args.flags.has('--verbose') && error instanceof WinstateRunError && error.detail ? `${error.detail}\n` : '';
}

/** `winstate runs`: past changing runs, oldest first. */
function runsCommand(args: Args, io: CliIo): number {
  if (args.files.length > 0) throw new UsageError('runs takes no arguments');
  const runs = listRuns(stateDirOf(args));
  if (args.flags.has('--json')) {
    io.stdout(`${JSON.stringify(runs, null, 2)}\n`);
    return EXIT.ok;
  }
  if (runs.length === 0) io.stdout(`no runs recorded in ${stateDirOf(args)}\n`);
  for (const run of runs) {
    const target = run.snapshot ?? 'live registry';
    const what = run.rollbackOf ? ` (rollback of ${run.rollbackOf})` : '';
    io.stdout(`${run.id}  ${run.command.padEnd(8)} ${run.status.padEnd(13)} ${printable(run.document.name)} on ${printable(target)}${what}\n`);
    for (const change of run.changes) io.stdout(`    changed ${printable(change.name)}: ${printable(change.target)}\n`);
    for (const name of run.appliedBeforeInterruption ?? []) io.stdout(`    applied before interruption: ${printable(name)}\n`);
    for (const failure of run.failures) io.stdout(`    failed ${printable(failure.name)}: ${printable(failure.error)}\n`);
  }
  return EXIT.ok;
}

/** `winstate rollback <run-id|latest>`: applies the generated rollback document to the run's target. */
async function rollbackCommand(args: Args, io: CliIo): Promise<number> {
  if (args.files.length !== 1) throw new UsageError('rollback takes one run id, or latest');
  const engine = startEngine(args, io);
  if (!engine) return EXIT.runtimeError;
  const json = args.flags.has('--json');
  try {
    const result = await engine.rollback(args.files[0]!, { whatIf: args.flags.has('--what-if'), failFast: args.flags.has('--fail-fast') });
    const human = (text: string) => (json ? io.stderr(`${text}\n`) : io.stdout(`${text}\n`));
    human(`rollback of run ${result.of.id} (${result.of.document.name}) using ${result.documentFile}`);
    for (const item of result.unsupported) human(`  cannot restore ${printable(item)}`);
    human(renderApply(result.report, textOptions(io, json ? 'stderr' : 'stdout', undefined)));
    if (json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return result.unsupported.length > 0 && exitCodeOf(result.report) === EXIT.ok ? EXIT.partial : exitCodeOf(result.report);
  } catch (error) {
    if (error instanceof WinstateRunError || error instanceof TargetLockedError) {
      io.stderr(`winstate: ${error.message}\n${verboseDetail(args, error)}`);
      return EXIT.runtimeError;
    }
    throw error;
  } finally {
    await engine.close();
  }
}

/** NO_COLOR (https://no-color.org): set and not empty turns colour off. */
function noColor(io: CliIo): boolean {
  const value = (io.env ?? process.env).NO_COLOR;
  return value !== undefined && value !== '';
}

/** Colour and the Unicode arrow only on a terminal; colour never under NO_COLOR. Settings grouped by area. */
function textOptions(io: CliIo, stream: 'stdout' | 'stderr', plan: Plan | undefined): TextOptions {
  const tty = io.isTTY?.[stream] === true;
  const areas = new Map((plan?.resources ?? []).map((r) => [r.name, r.entry?.area ?? registryArea(r, '')]));
  return { color: tty && !noColor(io), unicode: tty, areaOf: (name) => areas.get(name) };
}

/**
 * Progress of a long run on stderr: on a terminal one line rewritten in place, elsewhere a line
 * every interval. Nothing at all for runs shorter than one interval.
 */
function startProgress(io: CliIo, label: string): { stop(): void } {
  const tty = io.isTTY?.stderr === true;
  const interval = io.progressIntervalMs ?? (tty ? 1000 : 15000);
  const started = Date.now();
  const spinner = ['|', '/', '-', '\\'];
  let ticks = 0;
  let stopped = false;
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const timer = setInterval(() => {
    ticks++;
    if (tty) io.stderr(`\r\x1b[2Kwinstate: ${label} ${spinner[ticks % spinner.length]} ${elapsed()}`);
    else io.stderr(`winstate: ${label}: still running, ${elapsed()} elapsed\n`);
  }, interval);
  timer.unref();
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (ticks === 0) return;
      io.stderr(tty ? `\r\x1b[2Kwinstate: ${label} finished in ${elapsed()}\n` : `winstate: ${label}: finished in ${elapsed()}\n`);
    },
  };
}

/** Writes each --report file (atomically); a report that cannot be written is a runtime error. */
function writeRequestedReports(
  specs: ReportSpec[],
  command: 'test' | 'set' | 'apply',
  plan: Plan,
  result: Parameters<typeof buildReportModel>[0]['result'],
  startedAt: Date,
  exitCode: number,
  io: CliIo,
): number {
  if (specs.length === 0) return exitCode;
  const model = buildReportModel({ command, plan, result, startedAt, finishedAt: new Date(), exitCode });
  try {
    for (const file of writeReports(specs, model)) io.stderr(`winstate: wrote ${file}\n`);
  } catch (error) {
    io.stderr(`winstate: could not write a report: ${(error as Error).message}\n`);
    return EXIT.runtimeError;
  }
  return exitCode;
}
