import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runReportProblems } from '../../src/engine/report-check.js';

const good = () => ({
  tool: 'winstate', version: '0.1.0', document: 'd', mode: 'Test', target: 'snapshot', snapshot: '/x.reg', snapshots: { Registry: '/x.reg' }, whatIf: false, backup: null, partial: false,
  psVersion: '7.6.9', psEdition: 'Core', durationMs: 5,
  summary: { total: 1, inDesiredState: 1, drifted: 0, changed: 0, failed: 0, skipped: 0, waived: 0 },
  results: [{ name: 'a', type: 'Registry', kind: 'Registry', target: 'HKLM\\X!v', inDesiredState: true, differingProperties: [] }],
});

test('a report as the runtime writes it passes', () => {
  assert.equal(runReportProblems(good()), []);
});

test('what the engine would otherwise trust blindly is refused, with the place', () => {
  const wrongMode = { ...good(), mode: 'Apply' };
  assert.match(runReportProblems(wrongMode).join('\n'), /\/mode: /);
  const negative = good();
  negative.summary.failed = -1;
  assert.match(runReportProblems(negative).join('\n'), /\/summary\/failed: /);
  const { results: _results, ...noResults } = good();
  assert.match(runReportProblems(noResults).join('\n'), /must have required property 'results'/);
  const badResult = good();
  (badResult.results[0] as Record<string, unknown>).inDesiredState = 'yes';
  assert.match(runReportProblems(badResult).join('\n'), /\/results\/0\/inDesiredState: /);
  assert.ok(runReportProblems('[DRIFT] not json at all').length > 0);
});

test.run();
