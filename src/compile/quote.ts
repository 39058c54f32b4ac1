/**
 * The one gate for text entering generated PowerShell.
 *
 * Every value becomes a single-quoted literal (no interpolation in PowerShell) and the
 * generated text stays printable ASCII: characters outside that range, including the four
 * characters PowerShell also treats as single quotes (U+2018..U+201B) and line breaks, are
 * written as `[char]0xNNNN` and concatenated. Inside the literal only `'` needs doubling.
 * Identifiers are checked against a whitelist, never quoted.
 */

/** A fragment of PowerShell source that is already safe to splice into a script. */
export class PsCode {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const PRINTABLE_ASCII = /^[\x20-\x7e]$/;
const ALL_PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** Past this many spliced characters a string is carried as base64 instead (see psString). */
const MAX_SPLICED_CHARACTERS = 8;

/**
 * `'...'` for a string, with non-printable or non-ASCII characters spliced in by code. A string
 * that would need more than a few splices (mostly non-Latin text, binary-like data) is carried as
 * base64 of its UTF-8 instead: still a plain literal, and PowerShell parses it in constant time
 * where a long chain of concatenations takes seconds to compile.
 */
export function psString(value: string): PsCode {
  // The common case (all printable ASCII: names, paths, base64 payloads) in one pass over the text.
  if (ALL_PRINTABLE_ASCII.test(value)) return new PsCode(`'${value.replace(/'/g, "''")}'`);
  const parts: string[] = [];
  let run = '';
  let spliced = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (PRINTABLE_ASCII.test(ch)) {
      run += ch === "'" ? "''" : ch;
      continue;
    }
    if (++spliced > MAX_SPLICED_CHARACTERS) return psBase64String(value);
    if (run !== '' || parts.length === 0) parts.push(`'${run}'`);
    run = '';
    // UTF-16 code units, so astral characters become their surrogate pair.
    parts.push(`[char]0x${value.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')}`);
  }
  if (run !== '' || parts.length === 0) parts.push(`'${run}'`);
  // A leading string operand makes `+` concatenate instead of adding char codes.
  return new PsCode(parts.length === 1 ? parts[0]! : `(${parts.join(' + ')})`);
}

function psBase64String(value: string): PsCode {
  // Lone surrogates have no UTF-8 form; validation refuses them before they get here.
  const base64 = Buffer.from(value, 'utf8').toString('base64');
  return new PsCode(`[System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String('${base64}'))`);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A variable, hashtable key or parameter name: whitelisted, never quoted. */
export function psIdentifier(name: string): PsCode {
  if (!IDENTIFIER.test(name)) throw new Error(`not a safe PowerShell identifier: ${JSON.stringify(name)}`);
  return new PsCode(name);
}

/** Typed wrappers for registry data whose PowerShell type must be exact. */
export class PsTyped {
  constructor(
    readonly type: 'uint32' | 'uint64' | 'byte[]' | 'string[]',
    readonly value: number | bigint | Uint8Array | readonly string[],
  ) {}
}

/** Any plain value as a PowerShell expression. */
export function psLiteral(value: unknown): PsCode {
  if (value instanceof PsCode) return value;
  if (value === null || value === undefined) return new PsCode('$null');
  if (typeof value === 'string') return psString(value);
  if (typeof value === 'boolean') return new PsCode(value ? '$true' : '$false');
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`only safe integers reach PowerShell, got ${value}`);
    return new PsCode(String(value));
  }
  if (value instanceof PsTyped) return psTyped(value);
  if (Array.isArray(value)) return new PsCode(`@(${value.map((item) => psLiteral(item).text).join(', ')})`);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return new PsCode(`@{ ${entries.map(([k, v]) => `${psIdentifier(k).text} = ${psLiteral(v).text}`).join('; ')} }`);
  }
  throw new Error(`cannot express ${Object.prototype.toString.call(value)} in PowerShell`);
}

/** The value of a uint32/uint64 PsTyped, refused when outside its type. */
export function checkedUnsigned(type: 'uint32' | 'uint64', value: PsTyped['value']): bigint {
  const n = BigInt(value as number | bigint);
  const max = type === 'uint32' ? 0xffffffffn : 0xffffffffffffffffn;
  if (n < 0n || n > max) throw new Error(`${n} is outside ${type}`);
  return n;
}

function psTyped({ type, value }: PsTyped): PsCode {
  switch (type) {
    case 'uint32':
    case 'uint64':
      // A string cast is exact on 5.1, which has no unsigned literal suffix.
      return new PsCode(`[${type}]'${checkedUnsigned(type, value).toString()}'`);
    case 'byte[]': {
      const bytes = [...(value as Uint8Array)].map((b) => `0x${b.toString(16).padStart(2, '0')}`);
      return new PsCode(bytes.length === 0 ? '[byte[]]@()' : `[byte[]](${bytes.join(',')})`);
    }
    case 'string[]':
      return new PsCode(`[string[]]@(${(value as readonly string[]).map((s) => psString(s).text).join(', ')})`);
  }
}

/**
 * Tagged template for generated code: interpolated PsCode is spliced as is, anything else
 * goes through psLiteral. Text written in the template itself is trusted code.
 */
export function ps(strings: TemplateStringsArray, ...values: unknown[]): PsCode {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += psLiteral(value).text + strings[i + 1]!;
  });
  return new PsCode(out);
}

/** Joins code fragments. */
export function psJoin(parts: readonly PsCode[], separator: string): PsCode {
  return new PsCode(parts.map((p) => p.text).join(separator));
}

/**
 * Text for a `#` comment line or a comment-based help block: one line, printable ASCII,
 * with the block delimiters broken so user text can never end a comment.
 */
export function psCommentText(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 0x20 && code <= 0x7e) out += ch;
    else if (ch === '\n' || ch === '\r' || ch === '\t') out += ' ';
    else out += `\\u{${code.toString(16).toUpperCase()}}`;
  }
  return out.replace(/<#/g, '< #').replace(/#>/g, '# >');
}
