/**
 * AppLocker rule collections, given as the policy XML that `Get-AppLockerPolicy -Xml` exports. They
 * live in the registry as Group Policy writes them: under HKLM\SOFTWARE\Policies\Microsoft\Windows\SrpV2,
 * one key per collection (Exe, Msi, Script, Dll, Appx) with `EnforcementMode` (0 audit only, 1
 * enforced; absent: not configured) and one subkey per rule, named by its id, whose `Value` is the
 * rule's XML. The runtime compares rule by rule (each rule's facts, see ruleFacts) and names each
 * rule that differs (and where), is missing or is extra.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { childElements, parseXml, type XmlElement, type XmlNode } from '../../catalog/stig/xml.js';
import { CATALOG_POLICIES_DIR } from '../../catalog/baseline.js';
import { PsTyped } from '../../compile/quote.js';
import type { KindBackupEntry, KindUnit, KindView, ResolvedResource, ResourceKind } from '../kind.js';
import { registryRollback } from '../registry/rollback.js';

export const SRPV2_KEY = 'SOFTWARE\\Policies\\Microsoft\\Windows\\SrpV2';
export const COLLECTION_TYPES = ['Exe', 'Msi', 'Script', 'Dll', 'Appx'] as const;
export type CollectionType = (typeof COLLECTION_TYPES)[number];
const ENFORCEMENT: Record<string, number | null> = { NotConfigured: null, AuditOnly: 0, Enabled: 1 };
const RULE_ELEMENTS = ['FilePathRule', 'FilePublisherRule', 'FileHashRule'];
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export interface AppLockerRule {
  id: string;
  name: string;
  /** The rule element: FilePathRule, FilePublisherRule or FileHashRule. */
  ruleType: string;
  action: 'Allow' | 'Deny';
  /** Whom the rule applies to, e.g. S-1-1-0 (Everyone). */
  userOrGroupSid: string;
  /** The rule element as one line of XML: what set writes as the rule key's Value. */
  xml: string;
  /** What makes it this rule (ruleFacts): two rules with the same facts are equal. */
  facts: string[];
}

export interface AppLockerCollection {
  type: CollectionType;
  /** NotConfigured: no EnforcementMode value. */
  enforcementMode: 'NotConfigured' | 'AuditOnly' | 'Enabled';
  rules: AppLockerRule[];
}

export interface AppLockerSpec {
  file: string;
  /** The policyFile as the document gives it: what the generated script's comments show. */
  source: string;
  collections: AppLockerCollection[];
  /** Rules a collection holds beyond the file's are removed (and reported as extra). */
  exact: boolean;
}

/** XML text of an element in one line, attributes in document order, as Group Policy stores a rule. */
export function elementXml(element: XmlElement): string {
  const attr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const text = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const attributes = Object.entries(element.attributes).map(([k, v]) => ` ${k}="${attr(v)}"`).join('');
  const children = element.children.map((c: XmlNode) => (typeof c === 'string' ? (c.trim() === '' ? '' : text(c)) : elementXml(c))).join('');
  return children === '' ? `<${element.name}${attributes}/>` : `<${element.name}${attributes}>${children}</${element.name}>`;
}

/** Attributes that only label a rule: the same rule under another name or description is equal. */
const LABELS = ['Name', 'Description'];

/**
 * A rule's facts, the one comparison rule (ConvertTo-WsAppLockerRuleFactSet in applocker.ps1 gives
 * the same lines, tested with test/fixtures/kinds/applocker-rule-cases.json): a line per element
 * (`FilePathRule/Conditions/FilePathCondition`, the nth of a name after the first as `[n]`), per
 * attribute (`...@Path=%WINDIR%\*`) and per text (`...#text=...`), sorted ordinally. Name and
 * Description are left out and the Id is in lower case; attribute order, empty-element spelling and
 * whitespace between elements do not count.
 */
export function ruleFacts(rule: XmlElement): string[] {
  const lines: string[] = [];
  const walk = (element: XmlElement, path: string, root: boolean) => {
    lines.push(path);
    for (const [name, value] of Object.entries(element.attributes)) {
      if (root && LABELS.includes(name)) continue;
      lines.push(`${path}@${name}=${root && name === 'Id' ? value.toLowerCase() : value}`);
    }
    const text = element.children.filter((c): c is string => typeof c === 'string').map((t) => t.trim()).join('');
    if (text !== '') lines.push(`${path}#text=${text}`);
    const seen = new Map<string, number>();
    for (const child of element.children) {
      if (typeof child === 'string') continue;
      const n = (seen.get(child.name) ?? 0) + 1;
      seen.set(child.name, n);
      walk(child, `${path}/${child.name}${n > 1 ? `[${n}]` : ''}`, false);
    }
  };
  walk(rule, rule.name, true);
  // Ordinal (UTF-16 code unit) order, as [StringComparer]::Ordinal sorts.
  return lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Where two rules' facts differ, e.g. ['Action'] or ['Conditions/FilePathCondition@Path'] (Get-WsAppLockerRuleDifference). */
export function ruleDifference(wanted: readonly string[], actual: readonly string[]): string[] {
  const root = wanted[0] ?? '';
  if (root !== actual[0]) return ['rule type'];
  const inWanted = new Set(wanted);
  const inActual = new Set(actual);
  const names: string[] = [];
  for (const line of [...wanted.filter((l) => !inActual.has(l)), ...actual.filter((l) => !inWanted.has(l))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const cut = line.indexOf('=');
    const name = (cut === -1 ? line : line.slice(0, cut)).slice(root.length).replace(/^[@/]/, '');
    // An element only one side has stands for everything below it.
    if (names.includes(name) || names.some((n) => !n.includes('@') && !n.includes('#') && (name.startsWith(`${n}/`) || name.startsWith(`${n}@`) || name.startsWith(`${n}#`)))) continue;
    names.push(name);
  }
  return names;
}

/** `catalog:<file>` names a policy the catalog ships (src/catalog/policies); it resolves wherever the document is. */
export const CATALOG_POLICY_PREFIX = 'catalog:';
/** A shipped policy's name: a file name alone, so catalog:<name> cannot leave the folder (also the baseline schema's policyFiles file pattern). */
export const CATALOG_POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.xml$/;

/** The file a policyFile names: catalog:<name> in the catalog's policies, anything else relative to the document. */
export function policyFilePath(policyFile: string, documentFile?: string): string {
  if (policyFile.startsWith(CATALOG_POLICY_PREFIX)) return resolve(CATALOG_POLICIES_DIR, policyFile.slice(CATALOG_POLICY_PREFIX.length));
  return resolve(documentFile ? dirname(resolve(documentFile)) : '.', policyFile);
}

/** Reads and checks a policy file; problems are `file:line:col: message` or `file: message`. */
export function readAppLockerPolicy(file: string): { collections: AppLockerCollection[] } | { problem: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    return { problem: `cannot read the policy file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
  // Get-AppLockerPolicy -Xml > file on Windows PowerShell 5.1 writes UTF-16LE with a BOM.
  const text = bytes[0] === 0xff && bytes[1] === 0xfe ? bytes.subarray(2).toString('utf16le') : bytes.toString('utf8');
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (error) {
    // The reader says "XML <line>:<col>: message".
    return { problem: `${file}:${(error as Error).message.replace(/^XML /, '')}` };
  }
  if (root.name !== 'AppLockerPolicy') return { problem: `${file}: not an AppLocker policy: the root element is <${root.name}>, not <AppLockerPolicy>` };
  const collections: AppLockerCollection[] = [];
  for (const element of childElements(root, 'RuleCollection')) {
    const type = element.attributes.Type as CollectionType;
    if (!COLLECTION_TYPES.includes(type)) return { problem: `${file}: RuleCollection Type "${element.attributes.Type ?? ''}" is not one of ${COLLECTION_TYPES.join(', ')}` };
    if (collections.some((c) => c.type === type)) return { problem: `${file}: the ${type} rule collection is given twice` };
    const mode = element.attributes.EnforcementMode ?? 'NotConfigured';
    if (!(mode in ENFORCEMENT)) return { problem: `${file}: ${type} EnforcementMode "${mode}" is not one of ${Object.keys(ENFORCEMENT).join(', ')}` };
    const rules: AppLockerRule[] = [];
    for (const rule of element.children.filter((c): c is XmlElement => typeof c !== 'string')) {
      if (!RULE_ELEMENTS.includes(rule.name)) {
        if (rule.name === 'RuleCollectionExtensions') continue; // newer Windows only; kept out of the registry form
        return { problem: `${file}: <${rule.name}> in the ${type} collection is not an AppLocker rule (${RULE_ELEMENTS.join(', ')})` };
      }
      const id = rule.attributes.Id ?? '';
      if (!GUID.test(id)) return { problem: `${file}: ${type} rule "${rule.attributes.Name ?? '?'}" has Id "${id}", which is not a GUID` };
      if (rules.some((r) => r.id === id.toLowerCase())) return { problem: `${file}: ${type} rule ${id} is given twice` };
      for (const required of ['Name', 'UserOrGroupSid', 'Action']) {
        if (rule.attributes[required] === undefined) return { problem: `${file}: ${type} rule ${id} has no ${required}` };
      }
      if (!['Allow', 'Deny'].includes(rule.attributes.Action!)) return { problem: `${file}: ${type} rule ${id}: Action "${rule.attributes.Action}" is neither Allow nor Deny` };
      rules.push({
        id: id.toLowerCase(),
        name: rule.attributes.Name!,
        ruleType: rule.name,
        action: rule.attributes.Action as AppLockerRule['action'],
        userOrGroupSid: rule.attributes.UserOrGroupSid!,
        xml: elementXml(rule),
        facts: ruleFacts(rule),
      });
    }
    collections.push({ type, enforcementMode: mode as AppLockerCollection['enforcementMode'], rules });
  }
  if (collections.length === 0) return { problem: `${file}: the policy has no RuleCollection` };
  return { collections };
}

/** The registry values a policy's collections set: each collection's EnforcementMode (DWord, unless not configured) and each rule's Value (its XML). */
export function appLockerRegistryEntries(collections: readonly AppLockerCollection[]): { key: string; valueName: string; valueType: 'DWord' | 'String' }[] {
  return collections.flatMap((c) => [
    ...(ENFORCEMENT[c.enforcementMode] === null ? [] : [{ key: `HKLM\\${SRPV2_KEY}\\${c.type}`, valueName: 'EnforcementMode', valueType: 'DWord' as const }]),
    ...c.rules.map((r) => ({ key: `HKLM\\${SRPV2_KEY}\\${c.type}\\${r.id}`, valueName: 'Value', valueType: 'String' as const })),
  ]);
}

/** The same values as `HKLM\\...\\SrpV2\\Exe!EnforcementMode` and `...\\Exe\\<id>!Value`. */
export function appLockerRegistryValues(collections: readonly AppLockerCollection[]): string[] {
  return appLockerRegistryEntries(collections).map((v) => `${v.key}!${v.valueName}`);
}

export const appLockerKind: ResourceKind = {
  type: 'AppLockerPolicy',
  description: 'AppLocker rule collections from a policy file (the XML Get-AppLockerPolicy -Xml exports), compared rule by rule with their registry form.',
  overrideKeys: ['policyFile', 'collections', 'exact'],
  propertiesSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['policyFile'],
    properties: {
      policyFile: { type: 'string', minLength: 1, description: 'The AppLocker policy XML, relative to this document (or absolute); catalog:<file> names a policy winstate ships (src/catalog/policies), e.g. catalog:msft-ws2016-dc-applocker.xml.' },
      collections: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...COLLECTION_TYPES] }, description: 'Only these rule collections of the file (default: every collection it has).' },
      exact: { type: 'boolean', default: true, description: 'Rules a collection holds that the file does not are removed (default); false leaves them and only adds or updates.' },
    },
  },
  resolve(props, ctx) {
    const source = props.policyFile as string;
    if (source.startsWith(CATALOG_POLICY_PREFIX) && !CATALOG_POLICY_NAME.test(source.slice(CATALOG_POLICY_PREFIX.length))) {
      ctx.error(['policyFile'], 'invalid-value', `${source}: a catalog policy is named by its file name alone (catalog:<name>.xml)`);
      return undefined;
    }
    const file = policyFilePath(source, ctx.documentFile);
    const read = readAppLockerPolicy(file);
    if ('problem' in read) {
      ctx.error(['policyFile'], 'invalid-value', read.problem);
      return undefined;
    }
    let collections = read.collections;
    if (Array.isArray(props.collections)) {
      const wanted = props.collections as CollectionType[];
      const missing = wanted.find((t) => !collections.some((c) => c.type === t));
      if (missing) {
        ctx.error(['collections'], 'invalid-value', `the policy file has no ${missing} rule collection (it has ${collections.map((c) => c.type).join(', ')})`);
        return undefined;
      }
      collections = collections.filter((c) => wanted.includes(c.type));
    }
    return appLockerResource({ file, source, collections, exact: props.exact !== false });
  },
};

function comparable(spec: AppLockerSpec) {
  return { exact: spec.exact, collections: spec.collections.map((c) => ({ type: c.type, enforcementMode: c.enforcementMode, rules: c.rules.map((r) => [r.id, r.facts]).sort() })) };
}

function appLockerResource(spec: AppLockerSpec): ResolvedResource<AppLockerSpec> {
  const types = spec.collections.map((c) => c.type);
  return {
    kind: 'AppLockerPolicy',
    identity: `applocker:${types.map((t) => t.toLowerCase()).sort().join(',')}`,
    target: `AppLocker HKLM\\${SRPV2_KEY} (${types.join(', ')})`,
    spec,
  };
}

/** An AppLocker view in words: per collection its enforcement and how many rules (Format-WsAppLockerPolicyStateText). */
export function appLockerStateText(view: KindView): string {
  const collections = (view.collections ?? {}) as Record<string, { enforcementMode?: string; rules?: Record<string, string> }>;
  const parts = Object.entries(collections).map(([type, c]) => {
    const count = Object.keys(c.rules ?? {}).length;
    return `${type}: ${c.enforcementMode ?? 'NotConfigured'}, ${count} rule${count === 1 ? '' : 's'}`;
  });
  return parts.length ? parts.join('; ') : 'no rule collection';
}

export const appLockerUnit: KindUnit<AppLockerSpec> = {
  kind: 'AppLockerPolicy',
  store: 'Registry',
  documentTypes: [appLockerKind],
  // Rules compare by their facts: the same policy under other rule names is the same desired state.
  sameDesired: (a, b) => JSON.stringify(comparable(a)) === JSON.stringify(comparable(b)),
  wantsPresent: () => true,
  row(r) {
    return { Hive: 'HKEY_LOCAL_MACHINE', SubKey: SRPV2_KEY, ...this.desiredColumns(r.spec, r.policy) };
  },
  desiredColumns(spec) {
    return {
      Exact: spec.exact,
      Collections: spec.collections.map((c) => ({
        Type: c.type,
        EnforcementMode: c.enforcementMode,
        EnforcementData: ENFORCEMENT[c.enforcementMode] === null ? null : new PsTyped('uint32', ENFORCEMENT[c.enforcementMode]!),
        Rules: c.rules.map((rule) => ({ Id: rule.id, Name: rule.name, Xml: rule.xml })),
      })),
    };
  },
  commentLines(r) {
    return [
      `AppLocker:  ${r.target} from ${r.spec.source}${r.spec.exact ? '' : ' (other rules kept)'}`,
      ...r.spec.collections.flatMap((c) => [`  ${c.type}: ${c.enforcementMode}`, ...c.rules.map((rule) => `    rule ${rule.id}: ${rule.name}`)]),
    ];
  },
  desiredView(spec) {
    return {
      collections: Object.fromEntries(spec.collections.map((c) => [c.type, { enforcementMode: c.enforcementMode, rules: Object.fromEntries(c.rules.map((r) => [r.id, r.name])) }])),
    };
  },
  area: () => 'AppLocker',
  stateText: appLockerStateText,
  // The runtime records the prior state as registry entries (the collection's values and rule keys).
  rollbackResources(entries: KindBackupEntry[]) {
    return registryRollback(entries.flatMap((e) => (e.registryEntries as KindBackupEntry[] | undefined) ?? []));
  },
};

