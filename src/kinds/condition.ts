import type { ValueType, WireData } from './registry/model.js';
import { DWORD_MAX, QWORD_MAX } from './registry/model.js';
import { PsTyped } from '../compile/quote.js';

/**
 * What `test` accepts instead of one exact value, as STIG and CIS rules state it ("0x8000 or
 * greater", "30 or less but not 0", "1, 3 or 8", a bit that must be set, "15 or more, or 0").
 * Every listed test must hold and, when `anyOf` is given, at least one of its conditions. On a
 * String value the numeric tests read its text as a decimal number.
 */
export interface Condition {
  atLeast?: bigint;
  atMost?: bigint;
  oneOf?: (bigint | string)[];
  not?: (bigint | string)[];
  bitsSet?: bigint;
  bitsClear?: bigint;
  anyOf?: Condition[];
}

export const CONDITION_KEYS = ['atLeast', 'atMost', 'oneOf', 'not', 'bitsSet', 'bitsClear', 'anyOf'] as const;

/**
 * What a condition judges: a registry value type, or a security template value (`integer`: signed,
 * as account policies hold -1; `boolean`: 0 or 1; `string`: text compared ignoring case).
 */
export type ConditionType = ValueType | 'integer' | 'boolean' | 'string';

const conditionTests = {
  atLeast: { type: 'integer', description: 'The number is this or greater.' },
  atMost: { type: 'integer', description: 'The number is this or less.' },
  oneOf: { type: 'array', minItems: 1, items: { type: ['integer', 'string'] }, description: 'The value is one of these.' },
  not: { type: ['integer', 'string', 'array'], items: { type: ['integer', 'string'] }, description: 'The value is none of these.' },
  bitsSet: { type: 'integer', minimum: 0, description: 'Every bit of this mask is set (DWord, QWord).' },
  bitsClear: { type: 'integer', minimum: 0, description: 'No bit of this mask is set (DWord, QWord).' },
} as const;

export const conditionSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  description: 'What test accepts; set writes the value when the current one fails. All listed tests must hold, and one of anyOf when given.',
  properties: {
    ...conditionTests,
    anyOf: {
      type: 'array',
      minItems: 1,
      description: 'At least one of these conditions holds, e.g. [{ atLeast: 15 }, { oneOf: [0] }] for "15 or more, or 0".',
      items: { type: 'object', additionalProperties: false, minProperties: 1, properties: { ...conditionTests, anyOf: { type: 'array', minItems: 1, items: { type: 'object' } } } },
    },
  },
} as const;

type Parsed = { ok: true; condition: Condition } | { ok: false; path: (string | number)[]; message: string };

const asBig = (v: unknown): bigint | undefined =>
  typeof v === 'bigint' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The numbers a type's numeric tests may name. */
function numberRange(type: ConditionType): [bigint, bigint] {
  if (type === 'DWord') return [0n, DWORD_MAX];
  if (type === 'integer') return [INT64_MIN, INT64_MAX];
  if (type === 'boolean') return [0n, 1n];
  return [0n, QWORD_MAX];
}

/** Checks a document's condition against the value type and turns it into exact values. */
export function parseCondition(raw: Record<string, unknown>, type: ConditionType): Parsed {
  const numeric = type === 'DWord' || type === 'QWord' || type === 'integer' || type === 'boolean';
  const [min, max] = numberRange(type);
  if (type === 'Binary' || type === 'MultiString') return { ok: false, path: [], message: `conditions apply to DWord, QWord, String and ExpandString values, not ${type}` };
  const condition: Condition = {};
  for (const key of ['atLeast', 'atMost', 'bitsSet', 'bitsClear'] as const) {
    if (!(key in raw)) continue;
    const n = asBig(raw[key]);
    if (type === 'string') return { ok: false, path: [key], message: `${key} applies to numbers, not to text settings` };
    if (n === undefined || n < min || n > max) return { ok: false, path: [key], message: `${key} needs an integer ${min}..${max}` };
    if ((key === 'bitsSet' || key === 'bitsClear') && !(type === 'DWord' || type === 'QWord')) return { ok: false, path: [key], message: `${key} applies to DWord and QWord values` };
    condition[key] = n;
  }
  for (const key of ['oneOf', 'not'] as const) {
    if (!(key in raw)) continue;
    const list = Array.isArray(raw[key]) ? (raw[key] as unknown[]) : [raw[key]];
    const values: (bigint | string)[] = [];
    for (const [i, item] of list.entries()) {
      const n = asBig(item);
      if (numeric && n === undefined) return { ok: false, path: [key, i], message: `${key} lists numbers for a ${type} value` };
      if (n !== undefined && (n < min || n > max)) return { ok: false, path: [key, i], message: `${n} is outside the ${type} range ${min}..${max}` };
      values.push(n !== undefined && type !== 'string' ? n : String(item));
    }
    condition[key] = values;
  }
  if (condition.atLeast !== undefined && condition.atMost !== undefined && condition.atLeast > condition.atMost) {
    return { ok: false, path: ['atMost'], message: `atMost ${condition.atMost} is below atLeast ${condition.atLeast}: no value can comply` };
  }
  if ('anyOf' in raw) {
    const list = Array.isArray(raw.anyOf) ? (raw.anyOf as unknown[]) : [];
    if (list.length === 0) return { ok: false, path: ['anyOf'], message: 'anyOf lists at least one condition' };
    condition.anyOf = [];
    for (const [i, item] of list.entries()) {
      if (!item || typeof item !== 'object' || Array.isArray(item) || Object.keys(item).length === 0) return { ok: false, path: ['anyOf', i], message: 'anyOf lists conditions (objects with atLeast, oneOf, ...)' };
      const inner = parseCondition(item as Record<string, unknown>, type);
      if (!inner.ok) return { ok: false, path: ['anyOf', i, ...inner.path], message: inner.message };
      condition.anyOf.push(inner.condition);
    }
  }
  return { ok: true, condition };
}

/** What .NET's String.Trim() removes (Char.IsWhiteSpace), which the runtime uses; JavaScript's trim() also removes U+FEFF. */
const DOTNET_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const DOTNET_TRIM = new RegExp(`^[${DOTNET_SPACE}]+|[${DOTNET_SPACE}]+$`, 'g');

/** Whether data (in wire form) meets the condition: the same rules the runtime's Test-WsCondition applies. */
export function meetsCondition(condition: Condition, type: ConditionType, data: WireData | bigint): boolean {
  let value: bigint | string;
  if (type === 'String' || type === 'ExpandString') {
    const text = (data as string).replace(DOTNET_TRIM, '');
    const needsNumber = numberTests(condition);
    if (needsNumber && (!/^[0-9]+$/.test(text) || BigInt(text) > QWORD_MAX)) return false;
    value = needsNumber ? BigInt(text) : (data as string);
  } else if (type === 'string') {
    value = String(data).toLowerCase();
  } else {
    value = BigInt(data as number | string | bigint);
  }
  const same = (a: bigint | string, b: bigint | string) =>
    type === 'string' ? String(a).toLowerCase() === value : typeof a === typeof b ? a === b : String(a) === String(b);
  if (condition.atLeast !== undefined && (value as bigint) < condition.atLeast) return false;
  if (condition.atMost !== undefined && (value as bigint) > condition.atMost) return false;
  if (condition.oneOf && !condition.oneOf.some((v) => same(v, value))) return false;
  if (condition.not && condition.not.some((v) => same(v, value))) return false;
  if (condition.bitsSet !== undefined && ((value as bigint) & condition.bitsSet) !== condition.bitsSet) return false;
  if (condition.bitsClear !== undefined && ((value as bigint) & condition.bitsClear) !== 0n) return false;
  if (condition.anyOf && !condition.anyOf.some((c) => meetsCondition(c, type, data))) return false;
  return true;
}

/** Whether a String value under this condition is read as a number. */
export function numberTests(condition: Condition): boolean {
  return condition.atLeast !== undefined || condition.atMost !== undefined || [...(condition.oneOf ?? []), ...(condition.not ?? [])].some((v) => typeof v === 'bigint');
}

/** JSON-safe form for results and reports: numbers up to 2^53, larger ones as decimal strings. */
export function conditionView(condition: Condition): Record<string, unknown> {
  const wire = (v: bigint | string) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v);
  const view: Record<string, unknown> = {};
  for (const key of CONDITION_KEYS) {
    const v = condition[key];
    if (v === undefined) continue;
    if (key === 'anyOf') view.anyOf = condition.anyOf!.map(conditionView);
    else view[key] = Array.isArray(v) ? (v as (bigint | string)[]).map(wire) : wire(v as bigint);
  }
  return view;
}

/**
 * The runtime's form of a condition (Test-WsCondition): exact numbers, `Numeric` when the value is
 * read as a number, `Signed` for template integers (int64 rather than uint64), `IgnoreCase` for
 * template text, `AnyOf` as a list of the same form.
 */
export function psCondition(condition: Condition, type: ConditionType): Record<string, unknown> {
  const signed = type === 'integer' || type === 'boolean';
  const big = (v: bigint | string) => (typeof v === 'bigint' ? (signed ? Number(v) : new PsTyped('uint64', v)) : v);
  const out: Record<string, unknown> = {};
  if (condition.atLeast !== undefined) out.AtLeast = big(condition.atLeast);
  if (condition.atMost !== undefined) out.AtMost = big(condition.atMost);
  if (condition.oneOf) out.OneOf = condition.oneOf.map(big);
  if (condition.not) out.Not = condition.not.map(big);
  if (condition.bitsSet !== undefined) out.BitsSet = big(condition.bitsSet);
  if (condition.bitsClear !== undefined) out.BitsClear = big(condition.bitsClear);
  if (condition.anyOf) out.AnyOf = condition.anyOf.map((c) => psCondition(c, type));
  out.Numeric = type === 'string' ? false : !(type === 'String' || type === 'ExpandString') || numberTests(condition);
  if (signed) out.Signed = true;
  if (type === 'string') out.IgnoreCase = true;
  return out;
}
