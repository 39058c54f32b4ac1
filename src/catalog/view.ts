import { storageText, type Catalog, type CatalogEntry, type CatalogStorage } from './catalog.js';
import type { Baseline, BaselineSetting } from './baseline.js';
import type { CatalogPolicy } from './policy-items.js';
import { SRPV2_KEY } from '../kinds/applocker/kind.js';

/**
 * The published machine-readable shape of a catalog entry (`winstate catalog list --json`):
 * other tools read it, so fields are only ever added.
 */
export interface CatalogEntryView {
  id: string;
  kind: string;
  title: string;
  gpoPath: string;
  area: string | null;
  /** A registry value's location; entries that are not registry values have `storage` instead. */
  registry?: { key: string; valueName: string; valueType: string };
  /** Where a user right, account or security policy or audit subcategory lives (src/kinds/CONTRACT.md). */
  storage?: CatalogStorage;
  /**
   * The recommended setting: its choice name (if any), registry data (or a choice's data), what test accepts,
   * and for storage entries the recommendation in the kind's own form (principals, mustInclude/mustExclude,
   * value, success/failure).
   */
  desired: {
    choice: string | null;
    valueData: unknown;
    condition?: Record<string, unknown>;
    absentOk?: boolean;
    text?: string;
    principals?: string[];
    mustInclude?: string[];
    mustExclude?: string[];
    value?: number | string;
    success?: 'enabled' | 'disabled';
    failure?: 'enabled' | 'disabled';
  };
  choices: { name: string; valueData: unknown; meaning: string }[];
  /** The value is the organisation's own (banner text, SDDL): desired is then null data. */
  siteDefined: boolean;
  default: string | null;
  severity: string;
  scope: string[];
  platforms: string[];
  rationale: string;
  impact: string;
  references: { stig: string[]; cis: string[]; microsoft: string[]; oval: string[]; cce: string[] };
  /** What each shipped baseline (every shipped version) that sets this entry wants: its reference, level, roles and value. */
  baselines: { baseline: string; version: string; ref: string; level: string | null; scope: string[]; setting: string | null; value: BaselineSetting['value']; condition?: Record<string, unknown>; absentOk?: boolean }[];
}

/**
 * A policy file the catalog ships (`kind` AppLockerPolicy), as `catalog list --json` lists it beside
 * the entries: the file a document names, the registry values it sets, its rules and the baselines
 * that set it. It has no registry, storage, desired or choices: its desired state is the file.
 */
export interface CatalogPolicyView {
  id: string;
  kind: 'AppLockerPolicy';
  title: string;
  gpoPath: string;
  area: string;
  /** As an AppLockerPolicy resource takes it: catalog:<file>. */
  policyFile: string;
  /** Each collection's EnforcementMode (DWord) and each rule's `<id>!Value` (String, the rule's XML). */
  registryValues: { key: string; valueName: string; valueType: 'DWord' | 'String' }[];
  collections: {
    type: string;
    enforcementMode: 'NotConfigured' | 'AuditOnly' | 'Enabled';
    rules: { id: string; name: string; ruleType: string; action: 'Allow' | 'Deny'; userOrGroupSid: string }[];
  }[];
  scope: string[];
  references: CatalogEntryView['references'];
  baselines: { baseline: string; version: string; ref: string; level: string | null; scope: string[]; setting: string | null; value: string }[];
}

export function catalogPolicyView(policy: CatalogPolicy): CatalogPolicyView {
  const policyFile = `catalog:${policy.file}`;
  return {
    id: policy.id,
    kind: policy.kind,
    title: policy.title,
    gpoPath: policy.gpoPath,
    area: policy.area,
    policyFile,
    registryValues: policy.registryValues.map((v) => ({ ...v })),
    collections: policy.collections.map((c) => ({
      type: c.type,
      enforcementMode: c.enforcementMode,
      rules: c.rules.map((r) => ({ id: r.id, name: r.name, ruleType: r.ruleType, action: r.action, userOrGroupSid: r.userOrGroupSid })),
    })),
    scope: [...policy.scope],
    references: { stig: [], cis: [...policy.references.cis], microsoft: [...policy.references.microsoft], oval: [], cce: [] },
    baselines: policy.settings.map(({ baseline, setting }) => baselineUse(baseline, setting, policyFile)),
  };
}

/** `catalog list --json`: every entry, then every shipped policy file. */
export function catalogListView(catalog: Catalog): (CatalogEntryView | CatalogPolicyView)[] {
  return [...catalog.entries.map((e) => catalogEntryView(e, catalog)), ...catalog.policies.map(catalogPolicyView)];
}

const ENFORCEMENT_WORDS: Record<CatalogPolicyView['collections'][number]['enforcementMode'], string> = {
  Enabled: 'enforced (EnforcementMode 1)',
  AuditOnly: 'audit only (EnforcementMode 0)',
  NotConfigured: 'not configured (no EnforcementMode)',
};

/** A shipped policy file's page: where it lives, each collection with its rules, and the baselines that set it. */
export function renderCatalogPolicy(policy: CatalogPolicy): string {
  const v = catalogPolicyView(policy);
  const refs = [v.references.cis.length ? `CIS ${v.references.cis.join(', ')}` : '', v.references.microsoft.length ? `Microsoft baseline ${v.references.microsoft.join(', ')}` : ''].filter(Boolean);
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const width = (pick: (r: CatalogPolicyView['collections'][number]['rules'][number]) => string) => Math.max(0, ...v.collections.flatMap((c) => c.rules.map((r) => pick(r).length)));
  const [actionWidth, sidWidth, typeWidth] = [width((r) => r.action), width((r) => r.userOrGroupSid), width((r) => r.ruleType)];
  return [
    v.title,
    `  id:          ${v.id} (${v.kind})`,
    `  GPO path:    ${v.gpoPath}`,
    `  policy file: ${v.policyFile} (src/catalog/policies/${policy.file})`,
    `  registry:    ${count(v.registryValues.length, 'value')} under HKLM\\${SRPV2_KEY}: each collection's EnforcementMode, each rule's <id>!Value (its XML)`,
    `  collections: ${v.collections.map((c) => c.type).join(', ')} (the others are left as they are)`,
    ...v.collections.flatMap((c) => [
      `    ${c.type}: ${ENFORCEMENT_WORDS[c.enforcementMode]}, ${count(c.rules.length, 'rule')}`,
      ...c.rules.map((r) => `      ${r.id}  ${r.action.padEnd(actionWidth)}  ${r.userOrGroupSid.padEnd(sidWidth)}  ${r.ruleType.padEnd(typeWidth)}  ${r.name}`),
    ]),
    `  compared:    rule by rule on its facts (id, type, SID, action, conditions); rule names and descriptions are not compared`,
    `  scope:       ${v.scope.join(', ')}`,
    `  references:  ${refs.join('; ') || '-'}`,
    ...(v.baselines.length ? ['  baselines:'] : []),
    ...v.baselines.map((b) => `    ${b.baseline} ${b.version} ${b.ref}${b.level ? ` (${b.level})` : ''} [${b.scope.join(', ')}]: ${b.setting ?? b.value}`),
    `  in a document: type: AppLockerPolicy, properties: { policyFile: ${v.policyFile} }`,
  ].join('\n');
}

export function catalogEntryView(entry: CatalogEntry, catalog?: Catalog): CatalogEntryView {
  const choices = entry.choices ?? [];
  const named = typeof entry.recommended === 'string' ? choices.find((c) => c.name === entry.recommended) : undefined;
  const data = typeof entry.recommended === 'object' ? entry.recommended : undefined;
  return {
    id: entry.id,
    kind: entry.kind,
    title: entry.title,
    gpoPath: entry.gpoPath,
    area: entry.area ?? null,
    ...(entry.registry ? { registry: { ...entry.registry } } : { storage: { ...entry.storage! } }),
    desired: data
      ? 'valueData' in data
        ? { choice: null, valueData: data.valueData, ...(data.condition ? { condition: data.condition } : {}), ...(data.absentOk ? { absentOk: true } : {}), ...(data.text ? { text: data.text } : {}) }
        : { choice: null, valueData: null, ...structuredClone(data) }
      : { choice: named?.name ?? null, valueData: named?.data ?? null },
    choices: choices.map((c) => ({ name: c.name, valueData: c.data, meaning: c.meaning })),
    siteDefined: entry.siteDefined === true,
    default: entry.default ?? null,
    severity: entry.severity,
    scope: [...entry.scope],
    platforms: [...entry.platforms],
    rationale: entry.rationale,
    impact: entry.impact,
    references: {
      stig: [...(entry.references.stig ?? [])],
      cis: [...(entry.references.cis ?? [])],
      microsoft: [...(entry.references.microsoft ?? [])],
      oval: [...(entry.references.oval ?? [])],
      cce: [...(entry.references.cce ?? [])],
    },
    baselines: (catalog?.baselineSettings(entry) ?? []).map(({ baseline, setting }) => ({
      ...baselineUse(baseline, setting, setting.value),
      ...(setting.condition ? { condition: setting.condition } : {}),
      ...(setting.absentOk ? { absentOk: true } : {}),
    })),
  };
}

/** One baseline (and version) that sets an entry or a policy file, as the listings show it. */
function baselineUse<V>(baseline: Baseline, setting: { ref: string; level?: string | null; scope: readonly string[]; setting?: string | null }, value: V) {
  return { baseline: baseline.id, version: baseline.version, ref: setting.ref, level: setting.level ?? null, scope: [...setting.scope], setting: setting.setting ?? null, value };
}

/** Where a storage entry lives, for people: the store and its key. */
function storageLine(entry: CatalogEntry): string {
  const s = entry.storage!;
  const store = s.kind === 'AuditPolicy' ? 'auditpol backup (.csv)' : s.kind === 'UserRight' ? 'security template [Privilege Rights]' : `security template [${s.section}]`;
  return `${storageText(entry)}; ${store}`;
}

/** The recommendation in words: a choice with its data, registry data with its condition, or the storage kind's own form. */
function recommendedLine(v: CatalogEntryView): string {
  const d = v.desired;
  if (v.registry || d.valueData !== null || d.choice !== null) {
    return `${d.choice ?? d.text ?? '-'} (${JSON.stringify(d.valueData)}${d.condition ? `; accepts ${JSON.stringify(d.condition)}` : ''}${d.absentOk ? '; absent is fine' : ''})`;
  }
  if (d.principals) return d.principals.length ? `exactly ${d.principals.join(', ')}` : 'no one (the right defined and empty)';
  if (d.mustInclude || d.mustExclude) return [d.mustInclude ? `must include ${d.mustInclude.join(', ')}` : '', d.mustExclude ? `must not include ${d.mustExclude.join(', ')}` : ''].filter(Boolean).join('; ');
  if (d.success || d.failure) {
    return [d.success ? `success ${d.success}` : 'success either way', d.failure ? `failure ${d.failure}` : 'failure either way'].join(', ');
  }
  if (d.text !== undefined || d.value !== undefined) return `${d.text ?? String(d.value)}${d.value !== undefined ? ` (writes ${JSON.stringify(d.value)}` : ' (no value to write'}${d.condition ? `; accepts ${JSON.stringify(d.condition)})` : ')'}`;
  return '-';
}

/** A rule page for people, the way a SCAP rule page reads. */
export function renderCatalogEntry(entry: CatalogEntry, catalog?: Catalog): string {
  const v = catalogEntryView(entry, catalog);
  const refs = [
    v.references.stig.length ? `STIG ${v.references.stig.join(', ')}` : '',
    v.references.cis.length ? `CIS ${v.references.cis.join(', ')}` : '',
    v.references.microsoft.length ? `Microsoft baseline ${v.references.microsoft.join(', ')}` : '',
    v.references.cce.length ? v.references.cce.join(', ') : '',
    v.references.oval.length ? `OVAL ${v.references.oval.join(', ')}` : '',
  ].filter(Boolean);
  return [
    `${v.title}`,
    `  id:          ${v.id} (${v.kind})`,
    `  GPO path:    ${v.gpoPath}`,
    v.registry ? `  registry:    ${v.registry.key}!${v.registry.valueName} (${v.registry.valueType})` : `  storage:     ${storageLine(entry)}`,
    v.siteDefined && !v.desired.condition
      ? '  recommended: none, the value is site-defined'
      : `  recommended: ${recommendedLine(v)}`,
    `  default:     ${v.default ?? 'unknown'}`,
    `  choices:`,
    ...v.choices.map((c) => `    ${c.name} = ${JSON.stringify(c.valueData)}: ${c.meaning}`),
    `  severity:    ${v.severity}; scope: ${v.scope.join(', ')}; platforms: ${v.platforms.join(', ')}`,
    `  rationale:   ${v.rationale}`,
    `  impact:      ${v.impact}`,
    `  references:  ${refs.join('; ') || '-'}`,
    ...(v.baselines.length ? ['  baselines:'] : []),
    ...v.baselines.map(
      (b) =>
        `    ${b.baseline} ${b.version} ${b.ref}${b.level ? ` (${b.level})` : ''} [${b.scope.join(', ')}]: ${b.setting ?? JSON.stringify(b.value)}` +
        `${b.condition ? `; accepts ${JSON.stringify(b.condition)}` : ''}${b.absentOk ? '; absent is fine' : ''}`,
    ),
  ].join('\n');
}
