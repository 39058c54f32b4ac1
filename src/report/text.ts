/**
 * Human output of get/test/set/apply: one line per setting, grouped by area when the caller knows
 * the areas, `current -> desired` as a compact diff, and a summary line. Colour and the Unicode
 * arrow only when asked for (the CLI asks on a terminal, and never for colour under NO_COLOR).
 */
import { applyCounts, type ApplyReport, type ResourceResult, type RunReport, type StateView } from '../engine/results.js';
import type { KindName } from '../kinds/kind.js';
import { terminalSafe } from './escape.js';
import { stateText } from './model.js';
import { counted } from '../plural.js';

export { stateText };

export interface TextOptions {
  /** ANSI colours. */
  color?: boolean;
  /** `→` instead of `->`. */
  unicode?: boolean;
  /** The area of a setting, by name: the listing is grouped by it. */
  areaOf?: (name: string) => string | undefined;
  /** What a resource asks for without its waiver, by name: shown beside an override. */
  baselineOf?: (name: string) => StateView | undefined;
}

const ANSI = {
  bold: '1',
  dim: '2',
  red: '31',
  green: '32',
  yellow: '33',
  blue: '34',
  magenta: '35',
  cyan: '36',
  boldRed: '1;31',
} as const;
type Style = keyof typeof ANSI;

class Painter {
  constructor(private readonly options: TextOptions) {}
  paint(style: Style, text: string): string {
    return this.options.color ? `\x1b[${ANSI[style]}m${text}\x1b[0m` : text;
  }
  get arrow(): string {
    return this.options.unicode ? '→' : '->';
  }
}

const TAG_STYLE: Record<string, Style> = {
  OK: 'green',
  DRIFT: 'yellow',
  CHANGED: 'cyan',
  WHATIF: 'magenta',
  ERROR: 'boldRed',
  SKIPPED: 'dim',
  WAIVED: 'blue',
  GET: 'bold',
};

function safe(text: string): string {
  return terminalSafe(text);
}

/**
 * `from -> to`, as short as it can be: the policy's words when it has them, and for raw values the
 * type only once when it does not change.
 */
export function diffText(from: StateView | undefined, to: StateView | undefined, p: Painter = new Painter({}), kind?: KindName): string {
  const sameType =
    from && to && from.ensure === 'Present' && to.ensure === 'Present' && from.policyValue === undefined && to.policyValue === undefined &&
    from.valueType !== undefined && from.valueType === to.valueType;
  if (sameType) {
    return `${from!.valueType} ${p.paint('red', safe(JSON.stringify(from!.valueData)))} ${p.arrow} ${p.paint('green', safe(JSON.stringify(to!.valueData)))}`;
  }
  return `${p.paint('red', safe(stateText(from, kind)))} ${p.arrow} ${p.paint('green', safe(stateText(to, kind)))}`;
}

interface Line {
  name: string;
  text: string;
}

/** Lines under area headings (in order of first appearance), or flat when areas are unknown. */
function grouped(lines: Line[], options: TextOptions, p: Painter): string[] {
  if (!options.areaOf) return lines.map((l) => `  ${l.text}`);
  const groups = new Map<string, Line[]>();
  for (const line of lines) {
    const area = options.areaOf(line.name) ?? 'other';
    (groups.get(area) ?? groups.set(area, []).get(area)!).push(line);
  }
  return [...groups].flatMap(([area, items]) => [`  ${p.paint('bold', safe(area))}`, ...items.map((l) => `    ${l.text}`)]);
}

function tagged(tag: string, r: ResourceResult, detail: string, p: Painter): Line {
  return { name: r.name, text: `${p.paint(TAG_STYLE[tag] ?? 'bold', tag.padEnd(9))} ${safe(r.name)}${detail ? `: ${detail}` : ''}` };
}

/** The waiver note after a judged setting: an override with the baseline's value, or an expiry. */
function waiverNote(r: ResourceResult, options: TextOptions): string {
  const w = r.waiver;
  if (!w) return '';
  const by = w.approvedBy ? `, approved by ${w.approvedBy}` : '';
  if (w.status === 'expired') return ` [waiver expired ${w.expires}: enforced]`;
  if (w.override) {
    const baseline = options.baselineOf?.(r.name);
    return ` [waiver override until ${w.expires}${by}${baseline ? `; baseline wants ${stateText(baseline, r.kind)}` : ''}]`;
  }
  return '';
}

/** One summary line whose counts add up to the total: each resource is counted once. */
export function summaryText(s: RunReport['summary'], alreadyWord = 'in desired state'): string {
  const parts = [`${s.changed} changed`, `${s.inDesiredState} ${alreadyWord}`, `${s.drifted} drifted`, `${s.failed} failed`];
  if (s.waived) parts.push(`${s.waived} waived`);
  if (s.skipped) parts.push(`${s.skipped} skipped`);
  return `${counted(s.total, 'resource')}: ${parts.join(', ')}`;
}

export function renderRun(report: RunReport, options: TextOptions = {}): string {
  const p = new Painter(options);
  const lines: Line[] = report.results.map((r) => {
    const note = safe(waiverNote(r, options));
    if (r.error !== undefined) return tagged('ERROR', r, p.paint('red', safe(r.error)), p);
    if (r.waived) {
      const w = r.waiver!;
      const current = r.actual ?? r.before;
      return tagged('WAIVED', r, safe(`until ${w.expires}${w.approvedBy ? `, approved by ${w.approvedBy}` : ''}: ${w.justification}${current ? ` (current: ${stateText(current, r.kind)})` : ''}`), p);
    }
    if (r.notEvaluated !== undefined) return tagged('SKIPPED', r, safe(r.notEvaluated), p);
    if (r.skipped) return tagged('SKIPPED', r, 'not attempted (an earlier setting failed; --fail-fast)', p);
    if (report.mode === 'Get') return tagged('GET', r, `${safe(stateText(r.actual, r.kind))}  [${safe(r.target)}]`, p);
    if (report.mode === 'Test') return tagged(r.inDesiredState ? 'OK' : 'DRIFT', r, (r.inDesiredState ? safe(stateText(r.actual, r.kind)) : diffText(r.actual, r.desired, p, r.kind)) + note, p);
    if (r.changed) return tagged('CHANGED', r, diffText(r.before, r.after, p, r.kind) + note, p);
    if (r.whatIf) return tagged('WHATIF', r, `would change ${diffText(r.before, r.desired, p, r.kind)}${note}`, p);
    return tagged(r.inDesiredState ? 'OK' : 'DRIFT', r, safe(stateText(r.after, r.kind)) + note, p);
  });
  const files = Object.values(report.snapshots ?? {});
  const where = report.target === 'live' ? 'live settings' : safe(files.length ? files.join(', ') : (report.snapshot ?? 'snapshot'));
  const summary = report.mode === 'Get'
    ? `${counted(report.summary.total, 'resource')} read (${report.durationMs} ms)`
    : `${summaryText(report.summary, report.mode === 'Set' ? 'already in desired state' : 'in desired state')} (${report.durationMs} ms)`;
  const restart = report.restartNeeded?.length ? [p.paint('yellow', `restart Windows for ${report.restartNeeded.length === 1 ? 'this change' : 'these changes'} to take effect: ${report.restartNeeded.map(safe).join(', ')}`)] : [];
  return [`${p.paint('bold', safe(report.document))} (${report.mode}, ${where})`, ...grouped(lines, options, p), p.paint('bold', summary), ...restart].join('\n');
}

export function renderApply(report: ApplyReport, options: TextOptions = {}): string {
  const p = new Painter(options);
  const total = report.test.summary.total;
  const out = [`${p.paint('bold', safe(report.document))}: plan (${report.plan.length} of ${counted(total, 'setting')} to change)`];
  const planLines: Line[] = report.plan.map((item) => ({
    name: item.name,
    text: `${p.paint('yellow', '~')} ${safe(item.name)}: ${diffText(item.current, item.desired, p, item.kind)}`,
  }));
  if (planLines.length === 0) out.push('  nothing to change');
  else out.push(...grouped(planLines, options, p));
  if (report.set) out.push(renderRun(report.set, options));
  if (report.whatIf) out.push(p.paint('magenta', 'what-if: nothing was changed'));
  else if (report.verify) {
    out.push(report.converged ? p.paint('green', 'verified: every setting is in its desired state') : p.paint('boldRed', 'NOT converged: some settings still differ after set'));
  }
  out.push(p.paint('bold', applySummary(report)));
  return out.join('\n');
}

/** One line: what the apply did (or would do) in numbers, each resource counted once. */
export function applySummary(report: ApplyReport): string {
  const s = report.summary ?? applyCounts(report);
  const extra = `${s.waived ? `, ${s.waived} waived` : ''}${s.skipped ? `, ${s.skipped} skipped` : ''}`;
  if (report.whatIf) {
    return `apply (what-if) of ${counted(s.total, 'resource')}: ${s.drifted} to change, ${s.inDesiredState} already in desired state, ${s.failed} failed${extra}`;
  }
  return `apply of ${counted(s.total, 'resource')}: ${s.changed} changed, ${s.inDesiredState} already in desired state, ${s.drifted} still drifted, ${s.failed} failed${extra}`;
}
