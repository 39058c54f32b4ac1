import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateFile } from '../../src/document/validate.js';
import { importStig } from '../../src/catalog/stig/import.js';
import { tempDir } from '../helpers.js';

const XCCDF = 'test/fixtures/stig/U_MS_Windows_Server_2016_STIG_V2R10_Manual-xccdf.xml';

function documentWith(include: string, waivers = ''): string {
  const dir = tempDir();
  copyFileSync(XCCDF, join(dir, 'stig.xml'));
  const file = join(dir, 'doc.yaml');
  writeFileSync(file, `metadata: { name: stig-included }\ninclude:\n  - ${include}\n${waivers}`);
  return file;
}

test('include: { stig, scope } brings in the benchmark as import stig writes it, and waivers name its rules by STIG id', () => {
  const imported = importStig(readFileSync(XCCDF, 'utf8'), { scope: 'MS' });
  const file = documentWith('{ stig: stig.xml, scope: MS }', "waivers:\n  - { resource: WN16-SO-000020, justification: 'the domain GPO sets it', expires: '2099-01-01' }\n");
  const { plan, diagnostics } = validateFile(file);
  assert.equal(diagnostics, []);
  assert.is(plan!.resources.length, imported.resources.length);
  const waived = plan!.resources.filter((r) => r.waiver);
  assert.ok(waived.length >= 1, 'the waiver bound to the rule');
  assert.ok(plan!.resources.some((r) => r.kind === 'UserRight' || r.kind === 'AuditPolicy' || r.kind === 'Registry'));
});

test('a missing or unreadable benchmark is a positioned error at the include', () => {
  const missing = validateFile(documentWith('{ stig: nope.xml, scope: MS }'));
  assert.is(missing.diagnostics.length, 1);
  assert.is(missing.diagnostics[0]!.start.line, 3);
  assert.match(missing.diagnostics[0]!.message, /cannot read the STIG benchmark .*nope\.xml: ENOENT/);
  const file = documentWith('{ stig: stig.xml, scope: MS }');
  writeFileSync(join(file, '..', 'stig.xml'), '<not-a-benchmark/>');
  const bad = validateFile(file);
  assert.match(bad.diagnostics[0]!.message, /is not a readable STIG XCCDF benchmark/);
  const noScope = validateFile(documentWith('{ stig: stig.xml }'));
  assert.ok(noScope.diagnostics.length > 0);
  assert.is(noScope.diagnostics[0]!.start.line, 3);
});

test.run();
