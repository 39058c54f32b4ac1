import type { ResourceKind } from './kind.js';
import { parseKeyPath } from './registry-model.js';

/** A Group Policy security option, named as the policy editor shows it and resolved through the catalog. */
export const securityOptionKind: ResourceKind = {
  type: 'SecurityOption',
  description: 'A security policy by its Group Policy name (or catalog id) and a value in the policy\'s own terms.',
  propertiesSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['value'],
    properties: {
      policy: { type: 'string', minLength: 1, description: 'The exact Group Policy name, e.g. "Microsoft network client: Digitally sign communications (if server agrees)".' },
      id: { type: 'string', minLength: 1, description: 'A catalog id or STIG id instead of the policy name.' },
      value: { type: 'string', minLength: 1, description: 'One of the policy\'s choices, e.g. Enabled or Disabled.' },
    },
  },
  resolve(props, ctx) {
    const by = 'policy' in props ? 'policy' : 'id';
    if ('policy' in props === 'id' in props) {
      ctx.error([], 'invalid-value', 'give exactly one of policy or id');
      return undefined;
    }
    const name = props[by] as string;
    const entry = ctx.catalog.find(name);
    if (!entry) {
      const hints = ctx.catalog.suggest(name);
      const hint = hints.length ? `; did you mean ${hints.map((h) => `"${h}"`).join(' or ')}?` : '';
      ctx.error([by], 'unknown-policy', `unknown policy "${name}"${hint}`);
      return undefined;
    }
    const wanted = (props.value as string).trim().toLowerCase();
    const choice = entry.choices.find((c) => c.name.toLowerCase() === wanted);
    if (!choice) {
      ctx.error(['value'], 'invalid-value', `"${props.value}" is not a value of "${entry.title}": use ${entry.choices.map((c) => c.name).join(' or ')}`);
      return undefined;
    }
    const target = parseKeyPath(entry.registry.key);
    if (typeof target === 'string') throw new Error(`catalog entry ${entry.id}: ${target}`);
    target.valueName = entry.registry.valueName;
    return {
      target,
      desired: { ensure: 'Present', valueType: entry.registry.valueType, valueData: choice.data },
      policy: { title: entry.title, value: choice.name, choices: entry.choices.map((c) => ({ name: c.name, data: c.data })) },
      entry,
    };
  },
};
