/**
 * For STIG auditors: a STIG Viewer checklist (.ckl) of the STIG-referenced settings
 * (Open / NotAFinding / Not_Reviewed, with finding details), and an XCCDF 1.2 TestResult.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { lockoutRiskText, rawStateText, snapshotFiles, stateText, STATUS_LABEL, stigSettings, waiverText, type ReportModel, type ReportSetting, type SettingStatus } from './model.js';
import { xmlAttr, xmlText } from './escape.js';
import { ruleApplicability, type Scope, type StigBenchmark, type StigRule } from '../catalog/stig/xccdf.js';
import { importBenchmark, type NotImported } from '../catalog/stig/import.js';
import { counted } from '../plural.js';

/** What a report may know besides the run: the STIG benchmark a checklist follows (--benchmark). */
export interface ReportContext {
  stig?: { benchmark: StigBenchmark; file: string; scope?: Scope | null };
}

export type CklStatus = 'Open' | 'NotAFinding' | 'Not_Reviewed' | 'Not_Applicable';

export const CKL_STATUS: Record<SettingStatus, CklStatus> = {
  ok: 'NotAFinding',
  changed: 'NotAFinding',
  drift: 'Open',
  whatif: 'Open',
  error: 'Not_Reviewed',
  skipped: 'Not_Reviewed',
  waived: 'Not_Applicable',
};

/** Worst first: one VULN covering several settings takes the worst of their statuses. */
const CKL_RANK: Record<CklStatus, number> = { Open: 0, Not_Reviewed: 1, Not_Applicable: 2, NotAFinding: 3 };

/** An active override that holds: the rule is not met as written but waived, so Not_Applicable with the justification. */
function overrideHolds(s: ReportSetting): boolean {
  return s.waiver?.status === 'active' && s.waiver.override && (s.status === 'ok' || s.status === 'changed');
}

export function cklStatus(s: ReportSetting): CklStatus {
  return overrideHolds(s) ? 'Not_Applicable' : CKL_STATUS[s.status];
}

export type XccdfResult = 'pass' | 'fixed' | 'fail' | 'error' | 'notchecked' | 'notapplicable' | 'informational';

/** XCCDF 1.2 result of a setting: a held override is informational (checked, but against the waiver's value). */
export function xccdfResult(s: ReportSetting): XccdfResult {
  return overrideHolds(s) ? 'informational' : XCCDF_RESULT[s.status];
}

export const XCCDF_RESULT: Record<SettingStatus, 'pass' | 'fixed' | 'fail' | 'error' | 'notchecked' | 'notapplicable'> = {
  ok: 'pass',
  changed: 'fixed',
  drift: 'fail',
  whatif: 'fail',
  error: 'error',
  skipped: 'notchecked',
  waived: 'notapplicable',
};

/** The kinds of id a catalog's STIG references hold. */
export function splitStigIds(ids: string[]): { vuln: string[]; rule: string[]; stigId: string[] } {
  return {
    vuln: ids.filter((id) => /^V-\d+$/.test(id)),
    rule: ids.filter((id) => /^SV-\d+/.test(id)),
    stigId: ids.filter((id) => !/^S?V-\d+/.test(id)),
  };
}

function uuidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

function targetName(model: ReportModel): string {
  const first = model.target.snapshot ?? Object.values(model.target.snapshots ?? {})[0];
  if (model.target.kind === 'snapshot' && first) return basename(first).replace(/\.(reg|inf|csv)$/i, '');
  return model.host.hostname;
}

function targetDescription(model: ReportModel): string {
  return model.target.kind === 'snapshot'
    ? `snapshot ${snapshotFiles(model)}, evaluated on ${model.host.hostname}`
    : `live settings of ${model.host.hostname}`;
}

function withRaw(view: ReportSetting['desired'], kind: ReportSetting['kind']): string {
  const words = stateText(view, kind);
  const raw = rawStateText(view, kind);
  return view?.policyValue !== undefined && raw ? `${words} (${raw})` : words;
}

/** What an XCCDF instance names: a registry location, or a setting of another kind (user right, ...). */
function instanceContext(s: ReportSetting): string {
  return s.kind === 'Registry' ? 'registry' : s.kind.replace(/[A-Z]/g, (c, i: number) => `${i ? '-' : ''}${c.toLowerCase()}`);
}

export function findingDetails(model: ReportModel, s: ReportSetting): string {
  const lines = [
    `winstate ${model.version} ${model.command}${model.whatIf ? ' (what-if)' : ''} of ${model.document.name} on ${targetDescription(model)} at ${model.finishedAt}`,
    `Setting: ${s.name} (${s.type}${s.id ? ` ${s.id}` : ''})`,
    // The second line says where the value lives: a registry value, or a local policy (user right, audit subcategory, [System Access] key).
    `${s.kind === 'Registry' ? 'Registry' : 'Policy'}: ${s.target}`,
    `Expected: ${withRaw(s.desired, s.kind)}`,
    `Actual: ${withRaw(s.actual, s.kind)}`,
  ];
  switch (s.status) {
    case 'ok':
      lines.push('Result: in the desired state.');
      break;
    case 'changed':
      lines.push(`Result: changed by winstate from ${withRaw(s.before, s.kind)} to ${withRaw(s.after, s.kind)}, then verified in the desired state.`);
      break;
    case 'drift':
      lines.push(`Result: not in the desired state${s.differingProperties.length ? ` (differs in ${s.differingProperties.join(', ')})` : ''}.`);
      break;
    case 'whatif':
      lines.push('Result: not in the desired state; a what-if run would change it.');
      break;
    case 'error':
      lines.push(`Result: could not be evaluated: ${s.error}`);
      break;
    case 'skipped':
      lines.push('Result: not evaluated (an earlier setting failed with --fail-fast).');
      break;
    case 'waived':
      lines.push('Result: not evaluated: an active waiver leaves it alone.');
      break;
  }
  if (s.waiver) lines.push(`Waiver: ${waiverText(s.waiver, s.kind)}`);
  if (s.waiver?.override && s.waiver.status === 'active') lines.push(`Baseline: ${withRaw(s.waiver.baseline, s.kind)}; enforced instead: ${withRaw(s.desired, s.kind)}`);
  if (s.lockoutRisk) lines.push(`Lockout: ${lockoutRiskText(s.lockoutRisk)}`);
  return lines.join('\n');
}

/** The waivers and accepted lockout risks of a rule's settings, one line each, for COMMENTS. */
function acceptedNotes(settings: ReportSetting[]): string[] {
  return [
    ...settings.filter((s) => s.waiver).map((s) => `${s.name}: ${waiverText(s.waiver!, s.kind)}`),
    ...settings.filter((s) => s.lockoutRisk).map((s) => `${s.name}: ${lockoutRiskText(s.lockoutRisk!)}`),
  ];
}

interface Vuln {
  num: string;
  settings: ReportSetting[];
}

function vulns(model: ReportModel): Vuln[] {
  const byNum = new Map<string, Vuln>();
  for (const s of stigSettings(model)) {
    const ids = splitStigIds(s.references.stig);
    const num = ids.vuln[0] ?? ids.rule[0] ?? ids.stigId[0] ?? s.references.stig[0]!;
    const vuln = byNum.get(num) ?? byNum.set(num, { num, settings: [] }).get(num)!;
    vuln.settings.push(s);
  }
  return [...byNum.values()];
}

function stigData(name: string, value: string): string {
  return `\t\t\t\t<STIG_DATA>\n\t\t\t\t\t<VULN_ATTRIBUTE>${name}</VULN_ATTRIBUTE>\n\t\t\t\t\t<ATTRIBUTE_DATA>${xmlText(value)}</ATTRIBUTE_DATA>\n\t\t\t\t</STIG_DATA>`;
}

function vulnXml(model: ReportModel, vuln: Vuln): string {
  const first = vuln.settings[0]!;
  const ids = splitStigIds([...new Set(vuln.settings.flatMap((s) => s.references.stig))]);
  const status = vuln.settings.map(cklStatus).sort((a, b) => CKL_RANK[a] - CKL_RANK[b])[0]!;
  const currentRule = ids.rule.find((id) => /r\d+_rule$/.test(id)) ?? '';
  const legacy = [...ids.vuln.filter((id) => id !== vuln.num), ...ids.rule.filter((id) => id !== currentRule)];
  const policy = first.title ? `${first.gpoPath ? `${first.gpoPath} >> ` : ''}${first.title}` : first.target;
  const data: [string, string][] = [
    ['Vuln_Num', vuln.num],
    ['Severity', first.severity === 'unrated' ? 'medium' : first.severity],
    ['Group_Title', first.title ?? first.name],
    ['Rule_ID', currentRule],
    ['Rule_Ver', ids.stigId[0] ?? ''],
    ['Rule_Title', first.title ?? first.name],
    ['Vuln_Discuss', first.rationale ?? ''],
    ['IA_Controls', ''],
    ['Check_Content', `${first.kind === 'Registry' ? 'The registry value ' : ''}${first.target} must be ${rawStateText(first.desired, first.kind) || stateText(first.desired, first.kind)}.`],
    ['Fix_Text', `Configure the policy value for ${policy} to "${stateText(first.desired, first.kind)}".`],
    ['False_Positives', ''],
    ['False_Negatives', ''],
    ['Documentable', 'false'],
    ['Mitigations', ''],
    ['Potential_Impact', first.impact ?? ''],
    ['Third_Party_Tools', ''],
    ['Mitigation_Control', ''],
    ['Responsibility', ''],
    ['Security_Override_Guidance', ''],
    ['Check_Content_Ref', 'M'],
    ['Weight', '10.0'],
    ['Class', 'Unclass'],
    ['STIGRef', `winstate: ${model.document.name}`],
    ['TargetKey', ''],
    ['STIG_UUID', uuidFrom(`${model.document.name}\u0000${vuln.num}`)],
    ...legacy.map((id): [string, string] => ['LEGACY_ID', id]),
  ];
  const details = vuln.settings.map((s) => findingDetails(model, s)).join('\n\n');
  const waivers = acceptedNotes(vuln.settings);
  const comments = [
    `Evaluated automatically by winstate from ${model.document.file}; ${vuln.settings.map((s) => `${s.name}: ${STATUS_LABEL[s.status]}`).join('; ')}.`,
    ...waivers,
  ].join('\n');
  return vulnElement(data, status, details, comments);
}

function siData(name: string, value: string): string {
  return value === ''
    ? `\t\t\t\t<SI_DATA>\n\t\t\t\t\t<SID_NAME>${name}</SID_NAME>\n\t\t\t\t</SI_DATA>`
    : `\t\t\t\t<SI_DATA>\n\t\t\t\t\t<SID_NAME>${name}</SID_NAME>\n\t\t\t\t\t<SID_DATA>${xmlText(value)}</SID_DATA>\n\t\t\t\t</SI_DATA>`;
}

export function renderCkl(model: ReportModel, context: ReportContext = {}): string {
  if (context.stig) return renderBenchmarkCkl(model, context.stig.benchmark, context.stig.file, context.stig.scope);
  const info: [string, string][] = [
    ['version', '1'],
    ['classification', 'UNCLASSIFIED'],
    ['customname', ''],
    ['stigid', `winstate_${model.document.name}`],
    ['description', model.document.description ?? `Settings of the winstate document ${model.document.name}`],
    ['filename', basename(model.document.file)],
    ['releaseinfo', `winstate ${model.version} ${model.command} ${model.finishedAt.slice(0, 10)}`],
    ['title', `winstate: ${model.document.name}`],
    ['uuid', uuidFrom(`winstate\u0000${model.document.name}`)],
    ['notice', 'terms-of-use'],
    ['source', ''],
  ];
  return checklist(model, info, vulns(model).map((v) => vulnXml(model, v)));
}

/** The CKL document around its STIG_INFO and VULNs, as STIG Viewer 2.x writes it. */
function checklist(model: ReportModel, info: [string, string][], vulnsXml: string[]): string {
  const asset: [string, string][] = [
    ['ROLE', 'None'],
    ['ASSET_TYPE', 'Computing'],
    ['MARKING', 'CUI'],
    ['HOST_NAME', targetName(model)],
    ['HOST_IP', ''],
    ['HOST_MAC', ''],
    ['HOST_FQDN', ''],
    ['TARGET_COMMENT', targetDescription(model)],
    ['TECH_AREA', ''],
    ['TARGET_KEY', ''],
    ['WEB_OR_DATABASE', 'false'],
    ['WEB_DB_SITE', ''],
    ['WEB_DB_INSTANCE', ''],
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!--DISA STIG Viewer :: 2.17-->`,
    `<!--${xmlText(`written by winstate ${model.version}`).replace(/--/g, '- -')}-->`,
    '<CHECKLIST>',
    '\t<ASSET>',
    ...asset.map(([name, value]) => `\t\t<${name}>${xmlText(value)}</${name}>`),
    '\t</ASSET>',
    '\t<STIGS>',
    '\t\t<iSTIG>',
    '\t\t\t<STIG_INFO>',
    ...info.map(([name, value]) => siData(name, value)),
    '\t\t\t</STIG_INFO>',
    ...vulnsXml,
    '\t\t</iSTIG>',
    '\t</STIGS>',
    '</CHECKLIST>',
    '',
  ].join('\n');
}

/** The settings that answer a benchmark rule: those citing its vulnerability, rule or STIG id. */
function settingsOf(model: ReportModel, rule: StigRule): ReportSetting[] {
  const ids = new Set([rule.vulnId, rule.ruleId, rule.stigId, ...rule.legacyIds].map((id) => id.toUpperCase()));
  return stigSettings(model).filter((s) => s.references.stig.some((id) => ids.has(id.toUpperCase())));
}

/**
 * The scope a checklist covers when none is given: the one every rule the document manages applies
 * to (MS when both fit and the document name does not end in -dc); null when they need both.
 */
export function benchmarkScope(model: ReportModel, benchmark: StigBenchmark): Scope | null {
  const managed = benchmark.rules.filter((r) => settingsOf(model, r).length > 0).map((r) => ruleApplicability(r).scope);
  const fitsMs = managed.every((scope) => scope.includes('MS'));
  const fitsDc = managed.every((scope) => scope.includes('DC'));
  if (fitsMs && fitsDc) return /-dc$/i.test(model.document.name) ? 'DC' : 'MS';
  return fitsMs ? 'MS' : fitsDc ? 'DC' : null;
}

/** Why winstate left a rule alone, for its Not_Reviewed entry. */
function notManagedReason(model: ReportModel, notImported: NotImported | undefined): string {
  // The importer's own verdict, so the checklist and `import stig` give one reason for a rule.
  if (notImported) {
    return `Not reviewed by winstate: winstate has no setting that can set or check this rule (${notImported.category}: ${notImported.reason}). Review it by hand.`;
  }
  return `Not reviewed by winstate: the document ${model.document.name} has no resource for this rule (or sets another value than the STIG asks), so this run says nothing about it.`;
}

/** The rules of a benchmark that `import stig` cannot turn into settings, by rule id. */
function notImportedRules(benchmark: StigBenchmark, scope: Scope | null): Map<string, NotImported> {
  return new Map(importBenchmark(benchmark, scope ? { scope } : {}).notImported.map((n) => [n.rule.ruleId, n]));
}

/**
 * A checklist that STIG Viewer merges with the official one: the benchmark's own STIG_INFO and, for
 * every rule of the scope in benchmark order, its ids and texts; rules the document manages carry
 * the run's result, the others are Not_Reviewed with the reason.
 */
function renderBenchmarkCkl(model: ReportModel, benchmark: StigBenchmark, file: string, scopeGiven: Scope | null | undefined): string {
  const scope = scopeGiven === undefined ? benchmarkScope(model, benchmark) : scopeGiven;
  const notImported = notImportedRules(benchmark, scope);
  const release = benchmark.releaseInfo ?? (benchmark.release !== null ? `Release: ${benchmark.release}` : '');
  const info: [string, string][] = [
    ['version', benchmark.version],
    ['classification', 'UNCLASSIFIED'],
    ['customname', ''],
    ['stigid', benchmark.id],
    ['description', benchmark.title],
    ['filename', basename(file)],
    ['releaseinfo', release],
    ['title', benchmark.title],
    ['uuid', uuidFrom(`stig\u0000${benchmark.id}\u0000${benchmark.version}\u0000${release}\u0000${scope ?? ''}`)],
    ['notice', 'terms-of-use'],
    ['source', 'STIG.DOD.MIL'],
  ];
  const stigRef = `${benchmark.title} :: Version ${benchmark.version}, ${release}`;
  const rules = benchmark.rules.filter((r) => !scope || ruleApplicability(r).scope.includes(scope));
  const vulnsXml = rules.map((rule) => {
    const settings = settingsOf(model, rule);
    const status: CklStatus = settings.length ? settings.map(cklStatus).sort((a, b) => CKL_RANK[a] - CKL_RANK[b])[0]! : 'Not_Reviewed';
    const details = settings.length ? settings.map((s) => findingDetails(model, s)).join('\n\n') : notManagedReason(model, notImported.get(rule.ruleId));
    const waivers = acceptedNotes(settings);
    const comments = settings.length
      ? [`Evaluated automatically by winstate from ${model.document.file}; ${settings.map((s) => `${s.name}: ${STATUS_LABEL[s.status]}`).join('; ')}.`, ...waivers].join('\n')
      : '';
    const data: [string, string][] = [
      ['Vuln_Num', rule.vulnId],
      ['Severity', rule.severity === 'high' || rule.severity === 'low' ? rule.severity : 'medium'],
      ['Group_Title', rule.srgId],
      ['Rule_ID', rule.ruleId],
      ['Rule_Ver', rule.stigId],
      ['Rule_Title', rule.title],
      ['Vuln_Discuss', rule.discussion ?? ''],
      ['IA_Controls', ''],
      ['Check_Content', rule.checkText],
      ['Fix_Text', rule.fixText],
      ['False_Positives', ''],
      ['False_Negatives', ''],
      ['Documentable', 'false'],
      ['Mitigations', ''],
      ['Potential_Impact', ''],
      ['Third_Party_Tools', ''],
      ['Mitigation_Control', ''],
      ['Responsibility', ''],
      ['Security_Override_Guidance', ''],
      ['Check_Content_Ref', 'M'],
      ['Weight', rule.weight !== null ? rule.weight.toFixed(1) : '10.0'],
      ['Class', 'Unclass'],
      ['STIGRef', stigRef],
      ['TargetKey', rule.targetKey ?? ''],
      ['STIG_UUID', uuidFrom(`${benchmark.id}\u0000${rule.ruleId}`)],
      ...rule.legacyIds.map((id): [string, string] => ['LEGACY_ID', id]),
      ...rule.ccis.map((id): [string, string] => ['CCI_REF', id]),
    ];
    return vulnElement(data, status, details, comments);
  });
  return checklist(model, info, vulnsXml);
}

function vulnElement(data: [string, string][], status: CklStatus, details: string, comments: string): string {
  return [
    '\t\t\t<VULN>',
    ...data.map(([name, value]) => stigData(name, value)),
    `\t\t\t\t<STATUS>${status}</STATUS>`,
    `\t\t\t\t<FINDING_DETAILS>${xmlText(details)}</FINDING_DETAILS>`,
    `\t\t\t\t<COMMENTS>${xmlText(comments)}</COMMENTS>`,
    '\t\t\t\t<SEVERITY_OVERRIDE></SEVERITY_OVERRIDE>',
    '\t\t\t\t<SEVERITY_JUSTIFICATION></SEVERITY_JUSTIFICATION>',
    '\t\t\t</VULN>',
  ].join('\n');
}

/** XCCDF ids are NCNames of the form xccdf_<reverse DNS>_<kind>_<name>. */
function xccdfId(kind: string, name: string): string {
  return `xccdf_io.winstate_${kind}_${name.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

const IDENT_SYSTEM = {
  vuln: 'http://cyber.mil/stig/vuln',
  legacy: 'http://cyber.mil/legacy',
  stigId: 'http://cyber.mil/stig/stigid',
  cce: 'https://ncp.nist.gov/cce',
  cis: 'https://www.cisecurity.org/benchmark',
} as const;

function idents(s: ReportSetting): string[] {
  const ids = splitStigIds(s.references.stig);
  const out: [string, string][] = [
    ...ids.vuln.slice(0, 1).map((id): [string, string] => [IDENT_SYSTEM.vuln, id]),
    ...[...ids.vuln.slice(1), ...ids.rule].map((id): [string, string] => [IDENT_SYSTEM.legacy, id]),
    ...ids.stigId.map((id): [string, string] => [IDENT_SYSTEM.stigId, id]),
    ...s.references.cce.map((id): [string, string] => [IDENT_SYSTEM.cce, id]),
    ...s.references.cis.map((id): [string, string] => [IDENT_SYSTEM.cis, id]),
  ];
  return out.map(([system, id]) => `\t\t<ident system="${system}">${xmlText(id)}</ident>`);
}

function ruleResult(model: ReportModel, s: ReportSetting): string {
  const stigId = splitStigIds(s.references.stig).stigId[0];
  const attrs = [
    `idref="${xmlAttr(xccdfId('rule', s.id ?? `registry-${s.index}`))}"`,
    `severity="${s.severity === 'unrated' ? 'unknown' : s.severity}"`,
    `time="${model.finishedAt}"`,
    ...(stigId ? [`version="${xmlAttr(stigId)}"`] : []),
  ];
  const message = s.status === 'error' ? `error: ${s.error}` : findingDetails(model, s);
  return [
    `\t<rule-result ${attrs.join(' ')}>`,
    `\t\t<result>${xccdfResult(s)}</result>`,
    ...idents(s),
    `\t\t<message severity="${s.status === 'error' ? 'error' : 'info'}">${xmlText(message)}</message>`,
    `\t\t<instance context="${xmlAttr(instanceContext(s))}">${xmlText(s.target)}</instance>`,
    '\t</rule-result>',
  ].join('\n');
}

/**
 * The instances of one rule-result. XCCDF 1.2 keys an instance by its context within a rule-result,
 * so the targets of one kind (two registry values of a rule) share one instance, a line each.
 */
function instances(settings: ReportSetting[]): string[] {
  const byContext = new Map<string, string[]>();
  for (const s of settings) byContext.set(instanceContext(s), [...(byContext.get(instanceContext(s)) ?? []), s.target]);
  return [...byContext].map(([context, targets]) => `\t\t<instance context="${xmlAttr(context)}">${xmlText(targets.join('\n'))}</instance>`);
}

/** Worst first, for a benchmark rule answered by several settings. */
const XCCDF_RANK: XccdfResult[] = ['fail', 'error', 'notchecked', 'notapplicable', 'informational', 'fixed', 'pass'];

/** One rule-result per benchmark rule of the scope, under the benchmark's own rule ids (SCAP 1.2 form). */
function benchmarkRuleResults(model: ReportModel, stig: NonNullable<ReportContext['stig']>): { xml: string[]; results: XccdfResult[] } {
  const { benchmark } = stig;
  const scope = stig.scope === undefined ? benchmarkScope(model, benchmark) : stig.scope;
  const notImported = notImportedRules(benchmark, scope);
  const results: XccdfResult[] = [];
  const xml = benchmark.rules.filter((r) => !scope || ruleApplicability(r).scope.includes(scope)).map((rule) => {
    const settings = settingsOf(model, rule);
    const result = settings.length ? settings.map(xccdfResult).sort((a, b) => XCCDF_RANK.indexOf(a) - XCCDF_RANK.indexOf(b))[0]! : 'notchecked';
    results.push(result);
    const message = settings.length ? settings.map((s) => findingDetails(model, s)).join('\n\n') : notManagedReason(model, notImported.get(rule.ruleId));
    const severity = ['high', 'medium', 'low', 'info'].includes(rule.severity) ? rule.severity : 'unknown';
    return [
      `\t<rule-result idref="${xmlAttr(`xccdf_mil.disa.stig_rule_${rule.ruleId}`)}" severity="${severity}" time="${model.finishedAt}" version="${xmlAttr(rule.stigId)}">`,
      `\t\t<result>${result}</result>`,
      `\t\t<ident system="${IDENT_SYSTEM.vuln}">${xmlText(rule.vulnId)}</ident>`,
      ...rule.legacyIds.map((id) => `\t\t<ident system="${IDENT_SYSTEM.legacy}">${xmlText(id)}</ident>`),
      ...rule.ccis.map((id) => `\t\t<ident system="http://cyber.mil/cci">${xmlText(id)}</ident>`),
      `\t\t<message severity="info">${xmlText(message)}</message>`,
      ...instances(settings),
      '\t</rule-result>',
    ].join('\n');
  });
  return { xml, results };
}

export function renderXccdf(model: ReportModel, context: ReportContext = {}): string {
  const stig = context.stig ? benchmarkRuleResults(model, context.stig) : undefined;
  // The default model scores only pass/fail kinds: not notapplicable (waived) or informational (held override).
  const evaluated = model.settings.filter((s) => s.status !== 'skipped' && s.status !== 'error' && !['notapplicable', 'informational'].includes(xccdfResult(s)));
  const passed = evaluated.filter((s) => s.status === 'ok' || s.status === 'changed').length;
  let score = evaluated.length ? (100 * passed) / evaluated.length : 0;
  if (stig) {
    const scored = stig.results.filter((r) => r === 'pass' || r === 'fixed' || r === 'fail' || r === 'error');
    score = scored.length ? (100 * scored.filter((r) => r === 'pass' || r === 'fixed').length) / scored.length : 0;
  }
  const facts: [string, string][] = [
    ['urn:xccdf:fact:asset:identifier:host_name', model.host.hostname],
    ['urn:winstate:fact:target', targetDescription(model)],
    ['urn:winstate:fact:os', model.host.os],
    ['urn:winstate:fact:powershell', `${model.host.psVersion ?? '?'} ${model.host.psEdition ?? ''}`.trim()],
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<TestResult xmlns="http://checklists.nist.gov/xccdf/1.2" id="${xmlAttr(xccdfId('testresult', model.document.name))}" start-time="${model.startedAt}" end-time="${model.finishedAt}" test-system="${xmlAttr(`cpe:/a:winstate:winstate:${model.version}`)}" version="${xmlAttr(model.version)}">`,
    context.stig
      ? `\t<benchmark href="${xmlAttr(basename(context.stig.file))}" id="${xmlAttr(`xccdf_mil.disa.stig_benchmark_${context.stig.benchmark.id}`)}"/>`
      : `\t<benchmark href="${xmlAttr(`urn:winstate:document:${model.document.name}`)}" id="${xmlAttr(xccdfId('benchmark', model.document.name))}"/>`,
    `\t<title>${xmlText(`winstate ${model.command} of ${model.document.name}`)}</title>`,
    `\t<remark>${xmlText(`Outcome: ${model.outcome}; ${counted(model.summary.total, 'setting')} from ${model.document.file}.`)}</remark>`,
    `\t<target>${xmlText(targetName(model))}</target>`,
    '\t<target-facts>',
    ...facts.map(([name, value]) => `\t\t<fact name="${xmlAttr(name)}" type="string">${xmlText(value)}</fact>`),
    '\t</target-facts>',
    ...(stig ? stig.xml : model.settings.map((s) => ruleResult(model, s))),
    `\t<score system="urn:xccdf:scoring:default" maximum="100">${score.toFixed(2)}</score>`,
    '</TestResult>',
    '',
  ].join('\n');
}
