/**
 * What the AccountPolicy and SecurityPolicy kinds share: a key of a security template's
 * [System Access] or [Kerberos Policy] section with an integer, boolean (0/1) or text value.
 */
import type { CatalogEntry, RecommendedKindValue } from '../../catalog/catalog.js';
import type { KindBackupEntry, KindName, KindUnit, KindView, PolicyBinding, ResolveContext, ResolvedResource, ResourceKind, RollbackResource } from '../kind.js';
import { conditionSchema, conditionView, meetsCondition, parseCondition, psCondition, type Condition } from '../condition.js';
import { closestWord } from '../../suggest.js';
import { tables, type TemplateKey } from '../tables.js';

export interface TemplateSpec {
  section: TemplateKey['section'];
  key: string;
  valueKind: TemplateKey['type'];
  ensure: 'Present' | 'Absent';
  /** What set writes; absent for a text setting judged by its condition only. */
  value?: bigint | string;
  condition?: Condition;
}

const BOOLEAN_CHOICES = [
  { name: 'Enabled', data: 1 },
  { name: 'Disabled', data: 0 },
];

/** The template keys of one kind. */
export function keysOf(kind: 'AccountPolicy' | 'SecurityPolicy'): TemplateKey[] {
  return tables().templateKeys.filter((k) => (SECURITY_POLICY_KEYS.has(k.key) ? 'SecurityPolicy' : 'AccountPolicy') === kind);
}

/** The [System Access] options that are Security Options rather than account policies. */
export const SECURITY_POLICY_KEYS = new Set(['LSAAnonymousNameLookup', 'EnableAdminAccount', 'EnableGuestAccount', 'NewAdministratorName', 'NewGuestName', 'ForceLogoffWhenHourExpire']);

function templateResource(kind: KindName, spec: TemplateSpec, extra: Pick<ResolvedResource, 'policy' | 'entry'> = {}): ResolvedResource<TemplateSpec> {
  return { kind, identity: `securitytemplate:${spec.section}:${spec.key}`.toLowerCase(), target: `${spec.section}: ${spec.key}`, spec, ...extra };
}

/** A value as the document gave it, checked against the key: the template's value, and the policy's words for it. */
function templateValue(k: TemplateKey, value: unknown, choices: { name: string; data: number | string }[], title: string): { ok: true; value: bigint | string; label: string } | { ok: false; message: string; outOfRange?: boolean } {
  if (k.type === 'boolean') {
    const text = String(typeof value === 'bigint' ? Number(value) : value).trim().toLowerCase();
    const named = choices.find((c) => c.name.toLowerCase() === text);
    if (named) return { ok: true, value: BigInt(named.data), label: named.name };
    const bit = ['1', 'true'].includes(text) ? 1n : ['0', 'false'].includes(text) ? 0n : undefined;
    if (bit === undefined) return { ok: false, message: `"${title}" is Enabled or Disabled (or 1/0, true/false), not ${JSON.stringify(typeof value === 'bigint' ? Number(value) : value)}` };
    return { ok: true, value: bit, label: choices.find((c) => BigInt(c.data) === bit)?.name ?? String(bit) };
  }
  if (k.type === 'integer') {
    const n = typeof value === 'bigint' ? value : typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : typeof value === 'string' && /^-?[0-9]+$/.test(value.trim()) ? BigInt(value.trim()) : undefined;
    if (n === undefined) return { ok: false, message: `"${title}" takes a whole number${k.unit ? ` of ${k.unit}` : ''}, not ${JSON.stringify(value)}` };
    if ((k.min !== undefined && n < BigInt(k.min)) || (k.max !== undefined && n > BigInt(k.max))) {
      return { ok: false, outOfRange: true, message: `${n} is outside the range of "${title}": ${k.min}..${k.max}${k.unit ? ` ${k.unit}` : ''}` };
    }
    return { ok: true, value: n, label: String(n) };
  }
  if (typeof value !== 'string') return { ok: false, message: `"${title}" takes text, not ${JSON.stringify(typeof value === 'bigint' ? Number(value) : value)}` };
  // secedit writes text in double quotes and has no escape for them.
  if (/["\x00-\x1f\x7f]/.test(value)) return { ok: false, message: `"${title}": a template text cannot hold a double quote or a control character` };
  if (value.trim() === '') return { ok: false, message: `"${title}": the text is empty` };
  return { ok: true, value, label: value };
}

/**
 * Resolves a key and its value, condition and ensure: shared by the kind's own document type and
 * catalog entries (which bring their title and choices).
 */
function resolveTemplate(kind: KindName, k: TemplateKey, props: Record<string, unknown>, ctx: ResolveContext, from: { title: string; choices?: { name: string; data: number | string }[]; entry?: CatalogEntry; label?: string }): ResolvedResource<TemplateSpec> | undefined {
  const ensure = (props.ensure as TemplateSpec['ensure'] | undefined) ?? 'Present';
  const spec: TemplateSpec = { section: k.section, key: k.key, valueKind: k.type, ensure };
  const choices = from.choices ?? (k.type === 'boolean' ? BOOLEAN_CHOICES : []);
  const policy = (label: string): PolicyBinding => ({ title: from.title, value: from.label ?? label, choices: choices.map((c) => ({ name: c.name, data: Number(c.data) })) });
  if (ensure === 'Absent') {
    const extra = (['value', 'condition'] as const).find((p) => p in props);
    if (extra) {
      ctx.error([extra], 'invalid-value', `ensure: Absent takes no ${extra}`);
      return undefined;
    }
    return templateResource(kind, spec, { entry: from.entry });
  }
  let label: string | undefined;
  if ('value' in props) {
    const v = templateValue(k, props.value, choices, from.title);
    if (!v.ok) {
      ctx.error(['value'], v.outOfRange ? 'out-of-range' : 'invalid-value', v.message);
      return undefined;
    }
    spec.value = v.value;
    label = v.label;
  }
  if ('condition' in props) {
    const parsed = parseCondition(props.condition as Record<string, unknown>, k.type);
    if (!parsed.ok) {
      ctx.error(['condition', ...parsed.path], 'invalid-value', parsed.message);
      return undefined;
    }
    if (spec.value !== undefined && !meetsCondition(parsed.condition, k.type, spec.value)) {
      ctx.error(['value'], 'invalid-value', `value ${JSON.stringify(String(spec.value))} does not meet the condition, so set would write a failing value`);
      return undefined;
    }
    spec.condition = parsed.condition;
  }
  if (spec.value === undefined && !(k.type === 'string' && spec.condition)) {
    ctx.error([], 'invalid-value', k.type === 'string' ? 'give value (what set writes) or a condition' : 'give value');
    return undefined;
  }
  const withPolicy = from.entry !== undefined || k.type === 'boolean';
  return templateResource(kind, spec, { ...(withPolicy ? { policy: policy(label ?? 'any value') } : {}), entry: from.entry });
}

/** A template key by its name or its policy title (ignoring case), or an error with the nearest one. */
function findKey(kind: 'AccountPolicy' | 'SecurityPolicy', given: string, ctx: ResolveContext): TemplateKey | undefined {
  const wanted = given.trim().toLowerCase();
  const keys = keysOf(kind);
  const found = keys.find((k) => k.key.toLowerCase() === wanted || k.title?.toLowerCase() === wanted);
  if (found) return found;
  const other = keysOf(kind === 'AccountPolicy' ? 'SecurityPolicy' : 'AccountPolicy').find((k) => k.key.toLowerCase() === wanted || k.title?.toLowerCase() === wanted);
  const hint = closestWord(given.trim(), keys.flatMap((k) => [k.key, ...(k.title ? [k.title] : [])]));
  ctx.error(['policy'], 'invalid-value', `unknown ${kind === 'AccountPolicy' ? 'account policy' : 'security policy'} '${given}'${other ? `; ${other.key} is a ${kind === 'AccountPolicy' ? 'SecurityPolicy' : 'AccountPolicy'} setting` : hint ? `; did you mean '${hint}'?` : ''}`);
  return undefined;
}

/** A template view in words (Format-WsTemplatePolicyStateText gives the same). */
export function templateStateText(view: KindView): string {
  if (view.ensure === 'Absent') return 'not defined';
  const raw = view.value === undefined ? undefined : typeof view.value === 'string' ? JSON.stringify(view.value) : String(view.value);
  if (view.policyValue !== undefined) return view.policyValue === null ? `not a defined choice${raw === undefined ? '' : ` (${raw})`}` : String(view.policyValue);
  return raw ?? 'any value';
}

const wire = (v: bigint | string) => (typeof v === 'bigint' ? Number(v) : v);

export function templateUnit(kind: 'AccountPolicy' | 'SecurityPolicy', description: string): KindUnit<TemplateSpec> {
  const documentType: ResourceKind = {
    type: kind,
    description,
    overrideKeys: ['value', 'condition'],
    keptUnderOverride(properties, override) {
      const kept = { ...properties };
      // A new value may not meet the old condition: it replaces the condition unless one is given.
      if ('value' in override && !('condition' in override)) delete kept.condition;
      return kept;
    },
    propertiesSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['policy'],
      properties: {
        policy: { type: 'string', minLength: 1, description: `The template key (${keysOf(kind).slice(0, 3).map((k) => k.key).join(', ')}, ...) or its policy title.` },
        value: { type: ['integer', 'string', 'boolean'], description: 'Numbers: an integer in the key\'s range. Booleans: Enabled or Disabled (or 1/0, true/false). Names: a text.' },
        condition: { ...conditionSchema, description: 'What test accepts besides the value itself, e.g. { anyOf: [{ atLeast: 15 }, { oneOf: [0] }] }; text compares ignoring case.' },
        ensure: { enum: ['Present', 'Absent'], default: 'Present', description: 'Absent: the key is not defined in the template (offline only).' },
      },
    },
    resolve(props, ctx) {
      const k = findKey(kind, props.policy as string, ctx);
      return k ? resolveTemplate(kind, k, props, ctx, { title: k.title ?? k.key }) : undefined;
    },
  };
  return {
    kind,
    store: 'SecurityTemplate',
    documentTypes: [documentType],
    resolveEntry(entry, props, ctx) {
      const storage = entry.storage as { section: TemplateKey['section']; key: string };
      const k = tables().templateKeys.find((t) => t.section === storage.section && t.key === storage.key);
      if (!k) throw new Error(`catalog entry ${entry.id}: ${storage.section} ${storage.key} is not a template key`);
      const choices = entry.choices?.map((c) => ({ name: c.name, data: c.data as number }));
      const value = props.value;
      if (typeof value === 'string' && value.trim().toLowerCase() === 'recommended') {
        const r = entry.recommended as string | RecommendedKindValue | undefined;
        if (r === undefined) {
          ctx.error(['value'], 'invalid-value', `"${entry.title}" has no recommended value in the catalog`);
          return undefined;
        }
        const own = typeof r === 'string' ? { value: r } : { ...(r.value !== undefined ? { value: r.value } : {}), ...(r.condition ? { condition: r.condition } : {}) };
        return resolveTemplate(kind, k, own, ctx, { title: entry.title, choices, entry, label: typeof r === 'string' ? r : r.text });
      }
      return resolveTemplate(kind, k, props, ctx, { title: entry.title, choices, entry });
    },
    sameDesired: (a, b) => JSON.stringify(documentView(a)) === JSON.stringify(documentView(b)),
    wantsPresent: (spec) => spec.ensure === 'Present',
    row(r) {
      return { Section: r.spec.section, Key: r.spec.key, ValueKind: r.spec.valueKind, ...this.desiredColumns(r.spec, r.policy) };
    },
    desiredColumns(spec, policy) {
      const fields: Record<string, unknown> = { Ensure: spec.ensure, Value: spec.value === undefined ? null : wire(spec.value) };
      if (spec.condition) {
        fields.Condition = psCondition(spec.condition, spec.valueKind);
        fields.ConditionView = conditionView(spec.condition);
      }
      if (policy) fields.Policy = { Title: policy.title, Value: policy.value, Choices: policy.choices.map((c) => ({ Name: c.name, Data: c.data })) };
      return fields;
    },
    commentLines(r) {
      const s = r.spec;
      const what = s.ensure === 'Absent' ? ' must not be defined' : `${s.value === undefined ? ' (no value to write)' : ` = ${JSON.stringify(wire(s.value))}`}${s.condition ? `; accepts ${JSON.stringify(conditionView(s.condition))}` : ''}`;
      return [`Template:   [${s.section}] ${s.key}${what}`];
    },
    desiredView(spec, policy) {
      if (spec.ensure === 'Absent') return { ensure: 'Absent' };
      const view: KindView = {};
      if (spec.value !== undefined) view.value = wire(spec.value);
      if (spec.condition) view.condition = conditionView(spec.condition);
      if (policy) view.policyValue = policy.value;
      return view;
    },
    area: (target) => (target.startsWith('Kerberos') ? 'Kerberos Policy' : kind === 'AccountPolicy' ? 'Account Policies' : 'Security Options'),
    stateText: templateStateText,
    rollbackResources(entries: KindBackupEntry[]) {
      const resources: RollbackResource[] = [];
      const unsupported: string[] = [];
      for (const e of entries) {
        const k = tables().templateKeys.find((t) => t.section === e.section && t.key === e.key);
        const raw = e.value as string | null;
        if (!k) {
          unsupported.push(`${e.target}: [${String(e.section)}] ${String(e.key)} is not a key winstate knows`);
          continue;
        }
        if (raw === null) {
          if (e.live) unsupported.push(`${e.target}: was not defined before, and a live policy cannot be undefined`);
          else resources.push({ name: `remove ${e.target} again`, type: kind, properties: { policy: k.key, ensure: 'Absent' }, restores: e.resource });
          continue;
        }
        const text = raw.trim();
        const value = k.type === 'string' ? text.replace(/^"(.*)"$/, '$1') : /^-?[0-9]+$/.test(text) ? BigInt(text) : undefined;
        if (value === undefined) {
          unsupported.push(`${e.target}: the prior value '${raw}' is not a number`);
          continue;
        }
        resources.push({ name: `restore ${e.target}`, type: kind, properties: { policy: k.key, value }, restores: e.resource });
      }
      return { resources, unsupported };
    },
  };
}

function documentView(spec: TemplateSpec): unknown {
  return { ensure: spec.ensure, value: spec.value === undefined ? null : String(spec.value), condition: spec.condition ? conditionView(spec.condition) : null };
}
