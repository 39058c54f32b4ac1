import { test } from 'uvu';
import { registrySpec } from '../../src/kinds/registry/kind.js';
import * as assert from 'uvu/assert';
import { main, type CliIo } from '../../src/cli/cli.js';
import { loadCatalog } from '../../src/catalog/catalog.js';
import { validateText } from '../../src/document/validate.js';
import { appLockerUnit, CATALOG_POLICY_NAME } from '../../src/kinds/applocker/kind.js';
import { runCli } from '../helpers.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';

const cli = runCli;

test('catalog list --json prints the documented shape for every entry', async () => {
  const r = await cli(['catalog', 'list', '--json']);
  assert.is(r.code, 0);
  const all = JSON.parse(r.stdout) as Record<string, unknown>[];
  // The entries, then the shipped policy files (checked in the next test).
  assert.is(all.length, loadCatalog().entries.length + loadCatalog().policies.length);
  const list = all.slice(0, loadCatalog().entries.length);
  assert.equal(all.slice(list.length).map((e) => e.kind), ['AppLockerPolicy']);
  for (const e of list) {
    for (const key of ['id', 'title', 'gpoPath', 'desired', 'scope', 'references', 'baselines']) assert.ok(key in e, `${String(e.id)} lacks ${key}`);
    // A registry value's location, or for user rights, account, security and audit policy a storage block instead.
    assert.is('registry' in e, !('storage' in e), `${String(e.id)}: registry or storage`);
    if ('registry' in e) assert.equal(Object.keys(e.registry as object), ['key', 'valueName', 'valueType']);
    else assert.ok(['UserRight', 'AccountPolicy', 'SecurityPolicy', 'AuditPolicy'].includes((e.storage as { kind: string }).kind));
    assert.equal(Object.keys(e.references as object), ['stig', 'cis', 'microsoft', 'oval', 'cce']);
  }
  const validate = new Ajv2020({ allErrors: true, allowUnionTypes: true }).compile(JSON.parse(readFileSync(resolve(process.cwd(), 'schema', 'catalog.schema.json'), 'utf8')));
  assert.ok(validate(all), JSON.stringify(validate.errors?.slice(0, 3)));
  assert.not.ok(validate([{ ...list[0], references: { stig: [] } }]), 'the schema catches a missing reference list');
  const right = list.find((e) => e.id === 'user-right-debug-programs')!;
  assert.equal(right.storage, { kind: 'UserRight', right: 'SeDebugPrivilege' });
  assert.equal(right.desired, { choice: null, valueData: null, principals: ['*S-1-5-32-544'] });
  assert.not.ok(validate([{ ...right, registry: { key: 'HKLM\\X', valueName: 'Y', valueType: 'DWord' } }]), 'the schema refuses registry and storage together');
  assert.not.ok(validate([{ ...right, storage: { kind: 'UserRight' } }]), 'the schema requires the right');
  const seed = list.find((e) => e.id === 'smb-client-signing-if-server-agrees')!;
  assert.equal(seed.desired, { choice: 'Enabled', valueData: 1 });
  assert.not.ok(validate([{ ...seed, baselines: [{ ...(seed.baselines as object[])[0], version: undefined }] }]), 'the schema requires each baseline item\'s version');
  // Each baseline and version that sets an entry: CIS v3.0.0 and v1.2.0 (renumbered), and Microsoft's.
  const versions = (e: Record<string, unknown>) => (e.baselines as { baseline: string; version: string; ref: string }[]).map((b) => `${b.baseline} ${b.version} ${b.ref}`);
  assert.equal(versions(list.find((e) => e.id === 'llmnr-off')!).filter((v) => v.startsWith('cis')), ['cis-ws2016 v3.0.0 18.6.4.2', 'cis-ws2016 v1.2.0 18.5.4.1']);
  assert.equal(versions(list.find((e) => e.id === 'lsa-protection')!), ['cis-ws2016 v3.0.0 18.4.7'], 'new in v3.0.0');
  assert.ok(versions(seed).includes('msft-ws2016 v1607 (October 2016) SCM Windows Server 2016 - Member Server Baseline - Computer'));
  assert.equal((seed.references as { cis: string[] }).cis, ['2.3.8.2'], 'references.cis holds the newest version\'s numbers');
});

test('catalog show finds an entry by id, title or STIG id; an unknown name exits 3 with a suggestion', async () => {
  for (const name of ['smb-client-signing-if-server-agrees', 'Microsoft network client: Digitally sign communications (if server agrees)', 'V-73655', 'WN16-SO-000200']) {
    const r = await cli(['catalog', 'show', name]);
    assert.is(r.code, 0, name);
    assert.match(r.stdout, /registry:\s+HKLM\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters!EnableSecuritySignature \(DWord\)/);
    assert.match(r.stdout, /CCE-46334-9/);
  }
  const several = await cli(['catalog', 'show', '18.6.14.1', '--json']);
  assert.equal((JSON.parse(several.stdout) as { id: string }[]).map((e) => e.id), ['hardened-unc-paths-netlogon', 'hardened-unc-paths-sysvol'], 'a reference that sets two values shows both');
  const byCis = await cli(['catalog', 'show', '18.6.4.2']);
  assert.is(byCis.code, 0, 'a CIS number (of the newest benchmark version) finds its entry');
  assert.match(byCis.stdout, /^Turn off multicast name resolution\n/);
  assert.match(byCis.stdout, /cis-ws2016 v3\.0\.0 18\.6\.4\.2 \(L1\) \[MS, DC\]: Enabled/);
  assert.match(byCis.stdout, /cis-ws2016 v1\.2\.0 18\.5\.4\.1 \(L1\) \[MS, DC\]: Enabled/);
  const json = JSON.parse((await cli(['catalog', 'show', 'V-225040', '--json'])).stdout) as { id: string };
  assert.is(json.id, 'smb-client-signing-if-server-agrees');
  const missing = await cli(['catalog', 'show', 'Microsoft network client: Digitaly sign communications (if server agrees)']);
  assert.is(missing.code, 3);
  assert.match(missing.stderr, /did you mean "Microsoft network client: Digitally sign communications \(if server agrees\)"/);
  assert.is((await cli(['catalog', 'frobnicate'])).code, 3);
});

test('a document names a setting by STIG id with stig:, which only accepts an entry that cites the rule', () => {
  const doc = (props: string) => validateText('s.yaml', `metadata: { name: s }\nresources:\n  - { name: r, type: Policy, properties: { ${props}, value: recommended } }\n`);
  const ok = doc('stig: V-73655');
  assert.equal(ok.diagnostics, []);
  assert.is(ok.plan!.resources[0]!.entry!.id, 'smb-client-signing-if-server-agrees');
  assert.is(doc('stig: WN16-SO-000200').plan!.resources[0]!.entry!.id, 'smb-client-signing-if-server-agrees');
  assert.match(doc('stig: V-1').diagnostics[0]!.message, /no catalog entry implements STIG rule V-1/);
  assert.match(doc("stig: 'smb-client-signing-if-server-agrees'").diagnostics[0]!.message, /stig: A DISA STIG id/);
  assert.match(doc("stig: V-73655, id: smb-client-signing-if-server-agrees").diagnostics[0]!.message, /give exactly one of policy, id or stig/);
  assert.is(doc('stig: SV-88319r1_rule').plan!.resources[0]!.entry!.id, 'smb-client-signing-if-server-agrees', 'a rule id with its revision');
  assert.is(doc('stig: v-73655').plan!.resources[0]!.entry!.id, 'smb-client-signing-if-server-agrees', 'any case');
  assert.match(doc('stig: WN16-CC-000090').diagnostics[0]!.message, /WN16-CC-000090 covers 2 settings \(hardened-unc-paths-netlogon, hardened-unc-paths-sysvol\)/);
  assert.match(doc("id: '18.6.14.1'").diagnostics[0]!.message, /18\.6\.14\.1 covers 2 settings/);
});

test('a site-defined setting takes its text as the value and has no recommendation', () => {
  const doc = (value: string) => validateText('b.yaml', `metadata: { name: b }\nresources:\n  - { name: banner, type: Policy, properties: { policy: 'Interactive logon: Message title for users attempting to log on', value: ${value} } }\n`);
  const ok = doc("'Authorised use only'");
  assert.equal(ok.diagnostics, []);
  assert.equal(registrySpec(ok.plan!.resources[0]!)!.desired, { ensure: 'Present', valueType: 'String', valueData: 'Authorised use only' });
  assert.match(doc('recommended').diagnostics[0]!.message, /has no recommended value in the catalog/);
});

test('catalog list prints aligned columns with kind, STIG and CIS ids; catalog search finds by title words, id, STIG id, CIS number, registry path', async () => {
  const list = await cli(['catalog', 'list']);
  assert.is(list.code, 0, list.stderr);
  const lines = list.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^ID +KIND +SEVERITY +STIG +CIS +TITLE$/);
  assert.is(lines.length, loadCatalog().entries.length + loadCatalog().policies.length + 1);
  // Aligned: every column starts where its header does.
  const starts = ['KIND', 'SEVERITY', 'STIG', 'CIS', 'TITLE'].map((h) => lines[0]!.indexOf(h));
  for (const line of lines.slice(1)) {
    for (const at of starts) {
      assert.is(line[at - 1], ' ', line);
      assert.ok(line[at] !== ' ', `${line} @${at}`);
    }
  }
  const row = lines.find((l) => l.startsWith('smb-client-signing-if-server-agrees '))!;
  assert.match(row, /SecurityOption +medium +WN16-SO-000200 +2\.3\.8\.2 +Microsoft network client: Digitally sign communications \(if server agrees\)$/);
  // A shipped policy file is one line too, with no severity or STIG id of its own.
  assert.match(lines.find((l) => l.startsWith('applocker-msft-ws2016-dc '))!, /AppLockerPolicy +- +- +- +AppLocker rules for domain controllers \(Microsoft security baseline for Windows Server 2016\)$/);

  const ids = async (...words: string[]) => {
    const r = await cli(['catalog', 'search', ...words]);
    return { code: r.code, ids: r.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(' ')[0]), stderr: r.stderr };
  };
  assert.equal((await ids('network', 'CLIENT:', 'digitally')).ids, ['smb-client-signing-always', 'smb-client-signing-if-server-agrees']);
  assert.equal((await ids('WN16-SO-000200')).ids, ['smb-client-signing-if-server-agrees']);
  assert.equal((await ids('V-225040')).ids, ['smb-client-signing-if-server-agrees']);
  assert.equal((await ids('2.3.8.2')).ids, ['smb-client-signing-if-server-agrees']);
  assert.ok((await ids('LanmanWorkstation\\Parameters\\EnableSecuritySignature')).ids.includes('smb-client-signing-if-server-agrees'));
  const none = await ids('zzzq');
  assert.is(none.code, 3);
  assert.match(none.stderr, /no catalog entry matches 'zzzq'/);
  const json = JSON.parse((await cli(['catalog', 'search', 'sehop', '--json'])).stdout) as { id: string }[];
  assert.equal(json.map((e) => e.id), ['sehop-enabled']);
  // Search reaches policy files by kind, registry path, rule id or rule name.
  assert.equal((await ids('AppLockerPolicy')).ids, ['applocker-msft-ws2016-dc']);
  assert.equal((await ids('SrpV2\\Exe\\921cc481-6e17-4653-8f75-050b80acca20')).ids, ['applocker-msft-ws2016-dc']);
  assert.equal((await ids('deny', 'firefox')).ids, ['applocker-msft-ws2016-dc']);
  const found = JSON.parse((await cli(['catalog', 'search', 'applocker', 'chrome', '--json'])).stdout) as { id: string; policyFile: string }[];
  assert.equal(found.map((e) => [e.id, e.policyFile]), [['applocker-msft-ws2016-dc', 'catalog:msft-ws2016-dc-applocker.xml']]);
});

test('a shipped policy file in catalog list --json: an AppLockerPolicy item derived from the file and the baseline, in the published schema', async () => {
  const all = JSON.parse((await cli(['catalog', 'list', '--json'])).stdout) as Record<string, unknown>[];
  const item = all.find((e) => e.id === 'applocker-msft-ws2016-dc') as Record<string, any>;
  assert.equal(
    { ...item, registryValues: undefined, collections: undefined },
    {
      id: 'applocker-msft-ws2016-dc',
      kind: 'AppLockerPolicy',
      title: 'AppLocker rules for domain controllers (Microsoft security baseline for Windows Server 2016)',
      gpoPath: 'Computer Configuration\\Windows Settings\\Security Settings\\Application Control Policies\\AppLocker',
      area: 'AppLocker',
      policyFile: 'catalog:msft-ws2016-dc-applocker.xml',
      registryValues: undefined,
      collections: undefined,
      scope: ['DC'],
      references: { stig: [], cis: [], microsoft: ['SCM Windows Server 2016 - Domain Controller Baseline'], oval: [], cce: [] },
      baselines: [
        {
          baseline: 'msft-ws2016',
          version: 'v1607 (October 2016)',
          ref: 'SCM Windows Server 2016 - Domain Controller Baseline',
          level: null,
          scope: ['DC'],
          setting: 'Executable and packaged app rules enforced; the default allow rules, with Chrome, Firefox and Internet Explorer denied',
          value: 'catalog:msft-ws2016-dc-applocker.xml',
        },
      ],
    },
  );
  // Read from the file: its collections and rules, and the values they set (EnforcementMode per collection, <id>!Value per rule).
  assert.equal(item.collections.map((c: any) => [c.type, c.enforcementMode, c.rules.length]), [['Appx', 'Enabled', 1], ['Exe', 'Enabled', 6]]);
  assert.equal(item.collections[1].rules.find((r: any) => r.id === 'fd686d83-a829-4351-8ff4-27c7de5755d2'), {
    id: 'fd686d83-a829-4351-8ff4-27c7de5755d2',
    name: 'Default: any path, Administrators',
    ruleType: 'FilePathRule',
    action: 'Allow',
    userOrGroupSid: 'S-1-5-32-544',
  });
  assert.equal(item.registryValues.slice(0, 2), [
    { key: 'HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\SrpV2\\Appx', valueName: 'EnforcementMode', valueType: 'DWord' },
    { key: 'HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\SrpV2\\Appx\\a9e18c21-ff8f-43cf-b9fc-db40eed693ba', valueName: 'Value', valueType: 'String' },
  ]);
  assert.is(item.registryValues.length, 2 + 7);
  // Reports group an AppLockerPolicy resource under its kind's area: the item says the same.
  assert.is(item.area, appLockerUnit.area(''));
  const schema = JSON.parse(readFileSync(resolve(process.cwd(), 'schema', 'catalog.schema.json'), 'utf8'));
  const validate = new Ajv2020({ allErrors: true, allowUnionTypes: true }).compile(schema);
  assert.ok(validate([item]));
  assert.not.ok(validate([{ ...item, policyFile: undefined }]), 'the schema requires the policy file');
  assert.not.ok(validate([{ ...item, collections: [{ ...item.collections[0], enforcementMode: 'On' }] }]), 'the schema knows the enforcement modes');
  assert.not.ok(validate([{ ...item, kind: 'SecurityOption' }]), 'an item is an entry or a policy file, not a mix');
  assert.is(schema.$defs.policy.properties.policyFile.pattern, `^catalog:${CATALOG_POLICY_NAME.source.slice(1)}`, 'one rule for a catalog policy name');
});

test('catalog show applocker-msft-ws2016-dc (or its title) prints the policy in full: collections, rules with id, action and SID, enforcement, baselines', async () => {
  const r = await cli(['catalog', 'show', 'applocker-msft-ws2016-dc']);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.is(lines[0], 'AppLocker rules for domain controllers (Microsoft security baseline for Windows Server 2016)');
  for (const expected of [
    /^ {2}id: +applocker-msft-ws2016-dc \(AppLockerPolicy\)$/,
    /^ {2}GPO path: +Computer Configuration\\Windows Settings\\Security Settings\\Application Control Policies\\AppLocker$/,
    /^ {2}policy file: catalog:msft-ws2016-dc-applocker\.xml /,
    /^ {2}registry: +9 values under HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\SrpV2: /,
    /^ {4}Appx: enforced \(EnforcementMode 1\), 1 rule$/,
    /^ {4}Exe: enforced \(EnforcementMode 1\), 6 rules$/,
    /^ {6}5e3ec135-b5af-4961-ae4d-cde98710afc9 +Deny +S-1-1-0 +FilePublisherRule +Deny Google Chrome, everyone$/,
    /^ {6}fd686d83-a829-4351-8ff4-27c7de5755d2 +Allow +S-1-5-32-544 +FilePathRule +Default: any path, Administrators$/,
    /^ {2}scope: +DC$/,
    /^ {2}references: +Microsoft baseline SCM Windows Server 2016 - Domain Controller Baseline$/,
    /^ {4}msft-ws2016 v1607 \(October 2016\) SCM Windows Server 2016 - Domain Controller Baseline \[DC\]: Executable and packaged app rules enforced; /,
    /^ {2}in a document: type: AppLockerPolicy, properties: \{ policyFile: catalog:msft-ws2016-dc-applocker\.xml \}$/,
  ]) {
    assert.ok(lines.some((l) => expected.test(l)), `${expected}\n${r.stdout}`);
  }
  assert.is(lines.filter((l) => /^ {6}[0-9a-f-]{36} /.test(l)).length, 7, 'every rule');
  const byTitle = await cli(['catalog', 'show', 'applocker rules for domain controllers  (microsoft security baseline for windows server 2016)']);
  assert.is(byTitle.stdout, r.stdout, 'by title, in any case');
  const json = JSON.parse((await cli(['catalog', 'show', 'APPLOCKER-msft-ws2016-dc', '--json'])).stdout) as { id: string; kind: string };
  assert.equal([json.id, json.kind], ['applocker-msft-ws2016-dc', 'AppLockerPolicy']);
  const typo = await cli(['catalog', 'show', 'applocker-msft-ws2016']);
  assert.is(typo.code, 3);
  assert.match(typo.stderr, /no catalog entry 'applocker-msft-ws2016'; did you mean "AppLocker rules for domain controllers \(Microsoft security baseline for Windows Server 2016\)"\?/);
});

test('a Policy (or SecurityOption) resource naming the AppLocker policy file gets an error pointing at AppLockerPolicy with policyFile: catalog:<file>', () => {
  const doc = (type: string, props: string) => validateText('a.yaml', `metadata: { name: a }\nresources:\n  - { name: r, type: ${type}, properties: { ${props}, value: recommended } }\n`);
  const message = /"(applocker-msft-ws2016-dc|AppLocker rules for domain controllers \(Microsoft security baseline for Windows Server 2016\))" is the catalog's AppLockerPolicy policy file applocker-msft-ws2016-dc, set as a whole: use type: AppLockerPolicy with policyFile: catalog:msft-ws2016-dc-applocker\.xml/;
  for (const [type, props] of [
    ['Policy', 'id: applocker-msft-ws2016-dc'],
    ['Policy', "policy: 'AppLocker rules for domain controllers (Microsoft security baseline for Windows Server 2016)'"],
    ['SecurityOption', 'policy: applocker-msft-ws2016-dc'],
  ]) {
    const result = doc(type!, props!);
    assert.is(result.diagnostics.length, 1, props);
    assert.match(result.diagnostics[0]!.message, message);
    assert.is(result.diagnostics[0]!.code, 'unknown-policy');
    assert.equal(result.diagnostics[0]!.start.line, 3, 'positioned on the resource');
  }
  // What the error says to write validates.
  const right = validateText('b.yaml', 'metadata: { name: b }\nresources:\n  - { name: r, type: AppLockerPolicy, properties: { policyFile: catalog:msft-ws2016-dc-applocker.xml } }\n');
  assert.equal(right.diagnostics, []);
  assert.is(right.plan!.resources[0]!.kind, 'AppLockerPolicy');
});


test('the README\'s catalog size sentence counts what catalog list lists, kind by kind', async () => {
  const readme = readFileSync(resolve(process.cwd(), 'README.md'), 'utf8').replace(/\s+/g, ' ');
  const sentence = /The catalog \(`winstate catalog list`, (\d+) entries: (.*?)\) covers/.exec(readme);
  assert.ok(sentence, 'the README states the catalog size');
  const all = JSON.parse((await cli(['catalog', 'list', '--json'])).stdout) as { kind: string }[];
  assert.is(Number(sentence![1]), all.length);
  const perKind = new Map<string, number>();
  for (const e of all) perKind.set(e.kind, (perKind.get(e.kind) ?? 0) + 1);
  // The README's words for each kind, as a reader knows them.
  const words: Record<string, string> = {
    SecurityOption: 'Security Options', AdministrativeTemplate: 'Administrative Templates', MSS: 'MSS (Legacy) settings',
    WindowsFirewall: 'Windows Firewall settings', UserRightsAssignment: 'user rights', AccountPolicy: 'account and Kerberos policies',
    AdvancedAuditPolicy: 'advanced audit subcategories', RegistryValue: 'registry values no Group Policy template writes', AppLockerPolicy: 'AppLocker policy file',
  };
  for (const [kind, count] of perKind) {
    const word = words[kind];
    assert.ok(word, `the test knows the README's word for ${kind}`);
    assert.ok(new RegExp(`\\b${count} ${word!.replace(/[()]/g, '\\$&')}`).test(sentence![2]!), `README: ${count} ${word} in "${sentence![2]}"`);
  }
});

test('the README\'s baseline table and its baseline list example say what baseline list prints', async () => {
  const readme = readFileSync(resolve(process.cwd(), 'README.md'), 'utf8');
  const listed = (await cli(['baseline', 'list'])).stdout;
  const example = /`winstate baseline list` shows[\s\S]*?```\n([\s\S]*?)```/.exec(readme);
  assert.ok(example, 'the README shows baseline list output');
  assert.ok(listed.startsWith(example![1]!), `README example:\n${example![1]}\nbaseline list:\n${listed.split('\n').slice(0, 3).join('\n')}`);
  const json = JSON.parse((await cli(['baseline', 'list', '--json'])).stdout) as { name: string; settings: number; levels: string[]; byLevel: Record<string, number> }[];
  for (const b of json) {
    const row = new RegExp(`^\\| \`${b.name.replace(/[.@]/g, '\\$&')}\` \\|.*\\| (\\d+)( \\(([^)]*)\\))? \\|$`, 'm').exec(readme);
    assert.ok(row, `the README's baseline table has a row for ${b.name}`);
    assert.is(Number(row![1]), b.settings, `${b.name}: settings`);
    const levels = Object.entries(b.byLevel).map(([level, n]) => `${level} ${n}`).join(', ');
    if (b.levels.length) assert.is(row![3], levels, `${b.name}: per level`);
  }
});

test('the README\'s reference counts are the number of catalog entries that carry each reference', async () => {
  const readme = readFileSync(resolve(process.cwd(), 'README.md'), 'utf8').replace(/\s+/g, ' ');
  const all = (JSON.parse((await cli(['catalog', 'list', '--json'])).stdout) as { kind: string; references?: Record<string, unknown[]> }[]).filter((e) => e.kind !== 'AppLockerPolicy');
  const carrying = (reference: string) => all.filter((e) => (e.references?.[reference]?.length ?? 0) > 0).length;
  const stated = /STIG ids \((\d+)\), OVAL definition ids \((\d+)\) and CCE ids \((\d+)\) .*? CIS numbers of the newest shipped benchmark \((\d+)\) and Microsoft baseline GPOs \((\d+)\)/.exec(readme);
  assert.ok(stated, 'the README states the reference counts');
  assert.equal(stated!.slice(1).map(Number), ['stig', 'oval', 'cce', 'cis', 'microsoft'].map(carrying));
});

test('baseline list refuses -o, --scope and --level rather than ignoring them', async () => {
  for (const extra of [['-o', 'never-written.yaml'], ['--scope', 'MS'], ['--level', 'L1']]) {
    const r = await cli(['baseline', 'list', ...extra]);
    assert.is(r.code, 3, extra.join(' '));
    assert.match(r.stderr, new RegExp(`baseline list takes only --json \\(not ${extra[0]}\\)`));
    assert.is(r.stdout, '');
  }
});

test.run();
