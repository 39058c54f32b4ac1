/**
 * Work done once at build time (bin/build.mjs) instead of on every CLI start: schema-checked
 * bundles of the JSON data folders and ajv standalone validators. Each artefact carries a stamp
 * of its sources; a stale or missing one is ignored and the work is done at run time instead,
 * so editing a data file without rebuilding is slower, never wrong.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { writeFileAtomic } from './fs.js';
import { PROJECT_ROOT, projectPath } from './paths.js';

export const ARTIFACTS_DIR = projectPath('dist', 'artifacts');
const require = createRequire(import.meta.url);

/** Names, sizes and modification times of a folder's JSON files and of the schema that checks them. */
export function folderStamp(dir: string, schemaFile: string): string {
  const hash = createHash('sha256');
  for (const file of [schemaFile, ...readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f))]) {
    const s = statSync(file);
    hash.update(`${relative(PROJECT_ROOT, file)}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

export function bundleFile(dir: string): string {
  return join(ARTIFACTS_DIR, `${relative(PROJECT_ROOT, dir).replace(/[\\/]/g, '-')}.bundle.json`);
}

export interface FolderBundle<T> {
  stamp: string;
  files: { file: string; data: T }[];
}

/** The build's bundle of a data folder when it is current, else undefined. */
export function readBundle<T>(dir: string, schemaFile: string): FolderBundle<T>['files'] | undefined {
  const file = bundleFile(dir);
  if (!existsSync(file)) return undefined;
  const bundle = JSON.parse(readFileSync(file, 'utf8')) as FolderBundle<T>;
  return bundle.stamp === folderStamp(dir, schemaFile) ? bundle.files : undefined;
}

export function schemaStamp(schema: unknown): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

export function standaloneValidatorFile(name: string): string {
  return join(ARTIFACTS_DIR, `${name}.validator.cjs`);
}

/** A validator function as ajv's own compile returns it (errors on the function). */
export interface ValidatorFunction {
  (data: unknown): boolean;
  errors?: import('ajv').ErrorObject[] | null;
}

/** The build's standalone validator for this exact schema, when there is one. */
export function loadStandaloneValidator(name: string, schema: unknown): ValidatorFunction | undefined {
  const file = standaloneValidatorFile(name);
  if (!existsSync(file)) return undefined;
  const module = require(file) as { stamp: string; validate: ValidatorFunction };
  return module.stamp === schemaStamp(schema) ? module.validate : undefined;
}

/** ajv itself, loaded only when no build artefact serves (a few tens of milliseconds). */
export function ajv2020(options: Record<string, unknown>): import('ajv/dist/2020.js').Ajv2020 {
  const { Ajv2020 } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  return new Ajv2020(options);
}

export const DOCUMENT_VALIDATOR_OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true, verbose: true } as const;
export const DATA_VALIDATOR_OPTIONS = { allErrors: true, allowUnionTypes: true } as const;

/** Build step: checks every file of a data folder (throwing on a bad one) and bundles them. */
export async function writeFolderBundle(dir: string, schemaFile: string, what: string): Promise<string> {
  const { readJsonFiles } = await import('./catalog/data-files.js');
  const stamp = folderStamp(dir, schemaFile);
  const files = readJsonFiles(dir, schemaFile, what, { bundle: false });
  const file = bundleFile(dir);
  writeFileAtomic(file, JSON.stringify({ stamp, files }));
  return file;
}

/** Build step: the schema compiled into a standalone CommonJS validator module, stamped with the schema. */
export function writeStandaloneValidator(name: string, schema: unknown, options: Record<string, unknown>): string {
  const standaloneCode = (require('ajv/dist/standalone') as { default: (ajv: unknown, validate: unknown) => string }).default;
  const ajv = ajv2020({ ...options, code: { source: true } });
  const code = standaloneCode(ajv, ajv.compile(schema as object));
  const file = standaloneValidatorFile(name);
  writeFileAtomic(file, `${code}\nconst wsValidate = module.exports;\nmodule.exports = { validate: wsValidate, stamp: ${JSON.stringify(schemaStamp(schema))} };\n`);
  return file;
}
