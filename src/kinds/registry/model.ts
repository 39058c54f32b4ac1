/** Registry vocabulary shared by every resource kind: hives, value types, data in wire form. */

export const HIVES = {
  HKEY_LOCAL_MACHINE: ['HKLM'],
  HKEY_CURRENT_USER: ['HKCU'],
  HKEY_USERS: ['HKU'],
  HKEY_CLASSES_ROOT: ['HKCR'],
  HKEY_CURRENT_CONFIG: ['HKCC'],
} as const;
export type Hive = keyof typeof HIVES;

export const VALUE_TYPES = ['String', 'ExpandString', 'DWord', 'QWord', 'MultiString', 'Binary'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

export const DWORD_MAX = 0xffffffffn;
export const QWORD_MAX = 0xffffffffffffffffn;

/**
 * Registry data in the JSON-safe "wire" form the runtime reports too:
 * DWord a number, QWord a decimal string (exact past 2^53), Binary lowercase hex,
 * MultiString an array of strings, String/ExpandString a string.
 */
export type WireData = string | number | string[];

export interface RegistryTarget {
  hive: Hive;
  subKey: string;
  /** null: the resource is about the key itself; '' is the key's default value. */
  valueName: string | null;
}

export interface RegistryDesired {
  ensure: 'Present' | 'Absent';
  /** Test accepts any value meeting this (valueData is what set writes); see condition.ts. */
  condition?: import('../condition.js').Condition;
  /** Test also accepts the value being absent. */
  absentOk?: boolean;
  /** With ensure Absent on a key: remove it only while it is empty (rollback of keys a run created). */
  onlyIfEmpty?: boolean;
  valueType?: ValueType;
  valueData?: WireData;
  /** Raw form (rollback documents): valueData is Binary hex holding the exact bytes of a value of this registry type code. */
  typeCode?: number;
}

const MAX_KEY_NAME = 255;

/**
 * Splits `HKLM\Software\X` (short or long root, optional `:` as in PowerShell drives)
 * into hive and subkey; returns an error message for anything malformed.
 */
export function parseKeyPath(text: string): RegistryTarget | string {
  if (text.includes('/') && !text.includes('\\')) {
    return `registry key path '${text}' uses '/': separate keys with '\\' (a '/' is part of a key name)`;
  }
  const [root, ...rest] = text.split('\\');
  const rootName = root!.replace(/:$/, '').toUpperCase();
  const hive = (Object.keys(HIVES) as Hive[]).find((h) => h === rootName || (HIVES[h] as readonly string[]).includes(rootName));
  if (!hive) {
    return `unknown registry root '${root}': use one of HKLM, HKCU, HKU, HKCR, HKCC or their HKEY_ names`;
  }
  if (rest.length === 0 || (rest.length === 1 && rest[0] === '')) {
    return `registry key path '${text}' names only the root ${hive}: give a key below it`;
  }
  const segments = rest[rest.length - 1] === '' ? rest.slice(0, -1) : rest; // one trailing '\' is tolerated
  for (const segment of segments) {
    if (segment === '') return `registry key path '${text}' has an empty key name (doubled '\\')`;
    if (segment.length > MAX_KEY_NAME) return `registry key name '${segment.slice(0, 40)}...' is longer than ${MAX_KEY_NAME} characters`;
    if (/[\u0000-\u001f]/.test(segment)) return `registry key path '${text}' contains a control character`;
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(segment)) {
      return `registry key path '${text}' contains a lone UTF-16 surrogate, which has no UTF-8 or .reg form`;
    }
  }
  return { hive, subKey: segments.join('\\'), valueName: null };
}

/** Stable identity of a registry location, compared case-insensitively as Windows does. */
export function targetIdentity(t: RegistryTarget): string {
  const path = `${t.hive}\\${t.subKey}`.toLowerCase();
  return t.valueName === null ? path : `${path}!${t.valueName.toLowerCase()}`;
}

export function targetText(t: RegistryTarget): string {
  const path = `${t.hive}\\${t.subKey}`;
  if (t.valueName === null) return path;
  return `${path}!${t.valueName === '' ? '(Default)' : t.valueName}`;
}

export function sameDesired(a: RegistryDesired, b: RegistryDesired): boolean {
  const text = (d: RegistryDesired) => JSON.stringify(d, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  return text(a) === text(b);
}
