/** Result shapes, as DSC v3 has them: test -> desired/actual/inDesiredState/differingProperties; set -> before/after/changed. */

export interface StateView {
  ensure: 'Present' | 'Absent';
  valueType?: string;
  valueData?: string | number | string[];
  /** For policy resources: the policy's own name for the data, null when it matches no choice. */
  policyValue?: string | null;
}

export interface ResourceResult {
  name: string;
  type: string;
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
  /** The resource failed; the others still ran. */
  error?: string;
}

export type Mode = 'Get' | 'Test' | 'Set';

export interface RunSummary {
  total: number;
  inDesiredState: number;
  drifted: number;
  changed: number;
  failed: number;
}

/** What one run of a generated script reports (its -OutputFormat Json). */
export interface RunReport {
  tool: 'winstate';
  version: string;
  document: string;
  mode: Mode;
  target: 'live' | 'snapshot';
  snapshot: string | null;
  whatIf: boolean;
  psVersion: string;
  psEdition: string;
  durationMs: number;
  summary: RunSummary;
  results: ResourceResult[];
}

export interface PlanItem {
  name: string;
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
}

/** Documented exit codes. */
export const EXIT = { ok: 0, runtimeError: 1, drift: 2, invalidInput: 3 } as const;

export function exitCodeOf(report: RunReport | ApplyReport): number {
  if ('plan' in report) {
    if (report.failed > 0) return EXIT.runtimeError;
    return report.converged ? EXIT.ok : EXIT.drift;
  }
  if (report.summary.failed > 0) return EXIT.runtimeError;
  if (report.mode !== 'Get' && report.summary.drifted > 0) return EXIT.drift;
  return EXIT.ok;
}
