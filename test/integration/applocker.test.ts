// AppLockerPolicy: a policy file compared rule by rule with its registry form (SrpV2), on a .reg snapshot.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApplyReport, RunReport } from '../../src/engine/results.js';
import { readRegValues } from '../reg-reader.js';
import { runCli, shareCliSession, tempDir, writeReg } from '../helpers.js';

shareCliSession(test.after);

const SRP = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\SrpV2';
const reg = (text: string) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
// Rule 1 as a GPO may have stored it: other attribute order, an end tag instead of "/>": the same rule.
const RULE_1 = '<FilePathRule Action="Allow" Id="11111111-1111-4111-8111-111111111111" Name="Programs under Program Files" Description="" UserOrGroupSid="S-1-1-0"><Conditions><FilePathCondition Path="%PROGRAMFILES%\\*"></FilePathCondition></Conditions></FilePathRule>';
// Rule 2 denies where the policy allows; rule 5 is not in the policy.
const RULE_2 = '<FilePathRule Id="22222222-2222-4222-8222-222222222222" Name="Programs under Windows" Description="" UserOrGroupSid="S-1-1-0" Action="Deny"><Conditions><FilePathCondition Path="%WINDIR%\\*"/></Conditions><Exceptions><FilePathCondition Path="%WINDIR%\\Temp\\*"/></Exceptions></FilePathRule>';
const RULE_5 = '<FilePathRule Id="55555555-5555-4555-8555-555555555555" Name="Left over from an old GPO" Description="" UserOrGroupSid="S-1-1-0" Action="Allow"><Conditions><FilePathCondition Path="C:\\Tools\\*"/></Conditions></FilePathRule>';

function setup(exact = true): { dir: string; doc: string; snapshot: string; state: string } {
  const dir = tempDir();
  copyFileSync('test/fixtures/applocker/policy.xml', join(dir, 'policy.xml'));
  const doc = join(dir, 'applocker.yaml');
  writeFileSync(doc, `metadata: { name: applocker }\nresources:\n  - name: AppLocker\n    type: AppLockerPolicy\n    properties: { policyFile: policy.xml${exact ? '' : ', exact: false'} }\n`);
  const snapshot = join(dir, 'server.reg');
  writeReg(snapshot, [
    `[${SRP}\\Exe]`,
    '"EnforcementMode"=dword:00000000',
    '',
    `[${SRP}\\Exe\\11111111-1111-4111-8111-111111111111]`,
    `"Value"="${reg(RULE_1)}"`,
    '',
    `[${SRP}\\Exe\\22222222-2222-4222-8222-222222222222]`,
    `"Value"="${reg(RULE_2)}"`,
    '',
    `[${SRP}\\Exe\\55555555-5555-4555-8555-555555555555]`,
    `"Value"="${reg(RULE_5)}"`,
  ]);
  return { dir, doc, snapshot, state: join(dir, 'state') };
}

test('test names each rule that differs, is missing or is extra, and the enforcement; an equal rule spelled differently is equal', async () => {
  const { doc, snapshot } = setup();
  const r = await runCli(['test', doc, '--snapshot', snapshot, '--json']);
  assert.is(r.code, 2, r.stderr);
  const result = (JSON.parse(r.stdout) as RunReport).results[0]!;
  assert.is(result.inDesiredState, false);
  assert.equal(result.differingProperties!.slice().sort(), [
    'Appx enforcementMode',
    'Appx rule 44444444-4444-4444-8444-444444444444 (One packaged app by hash): missing',
    'Exe enforcementMode',
    'Exe rule 22222222-2222-4222-8222-222222222222 (Programs under Windows): differs in Action',
    'Exe rule 33333333-3333-4333-8333-333333333333 (No unsigned-looking "tools" & friends): missing',
    'Exe rule 55555555-5555-4555-8555-555555555555 (Left over from an old GPO): extra',
  ]);
  assert.equal((result.actual as { collections: Record<string, unknown> }).collections.Exe, {
    enforcementMode: 'AuditOnly',
    rules: { '11111111-1111-4111-8111-111111111111': 'Programs under Program Files', '22222222-2222-4222-8222-222222222222': 'Programs under Windows', '55555555-5555-4555-8555-555555555555': 'Left over from an old GPO' },
  });
});

test('apply converges: rules written, the extra one removed, the equal one left byte for byte; rollback restores the file', async () => {
  const { doc, snapshot, state } = setup();
  const original = readFileSync(snapshot);
  const applied = await runCli(['apply', doc, '--snapshot', snapshot, '--state-dir', state, '--json']);
  assert.is(applied.code, 0, applied.stderr);
  assert.ok((JSON.parse(applied.stdout) as ApplyReport).converged);
  const values = readRegValues(snapshot);
  const raw = (key: string, name: string) => values.get(`${SRP}\\${key}!${name}`.toLowerCase());
  // REG_SZ data: UTF-16LE with its terminating NUL.
  const text = (key: string, name: string) => Buffer.from(raw(key, name)?.split(':')[1] ?? '', 'hex').toString('utf16le').replace(/\0$/, '');
  assert.is(raw('Exe', 'EnforcementMode'), '4:01000000');
  assert.is(raw('Appx', 'EnforcementMode'), '4:00000000');
  assert.is(text('Exe\\11111111-1111-4111-8111-111111111111', 'Value'), RULE_1, 'the equal rule keeps its own spelling');
  assert.match(text('Exe\\22222222-2222-4222-8222-222222222222', 'Value'), /Action="Allow"/);
  assert.match(text('Exe\\33333333-3333-4333-8333-333333333333', 'Value'), /^<FilePublisherRule Id="33333333-3333-4333-8333-333333333333" Name="No unsigned-looking &quot;tools&quot; &amp; friends"/);
  assert.not.ok(values.has(`${SRP}\\Exe\\55555555-5555-4555-8555-555555555555`.toLowerCase()), 'the extra rule is gone');
  assert.not.ok(values.has(`${SRP}\\Script`.toLowerCase()), 'a collection not configured stays absent');
  const again = await runCli(['test', doc, '--snapshot', snapshot]);
  assert.is(again.code, 0, again.stdout);

  const rolled = await runCli(['rollback', 'latest', '--state-dir', state]);
  assert.is(rolled.code, 0, `${rolled.stdout}\n${rolled.stderr}`);
  assert.ok(readFileSync(snapshot).equals(original), 'rollback restored every byte');
});

test('exact: false adds and updates but keeps rules the policy does not list', async () => {
  const { doc, snapshot } = setup(false);
  const applied = await runCli(['apply', doc, '--snapshot', snapshot, '--json']);
  assert.is(applied.code, 0, applied.stderr);
  assert.ok(readRegValues(snapshot).has(`${SRP}\\Exe\\55555555-5555-4555-8555-555555555555`.toLowerCase()));
});

test('a policy file that is missing, malformed or not AppLocker is a positioned document error (exit 3)', async () => {
  const { dir, doc, snapshot } = setup();
  const cases: [string, RegExp][] = [
    ['', /cannot read the policy file .*policy\.xml: ENOENT/],
    ['<AppLockerPolicy Version="1">\n  <RuleCollection Type="Exe">\n</AppLockerPolicy>', /policy\.xml:3:\d+: /],
    ['<Policy/>', /not an AppLocker policy: the root element is <Policy>/],
    ['<AppLockerPolicy><RuleCollection Type="Exe2"/></AppLockerPolicy>', /RuleCollection Type "Exe2" is not one of Exe, Msi, Script, Dll, Appx/],
    ['<AppLockerPolicy><RuleCollection Type="Exe"><FilePathRule Id="x" Name="n" UserOrGroupSid="S-1-1-0" Action="Allow"/></RuleCollection></AppLockerPolicy>', /Id "x", which is not a GUID/],
  ];
  for (const [text, message] of cases) {
    const file = join(dir, 'policy.xml');
    if (text === '') rmSync(file);
    else writeFileSync(file, text);
    const r = await runCli(['validate', doc]);
    assert.is(r.code, 3, text);
    assert.match(r.stderr, /applocker\.yaml:5:\d+: error: AppLocker: /);
    assert.match(r.stderr, message);
  }
  void snapshot;
});

test('catalog:<file> names a shipped policy by its file name alone; another form or an unknown name is a positioned error', async () => {
  const dir = tempDir();
  const doc = join(dir, 'c.yaml');
  for (const [name, message] of [['catalog:../baselines/msft-ws2016.json', /a catalog policy is named by its file name alone/], ['catalog:nope.xml', /cannot read the policy file .*nope\.xml: ENOENT/]] as const) {
    writeFileSync(doc, `metadata: { name: c }\nresources:\n  - name: AppLocker\n    type: AppLockerPolicy\n    properties: { policyFile: '${name}' }\n`);
    const r = await runCli(['validate', doc]);
    assert.is(r.code, 3, name);
    assert.match(r.stderr, /c\.yaml:5:\d+: error: AppLocker: /);
    assert.match(r.stderr, message);
  }
});

// --- Microsoft's baseline for domain controllers: the shipped policy file ------------------------------------

const MSFT = JSON.parse(readFileSync('test/fixtures/references/msft-ws2016-baseline.json', 'utf8')) as {
  settings: { key: string; valueName: string; valueType: string; data: string | number }[];
};
/** The DC GPO's AppLocker keys as a server that applied it holds them: Microsoft's rule XML, with Microsoft's names. */
function microsoftAppLockerReg(file: string, edit: (xml: string) => string = (x) => x): void {
  const rows = MSFT.settings.filter((r) => /\\SrpV2\\/i.test(r.key));
  assert.is(rows.length, 9);
  writeReg(file, rows.flatMap((r) => [
    `[HKEY_LOCAL_MACHINE\\${r.key}]`,
    r.valueType === 'DWord' ? `"${r.valueName}"=dword:${(r.data as number).toString(16).padStart(8, '0')}` : `"${r.valueName}"="${reg(edit(r.data as string))}"`,
    '',
  ]));
}
const PROGRAM_FILES_RULE = '921cc481-6e17-4653-8f75-050b80acca20';

test('a server with Microsoft\'s DC AppLocker rules (Microsoft\'s names) is in the desired state of catalog:msft-ws2016-dc-applocker.xml; one path changed is that rule alone, named with where it differs', async () => {
  const dir = tempDir();
  const doc = join(dir, 'dc-applocker.yaml');
  writeFileSync(doc, 'metadata: { name: dc-applocker }\nresources:\n  - name: AppLocker\n    type: AppLockerPolicy\n    properties: { policyFile: catalog:msft-ws2016-dc-applocker.xml }\n');
  const snapshot = join(dir, 'dc.reg');
  microsoftAppLockerReg(snapshot);
  const same = await runCli(['test', doc, '--snapshot', snapshot, '--json']);
  assert.is(same.code, 0, same.stdout + same.stderr);
  const result = (JSON.parse(same.stdout) as RunReport).results[0]!;
  assert.is(result.inDesiredState, true);
  const exe = (result.actual as { collections: Record<string, { rules: Record<string, string> }> }).collections.Exe!;
  assert.is(exe.rules[PROGRAM_FILES_RULE], '(Default Rule) All files located in the Program Files folder', 'the machine keeps Microsoft\'s name');

  microsoftAppLockerReg(snapshot, (xml) => xml.replace('Path="%PROGRAMFILES%\\*"', 'Path="%PROGRAMFILES%\\Contoso\\*"'));
  const moved = await runCli(['test', doc, '--snapshot', snapshot, '--json']);
  assert.is(moved.code, 2, moved.stderr);
  assert.equal((JSON.parse(moved.stdout) as RunReport).results[0]!.differingProperties, [`Exe rule ${PROGRAM_FILES_RULE} (Default: Program Files, everyone): differs in Conditions/FilePathCondition@Path`]);

  microsoftAppLockerReg(snapshot, (xml) => xml.replace('Action="Deny"', 'Action="Allow"'));
  const allowed = await runCli(['test', doc, '--snapshot', snapshot, '--json']);
  assert.equal((JSON.parse(allowed.stdout) as RunReport).results[0]!.differingProperties!.map((d) => d.replace(/ \(.*\)/, '')), [
    'Exe rule 5e3ec135-b5af-4961-ae4d-cde98710afc9: differs in Action',
    'Exe rule 6db6c8f3-cf7c-4754-a438-94c95345bb53: differs in Action',
    'Exe rule 881d54fe-3848-4d6a-95fd-42d48ebe60b8: differs in Action',
  ]);

  microsoftAppLockerReg(snapshot, (xml) => (xml.includes(PROGRAM_FILES_RULE) ? xml.slice(0, 40) : xml));
  const broken = await runCli(['test', doc, '--snapshot', snapshot, '--json']);
  assert.equal((JSON.parse(broken.stdout) as RunReport).results[0]!.differingProperties, [`Exe rule ${PROGRAM_FILES_RULE} (Default: Program Files, everyone): differs: its XML cannot be read`]);
});

test('the generated DC baseline document (winstate baseline msft-ws2016 --scope DC -o elsewhere): its AppLocker resource tests compliant on Microsoft\'s keys; apply to an empty export writes our rules, a second test is compliant, rollback restores', async () => {
  const dir = tempDir();
  const doc = join(dir, 'sub', 'dc.yaml');
  const made = await runCli(['baseline', 'msft-ws2016', '--scope', 'DC', '-o', doc]);
  assert.is(made.code, 0, made.stderr);
  assert.match(readFileSync(doc, 'utf8'), /^ {6}policyFile: 'catalog:msft-ws2016-dc-applocker\.xml'$/m);
  const only = ['--only', 'AppLocker rules for domain controllers'];

  const applied = join(dir, 'applied.reg');
  microsoftAppLockerReg(applied);
  const gpo = await runCli(['test', doc, '--snapshot', applied, ...only, '--json']);
  assert.is(gpo.code, 0, gpo.stdout + gpo.stderr);
  const [result] = (JSON.parse(gpo.stdout) as RunReport).results;
  assert.equal([result!.kind, result!.inDesiredState], ['AppLockerPolicy', true]);

  const empty = join(dir, 'empty.reg');
  writeReg(empty, []);
  const original = readFileSync(empty);
  const state = join(dir, 'state');
  const apply = await runCli(['apply', doc, '--snapshot', empty, ...only, '--state-dir', state, '--json']);
  assert.is(apply.code, 0, apply.stdout + apply.stderr);
  assert.ok((JSON.parse(apply.stdout) as ApplyReport).converged);
  const values = readRegValues(empty);
  const text = (key: string) => Buffer.from(values.get(`${SRP}\\${key}!value`.toLowerCase())?.split(':')[1] ?? '', 'hex').toString('utf16le').replace(/\0$/, '');
  assert.is(values.get(`${SRP}\\Exe!EnforcementMode`.toLowerCase()), '4:01000000');
  assert.is(values.get(`${SRP}\\Appx!EnforcementMode`.toLowerCase()), '4:01000000');
  assert.match(text(`Exe\\${PROGRAM_FILES_RULE}`), /^<FilePathRule Id="921cc481-6e17-4653-8f75-050b80acca20" Name="Default: Program Files, everyone" /, 'set writes our file\'s XML');
  assert.is([...values.keys()].filter((k) => k.endsWith('!value')).length, 7);
  assert.not.ok([...values.keys()].some((k) => /\\srpv2\\(dll|msi|script)/.test(k)), 'the collections the GPO leaves unconfigured stay absent');
  const again = await runCli(['test', doc, '--snapshot', empty, ...only]);
  assert.is(again.code, 0, again.stdout);

  const rolled = await runCli(['rollback', 'latest', '--state-dir', state]);
  assert.is(rolled.code, 0, `${rolled.stdout}\n${rolled.stderr}`);
  assert.ok(readFileSync(empty).equals(original), 'rollback restored every byte');
});

test.run();
