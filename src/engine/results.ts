/** Result shapes, as DSC v3 has them: test -> desired/actual/inDesiredState/differingProperties; set -> before/after/changed. */
import type { KindName, StoreName } from '../kinds/kind.js';

/**
 * A setting's state as results carry it: one record whose fields depend on the result's `kind`
 * (src/kinds/CONTRACT.md "Results"). Registry: ensure, valueType, valueData, policyValue, condition,
 * absentOk. UserRight: ensure, principals, or desired mustInclude/mustExclude. AccountPolicy and
 * SecurityPolicy: ensure, value, condition, policyValue. AuditPolicy: ensure, success, failure, setting.
 * A desired view may leave ensure out (it is then Present).
 */
export interface StateView {
  ensure?: 'Present' | 'Absent';
  valueType?: string;
  valueData?: string | number | string[];
  /** For policy resources: the policy's own name for the data, null when it matches no choice. */
  policyValue?: string | null;
  /** Desired only: what test accepts besides valueData (see Registry `condition`). */
  condition?: Record<string, unknown>;
  /** Desired only: absence is accepted too. */
  absentOk?: boolean;
  /** UserRight: the holders (SIDs as `*S-...`, accounts by name), in file order for an actual view. */
  principals?: string[];
  mustInclude?: string[];
  mustExclude?: string[];
  /** AccountPolicy, SecurityPolicy: the template value. */
  value?: number | string;
  /** AuditPolicy: whether successes and failures are audited, and auditpol's words for the pair. */
  success?: boolean;
  failure?: boolean;
  setting?: string;
}

export interface ResourceResult {
  name: string;
  type: string;
  /** The setting's kind (results before the kinds have none: Registry). */
  kind?: KindName;
  target: string;
  id?: string;
  desired?: StateView;
  actual?: StateView;
  before?: StateView;
  after?: StateView;
  inDesiredState?: boolean;
  differingProperties?: string[];
  changed?: boolean;
  /** Set under -WhatIf: the change was only described. */
  whatIf?: boolean;
  /** The resource failed; the others still ran (unless failFast). */
  error?: string;
  /** Not attempted: an earlier resource failed under failFast, or an active waiver skips it. */
  skipped?: boolean;
  /** An active waiver skips this resource (then skipped is true too). */
  waived?: boolean;
  /** Not judged, and why: a check-only runtime query on a snapshot (then skipped is true too). */
  notEvaluated?: string;
  /** A check-only resource (CimInstance): set never changes it. */
  checkOnly?: boolean;
  /** The catalog says this setting takes effect only after a restart. */
  restartRequired?: boolean;
  /** The resource's waiver, active or expired. */
  waiver?: { justification: string; expires: string; status: 'active' | 'expired'; approvedBy?: string; override?: boolean };
}

export type Mode = 'Get' | 'Test' | 'Set';

/**
 * Each resource counted exactly once: total = inDesiredState + drifted + changed + failed + skipped
 * + waived (for test and set; get judges nothing). In a set, inDesiredState means already there.
 */
export interface RunSummary {
  total: number;
  inDesiredState: number;
  drifted: number;
  changed: number;
  failed: number;
  /** Not attempted because an earlier setting failed under failFast, or not evaluated (a runtime check on a snapshot). */
  skipped: number;
  /** Left alone under an active waiver. */
  waived: number;
}

/** What one run of a generated script reports (its -OutputFormat Json). */
export interface RunReport {
  tool: 'winstate';
  version: string;
  document: string;
  mode: Mode;
  target: 'live' | 'snapshot';
  snapshot: string | null;
  /** The files of an offline run, by store (full paths). */
  snapshots?: Partial<Record<StoreName, string>>;
  whatIf: boolean;
  /** Set: the prior-state record written before the first change (null when nothing changed). */
  backup: string | null;
  /** Set: some settings changed while others failed or were skipped. */
  partial: boolean;
  psVersion: string;
  psEdition: string;
  durationMs: number;
  summary: RunSummary;
  results: ResourceResult[];
  /** Added by the engine to a set that changed something: its run record id. */
  runId?: string;
  /** Added by the engine: settings this run changed that take effect only after a restart. */
  restartNeeded?: string[];
}

export interface PlanItem {
  name: string;
  kind?: KindName;
  target: string;
  current: StateView;
  desired: StateView;
  differingProperties: string[];
}

/** apply = test, plan, set what drifted, test again. */
export interface ApplyReport {
  document: string;
  whatIf: boolean;
  plan: PlanItem[];
  test: RunReport;
  set?: RunReport;
  verify?: RunReport;
  converged: boolean;
  failed: number;
  /** Some settings changed while others failed or were skipped. */
  partial?: boolean;
  /** The run record of the set phase (see `winstate runs`), when it changed something. */
  runId?: string;
  /** The whole apply, each resource once (see applyCounts); under what-if, drifted are those that would change. */
  summary?: RunSummary;
}

/**
 * What an apply did to each resource, counted once: failed in any phase, waived, skipped (fail-fast),
 * changed (and verified, or under what-if never), already in desired state, or still drifted.
 */
export function applyCounts(report: Pick<ApplyReport, 'test' | 'set' | 'verify'>): RunSummary {
  const counts: RunSummary = { total: 0, inDesiredState: 0, drifted: 0, changed: 0, failed: 0, skipped: 0, waived: 0 };
  const set = new Map((report.set?.results ?? []).map((r) => [r.name, r]));
  const verify = new Map((report.verify?.results ?? []).map((r) => [r.name, r]));
  for (const t of report.test.results) {
    counts.total++;
    const s = set.get(t.name);
    const v = verify.get(t.name);
    if (t.error !== undefined || s?.error !== undefined || v?.error !== undefined) counts.failed++;
    else if (t.waived) counts.waived++;
    else if (s?.skipped || t.notEvaluated !== undefined) counts.skipped++;
    else if (s?.changed && (!v || v.inDesiredState)) counts.changed++;
    else if ((v ?? t).inDesiredState) counts.inDesiredState++;
    else counts.drifted++;
  }
  return counts;
}

/** Documented exit codes. */
export const EXIT = { ok: 0, runtimeError: 1, drift: 2, invalidInput: 3, partial: 4 } as const;

export function exitCodeOf(report: RunReport | ApplyReport): number {
  if (report.partial) return EXIT.partial;
  if ('plan' in report) {
    if (report.failed > 0) return EXIT.runtimeError;
    return report.converged ? EXIT.ok : EXIT.drift;
  }
  if (report.summary.failed > 0) return EXIT.runtimeError;
  if (report.mode !== 'Get' && report.summary.drifted > 0) return EXIT.drift;
  return EXIT.ok;
}
