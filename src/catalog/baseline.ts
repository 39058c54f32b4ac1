/**
 * Published hardening baselines (CIS benchmarks, Microsoft security baselines) as data: which catalog
 * settings each one sets and to what. A baseline is the one place its references live: loading the
 * catalog adds each setting's CIS number or Microsoft GPO name to the entry's references.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectPath } from '../paths.js';
import type { Catalog, CatalogEntry } from './catalog.js';
import { readJsonFiles } from './data-files.js';
import type { Scope } from './stig/xccdf.js';

export type { Scope };

export interface BaselineSetting {
  /** The baseline's own reference: a CIS number, or a Microsoft GPO name. */
  ref: string;
  /** Catalog entry id. */
  entry: string;
  /** The state in the baseline's words, e.g. "Enabled: Highest protection". */
  setting?: string;
  level?: string;
  scope: Scope[];
  /**
   * As a Policy resource takes it; an object where the baseline asks for more than that form says
   * (a user right's mustInclude/mustExclude, an audit subcategory's success/failure).
   */
  value: string | number | string[] | BaselineKindValue;
  condition?: Record<string, unknown>;
  absentOk?: boolean;
}

export interface BaselineKindValue {
  mustInclude?: string[];
  mustExclude?: string[];
  success?: 'enabled' | 'disabled';
  failure?: 'enabled' | 'disabled';
}

/**
 * A setting the baseline makes as a whole policy file (AppLocker rule collections) rather than as a
 * catalog entry: a resource of that kind whose file the catalog ships (src/catalog/policies).
 */
export interface BaselinePolicyFile {
  ref: string;
  /** The resource's name in a generated document. */
  title: string;
  type: 'AppLockerPolicy';
  /** File name in src/catalog/policies; documents name it catalog:<file>. */
  file: string;
  setting?: string;
  level?: string;
  scope: Scope[];
}

export interface NotExpressible {
  ref: string;
  title: string;
  level?: string;
  scope?: Scope[];
  reason: string;
}

export interface Baseline {
  id: string;
  title: string;
  publisher: 'CIS' | 'Microsoft';
  version: string;
  /** metadata.name of a generated document, before the level and scope. */
  documentName: string;
  referenceKind: 'cis' | 'microsoft';
  source: { description: string; files: { repository: string; path: string; commit: string }[] };
  levels?: string[];
  settings: BaselineSetting[];
  policyFiles?: BaselinePolicyFile[];
  notExpressible: NotExpressible[];
}

export const BASELINES_DIR = projectPath('src', 'catalog', 'baselines');
export const BASELINE_SCHEMA_FILE = projectPath('src', 'catalog', 'baseline.schema.json');
/** Policy files baselines set whole (BaselinePolicyFile.file); the AppLocker kind resolves catalog:<file> here. */
export const CATALOG_POLICIES_DIR = projectPath('src', 'catalog', 'policies');

/** Reads and schema-checks every baseline file, in file name order. */
export function loadBaselines(dir = BASELINES_DIR): Baseline[] {
  return readJsonFiles<Baseline>(dir, BASELINE_SCHEMA_FILE, 'baseline').map(({ file, data: baseline }) => {
    // The newest version of a baseline is <id>.json; an older one kept by request is <id>@<version>.json.
    if (file !== `${baseline.id}.json` && file !== `${baseline.id}@${bareVersion(baseline.version)}.json`) throw new Error(`baseline ${join(dir, file)}: id '${baseline.id}' and version '${baseline.version}' do not match the file name`);
    for (const s of [...baseline.settings, ...(baseline.policyFiles ?? [])]) {
      if (s.level !== undefined && !(baseline.levels ?? []).includes(s.level)) throw new Error(`baseline ${baseline.id}: ${s.ref} has level '${s.level}', not one of its levels`);
    }
    for (const p of baseline.policyFiles ?? []) {
      if (!existsSync(join(CATALOG_POLICIES_DIR, p.file))) throw new Error(`baseline ${baseline.id}: ${p.ref} names policy file ${join(CATALOG_POLICIES_DIR, p.file)}, which does not exist`);
    }
    return baseline;
  });
}

/** A version without its leading v: v3.0.0 -> 3.0.0. */
export function bareVersion(version: string): string {
  return version.replace(/^v/i, '');
}

function compareVersions(a: string, b: string): number {
  const parts = (v: string) => bareVersion(v).split('.').map((p) => parseInt(p, 10) || 0);
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** Whether no other shipped version of the same baseline is newer: the one a plain id names. */
export function isNewest(baseline: Baseline, all: readonly Baseline[]): boolean {
  return all.every((b) => b === baseline || b.id !== baseline.id || compareVersions(b.version, baseline.version) < 0);
}

/** How users name a baseline, and its file's name before .json: the id for the newest version, id@version (e.g. cis-ws2016@1.2.0) for an older one. */
export function baselineName(baseline: Baseline, all: readonly Baseline[]): string {
  return isNewest(baseline, all) ? baseline.id : `${baseline.id}@${bareVersion(baseline.version)}`;
}

/** The baseline a name means: a plain id is its newest version; id@version (with or without the v) is that version. */
export function findBaseline(all: readonly Baseline[], name: string): Baseline | undefined {
  const [id, version] = name.toLowerCase().split('@', 2) as [string, string | undefined];
  if (version === undefined) return all.find((b) => b.id === id && isNewest(b, all));
  return all.find((b) => b.id === id && bareVersion(b.version).toLowerCase() === bareVersion(version));
}

/** The names users give: the id for each baseline's newest version, id@version for each older one. */
export function baselineNames(all: readonly Baseline[]): string[] {
  return all.map((b) => baselineName(b, all));
}

/** The baseline's level a user named (in any case), or why there is none. */
export function findLevel(baseline: Baseline, wanted: string): { level: string } | { problem: string } {
  const levels = baseline.levels ?? [];
  const level = levels.find((l) => l.toLowerCase() === wanted.toLowerCase());
  if (level) return { level };
  return { problem: levels.length ? `${baseline.id} has levels ${levels.join(', ')}, not "${wanted}"` : `${baseline.id} has no levels` };
}

/** The settings of a baseline for one role and level (a level includes the ones listed before it). */
export function selectSettings<T extends { scope?: Scope[]; level?: string }>(baseline: Baseline, items: readonly T[], scope?: Scope, level?: string): T[] {
  const levels = baseline.levels ?? [];
  const allowed = level === undefined ? undefined : new Set(levels.slice(0, levels.indexOf(level) + 1));
  return items.filter((s) => (scope === undefined || !s.scope || s.scope.includes(scope)) && (allowed === undefined || s.level === undefined || allowed.has(s.level)));
}

/** Every setting of a baseline, catalog entries and policy files: what its counts count. */
export function allSettings(baseline: Baseline): (BaselineSetting | BaselinePolicyFile)[] {
  return [...baseline.settings, ...(baseline.policyFiles ?? [])];
}

/**
 * A baseline's settings for one role and level as resources, the way a document writes them: Policy
 * resources (or the entry's own kind), then the policy files as resources of their kind naming
 * the shipped file as catalog:<file>, which resolves wherever the document is written or included.
 */
export function baselineResources(baseline: Baseline, catalog: Catalog, options: { scope?: Scope; level?: string } = {}): Record<string, unknown>[] {
  const names = new Set<string>();
  const policyFiles = selectSettings(baseline, baseline.policyFiles ?? [], options.scope, options.level).map((p) => {
    names.add(p.title.toLowerCase());
    const metadata: Record<string, unknown> = { scope: [...p.scope] };
    if (baseline.referenceKind === 'cis') metadata.references = { cis: [p.ref] };
    const description = [baseline.referenceKind === 'microsoft' ? `Set by the GPO ${p.ref}` : `${baseline.publisher} ${p.ref}${p.level ? ` (${p.level})` : ''}`, p.setting].filter(Boolean).join(': ');
    return { name: p.title, type: p.type, description, metadata, properties: { policyFile: `catalog:${p.file}` } };
  });
  return [...entryResources(baseline, catalog, options, names), ...policyFiles];
}

function entryResources(baseline: Baseline, catalog: Catalog, options: { scope?: Scope; level?: string }, names: Set<string>): Record<string, unknown>[] {
  return selectSettings(baseline, baseline.settings, options.scope, options.level).map((s) => {
    const entry = catalog.find(s.entry);
    if (!entry) throw new Error(`baseline ${baseline.id}: ${s.ref} names catalog entry '${s.entry}', which does not exist`);
    let name = baseline.referenceKind === 'cis' ? `${s.ref}: ${entry.title}` : entry.title;
    if (names.has(name.toLowerCase())) name = `${name} (${s.ref})`;
    names.add(name.toLowerCase());
    const own = kindResource(entry, s);
    // An object value that kindResource leaves to Policy is the catalog's own recommendation.
    const value = typeof s.value === 'object' && !Array.isArray(s.value) ? 'recommended' : s.value;
    const properties: Record<string, unknown> = own?.properties ?? { policy: entry.title, value };
    if (!own && s.condition) properties.condition = s.condition;
    if (!own && s.absentOk) properties.absentOk = true;
    const metadata: Record<string, unknown> = { scope: [...s.scope] };
    if (baseline.referenceKind === 'cis') metadata.references = { cis: [s.ref] };
    const description = [baseline.referenceKind === 'microsoft' ? `Set by the GPO ${s.ref}` : `${baseline.publisher} ${s.ref}${s.level ? ` (${s.level})` : ''}`, s.setting].filter(Boolean).join(': ');
    return { name, type: own?.type ?? 'Policy', description, metadata, properties };
  });
}

const canonical = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (Array.isArray(x) && x.every((i) => typeof i === 'string') ? [...x].sort() : x));

/**
 * A setting of a non-registry entry that a Policy resource cannot state, as a resource of the entry's
 * own kind: a must-include list or a partial audit setting other than the catalog's recommendation,
 * or a number with its own condition. Undefined when a Policy resource says it.
 */
export function kindResource(entry: CatalogEntry, s: Pick<BaselineSetting, 'value' | 'condition'>): { type: string; properties: Record<string, unknown> } | undefined {
  const storage = entry.storage;
  if (!storage) return undefined;
  const object = typeof s.value === 'object' && !Array.isArray(s.value) ? s.value : undefined;
  if (!object && !s.condition) return undefined;
  if (object && !s.condition && canonical(object) === canonical(entry.recommended)) return undefined;
  switch (storage.kind) {
    case 'UserRight':
      return { type: 'UserRight', properties: { right: storage.right, ...(object ?? { principals: s.value }) } };
    case 'AuditPolicy':
      return { type: 'AuditPolicy', properties: { subcategory: storage.guid, ...object } };
    case 'AccountPolicy':
    case 'SecurityPolicy':
      return { type: storage.kind, properties: { policy: storage.key, value: s.value, ...(s.condition ? { condition: s.condition } : {}) } };
  }
}
