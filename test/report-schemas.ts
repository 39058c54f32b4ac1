// The published formats winstate's reports must follow, checked with xmllint --schema against
// vendored schemas: STIG Viewer's checklist schema and XCCDF 1.2 (see each fixture folder's README).
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { projectPath } from '../src/paths.js';

export const CKL_SCHEMA = projectPath('test', 'fixtures', 'stig', 'U_Checklist_Schema_V2.xsd');
export const XCCDF_SCHEMA = projectPath('test', 'fixtures', 'xccdf-1.2', 'xccdf', '1.2', 'xccdf_1.2.xsd');

function assertValid(schema: string, file: string): void {
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', schema, file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`xmllint is needed (Debian: apt-get install libxml2-utils): ${r.error.message}`);
  assert.is(r.status, 0, `${file}: ${r.stderr.split('\n').slice(0, 5).join('\n')}`);
}

/** The checklist opens in STIG Viewer 2.x's format. */
export function assertCklSchema(file: string): void {
  assertValid(CKL_SCHEMA, file);
}

/** The TestResult is valid XCCDF 1.2. */
export function assertXccdfSchema(file: string): void {
  assertValid(XCCDF_SCHEMA, file);
}
