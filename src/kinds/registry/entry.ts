import type { CatalogEntry } from '../../catalog/catalog.js';
import type { ResolveContext, ResolvedResource } from '../kind.js';
import { parseKeyPath, type RegistryDesired, type RegistryTarget } from './model.js';
import { normaliseData } from './data.js';
import { meetsCondition, parseCondition } from '../condition.js';
import { addCondition, registryResource, type RegistrySpec } from './kind.js';

/** The registry location of a catalog entry with a `registry` block. */
export function entryTarget(entry: CatalogEntry): RegistryTarget {
  const registry = entry.registry!;
  const target = parseKeyPath(registry.key);
  if (typeof target === 'string') throw new Error(`catalog entry ${entry.id}: ${target}`);
  target.valueName = registry.valueName;
  return target;
}

/**
 * A registry catalog entry with a document's value: one of its choices, `recommended`, or plain
 * data for settings that take a number or text.
 */
export function resolveRegistryEntry(entry: CatalogEntry, props: Record<string, unknown>, ctx: ResolveContext): ResolvedResource<RegistrySpec> | undefined {
  const value = props.value;
  const target = entryTarget(entry);
  const type = entry.registry!.valueType;
  const choices = entry.choices ?? [];
  const policyOf = (label: string) => ({ title: entry.title, value: label, choices: choices.map((c) => ({ name: c.name, data: c.data })) });
  const wanted = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  const resolved = (desired: RegistryDesired, label: string) => registryResource(target, desired, { policy: policyOf(label), entry });

  if (wanted === 'recommended') {
    const recommended = entry.recommended;
    if (recommended === undefined) {
      ctx.error(['value'], 'invalid-value', `"${entry.title}" has no recommended value in the catalog`);
      return undefined;
    }
    if (typeof recommended === 'string') return resolveRegistryEntry(entry, { value: recommended }, ctx);
    return resolved(recommendedDesired(entry)!, recommended.text ?? 'recommended');
  }
  const choice = wanted === undefined ? undefined : choices.find((c) => c.name.toLowerCase() === wanted);
  if (choice) {
    const desired: RegistryDesired = { ensure: 'Present', valueType: type, valueData: choice.data };
    return addCondition(desired, props, ['value'], ctx) ? resolved(desired, choice.name) : undefined;
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
  return addCondition(desired, props, ['value'], ctx) ? resolved(desired, Array.isArray(value) ? value.join(', ') : String(value)) : undefined;
}

/** The desired state of a registry entry's recommendation (undefined when it has none). */
export function recommendedDesired(entry: CatalogEntry): RegistryDesired | undefined {
  const recommended = entry.recommended;
  const type = entry.registry!.valueType;
  if (recommended === undefined) return undefined;
  if (typeof recommended === 'string') {
    const choice = entry.choices?.find((c) => c.name === recommended);
    if (!choice) throw new Error(`catalog entry ${entry.id}: recommended choice ${recommended} does not exist`);
    return { ensure: 'Present', valueType: type, valueData: choice.data };
  }
  if (recommended.valueData === undefined) throw new Error(`catalog entry ${entry.id}: a registry recommendation needs valueData`);
  const desired: RegistryDesired = { ensure: 'Present', valueType: type, valueData: recommended.valueData };
  if (recommended.condition) {
    const parsed = parseCondition(recommended.condition, type);
    if (!parsed.ok || !meetsCondition(parsed.condition, type, recommended.valueData)) throw new Error(`catalog entry ${entry.id}: recommended condition is invalid`);
    desired.condition = parsed.condition;
  }
  if (recommended.absentOk) desired.absentOk = true;
  return desired;
}
