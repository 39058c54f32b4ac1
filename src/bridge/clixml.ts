/**
 * Resources as data for the bridge: PowerShell's own serialization format (CLIXML), which the
 * runtime reads with one call to PSSerializer.Deserialize, keeping exact types (UInt32, UInt64,
 * byte[]) where JSON would lose them. Data only: nothing in it is ever parsed as code.
 *
 * The output is printable ASCII: characters outside it and every `_` are written as CLIXML's
 * `_xHHHH_` escapes (UTF-16 code units), XML's own specials as entities.
 */
import { checkedUnsigned, PsTyped } from '../compile/quote.js';

const NS = 'http://schemas.microsoft.com/powershell/2004/04';

export function toClixml(value: unknown): string {
  const writer = new ClixmlWriter();
  return `<Objs Version="1.1.0.1" xmlns="${NS}">${writer.write(value, undefined)}</Objs>`;
}

/** Text that needs no escape: printable ASCII other than `_`, `&`, `<`, `>` (names, paths, numbers). */
const PLAIN_TEXT = /^[\x20-\x25\x27-\x3b\x3d\x3f-\x5e\x60-\x7e]*$/;

function encodeText(text: string): string {
  // Most strings are plain: one regex pass instead of a concatenation per character.
  if (PLAIN_TEXT.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const ch = text[i]!;
    if (ch === '_') out += '_x005F_';
    else if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (code >= 0x20 && code <= 0x7e) out += ch;
    else out += `_x${code.toString(16).toUpperCase().padStart(4, '0')}_`;
  }
  return out;
}

const ARRAY_TYPES = { object: ['System.Object[]', 'System.Array', 'System.Object'], string: ['System.String[]', 'System.Array', 'System.Object'] };
const HASHTABLE_TYPES = ['System.Collections.Hashtable', 'System.Object'];

class ClixmlWriter {
  private refId = 0;
  private readonly typeRefs = new Map<string, number>();

  write(value: unknown, name: string | undefined): string {
    const n = name === undefined ? '' : ` N="${encodeText(name)}"`;
    if (value === null || value === undefined) return `<Nil${n} />`;
    if (typeof value === 'string') return `<S${n}>${encodeText(value)}</S>`;
    if (typeof value === 'boolean') return `<B${n}>${value}</B>`;
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new Error(`only safe integers reach PowerShell, got ${value}`);
      return Math.abs(value) <= 0x7fffffff ? `<I32${n}>${value}</I32>` : `<I64${n}>${value}</I64>`;
    }
    if (value instanceof PsTyped) return this.typed(value, n);
    if (Array.isArray(value)) return this.list(value, ARRAY_TYPES.object, n);
    if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      // Ids and type names in document order: a reference may only point back.
      const head = `<Obj${n} RefId="${this.refId++}">${this.typeName(HASHTABLE_TYPES)}`;
      const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
      return `${head}<DCT>${entries.map(([k, v]) => `<En><S N="Key">${encodeText(k)}</S>${this.write(v, 'Value')}</En>`).join('')}</DCT></Obj>`;
    }
    throw new Error(`cannot express ${Object.prototype.toString.call(value)} as PowerShell data`);
  }

  private typed({ type, value }: PsTyped, n: string): string {
    switch (type) {
      case 'uint32':
        return `<U32${n}>${checkedUnsigned(type, value)}</U32>`;
      case 'uint64':
        return `<U64${n}>${checkedUnsigned(type, value)}</U64>`;
      case 'byte[]':
        return `<BA${n}>${Buffer.from(value as Uint8Array).toString('base64')}</BA>`;
      case 'string[]':
        return this.list(value as readonly string[], ARRAY_TYPES.string, n);
    }
  }

  private list(items: readonly unknown[], types: string[], n: string): string {
    const head = `<Obj${n} RefId="${this.refId++}">${this.typeName(types)}`;
    return `${head}<LST>${items.map((item) => this.write(item, undefined)).join('')}</LST></Obj>`;
  }

  /** A type name list once per document, then a reference to it, as PowerShell writes them. */
  private typeName(types: string[]): string {
    const key = types.join('|');
    const known = this.typeRefs.get(key);
    if (known !== undefined) return `<TNRef RefId="${known}" />`;
    const id = this.typeRefs.size;
    this.typeRefs.set(key, id);
    return `<TN RefId="${id}">${types.map((t) => `<T>${t}</T>`).join('')}</TN>`;
  }
}
