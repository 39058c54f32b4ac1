import { EXIT } from '../engine/results.js';
import { printable } from '../document/diagnostics.js';
import type { PwshSession } from '../bridge/session.js';
import { FleetUsageError, type FleetArgs, type FleetIo } from './command.js';

/**
 * `--as <identity.json>` on a local run (no --hosts): the fleet's lockout guard, offline, against the
 * plan before anything runs. Returns an exit code when it refuses (or the input is bad), else undefined
 * and the run goes on as usual.
 */
export async function offlineGuard(args: FleetArgs, io: FleetIo): Promise<number | undefined> {
  const file = args.flags.get('--as');
  // Only changing runs can lock anyone out; get and test read.
  if (typeof file !== 'string' || args.files.length !== 1 || (args.command !== 'set' && args.command !== 'apply')) return undefined;
  const { readIdentityFile, lockoutFindings, refusal, acceptedRisks } = await import('./guard.js');
  const { validateFile } = await import('../document/validate.js');
  let identity;
  try {
    identity = readIdentityFile(file);
  } catch (error) {
    io.stderr(`winstate: --as: ${(error as Error).message}\n`);
    return EXIT.invalidInput;
  }
  const { plan } = validateFile(args.files[0]!);
  if (!plan) return undefined; // the run itself reports the document's errors
  const findings = lockoutFindings(plan, { identity, transport: identity.transport ?? 'ssh', port: identity.port ?? (identity.transport === 'winrm' ? 5985 : 22) }, acceptedRisks(plan));
  for (const f of findings.filter((x) => x.accepted)) io.stderr(`winstate: lockout risk accepted for ${printable(f.resource)}: ${printable(f.accepted!)} (${printable(f.message)})\n`);
  const refused = refusal(findings, identity);
  if (!refused) return undefined;
  io.stderr(`winstate: ${printable(refused)}\n`);
  return EXIT.runtimeError;
}

/**
 * The CLI's one door into the fleet and DSC commands: `get|test|set|apply|rollback|runs` with
 * `--hosts`/`--host`, and `dsc get|test|set`. Usage errors exit 3, run errors 1.
 */
export async function fleetEntry(args: FleetArgs, io: FleetIo, fleet: boolean): Promise<number | undefined> {
  const commands = ['get', 'test', 'set', 'apply', 'rollback', 'runs'];
  let session: PwshSession | undefined;
  const pwsh = async () => {
    // A caller-owned session (a library host, a test) is used and left open.
    if (io.session) return io.session;
    const { PwshSession } = await import('../bridge/session.js');
    const timeout = args.flags.get('--timeout');
    const timeoutMs = typeof timeout === 'string' && /^\d+$/.test(timeout) ? Number(timeout) : undefined;
    session ??= new PwshSession({ pwshPath: typeof args.flags.get('--pwsh') === 'string' ? (args.flags.get('--pwsh') as string) : undefined, ...(timeoutMs ? { timeoutMs } : {}) });
    return session;
  };
  try {
    if (!fleet && args.command !== 'dsc') {
      // --as on a local run: the guard alone; undefined lets the CLI run the document as usual.
      return await offlineGuard(args, io);
    }
    if (args.command === 'dsc') {
      const { dscCommand } = await import('../dsc/dsc.js');
      return await dscCommand(args, io);
    }
    if (!fleet || !commands.includes(args.command)) throw new FleetUsageError(`${args.command} does not run on --hosts (fleet commands: ${commands.join(', ')})`);
    const command = await import('./command.js');
    if (args.command === 'runs') {
      const name = command.listOf(args, '--host');
      if (name.length !== 1) throw new FleetUsageError('runs --host takes one host name');
      if (args.files.length > 1) throw new FleetUsageError('runs --host takes at most one run id (or latest)');
      const { defaultStateDir } = await import('../engine/state.js');
      const { runLine, showRun } = await import('../engine/run-text.js');
      const dir = typeof args.flags.get('--state-dir') === 'string' ? (args.flags.get('--state-dir') as string) : defaultStateDir();
      const runs = command.fleetRunsOf(dir, name[0]!);
      // One run in full, as `runs <id>` on this machine.
      if (args.files.length === 1) return showRun(runs, args.files[0]!, `recorded for host ${printable(name[0]!)}`, args.flags.has('--json'), io);
      if (args.flags.has('--json')) io.stdout(`${JSON.stringify(runs, null, 2)}\n`);
      else if (runs.length === 0) io.stdout(`no runs recorded for host ${printable(name[0]!)}\n`);
      else for (const run of runs) io.stdout(runLine(run));
      return EXIT.ok;
    }
    if (args.command === 'rollback') return await command.fleetRollbackCommand(args, io, await pwsh());
    return await command.fleetCommand(args, io, await pwsh());
  } catch (error) {
    if (error instanceof FleetUsageError) {
      io.stderr(`winstate: ${error.message}\n`);
      return EXIT.invalidInput;
    }
    if ((error as Error).name === 'PwshNotFoundError') {
      io.stderr(`winstate: ${(error as Error).message}\n`);
      return EXIT.runtimeError;
    }
    throw error;
  } finally {
    await session?.close();
  }
}
