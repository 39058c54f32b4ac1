/**
 * The normalised report model every renderer reads: built once from a run's results, the plan
 * (names, source lines, catalog entries) and facts about the host. Renderers are pure functions
 * of this model, so they can be tested without PowerShell and never disagree about a status.
 */
import { hostname, release, type, arch, userInfo } from 'node:os';
import { settingInfo } from '../kinds/info.js';
import { recommendedResource } from '../kinds/policy.js';
import { unitOf } from '../kinds/index.js';
import type { KindName } from '../kinds/kind.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Plan, PlannedResource } from '../document/validate.js';
import type { ApplyReport, ResourceResult, RunReport, StateView } from '../engine/results.js';
import { VERSION } from '../version.js';

export const REPORT_SCHEMA_ID = 'urn:winstate:report:v1';

/**
 * ok: in its desired state and left alone; changed: brought into its desired state by this run;
 * drift: not in its desired state; whatif: would be changed (what-if run); error: the setting failed;
 * skipped: not attempted (an earlier setting failed under fail-fast); waived: left alone under an
 * active waiver (neither judged nor changed). Every setting has exactly one of them.
 */
export const STATUSES = ['drift', 'error', 'whatif', 'changed', 'ok', 'skipped', 'waived'] as const;
export type SettingStatus = (typeof STATUSES)[number];

export const STATUS_LABEL: Record<SettingStatus, string> = {
  ok: 'In desired state',
  changed: 'Changed',
  drift: 'Drift',
  whatif: 'Would change',
  error: 'Error',
  skipped: 'Skipped',
  waived: 'Waived',
};

export const SEVERITIES = ['high', 'medium', 'low', 'unrated'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type StatusCounts = Record<SettingStatus, number> & { total: number };

export interface References {
  stig: string[];
  cis: string[];
  cce: string[];
  oval: string[];
}

/**
 * A waiver on a setting. Active without override: the setting is waived (not judged). Active with an
 * override: the override is what is enforced (desired), and `baseline` is what the document asked for.
 * Expired: the setting is enforced again and judged as usual.
 */
export interface ReportWaiver {
  status: 'active' | 'expired';
  justification: string;
  /** Last day (UTC) the waiver applies, YYYY-MM-DD. */
  expires: string;
  approvedBy: string | null;
  override: boolean;
  /** What the document (its resource or baseline) wants without the waiver. */
  baseline: StateView | null;
}

/**
 * A lockout risk the document accepts on a setting (`acceptLockoutRisk: <reason>`): the fleet's lockout
 * guard records instead of refusing. `findings` are what the guard found here for the identity it
 * checked in this run; empty when no guard ran (a local run without --as) or it found nothing.
 */
export interface ReportLockoutRisk {
  reason: string;
  findings: { setting: string; principal: string | null; message: string }[];
}

/** What the lockout guard found on a resource, as src/fleet/guard.ts reports it. */
export interface LockoutFindingInput {
  resource: string;
  setting: string;
  principal?: string;
  message: string;
}

export interface ReportSetting {
  /** Position in the document (0-based). */
  index: number;
  name: string;
  type: string;
  /** The setting's kind: how its states read (stateText) and where it lives. */
  kind: KindName;
  /** Where the setting lives, as the runtime reports it: `HIVE\key!value`, `User right SeDenyNetworkLogonRight`, ... */
  target: string;
  /** Catalog id (policy resources). */
  id: string | null;
  /** Catalog title: the policy's name in the Group Policy editor. */
  title: string | null;
  description: string | null;
  status: SettingStatus;
  /** The final desired and actual state (after the verify run of an apply). */
  desired: StateView | null;
  actual: StateView | null;
  /** The change this run made (or, under what-if, would make). */
  before: StateView | null;
  after: StateView | null;
  inDesiredState: boolean | null;
  differingProperties: string[];
  changed: boolean;
  error: string | null;
  severity: Severity;
  /** Catalog area, or the registry key holding the value for raw Registry resources. */
  area: string;
  gpoPath: string | null;
  rationale: string | null;
  impact: string | null;
  recommended: string | null;
  references: References;
  source: { file: string; line: number } | null;
  waiver: ReportWaiver | null;
  lockoutRisk: ReportLockoutRisk | null;
  /** The catalog says the setting takes effect only after a restart. */
  restartRequired: boolean;
  /** Skipped because it could not be judged here, and why (a runtime check on a snapshot). */
  notEvaluated?: string;
}

export interface ReportChange {
  name: string;
  kind: KindName;
  target: string;
  status: 'changed' | 'whatif';
  before: StateView | null;
  after: StateView | null;
}

export type Outcome = 'compliant' | 'drift' | 'converged' | 'not-converged' | 'would-change' | 'partial' | 'error';

export interface HostInfo {
  hostname: string;
  os: string;
  user: string | null;
  node: string;
  psVersion: string | null;
  psEdition: string | null;
}

export interface ReportModel {
  $schema: typeof REPORT_SCHEMA_ID;
  tool: 'winstate';
  version: string;
  command: 'test' | 'set' | 'apply';
  document: { name: string; file: string; description: string | null };
  target: { kind: 'live' | 'snapshot'; snapshot: string | null; snapshots?: RunReport['snapshots'] };
  whatIf: boolean;
  host: HostInfo;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Milliseconds PowerShell reported for each run the command made. */
  timings: { test: number | null; set: number | null; verify: number | null };
  outcome: Outcome;
  exitCode: number;
  summary: StatusCounts;
  bySeverity: Record<Severity, StatusCounts>;
  byArea: { area: string; counts: StatusCounts }[];
  settings: ReportSetting[];
  changes: ReportChange[];
}

export interface ReportInput {
  command: 'test' | 'set' | 'apply';
  plan: Plan;
  result: RunReport | ApplyReport;
  startedAt: Date;
  finishedAt: Date;
  exitCode: number;
  /** Facts about the machine; the current one by default (tests pass fixed ones). */
  host?: Partial<HostInfo>;
  /** What the lockout guard found before this run's changes (fleet runs, `--as`). */
  lockout?: LockoutFindingInput[];
}

/** Results may carry fields newer than this module's view of them. */
type AnyResult = ResourceResult & { skipped?: boolean };

export function emptyCounts(): StatusCounts {
  return { total: 0, ok: 0, changed: 0, drift: 0, whatif: 0, error: 0, skipped: 0, waived: 0 };
}

function currentHost(): HostInfo {
  let user: string | null = null;
  try {
    user = userInfo().username;
  } catch {
    user = null;
  }
  return { hostname: hostname() || 'localhost', os: `${type()} ${release()} ${arch()}`, user, node: process.version, psVersion: null, psEdition: null };
}

/** The view properties the report schema knows, of every kind. */
const VIEW_KEYS = ['ensure', 'valueType', 'valueData', 'policyValue', 'principals', 'mustInclude', 'mustExclude', 'value', 'success', 'failure', 'setting'] as const;

/** A state with exactly the properties the report schema knows, whatever else a runtime adds. */
function view(state: StateView | null | undefined): StateView | null {
  if (!state) return null;
  const out: Record<string, unknown> = {};
  for (const key of VIEW_KEYS) if (state[key] !== undefined) out[key] = state[key];
  return out as StateView;
}

function statusOfRun(r: AnyResult | undefined, mode: 'Test' | 'Set'): SettingStatus {
  if (!r) return 'skipped';
  if (r.error !== undefined) return 'error';
  if (r.waived) return 'waived';
  if (r.skipped) return 'skipped';
  if (mode === 'Set') {
    if (r.changed) return 'changed';
    if (r.whatIf) return 'whatif';
  }
  return r.inDesiredState ? 'ok' : 'drift';
}

function byName(report: RunReport | undefined): Map<string, AnyResult> {
  return new Map((report?.results ?? []).map((r) => [r.name, r as AnyResult]));
}

function isApply(result: RunReport | ApplyReport): result is ApplyReport {
  return 'plan' in result;
}

/** Per setting: final status, the state to show, and the change made, from one command's reports. */
function settle(input: ReportInput, name: string): {
  status: SettingStatus;
  final: AnyResult | undefined;
  change: AnyResult | undefined;
} {
  const { result } = input;
  if (!isApply(result)) {
    const r = byName(result).get(name);
    const mode = result.mode === 'Set' ? 'Set' : 'Test';
    return { status: statusOfRun(r, mode), final: r, change: mode === 'Set' && (r?.changed || r?.whatIf) ? r : undefined };
  }
  const test = byName(result.test).get(name);
  const set = result.set ? byName(result.set).get(name) : undefined;
  const verify = result.verify ? byName(result.verify).get(name) : undefined;
  const change = set && (set.changed || set.whatIf) ? set : undefined;
  if (test?.waived && !set?.changed) return { status: 'waived', final: test, change };
  for (const phase of [verify, set, test]) {
    if (phase?.error !== undefined) return { status: 'error', final: phase, change };
  }
  if (set?.skipped) return { status: 'skipped', final: test, change };
  if (result.whatIf) return { status: set?.whatIf ? 'whatif' : statusOfRun(test, 'Test'), final: test, change };
  if (verify) {
    const status = verify.inDesiredState ? (set?.changed ? 'changed' : 'ok') : 'drift';
    return { status, final: verify, change };
  }
  if (set) return { status: statusOfRun(set, 'Set'), final: set, change };
  return { status: statusOfRun(test, 'Test'), final: test, change };
}

function outcomeOf(input: ReportInput, summary: StatusCounts): Outcome {
  const { result } = input;
  if ((result as { partial?: boolean }).partial) return 'partial';
  if (summary.error > 0) return 'error';
  if (summary.whatif > 0) return 'would-change';
  if (summary.drift > 0) return input.command === 'test' ? 'drift' : 'not-converged';
  if (summary.changed > 0) return 'converged';
  return 'compliant';
}

function firstRun(result: RunReport | ApplyReport): RunReport {
  return isApply(result) ? result.test : result;
}

export function buildReportModel(input: ReportInput): ReportModel {
  const { plan, result } = input;
  const run = firstRun(result);
  const resources = new Map(plan.resources.map((r) => [r.name, r]));
  // Every resource of the plan, in document order; anything the runtime reported that the plan lacks goes last.
  const names = [...plan.resources.map((r) => r.name)];
  for (const r of run.results) if (!resources.has(r.name)) names.push(r.name);

  const settings: ReportSetting[] = names.map((name, index) => {
    const resource = resources.get(name);
    const { status, final, change } = settle(input, name);
    const info = settingInfo(resource);
    const target = final?.target ?? change?.target ?? run.results.find((r) => r.name === name)?.target ?? '';
    const desired = view(final?.desired ?? change?.desired);
    const kind = final?.kind ?? change?.kind ?? resource?.kind ?? 'Registry';
    return {
      index,
      name,
      type: final?.type ?? resource?.type ?? 'Registry',
      kind,
      target,
      id: final?.id ?? info.id ?? null,
      title: info.title ?? null,
      description: resource?.description ?? null,
      status,
      desired,
      // Set runs report before/after instead of actual; under what-if, "after" is what it would become.
      actual: view(final?.actual ?? (final?.whatIf ? final.before : (final?.after ?? final?.before))),
      before: view(change?.before),
      after: change ? (change.whatIf ? desired : view(change.after)) : null,
      inDesiredState: final?.inDesiredState ?? null,
      differingProperties: final?.differingProperties ?? change?.differingProperties ?? [],
      changed: Boolean(change?.changed),
      error: final?.error ?? null,
      severity: info.severity ?? 'unrated',
      area: info.area ?? unitOf(kind).area(target),
      gpoPath: info.gpoPath ?? null,
      rationale: info.rationale ?? null,
      impact: info.impact ?? null,
      recommended: recommendedText(resource) ?? info.recommended ?? null,
      references: departsFromCatalog(resource) ? { ...info.references, stig: [] } : info.references,
      source: resource ? { file: plan.file, line: resource.line } : null,
      waiver: waiverOf(resource, final ?? run.results.find((r) => r.name === name)),
      lockoutRisk: lockoutRiskOf(resource, input.lockout),
      restartRequired: Boolean(resource?.entry?.restartRequired),
      ...(final?.notEvaluated !== undefined ? { notEvaluated: final.notEvaluated } : {}),
    };
  });

  const summary = emptyCounts();
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, emptyCounts()])) as Record<Severity, StatusCounts>;
  const areas = new Map<string, StatusCounts>();
  for (const s of settings) {
    for (const counts of [summary, bySeverity[s.severity], areas.get(s.area) ?? areas.set(s.area, emptyCounts()).get(s.area)!]) {
      counts.total++;
      counts[s.status]++;
    }
  }

  const changes: ReportChange[] = settings
    .filter((s) => s.before !== null || s.after !== null)
    .filter((s) => s.changed || s.status === 'whatif')
    .map((s) => ({ name: s.name, kind: s.kind, target: s.target, status: s.changed ? 'changed' : 'whatif', before: s.before, after: s.after }));

  const apply = isApply(result) ? result : undefined;
  const host: HostInfo = { ...currentHost(), psVersion: run.psVersion ?? null, psEdition: run.psEdition ?? null, ...input.host };
  return {
    $schema: REPORT_SCHEMA_ID,
    tool: 'winstate',
    version: VERSION,
    command: input.command,
    document: { name: plan.name, file: plan.file, description: plan.description ?? null },
    target: { kind: run.target, snapshot: run.snapshot ?? null, ...(run.snapshots && Object.keys(run.snapshots).length ? { snapshots: { ...run.snapshots } } : {}) },
    whatIf: apply ? apply.whatIf : run.whatIf,
    host,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    durationMs: Math.max(0, input.finishedAt.getTime() - input.startedAt.getTime()),
    timings: {
      test: apply ? apply.test.durationMs : run.mode === 'Test' ? run.durationMs : null,
      set: apply ? (apply.set?.durationMs ?? null) : run.mode === 'Set' ? run.durationMs : null,
      verify: apply?.verify?.durationMs ?? null,
    },
    outcome: outcomeOf(input, summary),
    exitCode: input.exitCode,
    summary,
    bySeverity,
    byArea: [...areas].map(([area, counts]) => ({ area, counts })).sort((a, b) => b.counts.total - a.counts.total || a.area.localeCompare(b.area)),
    settings,
    changes,
  };
}

/** The area a resource is grouped under: its catalog entry's, else its kind's from the target. */
export function settingArea(resource: PlannedResource): string {
  return resource.entry?.area ?? unitOf(resource.kind).area(resource.target);
}

/** The desired state a resource declares, as results show it (before any waiver override). */
export function declaredView(resource: PlannedResource): StateView {
  return unitOf(resource.kind).desiredView(resource.spec, resource.policy) as StateView;
}

/** The waiver as the run judged it (the runtime knows the day it ran), else as the document states it. */
function waiverOf(resource: PlannedResource | undefined, result: AnyResult | undefined): ReportWaiver | null {
  const planned = resource?.waiver;
  const ran = result?.waiver;
  if (!planned && !ran) return null;
  const status = ran?.status ?? (planned!.expired ? 'expired' : 'active');
  return {
    status,
    justification: ran?.justification ?? planned!.justification,
    expires: ran?.expires ?? planned!.expires,
    approvedBy: ran?.approvedBy ?? planned?.approvedBy ?? null,
    override: Boolean(planned?.override) || Boolean(ran?.override),
    baseline: resource ? declaredView(resource) : null,
  };
}

function lockoutRiskOf(resource: PlannedResource | undefined, findings: LockoutFindingInput[] = []): ReportLockoutRisk | null {
  if (resource?.acceptLockoutRisk === undefined) return null;
  return {
    reason: resource.acceptLockoutRisk,
    findings: findings.filter((f) => f.resource === resource.name).map((f) => ({ setting: f.setting, principal: f.principal ?? null, message: f.message })),
  };
}

/** One line about an accepted lockout risk, in the words every report uses. */
export function lockoutRiskText(risk: ReportLockoutRisk): string {
  const found = risk.findings.length ? `; the lockout guard found: ${risk.findings.map((f) => f.message).join('; ')}` : '';
  return `lockout risk accepted: ${risk.reason}${found}`;
}

/** One line about a waiver, in the words every report uses. */
export function waiverText(w: ReportWaiver, kind?: KindName): string {
  const by = w.approvedBy ? `, approved by ${w.approvedBy}` : '';
  if (w.status === 'expired') return `waiver expired on ${w.expires}${by}; enforced again: ${w.justification}`;
  if (w.override) return `waiver until ${w.expires}${by} enforces an override instead of ${stateText(w.baseline, kind)}: ${w.justification}`;
  return `waived until ${w.expires}${by}: ${w.justification}`;
}

/** The files an offline run used, for people: "a.reg, b.inf"; the registry export alone for older reports. */
export function snapshotFiles(model: Pick<ReportModel, 'target'>): string {
  const files = Object.values(model.target.snapshots ?? {});
  return files.length ? files.join(', ') : (model.target.snapshot ?? '');
}

/** Compact human rendering of a state in its kind's words (the policy's own words when it has them). */
export function stateText(view: StateView | null | undefined, kind: KindName | undefined = 'Registry'): string {
  if (!view) return '?';
  return unitOf(kind).stateText(view as Record<string, unknown>);
}

/**
 * The stored data behind a state, for reports that show both the policy's words and the raw value:
 * the registry type and data, or a template's value; '' when the kind has nothing more to show.
 */
export function rawStateText(view: StateView | null | undefined, kind: KindName | undefined = 'Registry'): string {
  if (!view) return '';
  if (kind !== 'Registry') return view.policyValue !== undefined && view.value !== undefined ? stateText({ ...view, policyValue: undefined }, kind) : '';
  if (view.ensure === 'Absent') return 'absent';
  if (!view.valueType) return 'key present';
  return `${view.valueType} ${JSON.stringify(view.valueData)}`;
}

/** A state in words with its stored data in brackets when they differ (policy settings). */
export function stateWithRaw(view: StateView | null | undefined, kind: KindName | undefined, open = ' [', close = ']'): string {
  const raw = view?.policyValue !== undefined ? rawStateText(view, kind) : '';
  return `${stateText(view, kind)}${raw ? `${open}${raw}${close}` : ''}`;
}

/** "expected X, actual Y" in a setting's own terms, with the properties that differ. */
export function expectedActual(s: ReportSetting): string {
  const differing = s.differingProperties.length ? ` (differs in ${s.differingProperties.join(', ')})` : '';
  return `expected ${stateText(s.desired, s.kind)}, actual ${stateText(s.actual, s.kind)}${differing}`;
}

/** Settings the STIG checklist covers: those with a STIG reference. */
export function stigSettings(model: ReportModel): ReportSetting[] {
  return model.settings.filter((s) => s.references.stig.length > 0);
}

/**
 * A catalog setting the document sets to something other than the catalog's
 * recommendation, which for STIG-cited entries is what the STIG requires, and which the document does
 * not itself cite a STIG rule for. Such a setting says nothing about the STIG rule, so STIG checklists
 * leave it out rather than pass the rule on another baseline's value.
 */
function departsFromCatalog(resource: PlannedResource | undefined): boolean {
  const entry = resource?.entry;
  if (!resource || !entry?.references.stig?.length) return false;
  // The document's own STIG reference (what `import stig` writes, per rule, with that rule's value for
  // the role) is its claim: the catalog's recommendation holds for one role only where the STIG's value
  // differs by role (trusted for delegation: no one on MS, Administrators on DC), or there is none.
  if (resource.metadata?.references?.stig?.length) return false;
  // What the document declares, not what a waiver puts in its place: a waived or overridden rule stays
  // in the checklist, with its waiver.
  const recommended = recommendedResource(entry, NO_CATALOG);
  return !recommended || recommended.kind !== resource.kind || !unitOf(resource.kind).sameDesired(resource.spec, recommended.spec);
}

/**
 * A non-registry catalog recommendation in its kind's words ("BUILTIN\\Guests, NT AUTHORITY\\Local
 * account", "includes Failure") when the entry gives no text of its own.
 */
function recommendedText(resource: PlannedResource | undefined): string | undefined {
  const entry = resource?.entry;
  if (!entry?.storage || typeof entry.recommended !== 'object' || entry.recommended.text) return undefined;
  try {
    const r = recommendedResource(entry, NO_CATALOG);
    if (!r) return undefined;
    const unit = unitOf(r.kind);
    return unit.stateText(unit.desiredView(r.spec, r.policy));
  } catch {
    return undefined; // a broken entry is the catalog tests' to report; the report still renders
  }
}

/** Resolving an entry's own recommendation looks nothing up in the catalog. */
const NO_CATALOG = new Proxy({}, { get: () => { throw new Error('internal error: a recommendation looked up the catalog'); } }) as Catalog;
