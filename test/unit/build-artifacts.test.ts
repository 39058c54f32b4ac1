// Build-time artefacts (src/build-artifacts.ts, written by bin/build.mjs): the standalone document
// validator judges exactly as ajv compiling the schema at run time, the catalog bundle holds what
// the folders hold, and a bundle whose sources changed is ignored rather than trusted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ajv2020, bundleFile, DOCUMENT_VALIDATOR_OPTIONS, loadStandaloneValidator, readBundle, writeFolderBundle,
} from '../../src/build-artifacts.js';
import { documentSchema } from '../../src/document/schema.js';
import { loadText } from '../../src/document/load.js';
import { CATALOG_ENTRIES_DIR, CATALOG_ENTRY_SCHEMA_FILE } from '../../src/catalog/catalog.js';
import { readJsonFiles } from '../../src/catalog/data-files.js';
import { tempDir } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

test('the build left a current standalone validator, and it judges every document as runtime ajv does', () => {
  const schema = documentSchema();
  const standalone = loadStandaloneValidator('document', schema);
  assert.ok(standalone, 'no current standalone validator: run npm run build');
  const runtime = ajv2020(DOCUMENT_VALIDATOR_OPTIONS).compile(schema);
  const dirs = [join(ROOT, 'test', 'fixtures', 'bad-documents'), join(ROOT, 'configurations'), join(ROOT, 'examples', 'demo')];
  let compared = 0;
  for (const dir of dirs) {
    for (const name of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
      const { source } = loadText(name, readFileSync(join(dir, name), 'utf8'));
      if (!source) continue;
      const a = standalone!(source.data);
      const b = runtime(source.data);
      assert.is(a, b, name);
      const shape = (errors: typeof runtime.errors) => (errors ?? []).map((e) => `${e.instancePath} ${e.keyword} ${e.message}`);
      assert.equal(shape(standalone!.errors), shape(runtime.errors), name);
      compared++;
    }
  }
  assert.ok(compared >= 80, `compared only ${compared} documents`);
});

test('a validator for another schema is not used', () => {
  assert.is(loadStandaloneValidator('document', { ...documentSchema(), title: 'changed' }), undefined);
});

test('the catalog bundle holds exactly what the entry files hold', () => {
  const bundled = readBundle(CATALOG_ENTRIES_DIR, CATALOG_ENTRY_SCHEMA_FILE);
  assert.ok(bundled, 'no current catalog bundle: run npm run build');
  assert.equal(bundled, readJsonFiles(CATALOG_ENTRIES_DIR, CATALOG_ENTRY_SCHEMA_FILE, 'catalog entry', { bundle: false }));
});

test('a bundle whose folder changed since the build is ignored, and the files are read again', async () => {
  const dir = tempDir('winstate-bundle-');
  const schema = join(tempDir('winstate-bundle-schema-'), 'schema.json');
  writeFileSync(schema, JSON.stringify({ type: 'object', required: ['n'], properties: { n: { type: 'integer' } } }));
  writeFileSync(join(dir, 'a.json'), '{"n":1}');
  copyFileSync(join(dir, 'a.json'), join(dir, 'b.json'));
  const file = await writeFolderBundle(dir, schema, 'thing');
  try {
    assert.equal(readBundle(dir, schema), [{ file: 'a.json', data: { n: 1 } }, { file: 'b.json', data: { n: 1 } }]);
    writeFileSync(join(dir, 'b.json'), '{"n":22}');
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, 'b.json'), later, later);
    assert.is(readBundle(dir, schema), undefined, 'a stale bundle must not be used');
    assert.equal(readJsonFiles(dir, schema, 'thing').map((f) => f.data), [{ n: 1 }, { n: 22 }]);
    writeFileSync(join(dir, 'c.json'), '{"n":"three"}');
    assert.throws(() => readJsonFiles(dir, schema, 'thing'), /thing .*c\.json is invalid: \/n must be integer/);
  } finally {
    rmSync(file, { force: true });
    assert.is(bundleFile(dir), file);
  }
});

test.run();
