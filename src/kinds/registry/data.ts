import { DWORD_MAX, QWORD_MAX, type ValueType, type WireData } from './model.js';

/**
 * Checks data written in a document against its value type and returns the wire form,
 * or an error message. Integers arrive as bigint so ranges are checked exactly.
 */
/** On failure, `item` is the index of the offending list element, when there is one. */
export type DataResult = { ok: true; data: WireData } | { ok: false; message: string; outOfRange?: boolean; item?: number };

export function normaliseData(type: ValueType, data: unknown): DataResult {
  switch (type) {
    case 'String':
    case 'ExpandString':
      if (typeof data !== 'string') return fail(`a ${type} value needs text data, got ${describe(data)}`);
      return textProblem(data) ? fail(textProblem(data)!) : ok(data);
    case 'DWord':
    case 'QWord': {
      const max = type === 'DWord' ? DWORD_MAX : QWORD_MAX;
      const n = toBigInt(data);
      if (n === undefined) return fail(`a ${type} value needs an integer, got ${describe(data)}`);
      if (n < 0n || n > max) return { ok: false, outOfRange: true, message: `${n} is outside the ${type} range 0..${max}` };
      return ok(type === 'DWord' ? Number(n) : n.toString());
    }
    case 'MultiString':
      if (!Array.isArray(data)) return fail(`a MultiString value needs a list of strings, got ${describe(data)}`);
      {
        const item = data.findIndex((s) => typeof s !== 'string');
        if (item >= 0) return { ok: false, item, message: `a MultiString list holds only strings; item ${item} is ${describe(data[item])}` };
      }
      const problem = data.map((s) => textProblem(s as string)).find(Boolean);
      if (problem) return fail(problem);
      return ok([...(data as string[])]);
    case 'Binary':
      return binaryHex(data);
  }
}

/** Windows ends registry strings (and separates multi-string items) at NUL, so one could never round-trip. */
export const NUL_MESSAGE = 'registry text cannot contain the NUL character (U+0000): Windows ends the string there';
export const SURROGATE_MESSAGE = 'registry text cannot contain a lone UTF-16 surrogate (U+D800..U+DFFF): it has no UTF-8 or .reg form';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a piece of registry text cannot be stored exactly, or undefined when it can. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\0')) return NUL_MESSAGE;
  if (LONE_SURROGATE.test(text)) return SURROGATE_MESSAGE;
  return undefined;
}

const ok = (data: WireData): DataResult => ({ ok: true, data });
const fail = (message: string): DataResult => ({ ok: false, message });

function toBigInt(data: unknown): bigint | undefined {
  if (typeof data === 'bigint') return data;
  if (typeof data === 'number' && Number.isSafeInteger(data)) return BigInt(data);
  return undefined;
}

/** Binary data as hex text ("0a ff", "0a,ff", "0aff") or a list of bytes. */
function binaryHex(data: unknown): DataResult {
  if (typeof data === 'string') {
    const hex = data.replace(/[\s,:]/g, '');
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) return fail(`Binary data '${data}' is not a sequence of two-digit hex bytes`);
    return ok(hex.toLowerCase());
  }
  if (Array.isArray(data)) {
    let hex = '';
    for (const [item, value] of data.entries()) {
      const n = toBigInt(value);
      if (n === undefined || n < 0n || n > 255n) return { ok: false, item, message: `Binary data must list bytes 0..255; item ${item} is ${describe(value)}` };
      hex += n.toString(16).padStart(2, '0');
    }
    return ok(hex);
  }
  return fail(`Binary data needs hex text or a list of bytes, got ${describe(data)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `the integer ${value}`;
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'string') return `the text '${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`;
  return `${typeof value} ${String(value)}`;
}
