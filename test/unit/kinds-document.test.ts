// The new document types (src/kinds/CONTRACT.md "Document syntax"): what they resolve to, the
// runtime rows they compile to, and a positioned error for each kind of bad input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateText } from '../../src/document/validate.js';
import { formatDiagnostic, type Diagnostic } from '../../src/document/diagnostics.js';
import { compilePlan, resourceFields } from '../../src/compile/emit.js';
import { documentSchema } from '../../src/document/schema.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers.js';

const FILE = 'kinds.yaml';

function doc(resources: string, extra = ''): string {
  return `metadata:\n  name: kinds\nresources:\n${resources}${extra}`;
}


/** Exactly one error, at line:col, whose message matches. */
function oneError(text: string, line: number, col: number, words: RegExp, code?: string): Diagnostic {
  const r = validateText(FILE, text);
  assert.is(r.plan, undefined, 'an invalid document has no plan');
  assert.is(r.diagnostics.length, 1, r.diagnostics.map(formatDiagnostic).join(' | '));
  const d = r.diagnostics[0]!;
  assert.equal([d.start.line, d.start.col], [line, col], formatDiagnostic(d));
  assert.match(d.message, words);
  if (code) assert.is(d.code, code);
  return d;
}

const GOOD = doc(`  - name: Deny network logon
    type: UserRight
    properties:
      right: Deny access to this computer from the network
      principals: [Guests, Local account, 'NT AUTHORITY\\Authenticated Users', svc-backup]
  - name: Backup operators at least
    type: UserRight
    properties:
      right: SeBackupPrivilege
      mustInclude: ['*S-1-5-32-544']
      mustExclude: [Everyone]
  - name: Lockout duration
    type: AccountPolicy
    properties:
      policy: LockoutDuration
      value: 15
      condition: { anyOf: [{ atLeast: 15 }, { oneOf: [0] }] }
  - name: Complexity
    type: AccountPolicy
    properties: { policy: Password must meet complexity requirements, value: Enabled }
  - name: Guest account
    type: SecurityPolicy
    properties: { policy: 'Accounts: Guest account status', value: Disabled }
  - name: Admin rename
    type: SecurityPolicy
    properties: { policy: NewAdministratorName, value: ops-admin, condition: { not: [Administrator] } }
  - name: Credential validation
    type: AuditPolicy
    properties: { subcategory: Credential Validation, success: enabled, failure: enabled }
  - name: Logon failures
    type: AuditPolicy
    properties: { subcategory: '{0cce9215-69ae-11d9-bed3-505054503030}', failure: enabled }
`);

test('every new document type resolves to its kind, identity and target', () => {
  const r = validateText(FILE, GOOD);
  assert.equal(r.diagnostics.map(formatDiagnostic), []);
  const plan = r.plan!;
  assert.equal(plan.resources.map((x) => [x.kind, x.identity, x.target]), [
    ['UserRight', 'userright:sedenynetworklogonright', 'User right SeDenyNetworkLogonRight'],
    ['UserRight', 'userright:sebackupprivilege', 'User right SeBackupPrivilege'],
    ['AccountPolicy', 'securitytemplate:system access:lockoutduration', 'System Access: LockoutDuration'],
    ['AccountPolicy', 'securitytemplate:system access:passwordcomplexity', 'System Access: PasswordComplexity'],
    ['SecurityPolicy', 'securitytemplate:system access:enableguestaccount', 'System Access: EnableGuestAccount'],
    ['SecurityPolicy', 'securitytemplate:system access:newadministratorname', 'System Access: NewAdministratorName'],
    ['AuditPolicy', 'audit:{0cce923f-69ae-11d9-bed3-505054503030}', 'Audit {0CCE923F-69AE-11D9-BED3-505054503030} (Credential Validation)'],
    ['AuditPolicy', 'audit:{0cce9215-69ae-11d9-bed3-505054503030}', 'Audit {0CCE9215-69AE-11D9-BED3-505054503030} (Logon)'],
  ]);
});

test('rows carry the kind columns of CONTRACT.md, principals normalised to SIDs', () => {
  const plan = validateText(FILE, GOOD).plan!;
  const rows = plan.resources.map(resourceFields);
  const pick = (row: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, row[k]]));
  assert.equal(pick(rows[0]!, ['Kind', 'Right', 'Ensure', 'Principals', 'MustInclude', 'MustExclude', 'AllowLockout']), {
    Kind: 'UserRight', Right: 'SeDenyNetworkLogonRight', Ensure: 'Present', Principals: ['*S-1-5-32-546', '*S-1-5-113', '*S-1-5-11', 'svc-backup'], MustInclude: null, MustExclude: null, AllowLockout: false,
  });
  assert.equal(pick(rows[1]!, ['Principals', 'MustInclude', 'MustExclude']), { Principals: null, MustInclude: ['*S-1-5-32-544'], MustExclude: ['*S-1-1-0'] });
  assert.equal(pick(rows[2]!, ['Section', 'Key', 'ValueKind', 'Ensure', 'Value', 'ConditionView']), {
    Section: 'System Access', Key: 'LockoutDuration', ValueKind: 'integer', Ensure: 'Present', Value: 15, ConditionView: { anyOf: [{ atLeast: 15 }, { oneOf: [0] }] },
  });
  assert.equal((rows[2]!.Condition as Record<string, unknown>).Signed, true);
  assert.equal(pick(rows[3]!, ['ValueKind', 'Value']), { ValueKind: 'boolean', Value: 1 });
  assert.equal((rows[3]!.Policy as { Value: string }).Value, 'Enabled');
  assert.equal(pick(rows[4]!, ['Key', 'Value']), { Key: 'EnableGuestAccount', Value: 0 });
  assert.equal((rows[5]!.Condition as Record<string, unknown>).IgnoreCase, true);
  assert.equal(pick(rows[6]!, ['Guid', 'Subcategory', 'Success', 'Failure']), { Guid: '{0CCE923F-69AE-11D9-BED3-505054503030}', Subcategory: 'Credential Validation', Success: 'enabled', Failure: 'enabled' });
  assert.equal(pick(rows[7]!, ['Success', 'Failure']), { Success: null, Failure: 'enabled' });
});

test('a document of every kind compiles to an ASCII script with a comment line per setting', () => {
  const script = compilePlan(validateText(FILE, GOOD).plan!).text;
  assert.match(script, /# {5}User right: SeDenyNetworkLogonRight = BUILTIN\\Guests, NT AUTHORITY\\Local account, NT AUTHORITY\\Authenticated Users, svc-backup/);
  assert.match(script, /# {5}Template: {3}\[System Access\] LockoutDuration = 15; accepts \{"anyOf":\[\{"atLeast":15\},\{"oneOf":\[0\]\}\]\}/);
  assert.match(script, /# {5}Audit: {6}Logon \{0CCE9215-69AE-11D9-BED3-505054503030\} = includes Failure/);
  assert.match(script, /Principals = @\('\*S-1-5-32-546', '\*S-1-5-113', '\*S-1-5-11', 'svc-backup'\)/);
});

test('the document schema lists the new types and their properties', () => {
  const defs = (documentSchema() as { $defs: Record<string, { properties?: Record<string, unknown> }> }).$defs;
  for (const [type, keys] of Object.entries({ UserRight: ['right', 'principals', 'mustInclude', 'mustExclude', 'allowLockout', 'ensure'], AccountPolicy: ['policy', 'value', 'condition', 'ensure'], SecurityPolicy: ['policy', 'value', 'condition', 'ensure'], AuditPolicy: ['subcategory', 'success', 'failure', 'ensure'] })) {
    assert.equal(Object.keys(defs[type]!.properties!), keys, type);
  }
  assert.ok('anyOf' in (defs.Registry!.properties!.condition as { properties: object }).properties, 'Registry conditions take anyOf too');
});

const ur = (props: string) => doc(`  - name: r\n    type: UserRight\n    properties:\n${props}`);

test('user rights: unknown right with did-you-mean, bad principals, duplicates, mixed forms', () => {
  oneError(ur('      right: SeDenyNetworkLogonRigth\n      principals: [Guests]\n'), 7, 14, /unknown user right 'SeDenyNetworkLogonRigth'; did you mean 'SeDenyNetworkLogonRight'\?/);
  oneError(ur("      right: Deny log on locallyy\n      principals: [Guests]\n"), 7, 14, /did you mean 'Deny log on locally'\?/);
  oneError(ur("      right: SeBackupPrivilege\n      principals: [Guests, 'NT AUTHORITY\\Nobody Here']\n"), 8, 28, /not a known principal of NT AUTHORITY/);
  oneError(ur("      right: SeBackupPrivilege\n      principals: ['Guests,Users']\n"), 8, 20, /may not contain a comma/);
  oneError(ur("      right: SeBackupPrivilege\n      principals: [Authenticated-Users]\n"), 8, 20, /not a known principal; did you mean 'NT AUTHORITY\\Authenticated Users'\?/);
  oneError(ur("      right: SeBackupPrivilege\n      principals: ['*S-1-5-32-544', Administrators]\n"), 8, 37, /same principal as '\*S-1-5-32-544'/);
  oneError(ur("      right: SeBackupPrivilege\n      principals: ['*S-1-x']\n"), 8, 20, /is not a SID/);
  oneError(ur('      right: SeBackupPrivilege\n      principals: [Guests]\n      mustExclude: [Everyone]\n'), 9, 20, /principals \(exactly these\) does not go with mustInclude or mustExclude/);
  oneError(ur('      right: SeBackupPrivilege\n      mustInclude: [Guests]\n      mustExclude: [BUILTIN\\Guests]\n'), 9, 20, /both in mustInclude and in mustExclude/);
  oneError(ur('      right: SeBackupPrivilege\n'), 7, 7, /give principals/);
  oneError(ur('      right: SeBackupPrivilege\n      ensure: Absent\n      principals: []\n'), 9, 19, /ensure: Absent takes only right/);
});

const tpl = (type: string, props: string) => doc(`  - name: p\n    type: ${type}\n    properties:\n${props}`);

test('account and security policy: range, booleans, text, unknown keys, conditions', () => {
  oneError(tpl('AccountPolicy', '      policy: MinimumPasswordLength\n      value: 15\n'), 8, 14, /15 is outside the range of "Minimum password length": 0\.\.14 characters/, 'out-of-range');
  oneError(tpl('AccountPolicy', '      policy: PasswordComplexity\n      value: maybe\n'), 8, 14, /is Enabled or Disabled \(or 1\/0, true\/false\), not "maybe"/);
  oneError(tpl('SecurityPolicy', '      policy: EnableGuestAccount\n      value: 2\n'), 8, 14, /Enabled or Disabled/);
  oneError(tpl('AccountPolicy', '      policy: LockoutDuraton\n      value: 15\n'), 7, 15, /unknown account policy 'LockoutDuraton'; did you mean 'LockoutDuration'\?/);
  oneError(tpl('AccountPolicy', '      policy: EnableGuestAccount\n      value: 0\n'), 7, 15, /EnableGuestAccount is a SecurityPolicy setting/);
  oneError(tpl('AccountPolicy', '      policy: LockoutDuration\n      value: 5\n      condition: { anyOf: [{ atLeast: 15 }, { oneOf: [0] }] }\n'), 8, 14, /does not meet the condition/);
  oneError(tpl('AccountPolicy', '      policy: LockoutDuration\n      value: 15\n      condition: { anyOf: [{ oneOf: [x] }] }\n'), 9, 38, /oneOf lists numbers/);
  oneError(tpl('SecurityPolicy', '      policy: NewGuestName\n      value: 12\n'), 8, 14, /takes text/);
  oneError(tpl('SecurityPolicy', '      policy: NewGuestName\n      value: \'say "hi"\'\n'), 8, 14, /cannot hold a double quote/);
  oneError(tpl('SecurityPolicy', '      policy: NewGuestName\n      condition: { atLeast: 3 }\n'), 8, 29, /applies to numbers/);
  // A text setting may be judged by its condition alone; a number may not.
  assert.equal(validateText(FILE, tpl('SecurityPolicy', '      policy: NewAdministratorName\n      condition: { not: [Administrator] }\n')).diagnostics, []);
  oneError(tpl('AccountPolicy', '      policy: LockoutBadCount\n      condition: { atMost: 3 }\n'), 7, 7, /give value/);
});

const audit = (props: string) => doc(`  - name: a\n    type: AuditPolicy\n    properties:\n${props}`);

test('audit policy: unknown subcategory with did-you-mean, a GUID that is not a GUID, an unknown GUID', () => {
  oneError(audit('      subcategory: Credential Validaton\n      success: enabled\n'), 7, 20, /unknown audit subcategory 'Credential Validaton'; did you mean 'Credential Validation'\?/);
  oneError(audit("      subcategory: '{0CCE923F-69AE-11D9-BED3-50505450303Z}'\n      success: enabled\n"), 7, 20, /is not a GUID/);
  oneError(audit("      subcategory: '{0CCE923F-69AE-11D9-BED3-000000000000}'\n      success: enabled\n"), 7, 20, /is not an advanced audit subcategory GUID/);
  oneError(audit('      subcategory: Logon\n      success: yes\n'), 8, 16, /must be one of enabled, disabled/);
  oneError(audit('      subcategory: Logon\n'), 7, 7, /give success and\/or failure/);
});

test('conflicts use the identity only: same setting, different wants, positioned at the second', () => {
  const conflict = doc(`  - name: one
    type: UserRight
    properties: { right: SeBackupPrivilege, principals: [Administrators] }
  - name: two
    type: UserRight
    properties: { right: Back up files and directories, principals: ['*S-1-5-32-551'] }
`);
  oneError(conflict, 9, 17, /two: conflicts with "one" \(line 4\): both set User right SeBackupPrivilege but to different values/, 'conflict');
  const same = doc(`  - name: one
    type: UserRight
    properties: { right: SeBackupPrivilege, principals: [Administrators, Guests] }
  - name: two
    type: UserRight
    properties: { right: sebackupprivilege, principals: [Guests, '*S-1-5-32-544'] }
`);
  assert.equal(validateText(FILE, same).diagnostics, [], 'the same holders in another order and spelling are no conflict');
  const templates = doc(`  - name: one
    type: AccountPolicy
    properties: { policy: LockoutDuration, value: 15 }
  - name: two
    type: AccountPolicy
    properties: { policy: Account lockout duration, value: 30 }
  - name: three
    type: AuditPolicy
    properties: { subcategory: Logon, success: enabled }
  - name: four
    type: AuditPolicy
    properties: { subcategory: Audit Logon, success: disabled }
`);
  const r = validateText(FILE, templates);
  assert.equal(r.diagnostics.map((d) => [d.start.line, d.code]), [[9, 'conflict'], [15, 'conflict']]);
});

test('waivers override the new kinds with their own keys', () => {
  const text = doc(`  - name: deny
    type: UserRight
    properties: { right: SeDenyNetworkLogonRight, principals: [Guests, Local account] }
  - name: audit
    type: AuditPolicy
    properties: { subcategory: Logon, success: enabled, failure: enabled }
`, `waivers:
  - { resource: deny, justification: jump host needs it for now, expires: 2099-01-01, override: { mustInclude: [Guests] } }
  - { resource: audit, justification: noisy until the SIEM is tuned, expires: 2099-01-01, override: { failure: enabled } }
`);
  const r = validateText(FILE, text);
  assert.equal(r.diagnostics.map(formatDiagnostic), []);
  const rows = r.plan!.resources.map(resourceFields);
  assert.equal((rows[0]!.Waiver as { Override: Record<string, unknown> }).Override, { Ensure: 'Present', Principals: null, MustInclude: ['*S-1-5-32-546'], MustExclude: null, AllowLockout: false });
  assert.equal((rows[1]!.Waiver as { Override: Record<string, unknown> }).Override, { Ensure: 'Present', Success: null, Failure: 'enabled' });
  oneError(doc(`  - name: deny
    type: UserRight
    properties: { right: SeDenyNetworkLogonRight, principals: [Guests] }
`, `waivers:
  - { resource: deny, justification: jump host needs it for now, expires: 2099-01-01, override: { value: 1 } }
`), 8, 106, /a UserRight override may set principals, mustInclude, mustExclude, not value/);
});

test('the CLI reports a bad principal as file:line:col and exits 3', async () => {
  const dir = tempDir('winstate-kinds-doc-');
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, ur("      right: SeBackupPrivilege\n      principals: [Guests, 'BUILTIN\\Nobody']\n"));
  const r = await runCli(['validate', file]);
  assert.is(r.code, 3);
  assert.match(r.stderr, /bad\.yaml:8:28: .*'BUILTIN\\Nobody' is not a known principal of BUILTIN/);
});

test.run();
