import type { KindUnit, KindView, PolicyBinding, ResolveContext, ResolvedResource, ResourceKind } from '../kind.js';
import { parseKeyPath, sameDesired, targetIdentity, targetText, VALUE_TYPES, type RegistryDesired, type RegistryTarget, type ValueType, type WireData } from './model.js';
import { normaliseData, textProblem } from './data.js';
import { conditionSchema, conditionView, meetsCondition, numberTests, parseCondition, psCondition } from '../condition.js';
import { PsTyped } from '../../compile/quote.js';
import { registryRollback } from './rollback.js';
import { resolveRegistryEntry } from './entry.js';

/** A Registry resource's resolved form. */
export interface RegistrySpec {
  target: RegistryTarget;
  desired: RegistryDesired;
}

/** A resolved registry setting, from its target and desired state. */
export function registryResource(target: RegistryTarget, desired: RegistryDesired, extra: Pick<ResolvedResource, 'policy' | 'entry'> = {}): ResolvedResource<RegistrySpec> {
  return { kind: 'Registry', identity: targetIdentity(target), target: targetText(target), spec: { target, desired }, ...extra };
}

/** The registry spec of a resolved resource, or undefined for another kind. */
export function registrySpec(r: Pick<ResolvedResource, 'kind' | 'spec'> | undefined): RegistrySpec | undefined {
  return r?.kind === 'Registry' ? (r.spec as RegistrySpec) : undefined;
}

/** A raw registry value (or key), as DSC's Registry resource describes it. */
export const registryKind: ResourceKind = {
  type: 'Registry',
  description: 'A registry value (or, without valueName, a key) with its exact type and data.',
  overrideKeys: ['valueData', 'condition', 'absentOk'],
  propertiesSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['key'],
    properties: {
      key: {
        type: 'string',
        minLength: 1,
        description: 'Key path with its root: HKLM, HKCU, HKU, HKCR, HKCC or the HKEY_ names, e.g. HKLM\\SOFTWARE\\Policies\\X.',
      },
      valueName: { type: 'string', description: "Value name; '' is the key's default value. Omit to manage the key itself." },
      valueType: { enum: [...VALUE_TYPES], description: 'Registry value type; a value of another type is drift.' },
      valueData: {
        type: ['string', 'integer', 'array'],
        description: 'String/ExpandString: text. DWord 0..4294967295, QWord 0..18446744073709551615: integer. MultiString: list of text. Binary: hex text or a list of bytes.',
      },
      ensure: { enum: ['Present', 'Absent'], default: 'Present', description: 'Absent removes the value (or the whole key when valueName is omitted).' },
      condition: conditionSchema,
      absentOk: { type: 'boolean', description: 'Test also accepts the value being absent (set still writes valueData when the value is present and fails).' },
      typeCode: {
        type: 'integer',
        minimum: 0,
        maximum: 4294967295,
        description: 'Raw form, as rollback documents restore a value byte for byte: the registry type code (0 REG_NONE, 1 REG_SZ, 4 REG_DWORD, 6 REG_LINK, 8 resource list...) of valueData, given with valueType: Binary as the exact bytes.',
      },
      onlyIfEmpty: { type: 'boolean', description: 'With ensure: Absent and no valueName: remove the key only while it has no values and no subkeys; a key that holds something is left alone.' },
    },
  },
  resolve(props, ctx) {
    const target = parseKeyPath(props.key as string);
    if (typeof target === 'string') {
      ctx.error(['key'], 'invalid-key-path', target);
      return undefined;
    }
    const ensure = (props.ensure as RegistryDesired['ensure'] | undefined) ?? 'Present';
    const hasName = 'valueName' in props;
    const hasType = 'valueType' in props;
    const hasData = 'valueData' in props;
    const onlyIfEmpty = props.onlyIfEmpty === true;
    if (onlyIfEmpty && (hasName || ensure !== 'Absent')) {
      ctx.error(['onlyIfEmpty'], 'invalid-value', 'onlyIfEmpty goes with ensure: Absent on a key (no valueName)');
      return undefined;
    }
    if (!hasName) {
      if (hasType || hasData) {
        ctx.error([hasType ? 'valueType' : 'valueData'], 'invalid-value', "valueType and valueData need a valueName (use '' for the key's default value)");
        return undefined;
      }
      return registryResource(target, onlyIfEmpty ? { ensure, onlyIfEmpty } : { ensure });
    }
    target.valueName = props.valueName as string;
    const nameProblem = textProblem(target.valueName);
    if (nameProblem) {
      ctx.error(['valueName'], 'invalid-value', nameProblem);
      return undefined;
    }
    if (ensure === 'Absent') {
      if (hasType || hasData || 'condition' in props || 'absentOk' in props || 'typeCode' in props) {
        ctx.error([hasType ? 'valueType' : hasData ? 'valueData' : 'condition' in props ? 'condition' : 'absentOk'], 'invalid-value', 'ensure: Absent takes no valueType, valueData, condition or absentOk');
        return undefined;
      }
      return registryResource(target, { ensure });
    }
    if (!hasType || !hasData) {
      ctx.error([], 'invalid-value', `a present value needs ${hasType ? 'valueData' : 'valueType'}`);
      return undefined;
    }
    const valueType = props.valueType as ValueType;
    const data = normaliseData(valueType, props.valueData);
    if (!data.ok) {
      ctx.error(data.item === undefined ? ['valueData'] : ['valueData', data.item], data.outOfRange ? 'out-of-range' : 'invalid-value', data.message);
      return undefined;
    }
    const desired: RegistryDesired = { ensure, valueType, valueData: data.data };
    if ('typeCode' in props) {
      if (valueType !== 'Binary' || 'condition' in props || 'absentOk' in props) {
        ctx.error(['typeCode'], 'invalid-value', 'typeCode (the raw form) goes with valueType: Binary and takes no condition or absentOk');
        return undefined;
      }
      desired.typeCode = Number(props.typeCode);
      return registryResource(target, desired);
    }
    if (!addCondition(desired, props, ['valueData'], ctx)) return undefined;
    return registryResource(target, desired);
  },
};

/**
 * Adds a document's `condition` and `absentOk` to a present value's desired state. The data that set
 * writes when a value fails must itself comply, or set could never converge; text the runtime reads as
 * a number must be plain digits (nothing for a trim to decide). Returns false after reporting an error.
 */
export function addCondition(desired: RegistryDesired, props: Record<string, unknown>, dataPath: string[], ctx: ResolveContext): boolean {
  const valueType = desired.valueType!;
  if ('condition' in props) {
    const parsed = parseCondition(props.condition as Record<string, unknown>, valueType);
    if (!parsed.ok) {
      ctx.error(['condition', ...parsed.path], 'invalid-value', parsed.message);
      return false;
    }
    const data = desired.valueData!;
    const plainNumber = !(valueType === 'String' || valueType === 'ExpandString') || !numberTests(parsed.condition) || /^[0-9]+$/.test(data as string);
    if (!plainNumber || !meetsCondition(parsed.condition, valueType, data)) {
      ctx.error(dataPath, 'invalid-value', `${dataPath.join('.')} ${JSON.stringify(data)} does not meet the condition, so set would write a failing value`);
      return false;
    }
    desired.condition = parsed.condition;
  }
  if (props.absentOk === true) desired.absentOk = true;
  return true;
}

/** The registry kind: raw values and keys, and catalog entries with a `registry` block. */
export const registryUnit: KindUnit<RegistrySpec> = {
  kind: 'Registry',
  store: 'Registry',
  documentTypes: [registryKind],
  resolveEntry: resolveRegistryEntry,
  sameDesired: (a, b) => sameDesired(a.desired, b.desired),
  removesBelow: (spec) => spec.target.valueName === null && spec.desired.ensure === 'Absent',
  wantsPresent: (spec) => spec.desired.ensure === 'Present',
  row(r) {
    const { target, desired } = r.spec;
    const fields: Record<string, unknown> = { Hive: target.hive, SubKey: target.subKey, ValueName: target.valueName, Ensure: desired.ensure };
    if (desired.onlyIfEmpty) fields.OnlyIfEmpty = true;
    return { ...fields, ...this.desiredColumns(r.spec, r.policy) };
  },
  desiredColumns({ desired }, policy) {
    const fields: Record<string, unknown> = {};
    if (desired.valueType) {
      fields.ValueType = desired.valueType;
      fields.ValueData = psData(desired.valueType, desired.valueData!);
      // The same data as results report it (JSON-safe), so the runtime need not convert it on every run.
      fields.WireData = desired.valueData;
      if (desired.typeCode !== undefined) fields.TypeCode = new PsTyped('uint32', desired.typeCode);
    }
    if (desired.condition) {
      fields.Condition = psCondition(desired.condition, desired.valueType!);
      fields.ConditionView = conditionView(desired.condition);
    }
    if (desired.absentOk) fields.AbsentOk = true;
    if (policy) {
      fields.Policy = {
        Title: policy.title,
        Value: policy.value,
        Choices: policy.choices.map((c) => ({ Name: c.name, Data: psData(desired.valueType!, c.data) })),
      };
    }
    return fields;
  },
  commentLines(r) {
    return [`Registry:   ${r.target}${desiredText(r.spec.desired)}`];
  },
  desiredView({ desired }, policy) {
    const out: KindView = { ensure: desired.ensure };
    if (desired.ensure === 'Present' && desired.valueType) {
      out.valueType = desired.valueType;
      if (desired.valueData !== undefined) out.valueData = desired.valueData;
    }
    if (policy) out.policyValue = policy.value;
    return out;
  },
  area: registryArea,
  stateText: registryStateText,
  rollbackResources: registryRollback,
};

/** A registry view in words: the policy's own words when it has them. */
export function registryStateText(view: KindView): string {
  if (view.ensure === 'Absent') return 'absent';
  const raw = view.valueType ? `${String(view.valueType)} ${JSON.stringify(view.valueData)}` : '';
  if (view.policyValue !== undefined) return view.policyValue === null ? `not a defined choice${raw ? ` (${raw})` : ''}` : String(view.policyValue);
  return raw || 'present';
}

function desiredText(d: RegistryDesired): string {
  if (d.ensure === 'Absent') return ' must be absent';
  if (d.typeCode !== undefined) return ` (type code ${d.typeCode}) = hex ${JSON.stringify(d.valueData)}`;
  if (!d.valueType) return ' must exist';
  const accepts = d.condition ? `; accepts ${JSON.stringify(conditionView(d.condition))}` : '';
  return ` (${d.valueType}) = ${JSON.stringify(d.valueData)}${accepts}${d.absentOk ? '; absent is fine' : ''}`;
}

/** Wire-form data as a typed PowerShell value, so the runtime writes the exact registry type. */
export function psData(type: ValueType, data: WireData): unknown {
  switch (type) {
    case 'DWord':
      return new PsTyped('uint32', data as number);
    case 'QWord':
      return new PsTyped('uint64', BigInt(data as string));
    case 'Binary':
      return new PsTyped('byte[]', Uint8Array.from((data as string).match(/../g) ?? [], (h) => parseInt(h, 16)));
    case 'MultiString':
      return new PsTyped('string[]', data as string[]);
    default:
      return data as string;
  }
}

export type { PolicyBinding };

const SHORT_HIVE: Record<string, string> = {
  HKEY_LOCAL_MACHINE: 'HKLM',
  HKEY_CURRENT_USER: 'HKCU',
  HKEY_USERS: 'HKU',
  HKEY_CLASSES_ROOT: 'HKCR',
  HKEY_CURRENT_CONFIG: 'HKCC',
};

/** The registry key a raw Registry setting lives under (from its target): the key holding its value, or a key's parent key. */
export function registryArea(target: string): string {
  const bang = target.indexOf('!');
  const keyPath = bang >= 0 ? target.slice(0, bang) : target;
  const [hive, ...path] = keyPath.split('\\') as [string, ...string[]];
  const keys = bang >= 0 || path.length <= 1 ? path : path.slice(0, -1);
  return [SHORT_HIVE[hive] ?? hive, ...keys].join('\\');
}
