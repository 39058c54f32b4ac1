import { projectPath } from '../paths.js';
import type { ValueType, WireData } from '../kinds/registry/model.js';
import { BASELINES_DIR, isNewest, loadBaselines, type Baseline, type BaselineSetting } from './baseline.js';
import { readJsonFiles } from './data-files.js';
import { catalogPolicies, type CatalogPolicy } from './policy-items.js';

export interface CatalogChoice {
  name: string;
  data: WireData;
  meaning: string;
}

/** A recommendation stated as registry data, for settings without named choices or with a range. */
export interface RecommendedData {
  valueData: WireData;
  condition?: Record<string, unknown>;
  absentOk?: boolean;
  text?: string;
}

/** Where a setting that is not a registry value lives (src/kinds/CONTRACT.md, "Catalog entries"). */
export type CatalogStorage =
  | { kind: 'UserRight'; right: string }
  | { kind: 'AccountPolicy' | 'SecurityPolicy'; section: 'System Access' | 'Kerberos Policy'; key: string }
  | { kind: 'AuditPolicy'; guid: string; subcategory: string };

/**
 * A recommendation in a non-registry kind's own form: UserRight `principals` (exact) or
 * `mustInclude`/`mustExclude`; AccountPolicy/SecurityPolicy `value` and/or `condition` (with `text`);
 * AuditPolicy `success`/`failure` (either may be left out: "must include").
 */
export interface RecommendedKindValue {
  valueData?: undefined;
  absentOk?: undefined;
  principals?: string[];
  mustInclude?: string[];
  mustExclude?: string[];
  value?: number | string;
  condition?: Record<string, unknown>;
  text?: string;
  success?: 'enabled' | 'disabled';
  failure?: 'enabled' | 'disabled';
}

export interface CatalogEntry {
  id: string;
  kind: 'SecurityOption' | 'AdministrativeTemplate' | 'MSS' | 'WindowsFirewall' | 'UserRightsAssignment' | 'AccountPolicy' | 'AdvancedAuditPolicy' | 'RegistryValue';
  title: string;
  gpoPath: string;
  area?: string;
  /** Registry settings have `registry`, all others `storage`. */
  registry?: { key: string; valueName: string; valueType: ValueType };
  storage?: CatalogStorage;
  choices?: CatalogChoice[];
  /** The right value is the organisation's own, so there is no recommendation. */
  siteDefined?: true;
  default?: string;
  recommended?: string | RecommendedData | RecommendedKindValue;
  severity: 'low' | 'medium' | 'high';
  scope: ('MS' | 'DC')[];
  platforms: string[];
  rationale: string;
  impact: string;
  /** Read at boot: a change takes effect only after a restart. */
  restartRequired?: true;
  /** stig, oval and cce come from the entry file; cis and microsoft from the baselines that set it. */
  references: { stig?: string[]; cis?: string[]; microsoft?: string[]; oval?: string[]; cce?: string[] };
}

/** An entry that is a registry value (has `registry`, and a choice name or registry data as its recommendation). */
export type RegistryCatalogEntry = CatalogEntry & { registry: NonNullable<CatalogEntry['registry']>; recommended?: string | RecommendedData };
export function isRegistryEntry(entry: CatalogEntry): entry is RegistryCatalogEntry {
  return entry.registry !== undefined;
}

/** Where an entry lives, in words: `HKLM\...!Name`, `User right SeDenyNetworkLogonRight`, `System Access: LockoutDuration`, `Audit {GUID} (name)`. */
export function storageText(entry: Pick<CatalogEntry, 'registry' | 'storage'>): string {
  if (entry.registry) return `${entry.registry.key}!${entry.registry.valueName}`;
  const s = entry.storage!;
  switch (s.kind) {
    case 'UserRight':
      return `User right ${s.right}`;
    case 'AccountPolicy':
    case 'SecurityPolicy':
      return `${s.section}: ${s.key}`;
    case 'AuditPolicy':
      return `Audit ${s.guid} (${s.subcategory})`;
  }
}

export const CATALOG_ENTRIES_DIR = projectPath('src', 'catalog', 'entries');
export const CATALOG_ENTRY_SCHEMA_FILE = projectPath('src', 'catalog', 'catalog-entry.schema.json');

/** Folds case and runs of blanks, the differences a hand-typed policy name usually has. */
function titleKey(title: string): string {
  return title.trim().replace(/\s+/g, ' ').toLowerCase();
}

export class Catalog {
  /** Ids and titles (one entry each), then STIG ids and CIS numbers (every entry that cites one). */
  private readonly byKey = new Map<string, CatalogEntry[]>();

  /** Entries are taken as they are; baselines add their references (cis, microsoft) to the entries they set. */
  constructor(
    readonly entries: readonly CatalogEntry[],
    readonly baselines: readonly Baseline[] = [],
  ) {
    const byId = new Map(entries.map((e) => [e.id, e]));
    for (const baseline of baselines) {
      // Older versions renumber (CIS 18.9.x became 18.10.x): only the newest one's numbers name entries.
      const newest = isNewest(baseline, baselines);
      for (const setting of baseline.settings) {
        const entry = byId.get(setting.entry);
        if (!entry) throw new Error(`baseline ${baseline.id} ${baseline.version}: ${setting.ref} names catalog entry '${setting.entry}', which does not exist`);
        if (!newest) continue;
        const refs = (entry.references[baseline.referenceKind] ??= []);
        if (!refs.includes(setting.ref)) refs.push(setting.ref);
      }
    }
    for (const entry of entries) {
      for (const key of [entry.id, entry.title]) {
        const k = titleKey(key);
        const other = this.byKey.get(k)?.[0];
        if (other && other !== entry) throw new Error(`catalog: '${key}' names both ${other.id} and ${entry.id}`);
        this.byKey.set(k, [entry]);
      }
    }
    // A STIG rule or CIS recommendation can set several values (several entries): all are kept.
    const names = new Set(this.byKey.keys());
    for (const entry of entries) {
      for (const key of [...(entry.references.stig ?? []), ...(entry.references.cis ?? [])]) {
        const k = titleKey(key);
        if (names.has(k)) continue; // an id or title wins over a reference
        const list = this.byKey.get(k) ?? [];
        if (!list.includes(entry)) list.push(entry);
        this.byKey.set(k, list);
      }
    }
  }

  private policyItems?: CatalogPolicy[];

  /**
   * The policy files the baselines set whole (AppLocker rule collections), as items beside the
   * entries: read from the files when first asked for, since only listings and lookups that miss need them.
   */
  get policies(): readonly CatalogPolicy[] {
    if (!this.policyItems) {
      const items = catalogPolicies(this.baselines);
      // An id or title names one thing: a policy file's may not be an entry's or another file's.
      for (const item of items) {
        for (const key of [item.id, item.title]) {
          const entry = this.byKey.get(titleKey(key))?.[0];
          const other = items.find((i) => i !== item && (titleKey(i.id) === titleKey(key) || titleKey(i.title) === titleKey(key)));
          if (entry || other) throw new Error(`catalog: policy file ${item.file} is named '${key}', which already names ${entry ? `catalog entry ${entry.id}` : `policy file ${other!.file}`}`);
        }
      }
      this.policyItems = items;
    }
    return this.policyItems;
  }

  /** A shipped policy file by its catalog id or title (ignoring case and doubled blanks). */
  findPolicy(nameOrId: string): CatalogPolicy | undefined {
    const k = titleKey(nameOrId);
    return this.policies.find((p) => titleKey(p.id) === k || titleKey(p.title) === k);
  }

  /** By id, exact Group Policy title, STIG id or CIS number, ignoring case and doubled blanks (the first, for a reference several entries cite). */
  find(nameOrId: string): CatalogEntry | undefined {
    return this.findAll(nameOrId)[0];
  }

  /** Every entry a name finds: one for an id or title, all of them for a STIG id or CIS number. */
  findAll(nameOrId: string): CatalogEntry[] {
    return this.byKey.get(titleKey(nameOrId)) ?? [];
  }

  /** The baseline settings that name this entry, each with its baseline. */
  baselineSettings(entry: CatalogEntry): { baseline: Baseline; setting: BaselineSetting }[] {
    return this.baselines.flatMap((baseline) => baseline.settings.filter((s) => s.entry === entry.id).map((setting) => ({ baseline, setting })));
  }

  /** The closest titles (of the given kinds; with policies, the policy files' too), for "did you mean" hints. */
  suggest(name: string, count = 3, kinds?: readonly CatalogEntry['kind'][], options: { policies?: boolean } = {}): string[] {
    const wanted = titleKey(name);
    // A policy file's id is as likely to be mistyped as its (long) title: the closer of the two counts.
    const policies = options.policies ? this.policies.map((p) => ({ title: p.title, score: Math.max(similarity(wanted, titleKey(p.id)), similarity(wanted, titleKey(p.title))) })) : [];
    return this.entries
      .filter((e) => !kinds || kinds.includes(e.kind))
      .map((e) => ({ title: e.title, score: similarity(wanted, titleKey(e.title)) }))
      .concat(policies)
      .filter((s) => s.score > 0.4)
      .sort((a, b) => b.score - a.score || a.title.localeCompare(b.title))
      .slice(0, count)
      .map((s) => s.title);
  }
}

/** 1 - normalised edit distance. */
function similarity(a: string, b: string): number {
  if (a === b) return 1;
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j]!;
      prev[j] = Math.min(above + 1, prev[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return 1 - prev[b.length]! / Math.max(a.length, b.length);
}

let shared: Catalog | undefined;

/** Reads and schema-checks every entry file (and, for the shipped catalog, every baseline) once per process. */
export function loadCatalog(dir = CATALOG_ENTRIES_DIR, baselinesDir = dir === CATALOG_ENTRIES_DIR ? BASELINES_DIR : undefined): Catalog {
  if (dir === CATALOG_ENTRIES_DIR && shared) return shared;
  const entries = readJsonFiles<CatalogEntry>(dir, CATALOG_ENTRY_SCHEMA_FILE, 'catalog entry').map(({ data }) => data);
  const catalog = new Catalog(entries, baselinesDir === undefined ? [] : loadBaselines(baselinesDir));
  if (dir === CATALOG_ENTRIES_DIR) shared = catalog;
  return catalog;
}
