import type { KindBackupEntry, RollbackPart, RollbackResource } from '../kind.js';
import { parseKeyPath, VALUE_TYPES, type ValueType } from './model.js';
import { textProblem } from './data.js';

/** A registry value's prior state in a backup (see safety.ps1). */
export interface BackupValue {
  name?: string;
  exists?: boolean;
  valueType?: string;
  typeCode?: number;
  valueData?: string | number | string[];
  /** The exact bytes (hex) when the typed form cannot restore the value byte for byte. */
  rawData?: string;
}

/** A registry backup entry (old backups carry no `kind`). */
export interface RegistryBackupEntry extends KindBackupEntry {
  hive: string;
  subKey: string;
  valueName: string | null;
  keyExisted: boolean;
  value?: BackupValue;
  createdKeys?: string[];
  removedTree?: { subKey: string; values: BackupValue[] }[];
}

/**
 * Registry resources that put back what a run changed: prior values with their types, values that
 * did not exist removed again, removed key trees restored, and keys the run created removed while
 * they are still empty (deepest first).
 */
export function registryRollback(all: KindBackupEntry[]): RollbackPart {
  const entries = all as RegistryBackupEntry[];
  const resources: RollbackResource[] = [];
  const unsupported: string[] = [];
  const seen = new Set<string>();
  const key = (hive: string, subKey: string) => `${hive}\\${subKey}`;
  const add = (name: string, properties: Record<string, unknown>, restores?: string) => {
    const identity = `${String(properties.key)}!${'valueName' in properties ? String(properties.valueName) : '(key)'}`.toLowerCase();
    if (seen.has(identity)) return; // the same location recorded twice holds the same prior state
    seen.add(identity);
    resources.push({ name, type: 'Registry', properties, ...(restores ? { restores } : {}) });
  };
  // A location the document language cannot name (a NUL in a value name, say) cannot be restored
  // through it: it is listed, and everything else is still restored.
  const unnamable = (keyPath: string, name: string | null): boolean => {
    const problem = typeof parseKeyPath(keyPath) === 'string' ? (parseKeyPath(keyPath) as string) : name !== null ? textProblem(name) : undefined;
    if (problem) unsupported.push(`${keyPath}${name === null ? '' : `!${name}`}: ${problem}`);
    return problem !== undefined;
  };
  const valueProperties = (keyPath: string, value: BackupValue, name: string): Record<string, unknown> | undefined => {
    if (unnamable(keyPath, name)) return undefined;
    if (value.rawData !== undefined) {
      // Raw form: the exact bytes with their type code.
      if (value.typeCode === undefined || value.typeCode < 0) {
        unsupported.push(`${keyPath}!${name}: its registry type is unknown (type ${value.valueType ?? '?'}), so it cannot be written back`);
        return undefined;
      }
      return { key: keyPath, valueName: name, valueType: 'Binary', typeCode: value.typeCode, valueData: value.rawData };
    }
    if (!VALUE_TYPES.includes(value.valueType as ValueType)) {
      unsupported.push(`${keyPath}!${name}: type ${value.valueType ?? '?'}${value.typeCode !== undefined ? ` ${value.typeCode}` : ''} has no document form`);
      return undefined;
    }
    const data = value.valueType === 'QWord' ? BigInt(value.valueData as string) : value.valueData;
    return { key: keyPath, valueName: name, valueType: value.valueType, valueData: data };
  };

  for (const entry of entries) {
    const keyPath = key(entry.hive, entry.subKey);
    if (entry.valueName !== null && entry.value) {
      if (entry.value.exists) {
        const props = valueProperties(keyPath, entry.value, entry.valueName);
        if (props) add(`restore ${entry.target}`, props, entry.resource);
      } else if (!unnamable(keyPath, entry.valueName)) {
        add(`remove ${entry.target} again`, { key: keyPath, valueName: entry.valueName, ensure: 'Absent' }, entry.resource);
      }
    }
    for (const removed of entry.removedTree ?? []) {
      const path = key(entry.hive, removed.subKey);
      if (unnamable(path, null)) continue;
      add(`restore key ${path}`, { key: path, ensure: 'Present' }, entry.resource);
      for (const value of removed.values) {
        const props = valueProperties(path, value, value.name ?? '');
        if (props) add(`restore ${path}!${value.name === '' ? '(Default)' : value.name}`, props, entry.resource);
      }
    }
  }
  const created = [...new Set(entries.flatMap((e) => (e.createdKeys ?? []).map((k) => key(e.hive, k))))];
  created.sort((a, b) => b.split('\\').length - a.split('\\').length || a.localeCompare(b));
  for (const path of created) if (!unnamable(path, null)) add(`remove created key ${path} if empty`, { key: path, ensure: 'Absent', onlyIfEmpty: true });
  return { resources, unsupported };
}
