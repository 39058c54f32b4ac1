#!/usr/bin/env node
// Builds winstate: TypeScript to dist/, then the work every CLI start would otherwise repeat:
// schema-checked bundles of the catalog folders and an ajv standalone validator for documents
// (see src/build-artifacts.ts). Node built-ins and the project's own packages only.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
try {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', '.'], { cwd: root, stdio: 'inherit' });
} catch {
  process.exit(1); // tsc has printed the errors
}

const artifacts = await import(new URL('../dist/src/build-artifacts.js', import.meta.url));
const { readJsonFiles } = await import(new URL('../dist/src/catalog/data-files.js', import.meta.url));
const { CATALOG_ENTRIES_DIR, CATALOG_ENTRY_SCHEMA_FILE } = await import(new URL('../dist/src/catalog/catalog.js', import.meta.url));
const { BASELINES_DIR, BASELINE_SCHEMA_FILE } = await import(new URL('../dist/src/catalog/baseline.js', import.meta.url));
const { documentSchema } = await import(new URL('../dist/src/document/schema.js', import.meta.url));

function writeAtomic(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

for (const [dir, schema, what] of [[CATALOG_ENTRIES_DIR, CATALOG_ENTRY_SCHEMA_FILE, 'catalog entry'], [BASELINES_DIR, BASELINE_SCHEMA_FILE, 'baseline']]) {
  const stamp = artifacts.folderStamp(dir, schema);
  const files = readJsonFiles(dir, schema, what, { bundle: false });
  writeAtomic(artifacts.bundleFile(dir), JSON.stringify({ stamp, files }));
}

const { Ajv2020 } = require('ajv/dist/2020.js');
const standaloneCode = require('ajv/dist/standalone').default;
const schema = documentSchema();
const ajv = new Ajv2020({ ...artifacts.DOCUMENT_VALIDATOR_OPTIONS, code: { source: true } });
const code = standaloneCode(ajv, ajv.compile(schema));
writeAtomic(
  artifacts.standaloneValidatorFile('document'),
  `${code}\nconst wsValidate = module.exports;\nmodule.exports = { validate: wsValidate, stamp: ${JSON.stringify(artifacts.schemaStamp(schema))} };\n`,
);
