// The generated script run by hand, for the kinds that are not registry values: its text output and
// -WhatIf name each setting with its current and desired value in policy terms (principals, numbers,
// Enabled/Disabled, Success and Failure, AppLocker collections), as the CLI does; -WhatIf writes nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compilePlan } from '../../src/compile/emit.js';
import { validateFile } from '../../src/document/validate.js';
import { formatDiagnostic } from '../../src/document/diagnostics.js';
import { projectPath } from '../../src/paths.js';
import { runPwshFile, tempDir, writeReg } from '../helpers.js';
import { asUtf16Crlf } from '../kinds-helpers.js';

const DOC = `metadata: { name: kinds-text }
resources:
  - { name: network logon, type: UserRight, properties: { right: SeNetworkLogonRight, principals: [Administrators, Authenticated Users] } }
  - { name: lockout threshold, type: AccountPolicy, properties: { policy: LockoutBadCount, value: 3 } }
  - { name: admin account, type: SecurityPolicy, properties: { policy: EnableAdminAccount, value: Disabled } }
  - { name: sensitive privilege use, type: AuditPolicy, properties: { subcategory: Sensitive Privilege Use, success: enabled, failure: enabled } }
  - { name: deny network, type: Policy, properties: { stig: WN16-MS-000370, value: [Guests] } }
  - { name: AppLocker, type: AppLockerPolicy, properties: { policyFile: policy.xml } }
`;

/** The lines each result prints: status, setting, current -> desired, in that kind's words. */
const CHANGES: [string, string, string][] = [
  ['network logon', 'Everyone, BUILTIN\\Administrators, BUILTIN\\Users, BUILTIN\\Backup Operators', 'BUILTIN\\Administrators, NT AUTHORITY\\Authenticated Users'],
  ['lockout threshold', '10', '3'],
  ['admin account', 'Enabled', 'Disabled'],
  ['sensitive privilege use', 'Success', 'Success and Failure'],
  ['deny network', 'not defined', 'BUILTIN\\Guests'],
  ['AppLocker', 'Exe: NotConfigured, 0 rules; Appx: NotConfigured, 0 rules; Script: NotConfigured, 0 rules', 'Exe: Enabled, 3 rules; Appx: AuditOnly, 1 rule; Script: NotConfigured, 0 rules'],
];
const TARGETS = ['User right SeNetworkLogonRight', 'System Access: LockoutBadCount', 'System Access: EnableAdminAccount', 'Audit {0CCE9228-69AE-11D9-BED3-505054503030} (Sensitive Privilege Use)', 'User right SeDenyNetworkLogonRight', 'AppLocker HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\SrpV2 (Exe, Appx, Script)'];

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('the script run by hand: -WhatIf and the text output say setting, current -> desired in policy terms for every kind', () => {
  const dir = tempDir();
  const doc = join(dir, 'kinds.yaml');
  writeFileSync(doc, DOC);
  copyFileSync(projectPath('test', 'fixtures', 'applocker', 'policy.xml'), join(dir, 'policy.xml'));
  const files = { reg: join(dir, 's.reg'), inf: join(dir, 's.inf'), csv: join(dir, 's.csv') };
  writeReg(files.reg, ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies]']);
  writeFileSync(files.inf, asUtf16Crlf(readFileSync(projectPath('test', 'fixtures', 'secedit', 'SecurityPolicyDsc_sample.inf'))));
  copyFileSync(projectPath('test', 'fixtures', 'auditpol', 'AuditPolicyDsc_audit.csv'), files.csv);
  const { plan, diagnostics } = validateFile(doc);
  assert.equal(diagnostics.map(formatDiagnostic), []);
  const script = join(dir, 'kinds-text.ps1');
  writeFileSync(script, compilePlan(plan!).text);
  const stores = ['-RegistrySnapshot', files.reg, '-SecurityTemplate', files.inf, '-AuditBackup', files.csv];
  const bytes = () => Object.values(files).map((f) => readFileSync(f));

  const tested = runPwshFile(script, ['-Mode', 'Test', ...stores]);
  assert.is(tested.status, 2, tested.stderr);
  for (const [name, now, desired] of CHANGES) assert.match(tested.stdout, new RegExp(`\\[DRIFT\\]   ${escape(name)}: ${escape(now)} -> ${escape(desired)}\\r?\\n`), name);
  assert.match(tested.stdout, /\n6 resources: 0 changed, 0 in desired state, 6 drifted, 0 failed\r?\n/);
  assert.not.match(tested.stdout, /\{"/, 'never raw JSON');

  const before = bytes();
  const whatIf = runPwshFile(script, ['-Mode', 'Set', '-WhatIf', ...stores]);
  assert.is(whatIf.status, 2, whatIf.stderr);
  CHANGES.forEach(([name, now, desired], i) => {
    assert.match(whatIf.stdout, new RegExp(`What if: Performing the operation "Set ${escape(now)} -> ${escape(desired)}" on target "${escape(name)} \\[${escape(TARGETS[i]!)}\\]"`), name);
    assert.match(whatIf.stdout, new RegExp(`\\[WHATIF\\]  ${escape(name)}: would change ${escape(now)} -> ${escape(desired)}\\r?\\n`), name);
  });
  assert.equal(bytes(), before, '-WhatIf writes nothing');

  const set = runPwshFile(script, ['-Mode', 'Set', ...stores, '-BackupPath', join(dir, 'b.json')]);
  assert.is(set.status, 0, set.stderr);
  for (const [name, now, desired] of CHANGES) assert.match(set.stdout, new RegExp(`\\[CHANGED\\] ${escape(name)}: ${escape(now)} -> ${escape(desired)}\\r?\\n`), name);
  assert.match(set.stdout, /\n6 resources: 6 changed, 0 already in desired state, 0 drifted, 0 failed\r?\n/);
  const again = runPwshFile(script, ['-Mode', 'Test', ...stores]);
  assert.is(again.status, 0, again.stderr);
  for (const [name, , desired] of CHANGES) assert.match(again.stdout, new RegExp(`\\[OK\\]      ${escape(name)}: ${escape(desired)}\\r?\\n`), name);
});

test.run();
