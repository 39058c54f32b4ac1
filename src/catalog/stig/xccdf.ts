/**
 * DISA STIG XCCDF 1.1 (manual benchmark) reader, and the registry requirement each rule's check
 * text states.
 *
 * `parseXccdf` turns the benchmark into plain rule records. `extractRegistryRequirement` reads one
 * rule's check text and returns either every registry value it requires, each with an exact
 * condition, or `Unsupported` with a category and a reason. It refuses rather than guesses: a
 * value it cannot read exactly, a rule whose compliance the registry alone does not decide, or a
 * value that is site-defined text all come back as Unsupported.
 *
 * Nothing here holds DISA prose; the texts are read from the benchmark at run time.
 */
import { DWORD_MAX, HIVES, QWORD_MAX, parseKeyPath, type Hive, type ValueType } from '../../kinds/registry/model.js';
import { childElements, firstChild, localName, parseXml, textContent, type XmlElement } from './xml.js';

// ---------------------------------------------------------------------------------------------------------
// Benchmark and rules

export type StigSeverity = 'high' | 'medium' | 'low' | 'unknown' | 'info';
const SEVERITIES: readonly StigSeverity[] = ['high', 'medium', 'low', 'unknown', 'info'];

export interface StigRule {
  /** Group id, e.g. `V-225040`. */
  vulnId: string;
  /** Rule id, e.g. `SV-225040r958908_rule`. */
  ruleId: string;
  /** The Rule's `<version>`, e.g. `WN16-SO-000200`. */
  stigId: string;
  /** `http://cyber.mil/legacy` idents: `V-` ids first, then `SV-` ids. */
  legacyIds: string[];
  /** `http://cyber.mil/cci` idents, in document order. */
  ccis: string[];
  severity: StigSeverity;
  weight: number | null;
  /** The Group's title: the SRG id, e.g. `SRG-OS-000480-GPOS-00227`. */
  srgId: string;
  title: string;
  checkText: string;
  fixText: string;
  /** The rule's discussion (`<VulnDiscussion>` inside its description), for checklists. */
  discussion?: string;
  /** The DISA reference's identifier (STIG Viewer's TargetKey), when present. */
  targetKey?: string;
}

export interface StigBenchmark {
  id: string;
  title: string;
  /** `<version>` of the Benchmark, e.g. `2`. */
  version: string;
  /** From `release-info`, e.g. 10; null when the file does not say. */
  release: number | null;
  /** `V2R10` when version and release are both numbers, else null. */
  versionLabel: string | null;
  /** From `release-info` ("Benchmark Date: 15 Jan 2025"), as YYYY-MM-DD; null when absent or unreadable. */
  benchmarkDate: string | null;
  /** The `release-info` text as written. */
  releaseInfo: string | null;
  /** `<status date>`, as written (YYYY-MM-DD in DISA files). */
  statusDate: string | null;
  status: string | null;
  rules: StigRule[];
}

const LEGACY_SYSTEM = 'http://cyber.mil/legacy';
const CCI_SYSTEM = 'http://cyber.mil/cci';
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function requiredText(parent: XmlElement, name: string, where: string): string {
  const element = firstChild(parent, name);
  if (!element) throw new Error(`XCCDF: ${where} has no <${name}>`);
  return textContent(element).trim();
}

function requiredAttribute(element: XmlElement, name: string, where: string): string {
  const value = element.attributes[name];
  if (value === undefined || value.trim() === '') throw new Error(`XCCDF: ${where} has no ${name} attribute`);
  return value.trim();
}

function isoDate(text: string): string | null {
  const m = /^(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{4})$/.exec(text.trim());
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  const day = Number(m[1]);
  if (month < 0 || day < 1 || day > 31) return null;
  return `${m[3]}-${String(month + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function legacyOrder(id: string): number {
  return id.startsWith('V-') ? 0 : id.startsWith('SV-') ? 1 : 2;
}

function readRule(rule: XmlElement, group: XmlElement): StigRule {
  const vulnId = requiredAttribute(group, 'id', 'a Group');
  const ruleId = requiredAttribute(rule, 'id', `Rule in ${vulnId}`);
  const where = `Rule ${ruleId}`;
  const severityText = (rule.attributes['severity'] ?? 'unknown').trim().toLowerCase();
  if (!(SEVERITIES as readonly string[]).includes(severityText)) throw new Error(`XCCDF: ${where} has severity '${severityText}'`);
  const weightText = rule.attributes['weight'];
  const weight = weightText === undefined ? null : Number(weightText);
  if (weight !== null && !Number.isFinite(weight)) throw new Error(`XCCDF: ${where} has weight '${weightText}'`);

  const legacyIds: string[] = [];
  const ccis: string[] = [];
  for (const ident of childElements(rule, 'ident')) {
    const value = textContent(ident).trim();
    if (ident.attributes['system'] === LEGACY_SYSTEM) legacyIds.push(value);
    else if (ident.attributes['system'] === CCI_SYSTEM) ccis.push(value);
  }
  legacyIds.sort((a, b) => legacyOrder(a) - legacyOrder(b));

  const check = firstChild(rule, 'check');
  const checkContent = check && firstChild(check, 'check-content');
  if (!checkContent) throw new Error(`XCCDF: ${where} has no <check><check-content>`);
  const fix = firstChild(rule, 'fixtext');
  // The description holds escaped XML: <VulnDiscussion>...</VulnDiscussion><FalsePositives>...
  const description = firstChild(rule, 'description');
  const discussion = description ? /<VulnDiscussion>([\s\S]*?)<\/VulnDiscussion>/.exec(textContent(description))?.[1]?.trim() : undefined;
  const reference = firstChild(rule, 'reference');
  const identifier = reference ? childElements(reference).find((c) => localName(c) === 'identifier') : undefined;

  return {
    vulnId,
    ruleId,
    stigId: requiredText(rule, 'version', where),
    legacyIds,
    ccis,
    severity: severityText as StigSeverity,
    weight,
    srgId: firstChild(group, 'title') ? textContent(firstChild(group, 'title')!).trim() : '',
    title: requiredText(rule, 'title', where),
    checkText: textContent(checkContent).trim(),
    fixText: fix ? textContent(fix).trim() : '',
    ...(discussion !== undefined ? { discussion } : {}),
    ...(identifier ? { targetKey: textContent(identifier).trim() } : {}),
  };
}

/** Rules of every Group, nested Groups included; each takes its nearest Group's id as vulnerability id. */
function collectRules(element: XmlElement, out: StigRule[]): void {
  const isGroup = localName(element) === 'Group';
  for (const child of childElements(element)) {
    const name = localName(child);
    if (name === 'Group') {
      collectRules(child, out);
    } else if (name === 'Rule' && isGroup) {
      out.push(readRule(child, element));
    } else if (name === 'Rule') {
      throw new Error(`XCCDF: Rule ${child.attributes['id'] ?? '?'} is outside any Group; its vulnerability id is unknown`);
    }
  }
}

/** Reads a DISA STIG XCCDF 1.1 benchmark. Throws on malformed XML or a rule missing its ids, title or check. */
export function parseXccdf(xml: string): StigBenchmark {
  const root = parseXml(xml);
  if (localName(root) !== 'Benchmark') throw new Error(`XCCDF: the root element is <${root.name}>, not <Benchmark>`);
  const plainTexts = new Map(childElements(root, 'plain-text').map((p) => [p.attributes['id'] ?? '', textContent(p).trim()]));
  const releaseInfo = plainTexts.get('release-info') ?? null;
  const releaseMatch = releaseInfo ? /Release:\s*(\d+)/i.exec(releaseInfo) : null;
  const dateMatch = releaseInfo ? /Benchmark Date:\s*(.+?)\s*$/i.exec(releaseInfo) : null;
  const version = requiredText(root, 'version', 'Benchmark');
  const release = releaseMatch ? Number(releaseMatch[1]) : null;
  const status = firstChild(root, 'status');
  const rules: StigRule[] = [];
  collectRules(root, rules);
  const seen = new Set<string>();
  for (const rule of rules) {
    if (seen.has(rule.ruleId)) throw new Error(`XCCDF: rule id ${rule.ruleId} appears twice`);
    seen.add(rule.ruleId);
  }
  return {
    id: requiredAttribute(root, 'id', 'Benchmark'),
    title: requiredText(root, 'title', 'Benchmark'),
    version,
    release,
    versionLabel: /^\d+$/.test(version) && release !== null ? `V${version}R${release}` : null,
    benchmarkDate: dateMatch ? isoDate(dateMatch[1]!) : null,
    releaseInfo,
    statusDate: status?.attributes['date']?.trim() ?? null,
    status: status ? textContent(status).trim() : null,
    rules,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Registry requirements

/** Optional flags every condition may carry. */
interface ConditionFlags {
  /** Top-level only: the value being absent (not configured) is compliant too. */
  absentOk?: true;
  /** The value is a REG_SZ whose text is compared as a decimal number. */
  numericString?: true;
}
/** Numbers for DWord (and REG_SZ numbers); decimal strings for QWord; text for strings; lists for MultiString; lowercase hex for Binary. */
export type ConditionValue = number | string | string[];
export type Condition =
  | ({ op: 'equals'; value: ConditionValue } & ConditionFlags)
  | ({ op: 'atLeast'; value: number | string } & ConditionFlags)
  | ({ op: 'atMost'; value: number | string } & ConditionFlags)
  | ({ op: 'range'; min: number | string; max: number | string } & ConditionFlags)
  | ({ op: 'oneOf'; values: (number | string)[] } & ConditionFlags)
  | ({ op: 'not'; value: number | string } & ConditionFlags)
  | ({ op: 'bitsSet'; mask: number | string } & ConditionFlags)
  | ({ op: 'allOf'; conditions: Condition[] } & ConditionFlags);

export type StigHive = Extract<Hive, 'HKEY_LOCAL_MACHINE' | 'HKEY_CURRENT_USER'>;

export interface StigRegistryValue {
  hive: StigHive;
  /** Subkey below the hive: no leading/trailing `\`, no blanks around separators, case as written. */
  path: string;
  /** `HKEY_...\path`, accepted by `parseKeyPath`. */
  key: string;
  valueName: string;
  valueType: ValueType;
  condition: Condition;
  /** A "Note: ..." written after the value, as text to show a reviewer; it is not read into the condition. */
  note?: string;
}

export type Scope = 'MS' | 'DC';

/** A server role as a user types it (any case), or why it is not one. */
export function parseScope(text: string): { scope: Scope } | { problem: string } {
  const upper = text.toUpperCase();
  return upper === 'MS' || upper === 'DC' ? { scope: upper } : { problem: `--scope takes MS (member servers) or DC (domain controllers), not '${text}'` };
}
export type ApplicabilityConditionKind =
  | 'domain-joined-only'
  | 'not-server-core'
  | 'unclassified-only'
  | 'not-if-audit-server'
  | 'not-if-other-rule'
  | 'not-if-absent'
  /** The text limits the rule both to member servers and to domain controllers: extraction refuses it. */
  | 'role-conflict'
  | 'other';

export interface ApplicabilityCondition {
  kind: ApplicabilityConditionKind;
  /** For `not-if-other-rule`: the vulnerability ids named (often legacy ids). */
  rules?: string[];
  /** The sentence of the check text it was read from. */
  text: string;
}

export interface Applicability {
  /** Member servers (incl. standalone), domain controllers, or both. */
  scope: Scope[];
  /** Not-applicable conditions beyond the server role, for the user to judge. */
  conditions: ApplicabilityCondition[];
}

export interface RegistryRequirement {
  kind: 'registry';
  vulnId: string;
  stigId: string;
  ruleId: string;
  applicability: Applicability;
  /** Every value the rule requires (at least one), in the order the check text lists them. */
  values: StigRegistryValue[];
  /** A rule whose compliance is runtime state: the query that decides it, beside the values its fix writes. */
  runtimeCheck?: RuntimeCheck;
}

/** A CIM query and what the check text says its properties must hold (a CimInstance resource). */
export interface RuntimeCheck {
  namespace: string;
  className: string;
  /** Property name -> `{ contains: [n] }` ("does not include a value of n") or `{ equals: n }` ("is not a value of n"). */
  expect: [string, { contains: number[] } | { equals: number }][];
}

export type UnsupportedCategory =
  | 'user-right'
  | 'audit-policy'
  | 'account-policy'
  | 'security-policy'
  | 'access-control'
  | 'installed-feature'
  | 'certificate'
  | 'accounts-directory'
  | 'runtime-state'
  | 'platform'
  | 'site-defined-value'
  | 'unreadable-registry'
  | 'manual';

export interface Unsupported {
  kind: 'unsupported';
  vulnId: string;
  stigId: string;
  ruleId: string;
  applicability: Applicability;
  category: UnsupportedCategory;
  reason: string;
  /** Registry values the check text names that were read exactly, for reference only (not a requirement). */
  relatedValues?: StigRegistryValue[];
}

export type Extraction = RegistryRequirement | Unsupported;

const VALUE_TYPE_NAMES: Record<string, ValueType> = {
  REG_DWORD: 'DWord',
  REG_SZ: 'String',
  REG_MULTI_SZ: 'MultiString',
  REG_EXPAND_SZ: 'ExpandString',
  REG_BINARY: 'Binary',
  REG_QWORD: 'QWord',
};

// --- applicability ---------------------------------------------------------------------------------------

function sentences(text: string): string[] {
  return text
    .split(/\n+/)
    .flatMap((line) => line.split(/(?<=[.;])\s+(?=[A-Z])/))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const NA_SENTENCE = /\bNA\b|\bnot applicable\b/i;

/** The one server role a sentence limits the rule to, if it does. */
function roleOf(sentence: string): Scope | undefined {
  const role = (word: string): Scope => (/domain controller/i.test(word) ? 'DC' : 'MS');
  const other = (word: string): Scope => (role(word) === 'DC' ? 'MS' : 'DC');
  let m = /\b(?:applies|applicable) to (domain controllers|member servers)\b/i.exec(sentence);
  // "A separate version applies to domain controllers": this rule is for the other role.
  if (m) return /\bseparate version\b/i.test(sentence) ? other(m[1]!) : role(m[1]!);
  m = /\b(?:NA|not applicable) for (domain controllers|member servers)\b/i.exec(sentence);
  if (m) return other(m[1]!);
  m = /^for (domain controllers|member servers)\b[^.]*\bthis is NA\b/i.exec(sentence);
  if (m) return other(m[1]!);
  // "If the system is not a domain controller, this is NA" / "If the system is a member server, this is NA"
  m = /\bif the (?:system|server) is (not )?an? (domain controller|member server)\b[^.]*\bthis is NA\b/i.exec(sentence);
  if (m) return m[1] ? role(m[2]!) : other(m[2]!);
  return undefined;
}

/**
 * Server role and other not-applicable conditions, from the check text (and the title when the text
 * names no role). Standalone systems count as member servers, as the STIG treats them.
 */
export function ruleApplicability(rule: Pick<StigRule, 'title' | 'checkText'>): Applicability {
  const text = rule.checkText;
  const roles = new Set<Scope>();
  for (const sentence of sentences(text)) {
    const role = roleOf(sentence);
    if (role) roles.add(role);
  }
  if (roles.size === 0) {
    // Titles such as "Domain controllers must ..."
    if (/^domain controllers?\b/i.test(rule.title)) roles.add('DC');
    else if (/\bmember servers?\b/i.test(rule.title) && !/\bdomain controllers?\b/i.test(rule.title)) roles.add('MS');
  }
  const scope: Scope[] = roles.size === 1 ? [...roles] : ['MS', 'DC'];

  const conditions: ApplicabilityCondition[] = [];
  if (roles.size > 1) conditions.push({ kind: 'role-conflict', text: 'the check text limits the rule both to member servers and to domain controllers' });
  const add = (condition: ApplicabilityCondition): void => {
    // One entry per kind, except for free-form conditions, each of which says something else.
    const same = (c: ApplicabilityCondition): boolean => c.kind === condition.kind && (condition.kind !== 'other' || c.text === condition.text);
    if (!conditions.some(same)) conditions.push(condition);
  };
  for (const sentence of sentences(text)) {
    if (/\b(?:standalone|nondomain-joined)\b[^.]*\b(?:this is NA|NA)\b/i.test(sentence) || /\bapplicable to domain-joined systems\b/i.test(sentence)) {
      add({ kind: 'domain-joined-only', text: sentence });
      continue;
    }
    if (!NA_SENTENCE.test(sentence)) continue;
    if (/\bServer Core\b/i.test(sentence)) add({ kind: 'not-server-core', text: sentence });
    else if (/\bunclassified systems\b/i.test(sentence)) add({ kind: 'unclassified-only', text: sentence });
    else if (/\baudit server\b/i.test(sentence)) add({ kind: 'not-if-audit-server', text: sentence });
    else if (/\bV-\d+\b[^.]*\b(?:is|are) configured\b/i.test(sentence)) add({ kind: 'not-if-other-rule', rules: sentence.match(/\bV-\d+\b/g)!, text: sentence });
    else if (/^if (?:none|no|there are no)\b/i.test(sentence)) add({ kind: 'not-if-absent', text: sentence });
    else if (roleOf(sentence) || /\b(?:it is|this is) NA for other systems\b/i.test(sentence)) {
      // The server role, already in scope.
    } else add({ kind: 'other', text: sentence });
  }
  return { scope, conditions };
}

// --- registry blocks in the check text -------------------------------------------------------------------

type Label = 'hive' | 'path' | 'name' | 'type' | 'value';
const LABEL_LINE = /^(Registry\s*Hive|Registry\s*Path|Value\s*Name|Value\s*Type|Type|Value)\s*:\s*(.*)$/i;

function labelOf(word: string): Label {
  const w = word.replace(/\s+/g, '').toLowerCase();
  return w === 'registryhive' ? 'hive' : w === 'registrypath' ? 'path' : w === 'valuename' ? 'name' : w === 'value' ? 'value' : 'type';
}

interface RawValue {
  hive: string;
  path: string;
  name: string;
  type?: string;
  value?: string[];
  note?: string;
}

/** A numeric-looking line: a value listed on its own line below `Value:`. */
const VALUE_ITEM_LINE = /^(?:0x[0-9a-f]+\b|\d+\b)/i;

/** Finds the `Registry Hive / Registry Path / Value Name / Type / Value` blocks; throws on a malformed block. */
function readRegistryBlocks(checkText: string): RawValue[] {
  const lines = checkText.split('\n');
  const out: RawValue[] = [];
  let hive: string | undefined;
  let path: string | undefined;
  let current: RawValue | undefined;
  const finish = (): void => {
    if (!current) return;
    if (current.type === undefined) throw new Error(`value '${current.name}' has no type`);
    if (current.value === undefined) throw new Error(`value '${current.name}' has no value`);
    out.push(current);
    current = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const m = LABEL_LINE.exec(lines[i]!.trim());
    if (!m) continue;
    const label = labelOf(m[1]!);
    let text = m[2]!.trim();
    if (text === '' && label !== 'value') {
      // "Registry Path:" with the path on the next line.
      let k = i + 1;
      while (k < lines.length && lines[k]!.trim() === '') k++;
      if (k < lines.length && !LABEL_LINE.test(lines[k]!.trim())) {
        text = lines[k]!.trim();
        i = k;
      } else throw new Error(`'${m[1]}:' is empty`);
    }
    switch (label) {
      case 'hive':
        finish();
        hive = text;
        path = undefined;
        break;
      case 'path':
        finish();
        if (hive === undefined) throw new Error('a registry path without a hive');
        path = text;
        break;
      case 'name':
        finish();
        if (hive === undefined || path === undefined) throw new Error(`value name '${text}' without a hive and path`);
        current = { hive, path, name: text };
        break;
      case 'type':
        if (!current) throw new Error(`type '${text}' without a value name`);
        if (current.type !== undefined) throw new Error(`value '${current.name}' has two types`);
        current.type = text;
        break;
      case 'value': {
        if (!current) throw new Error(`value '${text}' without a value name`);
        if (current.value !== undefined) throw new Error(`value '${current.name}' has two values`);
        // A note on the same line is not part of the value.
        const note = /\s+Note\s*:/i.exec(text);
        const first = note ? text.slice(0, note.index).trim() : text;
        const valueLines = first === '' ? [] : [first];
        if (note) current.note = text.slice(note.index).trim();
        const valueLine = i;
        // Values continue on the following lines until a blank line, a note or another label.
        let j = i + 1;
        if (valueLines.length === 0) while (j < lines.length && lines[j]!.trim() === '') j++;
        for (; j < lines.length; j++) {
          const line = lines[j]!.trim();
          if (line === '' || LABEL_LINE.test(line)) break;
          if (/^Note\s*:/i.test(line)) {
            current.note = line;
            break;
          }
          valueLines.push(line);
        }
        // A value-like line right after the blank line would be a continuation we cannot place.
        let k = j;
        while (k < lines.length && lines[k]!.trim() === '') k++;
        if (k > j && k < lines.length && VALUE_ITEM_LINE.test(lines[k]!.trim()) && !/^\d+\s+-\s/.test(lines[k]!.trim())) {
          throw new Error(`value '${current.name}' seems to continue after a blank line ('${lines[k]!.trim()}')`);
        }
        if (valueLines.length === 0) throw new Error(`value '${current.name}' is empty (line ${valueLine + 1})`);
        current.value = valueLines;
        i = j - 1;
        break;
      }
    }
  }
  finish();
  if (hive !== undefined && out.length === 0) throw new Error('a registry hive without any value name');
  return out;
}

function normaliseHive(text: string): StigHive | string {
  const word = text.trim().replace(/:$/, '').toUpperCase();
  const hive = (Object.keys(HIVES) as Hive[]).find((h) => h === word || (HIVES[h] as readonly string[]).includes(word));
  if (hive === 'HKEY_LOCAL_MACHINE' || hive === 'HKEY_CURRENT_USER') return hive;
  return `registry hive '${text.trim()}' is not HKEY_LOCAL_MACHINE or HKEY_CURRENT_USER`;
}

/** Strips leading/trailing `\` and blanks around separators; an embedded hive name must repeat the block's hive. */
function normalisePath(text: string, hive: StigHive): string | { error: string } {
  let segments = text.split('\\').map((s) => s.trim());
  while (segments[0] === '') segments.shift();
  while (segments[segments.length - 1] === '') segments.pop();
  if (segments.length > 0) {
    const first = normaliseHive(segments[0]!);
    if (first === hive) segments = segments.slice(1);
    else if (/^HK(?:EY_|LM|CU|U\b|CR|CC)/i.test(segments[0]!)) return { error: `registry path '${text}' starts with another hive than ${hive}` };
  }
  if (segments.length === 0) return { error: `registry path '${text}' is empty` };
  if (segments.includes('')) return { error: `registry path '${text}' has an empty key name` };
  const path = segments.join('\\');
  const parsed = parseKeyPath(`${hive}\\${path}`);
  if (typeof parsed === 'string') return { error: parsed };
  return path;
}

// --- value text ------------------------------------------------------------------------------------------

/** Why a value text is not an exact requirement (thrown by readValueCondition). */
export class ValueError extends Error {
  constructor(
    message: string,
    readonly category: UnsupportedCategory = 'unreadable-registry',
  ) {
    super(message);
  }
}

type Bound = 'atLeast' | 'atMost';

interface Modifiers {
  absentOk: boolean;
  bound?: Bound;
  excluded: string[];
  rest: string;
}

const ABSENT = /\(\s*or if the value(?: name)? does not exist\s*\)|\(\s*or not configured\s*\)|\bor if the value(?: name)? does not exist\b/gi;
const BOUND = /\(\s*or (less|lower|fewer|greater|more|higher)\b([^()]*(?:\([^()]*\)[^()]*)*)\)/gi;

/** Removes the "(or greater)", "(or less, but not 0)", "(or if the Value Name does not exist)" parts. */
function readModifiers(text: string): Modifiers {
  let absentOk = false;
  let bound: Bound | undefined;
  const excluded: string[] = [];
  let rest = text.replace(ABSENT, () => {
    absentOk = true;
    return ' ';
  });
  rest = rest.replace(BOUND, (_all, word: string, tail: string) => {
    if (bound) throw new ValueError(`value '${text}' states two bounds`);
    bound = /less|lower|fewer/i.test(word) ? 'atMost' : 'atLeast';
    const extra = tail.trim().replace(/^,\s*/, '');
    if (extra !== '') {
      const m = /^(?:but not|excluding|except)\s+"?(0x[0-9a-f]+|\d+)"?(?:\s+which is effectively disabled)?$/i.exec(extra);
      if (!m) throw new ValueError(`value '${text}': cannot read '${extra}'`);
      excluded.push(m[1]!);
    }
    return ' ';
  });
  return { absentOk, bound, excluded, rest: rest.trim() };
}

/** "0x00008000 (32768)", "0x0000001e", "30": checks that hex and decimal agree. */
function readNumberToken(hex: string | undefined, decimal: string | undefined, plain: string | undefined, original: string): bigint {
  if (plain !== undefined) return BigInt(plain);
  const fromHex = BigInt(hex!);
  if (decimal !== undefined && BigInt(decimal) !== fromHex) {
    throw new ValueError(`value '${original}': ${hex} is ${fromHex}, not ${decimal}`);
  }
  return fromHex;
}

const NUMBER_ITEM = /\s*(?:(0x[0-9a-f]+)(?:\s*\(\s*(\d+)\s*\))?|(\d+))(?=[\s,;()]|$)/iy;
const LABEL = /\s*\(([^()]*)\)/y;
const SEPARATOR = /[^\S\n]*(?:,\s*or\b|,|\bor\b|;)\s*|\s*\n\s*/y;

/** A list of numbers with optional descriptive labels: "1 (Lock Workstation) or 2 (Force Logoff)". */
function readNumberList(text: string): bigint[] | undefined {
  const values: bigint[] = [];
  let pos = 0;
  const s = text.trim();
  while (pos < s.length) {
    if (values.length > 0) {
      SEPARATOR.lastIndex = pos;
      if (!SEPARATOR.exec(s)) return undefined;
      pos = SEPARATOR.lastIndex;
    }
    NUMBER_ITEM.lastIndex = pos;
    const m = NUMBER_ITEM.exec(s);
    if (!m) return undefined;
    pos = NUMBER_ITEM.lastIndex;
    values.push(readNumberToken(m[1], m[2], m[3], text));
    // Labels that are words, not numbers, describe the value ("(Basic)"); several may follow.
    for (;;) {
      LABEL.lastIndex = pos;
      const l = LABEL.exec(s);
      if (!l || /^\s*(?:0x[0-9a-f]+|\d+)\s*$/i.test(l[1]!) || !/[A-Za-z]/.test(l[1]!)) break;
      pos = LABEL.lastIndex;
    }
  }
  return values.length > 0 ? values : undefined;
}

function checkRange(n: bigint, type: 'DWord' | 'QWord' | 'String', original: string): number | string {
  if (type === 'QWord') {
    if (n < 0n || n > QWORD_MAX) throw new ValueError(`value '${original}' is outside the QWORD range`);
    return n.toString();
  }
  if (type === 'DWord' && (n < 0n || n > DWORD_MAX)) throw new ValueError(`value '${original}' is outside the DWORD range`);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new ValueError(`value '${original}' is too large to compare exactly`);
  return Number(n);
}

const PROSE_VALUE = /^see\b|\b(?:below|above)\b|\borgani[sz]ation[- ]defined\b/i;

function numericCondition(numbers: (number | string)[], mods: Modifiers, numericString: boolean, original: string, type: 'DWord' | 'QWord' | 'String'): Condition {
  const flag: ConditionFlags = numericString ? { numericString: true } : {};
  let condition: Condition;
  if (mods.bound) {
    if (numbers.length !== 1) throw new ValueError(`value '${original}' has a bound and several values`);
    condition = { op: mods.bound, value: numbers[0]!, ...flag };
    if (mods.excluded.length > 0) {
      const nots: Condition[] = mods.excluded.map((e) => ({ op: 'not', value: checkRange(BigInt(e), type, original), ...flag }));
      condition = { op: 'allOf', conditions: [condition, ...nots] };
    }
  } else if (numbers.length === 1) {
    condition = { op: 'equals', value: numbers[0]!, ...flag };
  } else {
    if (new Set(numbers.map(String)).size !== numbers.length) throw new ValueError(`value '${original}' lists a value twice`);
    condition = { op: 'oneOf', values: numbers, ...flag };
  }
  if (mods.absentOk) condition = { ...condition, absentOk: true };
  return condition;
}

/** "0x00000001 (1) to 0x0000001e (30)", "1 through 30": an inclusive range, or undefined when the text is no range. */
function readRange(mods: Modifiers, type: 'DWord' | 'QWord' | 'String', original: string): Condition | undefined {
  const parts = mods.rest.split(/\s+(?:to|through)\s+/i);
  if (parts.length !== 2) return undefined;
  const [low, high] = parts.map((p) => readNumberList(p));
  if (!low || !high || low.length !== 1 || high.length !== 1) return undefined;
  if (mods.bound) throw new ValueError(`value '${original}' has a range and a bound`);
  if (low[0]! > high[0]!) throw new ValueError(`value '${original}' is a range from high to low`);
  const flag: ConditionFlags = type === 'String' ? { numericString: true } : {};
  let condition: Condition = { op: 'range', min: checkRange(low[0]!, type, original), max: checkRange(high[0]!, type, original), ...flag };
  if (mods.absentOk) condition = { ...condition, absentOk: true };
  return condition;
}

/** The condition a `Value:` text states for a value of the given type; throws ValueError when it is not exact. */
export function readValueCondition(valueLines: readonly string[], type: ValueType): Condition {
  const original = valueLines.join('\n');
  if (valueLines.length === 0 || valueLines.every((l) => l.trim() === '')) throw new ValueError('the value is empty');
  if (PROSE_VALUE.test(valueLines[0]!)) {
    throw new ValueError(`the value is given as text elsewhere in the check ('${valueLines[0]}'), which is site-defined or not exact`, 'site-defined-value');
  }
  switch (type) {
    case 'DWord':
    case 'QWord': {
      const mods = readModifiers(original);
      const range = readRange(mods, type, original);
      if (range) return range;
      const list = readNumberList(mods.rest);
      if (!list) throw new ValueError(`cannot read '${original}' as a ${type === 'DWord' ? 'REG_DWORD' : 'REG_QWORD'} value`);
      return numericCondition(list.map((n) => checkRange(n, type, original)), mods, false, original, type);
    }
    case 'String':
    case 'ExpandString': {
      const mods = readModifiers(original);
      const list = readNumberList(mods.rest);
      const range = type === 'String' ? readRange(mods, 'String', original) : undefined;
      if (range) return range;
      // A REG_SZ holding a number: a bound or a choice of numbers is compared numerically.
      if (list && type === 'String' && (mods.bound || list.length > 1)) {
        return numericCondition(list.map((n) => checkRange(n, 'String', original)), mods, true, original, 'String');
      }
      if (mods.bound) throw new ValueError(`'${original}' bounds a ${type} value that is not a number`);
      if (valueLines.length > 1) throw new ValueError(`a ${type} value written on several lines is ambiguous: '${original}'`);
      const text = mods.rest;
      if (text === '') throw new ValueError('the value is empty');
      let value: string;
      if (list) {
        // One number: "1", or "1 (Lock Workstation)" with a label. Hex notation in a string is ambiguous.
        const m = /^(\d+)(?:\s*\([^()]*[A-Za-z][^()]*\))*$/.exec(text);
        if (!m) throw new ValueError(`'${original}' for a ${type} value: the text to store is not clear`);
        value = m[1]!;
      } else {
        const quoted = /^"([^"]*)"$/.exec(text);
        value = quoted ? quoted[1]! : text;
      }
      return mods.absentOk ? { op: 'equals', value, absentOk: true } : { op: 'equals', value };
    }
    case 'MultiString': {
      const mods = readModifiers(original);
      if (mods.bound) throw new ValueError(`'${original}' bounds a REG_MULTI_SZ value`);
      const items = mods.rest
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
      if (items.length === 0) throw new ValueError('the value is empty');
      return mods.absentOk ? { op: 'equals', value: items, absentOk: true } : { op: 'equals', value: items };
    }
    case 'Binary': {
      const mods = readModifiers(original);
      const hex = mods.rest.replace(/[\s,]/g, '');
      if (mods.bound || !/^(?:0x)?([0-9a-f]{2})+$/i.test(hex)) throw new ValueError(`cannot read '${original}' as REG_BINARY bytes`);
      const value = hex.replace(/^0x/i, '').toLowerCase();
      return mods.absentOk ? { op: 'equals', value, absentOk: true } : { op: 'equals', value };
    }
  }
}

function readValue(raw: RawValue): StigRegistryValue {
  const hive = normaliseHive(raw.hive);
  if (hive !== 'HKEY_LOCAL_MACHINE' && hive !== 'HKEY_CURRENT_USER') throw new ValueError(hive);
  const path = normalisePath(raw.path, hive);
  if (typeof path !== 'string') throw new ValueError(path.error);
  const valueName = raw.name.trim();
  if (valueName === '') throw new ValueError('an empty value name');
  const typeWord = raw.type!.trim().toUpperCase();
  const valueType = VALUE_TYPE_NAMES[typeWord];
  if (!valueType) throw new ValueError(`value '${valueName}' has the unknown type '${raw.type}'`);
  const condition = readValueCondition(raw.value!, valueType);
  return { hive, path, key: `${hive}\\${path}`, valueName, valueType, condition, ...(raw.note ? { note: raw.note } : {}) };
}

// --- rules without a registry value ----------------------------------------------------------------------

const NON_REGISTRY: { category: UnsupportedCategory; test: (r: StigRule) => boolean; reason: string }[] = [
  { category: 'manual', test: (r) => /\bpermanent finding\b/i.test(r.checkText), reason: 'a permanent finding that no configuration resolves' },
  { category: 'manual', test: (r) => /\bmust be documented\b/i.test(r.title), reason: 'documentation to review' },
  { category: 'user-right', test: (r) => /User Rights Assignment/i.test(r.checkText), reason: 'a user rights assignment (LSA policy), not a registry value' },
  {
    category: 'audit-policy',
    test: (r) => /Advanced Audit Policy Configuration|\bauditpol\b/i.test(r.checkText),
    reason: 'an advanced audit policy subcategory setting, not a registry value',
  },
  { category: 'account-policy', test: (r) => /Account Policies\s*>>/i.test(r.checkText), reason: 'an account policy (password, lockout or Kerberos), not a registry value' },
  {
    category: 'security-policy',
    test: (r) => /Security Options/i.test(r.checkText) && /gpedit\.msc/i.test(r.checkText),
    reason: 'a security option kept in the local security database (SAM/LSA), not in a registry value',
  },
  {
    category: 'platform',
    test: (r) => /\bSecure Boot\b|\bUEFI\b|Unified Extensible Firmware Interface|\bTrusted Platform Module\b/i.test(r.title),
    reason: 'hardware or firmware state (TPM, UEFI, Secure Boot)',
  },
  { category: 'installed-feature', test: (r) => /Get-WindowsFeature/i.test(r.checkText), reason: 'whether a Windows role or feature is installed' },
  {
    category: 'access-control',
    test: (r) => /\bpermissions\b|\baccess control\b|\baudit settings\b/i.test(r.title) || /\bpermissions\b|\bAuditing tab\b/i.test(r.checkText),
    reason: 'permissions or audit entries (ACLs) on files, registry keys, shares or directory objects',
  },
  { category: 'certificate', test: (r) => /\bcertificates?\b|\bPKI\b/i.test(r.title), reason: 'certificates in a certificate store, the directory or certificate files' },
  { category: 'manual', test: (r) => /\bW32tm\b/i.test(r.checkText), reason: 'the time source configuration, reviewed by hand' },
  {
    category: 'accounts-directory',
    test: (r) => /\bGet-AD\w+|\bSearch-ADAccount\b|\bntdsutil\b|\bldp\.exe\b|Active Directory Users and Computers/i.test(r.checkText),
    reason: 'the state of user accounts or Active Directory objects and settings',
  },
];

function unsupportedNonRegistry(rule: StigRule): { category: UnsupportedCategory; reason: string } {
  for (const c of NON_REGISTRY) if (c.test(rule)) return { category: c.category, reason: `no registry value to set: ${c.reason}` };
  return { category: 'manual', reason: 'no registry value to set: a manual review of configuration, documentation or procedure' };
}

/** The check text lists registry values only as what a policy writes, while compliance is a runtime state. */
const RUNTIME_STATE = /\bregistry values? alone (?:does|do) not ensure\b/i;

/**
 * The CIM query of a runtime-state check ("Get-CimInstance -ClassName Win32_DeviceGuard -Namespace
 * root\Microsoft\Windows\DeviceGuard") and its findings, each 'If "<property>" does not include a
 * value of "<n>"' (contains n) or 'If "<property>" is not a value of "<n>"' (equals n). Undefined
 * when there is no query, no finding, or a finding about the query's output not read this way.
 */
export function readRuntimeCheck(checkText: string): RuntimeCheck | undefined {
  const query = /Get-CimInstance\s+-ClassName\s+([A-Za-z_][A-Za-z0-9_]*)\s+-Namespace\s+([A-Za-z_][A-Za-z0-9_]*(?:\\[A-Za-z_][A-Za-z0-9_]*)*)/.exec(checkText);
  if (!query) return undefined;
  const expect: RuntimeCheck['expect'] = [];
  for (const m of checkText.matchAll(/^If "([A-Za-z_][A-Za-z0-9_]*)" (does not include|is not) a value of "(\d+)"/gm)) {
    const n = Number(m[3]);
    if (expect.some(([name]) => name === m[1])) return undefined;
    expect.push([m[1]!, m[2] === 'is not' ? { equals: n } : { contains: [n] }]);
  }
  return expect.length > 0 ? { className: query[1]!, namespace: query[2]!, expect } : undefined;
}

/** The exact registry requirement a rule states, or why there is none. */
export function extractRegistryRequirement(rule: StigRule): Extraction {
  const base = { vulnId: rule.vulnId, stigId: rule.stigId, ruleId: rule.ruleId, applicability: ruleApplicability(rule) };
  const unsupported = (category: UnsupportedCategory, reason: string, relatedValues?: StigRegistryValue[]): Unsupported => ({
    kind: 'unsupported',
    ...base,
    category,
    reason,
    ...(relatedValues && relatedValues.length > 0 ? { relatedValues } : {}),
  });

  if (base.applicability.conditions.some((c) => c.kind === 'role-conflict')) {
    return unsupported('manual', 'the check text limits the rule both to member servers and to domain controllers');
  }
  let raws: RawValue[];
  try {
    raws = readRegistryBlocks(rule.checkText);
  } catch (e) {
    return unsupported('unreadable-registry', `registry block not understood: ${(e as Error).message}`);
  }
  if (raws.length === 0) {
    const { category, reason } = unsupportedNonRegistry(rule);
    return unsupported(category, reason);
  }

  const values: StigRegistryValue[] = [];
  const problems: ValueError[] = [];
  for (const raw of raws) {
    try {
      values.push(readValue(raw));
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      problems.push(e);
    }
  }
  if (RUNTIME_STATE.test(rule.checkText)) {
    // The fix's values are set and the query is checked beside them; without both, nothing is.
    const runtimeCheck = readRuntimeCheck(rule.checkText);
    if (runtimeCheck && problems.length === 0 && values.length > 0) return { kind: 'registry', ...base, values, runtimeCheck };
    return unsupported(
      'runtime-state',
      'compliance is a runtime state queried from Windows (e.g. a running security service); the registry values the policy writes do not decide it',
      values,
    );
  }
  if (problems.length > 0) {
    const category = problems.some((p) => p.category === 'site-defined-value') ? 'site-defined-value' : problems[0]!.category;
    return unsupported(category, problems.map((p) => p.message).join('; '), values);
  }
  const seen = new Set<string>();
  for (const v of values) {
    const id = `${v.key}!${v.valueName}`.toLowerCase();
    if (seen.has(id)) return unsupported('unreadable-registry', `the check text names ${v.key}!${v.valueName} twice`, values);
    seen.add(id);
  }
  return { kind: 'registry', ...base, values };
}

/** Every rule of a benchmark with its extraction, in benchmark order. */
export function extractAll(benchmark: StigBenchmark): { rule: StigRule; extraction: Extraction }[] {
  return benchmark.rules.map((rule) => ({ rule, extraction: extractRegistryRequirement(rule) }));
}
