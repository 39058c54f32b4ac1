import type { ValueType, WireData } from './registry-model.js';
import { DWORD_MAX, QWORD_MAX } from './registry-model.js';

/**
 * What `test` accepts instead of one exact value, as STIG and CIS rules state it ("0x8000 or
 * greater", "30 or less but not 0", "1, 3 or 8", a bit that must be set). Every listed test must
 * hold. On a String value the numeric tests read its text as a decimal number.
 */
export interface Condition {
  atLeast?: bigint;
  atMost?: bigint;
  oneOf?: (bigint | string)[];
  not?: (bigint | string)[];
  bitsSet?: bigint;
  bitsClear?: bigint;
}

export const CONDITION_KEYS = ['atLeast', 'atMost', 'oneOf', 'not', 'bitsSet', 'bitsClear'] as const;

export const conditionSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  description: 'What test accepts; set writes valueData when the current value fails. All listed tests must hold.',
  properties: {
    atLeast: { type: 'integer', minimum: 0, description: 'The number is this or greater.' },
    atMost: { type: 'integer', minimum: 0, description: 'The number is this or less.' },
    oneOf: { type: 'array', minItems: 1, items: { type: ['integer', 'string'] }, description: 'The value is one of these.' },
    not: { type: ['integer', 'string', 'array'], items: { type: ['integer', 'string'] }, description: 'The value is none of these.' },
    bitsSet: { type: 'integer', minimum: 0, description: 'Every bit of this mask is set (DWord, QWord).' },
    bitsClear: { type: 'integer', minimum: 0, description: 'No bit of this mask is set (DWord, QWord).' },
  },
} as const;

type Parsed = { ok: true; condition: Condition } | { ok: false; path: (string | number)[]; message: string };

const asBig = (v: unknown): bigint | undefined =>
  typeof v === 'bigint' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined;

/** Checks a document's condition against the value type and turns it into exact values. */
export function parseCondition(raw: Record<string, unknown>, type: ValueType): Parsed {
  const numeric = type === 'DWord' || type === 'QWord';
  const max = type === 'DWord' ? DWORD_MAX : QWORD_MAX;
  if (type === 'Binary' || type === 'MultiString') return { ok: false, path: [], message: `conditions apply to DWord, QWord, String and ExpandString values, not ${type}` };
  const condition: Condition = {};
  for (const key of ['atLeast', 'atMost', 'bitsSet', 'bitsClear'] as const) {
    if (!(key in raw)) continue;
    const n = asBig(raw[key]);
    if (n === undefined || n < 0n || n > max) return { ok: false, path: [key], message: `${key} needs an integer 0..${max}` };
    if ((key === 'bitsSet' || key === 'bitsClear') && !numeric) return { ok: false, path: [key], message: `${key} applies to DWord and QWord values` };
    condition[key] = n;
  }
  for (const key of ['oneOf', 'not'] as const) {
    if (!(key in raw)) continue;
    const list = Array.isArray(raw[key]) ? (raw[key] as unknown[]) : [raw[key]];
    const values: (bigint | string)[] = [];
    for (const [i, item] of list.entries()) {
      const n = asBig(item);
      if (numeric && n === undefined) return { ok: false, path: [key, i], message: `${key} lists numbers for a ${type} value` };
      if (n !== undefined && (n < 0n || n > max)) return { ok: false, path: [key, i], message: `${n} is outside the ${type} range 0..${max}` };
      values.push(n ?? String(item));
    }
    condition[key] = values;
  }
  if (condition.atLeast !== undefined && condition.atMost !== undefined && condition.atLeast > condition.atMost) {
    return { ok: false, path: ['atMost'], message: `atMost ${condition.atMost} is below atLeast ${condition.atLeast}: no value can comply` };
  }
  return { ok: true, condition };
}

/** What .NET's String.Trim() removes (Char.IsWhiteSpace), which the runtime uses; JavaScript's trim() also removes U+FEFF. */
const DOTNET_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const DOTNET_TRIM = new RegExp(`^[${DOTNET_SPACE}]+|[${DOTNET_SPACE}]+$`, 'g');

/** Whether data (in wire form) meets the condition: the same rules the runtime's Test-WsCondition applies. */
export function meetsCondition(condition: Condition, type: ValueType, data: WireData): boolean {
  let value: bigint | string;
  if (type === 'String' || type === 'ExpandString') {
    const text = (data as string).replace(DOTNET_TRIM, '');
    const needsNumber = numberTests(condition);
    if (needsNumber && (!/^[0-9]+$/.test(text) || BigInt(text) > QWORD_MAX)) return false;
    value = needsNumber ? BigInt(text) : (data as string);
  } else {
    value = BigInt(data as number | string);
  }
  const same = (a: bigint | string, b: bigint | string) => (typeof a === typeof b ? a === b : String(a) === String(b));
  if (condition.atLeast !== undefined && (value as bigint) < condition.atLeast) return false;
  if (condition.atMost !== undefined && (value as bigint) > condition.atMost) return false;
  if (condition.oneOf && !condition.oneOf.some((v) => same(v, value))) return false;
  if (condition.not && condition.not.some((v) => same(v, value))) return false;
  if (condition.bitsSet !== undefined && ((value as bigint) & condition.bitsSet) !== condition.bitsSet) return false;
  if (condition.bitsClear !== undefined && ((value as bigint) & condition.bitsClear) !== 0n) return false;
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
    view[key] = Array.isArray(v) ? v.map(wire) : wire(v);
  }
  return view;
}
