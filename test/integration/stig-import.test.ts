// `winstate import stig`: the Windows Server 2016 STIG (V2R10) imported into documents, checked rule
import { registrySpec } from '../../src/kinds/registry/kind.js';
// by rule against the extractor and against the raw check text, applied with real PowerShell to a
// registry export that starts out of compliance, and the committed configurations kept fresh.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { main, type CliIo } from '../../src/cli/cli.js';
import { Engine } from '../../src/engine/engine.js';
import { validateFile, validateText, type Plan, type PlannedResource } from '../../src/document/validate.js';
import { compilePlan } from '../../src/compile/emit.js';
import { meetsCondition } from '../../src/kinds/condition.js';
import type { WireData } from '../../src/kinds/registry/model.js';
import { extractAll, parseXccdf, type Condition } from '../../src/catalog/stig/xccdf.js';
import { gpoPaths, importStig, mapCondition, SCHEMA_MODELINE, type ImportedRegistryResource } from '../../src/catalog/stig/import.js';
import { nonCompliantSnapshot } from '../../bench/stig.js';
import { readReg, tempDir } from '../helpers.js';
import { runCli } from '../helpers.js';

const XCCDF = resolve(process.cwd(), 'test', 'fixtures', 'stig', 'U_MS_Windows_Server_2016_STIG_V2R10_Manual-xccdf.xml');
const RAW = readFileSync(XCCDF, 'utf8');
const benchmark = parseXccdf(RAW);
const extractions = extractAll(benchmark);
const CONFIG = { MS: 'configurations/windows-server-2016-stig-ms.yaml', DC: 'configurations/windows-server-2016-stig-dc.yaml' } as const;
const SCRIPT = { MS: 'generated-ps/windows-server-2016-stig-ms.ps1', DC: 'generated-ps/windows-server-2016-stig-dc.ps1' } as const;

const full = importStig(RAW, { sourceFile: XCCDF });
const fullPlan = planOf(full.yaml);

const engine = new Engine();
test.after(() => engine.close());

const cli = runCli;

function planOf(yaml: string, file = 'stig.yaml'): Plan {
  const { plan, diagnostics } = validateText(file, yaml);
  if (!plan) throw new Error(diagnostics.map((d) => `${d.start.line}:${d.start.col} ${d.message}`).join('\n'));
  return plan;
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
/** The registry part of a plan: sections 1-3 check registry rules; the other kinds are checked in catalog-kinds.test.ts. */
const registryOnly = (plan: Plan): Plan => ({ ...plan, resources: plan.resources.filter((r) => r.kind === 'Registry') });
const POLICY_CATEGORIES = ['user-right', 'audit-policy', 'account-policy', 'security-policy'];
const stigIdOf = (r: PlannedResource) => r.metadata!.references!.stig!.at(-1)!;

// --- an independent reading of the check text ---------------------------------------------------------------

interface RawValue {
  hive: string;
  path: string;
  name: string;
  type?: string;
}

/** Registry Hive / Registry Path / Value Name / (Value) Type lines, read with plain regular expressions. */
function rawRegistryValues(checkText: string): RawValue[] {
  const out: RawValue[] = [];
  const lines = checkText.split('\n');
  let hive = '';
  let path = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let m: RegExpExecArray | null;
    if ((m = /^\s*Registry\s*Hive\s*:\s*(\S+)/i.exec(line))) hive = m[1]!;
    else if ((m = /^\s*Registry\s*Path\s*:\s*(.*)$/i.exec(line))) {
      path = m[1]!.trim();
      while (path === '' && i + 1 < lines.length) path = lines[++i]!.trim();
    } else if ((m = /^\s*Value\s*Name\s*:\s*(.+?)\s*$/i.exec(line))) out.push({ hive, path, name: m[1]! });
    else if ((m = /^\s*(?:Value\s*)?Type\s*:\s*(REG_\w+)/i.exec(line)) && out.length > 0) out[out.length - 1]!.type = m[1]!.toUpperCase();
  }
  return out;
}

const TYPE_OF: Record<string, string> = { REG_DWORD: 'DWord', REG_SZ: 'String', REG_QWORD: 'QWord', REG_MULTI_SZ: 'MultiString', REG_EXPAND_SZ: 'ExpandString', REG_BINARY: 'Binary' };
const HIVE_SHORT: Record<string, string> = { HKEY_LOCAL_MACHINE: 'HKLM', HKEY_CURRENT_USER: 'HKCU' };

/** `HKLM\A\B` from the raw hive and path: blanks around separators and outer backslashes dropped. */
function rawKey(v: RawValue): string {
  const segments = v.path.split('\\').map((s) => s.trim()).filter((s) => s !== '');
  return `${HIVE_SHORT[v.hive.toUpperCase()] ?? v.hive}\\${segments.join('\\')}`;
}

// --- the extractor's condition, judged directly ---------------------------------------------------------------

/** Whether the STIG condition accepts a present value (`text` for REG_SZ, a number otherwise). */
function stigAccepts(c: Condition, value: bigint | string | string[], numericString = false): boolean {
  const ns = numericString || c.numericString === true;
  const n = (v: unknown): bigint | undefined => {
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number') return BigInt(v);
    if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) return BigInt(v.trim());
    return undefined;
  };
  const num = ns || typeof value === 'bigint' ? n(value) : undefined;
  switch (c.op) {
    case 'equals':
      if (Array.isArray(c.value)) return JSON.stringify(c.value) === JSON.stringify(value);
      return typeof value === 'bigint' || ns ? num !== undefined && num === n(c.value) : value === c.value;
    case 'atLeast':
      return num !== undefined && num >= n(c.value)!;
    case 'atMost':
      return num !== undefined && num <= n(c.value)!;
    case 'range':
      return num !== undefined && num >= n(c.min)! && num <= n(c.max)!;
    case 'oneOf':
      return c.values.some((v) => (typeof value === 'bigint' || ns ? num !== undefined && num === n(v) : v === value));
    case 'not':
      return typeof value === 'bigint' || ns ? num !== undefined && num !== n(c.value) : value !== c.value;
    case 'bitsSet':
      return num !== undefined && (num & n(c.mask)!) === n(c.mask)!;
    case 'allOf':
      return c.conditions.every((x) => stigAccepts(x, value, ns));
  }
}

/** Whether the document's resource accepts the same present value (its test, as validation computes it). */
function documentAccepts(r: PlannedResource, value: bigint | string | string[]): boolean {
  const d = registrySpec(r)!.desired;
  const wire: WireData = typeof value === 'bigint' ? (d.valueType === 'QWord' ? value.toString() : Number(value)) : value;
  if (d.condition) return meetsCondition(d.condition, d.valueType!, wire);
  return JSON.stringify(wire) === JSON.stringify(d.valueData);
}

/** Values around every number the condition names, plus the extremes. */
function samples(c: Condition, r: PlannedResource): (bigint | string | string[])[] {
  const numbers = new Set<bigint>([0n, 1n, 2n, 3n, 4n, 5n, 7n, 8n, 0xffffffffn]);
  const visit = (x: Condition): void => {
    const add = (v: unknown) => {
      if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v))) for (const d of [-1n, 0n, 1n]) numbers.add(BigInt(v) + d);
    };
    if ('value' in x) add(x.value);
    if (x.op === 'range') [x.min, x.max].forEach(add);
    if (x.op === 'oneOf') x.values.forEach(add);
    if (x.op === 'bitsSet') add(x.mask);
    if (x.op === 'allOf') x.conditions.forEach(visit);
  };
  visit(c);
  const type = registrySpec(r)!.desired.valueType;
  const positive = [...numbers].filter((n) => n >= 0n && n <= 0xffffffffn);
  if (type === 'DWord' || type === 'QWord') return positive;
  if (type === 'MultiString') return [registrySpec(r)!.desired.valueData as string[], ['other']];
  const data = String(registrySpec(r)!.desired.valueData);
  return [data, `${data}x`, '', 'abc', ` ${data}`, ...positive.map(String)];
}

// --- 1. every rule of the STIG, resource by resource -----------------------------------------------------

test('every registry rule has a resource matching the raw check text (hive, path, value name, type) and the extractor (value or condition)', () => {
  const registry = extractions.filter((x) => x.extraction.kind === 'registry');
  assert.is(registry.length, 101, 'the V2R10 fixture has 101 registry rules (2 of them with a runtime check beside their values)');
  let values = 0;
  for (const { rule, extraction } of registry) {
    if (extraction.kind !== 'registry') continue;
    const raw = rawRegistryValues(rule.checkText);
    assert.is(raw.length, extraction.values.length, `${rule.stigId}: the check text names ${raw.length} values`);
    const resources = fullPlan.resources.filter((r) => r.kind === 'Registry' && stigIdOf(r) === rule.stigId);
    assert.is(resources.length, raw.length, `${rule.stigId}: one resource per value`);
    raw.forEach((rv, i) => {
      const v = extraction.values[i]!;
      const r = resources.find((x) => registrySpec(x)!.target.valueName!.toLowerCase() === rv.name.toLowerCase());
      assert.ok(r, `${rule.stigId}: no resource for value ${rv.name}`);
      const doc = full.resources.find((x): x is ImportedRegistryResource => x.kind === 'Registry' && x.name === r!.name)!;
      // Windows compares key paths and value names case-insensitively; types exactly.
      assert.is(doc.properties.key.toLowerCase(), rawKey(rv).toLowerCase(), `${rule.stigId}: key`);
      assert.is(`${registrySpec(r!)!.target.hive}\\${registrySpec(r!)!.target.subKey}`.toLowerCase(), `${rv.hive}\\${rawKey(rv).split('\\').slice(1).join('\\')}`.toLowerCase(), `${rule.stigId}: resolved key`);
      assert.is(registrySpec(r!)!.desired.valueType, TYPE_OF[rv.type!], `${rule.stigId}: type ${rv.type}`);
      assert.is(registrySpec(r!)!.desired.ensure, 'Present');
      // The extractor is the source of truth for the value: same verdict on every sample, same absence rule.
      assert.is(registrySpec(r!)!.desired.absentOk === true, v.condition.absentOk === true, `${rule.stigId}: absentOk`);
      const data = registrySpec(r!)!.desired.valueData!;
      const dataValue = typeof data === 'number' || (registrySpec(r!)!.desired.valueType === 'QWord' && typeof data === 'string') ? BigInt(data) : data;
      assert.ok(stigAccepts(v.condition, dataValue), `${rule.stigId}: valueData ${JSON.stringify(data)} does not comply with the STIG`);
      for (const s of samples(v.condition, r!)) {
        assert.is(documentAccepts(r!, s), stigAccepts(v.condition, s), `${rule.stigId} ${v.valueName}: verdicts differ on ${JSON.stringify(String(s))}`);
      }
      values++;
    });
  }
  assert.is(values, 104);
  assert.is(registryOnly(fullPlan).resources.length, 104);
  assert.is(fullPlan.resources.length, 180, 'and 74 resources for the user right, account, security and audit policy rules, 2 runtime checks');
});

test('every rule without a registry requirement is listed at the top of the document with its category and reason', () => {
  const header = full.yaml.slice(0, full.yaml.indexOf('\nmetadata:'));
  assert.ok(header.startsWith(`# ${SCHEMA_MODELINE}\n`), 'the modeline comes first');
  const listed = new Map<string, { category: string; reason: string }>();
  let category = '';
  for (const line of header.split('\n')) {
    const c = /^# {3}([a-z-]+) \((\d+)\):$/.exec(line);
    if (c) category = c[1]!;
    const m = /^# {5}(\S+) \((V-\d+)\): (.*)$/.exec(line);
    if (m) listed.set(m[1]!, { category, reason: m[3]! });
  }
  const unsupported = extractions.filter((x) => x.extraction.kind === 'unsupported');
  assert.is(unsupported.length, 172);
  // Rules of the other kinds have resources, except the orphaned-SID review and, without --scope, the member
  // server rules whose right the domain controller rule sets otherwise (listed as conflicts).
  const imported = unsupported.filter((x) => full.resources.some((r) => r.kind !== 'Registry' && r.rules.some((rule) => rule.stigId === x.rule.stigId)));
  assert.is(imported.length, 93 - 1 - 7);
  const conflicts = full.notImported.filter((n) => n.category === 'conflict');
  assert.equal(conflicts.map((n) => n.rule.stigId), ['WN16-MS-000340', 'WN16-MS-000370', 'WN16-MS-000380', 'WN16-MS-000390', 'WN16-MS-000400', 'WN16-MS-000410', 'WN16-MS-000420']);
  for (const n of conflicts) assert.match(n.reason, /is also required by WN16-DC-000\d+, with another value \(the two rules are for different server roles/);
  assert.is(listed.size, unsupported.length - imported.length, 'nothing else is listed');
  for (const { rule, extraction } of unsupported) {
    if (extraction.kind !== 'unsupported' || imported.some((x) => x.rule.stigId === rule.stigId)) continue;
    if (POLICY_CATEGORIES.includes(extraction.category)) {
      assert.ok(listed.has(rule.stigId), `${rule.stigId} is listed`);
      continue;
    }
    const entry = listed.get(rule.stigId);
    assert.ok(entry, `${rule.stigId} is not listed`);
    assert.is(entry!.category, extraction.category, rule.stigId);
    assert.is(entry!.reason, oneLine(extraction.reason), rule.stigId);
    assert.not.ok(full.resources.some((r) => r.rule.stigId === rule.stigId), `${rule.stigId} has no resource`);
  }
  assert.match(header, /# 273 rules: 186 imported as 180 resources \(\d+ linked to the catalog as Policy\/SecurityOption, 7 of their own kind: Registry 5, CimInstance 2\), 87 not expressible as settings \(listed below\)\./);
});

test('metadata: title, severity, scope, STIG ids, GPO path; names unique, prefixed by the STIG id, at most 200 characters', () => {
  const names = new Set<string>();
  for (const r of fullPlan.resources.filter((x) => x.kind !== 'Registry')) {
    // One resource per rule, or per audit subcategory (its Success and its Failure rule): each rule's ids, in order.
    const ids = r.metadata!.references!.stig!.filter((id) => id.startsWith('WN16-'));
    const rules = ids.map((id) => extractions.find((x) => x.rule.stigId === id)!.rule);
    assert.ok(r.name.startsWith(`${ids.join(', ')}: `), r.name);
    assert.equal(r.metadata!.references!.stig, rules.flatMap((rule) => [rule.vulnId, ...rule.legacyIds, rule.stigId]));
    assert.is(r.metadata!.title, rules.map((rule) => oneLine(rule.title)).join(' / '));
    assert.is(r.metadata!.severity, rules[0]!.severity);
    assert.ok(r.metadata!.gpoPath, `${r.name}: gpoPath`);
    assert.not.ok(names.has(r.name), `duplicate ${r.name}`);
    names.add(r.name);
  }
  for (const r of registryOnly(fullPlan).resources) {
    const { rule, extraction } = extractions.find((x) => x.rule.stigId === stigIdOf(r))!;
    assert.ok(r.name.startsWith(`${rule.stigId}: `), r.name);
    assert.ok(r.name.length <= 200, r.name);
    assert.not.ok(names.has(r.name), `duplicate ${r.name}`);
    names.add(r.name);
    assert.is(r.metadata!.title, oneLine(rule.title));
    assert.is(r.metadata!.severity, rule.severity);
    assert.equal(r.metadata!.references!.stig, [rule.vulnId, ...rule.legacyIds, rule.stigId]);
    assert.equal(r.metadata!.scope, extraction.applicability.scope);
    if (/(?:Computer|User) Configuration\s*>>/.test(rule.fixText)) assert.ok(r.metadata!.gpoPath, `${rule.stigId}: gpoPath`);
    // Conditions beyond the server role are kept in the description, word for word.
    for (const c of extraction.applicability.conditions) assert.ok(r.description?.includes(oneLine(c.text)), `${rule.stigId}: description lacks '${c.text}'`);
    if (extraction.applicability.conditions.length === 0) assert.is(r.description, undefined, rule.stigId);
  }
  const byId = (id: string) => fullPlan.resources.find((r) => stigIdOf(r) === id)!;
  assert.is(byId('WN16-CC-000300').metadata!.gpoPath, 'Computer Configuration\\Administrative Templates\\Windows Components\\Event Log Service\\Application\\Specify the maximum log file size (KB)');
  assert.is(byId('WN16-SO-000200').metadata!.gpoPath, 'Computer Configuration\\Windows Settings\\Security Settings\\Local Policies\\Security Options\\Microsoft network client: Digitally sign communications (if server agrees)');
  assert.is(byId('WN16-UC-000030').metadata!.gpoPath, 'User Configuration\\Administrative Templates\\Windows Components\\Attachment Manager\\Do not preserve zone information in file attachments');
  assert.match(byId('WN16-CC-000300').description!, /audit server, this is NA/);
  const cc90 = fullPlan.resources.filter((r) => stigIdOf(r) === 'WN16-CC-000090').map((r) => r.name);
  assert.equal(cc90.map((n) => n.replace(/^.*\(/, '(')), ['(\\\\*\\NETLOGON)', '(\\\\*\\SYSVOL)'], 'a rule with two values: two resources named by value');
  assert.equal(gpoPaths('Configure Computer Configuration >> A>> B >> "Policy: x" to "Enabled".'), ['Computer Configuration\\A\\B\\Policy: x']);
});

test('catalog-linked resources wherever the catalog covers the rule, raw Registry only where it does not', () => {
  const linked = full.resources.filter((r) => r.linked);
  assert.ok(linked.length >= 90, `linked: ${linked.length}`);
  const so200 = full.resources.find((r) => r.rule.stigId === 'WN16-SO-000200')!;
  assert.equal(so200.linked, { type: 'SecurityOption', properties: { stig: 'WN16-SO-000200', value: 'Enabled' } });
  const planned = fullPlan.resources.find((r) => r.name === so200.name)!;
  assert.is(planned.type, 'SecurityOption');
  assert.is(planned.entry!.id, 'smb-client-signing-if-server-agrees');
  assert.is(planned.policy!.value, 'Enabled');
  // A rule of two values links each to its own entry by id.
  assert.equal(full.resources.filter((r) => r.rule.stigId === 'WN16-CC-000421').map((r) => r.linked?.properties), [
    { id: 'explorer-preview-pane-off', value: 'Enabled' }, { id: 'explorer-details-pane-hidden', value: 'Always hide' },
  ]);
  // Raw Registry only where the catalog's values differ from the STIG's (another value written, or conditions in another order).
  // The runtime-state rules (VBS, Credential Guard): their values linked where the catalog asks for the same
  // (RequirePlatformSecurityFeatures: the STIG accepts 1 or 3, the catalog recommends 3), and their CimInstance check.
  assert.equal(full.resources.filter((r) => !r.linked).map((r) => `${r.rule.stigId} ${r.kind}`), [
    'WN16-CC-000090 Registry', 'WN16-CC-000090 Registry', 'WN16-CC-000110 Registry', 'WN16-CC-000110 CimInstance',
    'WN16-CC-000290 Registry', 'WN16-MS-000120 CimInstance', 'WN16-SO-000480 Registry',
  ]);
  for (const r of full.resources) assert.is(fullPlan.resources.find((p) => p.name === r.name)!.type, r.linked?.type ?? (r.kind === 'Registry' ? 'Registry' : r.type), r.name);
});

test('runtime-state rules for member servers: the Device Guard and Credential Guard registry values, and the check-only CimInstance resources beside them', () => {
  const { plan } = validateFile(CONFIG.MS);
  assert.ok(plan, 'the committed MS document validates');
  const of = (stigId: string) => plan!.resources.filter((r) => stigIdOf(r) === stigId);
  const desiredOf = (r: PlannedResource) => {
    const spec = registrySpec(r)!;
    return [spec.target.valueName, spec.desired.valueData, spec.desired.condition ? Object.keys(spec.desired.condition) : null];
  };
  const vbs = of('WN16-CC-000110');
  assert.equal(vbs.map((r) => r.kind), ['Registry', 'Registry', 'CimInstance'], 'the check right after the values');
  assert.equal(vbs.slice(0, 2).map(desiredOf), [['EnableVirtualizationBasedSecurity', 1, null], ['RequirePlatformSecurityFeatures', 1, ['oneOf']]]);
  // RequirePlatformSecurityFeatures as the fix states it: 1 (Secure Boot) or 3 (Secure Boot and DMA protection).
  assert.equal(vbs[1]!.type, 'Registry');
  const rpsf = registrySpec(vbs[1]!)!.desired.condition as { oneOf: bigint[] };
  assert.equal(rpsf.oneOf.map(Number), [1, 3]);
  const cg = of('WN16-MS-000120');
  assert.equal(cg.map((r) => r.kind), ['Registry', 'CimInstance']);
  assert.equal(desiredOf(cg[0]!), ['LsaCfgFlags', 1, null]);
  assert.is(cg[0]!.entry!.id, 'credential-guard-uefi-lock', 'linked to the catalog entry');
  for (const [check, values] of [[vbs[2]!, vbs.slice(0, 2)], [cg[1]!, cg.slice(0, 1)]] as const) {
    assert.is(check.type, 'CimInstance');
    assert.equal(check.metadata!.references!.stig, values[0]!.metadata!.references!.stig, `${check.name}: the same STIG ids`);
    assert.is(check.metadata!.severity, values[0]!.metadata!.severity);
  }
  assert.equal((vbs[2]!.spec as { namespace: string; className: string; expect: unknown }), {
    namespace: 'root\\Microsoft\\Windows\\DeviceGuard', className: 'Win32_DeviceGuard',
    expect: [['RequiredSecurityProperties', { contains: [2] }], ['VirtualizationBasedSecurityStatus', { equals: 2 }]],
  });
  assert.equal((cg[1]!.spec as { expect: unknown }).expect, [['SecurityServicesRunning', { contains: [1] }]]);
  // Credential Guard is for member servers only: the DC document has the VBS rule and its check, not Credential Guard.
  const dc = validateFile(CONFIG.DC).plan!;
  assert.equal(dc.resources.filter((r) => r.kind === 'CimInstance').map(stigIdOf), ['WN16-CC-000110']);
});

test('conditions in the document language: the STIG rules that are not a single exact value', () => {
  const props = (id: string) => full.resources.find((r): r is ImportedRegistryResource => r.kind === 'Registry' && r.rule.stigId === id)!.properties;
  assert.equal(props('WN16-CC-000300'), { key: 'HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\EventLog\\Application', valueName: 'MaxSize', valueType: 'DWord', valueData: 32768, condition: { atLeast: 32768 } });
  assert.equal(props('WN16-SO-000120').condition, { atMost: 30, not: 0 });
  assert.is(props('WN16-SO-000120').valueData, 30);
  assert.equal(props('WN16-SO-000140').condition, { atMost: 900, not: 0 });
  // A REG_SZ holding a number stays a String, its data text.
  assert.equal(props('WN16-MS-000050'), { key: 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon', valueName: 'CachedLogonsCount', valueType: 'String', valueData: '4', condition: { atMost: 4 } });
  assert.equal(props('WN16-SO-000180'), { key: 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon', valueName: 'scremoveoption', valueType: 'String', valueData: '1', condition: { oneOf: [1, 2] } });
  // oneOf: DISA's first choice (2, the consent prompt the fix text asks for) ...
  assert.equal(props('WN16-SO-000480').condition, { oneOf: [2, 1] });
  assert.is(props('WN16-SO-000480').valueData, 2);
  assert.is(props('WN16-CC-000290').valueData, 0);
  // ... except a list in numeric order whose fix text names one choice: 3, the Windows default.
  assert.equal(props('WN16-CC-000140'), { key: 'HKLM\\SYSTEM\\CurrentControlSet\\Policies\\EarlyLaunch', valueName: 'DriverLoadPolicy', valueType: 'DWord', valueData: 3, condition: { oneOf: [1, 3, 8] }, absentOk: true });
  assert.equal(props('WN16-CC-000340'), { key: 'HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\Explorer', valueName: 'NoDataExecutionPrevention', valueType: 'DWord', valueData: 0, absentOk: true });
  assert.is(props('WN16-SO-000350').valueData, 2147483640, 'a DWORD past 2^31 stays exact');

  // Forms this release does not use, on made-up conditions.
  const rule = { checkText: '', fixText: '' };
  const map = (valueType: 'DWord' | 'QWord' | 'String', condition: Condition) => mapCondition({ valueType, condition }, rule);
  assert.equal(map('DWord', { op: 'range', min: 1, max: 30 }), { ok: true, valueData: 1, condition: { atLeast: 1, atMost: 30 } });
  assert.equal(map('String', { op: 'range', min: 5, max: 10, numericString: true }), { ok: true, valueData: '5', condition: { atLeast: 5, atMost: 10 } });
  assert.equal(map('DWord', { op: 'bitsSet', mask: 0x8000 }), { ok: true, valueData: 0x8000, condition: { bitsSet: 0x8000 } });
  assert.equal(map('DWord', { op: 'allOf', conditions: [{ op: 'atMost', value: 5 }, { op: 'not', value: 5 }, { op: 'not', value: 4 }] }), { ok: true, valueData: 3, condition: { atMost: 5, not: [5, 4] } });
  assert.equal(map('DWord', { op: 'allOf', conditions: [{ op: 'atLeast', value: 0 }, { op: 'not', value: 0 }] }), { ok: true, valueData: 1, condition: { atLeast: 0, not: 0 } });
  assert.equal(map('QWord', { op: 'atLeast', value: '18446744073709551614' }), { ok: true, valueData: 18446744073709551614n, condition: { atLeast: 18446744073709551614n } });
  assert.equal(map('String', { op: 'equals', value: 4, numericString: true, absentOk: true }), { ok: true, valueData: '4', condition: { oneOf: [4] }, absentOk: true });
  const notAlone = map('DWord', { op: 'not', value: 0 });
  assert.ok(!notAlone.ok && /only excludes values/.test(notAlone.reason));
  const impossible = map('DWord', { op: 'allOf', conditions: [{ op: 'atMost', value: 0 }, { op: 'not', value: 0 }] });
  assert.ok(!impossible.ok && /cannot be expressed/.test(impossible.reason));
});

test('--scope keeps the rules for that server role; every rule is a resource, listed as not expressible, or listed as not for the scope', () => {
  for (const scope of ['MS', 'DC'] as const) {
    const result = importStig(RAW, { scope, sourceFile: XCCDF });
    const plan = planOf(result.yaml);
    const inScope = extractions.filter((x) => x.extraction.applicability.scope.includes(scope));
    const registry = inScope.filter((x) => x.extraction.kind === 'registry');
    assert.equal([...new Set(registryOnly(plan).resources.map(stigIdOf))].sort(), registry.map((x) => x.rule.stigId).sort(), `${scope}: the registry rules for ${scope}`);
    const other = inScope.filter((x) => x.extraction.kind === 'unsupported' && POLICY_CATEGORIES.includes(x.extraction.category) && x.rule.stigId !== 'WN16-00-000460');
    const covered = plan.resources.filter((r) => r.kind !== 'Registry' && r.kind !== 'CimInstance').flatMap((r) => r.metadata!.references!.stig!.filter((id) => id.startsWith('WN16-')));
    assert.equal(covered.sort(), other.map((x) => x.rule.stigId).sort(), `${scope}: the user right, account, security and audit policy rules for ${scope}`);
    assert.equal(result.notImported.map((n) => n.rule.stigId), inScope.filter((x) => x.extraction.kind === 'unsupported' && !other.includes(x)).map((x) => x.rule.stigId));
    assert.equal(result.outOfScope.map((r) => r.stigId), extractions.filter((x) => !x.extraction.applicability.scope.includes(scope)).map((x) => x.rule.stigId));
    for (const rule of result.outOfScope) assert.match(result.yaml, new RegExp(`^# {5}${rule.stigId} \\(${rule.vulnId}\\): `, 'm'));
    assert.is(result.importedRules + result.notImported.length + result.outOfScope.length, benchmark.rules.length);
    assert.is(plan.name, `windows-server-2016-stig-${scope.toLowerCase()}`);
  }
  const names = (scope: 'MS' | 'DC') => new Set(importStig(RAW, { scope }).resources.map((r) => r.rule.stigId));
  assert.ok(names('MS').has('WN16-MS-000050') && !names('DC').has('WN16-MS-000050'), 'cached logons: member servers only');
  assert.ok(names('DC').has('WN16-DC-000320') && !names('MS').has('WN16-DC-000320'), 'LDAP server signing: domain controllers only');
});

/** A document without its modeline, which points at the schema from wherever the file is written. */
const withoutModeline = (text: Buffer | string) => text.toString().replace(/^# yaml-language-server: \$schema=.*$/m, '');

test('the committed configurations and scripts equal a fresh import and compile; import is deterministic', async () => {
  for (const scope of ['MS', 'DC'] as const) {
    const out = join(tempDir(), 'fresh.yaml');
    const r = await cli(['import', 'stig', XCCDF, '--scope', scope, '-o', out]);
    assert.is(r.code, 0, r.stderr);
    const fresh = readFileSync(out);
    assert.ok(withoutModeline(fresh) === withoutModeline(readFileSync(CONFIG[scope])), `${CONFIG[scope]} is stale: run winstate import stig ${XCCDF} --scope ${scope} -o ${CONFIG[scope]}`);
    assert.ok(withoutModeline(fresh) === withoutModeline(importStig(RAW, { scope, sourceFile: 'elsewhere/U_MS_Windows_Server_2016_STIG_V2R10_Manual-xccdf.xml' }).yaml), 'same document from the library, wherever the file is');
    const { plan, diagnostics } = validateFile(CONFIG[scope]);
    assert.equal(diagnostics, []);
    assert.ok(readFileSync(SCRIPT[scope], 'utf8') === compilePlan(plan!).text, `${SCRIPT[scope]} is stale: run npx tsc -p . && node bin/winstate.js compile configurations --out generated-ps`);
    assert.ok(readFileSync(CONFIG[scope], 'utf8').startsWith(`# ${SCHEMA_MODELINE}\n`));
  }
  assert.is(importStig(RAW).yaml, importStig(RAW).yaml);
});

// --- 2. the whole baseline applied to a registry export that starts out of compliance ----------------------

const UNRELATED = ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\Unrelated]', '"Keep"="me"', '"Count"=dword:00000007', ''];

for (const scope of ['MS', 'DC'] as const) {
  test(`${scope}: apply brings every registry rule into its desired state from a non-compliant export; a second apply changes nothing`, async () => {
    const plan = registryOnly(validateFile(CONFIG[scope]).plan!);
    const file = join(tempDir(), `stig-${scope}.reg`);
    const { bytes, kinds } = nonCompliantSnapshot(plan!, UNRELATED);
    writeFileSync(file, bytes);
    const counts = [...kinds.values()].reduce<Record<string, number>>((acc, k) => ((acc[k] = (acc[k] ?? 0) + 1), acc), {});
    assert.ok(counts.missing! > 10 && counts.failing! > 10 && counts['wrong-type']! > 5, JSON.stringify(counts));

    const report = await engine.apply(plan!, { snapshot: file });
    assert.is(report.test.summary.drifted, plan!.resources.length, 'every setting starts out of compliance');
    assert.is(report.plan.length, plan!.resources.length);
    assert.ok(report.converged, JSON.stringify(report.verify?.summary));
    assert.is(report.verify!.summary.inDesiredState, plan!.resources.length);
    assert.is(report.verify!.summary.failed, 0);
    // Per STIG rule: every value of every registry rule for this scope is in its desired state.
    const inDesired = new Map(report.verify!.results.map((r) => [r.name, r.inDesiredState]));
    for (const { rule, extraction } of extractions) {
      if (extraction.kind !== 'registry' || !extraction.applicability.scope.includes(scope)) continue;
      const resources = plan!.resources.filter((r) => stigIdOf(r) === rule.stigId);
      assert.is(resources.length, extraction.values.length, rule.stigId);
      for (const r of resources) assert.is(inDesired.get(r.name), true, r.name);
    }
    // Wrong types were rewritten with the right type.
    const got = await engine.get(plan!, { snapshot: file });
    for (const r of got.results) assert.is(r.actual!.valueType, registrySpec(plan!.resources.find((p) => p.name === r.name)!)!.desired.valueType, r.name);
    const text = readReg(file);
    assert.match(text, /\[HKEY_LOCAL_MACHINE\\SOFTWARE\\Unrelated\]\r\n"Keep"="me"\r\n"Count"=dword:00000007/, 'other keys are kept');

    const after = readFileSync(file);
    const again = await engine.apply(plan!, { snapshot: file });
    assert.is(again.plan.length, 0);
    assert.is(again.set, undefined);
    assert.ok(again.converged);
    assert.ok(readFileSync(file).equals(after), 'a second apply leaves the file byte for byte');
  });
}

// --- 3. values the STIG accepts that are not valueData are left alone ------------------------------------

test('compliant values other than valueData (a larger log, fewer cached logons as text, another allowed choice, absence) are left untouched', async () => {
  const plan = registryOnly(validateFile(CONFIG.MS).plan!);
  const base = nonCompliantSnapshot(plan!).bytes.toString('utf16le').replace(/^\uFEFF/, '').split('\r\n');
  const OK_VALUES: Record<string, string> = {
    'WN16-CC-000300': '"MaxSize"=dword:00010000',
    'WN16-CC-000310': '"MaxSize"=dword:00040000',
    'WN16-MS-000050': '"CachedLogonsCount"="2"',
    'WN16-SO-000120': '"MaximumPasswordAge"=dword:0000000f',
    'WN16-SO-000140': '"InactivityTimeoutSecs"=dword:00000258',
    'WN16-SO-000480': '"ConsentPromptBehaviorAdmin"=dword:00000001',
    'WN16-SO-000180': '"scremoveoption"="2"',
    'WN16-CC-000290': '"AllowTelemetry"=dword:00000001',
    'WN16-CC-000140': '"DriverLoadPolicy"=dword:00000008',
  };
  const ABSENT = ['WN16-CC-000340', 'WN16-UC-000030'];
  const byId = (id: string) => plan!.resources.find((r) => stigIdOf(r) === id)!;
  // Drop the generated line of those values and put the compliant one under its key.
  const targets = new Set([...Object.keys(OK_VALUES), ...ABSENT].map((id) => registrySpec(byId(id))!.target.valueName!.toLowerCase()));
  let header = '';
  const lines: string[] = [];
  for (const line of base) {
    if (line.startsWith('[')) header = line.toLowerCase();
    const name = /^"((?:[^"\\]|\\.)*)"=/.exec(line)?.[1]?.replace(/\\\\/g, '\\');
    const owner = [...Object.keys(OK_VALUES), ...ABSENT].map(byId).find((r) => `[${registrySpec(r)!.target.hive}\\${registrySpec(r)!.target.subKey}]`.toLowerCase() === header && registrySpec(r)!.target.valueName!.toLowerCase() === name?.toLowerCase());
    if (name && targets.has(name.toLowerCase()) && owner) continue;
    lines.push(line);
  }
  for (const [id, line] of Object.entries(OK_VALUES)) lines.push(`[${registrySpec(byId(id))!.target.hive}\\${registrySpec(byId(id))!.target.subKey}]`, line, '');
  const file = join(tempDir(), 'stig-ok.reg');
  writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(lines.join('\r\n'), 'utf16le')]));

  const report = await engine.apply(plan!, { snapshot: file });
  assert.ok(report.converged);
  const planned = new Set(report.plan.map((p) => p.name));
  for (const id of [...Object.keys(OK_VALUES), ...ABSENT]) assert.not.ok(planned.has(byId(id).name), `${id} is compliant and must not be planned`);
  assert.is(report.plan.length, plan!.resources.length - Object.keys(OK_VALUES).length - ABSENT.length, 'everything else was changed');
  const text = readReg(file);
  for (const line of Object.values(OK_VALUES)) assert.ok(text.includes(`\r\n${line}\r\n`), `kept: ${line}`);
  const got = new Map((await engine.get(plan!, { snapshot: file })).results.map((r) => [r.name, r.actual]));
  assert.equal(got.get(byId('WN16-MS-000050').name), { ensure: 'Present', valueType: 'String', valueData: '2' });
  assert.equal(got.get(byId('WN16-CC-000300').name), { ensure: 'Present', valueType: 'DWord', valueData: 65536 });
  // Catalog-linked resources also say that absence is none of the policy's choices (policyValue null).
  for (const id of ABSENT) assert.is(got.get(byId(id).name)!.ensure, 'Absent', `${id}: absence is fine, nothing written`);
});

// --- 4. the command line ---------------------------------------------------------------------------------

test('CLI: a missing file, an unknown scope, an unknown source kind or a file that is no XCCDF exit 3 and write nothing', async () => {
  const dir = tempDir();
  const out = join(dir, 'out.yaml');
  let r = await cli(['import', 'stig', join(dir, 'nope.xml'), '-o', out]);
  assert.is(r.code, 3);
  assert.match(r.stderr, /import stig: .*nope\.xml does not exist/);
  r = await cli(['import', 'stig', XCCDF, '--scope', 'XX', '-o', out]);
  assert.is(r.code, 3);
  assert.match(r.stderr, /--scope takes MS \(member servers\) or DC \(domain controllers\), not 'XX'/);
  r = await cli(['import', 'cis', XCCDF]);
  assert.is(r.code, 3);
  assert.match(r.stderr, /one source kind, stig/);
  r = await cli(['import', 'stig']);
  assert.is(r.code, 3);
  r = await cli(['validate', CONFIG.MS, '--scope', 'MS']);
  assert.is(r.code, 3);
  assert.match(r.stderr, /validate does not take --scope \(it goes with import, baseline\)/);
  const bad = join(dir, 'bad.xml');
  writeFileSync(bad, '<Benchmark><Group id="V-1"><Rule id="x">');
  r = await cli(['import', 'stig', bad, '-o', out]);
  assert.is(r.code, 3);
  assert.match(r.stderr, /not a readable STIG XCCDF benchmark/);
  assert.not.ok(existsSync(out), 'nothing written');
  assert.equal(readdirSync(dir).sort(), ['bad.xml']);
  // -o naming the benchmark itself would replace the XCCDF with the document.
  const own = join(dir, 'benchmark.xml');
  copyFileSync(XCCDF, own);
  r = await cli(['import', 'stig', own, '--scope', 'MS', '-o', own]);
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /-o .*benchmark\.xml is the benchmark itself/);
  assert.is(readFileSync(own, 'utf8'), readFileSync(XCCDF, 'utf8'), 'the benchmark is untouched');
});

test('CLI: -o replaces the file atomically (a new file renamed over it), counts by category on stderr; without -o the document goes to stdout', async () => {
  const dir = tempDir();
  const out = join(dir, 'baseline.yaml');
  writeFileSync(out, 'old content\n');
  const before = statSync(out).ino;
  const r = await cli(['import', 'stig', XCCDF, '--scope', 'ms', '-o', out]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(withoutModeline(readFileSync(out)) === withoutModeline(readFileSync(CONFIG.MS)));
  assert.is.not(statSync(out).ino, before, 'renamed over, not rewritten in place');
  assert.equal(readdirSync(dir), ['baseline.yaml'], 'no temporary file left');
  assert.match(r.stderr, /273 rules in U_MS_Windows_Server_2016_STIG_V2R10_Manual-xccdf\.xml; 43 not for MS; 173 imported as 168 resources into /);
  assert.match(r.stderr, /57 not expressible \(listed at the top of the document\): access-control 10, accounts-directory 7, certificate 4, installed-feature 8, manual 23, platform 3, site-defined-value 2\n/);
  assert.is(r.stdout, '');

  const nested = join(dir, 'a', 'b', 'dc.yaml');
  const dc = await cli(['import', 'stig', XCCDF, '--scope', 'DC', '--out', nested]);
  assert.is(dc.code, 0);
  assert.ok(withoutModeline(readFileSync(nested)) === withoutModeline(readFileSync(CONFIG.DC)));

  const std = await cli(['import', 'stig', XCCDF]);
  assert.is(std.code, 0);
  assert.is(std.stdout, full.yaml);
  assert.match(std.stderr, /186 imported as 180 resources\n/);

  // An output path that cannot be written: a runtime error, the directory left as it was.
  const blocker = join(dir, 'taken');
  mkdirSync(blocker);
  writeFileSync(join(blocker, 'inside'), 'x');
  const failed = await cli(['import', 'stig', XCCDF, '-o', blocker]);
  assert.is(failed.code, 1);
  assert.match(failed.stderr, /cannot write/);
  assert.equal(readdirSync(blocker), ['inside']);
});

test.run();
