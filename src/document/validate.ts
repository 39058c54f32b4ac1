import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ErrorObject } from 'ajv';
import { ajv2020, DOCUMENT_VALIDATOR_OPTIONS, loadStandaloneValidator, type ValidatorFunction } from '../build-artifacts.js';
import { loadCatalog, type Catalog } from '../catalog/catalog.js';
import { findKind, unitOf } from '../kinds/index.js';
import type { ResolvedResource } from '../kinds/kind.js';
import type { ResourceMetadata } from '../kinds/info.js';
import { printable, type Diagnostic, type DiagnosticCode } from './diagnostics.js';
import { loadFile, loadText, type DataPath, type SourceDocument } from './load.js';
import { documentSchema } from './schema.js';
import { baselineNames, baselineResources, findBaseline, findLevel } from '../catalog/baseline.js';
import { settingInfo } from '../kinds/info.js';
import { closestWord } from '../suggest.js';
import { importStig } from '../catalog/stig/import.js';

/** An organisation's decision about one resource, judged against the date when the script runs. */
export interface PlannedWaiver {
  justification: string;
  /** Last day (UTC) the waiver applies, YYYY-MM-DD. */
  expires: string;
  approvedBy?: string;
  /** What to enforce meanwhile; without it the resource is skipped. */
  override?: Pick<ResolvedResource, 'spec' | 'policy'>;
  /** Already expired when the document was validated. */
  expired: boolean;
}

export interface PlannedResource extends ResolvedResource {
  /** Position among the document's resources, included ones first. */
  index: number;
  /** Where the resource is written: ['resources', i], or ['include', j] for a baseline's setting. */
  path: DataPath;
  name: string;
  type: string;
  description?: string;
  metadata?: ResourceMetadata;
  waiver?: PlannedWaiver;
  /** Why a fleet run may cut off the account it connects as here: the lockout guard records instead of refusing. */
  acceptLockoutRisk?: string;
  line: number;
}

/** A valid document, resolved: every resource bound to one setting of its kind. */
export interface Plan {
  file: string;
  name: string;
  description?: string;
  resources: PlannedResource[];
}

export interface ValidationResult {
  plan?: Plan;
  /** Errors: any one of them means no plan. */
  diagnostics: Diagnostic[];
  /** Worth saying but not blocking, such as an expired waiver. */
  warnings?: Diagnostic[];
}

export interface ValidateOptions {
  catalog?: Catalog;
  /** The date waivers are judged against (default: now). */
  now?: Date;
}

let compiledSchema: ValidatorFunction | undefined;
/** The build's standalone validator for today's schema, else one compiled now. */
function schemaValidator(): ValidatorFunction {
  if (compiledSchema) return compiledSchema;
  const schema = documentSchema();
  compiledSchema = loadStandaloneValidator('document', schema) ?? ajv2020(DOCUMENT_VALIDATOR_OPTIONS).compile(schema);
  return compiledSchema;
}

export function validateFile(file: string, options: ValidateOptions = {}): ValidationResult {
  const { source, diagnostics } = loadFile(file);
  return source ? validateSource(source, options) : { diagnostics };
}

export function validateText(file: string, text: string, options: ValidateOptions = {}): ValidationResult {
  const { source, diagnostics } = loadText(file, text);
  return source ? validateSource(source, options) : { diagnostics };
}

export function validateSource(source: SourceDocument, options: ValidateOptions = {}): ValidationResult {
  // Read only when a resource, include or waiver names a catalog setting: raw Registry documents never load it.
  let loaded = options.catalog;
  const catalog = (): Catalog => (loaded ??= loadCatalog());
  const warnings: Diagnostic[] = [];
  const diagnostics: Diagnostic[] = [];
  const report = (path: DataPath, code: DiagnosticCode, message: string, which: 'key' | 'value' = 'value') => {
    const { start, end } = source.locate(path, which);
    diagnostics.push({ file: source.file, code, message: printable(message), start, end, severity: 'error' });
  };

  const validate = schemaValidator();
  const schemaProblems = new Map<number, SchemaProblems>();
  if (!validate(schemaView(source.data))) {
    for (const error of validate.errors!) {
      if (error.keyword === 'if') continue; // the failing `then` branch reports the real problem
      const { path, which, message } = describeSchemaError(error, source.data);
      if (path[0] === 'resources' && typeof path[1] === 'number') noteSchemaProblem(schemaProblems, path[1], error);
      report(path, 'schema', message, which);
    }
  }
  const data = source.data as { metadata?: { name?: string; description?: string }; resources?: unknown[]; include?: unknown[] };
  if (data && typeof data === 'object' && !Array.isArray(data) && !('resources' in data) && !('include' in data)) {
    report([], 'schema', "document: missing required property 'resources'");
  }
  const own = Array.isArray(data?.resources) ? data.resources : [];
  const included = Array.isArray(data?.include) && !brokenInclude(validate.errors) ? includedResources(data.include, catalog(), source.file, report) : [];
  if (!Array.isArray(data?.resources) && included.length === 0) return { diagnostics: sortDiagnostics(diagnostics) };

  // Included settings first, then the document's own resources, each with where it is written.
  const all: SourcedResource[] = [...included, ...own.map((raw, i) => ({ raw: raw as RawResource, path: ['resources', i] as DataPath, ...sourcedSchemaState(schemaProblems.get(i)) }))];
  const lineOf = (index: number) => source.locate(all[index]!.path).start.line;
  const resources: PlannedResource[] = [];
  all.forEach(({ raw, path, broken, unknownProperties }, index) => {
    if (broken) return;
    const r = raw as RawResource & { description?: string; metadata?: ResourceMetadata; acceptLockoutRisk?: string };
    const kind = findKind(r.type)!;
    // Unknown properties are already reported; the kind still checks the rest, so one typo does not hide another problem.
    const properties = unknownProperties ? withoutKeys(r.properties, unknownProperties) : r.properties;
    const resolved = kind.resolve(properties, {
      get catalog() { return catalog(); },
      documentFile: source.file,
      error: (sub, code, message) => report(propertiesAt(path, sub), code, `${r.name}: ${message}`),
    });
    if (resolved) {
      resources.push({
        ...resolved, index, path, name: r.name, type: r.type, description: r.description, metadata: r.metadata, line: lineOf(index),
        ...(typeof r.acceptLockoutRisk === 'string' ? { acceptLockoutRisk: r.acceptLockoutRisk } : {}),
      });
    }
  });
  checkNames(all, report, lineOf);
  const warn = (path: DataPath, message: string) => {
    const { start, end } = source.locate(path);
    warnings.push({ file: source.file, code: 'waiver', message: printable(message), start, end, severity: 'warning' });
  };
  applyWaivers((data as { waivers?: RawWaiver[] }).waivers ?? [], all.map((a) => a.raw), resources, catalog, options.now ?? new Date(), report, warn);
  // After the waivers: a resource an active waiver skips wants nothing, an override wants what it says.
  checkAcrossResources(resources, report);

  if (diagnostics.length > 0) return { diagnostics: sortDiagnostics(diagnostics), warnings };
  return {
    plan: { file: source.file, name: data.metadata!.name!, description: data.metadata!.description, resources },
    diagnostics,
    warnings,
  };
}

interface RawResource { name: string; type: string; properties: Record<string, unknown> }
interface SourcedResource {
  raw: RawResource;
  path: DataPath;
  /** The schema refused it in a way the kind cannot look past: it is not resolved. */
  broken?: boolean;
  /** Names under `properties` the schema reported as unknown (its only problems): left out when the kind checks the rest. */
  unknownProperties?: Set<string>;
}

/** What the schema found wrong with one resource. */
interface SchemaProblems { unknownOnly: boolean; unknownProperties: Set<string> }

/** Unknown properties of the resource or of its `properties` leave the rest checkable; anything else does not. */
function noteSchemaProblem(problems: Map<number, SchemaProblems>, index: number, error: ErrorObject): void {
  const entry = problems.get(index) ?? { unknownOnly: true, unknownProperties: new Set<string>() };
  problems.set(index, entry);
  const name = String((error.params as { additionalProperty?: unknown }).additionalProperty);
  if (error.keyword === 'additionalProperties' && error.instancePath === `/resources/${index}/properties`) entry.unknownProperties.add(name);
  else if (!(error.keyword === 'additionalProperties' && error.instancePath === `/resources/${index}`)) entry.unknownOnly = false;
}

function sourcedSchemaState(problems: SchemaProblems | undefined): Pick<SourcedResource, 'broken' | 'unknownProperties'> {
  if (!problems) return {};
  return problems.unknownOnly ? { unknownProperties: problems.unknownProperties } : { broken: true };
}

function withoutKeys<T>(value: T, keys: Set<string>): T {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !keys.has(k))) as T;
}

/** The schema already refused some include entry: nothing is expanded then. */
function brokenInclude(errors: ErrorObject[] | null | undefined): boolean {
  return (errors ?? []).some((e) => e.instancePath.startsWith('/include'));
}

/** A baseline's settings for the chosen role and level, as resources written where the include is. */
function includedResources(include: unknown[], catalog: Catalog, documentFile: string, report: (path: DataPath, code: DiagnosticCode, message: string) => void): SourcedResource[] {
  return include.flatMap((raw, j) => {
    if (typeof (raw as { stig?: unknown }).stig === 'string') return stigResources(raw as { stig: string; scope: string }, j, documentFile, report);
    const item = raw as { baseline: string; scope: string; level?: string };
    const baseline = findBaseline(catalog.baselines, item.baseline);
    if (!baseline) {
      report(['include', j, 'baseline'], 'invalid-value', `unknown baseline "${item.baseline}"; the catalog has ${baselineNames(catalog.baselines).join(', ')}`);
      return [];
    }
    const found = item.level === undefined ? undefined : findLevel(baseline, item.level);
    if (found && 'problem' in found) {
      report(['include', j, 'level'], 'invalid-value', found.problem);
      return [];
    }
    return baselineResources(baseline, catalog, { scope: item.scope.toUpperCase() as 'MS' | 'DC', level: found?.level }).map((r) => ({ raw: r as unknown as RawResource, path: ['include', j] as DataPath }));
  });
}
/** A STIG benchmark's rules for the role, imported as `winstate import stig` writes them. */
function stigResources(item: { stig: string; scope: string }, j: number, documentFile: string, report: (path: DataPath, code: DiagnosticCode, message: string) => void): SourcedResource[] {
  const file = resolvePath(dirname(resolvePath(documentFile)), item.stig);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    report(['include', j, 'stig'], 'invalid-value', `cannot read the STIG benchmark ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return [];
  }
  let imported: ReturnType<typeof importStig>;
  try {
    imported = importStig(text, { scope: item.scope.toUpperCase() as 'MS' | 'DC' });
  } catch (error) {
    report(['include', j, 'stig'], 'invalid-value', `${file} is not a readable STIG XCCDF benchmark: ${(error as Error).message}`);
    return [];
  }
  const resources = (parseYaml(imported.yaml) as { resources?: RawResource[] } | null)?.resources ?? [];
  return resources.map((r) => ({ raw: r, path: ['include', j] as DataPath }));
}

interface RawWaiver { resource: string; justification: string; expires: string; approvedBy?: string; override?: Record<string, unknown> }

/**
 * Binds each waiver to its resource. An override is resolved by the resource's own kind, with the
 * override's fields in place of the document's, so it is checked exactly like the original.
 */
function applyWaivers(
  waivers: RawWaiver[],
  raw: RawResource[],
  resources: PlannedResource[],
  catalog: () => Catalog,
  now: Date,
  report: (path: DataPath, code: DiagnosticCode, message: string) => void,
  warn: (path: DataPath, message: string) => void,
): void {
  const today = now.toISOString().slice(0, 10);
  waivers.forEach((w, i) => {
    if (typeof w?.resource !== 'string') return; // the schema has reported it
    const named = resources.find((r) => r.name.toLowerCase() === w.resource.toLowerCase());
    // By name first; else by a STIG id (V-, SV-, WN16-) or CIS number the resources cite: a rule
    // written as several values waives all of them.
    const matches = named ? [named] : resources.filter((r) => referenceIds(r).some((id) => id.toLowerCase() === w.resource.trim().toLowerCase()));
    if (matches.length === 0) {
      if (!raw.some((r) => r?.name?.toLowerCase() === w.resource.toLowerCase())) {
        const hint = closestWord(w.resource, [...resources.map((r) => r.name), ...new Set(resources.flatMap(referenceIds))]);
        report(['waivers', i, 'resource'], 'invalid-value', `waiver for "${w.resource}": no resource has that name, STIG id or CIS number${hint ? `; did you mean "${hint}"?` : ''}`);
      }
      return;
    }
    if (w.override && matches.length > 1) {
      report(['waivers', i, 'resource'], 'invalid-value', `waiver for "${w.resource}": ${matches.length} resources cite it (${matches.map((r) => r.name).join(', ')}); an override needs one, so name the resource`);
      return;
    }
    matches.forEach((resource, n) => bindWaiver(w, i, resource, n === 0));
  });

  function bindWaiver(w: RawWaiver, i: number, resource: PlannedResource, first: boolean): void {
    if (resource.waiver) {
      report(['waivers', i, 'resource'], 'invalid-value', `"${resource.name}" already has a waiver; one per resource`);
      return;
    }
    if (Number.isNaN(Date.parse(`${w.expires}T00:00:00Z`)) || new Date(`${w.expires}T00:00:00Z`).toISOString().slice(0, 10) !== w.expires) {
      report(['waivers', i, 'expires'], 'invalid-value', `waiver for "${w.resource}": ${w.expires} is not a calendar date`);
      return;
    }
    const waiver: PlannedWaiver = { justification: w.justification, expires: w.expires, approvedBy: w.approvedBy, expired: w.expires < today };
    if (w.override) {
      const kind = findKind(resource.type)!;
      const allowed = kind.overrideKeys;
      const stray = Object.keys(w.override).find((k) => !allowed.includes(k));
      if (stray) {
        report(['waivers', i, 'override', stray], 'invalid-value', `a ${resource.type} override may set ${allowed.join(', ')}, not ${stray}`);
        return;
      }
      const own = raw[resource.index]!.properties;
      const properties = { ...(kind.keptUnderOverride ? kind.keptUnderOverride(own, w.override) : keptUnderOverride(own, w.override)), ...w.override };
      const resolved = kind.resolve(properties, {
        get catalog() { return catalog(); },
        error: (path, code, message) => report(['waivers', i, 'override', ...path], code, `waiver for "${w.resource}": ${message}`),
      });
      if (!resolved) return;
      waiver.override = { spec: resolved.spec, policy: resolved.policy };
    }
    if (waiver.expired && first) warn(['waivers', i, 'expires'], `the waiver for "${w.resource}" expired on ${w.expires}: the resource is enforced again`);
    resource.waiver = waiver;
  }
}

/** What stays of a resource's properties under an override: a new value replaces the condition unless one is given. */
function keptUnderOverride(properties: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const kept = { ...properties };
  if (('value' in override || 'valueData' in override) && !('condition' in override)) delete kept.condition;
  return kept;
}

/** The STIG ids and CIS numbers a resource cites (its own metadata, else its catalog entry's). */
function referenceIds(r: PlannedResource): string[] {
  const refs = settingInfo(r).references;
  return [...refs.stig, ...refs.cis];
}

/** Resource names are unique (ignoring case), whatever else is wrong with the resources. */
function checkNames(all: SourcedResource[], report: (path: DataPath, code: DiagnosticCode, message: string) => void, lineOf: (index: number) => number): void {
  const seen = new Map<string, number>();
  // Two includes that bring in the same settings (one baseline twice) clash on hundreds of names:
  // one error per pair of includes, not one per name.
  const includeClashes = new Map<string, { path: DataPath; first: number; names: string[] }>();
  all.forEach(({ raw, path }, index) => {
    const name = (raw as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return;
    const first = seen.get(name.toLowerCase());
    if (first === undefined) seen.set(name.toLowerCase(), index);
    else if (path[0] === 'include' && all[first]!.path[0] === 'include') {
      const key = `${String(path[1])}/${String(all[first]!.path[1])}`;
      const clash = includeClashes.get(key) ?? { path, first, names: [] };
      clash.names.push(name);
      includeClashes.set(key, clash);
    } else report(path[0] === 'resources' ? [...path, 'name'] : path, 'duplicate-name', `resource name "${name}" is already used at line ${lineOf(first)}`);
  });
  for (const { path, first, names } of includeClashes.values()) {
    const count = names.length === 1 ? `the resource "${names[0]}"` : `${names.length} resources (such as "${names[0]}")`;
    report(path, 'duplicate-name', `this include brings in ${count} that the include at line ${lineOf(first)} already brings in: include each baseline once (a level includes the ones below it)`);
  }
}

/** Where to point at a resource's properties: inside an own resource, or at the include line that brought it in. */
const propertiesAt = (path: DataPath, sub: DataPath = []): DataPath => (path[0] === 'resources' ? [...path, 'properties', ...sub] : path);

/** What a resource asks for once its waiver is taken into account; undefined when an active waiver skips it. */
export function effectiveSpec(r: PlannedResource): PlannedResource['spec'] | undefined {
  if (!r.waiver || r.waiver.expired) return r.spec;
  return r.waiver.override?.spec;
}

/** The resource to blame for a conflict: the document's own one rather than one a baseline brought in. */
const blamed = (a: PlannedResource, b: PlannedResource): PlannedResource => (a.path[0] === 'include' && b.path[0] === 'resources' ? b : a);

/**
 * Two resources of one identity (the same setting) that want different things, after waivers; and a
 * resource that removes what others need below it (a registry key removed with its values). Identities
 * nest with '\\' and '!', so this needs nothing of any kind but its identity.
 */
function checkAcrossResources(
  resources: PlannedResource[],
  report: (path: DataPath, code: DiagnosticCode, message: string) => void,
): void {
  const active = resources.filter((r) => effectiveSpec(r) !== undefined);
  const byIdentity = new Map<string, PlannedResource>();
  for (const r of active) {
    const other = byIdentity.get(r.identity);
    if (other && !(other.kind === r.kind && unitOf(r.kind).sameDesired(effectiveSpec(other)!, effectiveSpec(r)!))) {
      const [here, there] = blamed(r, other) === r ? [r, other] : [other, r];
      report(propertiesAt(here.path), 'conflict',
        `${here.name}: conflicts with "${there.name}" (line ${there.line}): both set ${r.target} but to different ${r.kind === 'Registry' ? 'data' : 'values'}${r.waiver || other.waiver ? ' (after waivers)' : ''}`);
    } else if (!other) {
      byIdentity.set(r.identity, r);
    }
  }
  // A container that must be absent cannot also hold something that must be present.
  for (const gone of active.filter((r) => unitOf(r.kind).removesBelow?.(effectiveSpec(r)!))) {
    const prefix = gone.identity;
    for (const r of active) {
      if (r === gone || !unitOf(r.kind).wantsPresent(effectiveSpec(r)!)) continue;
      // The same container named twice is the first loop's conflict; here only what lies below it.
      if (r.identity.startsWith(`${prefix}\\`) || r.identity.startsWith(`${prefix}!`)) {
        const [here, there] = blamed(r, gone) === r ? [r, gone] : [gone, r];
        report(propertiesAt(here.path), 'conflict',
          here === r
            ? `${r.name}: conflicts with "${gone.name}" (line ${gone.line}), which removes the key ${gone.target}`
            : `${gone.name}: removes the key ${gone.target}, which "${r.name}" (line ${r.line}) needs`);
      }
    }
  }
}

/** Windows' names of the registry value types (regedit, reg.exe, .reg files), as winstate spells them. */
const REGISTRY_TYPE_NAMES: Record<string, string> = {
  reg_sz: 'String', sz: 'String', reg_expand_sz: 'ExpandString', expand_sz: 'ExpandString', reg_dword: 'DWord', dword: 'DWord',
  reg_qword: 'QWord', qword: 'QWord', reg_multi_sz: 'MultiString', multi_sz: 'MultiString', reg_binary: 'Binary', binary: 'Binary',
};

/** The allowed value a near miss meant: another spelling of a registry type, another case, or a typo. */
function enumHint(given: string, allowed: string[]): string | undefined {
  const lower = given.trim().toLowerCase();
  const named = REGISTRY_TYPE_NAMES[lower];
  const hint = (named && allowed.includes(named) ? named : undefined) ?? allowed.find((a) => a.toLowerCase() === lower) ?? closestWord(given, allowed);
  return hint === undefined || hint === given ? undefined : hint;
}

function valueAt(data: unknown, path: DataPath): unknown {
  let here = data;
  for (const step of path) {
    if (here === null || typeof here !== 'object') return undefined;
    here = (here as Record<string | number, unknown>)[step];
  }
  return here;
}

/** ajv sees integers as numbers; exact range checks happen later on the bigint. */
function schemaView(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(schemaView);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, schemaView(v)]));
  }
  return value;
}

function describeSchemaError(error: ErrorObject, data?: unknown): { path: DataPath; which: 'key' | 'value'; message: string } {
  const path: DataPath = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const where = pathText(path);
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String(p.additionalProperty);
      const allowed = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      const hint = closestWord(name, allowed);
      return { path: [...path, name], which: 'key', message: `${where}: unknown property '${name}'${hint ? `; did you mean '${hint}'? allowed` : '; allowed'}: ${allowed.join(', ')}` };
    }
    case 'required':
      return { path, which: 'value', message: `${where}: missing required property '${String(p.missingProperty)}'` };
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map(String);
      const given = valueAt(data, path);
      const hint = typeof given === 'string' ? enumHint(given, allowed) : undefined;
      return { path, which: 'value', message: `${where}: must be one of ${allowed.join(', ')}${hint ? `; did you mean ${hint}?` : ''}` };
    }
    case 'type':
      return { path, which: 'value', message: `${where}: must be ${String(p.type).replace(/,/g, ' or ')}` };
    case 'pattern':
      return { path, which: 'value', message: `${where}: ${(error.parentSchema as { description?: string }).description ?? `must match ${String(p.pattern)}`}` };
    default:
      return { path, which: 'value', message: `${where}: ${error.message ?? error.keyword}` };
  }
}

function pathText(path: DataPath): string {
  if (path.length === 0) return 'document';
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** By position; one problem found by two schema branches is reported once. */
function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list
    .filter((d) => {
      const key = `${d.start.line}:${d.start.col}:${d.message}`;
      return seen.has(key) ? false : (seen.add(key), true);
    })
    .sort((a, b) => a.start.line - b.start.line || a.start.col - b.start.col);
}
