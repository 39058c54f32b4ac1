import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateFile } from '../../src/document/validate.js';

test('every document error is reported in one pass: schema, conflicts, unknown names of every kind, duplicate names', () => {
  const { plan, diagnostics } = validateFile('test/fixtures/documents/every-error-at-once.yaml');
  assert.is(plan, undefined);
  const found = diagnostics.map((d) => `${d.start.line}:${d.code}`);
  assert.equal(found, ['5:schema', '11:conflict', '14:unknown-policy', '17:invalid-value', '18:duplicate-name', '20:invalid-value']);
  assert.match(diagnostics[5]!.message, /did you mean 'Credential Validation'/);
});

test.run();
