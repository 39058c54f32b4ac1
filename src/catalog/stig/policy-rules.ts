/**
 * The settings a STIG rule requires that are not registry values: a user right and its principals,
 * an account or Kerberos policy, an LSA-held security option, or an advanced audit subcategory.
 *
 * The reader takes the check text's exact forms and refuses what it cannot read exactly, like the
 * registry reader in xccdf.ts:
 *
 *   user rights     `If any SIDs other than the following are granted the "SeX" user right` + SID lines
 *                   -> exactly these principals; `If any SIDs are granted the "SeX" user right` -> no one;
 *                   `If the following SIDs are not defined for the "SeX" user right` + SID lines -> must
 *                   include them. `S-1-5-domain-512` / `S-1-5-root domain-519` are the domain groups
 *                   Domain Admins / Enterprise Admins; `A or B` keeps A (DISA lists the one it prefers
 *                   first) and notes B; principals under "Domain Systems Only" are noted as such.
 *   account policy  the secedit sentence (`If "LockoutDuration" is less than "15" (excluding "0")`), or
 *                   for Kerberos policy the policy editor's (`If the value for "Maximum lifetime for
 *                   service ticket" is "0" or greater than "600" minutes`): a number with its condition.
 *   security option `If "EnableGuestAccount" equals "1"` (a boolean), `If "NewAdministratorName" is not
 *                   something other than "Administrator"` (a name that must differ; no value to write).
 *   audit policy    `Category >> Subcategory - Success` (or Failure): must include that direction.
 *
 * Nothing here holds DISA prose: names, numbers and SIDs are read from the benchmark at run time.
 */
import { findAuditSubcategory, findTemplateKey, findUserRight, tables } from '../../kinds/tables.js';
import type { StigRule } from './xccdf.js';

export type PolicySetting =
  | { kind: 'UserRight'; right: string; principals: string[] }
  | { kind: 'UserRight'; right: string; mustInclude: string[] }
  | { kind: 'AccountPolicy' | 'SecurityPolicy'; section: 'System Access' | 'Kerberos Policy'; key: string; value?: number | string; condition?: Record<string, unknown>; text: string }
  | { kind: 'AuditPolicy'; guid: string; subcategory: string; success?: 'enabled'; failure?: 'enabled' };

export interface PolicyRequirement {
  setting: PolicySetting;
  /** What a reviewer should know that the setting does not say (alternatives, domain-only principals, accepted exceptions). */
  notes: string[];
}

/** A refusal; `review` when the rule is a review by hand rather than one setting (orphaned SIDs across all rights). */
export type PolicyExtraction = { ok: true; requirement: PolicyRequirement } | { ok: false; reason: string; review?: true };

const DOMAIN_RIDS: Record<string, number> = { 'S-1-5-domain-512': 512, 'S-1-5-root domain-519': 519 };

/** A SID as the check text writes it, as a principal the UserRight kind takes: `*S-...` or a domain group's name. */
function principalOf(sidText: string): string | undefined {
  const text = sidText.trim();
  const rid = DOMAIN_RIDS[text];
  if (rid !== undefined) return tables().principals.domainRelative.find((d) => d.rid === rid)?.name;
  return /^S-1-\d+(-\d+)+$/.test(text) ? `*${text}` : undefined;
}

const SID_LINE = /^(S-1-[0-9a-z -]+?-\d+)\s*(?:\(([^)]*)\))?(?:\s+or\s+(S-1-[0-9a-z -]+?-\d+)\s*(?:\(([^)]*)\))?)?\s*$/i;

/** The SID lines after the sentence at `from`, with their "Domain Systems Only" / "All Systems" headings. */
interface SidLine {
  principal: string;
  domainOnly: boolean;
  /** The name the check text gives in parentheses. */
  label?: string;
  /** "A or B": the other SID the STIG accepts, with its name. */
  alternative?: string;
  alternativeLabel?: string;
}

function sidLines(text: string, from: number): SidLine[] | string {
  const out: SidLine[] = [];
  let domainOnly = false;
  for (const raw of text.slice(from).split('\n').slice(1)) {
    const line = raw.trim();
    if (line === '') continue;
    if (/^Domain Systems Only:?$/i.test(line)) {
      domainOnly = true;
      continue;
    }
    if (/^All Systems:?$/i.test(line)) {
      domainOnly = false;
      continue;
    }
    const m = SID_LINE.exec(line);
    if (!m) break;
    const principal = principalOf(m[1]!);
    if (!principal) return `cannot read '${m[1]}' as a SID`;
    const alternative = m[3] ? principalOf(m[3]) : undefined;
    if (m[3] && !alternative) return `cannot read '${m[3]}' as a SID`;
    out.push({
      principal,
      domainOnly,
      ...(m[2] ? { label: m[2].replace(/"/g, '') } : {}),
      ...(alternative ? { alternative } : {}),
      ...(m[4] ? { alternativeLabel: m[4].replace(/"/g, '') } : {}),
    });
  }
  return out;
}

function readUserRight(rule: StigRule): PolicyExtraction {
  const text = rule.checkText;
  if (/\bunresolved SIDs\b/i.test(text)) return { ok: false, review: true, reason: 'a review of unresolved (orphaned) SIDs across all user rights, not one setting to enforce' };
  const only = /If any SIDs other than the following are granted the "(Se\w+)" user right/i.exec(text);
  const none = /If any SIDs are granted the "(Se\w+)" user right/i.exec(text);
  const include = /If the following SIDs?(?:\(s\))? are not defined for the "(Se\w+)" user right([^.\n]*)/i.exec(text);
  const found = [only, none, include].filter((m) => m !== null);
  if (found.length !== 1) return { ok: false, reason: 'the check text does not state the right and its principals in one of the secedit forms' };
  const m = found[0]!;
  const right = m[1]!;
  if (!findUserRight(right)) return { ok: false, reason: `'${right}' is not a user right winstate knows` };
  if (m === none) return { ok: true, requirement: { setting: { kind: 'UserRight', right, principals: [] }, notes: exceptionNotes(text) } };
  const lines = sidLines(text, m.index);
  if (typeof lines === 'string') return { ok: false, reason: lines };
  if (lines.length === 0) return { ok: false, reason: `no SID follows the sentence naming ${right}` };
  const principals = lines.map((l) => l.principal);
  if (new Set(principals).size !== principals.length) return { ok: false, reason: `a principal of ${right} is listed twice` };
  const notes: string[] = [];
  const domainOnly = lines.filter((l) => l.domainOnly).map((l) => l.label ?? l.principal);
  if (domainOnly.length > 0) notes.push(`On domain-joined systems only (the STIG lists them under Domain Systems Only): ${domainOnly.join(', ')}.`);
  const named = (sid: string, label: string | undefined) => (label ? `${label} (${sid})` : sid);
  for (const l of lines.filter((x) => x.alternative)) {
    notes.push(`The STIG accepts ${named(l.alternative!, l.alternativeLabel)} instead of ${named(l.principal, l.label)}; the first one it lists is written here.`);
  }
  if (m === include && /domain-joined/i.test(m[2] ?? '')) {
    // WN16-MS-000390: the list applies to domain-joined systems; on others the right must be empty.
    if (/on nondomain-joined systems, this is a finding/i.test(text)) notes.push('On systems that are not domain-joined the STIG wants this right empty instead.');
    notes.push(`On domain-joined systems only: ${principals.join(', ')}.`);
  }
  notes.push(...exceptionNotes(text));
  return { ok: true, requirement: { setting: m === only ? { kind: 'UserRight', right, principals } : { kind: 'UserRight', right, mustInclude: principals }, notes } };
}

/** Sentences that accept something beyond the setting ("... this would not be a finding"), for the reviewer. */
function exceptionNotes(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /\bnot (?:be )?a finding\b/i.test(l) && !/^If the following|^If any/i.test(l))
    .map((l) => `STIG exception: ${l}`);
}

// --- account policy and security options ---------------------------------------------------------------

type Condition = Record<string, unknown>;

/** The [System Access] keys that Group Policy shows as Security Options (the SecurityPolicy kind); the others are account policy. */
export const SECURITY_POLICY_KEYS: ReadonlySet<string> = new Set(['LSAAnonymousNameLookup', 'EnableAdminAccount', 'EnableGuestAccount', 'NewAdministratorName', 'NewGuestName', 'ForceLogoffWhenHourExpire']);

/** A "this is a finding" predicate on a number, as the value set writes and the condition test accepts. */
function numericFinding(predicate: string, unit: string): { value: number; condition: Condition; text: string } | undefined {
  const p = predicate.replace(/\s+/g, ' ').trim();
  const u = (n: number | string): string => (unit === '' ? '' : ` ${Number(n) === 1 ? unit.replace(/s$/, '') : unit}`);
  let m = /^is less than "(\d+)"(?: \w+)?(?: \(excluding "0"\))?$/i.exec(p);
  if (m) {
    const n = Number(m[1]);
    if (/excluding "0"/i.test(p)) return { value: n, condition: { anyOf: [{ atLeast: n }, { oneOf: [0] }] }, text: `${n}${u(n)} or more, or 0` };
    return { value: n, condition: { atLeast: n }, text: `${n}${u(n)} or more` };
  }
  m = /^is (?:greater|more) than "(\d+)"(?: \w+)?$/i.exec(p);
  if (m) return { value: Number(m[1]), condition: { atMost: Number(m[1]) }, text: `${m[1]}${u(m[1]!)} or less` };
  m = /^(?:equals "0" or is|is "0" or) (?:greater|more) than "(\d+)"(?: \w+)?$/i.exec(p) ?? /^is (?:greater|more) than "(\d+)"(?: \w+)? or equal to "0"$/i.exec(p);
  if (m) return { value: Number(m[1]), condition: { atLeast: 1, atMost: Number(m[1]) }, text: `${m[1]}${u(m[1]!)} or less, but not 0` };
  m = /^(?:equals|is set to) "0"(?: \w+)?$/i.exec(p);
  if (m) return { value: 1, condition: { atLeast: 1 }, text: `1${u(1)} or more` };
  return undefined;
}

function readTemplatePolicy(rule: StigRule): PolicyExtraction {
  const text = rule.checkText.replace(/\s+/g, ' ');
  // The secedit form names the key; Kerberos policy rules only have the policy editor's form, by title.
  let key: string | undefined;
  let predicate: string | undefined;
  const secedit = /If "(\w+)" ((?:is|equals)[^.]*?) in the file, this is a finding/i.exec(text);
  if (secedit) {
    key = secedit[1];
    predicate = secedit[2];
  } else {
    const gui = /If (?:the value for )?(?:the )?"([^"]+)"(?: value)? ((?:is|equals)[^.]*?), this is a finding/i.exec(text);
    if (gui) {
      key = tables().templateKeys.find((k) => k.title !== null && k.title.toLowerCase() === gui[1]!.toLowerCase())?.key;
      if (!key) return { ok: false, reason: `'${gui[1]}' is not a policy of the security template winstate knows` };
      predicate = gui[2];
    }
  }
  if (!key || !predicate) return { ok: false, reason: 'the check text does not state the policy and its value in a form winstate reads' };
  const info = findTemplateKey(key);
  if (!info) return { ok: false, reason: `'${key}' is not a [System Access] or [Kerberos Policy] key winstate knows` };
  const kind = SECURITY_POLICY_KEYS.has(info.key) ? 'SecurityPolicy' : 'AccountPolicy';
  const base = { kind, section: info.section, key: info.key } as const;
  const p = predicate.trim();
  if (info.type === 'boolean') {
    const set = /^is not set to "(Enabled|Disabled)"$/i.exec(p);
    const equals = /^equals "([01])"$/i.exec(p);
    const value = set ? (set[1]!.toLowerCase() === 'enabled' ? 1 : 0) : equals ? 1 - Number(equals[1]) : undefined;
    if (value === undefined) return { ok: false, reason: `cannot read '${p}' as a requirement on ${key}` };
    return { ok: true, requirement: { setting: { ...base, value, text: value === 1 ? 'Enabled' : 'Disabled' }, notes: exceptionNotes(rule.checkText) } };
  }
  if (info.type === 'string') {
    const other = /^is not (?:something|set to a value) other than "([^"]+)"$/i.exec(p);
    if (!other) return { ok: false, reason: `cannot read '${p}' as a requirement on ${key}` };
    return { ok: true, requirement: { setting: { ...base, condition: { not: [other[1]!] }, text: `any name other than ${other[1]}` }, notes: ['The name is the organisation\'s choice: test checks it differs; set needs a value given in the document.'] } };
  }
  const numeric = numericFinding(p, info.unit ?? '');
  if (!numeric) return { ok: false, reason: `cannot read '${p}' as a requirement on ${key}` };
  if (info.min !== null && info.min !== undefined && numeric.value < info.min) return { ok: false, reason: `${numeric.value} is below the range of ${key}` };
  if (info.max !== null && info.max !== undefined && numeric.value > info.max) return { ok: false, reason: `${numeric.value} is above the range of ${key}` };
  return { ok: true, requirement: { setting: { ...base, value: numeric.value, condition: numeric.condition, text: numeric.text }, notes: exceptionNotes(rule.checkText) } };
}

// --- audit policy ---------------------------------------------------------------------------------------

function readAuditPolicy(rule: StigRule): PolicyExtraction {
  const lines = [...rule.checkText.matchAll(/^\s*([A-Za-z/ ]+?) >> (.+?) - (Success|Failure)\s*$/gm)];
  if (lines.length !== 1) return { ok: false, reason: `the check text names ${lines.length} audit settings where one was expected` };
  const [, category, name, direction] = lines[0]!;
  const sub = findAuditSubcategory(name!.trim());
  if (!sub) return { ok: false, reason: `'${name}' is not an advanced audit subcategory winstate knows` };
  if (sub.category.toLowerCase() !== category!.trim().toLowerCase()) return { ok: false, reason: `'${name}' is in category ${sub.category}, not ${category}` };
  const setting: PolicySetting = { kind: 'AuditPolicy', guid: sub.guid, subcategory: sub.name, ...(direction === 'Success' ? { success: 'enabled' as const } : { failure: 'enabled' as const }) };
  const notes = rule.checkText
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /would not be a finding/i.test(l))
    .map((l) => `STIG exception: ${l}`);
  return { ok: true, requirement: { setting, notes } };
}

/** The non-registry setting a rule of the given category requires, or why it cannot be read exactly. */
export function extractPolicyRequirement(rule: StigRule, category: 'user-right' | 'audit-policy' | 'account-policy' | 'security-policy'): PolicyExtraction {
  switch (category) {
    case 'user-right':
      return readUserRight(rule);
    case 'audit-policy':
      return readAuditPolicy(rule);
    case 'account-policy':
    case 'security-policy':
      return readTemplatePolicy(rule);
  }
}
