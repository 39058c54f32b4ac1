import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs as parseNodeArgs } from 'node:util';
import { printable, type Diagnostic } from '../document/diagnostics.js';
import type { Plan } from '../document/validate.js';
import type { Engine, RollbackOptions } from '../engine/engine.js';
import type { PwshSession } from '../bridge/session.js';
import { EXIT, exitCodeOf } from '../engine/results.js';
import type { TextOptions } from '../report/text.js';
import type { ReportContext, ReportSpec } from '../report/formats.js';
import { VERSION } from '../version.js';
import { closestWord } from '../suggest.js';
import { counted } from '../plural.js';

// Every command loads what it needs when it runs (dynamic import), so `winstate validate` never
// pays for PowerShell, reports or the catalog it does not use.

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdout and stderr are terminals: colour, `→` and a live progress line. Absent: they are not. */
  isTTY?: { stdout?: boolean; stderr?: boolean };
  /** Where NO_COLOR is looked up; process.env when absent. */
  env?: Record<string, string | undefined>;
  /** Milliseconds between progress messages of a long run (default 1000 on a terminal, 15000 otherwise). */
  progressIntervalMs?: number;
  /** A PowerShell session to run in, owned and closed by the caller (a library host or a test); otherwise each command starts its own. */
  session?: PwshSession;
  /** Where `dsc` reads its instance; the process's stdin when absent. */
  stdin?: () => Promise<string>;
}

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTTY: { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true },
  env: process.env,
};

/** The usage text; the report formats come from their own module, loaded only for help. */
export async function usage(): Promise<string> {
  const { REPORT_FORMATS } = await import('../report/formats.js');
  return `winstate ${VERSION}: keep Windows security settings in a declared state

usage:
  winstate validate <file.yaml|dir>... [--json]   check documents; errors as file:line:col
  winstate compile <file.yaml|dir>... [--out dir] [--check]
                                                   write generated-ps/<name>.ps1 (--check: fail if they differ)
  winstate get|test|set|apply <file.yaml> [--snapshot <file>]... [--what-if] [--json]
                                 [--only <name>]... [--skip <name>]... [--wait <seconds>]
                                 [--report <format>:<file>]... [--benchmark <xccdf>]
                                                   run through one PowerShell process
  winstate catalog list [--json]                   every setting the catalog knows: id, kind, severity,
                                                   STIG id, CIS numbers, title in aligned columns; then
                                                   each shipped policy file (kind AppLockerPolicy)
  winstate catalog show <id|title|STIG id|CIS number> [--json]
                                                   one setting: registry mapping or storage, choices,
                                                   rationale, references; a policy file: its rules
  winstate catalog search <words>... [--json]      entries whose id, title, GPO path, registry path, STIG
                                                   ids or CIS numbers contain every word (a policy
                                                   file: also its rule ids and names)
  winstate runs [--limit n] [--target file.reg|live] [--json]
                                                   list past set/apply/rollback runs, a line each with counts
  winstate runs <run-id|latest> [--json]           one run in full: each change and each failure
  winstate rollback <run-id|latest> | --backup <backup.json> [--snapshot <file>]... [--what-if] [--json]
                                                   restore what a run changed, from its backup
  winstate schema [--out file] [--check]           print the document JSON Schema
  winstate get|test|set|apply <file.yaml> --hosts <inventory.yaml> [--host name]... [--throttle n] [--as identity.json]
  winstate get|test|set|apply <file.yaml> --host [user@]address[:port]... [--key-file <path>]
                                                   run on many hosts through PowerShell remoting over SSH
                                                   (exit code: the worst over the hosts)
  winstate rollback <run-id|latest> --host <name> [--hosts <inventory.yaml>]
                                                   restore one host from the backup its run recorded
  winstate runs [<run-id|latest>] --host <name>    the runs recorded for one host, or one of them in full
  winstate dsc get|test|set [--what-if]            DSC v3 resource Winstate/Document: JSON on stdin and stdout
  winstate import stig <xccdf> [--scope MS|DC] [-o file.yaml]
                                                   a DISA STIG XCCDF as a document: one resource per registry
                                                   value, user right, account, security or audit policy;
                                                   rules it cannot express listed at its top
  winstate baseline list [--json]                  the CIS and Microsoft baselines the catalog ships
  winstate baseline <id>[@version] --scope MS|DC [--level L1|L2|NG] [-o file.yaml]
                                                   a shipped baseline as a document of Policy resources
                                                   (and of its policy files: AppLockerPolicy resources
                                                   naming catalog:<file>, found wherever the document is)

options (each command takes only its own; --name=value works as --name value):
  --snapshot <file>      work on exported files instead of the live machine, one per kind, told by
                         content: a regedit export (.reg), a secedit export or security template
                         (.inf), an auditpol backup (.csv); repeat it for several (rollback: must
                         name the run's own files, or leave it out)
  --only <name>          run only this resource: its name, catalog id, STIG id (V-, WN16-) or CIS
                         number (repeatable; get, test, set, apply)
  --skip <name>          leave this resource out, named the same ways (repeatable)
  --wait <seconds>       set, apply, rollback: wait up to this long for a target another run holds
                         (parallel CI jobs) instead of failing at once
  --what-if              describe changes, change nothing (set, apply, rollback)
  --json                 machine-readable result on stdout; human text goes to stderr
  --report <fmt>:<file>  also write a report (test, set, apply; repeatable); formats:
                         ${REPORT_FORMATS.map((f) => f.name).join(', ')}
  --benchmark <xccdf>    the STIG benchmark a ckl/xccdf report follows: its own ids and texts, every rule
                         of the scope (rules the document does not manage are Not_Reviewed, with why)
  --limit <n>            runs: only the newest n
  --target <file|live>   runs: only the runs on that snapshot file, or on the live machine
  --backup <file>        rollback: restore from a backup a generated script wrote (-BackupPath)
  --fail-fast            stop at the first setting that fails (set, apply, rollback; default: the others still run)
  --state-dir <dir>      where runs and backups are kept (else $WINSTATE_STATE_DIR, %ProgramData%\\winstate
                         on Windows, ~/.local/state/winstate elsewhere)
  --pwsh <path>          PowerShell to use (else $WINSTATE_PWSH, .tools/, pwsh on PATH, powershell.exe)
  --verbose              with a failure, also PowerShell's own position of it (get, test, set, apply, rollback)
  --timeout <ms>         per-request limit, 1 to ${MAX_TIMEOUT_MS}; a hung PowerShell is killed (default 120000)
  --scope MS|DC          import/baseline: only rules for member servers (MS) or domain controllers (DC)
  --level <level>        baseline: that profile level and the ones below it (CIS: L1, L2, NG)
  -o, --out <file>       where import/baseline write the document (atomically; else stdout)
  --hosts <inventory>    run on the inventory's hosts (YAML: hosts with name, address, user, port, keyFile,
                         groups with their own document or waivers, throttle); see README "Many machines"
  --host <name|address>  with --hosts: only that host (repeatable); alone: [user@]address[:port] to run on
  --key-file <path>      the SSH private key for the --host [user@]address[:port] hosts (without --hosts)
  --throttle <n>         at most n hosts at once (default: the inventory's throttle, else 10)
  --as <identity.json>   the lockout guard checks this identity (user, sid, groups) instead of asking each host
  -h, --help             this text;  --version  the version

exit codes: 0 in desired state / converged, 2 drift found or not converged (or --check found
differences), 3 invalid input, 1 runtime error (or target locked), 4 partial: some settings
changed while others failed or were skipped (see winstate runs / rollback)`;
}

/** Node's timers hold at most 2^31-1 ms; a longer delay fires at once. */
export const MAX_TIMEOUT_MS = 2_147_483_647;

interface Args {
  command: string;
  files: string[];
  flags: Map<string, string | true>;
  /** --report values, in order (parsed when the command runs). */
  reports: string[];
  /** Values of the other repeatable options (--snapshot, --only, --skip), in order. */
  lists: Map<string, string[]>;
}

type OptionKind = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };
const OPTIONS = {
  json: { type: 'boolean' },
  check: { type: 'boolean' },
  out: { type: 'string', short: 'o' },
  snapshot: { type: 'string', multiple: true },
  wait: { type: 'string' },
  only: { type: 'string', multiple: true },
  skip: { type: 'string', multiple: true },
  'what-if': { type: 'boolean' },
  report: { type: 'string', multiple: true },
  'fail-fast': { type: 'boolean' },
  backup: { type: 'string' },
  limit: { type: 'string' },
  target: { type: 'string' },
  'state-dir': { type: 'string' },
  pwsh: { type: 'string' },
  timeout: { type: 'string' },
  scope: { type: 'string' },
  level: { type: 'string' },
  verbose: { type: 'boolean' },
  benchmark: { type: 'string' },
  // Fleet (src/fleet): many hosts through PowerShell remoting; the DSC v3 resource (src/dsc).
  hosts: { type: 'string' },
  host: { type: 'string', multiple: true },
  throttle: { type: 'string' },
  as: { type: 'string' },
  'key-file': { type: 'string' },
} satisfies Record<string, OptionKind>;
type OptionName = keyof typeof OPTIONS;

const FLEET_OPTIONS: OptionName[] = ['hosts', 'host', 'throttle', 'as', 'key-file'];
const RUN_OPTIONS: OptionName[] = ['snapshot', 'json', 'pwsh', 'timeout', 'verbose', 'only', 'skip', ...FLEET_OPTIONS];
const CHANGE_OPTIONS: OptionName[] = [...RUN_OPTIONS, 'what-if', 'report', 'benchmark', 'fail-fast', 'state-dir', 'wait'];

/** Every command and the options it takes: the one place both parsing and the errors read. */
const COMMANDS: Record<string, OptionName[]> = {
  validate: ['json'],
  compile: ['out', 'check'],
  schema: ['out', 'check'],
  get: RUN_OPTIONS,
  test: [...RUN_OPTIONS, 'report', 'benchmark'],
  set: CHANGE_OPTIONS,
  apply: CHANGE_OPTIONS,
  runs: ['json', 'state-dir', 'limit', 'target', 'host'],
  rollback: ['snapshot', 'backup', 'what-if', 'json', 'fail-fast', 'state-dir', 'pwsh', 'timeout', 'verbose', 'wait', ...FLEET_OPTIONS],
  dsc: ['pwsh', 'timeout', 'state-dir', 'what-if'],
  catalog: ['json'],
  import: ['scope', 'out'],
  baseline: ['scope', 'level', 'out', 'json'],
  help: [],
};

class UsageError extends Error {}

function optionText(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

/** Strict parsing with node:util's parseArgs, with messages that name the command and suggest a fix. */
function parseArgs(argv: string[]): Args | { help: true } | { version: true } {
  if (argv.includes('--help') || argv.includes('-h')) return { help: true };
  if (argv.includes('--version')) return { version: true };
  const commandAt = argv.findIndex((a) => !a.startsWith('-'));
  if (commandAt < 0) throw new UsageError(argv.length ? `name a command before ${argv[0]}` : 'name a command');
  const command = argv[commandAt]!;
  const allowed = COMMANDS[command];
  if (!allowed) {
    const hint = closestWord(command, Object.keys(COMMANDS));
    throw new UsageError(`unknown command '${printable(command)}'${hint ? `; did you mean '${hint}'?` : ''}`);
  }
  // `-o=file` as `--out=file`: Node would take '=file' as the value (and write into a folder named '=').
  const rest = [...argv.slice(0, commandAt), ...argv.slice(commandAt + 1)].flatMap((a) => (/^-[A-Za-z]=/.test(a) ? [a.slice(0, 2), a.slice(3)] : [a]));
  const options = Object.fromEntries(allowed.map((name) => [name, OPTIONS[name]]));
  let parsed: ReturnType<typeof parseNodeArgs>;
  try {
    parsed = parseNodeArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(explainParseError(command, error as Error & { code?: string }, allowed));
  }
  const flags = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  let reports: string[] = [];
  for (const [name, value] of Object.entries(parsed.values)) {
    if (name === 'report') reports = value as string[];
    else if (Array.isArray(value)) lists.set(`--${name}`, value as string[]);
    else flags.set(`--${name}`, value as string | true);
  }
  return { command, files: parsed.positionals, flags, reports, lists };
}

function explainParseError(command: string, error: Error & { code?: string }, allowed: OptionName[]): string {
  const option = /'(-{1,2}[^'\s]+)/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) {
    const bare = option.replace(/^-+/, '').replace(/=.*$/, '');
    if (bare in OPTIONS) {
      const takers = Object.entries(COMMANDS).filter(([, names]) => names.includes(bare as OptionName)).map(([c]) => c);
      return `${command} does not take ${optionText(bare)} (it goes with ${takers.join(', ')})`;
    }
    const hint = closestWord(bare, allowed);
    return `${command} does not take ${option}${hint ? `; did you mean --${hint}?` : allowed.length ? ` (it takes ${allowed.map((o) => `--${o}`).join(', ')})` : ' (it takes no options)'}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    // Node names an option with a short form as '-o, --out <value>': the message names the long one.
    const bare = option.replace(/^-+/, '').replace(/,$/, '');
    const name = bare.length === 1 ? Object.entries(OPTIONS).find(([, o]) => (o as OptionKind).short === bare)?.[0] ?? bare : bare;
    return OPTIONS[name as OptionName]?.type === 'boolean' ? `--${name} takes no value` : `--${name} needs a value`;
  }
  return error.message;
}

/** The CLI as a plain function: arguments in, exit code out. */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let args: Args;
  try {
    const parsed = parseArgs(argv);
    if ('version' in parsed) {
      io.stdout(`${VERSION}\n`);
      return EXIT.ok;
    }
    if ('help' in parsed) {
      io.stdout(`${await usage()}\n`);
      return EXIT.ok;
    }
    args = parsed;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`winstate: ${error.message}\nRun winstate --help for the commands and their options.\n`);
    return EXIT.invalidInput;
  }
  if (args.command === 'help') {
    io.stdout(`${await usage()}\n`);
    return EXIT.ok;
  }
  try {
    // Fleet and DSC v3 (src/fleet, src/dsc): --hosts/--host runs on many machines through remoting.
    const fleet = args.flags.has('--hosts') || args.lists.has('--host') || args.flags.has('--key-file');
    const fleetExit = fleet || args.command === 'dsc' || args.flags.has('--as') ? await (await import('../fleet/cli-entry.js')).fleetEntry(args, io, fleet) : undefined;
    if (fleetExit !== undefined) return fleetExit;
    switch (args.command) {
      case 'validate':
        return await validateCommand(args, io);
      case 'compile':
        return await compileCommand(args, io);
      case 'schema':
        return await schemaCommand(args, io);
      case 'get':
      case 'test':
      case 'set':
      case 'apply':
        return await runCommand(args, io);
      case 'runs':
        return await runsCommand(args, io);
      case 'catalog':
        return await catalogCommand(args, io);
      case 'rollback':
        return await rollbackCommand(args, io);
      case 'import': {
        const { importCommand } = await import('../catalog/stig/import.js');
        return importCommand({ files: args.files, out: args.flags.get('--out') as string | undefined, scope: args.flags.get('--scope') as string | undefined }, io);
      }
      case 'baseline': {
        const { baselineCommand } = await import('../catalog/baseline-document.js');
        return baselineCommand(
          { files: args.files, out: args.flags.get('--out') as string | undefined, scope: args.flags.get('--scope') as string | undefined, level: args.flags.get('--level') as string | undefined, json: args.flags.has('--json') },
          io,
        );
      }
      default:
        throw new Error(`command ${args.command} has no handler`);
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

/** --timeout in milliseconds, bounded by what Node's timers can hold. */
function timeoutOf(args: Args): number | undefined {
  const text = args.flags.get('--timeout');
  if (typeof text !== 'string') return undefined;
  const ms = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(Number.isSafeInteger(ms) && ms >= 1 && ms <= MAX_TIMEOUT_MS)) {
    throw new UsageError(`--timeout takes whole milliseconds from 1 to ${MAX_TIMEOUT_MS} (about 24.8 days), not '${printable(text)}'`);
  }
  return ms;
}

/** --wait in seconds (how long a locked target is waited for), as milliseconds. */
function waitOf(args: Args): number | undefined {
  const text = args.flags.get('--wait');
  if (typeof text !== 'string') return undefined;
  const seconds = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(Number.isSafeInteger(seconds) && seconds >= 0 && seconds <= 86_400)) {
    throw new UsageError(`--wait takes whole seconds from 0 to 86400 (a day), not '${printable(text)}'`);
  }
  return seconds * 1000;
}

/** The --snapshot files sorted into their stores by content; a wrong file is invalid input. */
async function snapshotsOfArgs(args: Args): Promise<import('../engine/snapshots.js').Snapshots> {
  const { classifySnapshots, SnapshotError } = await import('../engine/snapshots.js');
  try {
    return classifySnapshots(args.lists.get('--snapshot') ?? []);
  } catch (error) {
    if (error instanceof SnapshotError) throw new UsageError(error.message);
    throw error;
  }
}

/** Offline, every store the plan's kinds use needs its file: invalid input, before PowerShell starts. */
async function checkSnapshotsCover(plan: Plan, snapshots: import('../engine/snapshots.js').Snapshots): Promise<void> {
  const { missingStoreProblem } = await import('../engine/snapshots.js');
  const { unitOf } = await import('../kinds/index.js');
  const kinds = [...new Set(plan.resources.map((r) => r.kind))];
  const problem = missingStoreProblem(kinds, snapshots, (kind) => unitOf(kind).store);
  if (problem) throw new UsageError(problem);
}

/** The plan limited by --only and --skip. */
async function selectedPlan(args: Args, plan: Plan): Promise<Plan> {
  const only = args.lists.get('--only') ?? [];
  const skip = args.lists.get('--skip') ?? [];
  if (only.length === 0 && skip.length === 0) return plan;
  const { selectResources, SelectionError } = await import('../document/select.js');
  try {
    return selectResources(plan, only, skip);
  } catch (error) {
    if (error instanceof SelectionError) throw new UsageError(error.message);
    throw error;
  }
}

/** Expands directories to the YAML documents in them, in a stable order. */
function documentFiles(paths: string[]): string[] {
  if (paths.length === 0) throw new UsageError('name at least one document or directory');
  return paths.flatMap((p) => {
    if (!existsSync(p) || !statSync(p).isDirectory()) return [p];
    const found = readdirSync(p).filter((f) => /\.ya?ml$/i.test(f)).sort().map((f) => join(p, f));
    // A mistyped or emptied folder would otherwise "validate" in CI with nothing checked.
    if (found.length === 0) throw new UsageError(`${printable(p)}: the folder holds no documents (.yaml or .yml files)`);
    return found;
  });
}

async function loadPlans(files: string[], io: CliIo): Promise<{ plans: Plan[]; diagnostics: Diagnostic[] }> {
  const { validateFile } = await import('../document/validate.js');
  const { formatDiagnostic } = await import('../document/diagnostics.js');
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

async function validateCommand(args: Args, io: CliIo): Promise<number> {
  const files = documentFiles(args.files);
  const { plans, diagnostics } = await loadPlans(files, io);
  if (args.flags.has('--json')) io.stdout(`${JSON.stringify({ valid: diagnostics.length === 0, diagnostics }, null, 2)}\n`);
  if (diagnostics.length > 0) return EXIT.invalidInput;
  for (const plan of plans) io.stderr(`${plan.file}: valid, ${counted(plan.resources.length, 'resource')}\n`);
  return EXIT.ok;
}

/** A word to paste into a shell: bare when safe, else single-quoted (a quote inside doubled, as PowerShell reads it). */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:\\=+-]+$/.test(word) ? word : `'${word.replace(/'/g, "''")}'`;
}

async function compileCommand(args: Args, io: CliIo): Promise<number> {
  const files = documentFiles(args.files);
  const { plans, diagnostics } = await loadPlans(files, io);
  if (diagnostics.length > 0) return EXIT.invalidInput;
  const { compilePlan } = await import('../compile/emit.js');
  const { writeFileAtomic } = await import('../fs.js');
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
      // The command that rewrites them, as this user typed the check (quoted only where a shell needs it).
      const again = ['winstate', 'compile', ...args.files, '--out', out].map(shellWord).join(' ');
      io.stderr(`${differences} generated script(s) out of date: run ${again}\n`);
      return EXIT.drift;
    }
    io.stderr(`${names.size} generated script(s) up to date\n`);
  }
  return EXIT.ok;
}

async function schemaCommand(args: Args, io: CliIo): Promise<number> {
  if (args.files.length > 0) throw new UsageError('schema takes no arguments');
  const { documentSchema } = await import('../document/schema.js');
  const { writeFileAtomic } = await import('../fs.js');
  const text = `${JSON.stringify(documentSchema(), null, 2)}\n`;
  const out = args.flags.get('--out');
  // Printing the schema under --check would pass a CI step that checked nothing.
  if (typeof out !== 'string' && args.flags.has('--check')) throw new UsageError('schema --check compares the schema with a file: give it as --out <file>');
  if (typeof out !== 'string') {
    io.stdout(text);
    return EXIT.ok;
  }
  if (args.flags.has('--check')) {
    if (!existsSync(out) || readFileSync(out, 'utf8') !== text) {
      io.stderr(`${out}: differs from the schema the resource kinds define: run ${['winstate', 'schema', '--out', out].map(shellWord).join(' ')}\n`);
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
  const timeoutMs = timeoutOf(args);
  const reports = await reportSpecs(args);
  const context = await reportContext(args, reports);
  const waitMs = waitOf(args);
  const { plans, diagnostics } = await loadPlans(args.files, io);
  if (diagnostics.length > 0 || plans.length === 0) return EXIT.invalidInput;
  const plan = await selectedPlan(args, plans[0]!);
  // A valid document only: invalid input never starts PowerShell. It starts and parses the
  // runtime while node loads the engine and the report modules.
  const snapshots = await snapshotsOfArgs(args);
  await checkSnapshotsCover(plan, snapshots);
  if (args.command === 'set' || args.command === 'apply') await checkStateDir(args);
  const early = await preloadedSession(args, io, timeoutMs);
  const { WinstateRunError } = await import('../engine/engine.js');
  const { TargetLockedError } = await import('../engine/state.js');
  const { renderApply, renderRun } = await import('../report/text.js');
  const { targetText } = await import('../engine/snapshots.js');
  const engine = await startEngine(args, io, timeoutMs, early);
  if (!engine) return EXIT.runtimeError;
  const failFast = args.flags.has('--fail-fast');
  const human = (text: string) => (json ? io.stderr(`${text}\n`) : io.stdout(`${text}\n`));
  const text = await textOptions(io, json ? 'stderr' : 'stdout', plan);
  const startedAt = new Date();
  const progress = startProgress(io, `${args.command} ${plan.name}`);
  try {
    io.stderr(`winstate: ${args.command} ${plan.name} (${counted(plan.resources.length, 'resource')}) on ${targetText(snapshots)}\n`);
    if (args.command === 'apply') {
      const report = await engine.apply(plan, { snapshots, whatIf, failFast, waitMs });
      progress.stop();
      human(renderApply(report, text));
      if (json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
      return await writeRequestedReports(reports, 'apply', plan, report, startedAt, exitCodeOf(report), io, context);
    }
    const options = { snapshots, whatIf, failFast, waitMs };
    // set goes through the engine's set: target lock, backup before the first change, run record.
    const report = args.command === 'set' ? await engine.set(plan, options) : await engine.run(plan, args.command === 'get' ? 'Get' : 'Test', options);
    progress.stop();
    human(renderRun(report, text));
    if (json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    if (args.command === 'get') return exitCodeOf(report);
    return await writeRequestedReports(reports, args.command as 'test' | 'set', plan, report, startedAt, exitCodeOf(report), io, context);
  } catch (error) {
    progress.stop();
    if (error instanceof WinstateRunError || error instanceof TargetLockedError) {
      io.stderr(`winstate: ${error.message}\n${verboseDetail(args, error)}${reports.length ? 'winstate: no report written: the run produced no results\n' : ''}`);
      return EXIT.runtimeError;
    }
    throw error;
  } finally {
    progress.stop();
    await engine.close();
  }
}

/**
 * A PowerShell session started at once, with the runtime parsing in it (the caller's own session
 * when it gave one); undefined when PowerShell cannot be found, which startEngine then reports.
 */
async function preloadedSession(args: Args, io: CliIo, timeoutMs?: number): Promise<PwshSession | undefined> {
  const { PwshSession } = await import('../bridge/session.js');
  const { bridgeScript } = await import('../compile/runtime-text.js');
  const { PwshNotFoundError } = await import('../bridge/locate.js');
  try {
    const session = io.session ?? new PwshSession({ pwshPath: args.flags.get('--pwsh') as string | undefined, timeoutMs });
    void session.preload(bridgeScript());
    // Closed by the engine that takes it over (or by the caller, for its own session).
    return io.session ? undefined : session;
  } catch (error) {
    if (error instanceof PwshNotFoundError) return undefined;
    throw error;
  }
}

/** An engine for this invocation (in the session already started, if any), or undefined after saying how to install PowerShell. */
async function startEngine(args: Args, io: CliIo, timeoutMs?: number, started?: PwshSession): Promise<Engine | undefined> {
  const { Engine } = await import('../engine/engine.js');
  const { PwshNotFoundError } = await import('../bridge/locate.js');
  try {
    const session = started ?? io.session;
    const engine = new Engine({ pwshPath: args.flags.get('--pwsh') as string | undefined, timeoutMs, stateDir: args.flags.get('--state-dir') as string | undefined, ...(session ? { session, closesSession: session !== io.session } : {}) });
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

/** A state folder that is a file fails only when the run records itself, after its work: say so before. */
async function checkStateDir(args: Args): Promise<void> {
  const dir = await stateDirOf(args);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`the state folder ${printable(dir)} is a file; runs and backups are kept in a folder (--state-dir, WINSTATE_STATE_DIR)`);
}

async function stateDirOf(args: Args): Promise<string> {
  const dir = args.flags.get('--state-dir');
  if (typeof dir === 'string') return dir;
  const { defaultStateDir } = await import('../engine/state.js');
  return defaultStateDir();
}

/** `winstate catalog list|show`. */
async function catalogCommand(args: Args, io: CliIo): Promise<number> {
  const [verb, ...rest] = args.files;
  const verbs = ['list', 'show', 'search'];
  if (!((verb === 'list' && rest.length === 0) || (verb === 'show' && rest.length === 1) || (verb === 'search' && rest.length > 0))) {
    const hint = verb && !verbs.includes(verb) ? closestWord(verb, verbs) : undefined;
    throw new UsageError(`${hint ? `unknown catalog command '${printable(verb!)}'; did you mean '${hint}'?\n` : ''}${CATALOG_USAGE}`);
  }
  const { loadCatalog, storageText } = await import('../catalog/catalog.js');
  const { catalogEntryView, catalogListView, catalogPolicyView, renderCatalogEntry, renderCatalogPolicy } = await import('../catalog/view.js');
  const catalog = loadCatalog();
  const json = args.flags.has('--json');
  const didYouMean = (hints: string[]) => (hints.length ? `; did you mean ${hints.map((h) => `"${h}"`).join(' or ')}?` : '');
  if (verb === 'list') {
    if (json) io.stdout(`${JSON.stringify(catalogListView(catalog), null, 2)}\n`);
    else io.stdout(catalogTable(catalog.entries, catalog.policies));
    return EXIT.ok;
  }
  if (verb === 'search') {
    // Every word must appear in the item's id, title, GPO path, registry location, STIG ids or CIS numbers
    // (a policy file: its file name, registry values and rule ids and names).
    const words = rest.join(' ').toLowerCase().split(/\s+/).filter(Boolean);
    const matches = (text: string[]) => words.every((w) => text.join('\n').toLowerCase().includes(w));
    const found = catalog.entries.filter((e) =>
      matches([e.id, e.title, e.gpoPath, e.area ?? '', e.kind, e.registry ? `${e.registry.key}\\${e.registry.valueName}` : storageText(e), ...(e.references.stig ?? []), ...(e.references.cis ?? [])]),
    );
    const policies = catalog.policies.filter((p) =>
      matches([p.id, p.title, p.gpoPath, p.area, p.kind, `catalog:${p.file}`, ...p.registryValues.map((v) => `${v.key}\\${v.valueName}`), ...p.collections.flatMap((c) => c.rules.flatMap((r) => [r.id, r.name])), ...p.references.cis]),
    );
    if (json) io.stdout(`${JSON.stringify([...found.map((e) => catalogEntryView(e, catalog)), ...policies.map(catalogPolicyView)], null, 2)}\n`);
    else if (found.length || policies.length) io.stdout(catalogTable(found, policies));
    if (found.length === 0 && policies.length === 0) {
      io.stderr(`winstate: no catalog entry matches '${printable(rest.join(' '))}'${didYouMean(catalog.suggest(rest.join(' '), 3, undefined, { policies: true }))}\n`);
      return EXIT.invalidInput;
    }
    return EXIT.ok;
  }
  // show: checked above to have exactly one argument.
  const found = catalog.findAll(rest[0]!);
  const entry = found[0];
  if (!entry) {
    const policy = catalog.findPolicy(rest[0]!);
    if (policy) {
      io.stdout(json ? `${JSON.stringify(catalogPolicyView(policy), null, 2)}\n` : `${renderCatalogPolicy(policy)}\n`);
      return EXIT.ok;
    }
    io.stderr(`winstate: no catalog entry '${printable(rest[0]!)}'${didYouMean(catalog.suggest(rest[0]!, 3, undefined, { policies: true }))}\n`);
    return EXIT.invalidInput;
  }
  // A STIG rule or CIS recommendation that sets several values shows every entry (JSON: an array then).
  if (json) io.stdout(`${JSON.stringify(found.length === 1 ? catalogEntryView(entry, catalog) : found.map((e) => catalogEntryView(e, catalog)), null, 2)}\n`);
  else io.stdout(`${found.map((e) => renderCatalogEntry(e, catalog)).join('\n\n')}\n`);
  return EXIT.ok;
}

const CATALOG_USAGE = 'usage: winstate catalog list [--json] | winstate catalog show <id|title|STIG id|CIS number> [--json] | winstate catalog search <words>... [--json]';

/** Aligned columns: id, kind, severity, STIG id, CIS numbers, title (the last column is not padded); policy files after the entries. */
function catalogTable(entries: readonly import('../catalog/catalog.js').CatalogEntry[], policies: readonly import('../catalog/policy-items.js').CatalogPolicy[] = []): string {
  const rows = [
    ...entries.map((e) => [
      e.id,
      e.kind,
      e.severity,
      (e.references.stig ?? []).filter((id) => /^WN16-/i.test(id)).join(',') || '-',
      (e.references.cis ?? []).join(',') || '-',
      e.title,
    ]),
    // A policy file has no severity or STIG id of its own.
    ...policies.map((p) => [p.id, p.kind, '-', '-', p.references.cis.join(',') || '-', p.title]),
  ];
  const header = ['ID', 'KIND', 'SEVERITY', 'STIG', 'CIS', 'TITLE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

/** PowerShell's position of a failure, shown only with --verbose. */
function verboseDetail(args: Args, error: Error): string {
  const detail = (error as Error & { detail?: string }).detail;
  return args.flags.has('--verbose') && detail ? `${detail}\n` : '';
}

/** `winstate runs`: past changing runs, oldest first, a line each; `winstate runs <id|latest>`: one run in full. */
async function runsCommand(args: Args, io: CliIo): Promise<number> {
  if (args.files.length > 1) throw new UsageError('runs takes at most one run id (or latest)');
  const { listRuns } = await import('../engine/state.js');
  const { runLine, showRun } = await import('../engine/run-text.js');
  const stateDir = await stateDirOf(args);
  let runs = listRuns(stateDir);
  if (args.files.length === 1) {
    if (args.flags.has('--limit') || args.flags.has('--target')) throw new UsageError('runs <id> shows one run: --limit and --target go with the list');
    return showRun(runs, args.files[0]!, `in ${join(stateDir, 'runs')}`, args.flags.has('--json'), io);
  }
  const recorded = runs.length;
  const target = args.flags.get('--target');
  if (typeof target === 'string') {
    const { runSnapshotsOf } = await import('../engine/engine.js');
    const { snapshotFiles } = await import('../engine/snapshots.js');
    const wanted = target.toLowerCase() === 'live' ? null : resolve(target);
    runs = runs.filter((run) => {
      const files = snapshotFiles(runSnapshotsOf(run));
      return wanted === null ? files.length === 0 : files.includes(wanted);
    });
  }
  const limit = args.flags.get('--limit');
  if (typeof limit === 'string') {
    if (!/^[1-9]\d{0,5}$/.test(limit)) throw new UsageError(`--limit takes a whole number of runs from 1, not '${printable(limit)}'`);
    runs = runs.slice(-Number(limit));
  }
  if (args.flags.has('--json')) {
    io.stdout(`${JSON.stringify(runs, null, 2)}\n`);
    return EXIT.ok;
  }
  if (runs.length === 0 && recorded > 0 && typeof target === 'string') {
    // Runs exist, just none on that target: say so, or the user thinks the history is gone.
    const where = target.toLowerCase() === 'live' ? 'the live machine' : resolve(target);
    io.stdout(`no runs on ${printable(where)} in ${stateDir} (${recorded} on other targets)\n`);
  } else if (runs.length === 0) io.stdout(`no runs recorded in ${stateDir}\n`);
  for (const run of runs) io.stdout(runLine(run));
  return EXIT.ok;
}

/** `winstate rollback <run-id|latest>`: applies the generated rollback document to the run's target. */
async function rollbackCommand(args: Args, io: CliIo): Promise<number> {
  const backupFile = args.flags.get('--backup');
  if (typeof backupFile === 'string' ? args.files.length !== 0 : args.files.length !== 1) {
    throw new UsageError('rollback takes one run id, or latest, or --backup <file> that a generated script wrote');
  }
  // A file named on the command line that is not there is invalid input, as a missing snapshot is: exit 3, no PowerShell.
  if (typeof backupFile === 'string' && !existsSync(backupFile)) throw new UsageError(`--backup ${printable(backupFile)} does not exist`);
  await checkStateDir(args);
  const timeoutMs = timeoutOf(args);
  const { WinstateRunError } = await import('../engine/engine.js');
  const { TargetLockedError } = await import('../engine/state.js');
  const { renderApply } = await import('../report/text.js');
  const engine = await startEngine(args, io, timeoutMs);
  if (!engine) return EXIT.runtimeError;
  const json = args.flags.has('--json');
  try {
    const snapshot = args.lists.get('--snapshot');
    const waitMs = waitOf(args);
    const restore = typeof backupFile === 'string' ? (o: RollbackOptions) => engine.rollbackBackup(backupFile, o) : (o: RollbackOptions) => engine.rollback(args.files[0]!, o);
    const result = await restore({
      whatIf: args.flags.has('--what-if'),
      failFast: args.flags.has('--fail-fast'),
      waitMs,
      ...(snapshot ? { target: snapshot } : {}),
    });
    const human = (text: string) => (json ? io.stderr(`${text}\n`) : io.stdout(`${text}\n`));
    const what = typeof backupFile === 'string' ? `the backup ${printable(backupFile)}` : `run ${result.of.id}`;
    const { runSnapshotsOf } = await import('../engine/engine.js');
    const { targetText } = await import('../engine/snapshots.js');
    human(`rollback of ${what} (${printable(result.of.document.name)}) on ${printable(targetText(runSnapshotsOf(result.of)))} using ${result.documentFile}`);
    for (const item of result.unsupported) human(`  cannot restore ${printable(item)}`);
    human(renderApply(result.report, await textOptions(io, json ? 'stderr' : 'stdout', undefined)));
    if (json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return result.unsupported.length > 0 && exitCodeOf(result.report) === EXIT.ok ? EXIT.partial : exitCodeOf(result.report);
  } catch (error) {
    if (error instanceof WinstateRunError || error instanceof TargetLockedError) {
      io.stderr(`winstate: ${error.message}\n${verboseDetail(args, error)}`);
      return error instanceof WinstateRunError && error.refused ? EXIT.invalidInput : EXIT.runtimeError;
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
async function textOptions(io: CliIo, stream: 'stdout' | 'stderr', plan: Plan | undefined): Promise<TextOptions> {
  const { settingArea, declaredView } = await import('../report/model.js');
  const tty = io.isTTY?.[stream] === true;
  const areas = new Map((plan?.resources ?? []).map((r) => [r.name, settingArea(r)]));
  const byName = new Map((plan?.resources ?? []).map((r) => [r.name, r]));
  const baselineOf = (name: string) => {
    const r = byName.get(name);
    return r ? declaredView(r) : undefined;
  };
  return { color: tty && !noColor(io), unicode: tty, areaOf: (name) => areas.get(name), baselineOf };
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

/**
 * --benchmark <xccdf>: the STIG benchmark the checklist follows (its ids, texts and every rule of
 * the scope), read before anything runs.
 */
async function reportContext(args: Args, specs: ReportSpec[]): Promise<ReportContext> {
  const file = args.flags.get('--benchmark');
  if (typeof file !== 'string') return {};
  if (!specs.some((s) => s.format.name === 'ckl' || s.format.name === 'xccdf')) {
    throw new UsageError('--benchmark goes with --report ckl:<file> or --report xccdf:<file>');
  }
  const { parseXccdf } = await import('../catalog/stig/xccdf.js');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--benchmark: cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return { stig: { benchmark: parseXccdf(text), file } };
  } catch (error) {
    throw new UsageError(`--benchmark: ${file} is not a readable STIG XCCDF benchmark: ${(error as Error).message}`);
  }
}

/** The --report values, checked before anything runs. */
async function reportSpecs(args: Args): Promise<ReportSpec[]> {
  if (args.reports.length === 0) return [];
  const { parseReportSpecs, ReportSpecError } = await import('../report/formats.js');
  try {
    const benchmark = args.flags.get('--benchmark');
    const inputs = [...args.files, ...(args.lists.get('--snapshot') ?? []), ...(typeof benchmark === 'string' ? [benchmark] : [])];
    return parseReportSpecs(args.reports, inputs);
  } catch (error) {
    if (error instanceof ReportSpecError) throw new UsageError(error.message);
    throw error;
  }
}

async function writeRequestedReports(
  specs: ReportSpec[],
  command: 'test' | 'set' | 'apply',
  plan: Plan,
  result: Parameters<typeof import('../report/model.js').buildReportModel>[0]['result'],
  startedAt: Date,
  exitCode: number,
  io: CliIo,
  context: ReportContext = {},
): Promise<number> {
  if (specs.length === 0) return exitCode;
  const { buildReportModel } = await import('../report/model.js');
  const { writeReports } = await import('../report/formats.js');
  const model = buildReportModel({ command, plan, result, startedAt, finishedAt: new Date(), exitCode });
  const { written, failed } = writeReports(specs, model, context);
  for (const file of written) io.stderr(`winstate: wrote ${file}\n`);
  for (const { file, message } of failed) io.stderr(`winstate: could not write the report ${file}: ${message}\n`);
  return failed.length ? EXIT.runtimeError : exitCode;
}
