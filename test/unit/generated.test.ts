// The committed generated files are what today's compiler emits: the scripts in generated-ps/
// (one per document in configurations/, none stale) and schema/winstate.schema.json. This is what
// `npm run check:generated` checks, here so that `npm test` alone covers it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

test('generated-ps/ matches what the compiler emits for configurations/', async () => {
  const r = await runCli(['compile', join(ROOT, 'configurations'), '--out', join(ROOT, 'generated-ps'), '--check']);
  assert.is(r.code, 0, `${r.stderr}\nrun: npm run compile`);
  assert.match(r.stderr, /generated script\(s\) up to date/);
});

test('schema/winstate.schema.json matches the schema the resource kinds define', async () => {
  const r = await runCli(['schema', '--out', join(ROOT, 'schema', 'winstate.schema.json'), '--check']);
  assert.is(r.code, 0, `${r.stderr}\nrun: npm run compile`);
});

test.run();
