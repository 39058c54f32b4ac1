/**
 * Offline targets: one exported file per store, its kind told by its content (not its name), as
 * `--snapshot` takes them: a regedit export, a secedit export or security template, an auditpol backup.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

export type StoreName = 'Registry' | 'SecurityTemplate' | 'AuditBackup';

/** The file each store works on in an offline run (full paths once resolved). */
export type Snapshots = Partial<Record<StoreName, string>>;

/**
 * Each store's file. `parameter`, `need` and `example` are also in the runtime's store table
 * (core.ps1, $script:WsStoreTable: Parameter, Need, Example); a test reads both and holds them equal.
 */
export const STORE_FILES: Record<StoreName, { what: string; parameter: string; need: string; example: string }> = {
  Registry: { what: 'regedit export (.reg)', parameter: 'RegistrySnapshot', need: 'a registry export', example: 'file.reg' },
  SecurityTemplate: { what: 'secedit export or security template (.inf)', parameter: 'SecurityTemplate', need: 'a security template', example: 'secedit.inf' },
  AuditBackup: { what: 'auditpol backup (.csv)', parameter: 'AuditBackup', need: 'an audit policy backup', example: 'audit.csv' },
};

/**
 * An offline run (some snapshot given) of a plan with a kind whose store has no file: the
 * runtime's own refusal (Invoke-WsConfiguration, worded the same), said before PowerShell starts.
 * Undefined when nothing is missing or the run is live. `storeOfKind` gives each kind's store
 * (the kind units'), kept out of this module so that it stays free of the kinds.
 */
export function missingStoreProblem<Kind extends string>(kinds: readonly Kind[], snapshots: Snapshots, storeOfKind: (kind: Kind) => StoreName | null): string | undefined {
  if (Object.keys(snapshots).length === 0) return undefined;
  for (const kind of kinds) {
    const store = storeOfKind(kind);
    if (store === null || snapshots[store]) continue;
    const facts = STORE_FILES[store];
    return `${kind} resources need ${facts.need}: pass --snapshot <${facts.example}> (script parameter -${facts.parameter})`;
  }
  return undefined;
}

export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

/** The first meaningful line of a file, decoded from UTF-16 (BOM or not), UTF-8 or ANSI. */
function firstLine(file: string): string {
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(4096);
  let length: number;
  try {
    length = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const bytes = head.subarray(0, length);
  let text: string;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) text = bytes.subarray(2, length - (length % 2)).toString('utf16le');
  else if (bytes.length >= 2 && bytes[1] === 0 && bytes[0] !== 0) text = bytes.subarray(0, length - (length % 2)).toString('utf16le');
  else text = bytes.toString('latin1').replace(/^\xef\xbb\xbf/, '');
  return text.split(/\r\n|\n|\r/).map((l) => l.trim()).find((l) => l !== '' && !l.startsWith(';')) ?? '';
}

/** Which store a snapshot file is for, by its first line. */
export function snapshotKind(file: string): StoreName {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    throw new SnapshotError(`snapshot ${file} does not exist`);
  }
  if (stat.isDirectory()) throw new SnapshotError(`snapshot ${file} is a directory, not an exported file`);
  const line = firstLine(file);
  if (/^(Windows Registry Editor Version 5\.00|REGEDIT4)$/i.test(line)) return 'Registry';
  if (/^\[[^\]]+\]$/.test(line)) return 'SecurityTemplate';
  if (/^Machine Name,Policy Target,Subcategory,Subcategory GUID,/i.test(line)) return 'AuditBackup';
  const shown = line.length > 60 ? `${line.slice(0, 60)}...` : line;
  throw new SnapshotError(
    `snapshot ${file}:1: not a regedit export ("Windows Registry Editor Version 5.00"), a security template ("[Unicode]", "[Version]", ...) ` +
      `or an auditpol backup ("Machine Name,Policy Target,...")${shown ? `; it starts with "${shown}"` : '; it is empty'}`,
  );
}

/** `--snapshot` files sorted into their stores; two files for one store are an error. */
export function classifySnapshots(files: readonly string[]): Snapshots {
  const snapshots: Snapshots = {};
  for (const file of files) {
    const store = snapshotKind(file);
    const earlier = snapshots[store];
    if (earlier !== undefined) throw new SnapshotError(`--snapshot ${file} and ${earlier} are both a ${STORE_FILES[store].what}: give one file per kind`);
    snapshots[store] = resolve(file);
  }
  return snapshots;
}

/** Every file of an offline run, in a stable order (locks are taken in this order, so two runs cannot deadlock). */
export function snapshotFiles(snapshots: Snapshots): string[] {
  return Object.values(snapshots).filter((f): f is string => f !== undefined).sort();
}

/** How a run's target reads in messages: the files, or the live machine. */
export function targetText(snapshots: Snapshots): string {
  const files = snapshotFiles(snapshots);
  return files.length === 0 ? 'the live machine' : files.join(', ');
}
