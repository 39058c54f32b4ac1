import type { ResourceKind } from './kind.js';
import { registryKind } from './registry/kind.js';
import { policyKind, securityOptionKind } from './policy.js';

/** Every resource kind a document may use, by its `type`. */
export const RESOURCE_KINDS: readonly ResourceKind[] = [registryKind, securityOptionKind, policyKind];

export function findKind(type: string): ResourceKind | undefined {
  return RESOURCE_KINDS.find((k) => k.type === type);
}
