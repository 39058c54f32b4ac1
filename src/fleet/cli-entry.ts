import { EXIT } from '../engine/results.js';
import { printable } from '../document/diagnostics.js';
import type { PwshSession } from '../bridge/session.js';
import { FleetUsageError, type FleetArgs, type FleetIo } from './command.js';

/**
 * The CLI's one door into the fleet and DSC commands: `get|test|set|apply|rollback|runs` with
 * `--hosts`/`--host`, and `dsc get|test|set`. Usage errors exit 3, run errors 1.
 */
export async function fleetEntry(args: FleetArgs, io: FleetIo, fleet: boolean): Promise<number> {
  const commands = ['get', 'test', 'set', 'apply', 'rollback', 'runs'];
  let session: PwshSession | undefined;
  const pwsh = async () => {
    const { PwshSession } = await import('../bridge/session.js');
    const timeout = args.flags.get('--timeout');
    const timeoutMs = typeof timeout === 'string' && /^\d+$/.test(timeout) ? Number(timeout) : undefined;
    session ??= new PwshSession({ pwshPath: typeof args.flags.get('--pwsh') === 'string' ? (args.flags.get('--pwsh') as string) : undefined, ...(timeoutMs ? { timeoutMs } : {}) });
    return session;
  };
  try {
    if (args.command === 'dsc') {
      const { dscCommand } = await import('../dsc/dsc.js');
      return await dscCommand(args, io);
    }
    if (!fleet || !commands.includes(args.command)) throw new FleetUsageError(`${args.command} does not run on --hosts (fleet commands: ${commands.join(', ')})`);
    const command = await import('./command.js');
    if (args.command === 'runs') {
      const names = args.flags.get('--host');
      const name = Array.isArray(names) ? names : typeof names === 'string' ? [names] : [];
      if (name.length !== 1) throw new FleetUsageError('runs --host takes one host name');
      const { defaultStateDir } = await import('../engine/state.js');
      const dir = typeof args.flags.get('--state-dir') === 'string' ? (args.flags.get('--state-dir') as string) : defaultStateDir();
      const runs = command.fleetRunsOf(dir, name[0]!);
      if (args.flags.has('--json')) io.stdout(`${JSON.stringify(runs, null, 2)}\n`);
      else if (runs.length === 0) io.stdout(`no runs recorded for host ${printable(name[0]!)}\n`);
      else for (const run of runs) io.stdout(`${run.id}  ${run.command.padEnd(8)} ${run.status.padEnd(13)} ${printable(run.document.name)}${run.changes.length ? `: changed ${run.changes.map((c) => printable(c.name)).join(', ')}` : ''}\n`);
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
