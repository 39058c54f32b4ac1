import { readFileSync } from 'node:fs';

/** One value as an independent reader sees it, with where its lines are in the decoded text. */
export interface RegEntry {
  /** Key path and value name as spelled in the file ('' for the default value). */
  key: string;
  name: string;
  /** Registry type code (quoted strings: 1, dword: 4, hex: 3). */
  type: number;
  /** The exact data, lowercase hex (quoted strings: UTF-16LE with their terminating NUL). */
  hex: string;
  /** Written as a quoted string (its text is not in the file's encoding but in `hex` as UTF-16LE). */
  quoted: boolean;
  /** Offsets in `text` of the start of the value's first line and of the line break ending its last line. */
  start: number;
  end: number;
}

export interface RegFile {
  buffer: Buffer;
  text: string;
  encoding: 'utf16le' | 'utf8' | 'windows-1252';
  /** Bytes before the text (byte order mark). */
  bomLength: number;
  header: string;
  /** Lowercased key paths, in file order. */
  keys: string[];
  entries: RegEntry[];
}

/**
 * An independent .reg reader for tests (it shares no code with the runtime's reader). Knows
 * regedit's forms: UTF-16LE with BOM, UTF-8, REGEDIT4 in code page 1252; `[-key]` removes the key
 * and its subkeys, `"v"=-` removes a value; strings may run over physical lines; spaces around '='.
 */
export function readRegFile(file: string): RegFile {
  const buffer = readFileSync(file);
  let text: string;
  let encoding: RegFile['encoding'] = 'utf8';
  let bomLength = 0;
  if (buffer[0] === 0xff && buffer[1] === 0xfe) {
    encoding = 'utf16le';
    bomLength = 2;
    text = buffer.toString('utf16le', 2);
  } else {
    if (buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) bomLength = 3;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(bomLength));
    } catch {
      encoding = 'windows-1252';
      text = new TextDecoder('windows-1252').decode(buffer);
    }
  }
  const entries = new Map<string, RegEntry>();
  const keys = new Map<string, true>();
  const lineStarts = [0];
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) lineStarts.push(at + 1);
  const rawLines = text.split('\n');
  const lines = rawLines.map((l) => l.replace(/\r$/, ''));
  let i = 0;
  while (lines[i]!.trim() === '') i++;
  const header = lines[i]!.trim();
  let key: string | undefined;
  const fail = (message: string): never => {
    throw new Error(`${file}:${i + 1}: ${message}`);
  };
  for (i++; i < lines.length; i++) {
    const first = i;
    const line = lines[i]!.trim();
    // A DOS end-of-file mark (Ctrl-Z) ends old hand-written files.
    if (line === '\x1a' && i === lines.length - 1) break;
    if (line === '' || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      let path = line.slice(1, line.lastIndexOf(']')).replace(/\\$/, '');
      const remove = path.startsWith('-');
      if (remove) path = path.slice(1);
      key = remove ? undefined : path;
      const lower = path.toLowerCase();
      if (remove) {
        for (const k of [...keys.keys()]) if (k === lower || k.startsWith(`${lower}\\`)) keys.delete(k);
        for (const id of [...entries.keys()]) if (id.startsWith(`${lower}!`) || id.startsWith(`${lower}\\`)) entries.delete(id);
      } else keys.set(lower, true);
      continue;
    }
    let pos = 1;
    let name = '';
    if (line[0] !== '@') {
      if (line[0] !== '"') fail(`unexpected line ${line}`);
      while (line[pos] !== '"') {
        if (pos >= line.length) fail('unterminated name');
        if (line[pos] === '\\') pos++;
        name += line[pos];
        pos++;
      }
      pos++;
    }
    while (line[pos] === ' ' || line[pos] === '\t') pos++;
    if (line[pos] !== '=') fail(`no '=' in ${line}`);
    let data = line.slice(pos + 1).trimStart();
    if (key === undefined) continue;
    const id = `${key.toLowerCase()}!${name.toLowerCase()}`;
    let type: number;
    let hex: string;
    let quoted = false;
    if (data === '-') {
      entries.delete(id);
      continue;
    } else if (data.startsWith('"')) {
      // Runs on over physical lines until the closing quote; line breaks inside are data.
      let value = '';
      let j = 1;
      // From the opening quote, with the lines' own breaks.
      let raw = rawLines[i]!.slice(lines[i]!.indexOf(line) + line.indexOf(data, pos + 1));
      for (;;) {
        if (j >= raw.length) {
          i++;
          if (i >= lines.length) fail('unterminated string');
          raw += `\n${rawLines[i]}`;
          continue;
        }
        const c = raw[j]!;
        if (c === '\\') {
          // Windows escapes only \\ and \"; Wine's regedit also writes \n, \r and \0.
          const next = raw[j + 1]!;
          value += next === 'n' ? '\n' : next === 'r' ? '\r' : next === '0' ? '\0' : next;
          j += 2;
        } else if (c === '"') break;
        else {
          value += c;
          j++;
        }
      }
      type = 1;
      quoted = true;
      hex = Buffer.from(`${value}\0`, 'utf16le').toString('hex');
    } else if (/^dword:/i.test(data)) {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(parseInt(data.slice(6), 16));
      type = 4;
      hex = b.toString('hex');
    } else {
      const m = /^hex(?:\(([0-9a-f]+)\))?:(.*)$/i.exec(data);
      if (!m) fail(`unknown data ${data}`);
      data = m![2]!.trim();
      while (data.endsWith('\\')) {
        i++;
        if (i >= lines.length || lines[i]!.trim() === '') fail('hex data cut off');
        data = data.slice(0, -1) + lines[i]!.trim();
      }
      type = m![1] ? parseInt(m![1], 16) : 3;
      hex = data.replace(/[,\s]/g, '').toLowerCase();
    }
    entries.delete(id);
    entries.set(id, { key, name, type, hex, quoted, start: lineStarts[first]!, end: lineStarts[i]! + lines[i]!.length });
  }
  return { buffer, text, encoding, bomLength, header, keys: [...keys.keys()], entries: [...entries.values()] };
}

/**
 * Every key (`path` -> `key`) and value (`path!name` -> `<type code>:<hex of the exact data>`),
 * lowercased paths and names. Quoted strings count as REG_SZ with their terminating NUL, as regedit imports them.
 */
export function readRegValues(file: string): Map<string, string> {
  const reg = readRegFile(file);
  const out = new Map<string, string>();
  for (const key of reg.keys) out.set(key, 'key');
  for (const e of reg.entries) out.set(`${e.key.toLowerCase()}!${e.name.toLowerCase()}`, `${e.type}:${e.hex}`);
  return out;
}
