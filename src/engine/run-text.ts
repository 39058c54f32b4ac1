// How runs read in a terminal, for `runs` and `runs --host`: a line each, or one in full.
import { printable } from '../document/diagnostics.js';
import { EXIT } from './results.js';
import type { RunRecord } from './state.js';

/** A run by id, or 'latest' for the newest recorded. */
function pickRun(runs: RunRecord[], idOrLatest: string): RunRecord | undefined {
  return idOrLatest === 'latest' ? runs[runs.length - 1] : runs.find((r) => r.id === idOrLatest);
}

/** A run on one line: its headline and what it did in numbers. */
export function runLine(run: RunRecord): string {
  return `${runHeadline(run)}: ${runCounts(run)}\n`;
}

/**
 * `runs <id|latest>` here or for one host: the run in full (its record whole with --json), or exit 3
 * naming where no such run is recorded (`where`, e.g. "in <state>/runs").
 */
export function showRun(runs: RunRecord[], idOrLatest: string, where: string, json: boolean, io: { stdout: (text: string) => void; stderr: (text: string) => void }): number {
  const run = pickRun(runs, idOrLatest);
  if (!run) {
    io.stderr(`winstate: no run '${printable(idOrLatest)}' ${where}\n`);
    return EXIT.invalidInput;
  }
  io.stdout(json ? `${JSON.stringify(run, null, 2)}\n` : runDetail(run));
  return EXIT.ok;
}

/** Id, start (UTC), command, status, document and target of a run, on one line. */
function runHeadline(run: RunRecord): string {
  const where = run.snapshots ? Object.values(run.snapshots).join(', ') : run.snapshot ?? 'live machine';
  const what = run.rollbackOf ? ` (rollback of ${run.rollbackOf})` : '';
  const when = run.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return `${run.id}  ${when}  ${run.command.padEnd(8)} ${run.status.padEnd(13)} ${printable(run.document.name)} on ${printable(where)}${what}`;
}

/** What a run did, in numbers: a listing of many runs stays a line each, however large a run was. */
function runCounts(run: RunRecord): string {
  const parts = [`${run.changes.length} changed`];
  if (run.appliedBeforeInterruption?.length) parts.push(`${run.appliedBeforeInterruption.length} applied before interruption`);
  if (run.failures.length) parts.push(`${run.failures.length} failed`);
  return parts.join(', ');
}

/** One run in full: each change with its target, each failure with its error. */
function runDetail(run: RunRecord): string {
  const lines = [runHeadline(run)];
  for (const change of run.changes) lines.push(`    changed ${printable(change.name)}: ${printable(change.target)}`);
  for (const name of run.appliedBeforeInterruption ?? []) lines.push(`    applied before interruption: ${printable(name)}`);
  for (const failure of run.failures) lines.push(`    failed ${printable(failure.name)}: ${printable(failure.error)}`);
  lines.push(`  ${runCounts(run)}`);
  return `${lines.join('\n')}\n`;
}
