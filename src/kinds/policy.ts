import type { CatalogEntry } from '../catalog/catalog.js';
import type { ResourceKind, ResolveContext, ResolvedResource } from './kind.js';
import { conditionSchema } from './condition.js';
import { entryKind, unitOf } from './index.js';

/**
 * A catalog setting named as Group Policy shows it (or by catalog id or STIG id), with a value
 * in the setting's own terms. The entry's kind (its `registry` or `storage` block) resolves the value.
 */
function catalogKind(type: string, kinds: CatalogEntry['kind'][] | undefined, description: string): ResourceKind {
  return {
    type,
    description,
    overrideKeys: ['value', 'condition', 'absentOk'],
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
          description:
            "One of the setting's choices (e.g. Enabled), `recommended` for the catalog's hardened value, or the data itself: a number, a text, a list of texts (MultiString), a list of principals (user rights), or Success, Failure, Success and Failure, No Auditing (audit subcategories).",
        },
        condition: { ...conditionSchema, description: 'What test accepts besides the value itself, e.g. { atMost: 4 }; the value is what set writes when the current one fails. Not with `recommended`, which brings the catalog\'s own condition.' },
        absentOk: { type: 'boolean', description: 'Test also accepts the value being absent (registry settings). Not with `recommended`.' },
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
      // A shipped policy file is set whole by its own resource type, not as one value.
      const policyFile = entry ? undefined : ctx.catalog.findPolicy(name);
      if (policyFile) {
        ctx.error([by], 'unknown-policy', `"${name}" is the catalog's ${policyFile.kind} policy file ${policyFile.id}, set as a whole: use type: ${policyFile.kind} with policyFile: catalog:${policyFile.file}`);
        return undefined;
      }
      if (!entry || (kinds && !kinds.includes(entry.kind))) {
        const hints = ctx.catalog.suggest(name, 3, kinds);
        const hint = hints.length ? `; did you mean ${hints.map((h) => `"${h}"`).join(' or ')}?` : '';
        const other = entry ? `; "${entry.title}" is ${entry.kind === 'AdministrativeTemplate' ? 'an' : 'a'} ${entry.kind} setting: use type: Policy` : hint;
        ctx.error([by], 'unknown-policy', `unknown policy "${name}"${other}`);
        return undefined;
      }
      return resolveEntryValue(entry, props, ctx);
    },
  };
}

/** A catalog entry with a document's value, resolved by the entry's kind. */
export function resolveEntryValue(entry: CatalogEntry, props: Record<string, unknown>, ctx: ResolveContext): ResolvedResource | undefined {
  const recommended = typeof props.value === 'string' && props.value.trim().toLowerCase() === 'recommended';
  const own = recommended ? (['condition', 'absentOk'] as const).find((k) => k in props) : undefined;
  if (own) {
    ctx.error([own], 'invalid-value', `${own} does not go with value: recommended, which brings the catalog's own condition; give the value itself`);
    return undefined;
  }
  const unit = unitOf(entryKind(entry));
  if (!unit.resolveEntry) throw new Error(`kind ${unit.kind} has no catalog entries`);
  return unit.resolveEntry(entry, props, ctx);
}

/** What the catalog recommends for an entry, resolved as a document's `value: recommended` would be. */
export function recommendedResource(entry: CatalogEntry, catalog: ResolveContext['catalog']): ResolvedResource | undefined {
  if (entry.recommended === undefined) return undefined;
  return resolveEntryValue(entry, { value: 'recommended' }, {
    catalog,
    error: (_path, _code, message) => {
      throw new Error(`catalog entry ${entry.id}: recommended value: ${message}`);
    },
  });
}

export const securityOptionKind = catalogKind(
  'SecurityOption',
  ['SecurityOption'],
  "A security option (Local Policies\\Security Options) by its Group Policy name, catalog id or STIG id, and a value in the policy's own terms.",
);

export const policyKind = catalogKind(
  'Policy',
  undefined,
  "Any catalog setting (Security Options, Administrative Templates, MSS, user rights, account, security and audit policy) by its Group Policy name, catalog id or STIG id, and a value in the setting's own terms.",
);
