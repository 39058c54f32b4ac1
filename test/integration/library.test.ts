import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as winstate from '../../src/index.js';
import { tempDir } from '../helpers.js';

test('the library exposes load, compile and run; an invalid document throws with every diagnostic', async () => {
  const dir = tempDir();
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'metadata: { name: x }\nresources:\n  - { name: a, type: Registry, properties: { key: HKLM\\X, valueName: v, valueType: DWord, valueData: -1 } }\n  - { name: a, type: Nope, properties: {} }\n');
  try {
    winstate.loadDocument(bad);
    assert.unreachable('should throw');
  } catch (error) {
    assert.instance(error, winstate.InvalidDocumentError);
    const diagnostics = (error as winstate.InvalidDocumentError).diagnostics;
    assert.ok(diagnostics.length >= 2);
    assert.ok(diagnostics.every((d) => d.file === bad && d.start.line >= 3));
  }

  const plan = winstate.loadDocument('configurations/smb-client-signing.yaml');
  const script = winstate.compilePlan(plan);
  assert.is(script.text, readFileSync('generated-ps/smb-client-signing.ps1', 'utf8'), 'library compile equals the committed script');

  const snapshot = join(dir, 'server.reg');
  copyFileSync('examples/demo/server-before.reg', snapshot);
  const engine = new winstate.Engine();
  try {
    const report = await engine.apply(plan, { snapshot });
    assert.ok(report.converged);
    assert.is(winstate.exitCodeOf(report), winstate.EXIT.ok);
    const again = await engine.test(plan, { snapshot });
    assert.is(winstate.exitCodeOf(again), 0);
    assert.is(engine.session.starts, 1, 'one PowerShell process for the whole session');
  } finally {
    await engine.close();
  }
});

test.run();
