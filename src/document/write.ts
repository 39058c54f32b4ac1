/**
 * Writing generated documents (`winstate import stig`, `winstate baseline`): one YAML layout, a header
 * comment, and one way to hand the result over (checked by the validator, written atomically or printed).
 */
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { Document, isMap, isSeq } from 'yaml';
import { projectPath } from '../paths.js';
import { writeFileAtomic } from '../fs.js';
import { EXIT } from '../engine/results.js';
import { formatDiagnostic } from './diagnostics.js';
import { validateText } from './validate.js';

export const SCHEMA_MODELINE = 'yaml-language-server: $schema=../schema/winstate.schema.json';

/** One line of text: whitespace collapsed, control characters dropped. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
}

/**
 * The document as YAML under a header comment (the schema modeline first). Short lists and conditions
 * go on one line: `flow.document` paths in the document, `flow.resource` paths in every resource.
 */
export function renderDocument(
  contents: { metadata: Record<string, unknown>; resources: Record<string, unknown>[] },
  header: string[],
  flow: { document: string[][]; resource: string[][] },
): string {
  const doc = new Document(contents);
  const flowAt = (node: unknown, path: string[]): void => {
    let n = node;
    for (const key of path) n = isMap(n) ? n.get(key, true) : undefined;
    if (isMap(n) || isSeq(n)) n.flow = true;
  };
  for (const path of flow.document) flowAt(doc.contents, path);
  const list = (doc.contents as unknown as { get(k: string, keep: true): unknown }).get('resources', true);
  if (isSeq(list)) for (const item of list.items) for (const path of flow.resource) flowAt(item, path);
  // yaml prefixes every comment line with '#'; a leading space keeps '# text'.
  doc.commentBefore = [SCHEMA_MODELINE, '', ...header].map((l) => (l === '' ? '' : ` ${l}`)).join('\n');
  return doc.toString({ lineWidth: 0, defaultStringType: 'QUOTE_SINGLE', defaultKeyType: 'PLAIN', flowCollectionPadding: true, indentSeq: true });
}

/**
 * The modeline made to point at this installation's schema from where the document goes, so an
 * editor finds it wherever the document is written (the repository's own documents keep the
 * relative form, which is the same path there).
 */
export function withSchemaPath(yaml: string, documentDir: string): string {
  let path = relative(documentDir, projectPath('schema', 'winstate.schema.json')).split(sep).join('/');
  if (!path.startsWith('.') && !isAbsolute(path)) path = `./${path}`;
  return yaml.replace(`# ${SCHEMA_MODELINE}`, `# yaml-language-server: $schema=${path}`);
}

/**
 * Hands a generated document over: it must validate (a refusal is a bug here, never the user's), then
 * goes to `out` atomically or to stdout. Returns an exit code on failure, undefined when delivered.
 */
export function deliverDocument(label: string, out: string | undefined, documentName: string, yaml: string, io: { stdout: (text: string) => void; stderr: (text: string) => void }): number | undefined {
  const { diagnostics } = validateText(out ?? `${documentName}.yaml`, yaml);
  if (diagnostics.length > 0) {
    io.stderr(`winstate: ${label}: internal error, the document does not validate; nothing written\n${diagnostics.map(formatDiagnostic).join('\n')}\n`);
    return EXIT.runtimeError;
  }
  if (out === undefined) {
    // Printed documents keep the form the repository's own configurations use: where they go is not known.
    io.stdout(yaml);
    return undefined;
  }
  try {
    writeFileAtomic(out, withSchemaPath(yaml, dirname(resolve(out))));
  } catch (error) {
    io.stderr(`winstate: ${label}: cannot write ${out}: ${(error as Error).message}\n`);
    return EXIT.runtimeError;
  }
  return undefined;
}
