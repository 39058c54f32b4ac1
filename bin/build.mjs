#!/usr/bin/env node
// Builds winstate: TypeScript to dist/, then the work every CLI start would otherwise repeat:
// schema-checked bundles of the catalog folders and an ajv standalone validator for documents
// (see src/build-artifacts.ts). Node built-ins and the project's own packages only.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
try {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', '.'], { cwd: root, stdio: 'inherit' });
} catch {
  process.exit(1); // tsc has printed the errors
}

const artifacts = await import(new URL('../dist/src/build-artifacts.js', import.meta.url));
const { CATALOG_ENTRIES_DIR, CATALOG_ENTRY_SCHEMA_FILE } = await import(new URL('../dist/src/catalog/catalog.js', import.meta.url));
const { BASELINES_DIR, BASELINE_SCHEMA_FILE } = await import(new URL('../dist/src/catalog/baseline.js', import.meta.url));
const { documentSchema } = await import(new URL('../dist/src/document/schema.js', import.meta.url));

await artifacts.writeFolderBundle(CATALOG_ENTRIES_DIR, CATALOG_ENTRY_SCHEMA_FILE, 'catalog entry');
await artifacts.writeFolderBundle(BASELINES_DIR, BASELINE_SCHEMA_FILE, 'baseline');
artifacts.writeStandaloneValidator('document', documentSchema(), artifacts.DOCUMENT_VALIDATOR_OPTIONS);
const reportCheck = await import(new URL('../dist/src/engine/report-check.js', import.meta.url));
artifacts.writeStandaloneValidator('run-report', reportCheck.runReportSchema(), reportCheck.RUN_REPORT_VALIDATOR_OPTIONS);
