import { recommendedText, type CatalogEntry } from '../catalog/catalog.js';
import type { ResourceKind, ResolveContext, ResolvedResource } from './kind.js';
import { parseKeyPath, type RegistryDesired } from './registry-model.js';
import { normaliseData } from './registry-data.js';
import { conditionSchema, meetsCondition, parseCondition } from './condition.js';
import { addCondition } from './registry.js';

/**
 * A catalog setting named as Group Policy shows it (or by catalog id or STIG id), with a value
 * in the setting's own terms: one of its choices, `recommended`, or plain data for settings that
 * take a number or text.
 */
function catalogKind(type: string, kinds: CatalogEntry['kind'][] | undefined, description: string): ResourceKind {
  return {
    type,
    description,
    propertiesSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['value'],
      properties: {
        policy: { type: 'string', minLength: 1, description: 'The exact Group Policy name, e.g. "Microsoft network client: Digitally sign communications (if server agrees)".' },
        id: { type: 'string', minLength: 1, description: 'A catalog id, STIG id or CIS number instead of the policy name.' },
        stig: { type: 'string', pattern: '^([Vv]-\\d+|[Ss][Vv]-\\d+([Rr]\\d+_[Rr][Uu][Ll][Ee])?|[Ww][Nn]16-[A-Za-z0-9]{2}-\\d{6})$', description: 'A DISA STIG id (V-73655, SV-88319, WN16-SO-000200) instead of the policy name.' },
        value: {
          type: ['string', 'integer', 'array'],
          items: { type: 'string' },
          description: "One of the setting's choices (e.g. Enabled), `recommended` for the catalog's hardened value, or the data itself for settings that take a number, a text or (MultiString) a list of texts.",
        },
        condition: { ...conditionSchema, description: 'What test accepts besides the value itself, e.g. { atMost: 4 }; the value is what set writes when the current one fails. Not with `recommended`, which brings the catalog\'s own condition.' },
        absentOk: { type: 'boolean', description: 'Test also accepts the value being absent. Not with `recommended`.' },
      },
    },
    resolve(props, ctx) {
      const given = (['policy', 'id', 'stig'] as const).filter((k) => k in props);
      if (given.length !== 1) {
        ctx.error([], 'invalid-value', 'give exactly one of policy, id or stig');
        return undefined;
      }
      const by = given[0]!;
      // A STIG rule id may carry its revision (SV-88319r1_rule); entries cite the rule without it.
      const name = by === 'stig' ? (props[by] as string).replace(/r\d+_rule$/i, '') : (props[by] as string);
      const all = ctx.catalog.findAll(name);
      if (all.length > 1) {
        ctx.error([by], 'invalid-value', `${name} covers ${all.length} settings (${all.map((e) => e.id).join(', ')}): name each by its id or policy`);
        return undefined;
      }
      const found = all[0];
      // stig: names a rule, so only an entry that cites it will do.
      const entry = by === 'stig' && !found?.references.stig?.some((id) => id.toLowerCase() === name.toLowerCase()) ? undefined : found;
      if (by === 'stig' && !entry) {
        ctx.error([by], 'unknown-policy', `no catalog entry implements STIG rule ${name}`);
        return undefined;
      }
      if (!entry || (kinds && !kinds.includes(entry.kind))) {
        const hints = ctx.catalog.suggest(name, 3, kinds);
        const hint = hints.length ? `; did you mean ${hints.map((h) => `"${h}"`).join(' or ')}?` : '';
        const other = entry ? `; "${entry.title}" is ${entry.kind === 'AdministrativeTemplate' ? 'an' : 'a'} ${entry.kind} setting: use type: Policy` : hint;
        ctx.error([by], 'unknown-policy', `unknown policy "${name}"${other}`);
        return undefined;
      }
      // Settings that are not registry values resolve through their own kinds (src/kinds/CONTRACT.md).
      if (!entry.registry) {
        ctx.error([by], 'unknown-policy', `"${entry.title}" is not a registry value (${entry.kind}); its kind is not available in this build`);
        return undefined;
      }
      return resolveValue(entry, props, ctx);
    },
  };
}

function resolveValue(entry: CatalogEntry, props: Record<string, unknown>, ctx: ResolveContext): ResolvedResource | undefined {
  const value = props.value;
  const registry = entry.registry!;
  const target = parseKeyPath(registry.key);
  if (typeof target === 'string') throw new Error(`catalog entry ${entry.id}: ${target}`);
  target.valueName = registry.valueName;
  const type = registry.valueType;
  const choices = entry.choices ?? [];
  const policyOf = (label: string) => ({ title: entry.title, value: label, choices: choices.map((c) => ({ name: c.name, data: c.data })) });
  const wanted = typeof value === 'string' ? value.trim().toLowerCase() : undefined;

  if (wanted === 'recommended') {
    const own = 'condition' in props ? 'condition' : 'absentOk' in props ? 'absentOk' : undefined;
    if (own) {
      ctx.error([own], 'invalid-value', `${own} does not go with value: recommended, which brings the catalog's own condition; give the value itself`);
      return undefined;
    }
    const recommended = entry.recommended;
    if (recommended === undefined) {
      ctx.error(['value'], 'invalid-value', `"${entry.title}" has no recommended value in the catalog`);
      return undefined;
    }
    if (typeof recommended === 'string') return resolveValue(entry, { value: recommended }, ctx);
    return { target, desired: recommendedDesired(entry)!, policy: policyOf(recommendedText(entry) ?? 'recommended'), entry };
  }
  const choice = wanted === undefined ? undefined : choices.find((c) => c.name.toLowerCase() === wanted);
  if (choice) {
    const desired: RegistryDesired = { ensure: 'Present', valueType: type, valueData: choice.data };
    return addCondition(desired, props, ['value'], ctx) ? { target, desired, policy: policyOf(choice.name), entry } : undefined;
  }
  if (choices.length > 0) {
    ctx.error(['value'], 'invalid-value', `"${String(value)}" is not a value of "${entry.title}": use ${choices.map((c) => c.name).join(' or ')}${entry.recommended !== undefined ? ' or recommended' : ''}`);
    return undefined;
  }
  // No named choices: the data itself (a number of seconds, a text), checked like a Registry value.
  const data = normaliseData(type, typeof value === 'number' ? BigInt(value) : value);
  if (!data.ok) {
    ctx.error(['value'], data.outOfRange ? 'out-of-range' : 'invalid-value', `"${entry.title}": ${data.message}`);
    return undefined;
  }
  const desired: RegistryDesired = { ensure: 'Present', valueType: type, valueData: data.data };
  return addCondition(desired, props, ['value'], ctx) ? { target, desired, policy: policyOf(Array.isArray(value) ? value.join(', ') : String(value)), entry } : undefined;
}

/** The desired state of an entry's recommendation (undefined when it has none). */
export function recommendedDesired(entry: CatalogEntry): RegistryDesired | undefined {
  const recommended = entry.recommended;
  if (recommended === undefined || !entry.registry || (typeof recommended === 'object' && !('valueData' in recommended))) return undefined;
  const type = entry.registry.valueType;
  if (typeof recommended === 'string') {
    const choice = entry.choices?.find((c) => c.name === recommended);
    if (!choice) throw new Error(`catalog entry ${entry.id}: recommended choice ${recommended} does not exist`);
    return { ensure: 'Present', valueType: type, valueData: choice.data };
  }
  const desired: RegistryDesired = { ensure: 'Present', valueType: type, valueData: recommended.valueData };
  if (recommended.condition) {
    const parsed = parseCondition(recommended.condition, type);
    if (!parsed.ok || !meetsCondition(parsed.condition, type, recommended.valueData)) throw new Error(`catalog entry ${entry.id}: recommended condition is invalid`);
    desired.condition = parsed.condition;
  }
  if (recommended.absentOk) desired.absentOk = true;
  return desired;
}

export const securityOptionKind = catalogKind(
  'SecurityOption',
  ['SecurityOption'],
  "A security option (Local Policies\\Security Options) by its Group Policy name, catalog id or STIG id, and a value in the policy's own terms.",
);

export const policyKind = catalogKind(
  'Policy',
  undefined,
  "Any catalog setting (Security Options, Administrative Templates, MSS) by its Group Policy name, catalog id or STIG id, and a value in the setting's own terms.",
);
