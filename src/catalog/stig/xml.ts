/**
 * A small, strict XML reader for regular documents such as DISA's XCCDF files: elements,
 * attributes, text, CDATA, comments and processing instructions. Entities are limited to the five
 * predefined ones and character references; a DOCTYPE is refused (no entity definitions, so no
 * entity expansion). Malformed input throws an error naming line and column.
 */

export interface XmlElement {
  /** Qualified name as written, e.g. `Rule` or `dc:title`. */
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

const NAME = /[A-Za-z_:][A-Za-z0-9_:.\-]*/y;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export class XmlError extends Error {}

function position(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `${line}:${offset - lineStart + 1}`;
}

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Replaces `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` and `&#N;` / `&#xN;`; anything else is an error. */
export function decodeEntities(raw: string, fail: (message: string, at: number) => never = defaultFail): string {
  if (!raw.includes('&')) return raw;
  let out = '';
  let last = 0;
  for (let i = raw.indexOf('&'); i !== -1; i = raw.indexOf('&', last)) {
    out += raw.slice(last, i);
    const end = raw.indexOf(';', i);
    if (end === -1 || end - i > 12) fail(`'&' that starts no entity (write it as &amp;)`, i);
    const name = raw.slice(i + 1, end);
    if (name in PREDEFINED) {
      out += PREDEFINED[name];
    } else if (/^#[0-9]+$/.test(name) || /^#x[0-9A-Fa-f]+$/.test(name)) {
      const cp = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      if (!isXmlChar(cp)) fail(`character reference &${name}; names no valid XML character`, i);
      out += String.fromCodePoint(cp);
    } else {
      fail(`unknown entity &${name};`, i);
    }
    last = end + 1;
  }
  return out + raw.slice(last);
}

function defaultFail(message: string): never {
  throw new XmlError(message);
}

/** Parses a whole document and returns its root element. */
export function parseXml(input: string): XmlElement {
  // XML processors see every CRLF / lone CR as LF.
  const text = input.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const fail = (message: string, at: number): never => {
    throw new XmlError(`XML ${position(text, at)}: ${message}`);
  };
  let pos = 0;
  let root: XmlElement | undefined;
  const stack: XmlElement[] = [];

  const readName = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (!m) fail('expected a name', pos);
    pos = NAME.lastIndex;
    return m![0];
  };
  const skipBlanks = (): void => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const skipPast = (terminator: string, what: string): string => {
    const end = text.indexOf(terminator, pos);
    if (end === -1) fail(`unterminated ${what}`, pos);
    const body = text.slice(pos, end);
    pos = end + terminator.length;
    return body;
  };

  while (pos < text.length) {
    const lt = text.indexOf('<', pos);
    const chunkEnd = lt === -1 ? text.length : lt;
    if (chunkEnd > pos) {
      const raw = text.slice(pos, chunkEnd);
      const current = stack[stack.length - 1];
      if (current) {
        const at = pos;
        current.children.push(decodeEntities(raw, (m, i) => fail(m, at + i)));
      } else if (raw.trim() !== '') {
        fail('text outside the root element', pos);
      }
      pos = chunkEnd;
      continue;
    }
    // pos is at '<'
    if (text.startsWith('<!--', pos)) {
      pos += 4;
      skipPast('-->', 'comment');
    } else if (text.startsWith('<![CDATA[', pos)) {
      const current = stack[stack.length - 1];
      if (!current) fail('CDATA outside the root element', pos);
      pos += 9;
      current!.children.push(skipPast(']]>', 'CDATA section'));
    } else if (text.startsWith('<?', pos)) {
      pos += 2;
      skipPast('?>', 'processing instruction');
    } else if (text.startsWith('<!', pos)) {
      fail('DOCTYPE and other declarations are not supported', pos);
    } else if (text.startsWith('</', pos)) {
      const at = pos;
      pos += 2;
      const name = readName();
      skipBlanks();
      if (text[pos] !== '>') fail(`expected '>' to close </${name}`, pos);
      pos++;
      const open = stack.pop();
      if (!open) fail(`closing tag </${name}> without an open element`, at);
      if (open!.name !== name) fail(`closing tag </${name}> does not match <${open!.name}>`, at);
    } else {
      const at = pos;
      pos++;
      const element: XmlElement = { name: readName(), attributes: {}, children: [] };
      let selfClosing = false;
      for (;;) {
        const before = pos;
        skipBlanks();
        if (text.startsWith('/>', pos)) {
          pos += 2;
          selfClosing = true;
          break;
        }
        if (text[pos] === '>') {
          pos++;
          break;
        }
        if (pos >= text.length) fail(`unterminated tag <${element.name}`, at);
        if (pos === before) fail(`expected a blank before attribute in <${element.name}>`, pos);
        const attrName = readName();
        skipBlanks();
        if (text[pos] !== '=') fail(`attribute ${attrName} needs '=' and a quoted value`, pos);
        pos++;
        skipBlanks();
        const quote = text[pos];
        if (quote !== '"' && quote !== "'") fail(`attribute ${attrName} value must be quoted`, pos);
        pos++;
        const valueStart = pos;
        const raw = skipPast(quote!, `attribute ${attrName}`);
        if (raw.includes('<')) fail(`'<' inside attribute ${attrName}`, valueStart);
        if (Object.prototype.hasOwnProperty.call(element.attributes, attrName)) fail(`duplicate attribute ${attrName}`, valueStart);
        // Attribute-value normalisation: literal blanks become spaces.
        element.attributes[attrName] = decodeEntities(raw.replace(/[\t\n]/g, ' '), (m, i) => fail(m, valueStart + i));
      }
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(element);
      else if (root) fail('a second root element', at);
      else root = element;
      if (!selfClosing) stack.push(element);
    }
  }
  if (stack.length > 0) fail(`element <${stack[stack.length - 1]!.name}> is never closed`, text.length);
  if (!root) fail('no root element', 0);
  return root!;
}

/** The name without its namespace prefix. */
export function localName(element: XmlElement): string {
  const colon = element.name.indexOf(':');
  return colon === -1 ? element.name : element.name.slice(colon + 1);
}

export function childElements(element: XmlElement, name?: string): XmlElement[] {
  return element.children.filter((c): c is XmlElement => typeof c !== 'string' && (name === undefined || localName(c) === name));
}

export function firstChild(element: XmlElement, name: string): XmlElement | undefined {
  return childElements(element, name)[0];
}

/** All text below an element, in document order. */
export function textContent(element: XmlElement): string {
  let out = '';
  for (const child of element.children) out += typeof child === 'string' ? child : textContent(child);
  return out;
}
