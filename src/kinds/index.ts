import type { CatalogEntry } from '../catalog/catalog.js';
import type { KindName, KindUnit, ResourceKind } from './kind.js';
import { registryUnit } from './registry/kind.js';
import { userRightUnit } from './user-right/kind.js';
import { accountPolicyUnit } from './account-policy/kind.js';
import { securityPolicyUnit } from './security-policy/kind.js';
import { auditPolicyUnit } from './audit-policy/kind.js';
import { appLockerUnit } from './applocker/kind.js';
import { cimInstanceUnit } from './cim-instance/kind.js';
import { policyKind, securityOptionKind } from './policy.js';

/** Every kind, in the order rollback documents list them. Adding a kind: its folder and this line. */
export const KIND_UNITS: readonly KindUnit[] = [registryUnit, userRightUnit, accountPolicyUnit, securityPolicyUnit, auditPolicyUnit, appLockerUnit, cimInstanceUnit];

/**
 * Every document `type`: each kind's own, then the catalog's (which dispatch on the entry's kind).
 * A function: policy.ts and this module import each other.
 */
export function resourceKinds(): readonly ResourceKind[] {
  return [...KIND_UNITS.flatMap((u) => u.documentTypes), securityOptionKind, policyKind];
}

export function findKind(type: string): ResourceKind | undefined {
  return resourceKinds().find((k) => k.type === type);
}

export function unitOf(kind: KindName | undefined): KindUnit {
  const unit = KIND_UNITS.find((u) => u.kind === (kind ?? 'Registry'));
  if (!unit) throw new Error(`unknown kind ${String(kind)}`);
  return unit;
}

/** The kind of a catalog entry's setting: its storage block's, else Registry. */
export function entryKind(entry: CatalogEntry): KindName {
  return entry.storage?.kind ?? 'Registry';
}
