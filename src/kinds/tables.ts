/**
 * The data tables of the security policy, user right and audit policy kinds. Each lives once, as
 * JSON beside its kind; TypeScript reads it from there and the PowerShell runtime gets
 * `*.generated.ps1` files rendered from it (see generate.ts).
 */
import { readFileSync } from 'node:fs';
import { projectPath } from '../paths.js';

export interface WellKnownPrincipal {
  sid: string;
  /** Full name, `AUTHORITY\Name` where Windows shows one. */
  name: string;
  aliases: string[];
}

export interface DomainRelativePrincipal {
  rid: number;
  name: string;
  /** Relative to the forest root domain rather than the machine's own domain. */
  forestRoot: boolean;
}

export interface PrincipalTable {
  authorities: string[];
  serviceAuthority: string;
  wellKnown: WellKnownPrincipal[];
  domainRelative: DomainRelativePrincipal[];
}

export interface UserRightInfo {
  constant: string;
  title: string;
  type: 'privilege' | 'logonRight';
}

export interface AuditSettingValue {
  value: 0 | 1 | 2 | 3;
  inclusion: string;
  success: boolean;
  failure: boolean;
}

export interface AuditSubcategory {
  guid: string;
  name: string;
  gpoTitle: string;
  category: string;
}

export interface AuditTable {
  settingValues: AuditSettingValue[];
  categories: string[];
  subcategories: AuditSubcategory[];
}

export interface TemplateKey {
  section: 'System Access' | 'Kerberos Policy';
  key: string;
  type: 'integer' | 'boolean' | 'string';
  title: string | null;
  min?: number;
  max?: number;
  unit?: string;
  note?: string;
}

export const TABLE_FILES = {
  principals: ['src', 'kinds', 'user-right', 'principals.json'],
  userRights: ['src', 'kinds', 'user-right', 'privileges.json'],
  audit: ['src', 'kinds', 'audit-policy', 'subcategories.json'],
  templateKeys: ['src', 'kinds', 'security-policy', 'template-keys.json'],
} as const;

function readTable<T>(parts: readonly string[]): T {
  return JSON.parse(readFileSync(projectPath(...parts), 'utf8')) as T;
}

let cache: { principals: PrincipalTable; userRights: UserRightInfo[]; audit: AuditTable; templateKeys: TemplateKey[] } | undefined;

/** Every table, read once. */
export function tables(): NonNullable<typeof cache> {
  cache ??= {
    principals: readTable<PrincipalTable>(TABLE_FILES.principals),
    userRights: readTable<{ rights: UserRightInfo[] }>(TABLE_FILES.userRights).rights,
    audit: readTable<AuditTable>(TABLE_FILES.audit),
    templateKeys: readTable<{ keys: TemplateKey[] }>(TABLE_FILES.templateKeys).keys,
  };
  return cache;
}

/** A privilege or logon right by its constant, ignoring case. */
export function findUserRight(constant: string): UserRightInfo | undefined {
  const wanted = constant.toLowerCase();
  return tables().userRights.find((r) => r.constant.toLowerCase() === wanted);
}

/** An audit subcategory by GUID (braces optional) or English name, ignoring case. */
export function findAuditSubcategory(nameOrGuid: string): AuditSubcategory | undefined {
  const wanted = nameOrGuid.trim().replace(/^\{(.*)\}$/, '$1').toLowerCase();
  return tables().audit.subcategories.find(
    (s) => s.guid.slice(1, -1).toLowerCase() === wanted || s.name.toLowerCase() === wanted || s.gpoTitle.toLowerCase() === wanted,
  );
}

/** A [System Access] or [Kerberos Policy] key, ignoring case. */
export function findTemplateKey(key: string): TemplateKey | undefined {
  const wanted = key.toLowerCase();
  return tables().templateKeys.find((k) => k.key.toLowerCase() === wanted);
}
