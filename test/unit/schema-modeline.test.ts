import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runCli, tempDir } from '../helpers.js';

/** The schema path a document's modeline names, resolved from the document's folder. */
function modelineTarget(file: string): string {
  const path = /^# yaml-language-server: \$schema=(.+)$/m.exec(readFileSync(file, 'utf8'))?.[1];
  assert.ok(path, 'the document has a modeline');
  return resolve(dirname(file), path!);
}

test('a generated document written outside the repository points its modeline at a schema that exists', async () => {
  const out = join(tempDir(), 'nested', 'cis.yaml');
  const r = await runCli(['baseline', 'cis-ws2016', '--scope', 'MS', '--level', 'L1', '-o', out]);
  assert.is(r.code, 0, r.stderr);
  const target = modelineTarget(out);
  assert.ok(existsSync(target), `${target} exists`);
  assert.is(target, resolve('schema', 'winstate.schema.json'));
});

test('inside the repository the modeline keeps its short relative form', async () => {
  assert.match(readFileSync('configurations/windows-server-2016-cis-l1-ms.yaml', 'utf8'), /^# yaml-language-server: \$schema=\.\.\/schema\/winstate\.schema\.json$/m);
  assert.ok(existsSync(modelineTarget('configurations/windows-server-2016-cis-l1-ms.yaml')));
});

test.run();
