/**
 * The one place where report text is made safe for the formats it lands in.
 * Names, key paths, value names and data come from documents and registries and may hold
 * anything: quotes, `<`, `&`, `]]>`, control characters, lone surrogates, emoji.
 */

/** `\u0001`-style marker for a character a format cannot carry, so it stays visible instead of vanishing. */
function marker(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * Characters XML 1.0 forbids (C0 controls other than tab, LF and CR; U+FFFE/U+FFFF) and lone
 * surrogates, which no UTF-8 file can hold.
 */
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Replaces what XML 1.0 cannot carry with a visible `\uXXXX` marker. */
export function xmlSafeChars(text: string): string {
  return text.replace(XML_FORBIDDEN, marker);
}

/** Element content. `>` is escaped too, so `]]>` never appears. */
export function xmlText(value: unknown): string {
  return xmlSafeChars(String(value ?? ''))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** Attribute value (for double-quoted attributes); tab and line breaks survive attribute normalisation. */
export function xmlAttr(value: unknown): string {
  return xmlText(value)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** C0 controls (other than tab, LF, CR), DEL..C1 controls and lone surrogates: HTML parse errors or unencodable. */
const HTML_UNSAFE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text or attribute value in HTML (attributes always double-quoted). */
export function html(value: unknown): string {
  return String(value ?? '')
    .replace(HTML_UNSAFE, marker)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * JSON for a `<script type="application/json">` block: no `<` (so no `</script>` or `<!--`),
 * `>` and `&` escaped as well, and the two line separators JavaScript once treated as line ends.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** One line of terminal output: control characters (ESC, line breaks) shown as markers so data cannot drive the terminal. */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u0008\u000A-\u001F\u007F-\u009F]/g, marker);
}
