import type { Catalog, CatalogEntry } from '../catalog/catalog.js';
import type { DiagnosticCode } from '../document/diagnostics.js';
import type { WireData } from './registry/model.js';

/** The kinds of setting winstate manages (src/kinds/CONTRACT.md). */
export type KindName = 'Registry' | 'UserRight' | 'AccountPolicy' | 'SecurityPolicy' | 'AuditPolicy' | 'AppLockerPolicy' | 'CimInstance';
/** Where a kind's settings are read and written: one file per store offline. */
export type StoreName = 'Registry' | 'SecurityTemplate' | 'AuditBackup';

/** A path below a resource's `properties`, e.g. ['valueData'] or ['valueData', 2]. */
export type PropertyPath = (string | number)[];

export interface ResolveContext {
  catalog: Catalog;
  /** The document being resolved: files it names (an AppLocker policy) are relative to it. */
  documentFile?: string;
  error(path: PropertyPath, code: DiagnosticCode, message: string): void;
}

/** Desired state expressed in a policy's own terms, for reports. */
export interface PolicyBinding {
  title: string;
  value: string;
  choices: { name: string; data: WireData }[];
}

/** What a resource's properties resolve to: one setting of one kind and what it should be. */
export interface ResolvedResource<Spec = unknown> {
  kind: KindName;
  /** What makes two resources the same setting (conflicts): lower case, e.g. 'userright:sedenynetworklogonright'. */
  identity: string;
  /** Where the setting lives, in words; also `target` in results. */
  target: string;
  /** The kind's own resolved form (Registry: { target, desired }). */
  spec: Spec;
  policy?: PolicyBinding;
  entry?: CatalogEntry;
}

/** One document `type`: its schema and its resolution (ajv's one definition per keyword). */
export interface ResourceKind {
  type: string;
  description: string;
  /** JSON Schema (2020-12) of the resource's `properties`. */
  propertiesSchema: Record<string, unknown>;
  /** Properties a waiver's override may set. */
  overrideKeys: readonly string[];
  /** The properties an override leaves in force: by default all but those it replaces. */
  keptUnderOverride?(properties: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown>;
  /** Turns schema-valid properties into a setting; reports problems through ctx. */
  resolve(properties: Record<string, unknown>, ctx: ResolveContext): ResolvedResource | undefined;
}

/** A kind view (desired, actual, before, after): plain JSON, as CONTRACT.md "Results" defines per kind. */
export type KindView = { [key: string]: unknown };

/** A prior-state entry of a backup (CONTRACT.md "Backup entries"); no `kind` means Registry. */
export interface KindBackupEntry {
  kind?: KindName;
  resource: string;
  target: string;
  /** Set by rollbackDocument for a backup of a live run: some prior states cannot be put back there. */
  live?: boolean;
  [field: string]: unknown;
}

/** A resource of a rollback document. */
export interface RollbackResource {
  name: string;
  type: string;
  properties: Record<string, unknown>;
  /** The name of the document resource whose change this undoes (the backup entry's `resource`). */
  restores?: string;
}

/** Resources restoring backup entries, and what cannot be restored through a document (with why). */
export interface RollbackPart {
  resources: RollbackResource[];
  unsupported: string[];
}

/**
 * Everything about one kind (src/kinds/<kind>/kind.ts), listed in src/kinds/index.ts. Nothing
 * outside the kind's folder knows its spec.
 */
export interface KindUnit<Spec = any> {
  kind: KindName;
  /** null: the kind reads the live system itself and has no snapshot file (CimInstance). */
  store: StoreName | null;
  /** Set never changes it: test judges it, set reports it as it is, and nothing is backed up. */
  checkOnly?: boolean;
  /** The document types that name this kind's settings directly. */
  documentTypes: readonly ResourceKind[];
  /** A catalog entry of this kind with a document's value (`Policy`, `SecurityOption`): the entry's value forms. */
  resolveEntry?(entry: CatalogEntry, properties: Record<string, unknown>, ctx: ResolveContext): ResolvedResource<Spec> | undefined;
  /** Whether two resources of one identity want the same thing. */
  sameDesired(a: Spec, b: Spec): boolean;
  /** The other identity may not be present while this one is wanted: e.g. a registry key removed with what is below it. */
  removesBelow?(spec: Spec): boolean;
  /** Whether this resource wants its setting to exist. */
  wantsPresent(spec: Spec): boolean;
  /** The runtime table's kind columns (CONTRACT.md "The runtime table row"). */
  row(resource: ResolvedResource<Spec>): Record<string, unknown>;
  /** The kind columns that say what is wanted: what a waiver's override replaces. */
  desiredColumns(spec: Spec, policy: PolicyBinding | undefined): Record<string, unknown>;
  /** Lines of the generated script's comment block about where the setting lives and what it should be. */
  commentLines(resource: ResolvedResource<Spec>): string[];
  /** The desired view results carry for this spec (reports show it for a waiver's baseline). */
  desiredView(spec: Spec, policy: PolicyBinding | undefined): KindView;
  /** The report area of a setting that has no catalog area, from its target. */
  area(target: string): string;
  /** A view in words: the same rules as the runtime's Format-Ws<Kind>StateText. */
  stateText(view: KindView): string;
  /** Document resources that put back this kind's backup entries (all of one run, in order). */
  rollbackResources(entries: KindBackupEntry[]): RollbackPart;
}
