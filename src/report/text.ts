/**
 * Human output of get/test/set/apply: one line per setting, grouped by area when the caller knows
 * the areas, `current -> desired` as a compact diff, and a summary line. Colour and the Unicode
 * arrow only when asked for (the CLI asks on a terminal, and never for colour under NO_COLOR).
 */
import type { ApplyReport, ResourceResult, RunReport, StateView } from '../engine/results.js';
import { terminalSafe } from './escape.js';
import { stateText } from './model.js';

export { stateText };

export interface TextOptions {
  /** ANSI colours. */
  color?: boolean;
  /** `→` instead of `->`. */
  unicode?: boolean;
  /** The area of a setting, by name: the listing is grouped by it. */
  areaOf?: (name: string) => string | undefined;
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
  GET: 'bold',
};

function safe(text: string): string {
  return terminalSafe(text);
}

/**
 * `from -> to`, as short as it can be: the policy's words when it has them, and for raw values the
 * type only once when it does not change.
 */
export function diffText(from: StateView | undefined, to: StateView | undefined, p: Painter = new Painter({})): string {
  const sameType =
    from && to && from.ensure === 'Present' && to.ensure === 'Present' && from.policyValue === undefined && to.policyValue === undefined &&
    from.valueType !== undefined && from.valueType === to.valueType;
  if (sameType) {
    return `${from!.valueType} ${p.paint('red', safe(JSON.stringify(from!.valueData)))} ${p.arrow} ${p.paint('green', safe(JSON.stringify(to!.valueData)))}`;
  }
  return `${p.paint('red', safe(stateText(from)))} ${p.arrow} ${p.paint('green', safe(stateText(to)))}`;
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

export function renderRun(report: RunReport, options: TextOptions = {}): string {
  const p = new Painter(options);
  const lines: Line[] = report.results.map((r) => {
    const skipped = (r as ResourceResult & { skipped?: boolean }).skipped;
    if (r.error !== undefined) return tagged('ERROR', r, p.paint('red', safe(r.error)), p);
    if (skipped) return tagged('SKIPPED', r, 'not attempted (an earlier setting failed)', p);
    if (report.mode === 'Get') return tagged('GET', r, `${safe(stateText(r.actual))}  [${safe(r.target)}]`, p);
    if (report.mode === 'Test') return tagged(r.inDesiredState ? 'OK' : 'DRIFT', r, r.inDesiredState ? safe(stateText(r.actual)) : diffText(r.actual, r.desired, p), p);
    if (r.changed) return tagged('CHANGED', r, diffText(r.before, r.after, p), p);
    if (r.whatIf) return tagged('WHATIF', r, `would change ${diffText(r.before, r.desired, p)}`, p);
    return tagged(r.inDesiredState ? 'OK' : 'DRIFT', r, safe(stateText(r.after)), p);
  });
  const s = report.summary;
  const where = report.target === 'live' ? 'live registry' : safe(report.snapshot ?? 'snapshot');
  const summary = `${s.total} resources: ${s.inDesiredState} in desired state, ${s.drifted} drifted, ${s.changed} changed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ''} (${report.durationMs} ms)`;
  return [`${p.paint('bold', safe(report.document))} (${report.mode}, ${where})`, ...grouped(lines, options, p), p.paint('bold', summary)].join('\n');
}

export function renderApply(report: ApplyReport, options: TextOptions = {}): string {
  const p = new Painter(options);
  const total = report.test.summary.total;
  const out = [`${p.paint('bold', safe(report.document))}: plan (${report.plan.length} of ${total} settings to change)`];
  const planLines: Line[] = report.plan.map((item) => ({
    name: item.name,
    text: `${p.paint('yellow', '~')} ${safe(item.name)}: ${diffText(item.current, item.desired, p)}`,
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

/** One line: what the apply did (or would do) in numbers. */
export function applySummary(report: ApplyReport): string {
  const final = report.verify ?? report.test;
  const changed = report.set?.summary.changed ?? 0;
  const planned = report.plan.length;
  const failed = report.failed;
  const already = report.test.summary.inDesiredState;
  if (report.whatIf) {
    return `apply (what-if): ${planned} to change, ${already} already in desired state, ${failed} failed`;
  }
  const drifted = report.verify ? final.summary.drifted : planned - changed;
  return `apply: ${changed} changed, ${already} already in desired state, ${Math.max(0, drifted)} still drifted, ${failed} failed`;
}
