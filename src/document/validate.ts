import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { loadCatalog, type Catalog } from '../catalog/catalog.js';
import { findKind } from '../resources/index.js';
import type { ResolvedResource } from '../resources/kind.js';
import type { ResourceMetadata } from '../resources/info.js';
import { sameDesired, targetIdentity, targetText } from '../resources/registry-model.js';
import { printable, type Diagnostic, type DiagnosticCode } from './diagnostics.js';
import { loadFile, loadText, type DataPath, type SourceDocument } from './load.js';
import { documentSchema } from './schema.js';

export interface PlannedResource extends ResolvedResource {
  index: number;
  name: string;
  type: string;
  description?: string;
  metadata?: ResourceMetadata;
  line: number;
}

/** A valid document, resolved: every resource bound to one registry location. */
export interface Plan {
  file: string;
  name: string;
  description?: string;
  resources: PlannedResource[];
}

export interface ValidationResult {
  plan?: Plan;
  diagnostics: Diagnostic[];
}

let compiledSchema: ReturnType<Ajv2020['compile']> | undefined;
function schemaValidator() {
  compiledSchema ??= new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true }).compile(documentSchema());
  return compiledSchema;
}

export function validateFile(file: string, catalog: Catalog = loadCatalog()): ValidationResult {
  const { source, diagnostics } = loadFile(file);
  return source ? validateSource(source, catalog) : { diagnostics };
}

export function validateText(file: string, text: string, catalog: Catalog = loadCatalog()): ValidationResult {
  const { source, diagnostics } = loadText(file, text);
  return source ? validateSource(source, catalog) : { diagnostics };
}

export function validateSource(source: SourceDocument, catalog: Catalog): ValidationResult {
  const diagnostics: Diagnostic[] = [];
  const report = (path: DataPath, code: DiagnosticCode, message: string, which: 'key' | 'value' = 'value') => {
    const { start, end } = source.locate(path, which);
    diagnostics.push({ file: source.file, code, message: printable(message), start, end, severity: 'error' });
  };

  const validate = schemaValidator();
  const brokenResources = new Set<number>();
  if (!validate(schemaView(source.data))) {
    for (const error of validate.errors!) {
      if (error.keyword === 'if') continue; // the failing `then` branch reports the real problem
      const { path, which, message } = describeSchemaError(error);
      if (path[0] === 'resources' && typeof path[1] === 'number') brokenResources.add(path[1]);
      report(path, 'schema', message, which);
    }
  }
  const data = source.data as { metadata?: { name?: string; description?: string }; resources?: unknown[] };
  if (!Array.isArray(data?.resources)) return { diagnostics: sortDiagnostics(diagnostics) };

  const resources: PlannedResource[] = [];
  data.resources.forEach((raw, index) => {
    if (brokenResources.has(index)) return;
    const r = raw as { name: string; type: string; description?: string; metadata?: ResourceMetadata; properties: Record<string, unknown> };
    const kind = findKind(r.type)!;
    const base: DataPath = ['resources', index, 'properties'];
    const resolved = kind.resolve(r.properties, {
      catalog,
      error: (path, code, message) => report([...base, ...path], code, `${r.name}: ${message}`),
    });
    if (resolved) {
      const line = source.locate(['resources', index]).start.line;
      resources.push({ ...resolved, index, name: r.name, type: r.type, description: r.description, metadata: r.metadata, line });
    }
  });
  checkNames(data.resources, report, (index) => source.locate(['resources', index]).start.line);
  checkAcrossResources(resources, report);

  if (diagnostics.length > 0) return { diagnostics: sortDiagnostics(diagnostics) };
  return {
    plan: { file: source.file, name: data.metadata!.name!, description: data.metadata!.description, resources },
    diagnostics,
  };
}

/** Resource names are unique (ignoring case), whatever else is wrong with the resources. */
function checkNames(raw: unknown[], report: (path: DataPath, code: DiagnosticCode, message: string) => void, lineOf: (index: number) => number): void {
  const seen = new Map<string, number>();
  raw.forEach((r, index) => {
    const name = (r as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return;
    const first = seen.get(name.toLowerCase());
    if (first === undefined) seen.set(name.toLowerCase(), index);
    else report(['resources', index, 'name'], 'duplicate-name', `resource name "${name}" is already used at line ${lineOf(first)}`);
  });
}

/** Two resources that want different things of one registry location. */
function checkAcrossResources(
  resources: PlannedResource[],
  report: (path: DataPath, code: DiagnosticCode, message: string) => void,
): void {
  const byTarget = new Map<string, PlannedResource>();
  for (const r of resources) {
    const identity = targetIdentity(r.target);
    const other = byTarget.get(identity);
    if (other && !sameDesired(other.desired, r.desired)) {
      report(['resources', r.index, 'properties'], 'conflict',
        `${r.name}: conflicts with "${other.name}" (line ${other.line}): both set ${targetText(r.target)} but to different data`);
    } else if (!other) {
      byTarget.set(identity, r);
    }
  }
  // A key that must be absent cannot also hold something that must be present.
  for (const gone of resources.filter((r) => r.target.valueName === null && r.desired.ensure === 'Absent')) {
    const prefix = targetIdentity(gone.target);
    for (const r of resources) {
      if (r === gone || r.desired.ensure !== 'Present') continue;
      const id = targetIdentity(r.target);
      // The same key named twice is the first loop's conflict; here only what lies below it.
      if (id.startsWith(`${prefix}\\`) || id.startsWith(`${prefix}!`)) {
        report(['resources', r.index, 'properties'], 'conflict',
          `${r.name}: conflicts with "${gone.name}" (line ${gone.line}), which removes the key ${targetText(gone.target)}`);
      }
    }
  }
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

function describeSchemaError(error: ErrorObject): { path: DataPath; which: 'key' | 'value'; message: string } {
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
      return { path: [...path, name], which: 'key', message: `${where}: unknown property '${name}'; allowed: ${allowed.join(', ')}` };
    }
    case 'required':
      return { path, which: 'value', message: `${where}: missing required property '${String(p.missingProperty)}'` };
    case 'enum':
      return { path, which: 'value', message: `${where}: must be one of ${(p.allowedValues as unknown[]).map(String).join(', ')}` };
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
