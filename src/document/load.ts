import { readFileSync, statSync } from 'node:fs';
import { CST, isAlias, isMap, isScalar, isSeq, LineCounter, Parser, parseDocument, visit, type Document, type Node, type YAMLError } from 'yaml';
import { printable, type Diagnostic, type DiagnosticCode, type SourcePosition } from './diagnostics.js';

/**
 * Documents larger than this are refused before parsing, to bound time and memory. A full STIG
 * baseline is about 100 KiB; 20,000 registry settings written out one by one are about 3.4 MB,
 * which this admits with room to spare (validating it takes a few seconds of CPU; see
 * test/unit/bad-documents.test.ts for the bounds).
 */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;
/** yaml's guard against alias expansion bombs ("billion laughs"): total nodes aliases may expand to. */
const MAX_ALIAS_COUNT = 10_000;
/** Deeper flow nesting than this is refused before parsing; the parser recurses per level. */
const MAX_FLOW_DEPTH = 64;
/** After this many YAML errors the rest are summarised: one mistake can cascade into hundreds. */
const MAX_SYNTAX_DIAGNOSTICS = 50;

export type DataPath = (string | number)[];

/** A parsed YAML document that can say where any of its values came from. */
export interface SourceDocument {
  file: string;
  /** Exact data: every integer is a bigint. */
  data: unknown;
  /** Position of the value at `path` (or of its key, for `which: 'key'`); falls back to the nearest parent. */
  locate(path: DataPath, which?: 'key' | 'value'): { start: SourcePosition; end: SourcePosition };
}

export function loadFile(file: string): { source?: SourceDocument; diagnostics: Diagnostic[] } {
  try {
    const size = statSync(file).size;
    if (size > MAX_DOCUMENT_BYTES) {
      return { diagnostics: [fileLevel(file, 'io', `document is ${size} bytes; the limit is ${MAX_DOCUMENT_BYTES}`)] };
    }
    const decoded = decodeDocument(readFileSync(file));
    if ('problem' in decoded) {
      return { diagnostics: [{ file, code: 'io', message: printable(decoded.problem), start: decoded.at, severity: 'error' }] };
    }
    return loadText(file, decoded.text);
  } catch (error) {
    return { diagnostics: [fileLevel(file, 'io', `cannot read the document: ${(error as Error).message}`)] };
  }
}

export function loadText(file: string, rawText: string): { source?: SourceDocument; diagnostics: Diagnostic[] } {
  const bytes = Buffer.byteLength(rawText, 'utf8');
  if (bytes > MAX_DOCUMENT_BYTES) {
    return { diagnostics: [fileLevel(file, 'io', `document is ${bytes} bytes; the limit is ${MAX_DOCUMENT_BYTES}`)] };
  }
  // A byte-order mark is not part of the text: positions count from after it.
  const text = rawText.replace(/^\uFEFF/, '');
  const lineCounter = new LineCounter();
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(Math.min(offset, text.length));
    return { line, col };
  };
  const positioned = (code: DiagnosticCode, message: string, start: number, end = start): Diagnostic => ({
    file, code, message: printable(message), start: at(start), end: at(end), severity: 'error',
  });

  // Positions need the line counter, which only the parser fills: so these checks report after a
  // parse of the text up to the problem (cheap, and the parser itself would choke on it).
  const control = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.exec(text);
  const tooDeep = control ? undefined : deepFlowNesting(text);
  const stop = control?.index ?? tooDeep;
  let doc: Document;
  try {
    doc = parseDocument(stop === undefined ? text : text.slice(0, stop), { lineCounter, intAsBigInt: true, uniqueKeys: true, prettyErrors: false, strict: true });
  } catch (error) {
    return { diagnostics: [fileLevel(file, 'yaml-syntax', `cannot parse the document: ${(error as Error).message}`)] };
  }
  if (control) {
    const hex = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return { diagnostics: [positioned('yaml-syntax', `control character U+${hex} is not allowed in YAML text (is this a binary file?)`, control.index)] };
  }
  if (tooDeep !== undefined) {
    return { diagnostics: [positioned('yaml-syntax', `flow collections nest more than ${MAX_FLOW_DEPTH} levels deep from here`, tooDeep)] };
  }
  const syntax = atIndentMistake(atUnclosedOpener([...doc.errors, ...doc.warnings], text, at), text).map((e) =>
    e.code === 'DUPLICATE_KEY'
      ? positioned('duplicate-key', 'duplicate key: a mapping may name each key only once', e.pos[0], e.pos[1])
      : e.code === 'MULTIPLE_DOCS'
        ? positioned('yaml-syntax', "a winstate file holds one YAML document; this '---' starts a second one", e.pos[0], e.pos[1])
        : positioned('yaml-syntax', firstLine(e.message), e.pos[0], e.pos[1]),
  );
  if (syntax.length > MAX_SYNTAX_DIAGNOSTICS) {
    const rest = syntax.length - MAX_SYNTAX_DIAGNOSTICS;
    syntax.length = MAX_SYNTAX_DIAGNOSTICS;
    syntax.push({ ...syntax[MAX_SYNTAX_DIAGNOSTICS - 1]!, message: `${rest} more YAML errors follow from the ones above; fix those first` });
  }
  if (syntax.length > 0) return { diagnostics: syntax };
  // An alias to an anchor that does not exist has a position; the expansion error below has none.
  const undefinedAliases: Diagnostic[] = [];
  // Without a '*' anywhere there is no alias: no walk over every node then.
  if (text.includes('*')) visit(doc, {
    Alias(_, node) {
      if (!node.resolve(doc)) undefinedAliases.push(positioned('yaml-syntax', `alias *${node.source} names no anchor defined before it`, node.range?.[0] ?? 0, node.range?.[1] ?? 0));
    },
  });
  if (undefinedAliases.length > 0) return { diagnostics: undefinedAliases };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = error instanceof RangeError ? 'the document nests too deeply' : `cannot expand the document: ${(error as Error).message}`;
    return { diagnostics: [fileLevel(file, 'yaml-syntax', message)] };
  }
  const locate = (path: DataPath, which: 'key' | 'value' = 'value') => {
    const range = findRange(doc, path, which) ?? [0, 0];
    return { start: at(range[0]), end: at(range[1]) };
  };
  return { source: { file, data, locate }, diagnostics: [] };
}

/**
 * Indentation mistakes, said at the line that has them. The parser puts a key indented too little
 * at the start of its line, and reads a line indented too much as more of the value on the line
 * above ("Implicit keys need to be on a single line", at that value). The implicit-key errors
 * after a misaligned key only follow from it, and are dropped.
 */
function atIndentMistake(errors: YAMLError[], text: string): YAMLError[] {
  const lineStart = (offset: number) => text.lastIndexOf('\n', offset - 1) + 1;
  const indentOf = (start: number) => /^ */.exec(text.slice(start))![0].length;
  const cascade = new Set(['BLOCK_AS_IMPLICIT_KEY', 'MULTILINE_IMPLICIT_KEY']);
  const out: YAMLError[] = [];
  let misaligned = false;
  /** For a key the parser found misaligned, the column it should share, said as where that column is; undefined otherwise. */
  const misalignedKey = (e: YAMLError): string | undefined => {
    if (lineStart(e.pos[0]) !== e.pos[0]) return undefined;
    if (e.code === 'BAD_INDENT' && /must start at the same column/.test(e.message)) {
      const previous = previousContentLine(text, e.pos[0]);
      return previous === undefined ? '' : `, the line before at column ${indentOf(previous) + 1}`;
    }
    // A key indented less than the key of the sequence item above it (but more than its '-'): the
    // parser says "Sequence item without - indicator" at the start of the line.
    if (e.code === 'MISSING_CHAR' && /Sequence item without - indicator/.test(e.message)) {
      const previous = previousContentLine(text, e.pos[0]);
      const item = previous === undefined ? null : /^( *- +)\S/.exec(text.slice(previous));
      if (item && indentOf(e.pos[0]) > indentOf(previous!)) return `, the key of the item above at column ${item[1]!.length + 1} (or, for a new item, start the line with '- ')`;
    }
    return undefined;
  };
  for (const e of errors) {
    const above = misalignedKey(e);
    if (above !== undefined) {
      const indent = indentOf(e.pos[0]);
      out.push(withPlace(e, e.pos[0] + indent, `All mapping items must start at the same column: this key starts at column ${indent + 1}${above}`));
      misaligned = true;
      continue;
    }
    if (misaligned && cascade.has(e.code)) continue;
    if (e.code === 'MULTILINE_IMPLICIT_KEY') {
      const first = lineStart(e.pos[0]);
      const next = text.indexOf('\n', e.pos[0]) + 1;
      const valueOfKey = /^ *(?:- +)?[^\s#][^:#]*: +$/.test(text.slice(first, e.pos[0]));
      if (next > 0 && next < e.pos[1] && valueOfKey && indentOf(next) > indentOf(first)) {
        const column = /^ *(?:- +)?/.exec(text.slice(first))![0].length + 1;
        // The same place's "Nested mappings are not allowed in compact mappings" says the same.
        const i = out.findIndex((o) => o.code === 'BLOCK_AS_IMPLICIT_KEY' && o.pos[0] === e.pos[0]);
        if (i >= 0) out.splice(i, 1);
        out.push(withPlace(e, next + indentOf(next), `this line is indented more than the key above it (column ${column}), so YAML reads it as more of that key's value; indent it as that key`));
        continue;
      }
    }
    out.push(e);
  }
  return out;
}

function previousContentLine(text: string, start: number): number | undefined {
  let end = start - 1;
  while (end > 0) {
    const begin = text.lastIndexOf('\n', end - 1) + 1;
    if (/\S/.test(text.slice(begin, end)) && !/^\s*#/.test(text.slice(begin, end))) return begin;
    end = begin - 1;
  }
  return undefined;
}

/** The same parser error, said at another place and in other words. */
function withPlace(error: YAMLError, offset: number, message: string): YAMLError {
  return Object.assign(Object.create(Object.getPrototypeOf(error) as object) as YAMLError, error, { pos: [offset, offset + 1] as [number, number], message });
}

/** A quote, '[' or '{' that is never closed: where it opens, and what kind it is. */
interface UnclosedOpener { offset: number; kind: 'double-quote' | 'single-quote' | 'sequence' | 'map' }

/**
 * The parser notices a quote, '[' or '{' left open only where the text stops making sense: the end
 * of the file for a quote, the next line that is not indented enough for a bracket. This moves that
 * error to the opener, says what it is, and drops the errors after it, which are only the rest of
 * the document read as part of the open text.
 */
function atUnclosedOpener(errors: YAMLError[], text: string, at: (offset: number) => SourcePosition): YAMLError[] {
  const noticed = errors.find((e) => (e.code === 'MISSING_CHAR' && /closing ["']quote/.test(e.message)) || (e.code === 'BAD_INDENT' && /end with a [\]}]/.test(e.message)));
  if (!noticed) return errors;
  const opener = firstUnclosedOpener(text);
  if (!opener || opener.offset >= noticed.pos[0]) return errors;
  const where = at(noticed.pos[0]);
  const messages: Record<UnclosedOpener['kind'], string> = {
    'double-quote': `Missing closing "quote: the text quoted from here never ends (the parser read on to line ${where.line} looking for its closing ")`,
    'single-quote': `Missing closing 'quote: the text quoted from here never ends (the parser read on to line ${where.line} looking for its closing ')`,
    sequence: `this [ is never closed: a flow sequence must end with a ] (the parser noticed on line ${where.line})`,
    map: `this { is never closed: a flow mapping must end with a } (the parser noticed on line ${where.line})`,
  };
  return [...errors.filter((e) => e.pos[0] < opener.offset), withPlace(noticed, opener.offset, messages[opener.kind])];
}

/** The first quoted scalar or flow collection in the text that has no closing character, from the parser's syntax tree. */
function firstUnclosedOpener(text: string): UnclosedOpener | undefined {
  let first: UnclosedOpener | undefined;
  const consider = (found: UnclosedOpener) => {
    if (!first || found.offset < first.offset) first = found;
  };
  const check = (token: CST.Token | undefined) => {
    if (!token) return;
    if (token.type === 'double-quoted-scalar' && !/^"(?:[^"\\]|\\[\s\S])*"$/.test(token.source)) consider({ offset: token.offset, kind: 'double-quote' });
    if (token.type === 'single-quoted-scalar' && !/^'(?:[^']|'')*'$/.test(token.source)) consider({ offset: token.offset, kind: 'single-quote' });
    if (token.type === 'flow-collection') {
      const sequence = token.start.source === '[';
      if (!token.end.some((t) => t.source === (sequence ? ']' : '}'))) consider({ offset: token.offset, kind: sequence ? 'sequence' : 'map' });
    }
  };
  for (const token of new Parser().parse(text)) {
    if (token.type !== 'document') continue;
    check(token.value);
    CST.visit(token, (item) => {
      check(item.key ?? undefined);
      check(item.value);
    });
  }
  return first;
}

/**
 * Offset of the outermost '[' or '{' of the first run nested deeper than MAX_FLOW_DEPTH, or
 * undefined. Quoted text and comments are skipped; an approximation that errs towards parsing.
 */
function deepFlowNesting(text: string): number | undefined {
  const open: number[] = [];
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || (ch === "'" && /[\s[{,:]/.test(text[i - 1] ?? ' '))) quote = ch;
    else if (ch === '#' && /\s/.test(text[i - 1] ?? ' ')) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
    } else if (ch === '[' || ch === '{') {
      open.push(i);
      if (open.length > MAX_FLOW_DEPTH) return open[0];
    } else if ((ch === ']' || ch === '}') && open.length > 0) open.pop();
  }
  return undefined;
}

function findRange(doc: Document, path: DataPath, which: 'key' | 'value'): [number, number] | undefined {
  let node: unknown = doc.contents;
  let best: [number, number] | undefined = rangeOf(node);
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return best;
      if (last && which === 'key') return rangeOf(pair.key) ?? best;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else {
      return best;
    }
    best = rangeOf(node) ?? best;
  }
  return best;
}

function rangeOf(node: unknown): [number, number] | undefined {
  const range = (node as Node | null)?.range;
  return range ? [range[0], range[1]] : undefined;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/**
 * The text of a document file: UTF-8 (with or without a byte-order mark), or UTF-16 with a
 * byte-order mark, which is what Windows PowerShell 5.1's `>` and `Out-File` write. Anything else
 * is refused with the line and byte of the first sequence that is not UTF-8.
 */
export function decodeDocument(bytes: Uint8Array): { text: string } | { problem: string; at: SourcePosition } {
  const utf16 = bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe ? 'le' : bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff ? 'be' : undefined;
  if (utf16) {
    const body = Buffer.from(bytes.subarray(2));
    if (body.length % 2 !== 0) return { problem: `the file starts with a UTF-16 byte-order mark but has an odd number of bytes (${bytes.length})`, at: { line: 1, col: 1 } };
    if (utf16 === 'be') body.swap16();
    try {
      return { text: new TextDecoder('utf-16le', { fatal: true }).decode(body) };
    } catch {
      return { problem: 'the file starts with a UTF-16 byte-order mark but is not valid UTF-16 text', at: { line: 1, col: 1 } };
    }
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    const offset = firstInvalidUtf8(bytes);
    let lineStart = 0;
    let line = 1;
    for (let i = 0; i < offset; i++) {
      if (bytes[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    const column = new TextDecoder('utf-8').decode(bytes.subarray(lineStart, offset)).length + 1;
    const hex = (bytes[offset] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    return {
      problem: `the file is not UTF-8 text: byte 0x${hex} at line ${line}, byte ${offset - lineStart + 1} of the line (offset ${offset}) starts no valid UTF-8 sequence; save the file as UTF-8 (or as UTF-16 with a byte-order mark)`,
      at: { line, col: column },
    };
  }
}

/** Offset of the first byte that does not begin or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    // Overlong forms, surrogates and values above U+10FFFF.
    const c1 = bytes[i + 1] ?? 0;
    if ((b === 0xe0 && c1 < 0xa0) || (b === 0xed && c1 >= 0xa0) || (b === 0xf0 && c1 < 0x90) || (b === 0xf4 && c1 >= 0x90)) return i;
    i += need + 1;
  }
  return bytes.length;
}

function fileLevel(file: string, code: DiagnosticCode, message: string): Diagnostic {
  return { file, code, message: printable(message), start: { line: 1, col: 1 }, severity: 'error' };
}
