import { readFileSync, statSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Diagnostic, DiagnosticCode, SourcePosition } from './diagnostics.js';

/** Documents larger than this are refused before parsing, to bound time and memory. */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;
/** yaml's guard against alias expansion bombs ("billion laughs"). */
const MAX_ALIAS_COUNT = 100;

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
    return loadText(file, readFileSync(file, 'utf8'));
  } catch (error) {
    return { diagnostics: [fileLevel(file, 'io', `cannot read the document: ${(error as Error).message}`)] };
  }
}

export function loadText(file: string, text: string): { source?: SourceDocument; diagnostics: Diagnostic[] } {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_DOCUMENT_BYTES) {
    return { diagnostics: [fileLevel(file, 'io', `document is ${bytes} bytes; the limit is ${MAX_DOCUMENT_BYTES}`)] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, intAsBigInt: true, uniqueKeys: true, prettyErrors: false, strict: true });
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(Math.min(offset, text.length));
    return { line, col };
  };
  const diagnostics: Diagnostic[] = [...doc.errors, ...doc.warnings].map((e) => ({
    file,
    code: (e.code === 'DUPLICATE_KEY' ? 'duplicate-key' : 'yaml-syntax') as DiagnosticCode,
    message: e.code === 'DUPLICATE_KEY' ? 'duplicate key: a mapping may name each key only once' : firstLine(e.message),
    start: at(e.pos[0]),
    end: at(e.pos[1]),
    severity: 'error' as const,
  }));
  if (diagnostics.length > 0) return { diagnostics };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    return { diagnostics: [{ ...fileLevel(file, 'yaml-syntax', `cannot expand the document: ${(error as Error).message}`) }] };
  }
  const locate = (path: DataPath, which: 'key' | 'value' = 'value') => {
    const range = findRange(doc, path, which) ?? [0, 0];
    return { start: at(range[0]), end: at(range[1]) };
  };
  return { source: { file, data, locate }, diagnostics: [] };
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

function fileLevel(file: string, code: DiagnosticCode, message: string): Diagnostic {
  return { file, code, message, start: { line: 1, col: 1 }, severity: 'error' };
}
