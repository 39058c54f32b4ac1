import { readFileSync } from 'node:fs';

/**
 * An independent .reg reader for tests (it shares no code with the runtime's reader): every key
 * (`path` -> `key`) and value (`path!name` -> `<type code>:<hex of the exact data>`), lowercased
 * paths and names. Quoted strings count as REG_SZ with their terminating NUL, as regedit imports them.
 */
export function readRegValues(file: string): Map<string, string> {
  const buffer = readFileSync(file);
  const text = buffer[0] === 0xff && buffer[1] === 0xfe ? buffer.toString('utf16le', 2) : buffer.toString('utf8');
  const lines = text.split('\n');
  const out = new Map<string, string>();
  let key: string | undefined;
  const strip = (line: string) => line.replace(/\r$/, '');
  for (let i = 1; i < lines.length; i++) {
    const line = strip(lines[i]!).trim();
    if (line === '' || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      key = line.slice(1, line.lastIndexOf(']')).replace(/\\$/, '').toLowerCase();
      out.set(key, 'key');
      continue;
    }
    let pos = 0;
    let name = '';
    if (line[0] === '@') pos = 1;
    else {
      pos = 1;
      while (line[pos] !== '"') {
        if (line[pos] === '\\') pos++;
        name += line[pos];
        pos++;
      }
      pos++;
    }
    if (line[pos] !== '=') throw new Error(`${file}:${i + 1}: no '=' in ${line}`);
    let data = line.slice(pos + 1);
    const id = `${key}!${name.toLowerCase()}`;
    if (data === '-') {
      out.delete(id);
      continue;
    }
    if (data.startsWith('"')) {
      // Runs on over physical lines until the closing quote; line breaks inside are data.
      let raw = lines[i]!.slice(lines[i]!.indexOf('=', lines[i]!.indexOf(line) + pos) + 1);
      let value = '';
      let j = 1;
      for (;;) {
        if (j >= raw.length) {
          i++;
          if (i >= lines.length) throw new Error(`${file}: unterminated string`);
          raw += `\n${lines[i]}`;
          continue;
        }
        const c = raw[j]!;
        if (c === '\\') {
          value += raw[j + 1];
          j += 2;
        } else if (c === '"') break;
        else {
          value += c;
          j++;
        }
      }
      out.set(id, `1:${Buffer.from(`${value}\0`, 'utf16le').toString('hex')}`);
      continue;
    }
    if (data.startsWith('dword:')) {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(parseInt(data.slice(6), 16));
      out.set(id, `4:${b.toString('hex')}`);
      continue;
    }
    const m = /^hex(?:\(([0-9a-f]+)\))?:(.*)$/i.exec(data);
    if (!m) throw new Error(`${file}:${i + 1}: unknown data ${data}`);
    data = m[2]!;
    while (data.endsWith('\\')) {
      i++;
      data = data.slice(0, -1) + strip(lines[i]!).trim();
    }
    out.set(id, `${m[1] ? parseInt(m[1], 16) : 3}:${data.replace(/[,\s]/g, '').toLowerCase()}`);
  }
  return out;
}
