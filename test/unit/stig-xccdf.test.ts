// The DISA STIG XCCDF reader and the registry requirements it extracts, checked against the real
// Windows Server 2016 STIG (V2R10) and, for quirks that release does not contain, small made-up rules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  extractAll,
  extractRegistryRequirement,
  parseXccdf,
  readRuntimeCheck,
  readValueCondition,
  ruleApplicability,
  type Condition,
  type Extraction,
  type RegistryRequirement,
  type StigRegistryValue,
  type StigRule,
  type Unsupported,
} from '../../src/catalog/stig/xccdf.js';
import { parseXml, textContent, XmlError } from '../../src/catalog/stig/xml.js';
import { parseKeyPath, targetIdentity } from '../../src/kinds/registry/model.js';

const STIG_XCCDF = join(resolve(process.cwd(), 'test', 'fixtures'), 'stig', 'U_MS_Windows_Server_2016_STIG_V2R10_Manual-xccdf.xml');
const RAW = readFileSync(STIG_XCCDF, 'utf8');
const benchmark = parseXccdf(RAW);
const results = extractAll(benchmark);

function ruleBy(stigId: string): StigRule {
  const rule = benchmark.rules.find((r) => r.stigId === stigId);
  if (!rule) throw new Error(`no rule ${stigId}`);
  return rule;
}
function extraction(stigId: string): Extraction {
  return extractRegistryRequirement(ruleBy(stigId));
}
function registry(stigId: string): RegistryRequirement {
  const e = extraction(stigId);
  if (e.kind !== 'registry') throw new Error(`${stigId} is unsupported: ${e.reason}`);
  return e;
}
function only(stigId: string): StigRegistryValue {
  const values = registry(stigId).values;
  assert.is(values.length, 1, `${stigId} has one value`);
  return values[0]!;
}
function unsupported(stigId: string): Unsupported {
  const e = extraction(stigId);
  if (e.kind !== 'unsupported') throw new Error(`${stigId} was extracted, expected unsupported`);
  return e;
}
/** A made-up rule around a check text, for the quirks the fixture does not contain. */
function madeUp(checkText: string, title = 'A made-up rule'): StigRule {
  return {
    vulnId: 'V-1',
    ruleId: 'SV-1r1_rule',
    stigId: 'TEST-00-000001',
    legacyIds: [],
    ccis: [],
    severity: 'medium',
    weight: 10,
    srgId: '',
    title,
    checkText,
    fixText: '',
  };
}
function block(lines: string[]): string {
  return ['If the following registry value does not exist or is not configured as specified, this is a finding.', '', ...lines].join('\n');
}

// --- the benchmark ------------------------------------------------------------------------------------------

test('benchmark: title, version, release and dates', () => {
  assert.is(benchmark.id, 'Windows_Server_2016_STIG');
  assert.is(benchmark.title, 'Microsoft Windows Server 2016 Security Technical Implementation Guide');
  assert.is(benchmark.version, '2');
  assert.is(benchmark.release, 10);
  assert.is(benchmark.versionLabel, 'V2R10');
  assert.is(benchmark.benchmarkDate, '2025-01-15');
  assert.is(benchmark.statusDate, '2025-01-14');
  assert.is(benchmark.status, 'accepted');
});

test('benchmark: 273 rules, one per Group, in file order, with well-formed ids', () => {
  assert.is(benchmark.rules.length, 273);
  const groupIds = [...RAW.matchAll(/<Group id="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(
    benchmark.rules.map((r) => r.vulnId),
    groupIds,
  );
  assert.is(new Set(benchmark.rules.map((r) => r.ruleId)).size, 273);
  assert.is(new Set(benchmark.rules.map((r) => r.stigId)).size, 273);
  for (const r of benchmark.rules) {
    assert.match(r.vulnId, /^V-\d+$/);
    assert.match(r.ruleId, new RegExp(`^S${r.vulnId}r\\d+_rule$`));
    assert.match(r.stigId, /^WN16-[A-Z0-9]{2}-\d{6}$/);
    assert.match(r.srgId, /^SRG-OS-\d{6}-GPOS-\d{5}$/);
    assert.ok(r.ccis.length > 0 && r.ccis.every((c) => /^CCI-\d{6}$/.test(c)), `${r.vulnId} CCIs`);
    assert.ok(r.legacyIds.every((id) => /^S?V-\d+$/.test(id)), `${r.vulnId} legacy ids`);
    assert.ok(r.title !== '' && r.checkText !== '' && r.fixText !== '', `${r.vulnId} texts`);
  }
  // Legacy ids come as a V-/SV- pair, V- first, whatever order the file lists them in.
  for (const r of benchmark.rules.filter((r) => r.legacyIds.length > 0)) {
    assert.is(r.legacyIds.length, 2, r.vulnId);
    assert.match(r.legacyIds[0]!, /^V-/);
    assert.match(r.legacyIds[1]!, /^SV-/);
  }
  // Two rules are newer than the legacy numbering.
  assert.equal(
    benchmark.rules.filter((r) => r.legacyIds.length === 0).map((r) => r.stigId),
    ['WN16-CC-000555', 'WN16-DC-000401'],
  );
});

test('benchmark: severities match the raw attribute counts', () => {
  const raw = (s: string) => RAW.split(`severity="${s}"`).length - 1;
  for (const s of ['high', 'medium', 'low'] as const) assert.is(benchmark.rules.filter((r) => r.severity === s).length, raw(s), s);
  assert.is(raw('high') + raw('medium') + raw('low'), 273);
});

test('benchmark: WN16-SO-000200 record', () => {
  const r = ruleBy('WN16-SO-000200');
  assert.is(r.vulnId, 'V-225040');
  assert.is(r.ruleId, 'SV-225040r958908_rule');
  assert.equal(r.legacyIds, ['V-73655', 'SV-88319']);
  assert.equal(r.ccis, ['CCI-002418', 'CCI-002421']);
  assert.is(r.severity, 'medium');
  assert.is(r.weight, 10);
  assert.is(r.srgId, 'SRG-OS-000423-GPOS-00187');
});

test('benchmark: check texts equal an independent decode of every <check-content>', () => {
  const raw = [...RAW.matchAll(/<check-content>([\s\S]*?)<\/check-content>/g)].map((m) =>
    m[1]!
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&')
      .trim(),
  );
  assert.is(raw.length, 273);
  assert.equal(
    benchmark.rules.map((r) => r.checkText),
    raw,
  );
  // Entities were really decoded (the navigation paths use ">>").
  assert.ok(benchmark.rules.some((r) => r.checkText.includes(' >> ')));
  assert.not.ok(benchmark.rules.some((r) => /&(?:lt|gt|amp|quot|apos);/.test(r.checkText + r.fixText + r.title)));
});

// --- the XML reader ---------------------------------------------------------------------------------------

test('xml: entities, character references, CDATA, comments and attributes', () => {
  const root = parseXml(
    `<?xml version="1.0"?><!-- c --><a x='1 &amp; 2' y="&#x41;"><b>&lt;p&gt; &quot;q&quot; &apos;r&apos; &#65;&#x42;</b><c><![CDATA[<raw> & ]]></c></a>`,
  );
  assert.equal(root.attributes, { x: '1 & 2', y: 'A' });
  assert.is(textContent(root), `<p> "q" 'r' AB<raw> & `);
});

test('xml: malformed documents are refused with a position', () => {
  assert.throws(() => parseXml('<a><b></a>'), (e: unknown) => e instanceof XmlError && /1:7: closing tag <\/a> does not match <b>/.test((e as Error).message));
  assert.throws(() => parseXml('<a>&nbsp;</a>'), /unknown entity &nbsp;/);
  assert.throws(() => parseXml('<a>&#0;</a>'), /names no valid XML character/);
  assert.throws(() => parseXml('<!DOCTYPE a [<!ENTITY x "y">]><a/>'), /DOCTYPE/);
  assert.throws(() => parseXml('<a x="1" x="2"/>'), /duplicate attribute x/);
  assert.throws(() => parseXml('<a>'), /never closed/);
  assert.throws(() => parseXml('<a/><b/>'), /second root/);
});

test('parseXccdf: CDATA check content and nested Groups', () => {
  const xml = `<Benchmark id="B" xmlns="http://checklists.nist.gov/xccdf/1.1"><title>T</title><version>1</version>
    <plain-text id="release-info">Release: 3 Benchmark Date: 02 Feb 2024</plain-text>
    <Group id="V-9"><title>SRG-X</title><Group id="V-10"><title>SRG-Y</title>
      <Rule id="SV-10r1_rule" severity="low"><version>X-1</version><title>t</title>
        <ident system="http://cyber.mil/legacy">SV-5</ident><ident system="http://cyber.mil/legacy">V-5</ident>
        <fixtext>f</fixtext>
        <check system="c"><check-content><![CDATA[Registry Hive: HKLM
Registry Path: \\Software\\X\\
Value Name: Y
Value Type: REG_DWORD
Value: 0x00000001 (1)]]></check-content></check></Rule></Group></Group></Benchmark>`;
  const b = parseXccdf(xml);
  assert.is(b.versionLabel, 'V1R3');
  assert.is(b.benchmarkDate, '2024-02-02');
  assert.is(b.rules.length, 1);
  assert.is(b.rules[0]!.vulnId, 'V-10');
  assert.is(b.rules[0]!.srgId, 'SRG-Y');
  assert.equal(b.rules[0]!.legacyIds, ['V-5', 'SV-5']);
  const e = extractRegistryRequirement(b.rules[0]!);
  assert.is(e.kind, 'registry');
  assert.equal((e as RegistryRequirement).values[0]!.key, 'HKEY_LOCAL_MACHINE\\Software\\X');
  assert.throws(() => parseXccdf('<Benchmark id="B"><title>T</title><version>1</version><Rule id="R"/></Benchmark>'), /outside any Group/);
  assert.throws(() => parseXccdf('<Foo/>'), /not <Benchmark>/);
});

// --- counts and coverage ----------------------------------------------------------------------------------

const REGISTRY_RULES = 101;
const UNSUPPORTED_BY_CATEGORY: Record<string, number> = {
  'user-right': 39,
  'audit-policy': 36,
  manual: 27,
  'access-control': 21,
  'account-policy': 14,
  'accounts-directory': 11,
  'installed-feature': 8,
  certificate: 7,
  'security-policy': 4,
  platform: 3,
  'site-defined-value': 2,
};

test('counts: 101 registry rules, 172 unsupported, by category; every rule in exactly one group', () => {
  const registryIds = results.filter((r) => r.extraction.kind === 'registry').map((r) => r.rule.vulnId);
  const unsupportedIds = results.filter((r) => r.extraction.kind === 'unsupported').map((r) => r.rule.vulnId);
  assert.is(registryIds.length, REGISTRY_RULES);
  assert.is(unsupportedIds.length, 273 - REGISTRY_RULES);
  assert.is(new Set([...registryIds, ...unsupportedIds]).size, 273);
  assert.equal(new Set([...registryIds, ...unsupportedIds]), new Set(benchmark.rules.map((r) => r.vulnId)));
  const byCategory: Record<string, number> = {};
  for (const { extraction: e } of results) if (e.kind === 'unsupported') byCategory[e.category] = (byCategory[e.category] ?? 0) + 1;
  assert.equal(byCategory, UNSUPPORTED_BY_CATEGORY);
  const values = results.flatMap((r) => (r.extraction.kind === 'registry' ? r.extraction.values : []));
  assert.is(values.length, 104); // three rules state two values each
});

test('counts: every unsupported rule has a reason; every extraction names its own rule', () => {
  for (const { rule, extraction: e } of results) {
    assert.is(e.vulnId, rule.vulnId);
    assert.is(e.stigId, rule.stigId);
    assert.is(e.ruleId, rule.ruleId);
    if (e.kind === 'unsupported') assert.ok(e.reason.trim().length > 10, `${rule.stigId} reason`);
    else assert.ok(e.values.length > 0, `${rule.stigId} values`);
  }
});

test('coverage: rules naming a "Registry Hive" are extracted or refused with a registry-specific reason', () => {
  const withHive = results.filter((r) => r.rule.checkText.includes('Registry Hive'));
  assert.is(withHive.length, 103);
  const refused = withHive.filter((r) => r.extraction.kind === 'unsupported').map((r) => [r.rule.stigId, (r.extraction as Unsupported).category]);
  assert.equal(refused, [
    ['WN16-SO-000150', 'site-defined-value'],
    ['WN16-SO-000160', 'site-defined-value'],
  ]);
  // And no rule without one yields a registry requirement.
  assert.ok(results.every((r) => r.extraction.kind === 'unsupported' || r.rule.checkText.includes('Registry Hive')));
});

/** An independent, simpler reading: for each "Value Name:", the nearest hive and path above it and the type below it. */
function naiveValues(checkText: string): { hive: string; path: string; name: string; type: string }[] {
  const out: { hive: string; path: string; name: string; type: string }[] = [];
  for (const m of checkText.matchAll(/Value Name:[ \t]*([^\n]+)/gi)) {
    const before = checkText.slice(0, m.index);
    const hive = /Registry Hive:[ \t]*(\S+)/.exec(before.slice(before.lastIndexOf('Registry Hive:')))![1]!;
    const path = /Registry Path:[ \t]*([^\n]+)/.exec(before.slice(before.lastIndexOf('Registry Path:')))![1]!;
    const type = /Type:\s*(REG_[A-Z_]+)/.exec(checkText.slice(m.index))![1]!;
    out.push({ hive, path, name: m[1]!.trim(), type });
  }
  return out;
}
const TYPE_OF: Record<string, string> = { REG_DWORD: 'DWord', REG_SZ: 'String', REG_MULTI_SZ: 'MultiString', REG_EXPAND_SZ: 'ExpandString', REG_BINARY: 'Binary', REG_QWORD: 'QWord' };
const squeeze = (s: string) => s.replace(/\s+/g, '').replace(/^\\+|\\+$/g, '').toLowerCase();

test('cross-check: hive, path, value name and type agree with a naive reading of the check text', () => {
  let compared = 0;
  for (const { rule, extraction: e } of results) {
    if (e.kind !== 'registry') continue;
    const naive = naiveValues(rule.checkText);
    assert.is(e.values.length, naive.length, `${rule.stigId} value count`);
    e.values.forEach((v, i) => {
      const n = naive[i]!;
      assert.is(v.hive, n.hive, `${rule.stigId} hive`);
      assert.is(squeeze(v.path), squeeze(n.path), `${rule.stigId} path`);
      assert.is(v.valueName.toLowerCase(), n.name.toLowerCase(), `${rule.stigId} value name`);
      assert.is(v.valueType, TYPE_OF[n.type], `${rule.stigId} type`);
      compared++;
    });
  }
  assert.is(compared, 104);
});

test('cross-check: paths are normalised and accepted by parseKeyPath', () => {
  for (const { rule, extraction: e } of results) {
    if (e.kind !== 'registry') continue;
    for (const v of e.values) {
      assert.not.match(v.path, /^\\|\\$|\s\\|\\\s|^\s|\s$/, `${rule.stigId} path '${v.path}'`);
      assert.ok(v.hive === 'HKEY_LOCAL_MACHINE' || v.hive === 'HKEY_CURRENT_USER');
      assert.is(v.key, `${v.hive}\\${v.path}`);
      const target = parseKeyPath(v.key);
      assert.type(target, 'object', `${rule.stigId} parseKeyPath`);
      assert.equal(target, { hive: v.hive, subKey: v.path, valueName: null });
    }
  }
});

test('cross-check: every single DWORD "equals" matches the hex and the decimal of the Value line', () => {
  let checked = 0;
  for (const { rule, extraction: e } of results) {
    if (e.kind !== 'registry' || e.values.length !== 1) continue;
    const v = e.values[0]!;
    if (v.valueType !== 'DWord' || v.condition.op !== 'equals') continue;
    const m = /^\s*Value:\s*(?:0x([0-9a-fA-F]{8})\s*\((\d+)\)|(\d+)\s*$)/m.exec(rule.checkText)!;
    const expected = m[3] !== undefined ? Number(m[3]) : parseInt(m[1]!, 16);
    if (m[2] !== undefined) assert.is(Number(m[2]), expected, `${rule.stigId} hex vs decimal in the source`);
    assert.is(v.condition.value, expected, rule.stigId);
    checked++;
  }
  assert.is(checked, 87);
});

test('applicability: DC-only and MS-only rules follow the DC / MS STIG ids', () => {
  for (const { rule, extraction: e } of results) {
    const expected = rule.stigId.includes('-DC-') ? ['DC'] : rule.stigId.includes('-MS-') ? ['MS'] : ['MS', 'DC'];
    assert.equal(e.applicability.scope, expected, rule.stigId);
  }
});

// --- hand-checked rules -----------------------------------------------------------------------------------

const HKLM = 'HKEY_LOCAL_MACHINE';

test('WN16-SO-000200: SMB client signing (if server agrees)', () => {
  const e = registry('WN16-SO-000200');
  assert.is(e.vulnId, 'V-225040');
  assert.equal(e.applicability, { scope: ['MS', 'DC'], conditions: [] });
  assert.equal(e.values, [
    {
      hive: HKLM,
      path: 'SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters',
      key: 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters',
      valueName: 'EnableSecuritySignature',
      valueType: 'DWord',
      condition: { op: 'equals', value: 1 },
    },
  ]);
  assert.ok(ruleBy('WN16-SO-000200').legacyIds.includes('V-73655'));
});

test('"or greater" with hex and decimal: event log sizes', () => {
  const app = only('WN16-CC-000300'); // 0x00008000 (32768) (or greater)
  assert.equal([app.path, app.valueName, app.valueType], ['SOFTWARE\\Policies\\Microsoft\\Windows\\EventLog\\Application', 'MaxSize', 'DWord']);
  assert.equal(app.condition, { op: 'atLeast', value: 32768 });
  assert.equal(only('WN16-CC-000310').condition, { op: 'atLeast', value: 196608 }); // 0x00030000
  assert.equal(
    registry('WN16-CC-000300').applicability.conditions.map((c) => c.kind),
    ['not-if-audit-server'],
  );
});

test('"or less" on a REG_SZ holding a number: CachedLogonsCount, member servers only', () => {
  const e = registry('WN16-MS-000050');
  assert.equal(e.values[0], {
    hive: HKLM,
    path: 'SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon',
    key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon',
    valueName: 'CachedLogonsCount',
    valueType: 'String',
    condition: { op: 'atMost', value: 4, numericString: true },
  });
  assert.equal(e.applicability.scope, ['MS']);
  assert.equal(
    e.applicability.conditions.map((c) => c.kind),
    ['domain-joined-only'],
  );
});

test('"or less, but not 0" and "excluding 0": allOf atMost and not', () => {
  const age = only('WN16-SO-000120');
  assert.equal([age.path, age.valueName], ['SYSTEM\\CurrentControlSet\\Services\\Netlogon\\Parameters', 'MaximumPasswordAge']);
  assert.equal(age.condition, { op: 'allOf', conditions: [{ op: 'atMost', value: 30 }, { op: 'not', value: 0 }] });
  const idle = only('WN16-SO-000140');
  assert.equal([idle.path, idle.valueName], ['SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System', 'InactivityTimeoutSecs']);
  assert.equal(idle.condition, { op: 'allOf', conditions: [{ op: 'atMost', value: 900 }, { op: 'not', value: 0 }] });
});

test('oneOf: a comma list with labels, values on two lines, and a REG_SZ choice', () => {
  const telemetry = only('WN16-CC-000290');
  assert.equal([telemetry.valueName, telemetry.condition], ['AllowTelemetry', { op: 'oneOf', values: [0, 1] }]);
  const uac = only('WN16-SO-000480'); // second value on the next line
  assert.equal([uac.valueName, uac.valueType, uac.condition], ['ConsentPromptBehaviorAdmin', 'DWord', { op: 'oneOf', values: [2, 1] }]);
  assert.equal(
    registry('WN16-SO-000480').applicability.conditions.map((c) => c.kind),
    ['not-server-core'],
  );
  const card = only('WN16-SO-000180');
  assert.equal(
    [card.path, card.valueName, card.valueType, card.condition],
    ['SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon', 'scremoveoption', 'String', { op: 'oneOf', values: [1, 2], numericString: true }],
  );
});

test('absentOk: "(or if the Value Name does not exist)", with a choice and on HKCU', () => {
  const elam = only('WN16-CC-000140');
  assert.equal(
    [elam.path, elam.valueName, elam.condition],
    ['SYSTEM\\CurrentControlSet\\Policies\\EarlyLaunch', 'DriverLoadPolicy', { op: 'oneOf', values: [1, 3, 8], absentOk: true }],
  );
  const zone = only('WN16-UC-000030');
  assert.equal(
    [zone.hive, zone.path, zone.valueName, zone.condition],
    ['HKEY_CURRENT_USER', 'SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\Attachments', 'SaveZoneInformation', { op: 'equals', value: 2, absentOk: true }],
  );
  const absentOk = results.filter((r) => r.extraction.kind === 'registry' && r.extraction.values.some((v) => v.condition.absentOk)).map((r) => r.rule.stigId);
  assert.equal(absentOk, ['WN16-CC-000140', 'WN16-CC-000340', 'WN16-CC-000350', 'WN16-CC-000360', 'WN16-CC-000430', 'WN16-CC-000470', 'WN16-UC-000030']);
});

test('REG_SZ text: an SDDL string keeps its parentheses; two hardened UNC paths', () => {
  const sam = only('WN16-MS-000310');
  assert.equal([sam.path, sam.valueName, sam.valueType, sam.condition], ['SYSTEM\\CurrentControlSet\\Control\\Lsa', 'RestrictRemoteSAM', 'String', { op: 'equals', value: 'O:BAG:BAD:(A;;RC;;;BA)' }]);
  const unc = registry('WN16-CC-000090');
  assert.equal(
    unc.values.map((v) => [v.path, v.valueName, v.valueType, v.condition]),
    [
      ['SOFTWARE\\Policies\\Microsoft\\Windows\\NetworkProvider\\HardenedPaths', '\\\\*\\NETLOGON', 'String', { op: 'equals', value: 'RequireMutualAuthentication=1, RequireIntegrity=1' }],
      ['SOFTWARE\\Policies\\Microsoft\\Windows\\NetworkProvider\\HardenedPaths', '\\\\*\\SYSVOL', 'String', { op: 'equals', value: 'RequireMutualAuthentication=1, RequireIntegrity=1' }],
    ],
  );
  assert.equal(
    unc.applicability.conditions.map((c) => c.kind),
    ['domain-joined-only'],
  );
});

test('several values: the Explorer preview and reading panes (two hive blocks, "Value: 1" after a blank line)', () => {
  assert.equal(
    registry('WN16-CC-000421').values.map((v) => [v.hive, v.path, v.valueName, v.valueType, v.condition]),
    [
      ['HKEY_CURRENT_USER', 'SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\Explorer', 'NoPreviewPane', 'DWord', { op: 'equals', value: 1 }],
      ['HKEY_CURRENT_USER', 'SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\Explorer', 'NoReadingPane', 'DWord', { op: 'equals', value: 1 }],
    ],
  );
});

test('domain controller only: LDAP server signing', () => {
  const e = registry('WN16-DC-000320');
  assert.equal(e.applicability, { scope: ['DC'], conditions: [] });
  assert.equal(
    e.values.map((v) => [v.path, v.valueName, v.valueType, v.condition]),
    [['SYSTEM\\CurrentControlSet\\Services\\NTDS\\Parameters', 'LDAPServerIntegrity', 'DWord', { op: 'equals', value: 2 }]],
  );
});

test('member servers only, path without trailing backslash, prose after the value: token filter', () => {
  const e = registry('WN16-MS-000020');
  assert.equal(e.applicability.scope, ['MS']);
  assert.equal(
    e.values.map((v) => [v.path, v.valueName, v.valueType, v.condition]),
    [['SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System', 'LocalAccountTokenFilterPolicy', 'DWord', { op: 'equals', value: 0 }]],
  );
  // "member servers and standalone systems; NA for domain controllers": MS, no domain-joined condition.
  assert.equal(registry('WN16-MS-000040').applicability, { scope: ['MS'], conditions: [] });
  assert.equal(only('WN16-MS-000040').condition, { op: 'equals', value: 1 });
});

test('a remark after the value is not read into it: strong session key, FIPS', () => {
  const key = only('WN16-SO-000130');
  assert.equal([key.valueName, key.condition], ['RequireStrongKey', { op: 'equals', value: 1 }]);
  const fips = only('WN16-SO-000430');
  assert.equal([fips.path, fips.valueName, fips.condition], ['SYSTEM\\CurrentControlSet\\Control\\Lsa\\FIPSAlgorithmPolicy', 'Enabled', { op: 'equals', value: 1 }]);
});

test('quirks: "Type:" label with doubled blanks, a blank inside the path, mixed case kept', () => {
  const wdigest = only('WN16-CC-000030'); // "Registry Hive:  HKEY_LOCAL_MACHINE" ... "Type:  REG_DWORD"
  assert.equal(
    [wdigest.hive, wdigest.path, wdigest.valueName, wdigest.valueType, wdigest.condition],
    [HKLM, 'SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\Wdigest', 'UseLogonCredential', 'DWord', { op: 'equals', value: 0 }],
  );
  assert.match(ruleBy('WN16-CC-000030').checkText, /^Type:\s+REG_DWORD/m);
  // "\SOFTWARE\ Policies\Microsoft\..." in the source.
  assert.match(ruleBy('WN16-CC-000490').checkText, /SOFTWARE\\ Policies/);
  assert.is(only('WN16-CC-000490').path, 'SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell\\ScriptBlockLogging');
  // "policies" in lower case: kept as written, same key as Windows sees it.
  const drives = only('WN16-CC-000270');
  assert.equal([drives.path, drives.condition], ['SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\policies\\Explorer', { op: 'equals', value: 255 }]);
  const autorun = only('WN16-CC-000260');
  assert.is(autorun.path, 'SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\Explorer');
  const identity = (v: StigRegistryValue) => targetIdentity({ hive: v.hive, subKey: v.path, valueName: null });
  assert.is(identity(drives), identity(autorun));
});

test('large DWORDs: Kerberos encryption types and NTLM session security', () => {
  assert.equal(only('WN16-SO-000350').condition, { op: 'equals', value: 2147483640 }); // 0x7ffffff8
  assert.equal(only('WN16-SO-000400').condition, { op: 'equals', value: 537395200 }); // 0x20080000
  assert.equal(only('WN16-CC-000555').condition, { op: 'equals', value: 1 }); // "Value: 1"
});

test('SMBv1 rules name each other by legacy id', () => {
  const smb1 = registry('WN16-00-000411');
  assert.equal(
    smb1.values.map((v) => [v.path, v.valueName, v.condition]),
    [['SYSTEM\\CurrentControlSet\\Services\\LanmanServer\\Parameters', 'SMB1', { op: 'equals', value: 0 }]],
  );
  const [cond] = smb1.applicability.conditions;
  assert.equal([cond!.kind, cond!.rules], ['not-if-other-rule', ['V-73299']]);
  assert.ok(ruleBy('WN16-00-000410').legacyIds.includes('V-73299'));
  const uninstall = unsupported('WN16-00-000410');
  assert.is(uninstall.category, 'installed-feature');
  assert.equal(uninstall.applicability.conditions[0]!.rules, ['V-78123', 'V-78125']);
  assert.equal(
    uninstall.applicability.conditions[0]!.rules!.map((id) => benchmark.rules.find((r) => r.legacyIds.includes(id))!.stigId),
    ['WN16-00-000411', 'WN16-00-000412'],
  );
});

test("runtime state: the fix's registry values with the CIM query beside them; unreadable findings stay unsupported", () => {
  const vbs = registry('WN16-CC-000110');
  assert.equal(
    vbs.values.map((v) => [v.valueName, v.condition]),
    [
      ['EnableVirtualizationBasedSecurity', { op: 'equals', value: 1 }],
      ['RequirePlatformSecurityFeatures', { op: 'oneOf', values: [1, 3] }],
    ],
  );
  assert.equal(vbs.runtimeCheck, {
    className: 'Win32_DeviceGuard',
    namespace: 'root\\Microsoft\\Windows\\DeviceGuard',
    expect: [['RequiredSecurityProperties', { contains: [2] }], ['VirtualizationBasedSecurityStatus', { equals: 2 }]],
  });
  const credentialGuard = registry('WN16-MS-000120');
  assert.equal(credentialGuard.values.map((v) => [v.valueName, v.condition]), [['LsaCfgFlags', { op: 'equals', value: 1 }]]);
  assert.equal(credentialGuard.runtimeCheck!.expect, [['SecurityServicesRunning', { contains: [1] }]]);
  // Only rules that say the registry values alone do not decide compliance carry a runtime check.
  assert.equal(results.filter((r) => r.extraction.kind === 'registry' && r.extraction.runtimeCheck).map((r) => r.rule.stigId), ['WN16-CC-000110', 'WN16-MS-000120']);
  // A query without findings read this way, or a property named twice: no runtime check, so the rule stays unsupported.
  const query = 'Enter "Get-CimInstance -ClassName Win32_DeviceGuard -Namespace root\\Microsoft\\Windows\\DeviceGuard"\n';
  assert.is(readRuntimeCheck(`${query}If the output looks wrong, this is a finding.`), undefined);
  assert.is(readRuntimeCheck(`${query}If "A" is not a value of "2", this is a finding.\nIf "A" does not include a value of "1", this is a finding.`), undefined);
  assert.is(readRuntimeCheck('If "A" is not a value of "2", this is a finding.'), undefined, 'no query');
  const runtime = extractRegistryRequirement(madeUp(`${query}If the output looks wrong, this is a finding.\n\nThe registry value alone does not ensure proper function.\n\nRegistry Hive: HKEY_LOCAL_MACHINE\nRegistry Path: \\SOFTWARE\\X\\\n\nValue Name: A\nValue Type: REG_DWORD\nValue: 0x00000001 (1)\n`));
  assert.is(runtime.kind === 'unsupported' && runtime.category, 'runtime-state');
});

test('unsupported: banner text; non-registry rules', () => {
  assert.is(unsupported('WN16-SO-000150').category, 'site-defined-value');
  assert.is(unsupported('WN16-SO-000160').category, 'site-defined-value');
  assert.is(unsupported('WN16-UR-000010').category, 'user-right');
  assert.is(unsupported('WN16-AU-000070').category, 'audit-policy');
  assert.is(unsupported('WN16-AC-000010').category, 'account-policy');
  assert.is(unsupported('WN16-SO-000250').category, 'security-policy');
  // Names HKEY_LOCAL_MACHINE keys, but about their permissions.
  assert.is(unsupported('WN16-00-000190').category, 'access-control');
  const dc = unsupported('WN16-DC-000401');
  assert.equal([dc.category, dc.applicability.scope], ['manual', ['DC']]);
});

// --- quirks the fixture does not contain (made-up check texts) --------------------------------------------

test('made up: "Value name:" in lower case, short hive, a Note on the value line', () => {
  const e = extractRegistryRequirement(
    madeUp(block(['Registry Hive: HKLM', 'Registry Path: \\SOFTWARE\\Test \\ Key\\', '', 'Value name: Foo', 'Value type: REG_DWORD', 'Value: 0x00000001 (1) Note: some remark about 2'])),
  );
  assert.is(e.kind, 'registry');
  const v = (e as RegistryRequirement).values[0]!;
  assert.equal([v.hive, v.path, v.valueName, v.condition], [HKLM, 'SOFTWARE\\Test\\Key', 'Foo', { op: 'equals', value: 1 }]);
  assert.match(v.note!, /^Note: some remark/);
});

test('made up: REG_MULTI_SZ listed on several lines; REG_EXPAND_SZ, REG_QWORD and REG_BINARY', () => {
  const multi = extractRegistryRequirement(
    madeUp(block(['Registry Hive: HKEY_LOCAL_MACHINE', 'Registry Path: \\SOFTWARE\\Test\\', '', 'Value Name: List', 'Value Type: REG_MULTI_SZ', 'Value: first\\path', 'second path', '', 'Other text.'])),
  ) as RegistryRequirement;
  assert.equal(multi.values[0]!.valueType, 'MultiString');
  assert.equal(multi.values[0]!.condition, { op: 'equals', value: ['first\\path', 'second path'] });
  assert.equal(readValueCondition(['%SystemRoot%\\x'], 'ExpandString'), { op: 'equals', value: '%SystemRoot%\\x' });
  assert.equal(readValueCondition(['0xffffffffffffffff (18446744073709551615)'], 'QWord'), { op: 'equals', value: '18446744073709551615' });
  assert.equal(readValueCondition(['0a ff 00'], 'Binary'), { op: 'equals', value: '0aff00' });
});

test('made up: ranges, bounds and string numbers', () => {
  assert.equal(readValueCondition(['0x00000001 (1) to 0x0000001e (30)'], 'DWord'), { op: 'range', min: 1, max: 30 });
  assert.equal(readValueCondition(['5 through 10'], 'String'), { op: 'range', min: 5, max: 10, numericString: true });
  assert.equal(readValueCondition(['0x0000000f (15) (or greater)'], 'DWord'), { op: 'atLeast', value: 15 });
  assert.equal(readValueCondition(['1 (Enabled)'], 'String'), { op: 'equals', value: '1' });
  assert.equal(readValueCondition(['0x00000000 (0) (or if the Value Name does not exist)'], 'DWord'), { op: 'equals', value: 0, absentOk: true });
});

test('made up: values that are not exact are refused, never guessed', () => {
  const refuse = (lines: string[], type: Parameters<typeof readValueCondition>[1], message: RegExp) =>
    assert.throws(() => readValueCondition(lines, type), message);
  refuse(['0x00000010 (15)'], 'DWord', /0x00000010 is 16, not 15/);
  refuse(['0x100000000 (4294967296)'], 'DWord', /outside the DWORD range/);
  refuse(['1 or 1'], 'DWord', /twice/);
  refuse(['-1'], 'DWord', /cannot read/);
  refuse(['1.5'], 'DWord', /cannot read/);
  refuse(['30 (or less, unless approved)'], 'DWord', /cannot read 'unless approved'/);
  refuse(['See the text below'], 'String', /site-defined/);
  refuse(['abc (or greater)'], 'String', /bounds/);
  refuse(['line one', 'line two'], 'String', /several lines/);
  refuse(['0x00000001 (1)'], 'String', /not clear/);
  refuse(['30 to 1'], 'DWord', /from high to low/);
});

test('made up: malformed registry blocks are Unsupported with a reason', () => {
  const reasonOf = (lines: string[]) => {
    const e = extractRegistryRequirement(madeUp(block(lines)));
    assert.is(e.kind, 'unsupported');
    return e as Unsupported;
  };
  const hku = reasonOf(['Registry Hive: HKEY_USERS', 'Registry Path: \\S-1-5-18\\X\\', 'Value Name: A', 'Type: REG_DWORD', 'Value: 1']);
  assert.equal([hku.category, /HKEY_USERS/.test(hku.reason)], ['unreadable-registry', true]);
  assert.match(reasonOf(['Registry Hive: HKEY_LOCAL_MACHINE', 'Registry Path: \\A\\\\B\\', 'Value Name: A', 'Type: REG_DWORD', 'Value: 1']).reason, /empty key name/);
  assert.match(reasonOf(['Registry Hive: HKEY_LOCAL_MACHINE', 'Registry Path: \\A\\', 'Value Name: A', 'Value: 1']).reason, /has no type/);
  assert.match(reasonOf(['Registry Hive: HKEY_LOCAL_MACHINE', 'Registry Path: \\A\\', 'Value Name: A', 'Type: REG_WHATEVER', 'Value: 1']).reason, /unknown type/);
  assert.match(
    reasonOf(['Registry Hive: HKEY_LOCAL_MACHINE', 'Registry Path: \\A\\', 'Value Name: A', 'Type: REG_DWORD', 'Value: 0x00000001 (1)', '', '0x00000002 (2)']).reason,
    /continue after a blank line/,
  );
  // One unreadable value refuses the whole rule, keeping the readable one for reference.
  const mixed = reasonOf(['Registry Hive: HKEY_LOCAL_MACHINE', 'Registry Path: \\A\\', 'Value Name: Good', 'Type: REG_DWORD', 'Value: 1', '', 'Value Name: Bad', 'Type: REG_DWORD', 'Value: sometimes']);
  assert.equal(
    mixed.relatedValues!.map((v) => v.valueName),
    ['Good'],
  );
  // A path that repeats its hive is fine; one that names another hive is not.
  const repeated = extractRegistryRequirement(madeUp(block(['Registry Hive: HKEY_LOCAL_MACHINE', 'Registry Path: HKEY_LOCAL_MACHINE\\SOFTWARE\\A', 'Value Name: A', 'Type: REG_DWORD', 'Value: 1'])));
  assert.is((repeated as RegistryRequirement).values[0]!.path, 'SOFTWARE\\A');
  assert.match(reasonOf(['Registry Hive: HKEY_LOCAL_MACHINE', 'Registry Path: HKCU\\SOFTWARE\\A', 'Value Name: A', 'Type: REG_DWORD', 'Value: 1']).reason, /another hive/);
});

test('made up: applicability phrasings', () => {
  const scope = (text: string, title = 'A made-up rule') => ruleApplicability({ title, checkText: text }).scope;
  assert.equal(scope('If the system is not a domain controller, this is NA.'), ['DC']);
  assert.equal(scope('If the system is a domain controller, this is NA.'), ['MS']);
  assert.equal(scope('This applies to member servers and standalone or nondomain-joined systems. A separate version applies to domain controllers.'), ['MS']);
  assert.equal(scope('This applies to domain controllers. A separate version applies to other systems.'), ['DC']);
  assert.equal(scope('Check it.', 'Domain controllers must do a thing.'), ['DC']);
  assert.equal(scope('Check it.'), ['MS', 'DC']);
  const conflict = extractRegistryRequirement(madeUp('This applies to domain controllers. It is NA for domain controllers.'));
  assert.equal([conflict.kind, (conflict as Unsupported).category], ['unsupported', 'manual']);
});

test('conditions: every condition of an extracted value is well formed', () => {
  const check = (c: Condition, top: boolean): void => {
    if (!top) assert.is(c.absentOk, undefined);
    switch (c.op) {
      case 'allOf':
        assert.ok(c.conditions.length >= 2);
        c.conditions.forEach((x) => check(x, false));
        break;
      case 'oneOf':
        assert.ok(c.values.length >= 2);
        break;
      case 'range':
        assert.ok(Number(c.min) <= Number(c.max));
        break;
      default:
        break;
    }
  };
  const ops = new Set<string>();
  for (const { extraction: e } of results) {
    if (e.kind !== 'registry') continue;
    for (const v of e.values) {
      check(v.condition, true);
      ops.add(v.condition.op);
      if (v.condition.numericString) assert.is(v.valueType, 'String');
    }
  }
  assert.equal([...ops].sort(), ['allOf', 'atLeast', 'atMost', 'equals', 'oneOf']);
});

test.run();
