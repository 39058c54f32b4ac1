import type { Catalog, CatalogEntry } from '../catalog/catalog.js';
import type { DiagnosticCode } from '../document/diagnostics.js';
import type { RegistryDesired, RegistryTarget, ValueType, WireData } from './registry/model.js';

/** A path below a resource's `properties`, e.g. ['valueData'] or ['valueData', 2]. */
export type PropertyPath = (string | number)[];

export interface ResolveContext {
  catalog: Catalog;
  error(path: PropertyPath, code: DiagnosticCode, message: string): void;
}

/** Desired state expressed in a policy's own terms, for reports. */
export interface PolicyBinding {
  title: string;
  value: string;
  choices: { name: string; data: WireData }[];
}

/** What a resource kind turns its properties into: one registry location and its desired state. */
export interface ResolvedResource {
  target: RegistryTarget;
  desired: RegistryDesired;
  policy?: PolicyBinding;
  entry?: CatalogEntry;
}

/** One module per kind owns its schema and its resolution (ajv's one definition per keyword). */
export interface ResourceKind {
  type: string;
  description: string;
  /** JSON Schema (2020-12) of the resource's `properties`. */
  propertiesSchema: Record<string, unknown>;
  /** Turns schema-valid properties into a registry target; reports problems through ctx. */
  resolve(properties: Record<string, unknown>, ctx: ResolveContext): ResolvedResource | undefined;
}

export type { ValueType };
