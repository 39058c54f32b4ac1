/**
 * The policy files the catalog ships (src/catalog/policies) as catalog items beside the entries: one
 * item per file that a baseline's `policyFiles` names. Everything an item says comes from the file
 * itself (collections, rules, the registry values they set) and from the baselines naming it, so
 * there is no second list to keep in step.
 */
import { join } from 'node:path';
import { appLockerRegistryEntries, readAppLockerPolicy, type AppLockerCollection } from '../kinds/applocker/kind.js';
import { CATALOG_POLICIES_DIR, isNewest, type Baseline, type BaselinePolicyFile } from './baseline.js';

export interface CatalogPolicy {
  /** `applocker-<file name without .xml and a trailing -applocker>`, e.g. applocker-msft-ws2016-dc. */
  id: string;
  kind: BaselinePolicyFile['type'];
  title: string;
  gpoPath: string;
  area: string;
  /** File name in src/catalog/policies; a document names it catalog:<file>. */
  file: string;
  collections: AppLockerCollection[];
  registryValues: { key: string; valueName: string; valueType: 'DWord' | 'String' }[];
  /** Roles some baseline sets it for. */
  scope: ('MS' | 'DC')[];
  /** cis and microsoft references of the newest baseline versions naming it, as entries get theirs. */
  references: { cis: string[]; microsoft: string[] };
  /** Every baseline setting (every shipped version) that names the file, with its baseline. */
  settings: { baseline: Baseline; setting: BaselinePolicyFile }[];
}

/** What the catalog says of each policy type: where Group Policy shows it and its id prefix. */
const POLICY_TYPES: Record<BaselinePolicyFile['type'], { prefix: string; gpoPath: string; area: string }> = {
  AppLockerPolicy: {
    prefix: 'applocker',
    gpoPath: 'Computer Configuration\\Windows Settings\\Security Settings\\Application Control Policies\\AppLocker',
    area: 'AppLocker',
  },
};

/** A shipped policy file's catalog id: the type's prefix and the file's stem (without a repeated prefix). */
export function catalogPolicyId(type: BaselinePolicyFile['type'], file: string): string {
  const { prefix } = POLICY_TYPES[type];
  const stem = file.replace(/\.xml$/i, '').toLowerCase();
  return `${prefix}-${stem.endsWith(`-${prefix}`) ? stem.slice(0, -prefix.length - 1) : stem}`;
}

/** One item per policy file the baselines name, in the order they first name them. */
export function catalogPolicies(baselines: readonly Baseline[]): CatalogPolicy[] {
  const byFile = new Map<string, CatalogPolicy>();
  // The newest versions first, so an item takes its title from the newest baseline naming the file.
  const ordered = [...baselines.filter((b) => isNewest(b, baselines)), ...baselines.filter((b) => !isNewest(b, baselines))];
  for (const baseline of ordered) {
    for (const setting of baseline.policyFiles ?? []) {
      let item = byFile.get(setting.file);
      if (!item) {
        const read = readAppLockerPolicy(join(CATALOG_POLICIES_DIR, setting.file));
        if ('problem' in read) throw new Error(`baseline ${baseline.id}: ${setting.ref}: catalog policy file: ${read.problem}`);
        const type = POLICY_TYPES[setting.type];
        item = {
          id: catalogPolicyId(setting.type, setting.file),
          kind: setting.type,
          title: `${setting.title} (${baseline.title})`,
          gpoPath: type.gpoPath,
          area: type.area,
          file: setting.file,
          collections: read.collections,
          registryValues: appLockerRegistryEntries(read.collections),
          scope: [],
          references: { cis: [], microsoft: [] },
          settings: [],
        };
        byFile.set(setting.file, item);
      } else if (item.kind !== setting.type) {
        throw new Error(`baseline ${baseline.id}: ${setting.ref} names ${setting.file} as ${setting.type}, another baseline as ${item.kind}`);
      }
      item.settings.push({ baseline, setting });
      for (const s of setting.scope) if (!item.scope.includes(s)) item.scope.push(s);
      const refs = item.references[baseline.referenceKind];
      if (isNewest(baseline, baselines) && !refs.includes(setting.ref)) refs.push(setting.ref);
    }
  }
  for (const item of byFile.values()) {
    item.scope.sort((a, b) => (a === b ? 0 : a === 'MS' ? -1 : 1));
    // Keep baselines in the order they were given (file order), as entries list theirs.
    item.settings.sort((a, b) => baselines.indexOf(a.baseline) - baselines.indexOf(b.baseline));
  }
  return [...byFile.values()];
}
