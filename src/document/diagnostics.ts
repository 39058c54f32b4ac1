/** Problems found in a document, positioned in its source. Made pretty only when printed. */

export type DiagnosticCode =
  | 'io'
  | 'yaml-syntax'
  | 'duplicate-key'
  | 'schema'
  | 'unknown-policy'
  | 'invalid-value'
  | 'out-of-range'
  | 'invalid-key-path'
  | 'duplicate-name'
  | 'conflict'
  | 'waiver';

export interface SourcePosition {
  line: number; // 1-based
  col: number; // 1-based
}

export interface Diagnostic {
  file: string;
  code: DiagnosticCode;
  message: string;
  start: SourcePosition;
  end?: SourcePosition;
  severity: 'error' | 'warning';
}

/**
 * Text from a document made safe for a one-line message: control characters, line and paragraph
 * separators as \\uXXXX, so a name with a line break cannot forge a second diagnostic line.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `file:line:col: message`, the form editors and CI annotations understand. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${printable(d.file)}:${d.start.line}:${d.start.col}: ${d.severity}: ${printable(d.message)} [${d.code}]`;
}

/** Thrown by the library when a document is invalid; carries every diagnostic. */
export class InvalidDocumentError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'InvalidDocumentError';
  }
}
