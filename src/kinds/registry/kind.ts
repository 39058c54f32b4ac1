import type { ResolveContext, ResourceKind } from '../kind.js';
import { parseKeyPath, VALUE_TYPES, type RegistryDesired, type ValueType } from './model.js';
import { normaliseData, textProblem } from './data.js';
import { conditionSchema, meetsCondition, numberTests, parseCondition } from '../condition.js';

/** A raw registry value (or key), as DSC's Registry resource describes it. */
export const registryKind: ResourceKind = {
  type: 'Registry',
  description: 'A registry value (or, without valueName, a key) with its exact type and data.',
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
      return { target, desired: onlyIfEmpty ? { ensure, onlyIfEmpty } : { ensure } };
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
      return { target, desired: { ensure } };
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
      return { target, desired };
    }
    if (!addCondition(desired, props, ['valueData'], ctx)) return undefined;
    return { target, desired };
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
