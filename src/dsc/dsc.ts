import { existsSync, statSync } from 'node:fs';
import { formatDiagnostic } from '../document/diagnostics.js';
import { EXIT } from '../engine/results.js';
import type { ApplyReport, ResourceResult, RunReport, StateView } from '../engine/results.js';
import type { FleetArgs, FleetIo } from '../fleet/command.js';

/**
 * `winstate dsc get|test|set`: the command side of the DSC v3 resource `Winstate/Document`
 * (manifest: winstate.dsc.resource.json). DSC writes the instance as JSON on stdin; each operation
 * answers with JSON Lines on stdout as DSC v3 expects them: get the state; test the state with
 * `_inDesiredState` and then the names of the settings that differ; set (and what-if) the state
 * after (or as it would be) and then the names of the settings changed (or that would change).
 * Messages go to stderr; the exit code is 0 on success, 1 on a failure, 3 on invalid input.
 */

/** The instance: which document, optionally on which registry export. */
export interface DscInstance {
  path: string;
  snapshot?: string;
}

/** One setting of the document in the instance's state. */
export interface DscSetting {
  target: string;
  inDesiredState: boolean | null;
  actual: StateView | null;
  desired: StateView | null;
  error?: string;
}

export interface DscState extends DscInstance {
  /** Every resource of the document by name. */
  settings: Record<string, DscSetting>;
  _inDesiredState?: boolean;
}

export class DscInputError extends Error {}

/** Checks DSC's input: an object with path (and optionally snapshot), nothing else but DSC's own `_` properties. */
export function parseInstance(text: string): DscInstance {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new DscInputError(`the instance on stdin is not JSON: ${(error as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new DscInputError('the instance is a JSON object with path (the winstate document) and optionally snapshot');
  const d = data as Record<string, unknown>;
  for (const key of Object.keys(d)) {
    if (!['path', 'snapshot', 'settings'].includes(key) && !key.startsWith('_')) throw new DscInputError(`unknown property '${key}' (Winstate/Document takes path and snapshot)`);
  }
  if (typeof d.path !== 'string' || d.path === '') throw new DscInputError('path (the winstate document to apply) is required');
  if (!existsSync(d.path)) throw new DscInputError(`document ${d.path} does not exist`);
  if (d.snapshot !== undefined && (typeof d.snapshot !== 'string' || !existsSync(d.snapshot) || statSync(d.snapshot).isDirectory())) throw new DscInputError(`snapshot ${String(d.snapshot)} is not a registry export file`);
  return { path: d.path, ...(typeof d.snapshot === 'string' ? { snapshot: d.snapshot } : {}) };
}

function settingOf(r: ResourceResult, after = false): DscSetting {
  const actual = after ? (r.whatIf ? r.desired ?? r.after ?? r.before : r.after ?? r.before) : r.actual;
  return {
    target: r.target,
    inDesiredState: r.inDesiredState ?? null,
    actual: actual ?? null,
    desired: r.desired ?? null,
    ...(r.error !== undefined ? { error: r.error } : {}),
  };
}

export function stateFromRun(instance: DscInstance, report: RunReport, withDesiredState: boolean): DscState {
  const settings = Object.fromEntries(report.results.map((r) => [r.name, settingOf(r)]));
  const state: DscState = { ...instance, settings };
  if (withDesiredState) state._inDesiredState = report.summary.drifted === 0 && report.summary.failed === 0;
  return state;
}

/** After a set (or, under what-if, as it would be): the verify run's view, else the set's own before/after. */
export function stateFromApply(instance: DscInstance, report: ApplyReport): { state: DscState; changed: string[] } {
  const final = report.verify ?? report.test;
  const set = new Map((report.set?.results ?? []).map((r) => [r.name, r]));
  const settings: Record<string, DscSetting> = {};
  for (const r of final.results) {
    const s = set.get(r.name);
    settings[r.name] = report.whatIf && s ? { ...settingOf(r), actual: s.desired ?? r.desired ?? null, inDesiredState: s.error === undefined ? true : false } : settingOf(r);
  }
  const changed = (report.set?.results ?? []).filter((r) => r.changed || (report.whatIf && r.whatIf)).map((r) => r.name);
  return { state: { ...instance, settings }, changed };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function dscCommand(args: FleetArgs, io: FleetIo): Promise<number> {
  const [verb, ...rest] = args.files;
  if (!verb || !['get', 'test', 'set'].includes(verb) || rest.length > 0) {
    io.stderr('winstate: usage: winstate dsc get|test|set [--what-if] (the instance as JSON on stdin)\n');
    return EXIT.invalidInput;
  }
  const whatIf = args.flags.has('--what-if');
  if (whatIf && verb !== 'set') {
    io.stderr('winstate: --what-if goes with dsc set\n');
    return EXIT.invalidInput;
  }
  let instance: DscInstance;
  try {
    instance = parseInstance(await (io.stdin ?? readStdin)());
  } catch (error) {
    if (!(error instanceof DscInputError)) throw error;
    io.stderr(`winstate: ${error.message}\n`);
    return EXIT.invalidInput;
  }
  const { validateFile } = await import('../document/validate.js');
  const { plan, diagnostics } = validateFile(instance.path);
  if (!plan) {
    for (const d of diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
    return EXIT.invalidInput;
  }
  const { Engine, WinstateRunError } = await import('../engine/engine.js');
  const timeout = args.flags.get('--timeout');
  const engine = new Engine({
    ...(io.session ? { session: io.session } : {}),
    pwshPath: typeof args.flags.get('--pwsh') === 'string' ? (args.flags.get('--pwsh') as string) : undefined,
    stateDir: typeof args.flags.get('--state-dir') === 'string' ? (args.flags.get('--state-dir') as string) : undefined,
    ...(typeof timeout === 'string' && /^\d+$/.test(timeout) ? { timeoutMs: Number(timeout) } : {}),
  });
  const options = instance.snapshot ? { snapshot: instance.snapshot } : {};
  const line = (value: unknown) => io.stdout(`${JSON.stringify(value)}\n`);
  try {
    if (verb === 'get') {
      line(stateFromRun(instance, await engine.run(plan, 'Get', options), false));
      return EXIT.ok;
    }
    if (verb === 'test') {
      const report = await engine.test(plan, options);
      const state = stateFromRun(instance, report, true);
      line(state);
      line(report.results.filter((r) => r.inDesiredState === false || r.error !== undefined).map((r) => r.name));
      return report.summary.failed > 0 ? EXIT.runtimeError : EXIT.ok;
    }
    const report = await engine.apply(plan, { ...options, whatIf });
    const { state, changed } = stateFromApply(instance, report);
    line(state);
    line(changed);
    return report.failed > 0 || report.partial ? EXIT.runtimeError : EXIT.ok;
  } catch (error) {
    if (error instanceof WinstateRunError) {
      io.stderr(`winstate: ${error.message}\n`);
      return EXIT.runtimeError;
    }
    throw error;
  } finally {
    await engine.close();
  }
}
