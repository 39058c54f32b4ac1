/**
 * `winstate import stig`: a DISA STIG XCCDF benchmark turned into a desired-state document, one
 * `Registry` resource per registry value a rule requires, and every rule it cannot express listed
 * with its reason (a comment block at the top of the document, and counts on stderr).
 *
 * What the reader in xccdf.ts extracts is taken as the requirement; this module only maps it onto
 * the document language and writes the YAML. The mapping of a rule's condition:
 *
 *   equals v               valueData: v (no condition: the value must be exactly that)
 *   atLeast n              condition: { atLeast: n }, valueData: n
 *   atMost n               condition: { atMost: n }, valueData: n
 *   range min..max         condition: { atLeast: min, atMost: max }, valueData: min
 *   oneOf [a, b, ..]       condition: { oneOf: [a, b, ..] }, valueData: the preferred choice, which is
 *                          the first one listed (DISA lists the preferred first: ConsentPromptBehaviorAdmin
 *                          "2 (consent) / 1 (credentials)", whose fix text asks for 2; scremoveoption
 *                          "1 (Lock Workstation) or 2"; AllowTelemetry "0 (Security), 1 (Basic)"), except
 *                          where the check text explains the choices as "N - label" lines and the fix text
 *                          names exactly one allowed choice by that label in quotes: that one. The one rule
 *                          of this kind is DriverLoadPolicy (WN16-CC-000140), listed in numeric order
 *                          "1, 3 or 8"; the fix text names "Good, unknown and bad but critical" (3), the
 *                          Windows default, while 1 and 8 would also refuse boot-critical drivers.
 *   allOf [atMost n, not x]  condition: { atMost: n, not: x }, valueData: n unless excluded, else the
 *                          largest allowed value below it (an atLeast with exclusions: the smallest above)
 *   bitsSet m              condition: { bitsSet: m }, valueData: m
 *   numericString          (a REG_SZ holding a number) valueType stays String, the condition's numbers are
 *                          YAML integers (compared numerically by test), valueData is the number as text;
 *                          an exact number on a REG_SZ is valueData "n" with condition { oneOf: [n] }
 *   absentOk               absentOk: true; valueData is still a compliant value (set writes it only when
 *                          the value is present and fails)
 *
 * A rule whose compliance is runtime state (virtualization-based security, Credential Guard: "the
 * registry values alone do not ensure proper function") and whose check text gives the CIM query
 * and its findings: the fix's registry values as above, and beside them a check-only `CimInstance`
 * resource with the query's expectations, carrying the same STIG references.
 *
 * A condition with only exclusions (`not` alone), contradicting parts, or whose chosen valueData does
 * not comply, is not imported: it is listed in category `condition`. Two rules requiring the same
 * registry value differently: the later one is listed in category `conflict`.
 *
 * Other choices: resource `name` is `<STIG id>: <title>` (the title cut at a word boundary past 100
 * characters, a value name appended when a rule has several values, unique, at most 200 characters);
 * `metadata` carries the full title, severity (low/medium/high only), the rule's server roles, the
 * GPO path(s) the fix text names (folders and policy name joined by `\`, several joined by `; `)
 * and `references.stig` = [vulnerability id, legacy ids, STIG id]; applicability conditions beyond
 * the server role and notes after a value go into `description`. Keys are written `HKLM\...`/`HKCU\...`.
 * The document name is the benchmark id in lower case with `_` as `-`, plus `-ms`/`-dc` for a scope.
 * Output is deterministic: benchmark order, no dates or paths but the source file's base name.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve as resolvePath } from 'node:path';
import { meetsCondition, parseCondition } from '../../kinds/condition.js';
import type { ResourceMetadata } from '../../kinds/info.js';
import { parseKeyPath, targetIdentity, type ValueType, type WireData } from '../../kinds/registry/model.js';
import { deliverDocument, oneLine, renderDocument, SCHEMA_MODELINE } from '../../document/write.js';
import { EXIT } from '../../engine/results.js';
import { RESOURCE_NAME_MAX } from '../../document/schema.js';
import { loadCatalog, type Catalog, type CatalogEntry } from '../catalog.js';
import { extractPolicyRequirement, type PolicySetting } from './policy-rules.js';
import { findAuditSubcategory, findUserRight } from '../../kinds/tables.js';
import { registryKind } from '../../kinds/registry/kind.js';
import { policyKind } from '../../kinds/policy.js';
import { unitOf } from '../../kinds/index.js';
import type { ResolveContext, ResolvedResource } from '../../kinds/kind.js';
import { counted } from '../../plural.js';
import {
  extractAll,
  parseXccdf,
  type Condition,
  type Extraction,
  parseScope,
  type Scope,
  type StigBenchmark,
  type StigRegistryValue,
  type StigRule,
  type UnsupportedCategory,
} from './xccdf.js';

export { SCHEMA_MODELINE };
const MAX_NAME = RESOURCE_NAME_MAX;
const SHORT_TITLE = 100;

export type NotImportedCategory = UnsupportedCategory | 'condition' | 'conflict';

/** A rule (in scope) that yields no resource, and why. */
export interface NotImported {
  rule: StigRule;
  category: NotImportedCategory;
  reason: string;
}

/** The `properties` of one imported Registry resource. */
export interface ImportedProperties {
  key: string;
  valueName: string;
  valueType: ValueType;
  valueData: number | bigint | string | string[];
  condition?: Record<string, number | bigint | string | (number | bigint | string)[]>;
  absentOk?: true;
}

/** A registry value a rule requires. */
export interface ImportedRegistryResource {
  kind: 'Registry';
  rule: StigRule;
  value: StigRegistryValue;
  name: string;
  description?: string;
  metadata: ResourceMetadata;
  properties: ImportedProperties;
  /** Set when a catalog entry implements the rule with exactly this target and value: written as that. */
  linked?: { type: 'Policy' | 'SecurityOption'; properties: ({ stig: string } | { id: string }) & { value: string } };
}

/**
 * A user right, account or security policy, or audit subcategory a rule requires. The two rules of
 * one audit subcategory (Success, Failure) make one resource: `rules` lists both.
 */
export interface ImportedPolicyResource {
  kind: PolicySetting['kind'];
  rule: StigRule;
  rules: StigRule[];
  setting: PolicySetting;
  name: string;
  description?: string;
  metadata: ResourceMetadata;
  /** The kind's own document type and properties (src/kinds/CONTRACT.md, "Document syntax"). */
  type: 'UserRight' | 'AccountPolicy' | 'SecurityPolicy' | 'AuditPolicy';
  properties: Record<string, unknown>;
  /** Set when a catalog entry with the same storage asks for exactly this: written as a Policy (or SecurityOption) of it. */
  linked?: { type: 'Policy' | 'SecurityOption'; properties: ({ stig: string } | { id: string }) & { value: unknown } };
}

/** The runtime query of a rule whose fix is registry values (a check-only CimInstance resource). */
export interface ImportedCimResource {
  kind: 'CimInstance';
  rule: StigRule;
  /** The one rule (as policy resources list theirs). */
  rules: StigRule[];
  name: string;
  description?: string;
  metadata: ResourceMetadata;
  type: 'CimInstance';
  properties: { namespace: string; className: string; expect: Record<string, unknown> };
  linked?: undefined;
}

export type ImportedResource = ImportedRegistryResource | ImportedPolicyResource | ImportedCimResource;

export interface StigImport {
  benchmark: StigBenchmark;
  scope?: Scope;
  documentName: string;
  /** The document text: modeline, comment block, then the YAML. */
  yaml: string;
  resources: ImportedResource[];
  /** Rules in scope that yield no resource, in benchmark order. */
  notImported: NotImported[];
  /** Rules left out because they apply to the other server role only. */
  outOfScope: StigRule[];
  /** Rules in scope with at least one resource. */
  importedRules: number;
}

export interface ImportOptions {
  scope?: Scope;
  /** The catalog to link rules to (default: the shipped one); null writes raw Registry resources only. */
  catalog?: Catalog | null;
  /** Named in the header comment; only its base name is written. */
  sourceFile?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Conditions

type Mapped = { ok: true; valueData: ImportedProperties['valueData']; condition?: ImportedProperties['condition']; absentOk?: true } | { ok: false; reason: string };

interface Constraints {
  equals?: bigint | string | string[];
  atLeast?: bigint;
  atMost?: bigint;
  oneOf?: (bigint | string)[];
  not: (bigint | string)[];
  bitsSet?: bigint;
  numericString: boolean;
  absentOk: boolean;
}

/** Flattens a condition (allOf included) into one set of constraints; an error text when they cannot combine. */
function collect(condition: Condition, numeric: boolean, acc: Constraints, top: boolean): string | undefined {
  if (condition.absentOk) {
    if (!top) return 'absentOk inside allOf';
    acc.absentOk = true;
  }
  if (condition.numericString) acc.numericString = true;
  const num = (v: number | string | string[]): bigint | string | string[] => {
    if (Array.isArray(v)) return v;
    if (typeof v === 'number') return BigInt(v);
    return (numeric || condition.numericString) && /^\d+$/.test(v) ? BigInt(v) : v;
  };
  const big = (v: number | string): bigint | undefined => {
    const n = num(v);
    return typeof n === 'bigint' ? n : undefined;
  };
  const bound = (v: number | string, what: string): bigint | string => big(v) ?? `${what} ${JSON.stringify(v)} is not a number`;
  switch (condition.op) {
    case 'equals':
      if (acc.equals !== undefined) return 'two exact values';
      acc.equals = num(condition.value);
      return undefined;
    case 'atLeast':
    case 'atMost':
    case 'range': {
      const low = condition.op === 'atLeast' ? condition.value : condition.op === 'range' ? condition.min : undefined;
      const high = condition.op === 'atMost' ? condition.value : condition.op === 'range' ? condition.max : undefined;
      if (low !== undefined) {
        const n = bound(low, 'lower bound');
        if (typeof n === 'string') return n;
        acc.atLeast = acc.atLeast === undefined || n > acc.atLeast ? n : acc.atLeast;
      }
      if (high !== undefined) {
        const n = bound(high, 'upper bound');
        if (typeof n === 'string') return n;
        acc.atMost = acc.atMost === undefined || n < acc.atMost ? n : acc.atMost;
      }
      return undefined;
    }
    case 'oneOf': {
      const values = condition.values.map((v) => num(v) as bigint | string);
      acc.oneOf = acc.oneOf ? acc.oneOf.filter((a) => values.some((b) => a === b)) : values;
      return undefined;
    }
    case 'not':
      acc.not.push(num(condition.value) as bigint | string);
      return undefined;
    case 'bitsSet': {
      const n = bound(condition.mask, 'bit mask');
      if (typeof n === 'string') return n;
      acc.bitsSet = (acc.bitsSet ?? 0n) | n;
      return undefined;
    }
    case 'allOf':
      for (const c of condition.conditions) {
        const problem = collect(c, numeric, acc, false);
        if (problem) return problem;
      }
      return undefined;
  }
}

/** The choice the rule prefers among allowed values (see the header comment). */
export function preferredChoice(values: readonly (bigint | string)[], rule: Pick<StigRule, 'checkText' | 'fixText'>): bigint | string {
  const labels = new Map<string, string>();
  for (const m of rule.checkText.matchAll(/^[ \t]*(\d+)[ \t]+-[ \t]+(.+?)[ \t]*$/gm)) labels.set(m[1]!, m[2]!.toLowerCase());
  const quoted = new Set([...rule.fixText.matchAll(/"([^"\n]+)"/g)].map((m) => m[1]!.trim().toLowerCase()));
  const named = values.filter((v) => {
    const label = labels.get(String(v));
    return label !== undefined && quoted.has(label);
  });
  return named.length === 1 ? named[0]! : values[0]!;
}

/** A STIG value's condition in the document language, with the valueData set writes. */
export function mapCondition(value: Pick<StigRegistryValue, 'valueType' | 'condition'>, rule: Pick<StigRule, 'checkText' | 'fixText'>): Mapped {
  const type = value.valueType;
  const numericType = type === 'DWord' || type === 'QWord';
  const acc: Constraints = { not: [], numericString: false, absentOk: false };
  const problem = collect(value.condition, numericType, acc, true);
  if (problem) return { ok: false, reason: `the condition cannot be expressed: ${problem}` };
  const numeric = numericType || (type === 'String' && acc.numericString);
  const absent = acc.absentOk ? { absentOk: true as const } : {};

  // Numbers as the document writes them: DWord and REG_SZ numbers as numbers, QWord as exact integers.
  const docNumber = (v: bigint | string): number | bigint | string => (typeof v !== 'bigint' ? v : type === 'QWord' ? v : Number(v));
  const docData = (v: bigint | string | string[]): ImportedProperties['valueData'] =>
    Array.isArray(v) ? v : typeof v !== 'bigint' ? v : type === 'String' || type === 'ExpandString' ? v.toString() : docNumber(v);
  const wire = (d: ImportedProperties['valueData']): WireData => (typeof d === 'bigint' ? d.toString() : d);

  const others = acc.atLeast !== undefined || acc.atMost !== undefined || acc.oneOf !== undefined || acc.not.length > 0 || acc.bitsSet !== undefined;
  const condition: NonNullable<ImportedProperties['condition']> = {};
  if (acc.equals !== undefined && !others) {
    if (acc.numericString && typeof acc.equals === 'bigint') {
      // An exact number on a REG_SZ: compared as a number, so " 4" or "04" pass as DISA's check does.
      condition.oneOf = [docNumber(acc.equals)];
    }
    return verify(docData(acc.equals));
  }
  if (acc.atLeast !== undefined) condition.atLeast = docNumber(acc.atLeast);
  if (acc.atMost !== undefined) condition.atMost = docNumber(acc.atMost);
  if (acc.oneOf !== undefined) {
    if (acc.oneOf.length === 0) return { ok: false, reason: 'the condition cannot be expressed: its lists of allowed values have nothing in common' };
    condition.oneOf = acc.oneOf.map(docNumber);
  }
  if (acc.not.length > 0) condition.not = acc.not.length === 1 ? docNumber(acc.not[0]!) : acc.not.map(docNumber);
  if (acc.bitsSet !== undefined) condition.bitsSet = docNumber(acc.bitsSet);
  if (!numeric && (acc.atLeast !== undefined || acc.atMost !== undefined || acc.bitsSet !== undefined)) {
    return { ok: false, reason: `the condition cannot be expressed: a numeric test on a ${type} value that is not a number` };
  }

  let candidates: (bigint | string | string[])[];
  if (acc.equals !== undefined) candidates = [acc.equals];
  else if (acc.oneOf !== undefined) {
    const first = preferredChoice(acc.oneOf, rule);
    candidates = [first, ...acc.oneOf.filter((v) => v !== first)];
  } else if (acc.bitsSet !== undefined) candidates = [acc.bitsSet];
  else if (acc.atLeast !== undefined) candidates = walk(acc.atLeast, 1n, acc);
  else if (acc.atMost !== undefined) candidates = walk(acc.atMost, -1n, acc);
  else return { ok: false, reason: 'the condition only excludes values, so there is no value for set to write' };
  for (const candidate of candidates) {
    const mapped = verify(docData(candidate));
    if (mapped.ok) return mapped;
  }
  return { ok: false, reason: 'the condition cannot be expressed: no value of the rule complies with all of its parts' };

  function verify(valueData: ImportedProperties['valueData']): Mapped {
    const hasCondition = Object.keys(condition).length > 0;
    if (hasCondition) {
      const raw = Object.fromEntries(Object.entries(condition).map(([k, v]) => [k, Array.isArray(v) ? v.map(big) : big(v)]));
      const parsed = parseCondition(raw, type);
      if (!parsed.ok) return { ok: false, reason: `the condition cannot be expressed: ${parsed.message}` };
      if (!meetsCondition(parsed.condition, type, wire(valueData))) return { ok: false, reason: 'no compliant value to write' };
    }
    return { ok: true, valueData, ...(hasCondition ? { condition: { ...condition } } : {}), ...absent };
  }
}

const big = (v: number | bigint | string): bigint | string => (typeof v === 'number' ? BigInt(v) : v);

/** The bound itself, then values further away from it while they are excluded (at most a few hundred). */
function walk(from: bigint, step: bigint, acc: Constraints): bigint[] {
  const out: bigint[] = [];
  const excluded = new Set(acc.not.map(String));
  for (let v = from, i = 0; v >= 0n && i < 256; v += step, i++) {
    if (acc.atLeast !== undefined && v < acc.atLeast) break;
    if (acc.atMost !== undefined && v > acc.atMost) break;
    if (!excluded.has(String(v))) out.push(v);
    if (out.length >= 1) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Rule texts

/** The Group Policy paths the fix text names: `Computer Configuration >> ... >> "Policy"` as `Computer Configuration\...\Policy`. */
export function gpoPaths(fixText: string): string[] {
  const out: string[] = [];
  for (const m of fixText.matchAll(/\b((?:Computer|User) Configuration[ \t]*>>[^"\n]*)"([^"\n]+)"/g)) {
    const folders = m[1]!.split('>>').map((s) => oneLine(s)).filter((s) => s !== '');
    const path = [...folders, oneLine(m[2]!)].join('\\');
    if (!out.includes(path)) out.push(path);
  }
  return out;
}

function shortTitle(title: string, limit: number): string {
  const t = oneLine(title).replace(/\.$/, '');
  if (t.length <= limit) return t;
  const cut = t.slice(0, limit - 3);
  const space = cut.lastIndexOf(' ');
  return `${(space > limit / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:]+$/, '')}...`;
}

function resourceName(rule: StigRule, value: StigRegistryValue, several: boolean, taken: Set<string>): string {
  const suffix = several ? ` (${oneLine(value.valueName)})` : '';
  const prefix = `${rule.stigId}: `;
  const room = Math.min(SHORT_TITLE, MAX_NAME - prefix.length - Math.min(suffix.length, 60) - 6);
  let name = `${prefix}${shortTitle(rule.title, room)}${suffix.length <= 60 ? suffix : ` (${shortTitle(value.valueName, 57)})`}`;
  name = name.slice(0, MAX_NAME - 6);
  const base = name;
  for (let i = 2; taken.has(name); i++) name = `${base} [${i}]`;
  taken.add(name);
  return name;
}

function uniqueName(wanted: string, taken: Set<string>): string {
  const base = wanted.slice(0, MAX_NAME - 6);
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base} [${i}]`;
  taken.add(name);
  return name;
}

function documentNameOf(benchmark: StigBenchmark, scope: Scope | undefined): string {
  let slug = benchmark.id.toLowerCase().replace(/[^a-z0-9.]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+/g, '-');
  if (slug === '') slug = 'stig';
  return `${slug.slice(0, 90)}${scope ? `-${scope.toLowerCase()}` : ''}`;
}

const SCOPE_WORDS: Record<Scope, string> = { MS: 'member servers (and standalone systems)', DC: 'domain controllers' };

// ---------------------------------------------------------------------------------------------------------
// Settings that are not registry values (user rights, account and security policy, audit policy)

const POLICY_CATEGORIES = ['user-right', 'audit-policy', 'account-policy', 'security-policy'] as const;
type PolicyCategory = (typeof POLICY_CATEGORIES)[number];
function isPolicyCategory(category: string): category is PolicyCategory {
  return (POLICY_CATEGORIES as readonly string[]).includes(category);
}

/** What makes two settings the same, as the kinds' identities do (src/kinds/CONTRACT.md). */
function settingIdentity(s: PolicySetting): string {
  switch (s.kind) {
    case 'UserRight':
      return `userright:${s.right.toLowerCase()}`;
    case 'AccountPolicy':
    case 'SecurityPolicy':
      return `${s.kind.toLowerCase()}:${s.section.toLowerCase()}:${s.key.toLowerCase()}`;
    case 'AuditPolicy':
      return `auditpolicy:${s.guid.toLowerCase()}`;
  }
}

/** The kind's own document properties for a setting (a choice word for booleans, as documents write them). */
function kindProperties(s: PolicySetting): Record<string, unknown> {
  switch (s.kind) {
    case 'UserRight':
      return 'principals' in s ? { right: s.right, principals: [...s.principals] } : { right: s.right, mustInclude: [...s.mustInclude] };
    case 'AccountPolicy':
    case 'SecurityPolicy': {
      const boolean = s.text === 'Enabled' || s.text === 'Disabled';
      return { policy: s.key, ...(s.value !== undefined ? { value: boolean ? s.text : s.value } : {}), ...(s.condition ? { condition: structuredClone(s.condition) } : {}) };
    }
    case 'AuditPolicy':
      return { subcategory: s.guid, ...(s.success ? { success: s.success } : {}), ...(s.failure ? { failure: s.failure } : {}) };
  }
}

function policyResourceName(r: Pick<ImportedPolicyResource, 'rules' | 'setting'>, taken: Set<string>): string {
  const ids = r.rules.map((x) => x.stigId);
  let name: string;
  if (r.setting.kind === 'AuditPolicy' && r.rules.length > 1) {
    const directions = [r.setting.success ? 'success' : '', r.setting.failure ? 'failure' : ''].filter(Boolean).join(' and ');
    name = `${ids.join(', ')}: audit ${r.setting.subcategory} ${directions}`;
  } else {
    name = `${ids[0]}: ${shortTitle(r.rules[0]!.title, SHORT_TITLE)}`;
  }
  name = name.slice(0, MAX_NAME - 6);
  const base = name;
  for (let i = 2; taken.has(name); i++) name = `${base} [${i}]`;
  taken.add(name);
  return name;
}

/**
 * A resource for a rule's setting; the second rule of an audit subcategory joins the first one's
 * resource (undefined). A setting another rule requires differently is a conflict (its reason).
 */
function addPolicyResource(
  rule: StigRule,
  setting: PolicySetting,
  notes: string[],
  applicability: { scope: Scope[]; conditions: { text: string }[] },
  bySetting: Map<string, ImportedPolicyResource>,
  names: Set<string>,
): ImportedPolicyResource | string | undefined {
  const identity = settingIdentity(setting);
  const earlier = bySetting.get(identity);
  const description = [...applicability.conditions.map((c) => `STIG applicability: ${oneLine(c.text)}`), ...notes.map(oneLine)].join(' ');
  if (earlier && earlier.setting.kind === 'AuditPolicy' && setting.kind === 'AuditPolicy') {
    const merged: PolicySetting = { ...earlier.setting, ...(setting.success ? { success: setting.success } : {}), ...(setting.failure ? { failure: setting.failure } : {}) };
    names.delete(earlier.name);
    earlier.rules.push(rule);
    earlier.setting = merged;
    earlier.properties = kindProperties(merged);
    earlier.name = policyResourceName(earlier, names);
    earlier.metadata.references = { stig: [...new Set(earlier.rules.flatMap((x) => [x.vulnId, ...x.legacyIds, x.stigId]))] };
    earlier.metadata.title = earlier.rules.map((x) => oneLine(x.title)).join(' / ');
    const scope = new Set([...(earlier.metadata.scope ?? []), ...applicability.scope]);
    earlier.metadata.scope = (['MS', 'DC'] as const).filter((x) => scope.has(x));
    const text = [earlier.description, description].filter((t) => t !== undefined && t !== '');
    const joined = [...new Set(text)].join(' ');
    if (joined) earlier.description = joined;
    return undefined;
  }
  if (earlier && stableJson(earlier.setting) !== stableJson(setting)) {
    const what = setting.kind === 'UserRight' ? `user right ${setting.right}` : setting.kind === 'AuditPolicy' ? `audit subcategory ${setting.subcategory}` : `${setting.section} ${setting.key}`;
    const roles = earlier.metadata.scope?.join() !== applicability.scope.join() ? ' (the two rules are for different server roles: import with --scope MS or --scope DC)' : '';
    return `${what} is also required by ${earlier.rule.stigId}, with another value${roles}`;
  }
  const gpo = gpoPaths(rule.fixText);
  // A fix text that names the policy without quotes (WN16-UR-000280): the policy's place from the kinds' tables.
  if (gpo.length === 0) gpo.push(...kindGpoPath(setting));
  const severity = rule.severity === 'low' || rule.severity === 'medium' || rule.severity === 'high' ? rule.severity : undefined;
  const metadata: ResourceMetadata = {
    title: oneLine(rule.title),
    ...(severity ? { severity } : {}),
    ...(gpo.length > 0 ? { gpoPath: gpo.join('; ') } : {}),
    scope: [...applicability.scope],
    references: { stig: [...new Set([rule.vulnId, ...rule.legacyIds, rule.stigId])] },
  };
  const r: ImportedPolicyResource = {
    kind: setting.kind,
    rule,
    rules: [rule],
    setting,
    name: '',
    ...(description ? { description } : {}),
    metadata,
    type: setting.kind,
    properties: kindProperties(setting),
  };
  r.name = policyResourceName(r, names);
  if (!earlier) bySetting.set(identity, r);
  return r;
}

const SECURITY_SETTINGS = 'Computer Configuration\\Windows Settings\\Security Settings';

/** Where Group Policy shows a user right or audit subcategory (account policy rules always name theirs). */
function kindGpoPath(s: PolicySetting): string[] {
  if (s.kind === 'UserRight') {
    const right = findUserRight(s.right);
    return right ? [`${SECURITY_SETTINGS}\\Local Policies\\User Rights Assignment\\${right.title}`] : [];
  }
  if (s.kind === 'AuditPolicy') {
    const sub = findAuditSubcategory(s.guid);
    return sub ? [`${SECURITY_SETTINGS}\\Advanced Audit Policy Configuration\\Audit Policies\\${sub.category}\\${sub.gpoTitle}`] : [];
  }
  return [];
}

function sameStorage(entry: CatalogEntry, s: PolicySetting): boolean {
  const st = entry.storage;
  if (!st || st.kind !== s.kind) return false;
  if (st.kind === 'UserRight' && s.kind === 'UserRight') return st.right.toLowerCase() === s.right.toLowerCase();
  if (st.kind === 'AuditPolicy' && s.kind === 'AuditPolicy') return st.guid.toLowerCase() === s.guid.toLowerCase();
  if ((st.kind === 'AccountPolicy' || st.kind === 'SecurityPolicy') && (s.kind === 'AccountPolicy' || s.kind === 'SecurityPolicy')) {
    return st.section === s.section && st.key.toLowerCase() === s.key.toLowerCase();
  }
  return false;
}

const sortedSet = (items: readonly string[]): string => JSON.stringify([...items].map((i) => i.toLowerCase()).sort());

/**
 * The value of a Policy resource of `entry` that asks for exactly what the setting does: `recommended`
 * when the catalog's recommendation is the same, else the value in the entry's own terms where the
 * Policy form has one (a principal list, a choice, Success and Failure), else undefined.
 */
export function policyValueFor(entry: CatalogEntry, s: PolicySetting): unknown {
  const rec = entry.recommended;
  switch (s.kind) {
    case 'UserRight': {
      if ('principals' in s) {
        if (rec && typeof rec === 'object' && 'principals' in rec && rec.principals !== undefined && sortedSet(rec.principals) === sortedSet(s.principals)) return 'recommended';
        return [...s.principals];
      }
      const same = rec && typeof rec === 'object' && 'mustInclude' in rec && !('mustExclude' in rec) && sortedSet(rec.mustInclude ?? []) === sortedSet(s.mustInclude);
      return same ? 'recommended' : undefined;
    }
    case 'AccountPolicy':
    case 'SecurityPolicy': {
      if (typeof rec === 'string') {
        const choice = entry.choices?.find((c) => c.name === rec);
        if (choice && s.value !== undefined && choice.data === s.value && !s.condition) return 'recommended';
      } else if (rec && typeof rec === 'object' && !('valueData' in rec) && ('value' in rec || 'condition' in rec)) {
        if (rec.value === s.value && stableJson(rec.condition ?? null) === stableJson(s.condition ?? null)) return 'recommended';
      }
      const choice = s.condition ? undefined : entry.choices?.find((c) => c.data === s.value);
      return choice?.name;
    }
    case 'AuditPolicy': {
      if (rec && typeof rec === 'object' && ('success' in rec || 'failure' in rec)) {
        const r = rec as { success?: string; failure?: string };
        if (r.success === s.success && r.failure === s.failure) return 'recommended';
      }
      return s.success && s.failure ? 'Success and Failure' : undefined;
    }
  }
}

/** The catalog-linked form of a policy resource: the one entry with the same storage that cites its rules. */
function policyLink(r: ImportedPolicyResource, catalog: Catalog): ImportedPolicyResource['linked'] {
  const citing = (id: string) => catalog.findAll(id).filter((e) => e.references.stig?.some((x) => x.toLowerCase() === id.toLowerCase()));
  const candidates = citing(r.rule.stigId).filter((e) => sameStorage(e, r.setting));
  if (candidates.length !== 1) return undefined;
  const entry = candidates[0]!;
  if (!r.rules.every((x) => citing(x.stigId).includes(entry))) return undefined;
  const value = policyValueFor(entry, r.setting);
  if (value === undefined) return undefined;
  // One rule naming one entry: by its STIG id; the two rules of an audit subcategory: by the entry's id.
  const by = r.rules.length === 1 && citing(r.rule.stigId).length === 1 ? { stig: r.rule.stigId } : { id: entry.id };
  return { type: entry.kind === 'SecurityOption' ? 'SecurityOption' : 'Policy', properties: { ...by, value } };
}

// ---------------------------------------------------------------------------------------------------------
// Import

/** Imports a parsed benchmark. */
export function importBenchmark(benchmark: StigBenchmark, options: ImportOptions = {}): StigImport {
  const scope = options.scope;
  const resources: ImportedResource[] = [];
  const notImported: NotImported[] = [];
  const outOfScope: StigRule[] = [];
  const names = new Set<string>();
  const byTarget = new Map<string, ImportedRegistryResource>();
  const bySetting = new Map<string, ImportedPolicyResource>();
  let importedRules = 0;

  for (const { rule, extraction } of extractAll(benchmark) as { rule: StigRule; extraction: Extraction }[]) {
    if (scope && !extraction.applicability.scope.includes(scope)) {
      outOfScope.push(rule);
      continue;
    }
    if (extraction.kind === 'unsupported' && isPolicyCategory(extraction.category)) {
      const read = extractPolicyRequirement(rule, extraction.category);
      if (!read.ok) {
        notImported.push(read.review ? { rule, category: 'manual', reason: read.reason } : { rule, category: extraction.category, reason: `not read exactly: ${read.reason}` });
        continue;
      }
      const outcome = addPolicyResource(rule, read.requirement.setting, read.requirement.notes, extraction.applicability, bySetting, names);
      if (typeof outcome === 'string') {
        notImported.push({ rule, category: 'conflict', reason: outcome });
        continue;
      }
      if (outcome) resources.push(outcome);
      importedRules++;
      continue;
    }
    if (extraction.kind === 'unsupported') {
      notImported.push({ rule, category: extraction.category, reason: extraction.reason });
      continue;
    }
    // Every value of the rule, or none: a rule half imported would read as fully enforced.
    const mapped = extraction.values.map((value) => ({ value, mapped: mapCondition(value, rule) }));
    const failed = mapped.find((m) => !m.mapped.ok);
    if (failed && !failed.mapped.ok) {
      notImported.push({ rule, category: 'condition', reason: `${failed.value.key}!${failed.value.valueName}: ${failed.mapped.reason}` });
      continue;
    }
    const gpo = gpoPaths(rule.fixText);
    const conditionsText = extraction.applicability.conditions.map((c) => oneLine(c.text));
    const ruleResources: ImportedRegistryResource[] = [];
    let conflict: string | undefined;
    for (const { value, mapped: m } of mapped) {
      if (!m.ok) continue;
      const properties: ImportedProperties = {
        key: `${value.hive === 'HKEY_LOCAL_MACHINE' ? 'HKLM' : 'HKCU'}\\${value.path}`,
        valueName: value.valueName,
        valueType: value.valueType,
        valueData: m.valueData,
        ...(m.condition ? { condition: m.condition } : {}),
        ...(m.absentOk ? { absentOk: true as const } : {}),
      };
      const identity = targetIdentity({ hive: value.hive, subKey: value.path, valueName: value.valueName });
      const earlier = byTarget.get(identity);
      if (earlier && stableJson(earlier.properties, true) !== stableJson(properties, true)) {
        conflict = `${value.key}!${value.valueName} is also required by ${earlier.rule.stigId}, with another value or condition`;
        break;
      }
      const description = [
        ...conditionsText.map((t) => `STIG applicability: ${t}`),
        ...(value.note ? [oneLine(value.note)] : []),
      ].join(' ');
      const severity = rule.severity === 'low' || rule.severity === 'medium' || rule.severity === 'high' ? rule.severity : undefined;
      const metadata: ResourceMetadata = {
        title: oneLine(rule.title),
        ...(severity ? { severity } : {}),
        ...(gpo.length > 0 ? { gpoPath: gpo.join('; ') } : {}),
        scope: [...extraction.applicability.scope],
        references: { stig: [...new Set([rule.vulnId, ...rule.legacyIds, rule.stigId])] },
      };
      ruleResources.push({ kind: 'Registry', rule, value, name: '', ...(description ? { description } : {}), metadata, properties });
    }
    if (conflict) {
      notImported.push({ rule, category: 'conflict', reason: conflict });
      continue;
    }
    for (const r of ruleResources) {
      r.name = resourceName(rule, r.value, ruleResources.length > 1, names);
      const identity = targetIdentity({ hive: r.value.hive, subKey: r.value.path, valueName: r.value.valueName });
      if (!byTarget.has(identity)) byTarget.set(identity, r);
      resources.push(r);
    }
    if (extraction.runtimeCheck) {
      const check = extraction.runtimeCheck;
      const first = ruleResources[0]!;
      const name = uniqueName(`${rule.stigId}: ${shortTitle(rule.title, SHORT_TITLE)} (runtime check)`, names);
      resources.push({
        kind: 'CimInstance',
        type: 'CimInstance',
        rule,
        rules: [rule],
        name,
        description: [
          ...conditionsText.map((t) => `STIG applicability: ${t}`),
          'Check only: whether Windows runs it; the registry values of this rule ask for it, set does not change this.',
        ].join(' '),
        metadata: structuredClone(first.metadata),
        properties: { namespace: check.namespace, className: check.className, expect: Object.fromEntries(check.expect) },
      });
    }
    importedRules++;
  }

  const catalog = options.catalog === undefined ? loadCatalog() : options.catalog;
  if (catalog) {
    for (const r of resources) {
      if (r.kind === 'Registry') r.linked = catalogLink(r, catalog);
      else if (r.kind !== 'CimInstance') r.linked = policyLink(r, catalog);
    }
  }
  const documentName = documentNameOf(benchmark, scope);
  const result: StigImport = { benchmark, scope, documentName, yaml: '', resources, notImported, outOfScope, importedRules };
  result.yaml = writeDocument(result, options.sourceFile);
  return result;
}

/**
 * The catalog-linked form of an imported value: only when exactly one entry citing the rule sets
 * the same registry value, and one of its values (a choice, or `recommended`) asks for exactly what
 * the STIG does, so the document enforces the same thing in the policy's own terms.
 */
function catalogLink(r: ImportedRegistryResource, catalog: Catalog): ImportedRegistryResource['linked'] {
  const cites = catalog.findAll(r.rule.stigId).filter((e) => e.references.stig?.some((id) => id.toLowerCase() === r.rule.stigId.toLowerCase()));
  let failed = false;
  const ctx: ResolveContext = { catalog, error: () => void (failed = true) };
  const resolve = (kind: typeof registryKind, props: Record<string, unknown>): ResolvedResource | undefined => {
    failed = false;
    const resolved = kind.resolve(props, ctx);
    return failed ? undefined : resolved;
  };
  const raw = resolve(registryKind, { ...r.properties });
  if (!raw) return undefined;
  // A rule written as several values (two UNC paths) has one entry per value: link each by the entry's id.
  const entries = cites.filter((e) => {
    if (!e.registry) return false;
    const key = parseKeyPath(e.registry.key);
    return typeof key !== 'string' && targetIdentity({ ...key, valueName: e.registry.valueName }) === raw.identity;
  });
  if (entries.length !== 1) return undefined;
  const entry = entries[0]!;
  const by = cites.length === 1 ? { stig: r.rule.stigId } : { id: entry.id };
  const candidates = [...(typeof entry.recommended === 'string' ? [entry.recommended] : []), ...(entry.choices ?? []).map((c) => c.name), 'recommended'];
  for (const value of [...new Set(candidates)]) {
    const linked = resolve(policyKind, { ...by, value });
    if (linked && linked.identity === raw.identity && linked.kind === raw.kind && unitOf(raw.kind).sameDesired(linked.spec, raw.spec)) {
      return { type: entry.kind === 'SecurityOption' ? 'SecurityOption' : 'Policy', properties: { ...by, value } };
    }
  }
  return undefined;
}

/** Reads and imports an XCCDF text. Throws on XML that is not a STIG benchmark. */
export function importStig(xml: string, options: ImportOptions = {}): StigImport {
  return importBenchmark(parseXccdf(xml), options);
}

function stableJson(value: unknown, ignoreKeyCase = false): string {
  return JSON.stringify(value, (k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (ignoreKeyCase && k === 'key' && typeof v === 'string') return v.toLowerCase();
    if (ignoreKeyCase && k === 'valueName' && typeof v === 'string') return v.toLowerCase();
    return v;
  });
}

/** `account-policy 14, audit-policy 36, ...`: categories in name order. */
export function countsByCategory(items: readonly NotImported[]): [NotImportedCategory, number][] {
  const counts = new Map<NotImportedCategory, number>();
  for (const item of items) counts.set(item.category, (counts.get(item.category) ?? 0) + 1);
  return [...counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------------------
// YAML

function headerComment(result: StigImport, sourceFile: string | undefined): string[] {
  const b = result.benchmark;
  const lines: string[] = [];
  const release = [b.versionLabel ?? `version ${b.version}${b.release !== null ? ` release ${b.release}` : ''}`, b.benchmarkDate ? `benchmark date ${b.benchmarkDate}` : undefined]
    .filter((x) => x !== undefined)
    .join(', ');
  lines.push(`Generated by \`winstate import stig\`${sourceFile ? ` from ${oneLine(basename(sourceFile))}` : ''}; re-import rather than edit by hand.`);
  lines.push(`${oneLine(b.title)} (${oneLine(b.id)}), ${release}.`);
  lines.push(`Scope: ${result.scope ? `${result.scope}, rules that apply to ${SCOPE_WORDS[result.scope]}` : 'all rules, member servers and domain controllers'}.`);
  lines.push(
    `${counted(b.rules.length, 'rule')}: ${result.importedRules} imported as ${counted(result.resources.length, 'resource')} ` +
      `(${linkedCount(result)} linked to the catalog as Policy/SecurityOption, ${result.resources.length - linkedCount(result)} of their own kind: ${rawCounts(result)}), ` +
      `${result.notImported.length} not expressible as settings (listed below)` +
      (result.scope ? `, ${result.outOfScope.length} not for ${result.scope}` : '') +
      '.',
  );
  if (result.notImported.length > 0) {
    lines.push('');
    lines.push(`Not imported (${result.notImported.length}), by category: <STIG id> (<vulnerability id>): <reason>`);
    for (const [category, count] of countsByCategory(result.notImported)) {
      lines.push(`  ${category} (${count}):`);
      for (const item of result.notImported.filter((i) => i.category === category)) {
        lines.push(`    ${item.rule.stigId} (${item.rule.vulnId}): ${oneLine(item.reason)}`);
      }
    }
  }
  if (result.scope && result.outOfScope.length > 0) {
    lines.push('');
    lines.push(`Not for ${result.scope} (${result.outOfScope.length}), applying to ${result.scope === 'MS' ? SCOPE_WORDS.DC : SCOPE_WORDS.MS} only:`);
    for (const rule of result.outOfScope) lines.push(`    ${rule.stigId} (${rule.vulnId}): ${shortTitle(rule.title, SHORT_TITLE)}`);
  }
  return lines;
}

/** `Registry 2, UserRight 6`: the resources not linked to the catalog, by document type. */
function rawCounts(result: StigImport): string {
  const counts = new Map<string, number>();
  for (const r of result.resources) if (!r.linked) counts.set(r.kind === 'Registry' ? 'Registry' : r.type, (counts.get(r.kind === 'Registry' ? 'Registry' : r.type) ?? 0) + 1);
  return counts.size === 0 ? 'none' : [...counts].map(([t, n]) => `${t} ${n}`).join(', ');
}

function linkedCount(result: StigImport): number {
  return result.resources.filter((r) => r.linked).length;
}

function writeDocument(result: StigImport, sourceFile: string | undefined): string {
  const b = result.benchmark;
  const description =
    `${oneLine(b.title)}${b.versionLabel ? ` ${b.versionLabel}` : ''}` +
    `${result.scope ? `, ${SCOPE_WORDS[result.scope]}` : ''}: the rules winstate can express (registry values, user rights, account, security and audit policy), imported by winstate import stig`;
  const tags = ['stig', ...(b.versionLabel ? [b.versionLabel] : []), ...(result.scope ? [result.scope] : ['MS', 'DC'])];
  const contents = {
    metadata: { name: result.documentName, description, tags },
    resources: result.resources.map((r) => ({
      name: r.name,
      type: r.linked?.type ?? (r.kind === 'Registry' ? 'Registry' : r.type),
      ...(r.description ? { description: r.description } : {}),
      metadata: r.metadata,
      properties: r.linked?.properties ?? r.properties,
    })),
  };
  return renderDocument(contents, headerComment(result, sourceFile), {
    document: [['metadata', 'tags']],
    resource: [
      ['metadata', 'scope'],
      ['metadata', 'references', 'stig'],
      ['properties', 'condition'],
      ['properties', 'valueData'],
      ['properties', 'value'],
      ['properties', 'principals'],
      ['properties', 'mustInclude'],
    ],
  });
}

// ---------------------------------------------------------------------------------------------------------
// Command

export interface ImportCommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const IMPORT_USAGE = 'winstate import stig <xccdf-file> [--scope MS|DC] [-o <file.yaml>]';

/**
 * `winstate import stig <xccdf> [--scope MS|DC] [-o file.yaml]`: writes the document to the file
 * (atomically) or to stdout, and a summary with counts by category to stderr. Exit 3 for invalid
 * input (nothing written), 1 when the output cannot be written.
 */
export function importCommand(args: { files: string[]; out?: string; scope?: string }, io: ImportCommandIo): number {
  const usage = (message: string): number => {
    io.stderr(`winstate: ${message}\nusage: ${IMPORT_USAGE}\n`);
    return EXIT.invalidInput;
  };
  const [kind, file, ...extra] = args.files;
  if (kind === undefined) return usage('import needs a source kind: stig');
  if (kind.toLowerCase() !== 'stig') return usage(`import knows one source kind, stig, not '${kind}'`);
  if (file === undefined) return usage('import stig needs the XCCDF file of a DISA STIG');
  if (extra.length > 0) return usage(`import stig takes one XCCDF file (extra: ${extra.join(' ')})`);
  const parsed = args.scope === undefined ? undefined : parseScope(args.scope);
  if (parsed && 'problem' in parsed) return usage(parsed.problem);
  const scope = parsed?.scope;
  if (!existsSync(file)) {
    io.stderr(`winstate: import stig: ${file} does not exist\n`);
    return EXIT.invalidInput;
  }
  if (statSync(file).isDirectory()) {
    io.stderr(`winstate: import stig: ${file} is a directory, not an XCCDF file\n`);
    return EXIT.invalidInput;
  }
  if (args.out !== undefined && resolvePath(args.out) === resolvePath(file)) {
    io.stderr(`winstate: import stig: -o ${args.out} is the benchmark itself; write the document to another file\n`);
    return EXIT.invalidInput;
  }
  let result: StigImport;
  try {
    result = importStig(readFileSync(file, 'utf8'), { scope, sourceFile: file });
  } catch (error) {
    io.stderr(`winstate: import stig: ${file} is not a readable STIG XCCDF benchmark: ${(error as Error).message}\n`);
    return EXIT.invalidInput;
  }
  if (result.resources.length === 0) {
    io.stderr(`winstate: import stig: ${file} has no rule${scope ? ` for ${scope}` : ''} winstate can express; nothing written\n`);
    return EXIT.invalidInput;
  }
  const failed = deliverDocument('import stig', args.out, result.documentName, result.yaml, io);
  if (failed !== undefined) return failed;
  const counts = countsByCategory(result.notImported).map(([c, n]) => `${c} ${n}`).join(', ');
  io.stderr(
    `winstate: import stig: ${counted(result.benchmark.rules.length, 'rule')} in ${basename(file)}` +
      `${result.scope ? `; ${result.outOfScope.length} not for ${result.scope}` : ''}` +
      `; ${result.importedRules} imported as ${counted(result.resources.length, 'resource')}${args.out !== undefined ? ` into ${args.out}` : ''}\n` +
      `winstate: import stig: ${result.notImported.length} not expressible (listed at the top of the document)${counts ? `: ${counts}` : ''}\n`,
  );
  return EXIT.ok;
}
