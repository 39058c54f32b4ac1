// Document validation: every class of bad input is reported as a positioned diagnostic.
import { test } from 'uvu';
import { registrySpec } from '../../src/kinds/registry/kind.js';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateFile, validateText } from '../../src/document/validate.js';
import { formatDiagnostic, type Diagnostic } from '../../src/document/diagnostics.js';
import { MAX_DOCUMENT_BYTES } from '../../src/document/load.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SEED = join(ROOT, 'configurations', 'smb-client-signing.yaml');
const FILE = 'doc.yaml';
const SMB_TITLE = 'Microsoft network client: Digitally sign communications (if server agrees)';

/** Lines joined with '\n', so a line's index + 1 is its line number in the diagnostics. */
const doc = (...lines: string[]): string => `${lines.join('\n')}\n`;
const HEAD = ['metadata:', '  name: t', 'resources:']; // lines 1-3; the first resource starts on line 4

/** A Registry resource: its properties start 3 lines below `- name:`, indented 6 (so `key: ` values are at col 12). */
const registry = (name: string, ...props: string[]): string[] => [
  `  - name: ${name}`,
  '    type: Registry',
  '    properties:',
  ...props.map((p) => `      ${p}`),
];
const securityOption = (name: string, ...props: string[]): string[] => [
  `  - name: ${name}`,
  '    type: SecurityOption',
  '    properties:',
  ...props.map((p) => `      ${p}`),
];
/** A Registry value with data; `valueData: ` values sit at col 18, three lines below `key:`. */
const value = (name: string, type: string, data: string, key = String.raw`HKLM\Software\X`, valueName = 'V'): string[] =>
  registry(name, `key: ${key}`, `valueName: ${valueName}`, `valueType: ${type}`, `valueData: ${data}`);

function diagnosticsOf(text: string): Diagnostic[] {
  return validateText(FILE, text).diagnostics;
}

function expectDiagnostic(d: Diagnostic | undefined, code: string, line: number, col: number, fragment: string | RegExp): void {
  assert.ok(d, `expected a ${code} diagnostic at ${line}:${col}`);
  const shown = `${d!.code} ${d!.start.line}:${d!.start.col} ${d!.message}`;
  assert.is(d!.code, code, shown);
  assert.is(d!.start.line, line, `line of: ${shown}`);
  assert.is(d!.start.col, col, `column of: ${shown}`);
  assert.is(d!.file, FILE);
  assert.is(d!.severity, 'error');
  if (typeof fragment === 'string') assert.ok(d!.message.includes(fragment), `message '${d!.message}' should include '${fragment}'`);
  else assert.match(d!.message, fragment);
}

/** The text must produce exactly one diagnostic, and this one. */
function expectOnly(text: string, code: string, line: number, col: number, fragment: string | RegExp): Diagnostic {
  const list = diagnosticsOf(text);
  assert.is(list.length, 1, `expected one diagnostic, got: ${list.map(formatDiagnostic).join(' | ')}`);
  expectDiagnostic(list[0], code, line, col, fragment);
  assert.is(validateText(FILE, text).plan, undefined, 'an invalid document has no plan');
  return list[0]!;
}

function planOf(text: string) {
  const result = validateText(FILE, text);
  assert.equal(result.diagnostics.map(formatDiagnostic), [], 'document should be valid');
  assert.ok(result.plan);
  return result.plan!;
}

// --- valid documents ---------------------------------------------------------------------------

test('the seed document is valid: policy and raw value set the same registry value to the same data', () => {
  const result = validateFile(SEED);
  assert.equal(result.diagnostics, []);
  const plan = result.plan!;
  assert.is(plan.name, 'smb-client-signing');
  assert.is(plan.resources.length, 2);
  const [policy, raw] = plan.resources;
  assert.equal(policy!.target, raw!.target);
  assert.equal(registrySpec(policy)!.target, {
    hive: 'HKEY_LOCAL_MACHINE',
    subKey: 'SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters',
    valueName: 'EnableSecuritySignature',
  });
  assert.equal(registrySpec(policy!)!.desired, { ensure: 'Present', valueType: 'DWord', valueData: 1 });
  assert.equal(registrySpec(raw!)!.desired, registrySpec(policy!)!.desired);
  assert.is(policy!.policy?.title, SMB_TITLE);
  assert.is(policy!.line, 6);
  assert.is(raw!.line, 11);
});

test('two Registry resources with the same value and the same data are not a conflict', () => {
  const plan = planOf(doc(...HEAD, ...value('a', 'DWord', '1'), ...value('b', 'DWord', '1', String.raw`hklm\SOFTWARE\x`, 'v')));
  assert.is(plan.resources.length, 2);
});

// --- YAML ---------------------------------------------------------------------------------------

test('YAML syntax error: tab indentation is reported where it occurs', () => {
  expectOnly(doc('metadata:', '\tname: t', 'resources: []'), 'yaml-syntax', 2, 1, /tab/i);
});

test('YAML syntax error: an unclosed single quote is reported where it opens, not at the end of the file', () => {
  const list = diagnosticsOf(doc(...HEAD, ...registry('r', String.raw`key: 'HKLM\Software\X`, 'valueName: A', 'valueType: DWord', 'valueData: 1')));
  expectDiagnostic(list[0], 'yaml-syntax', 7, 12, /^Missing closing 'quote: the text quoted from here never ends \(the parser read on to line \d+/);
  // A quote that is closed, with '' inside, is no opener: the error there is someone else's.
  const closed = diagnosticsOf(doc(...HEAD, ...registry('r', "key: 'HKLM\\Software\\it''s'", 'valueName: [A')));
  expectDiagnostic(closed[0], 'yaml-syntax', 8, 18, /this \[ is never closed/);
});

test('YAML indentation: a key of a sequence item indented less than the item\'s first key is reported at the key, with both columns', () => {
  const list = diagnosticsOf(doc(...HEAD, '  - name: r', '   type: Registry', '    properties: {}'));
  expectDiagnostic(list[0], 'yaml-syntax', 5, 4, /^All mapping items must start at the same column: this key starts at column 4, the key of the item above at column 5 \(or, for a new item, start the line with '- '\)$/);
  assert.is(list.length, 1, list.map(formatDiagnostic).join('\n'));
});

test('YAML syntax error: unterminated flow sequence', () => {
  const list = diagnosticsOf(doc(...HEAD, '  - name: [unclosed', '    type: Registry'));
  assert.ok(list.length >= 1);
  assert.ok(list.every((d) => d.code === 'yaml-syntax'));
  // At the [ itself, not on the next line where the parser noticed.
  expectDiagnostic(list[0], 'yaml-syntax', 4, 11, /this \[ is never closed: a flow sequence must end with a \] \(the parser noticed on line 5\)/);
  assert.is(list.length, 1, 'the rest of the document, read as part of the open [, adds nothing');
});

test('duplicate key is reported at the second occurrence', () => {
  expectOnly(doc('metadata:', '  name: t', '  name: u', 'resources:', ...registry('r', String.raw`key: HKLM\Software\X`)),
    'duplicate-key', 3, 3, 'duplicate key');
});

test('every duplicate key is reported, not only the first', () => {
  const list = diagnosticsOf(doc('metadata:', '  name: t', '  name: u', 'resources:',
    ...registry('r', String.raw`key: HKLM\Software\X`, String.raw`key: HKLM\Software\Y`)));
  assert.is(list.length, 2);
  expectDiagnostic(list[0], 'duplicate-key', 3, 3, 'duplicate key');
  expectDiagnostic(list[1], 'duplicate-key', 9, 7, 'duplicate key');
});

// --- schema: unknown properties, at the key's own position ---------------------------------------

test('unknown property at top level', () => {
  expectOnly(doc('metadata:', '  name: t', 'extra: 1', 'resources:', ...registry('r', String.raw`key: HKLM\Software\X`)),
    'schema', 3, 1, "unknown property 'extra'");
});

test('unknown property in metadata', () => {
  expectOnly(doc('metadata:', '  name: t', '  colour: red', 'resources:', ...registry('r', String.raw`key: HKLM\Software\X`)),
    'schema', 3, 3, "unknown property 'colour'");
});

test('unknown property in a resource', () => {
  expectOnly(doc(...HEAD, '  - name: r', '    type: Registry', '    enabled: true', '    properties:', String.raw`      key: HKLM\Software\X`),
    'schema', 6, 5, "unknown property 'enabled'");
});

test('unknown property in Registry properties (a typo of valueName)', () => {
  expectOnly(doc(...HEAD, ...registry('r', String.raw`key: HKLM\Software\X`, 'valueNmae: Foo')),
    'schema', 8, 7, "unknown property 'valueNmae'; did you mean 'valueName'? allowed: key, valueName,");
});

test('unknown property far from any allowed one gets no suggestion, only the list', () => {
  expectOnly(doc('metadata:', '  name: t', '  colour: red', 'resources:', ...registry('r', String.raw`key: HKLM\Software\X`)),
    'schema', 3, 3, "metadata: unknown property 'colour'; allowed: name");
});

// --- schema: types, required properties, resource type --------------------------------------------

test('wrong type: metadata.name is a number', () => {
  expectOnly(doc('metadata:', '  name: 5', 'resources:', ...registry('r', String.raw`key: HKLM\Software\X`)),
    'schema', 2, 9, 'metadata.name: must be string');
});

test('wrong type: Registry key is a list', () => {
  expectOnly(doc(...HEAD, ...registry('r', 'key: [a, b]')), 'schema', 7, 12, 'resources[0].properties.key: must be string');
});

test('wrong type: resources is not a list', () => {
  expectOnly(doc('metadata:', '  name: t', 'resources: 5'), 'schema', 3, 12, 'resources: must be array');
});

test('wrong type: valueData is a boolean', () => {
  expectOnly(doc(...HEAD, ...value('r', 'DWord', 'true')), 'schema', 10, 18, 'resources[0].properties.valueData: must be string');
});

test('metadata.name that cannot name a script file is reported on the value', () => {
  expectOnly(doc('metadata:', "  name: 'a b'", 'resources:', ...registry('r', String.raw`key: HKLM\Software\X`)),
    'schema', 2, 9, 'metadata.name: Names the generated script');
});

test('missing required property: metadata', () => {
  expectOnly(doc('resources:', ...registry('r', String.raw`key: HKLM\Software\X`)), 'schema', 1, 1, "missing required property 'metadata'");
});

test('missing required property: a resource without name', () => {
  expectOnly(doc(...HEAD, '  - type: Registry', '    properties:', String.raw`      key: HKLM\Software\X`),
    'schema', 4, 5, "resources[0]: missing required property 'name'");
});

test('missing required property: Registry without key', () => {
  expectOnly(doc(...HEAD, ...registry('r', 'valueName: X')), 'schema', 7, 7, "resources[0].properties: missing required property 'key'");
});

test('unknown resource type is one diagnostic on the type, listing the known types', () => {
  expectOnly(doc(...HEAD, '  - name: r', '    type: Regsitry', '    properties:', String.raw`      key: HKLM\Software\X`),
    'schema', 5, 11, 'must be one of Registry, UserRight, AccountPolicy, SecurityPolicy, AuditPolicy, AppLockerPolicy, CimInstance, SecurityOption, Policy');
});

// --- SecurityOption -------------------------------------------------------------------------------

test('unknown policy name suggests the real title', () => {
  const typo = 'Microsoft network client: Digitaly sign communications (if server agrees)';
  const d = expectOnly(doc(...HEAD, ...securityOption('s', `policy: "${typo}"`, 'value: Enabled')),
    'unknown-policy', 7, 15, `unknown policy "${typo}"`);
  assert.ok(d.message.includes(`did you mean "${SMB_TITLE}"`), d.message);
});

test('an unrelated policy name gets no suggestion', () => {
  const d = expectOnly(doc(...HEAD, ...securityOption('s', 'policy: Totally unrelated', 'value: Enabled')),
    'unknown-policy', 7, 15, 'unknown policy "Totally unrelated"');
  assert.not.ok(d.message.includes('did you mean'), d.message);
});

test('a value that is not one of the policy choices', () => {
  const d = expectOnly(doc(...HEAD, ...securityOption('s', `policy: "${SMB_TITLE}"`, 'value: Maybe')),
    'invalid-value', 8, 14, `"Maybe" is not a value of "${SMB_TITLE}"`);
  assert.ok(d.message.includes('use Enabled or Disabled'), d.message);
});

test('a policy found by STIG id with the value in other case resolves to the registry value', () => {
  const plan = planOf(doc(...HEAD, ...securityOption('s', 'id: wn16-so-000200', 'value: disabled')));
  assert.equal(registrySpec(plan.resources[0]!)!.desired, { ensure: 'Present', valueType: 'DWord', valueData: 0 });
  assert.is(plan.resources[0]!.policy?.value, 'Disabled');
});

// --- integer ranges, exactly ------------------------------------------------------------------------

test('DWord below 0 is out of range', () => {
  expectOnly(doc(...HEAD, ...value('r', 'DWord', '-1')), 'out-of-range', 10, 18, '-1 is outside the DWord range 0..4294967295');
});

test('DWord 4294967296 is out of range; 4294967295 is accepted', () => {
  expectOnly(doc(...HEAD, ...value('r', 'DWord', '4294967296')), 'out-of-range', 10, 18, '4294967296 is outside the DWord range');
  const plan = planOf(doc(...HEAD, ...value('r', 'DWord', '4294967295')));
  assert.is(registrySpec(plan.resources[0]!)!.desired.valueData, 4294967295);
});

test('QWord 18446744073709551615 is accepted and kept exactly as a string', () => {
  const plan = planOf(doc(...HEAD, ...value('r', 'QWord', '18446744073709551615')));
  assert.equal(registrySpec(plan.resources[0]!)!.desired, { ensure: 'Present', valueType: 'QWord', valueData: '18446744073709551615' });
});

test('QWord 18446744073709551616 is out of range', () => {
  expectOnly(doc(...HEAD, ...value('r', 'QWord', '18446744073709551616')), 'out-of-range', 10, 18,
    '18446744073709551616 is outside the QWord range 0..18446744073709551615');
});

test('QWord past 2^53 (9007199254740993) is not rounded', () => {
  const plan = planOf(doc(...HEAD, ...value('r', 'QWord', '9007199254740993')));
  assert.is(registrySpec(plan.resources[0]!)!.desired.valueData, '9007199254740993');
});

test('DWord given as text is an invalid value, not silently converted', () => {
  expectOnly(doc(...HEAD, ...value('r', 'DWord', "'1'")), 'invalid-value', 10, 18, 'a DWord value needs an integer');
});

// --- key paths ---------------------------------------------------------------------------------------

test('key path with an unknown root', () => {
  expectOnly(doc(...HEAD, ...registry('r', String.raw`key: HKXX\Foo`)), 'invalid-key-path', 7, 12, "unknown registry root 'HKXX'");
});

test('key path naming only the root', () => {
  expectOnly(doc(...HEAD, ...registry('r', 'key: HKLM')), 'invalid-key-path', 7, 12, 'names only the root');
});

test('key path with a doubled backslash (an empty key name)', () => {
  expectOnly(doc(...HEAD, ...registry('r', String.raw`key: HKLM\\Software\\\\X`)), 'invalid-key-path', 7, 12, 'empty key name');
  expectOnly(doc(...HEAD, ...registry('r', String.raw`key: HKLM\Software\\X`)), 'invalid-key-path', 7, 12, 'empty key name');
});

test('key path with forward slashes only', () => {
  expectOnly(doc(...HEAD, ...registry('r', 'key: HKLM/Software/X')), 'invalid-key-path', 7, 12, "uses '/'");
});

test('long root names, a drive colon and one trailing backslash are accepted', () => {
  const plan = planOf(doc(...HEAD, ...registry('r', String.raw`key: HKEY_LOCAL_MACHINE:\Software\X\ `.trimEnd())));
  assert.equal(registrySpec(plan.resources[0])!.target, { hive: 'HKEY_LOCAL_MACHINE', subKey: 'Software\\X', valueName: null });
});

// --- across resources -----------------------------------------------------------------------------------

test('duplicate resource names (case-insensitive) are reported on the second name', () => {
  expectOnly(doc(...HEAD, ...registry('same', String.raw`key: HKLM\Software\X`), ...registry('Same', String.raw`key: HKLM\Software\Y`)),
    'duplicate-name', 8, 11, 'resource name "Same" is already used at line 4');
});

test('two resources setting one registry value to different data conflict', () => {
  // b spells the same location in other case: Windows compares case-insensitively.
  const d = expectOnly(doc(...HEAD, ...value('a', 'DWord', '1'), ...value('b', 'DWord', '2', String.raw`hklm\software\x`, 'v')),
    'conflict', 14, 7, 'b: conflicts with "a" (line 4)');
  assert.ok(d.message.includes('different data'), d.message);
});

test('a policy and a raw value disagreeing on the same registry value conflict', () => {
  expectOnly(doc(...HEAD, ...securityOption('policy', `policy: "${SMB_TITLE}"`, 'value: Enabled'),
    ...value('raw', 'DWord', '0', String.raw`HKLM\SYSTEM\CurrentControlSet\Services\LanmanWorkstation\Parameters`, 'EnableSecuritySignature')),
  'conflict', 12, 7, 'raw: conflicts with "policy" (line 4)');
});

test('a key removed with ensure: Absent conflicts with a value set below it', () => {
  expectOnly(doc(...HEAD, ...registry('gone', String.raw`key: HKLM\Software\X`, 'ensure: Absent'),
    ...value('b', 'DWord', '1', String.raw`HKLM\Software\X\Sub`)),
  'conflict', 12, 7, 'b: conflicts with "gone" (line 4), which removes the key HKEY_LOCAL_MACHINE\\Software\\X');
});

test('the Absent conflict is found whichever resource comes first', () => {
  expectOnly(doc(...HEAD, ...value('b', 'DWord', '1', String.raw`HKLM\Software\X`), ...registry('gone', String.raw`key: HKLM\Software\X`, 'ensure: Absent')),
    'conflict', 7, 7, 'b: conflicts with "gone" (line 11), which removes the key');
});

test('a removed key does not conflict with a sibling whose name merely starts the same', () => {
  const plan = planOf(doc(...HEAD, ...registry('gone', String.raw`key: HKLM\Software\X`, 'ensure: Absent'),
    ...value('b', 'DWord', '1', String.raw`HKLM\Software\XY`)));
  assert.is(plan.resources.length, 2);
});

// --- data forms ---------------------------------------------------------------------------------------------

test('Binary data as hex text and as a byte list normalise to the same lowercase hex', () => {
  const plan = planOf(doc(...HEAD, ...value('a', 'Binary', "'0A FF,10'", String.raw`HKLM\Software\X`, 'A'),
    ...value('b', 'Binary', '[10, 255, 16]', String.raw`HKLM\Software\X`, 'B')));
  assert.is(registrySpec(plan.resources[0]!)!.desired.valueData, '0aff10');
  assert.is(registrySpec(plan.resources[1]!)!.desired.valueData, '0aff10');
});

test('Binary data that is not hex, or a byte above 255, is invalid', () => {
  const list = diagnosticsOf(doc(...HEAD, ...value('a', 'Binary', "'zz'", String.raw`HKLM\Software\X`, 'A'),
    ...value('b', 'Binary', '[10, 256]', String.raw`HKLM\Software\X`, 'B')));
  assert.is(list.length, 2);
  expectDiagnostic(list[0], 'invalid-value', 10, 18, 'not a sequence of two-digit hex bytes');
  expectDiagnostic(list[1], 'invalid-value', 17, 23, 'bytes 0..255'); // at the offending item
});

test('MultiString given a single string is invalid', () => {
  expectOnly(doc(...HEAD, ...value('r', 'MultiString', 'one')), 'invalid-value', 10, 18, 'a MultiString value needs a list of strings');
  const plan = planOf(doc(...HEAD, ...value('r', 'MultiString', '[one, two]')));
  assert.equal(registrySpec(plan.resources[0]!)!.desired.valueData, ['one', 'two']);
});

// --- many errors, resource limits -----------------------------------------------------------------------------

test('an unknown property does not hide the same resource\'s other problems', () => {
  const text = doc(
    ...HEAD, //                                                                        1-3
    ...value('a', 'DWord', 'notanumber'), //                                           4-10: value at 10:18
    '      bogus: 1', //                                                               11: schema at 11:7
    ...securityOption('b', 'policy: Nope', 'value: Enabled'), //                       12-16: unknown-policy at 15:15
    '    extra: 1', //                                                                 17: schema at 17:5
  );
  const list = diagnosticsOf(text);
  assert.equal(list.map((d) => [d.code, d.start.line, d.start.col]), [
    ['invalid-value', 10, 18],
    ['schema', 11, 7],
    ['unknown-policy', 15, 15],
    ['schema', 17, 5],
  ], list.map(formatDiagnostic).join('\n'));
  // A problem the kind cannot look past (a wrong type) still stops the kind's checks of that resource.
  const typed = diagnosticsOf(doc(...HEAD, ...registry('c', 'key: 5', 'valueName: [x]')));
  assert.ok(typed.every((d) => d.code === 'schema'), typed.map(formatDiagnostic).join('\n'));
});

test('several errors in one document are all reported, sorted by position', () => {
  // Schema errors are found before resolution errors; metadata comes last in the text on purpose.
  const text = doc(
    'resources:', //                                                   1
    ...registry('a', String.raw`key: HKXX\Foo`), //                    2-5: invalid-key-path at 5:12
    ...value('b', 'DWord', '-1'), //                                   6-12: out-of-range at 12:18
    ...value('c', 'DWord', 'true'), //                                 13-19: schema at 19:18
    ...securityOption('d', 'policy: Nope', 'value: Enabled'), //       20-24: unknown-policy at 23:15
    'metadata:', //                                                    25
    '  name: 5', //                                                    26: schema at 26:9
  );
  const list = diagnosticsOf(text);
  assert.equal(list.map((d) => [d.code, d.start.line, d.start.col]), [
    ['invalid-key-path', 5, 12],
    ['out-of-range', 12, 18],
    ['schema', 19, 18],
    ['unknown-policy', 23, 15],
    ['schema', 26, 9],
  ]);
  assert.match(list[0]!.message, /^a: /);
  assert.match(list[1]!.message, /^b: /);
  assert.match(list[3]!.message, /^d: unknown policy "Nope"/);
});

test('a billion-laughs alias bomb is refused quickly', () => {
  const levels = 'abcdefghi'.split('');
  const lines = [`${levels[0]}: &${levels[0]} [x, x, x, x, x, x, x, x, x, x]`];
  for (let i = 1; i < levels.length; i++) {
    const prev = levels[i - 1]!;
    lines.push(`${levels[i]}: &${levels[i]} [${Array(10).fill(`*${prev}`).join(', ')}]`);
  }
  const started = Date.now();
  const list = diagnosticsOf(doc(...lines));
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 2000, `took ${elapsed} ms`);
  assert.is(list.length, 1);
  expectDiagnostic(list[0], 'yaml-syntax', 1, 1, /alias/i);
});

test('a document over the size limit is refused before parsing', () => {
  const text = doc(...HEAD, ...registry('r', String.raw`key: HKLM\Software\X`), `# ${'x'.repeat(MAX_DOCUMENT_BYTES)}`);
  expectOnly(text, 'io', 1, 1, `the limit is ${MAX_DOCUMENT_BYTES}`);

  const dir = mkdtempSync(join(tmpdir(), 'winstate-doc-'));
  try {
    const file = join(dir, 'big.yaml');
    writeFileSync(file, text);
    const result = validateFile(file);
    assert.is(result.plan, undefined);
    assert.is(result.diagnostics.length, 1);
    assert.is(result.diagnostics[0]!.code, 'io');
    assert.is(result.diagnostics[0]!.file, file);
    assert.equal(result.diagnostics[0]!.start, { line: 1, col: 1 });
    assert.ok(result.diagnostics[0]!.message.includes(`the limit is ${MAX_DOCUMENT_BYTES}`), result.diagnostics[0]!.message);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing file is an io diagnostic, not an exception', () => {
  const file = join(tmpdir(), 'winstate-does-not-exist', 'nothing.yaml');
  const result = validateFile(file);
  assert.is(result.diagnostics.length, 1);
  assert.is(result.diagnostics[0]!.code, 'io');
  assert.match(result.diagnostics[0]!.message, /cannot read/);
});

// --- formatting -------------------------------------------------------------------------------------------------

test('formatDiagnostic gives file:line:col: message', () => {
  const [d] = diagnosticsOf(doc(...HEAD, ...registry('r', String.raw`key: HKXX\Foo`)));
  const line = formatDiagnostic(d!);
  assert.ok(line.startsWith(`${FILE}:7:12: `), line);
  assert.ok(line.includes(d!.message), line);
  assert.ok(line.includes('invalid-key-path'), line);
  assert.not.match(line, /\n/);
});

test('one anchor reused by 150 resources is fine; only alias bombs are refused', () => {
  const lines = ['metadata: { name: reuse }', 'resources:'];
  for (let i = 0; i < 150; i++) lines.push(`  - { name: r${i}, type: Registry, properties: { key: ${i === 0 ? '&k ' : '*k'}${i === 0 ? 'HKLM\\Software\\Contoso' : ''}, valueName: v${i}, valueType: DWord, valueData: ${i} } }`);
  const { plan, diagnostics } = validateText('reuse.yaml', `${lines.join('\n')}\n`);
  assert.equal(diagnostics, []);
  assert.is(registrySpec(plan!.resources[149]!)!.target.subKey, 'Software\\Contoso');
});

test('encodings: UTF-16 with a byte-order mark (what Windows PowerShell 5.1 writes) is accepted; a non-UTF-8 byte is named with its line and byte', () => {
  const dir = mkdtempSync(join(tmpdir(), 'winstate-enc-'));
  try {
    const text = "metadata: { name: enc }\nresources:\n  - { name: caf\u00e9, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\W', valueName: A, valueType: DWord, valueData: 1 } }\n";
    const le = join(dir, 'le.yaml');
    writeFileSync(le, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text.replace(/\n/g, '\r\n'), 'utf16le')]));
    const be = join(dir, 'be.yaml');
    writeFileSync(be, Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]));
    for (const file of [le, be]) {
      const { plan, diagnostics } = validateFile(file);
      assert.equal(diagnostics, [], file);
      assert.is(plan!.resources[0]!.name, 'caf\u00e9');
      assert.is(plan!.resources[0]!.line, 3);
    }
    const latin1 = join(dir, 'latin1.yaml');
    writeFileSync(latin1, Buffer.from(text, 'latin1'));
    const { diagnostics } = validateFile(latin1);
    assert.is(diagnostics.length, 1);
    assert.is(diagnostics[0]!.code, 'io');
    assert.equal(diagnostics[0]!.start, { line: 3, col: 16 });
    assert.match(diagnostics[0]!.message, /not UTF-8 text: byte 0xE9 at line 3, byte 16 of the line \(offset 50\)/);
    const odd = join(dir, 'odd.yaml');
    writeFileSync(odd, Buffer.from([0xff, 0xfe, 0x6d]));
    assert.match(validateFile(odd).diagnostics[0]!.message, /UTF-16 byte-order mark but has an odd number of bytes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('valueType spelled as Windows does (REG_DWORD, dword, REG_MULTI_SZ) or mistyped gets a did-you-mean', () => {
  const message = (type: string) =>
    validateText('t.yaml', `metadata: { name: t }\nresources:\n  - { name: a, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\W', valueName: A, valueType: ${type}, valueData: 1 } }\n`).diagnostics.map((d) => d.message).join('\n');
  assert.match(message('REG_DWORD'), /valueType: must be one of String, ExpandString, DWord, QWord, MultiString, Binary; did you mean DWord\?$/);
  assert.match(message('dword'), /did you mean DWord\?$/);
  assert.match(message('REG_MULTI_SZ'), /did you mean MultiString\?/);
  assert.match(message('QWrod'), /did you mean QWord\?$/);
  assert.not.match(message('Nonsense'), /did you mean/);
});

test.run();
