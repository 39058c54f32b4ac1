// The bridge sends resources as data (CLIXML, src/bridge/clixml.ts) to the same runtime that a
// compiled script runs with its table literal. Both forms must give PowerShell the same table:
// every field, with the same types, for every kind of value, and any text exactly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PwshSession } from '../../src/bridge/session.js';
import { toClixml } from '../../src/bridge/clixml.js';
import { bridgePayload, resourceFields, RUNTIME_FILES } from '../../src/compile/emit.js';
import { ps, psLiteral, PsCode } from '../../src/compile/quote.js';
import { planFromYaml } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// The whole runtime: each kind repairs its own rows after the one deserialisation.
const CORE = RUNTIME_FILES.map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
const session = new PwshSession();
test.after(() => session.close());

// Each value with its type, lists of any kind as lists: equal text means an equal table.
const DESCRIBE = String.raw`
function Get-Shape($Value) {
    if ($null -eq $Value) { return 'null' }
    if ($Value -is [System.Collections.IDictionary]) {
        $keys = @($Value.Keys | ForEach-Object { [string]$_ } | Sort-Object)
        return '{' + (($keys | ForEach-Object { $_ + '=' + (Get-Shape $Value[$_]) }) -join ';') + '}'
    }
    if ($Value -is [byte[]]) { return 'byte[]:' + [System.Convert]::ToBase64String($Value) }
    if ($Value -is [string[]]) { return 'string[](' + (($Value | ForEach-Object { Get-Shape $_ }) -join ',') + ')' }
    if ($Value -is [System.Collections.IList]) { return 'list(' + ((@($Value) | ForEach-Object { Get-Shape $_ }) -join ',') + ')' }
    if ($Value -is [string]) { return 'string:' + [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($Value)) }
    return $Value.GetType().Name + ':' + [string]$Value
}`;

/** Shapes of the table as a literal and as a payload, one line per resource each. */
async function shapes(literal: PsCode, payload: string): Promise<{ literal: string[]; payload: string[] }> {
  const code = ps`${new PsCode(CORE)}
${new PsCode(DESCRIBE)}
$literal = @(${literal})
$payload = (ConvertFrom-WsPayload -Payload ${payload}).Resources
foreach ($r in $literal) { 'L ' + (Get-Shape $r) }
foreach ($r in $payload) { 'P ' + (Get-Shape $r) }`;
  const r = await session.invoke(code);
  assert.ok(r.ok, r.error?.message);
  const lines = r.output.split('\n');
  return { literal: lines.filter((l) => l.startsWith('L ')).map((l) => l.slice(2)), payload: lines.filter((l) => l.startsWith('P ')).map((l) => l.slice(2)) };
}

const DOC = `
metadata: { name: payload }
resources:
  - { name: dword, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\P', valueName: D, valueType: DWord, valueData: 4294967295, condition: { atLeast: 1, not: [7, 9] } } }
  - { name: qword, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\P', valueName: Q, valueType: QWord, valueData: 18446744073709551615, condition: { atLeast: 18446744073709551614 } } }
  - { name: binary, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\P', valueName: B, valueType: Binary, valueData: "00 ff 7f" } }
  - { name: empty binary, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\P', valueName: B0, valueType: Binary, valueData: [] } }
  - { name: multi, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\P', valueName: M, valueType: MultiString, valueData: ["a_x0041_b", "", "<&>'\\"", "é 日本 😀"] } }
  - { name: empty multi, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\P', valueName: M0, valueType: MultiString, valueData: [] } }
  - { name: text, type: Registry, description: "with _x005F_ and \\t", properties: { key: 'HKLM\\SOFTWARE\\P\\k_x', valueName: '', valueType: ExpandString, valueData: '%SystemRoot%\\x' } }
  - { name: one of text, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\P', valueName: T, valueType: String, valueData: strict, condition: { oneOf: [strict, paranoid] }, absentOk: true } }
  - { name: gone, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\P', valueName: G, ensure: Absent } }
  - { name: key tree, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\P\\Tree', ensure: Absent } }
  - { name: policy, type: SecurityOption, properties: { policy: "Microsoft network client: Digitally sign communications (if server agrees)", value: Enabled } }
  - { name: waived multi, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\P', valueName: W, valueType: MultiString, valueData: [x] } }
  - { name: waived skip, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\P', valueName: S, valueType: DWord, valueData: 1 } }
waivers:
  - { resource: waived multi, justification: "the vendor needs y and z", expires: 2099-01-01, approvedBy: CISO, override: { valueData: [y, z] } }
  - { resource: waived skip, justification: "postponed to the next release", expires: 2000-01-01 }
`;

test('every kind of value reaches the runtime with the same fields and types as the table literal', async () => {
  const plan = planFromYaml(DOC);
  const literal = new PsCode(plan.resources.map((r) => psLiteral(resourceFields(r)).text).join(',\n'));
  const got = await shapes(literal, bridgePayload(plan));
  assert.is(got.literal.length, plan.resources.length);
  assert.equal(got.payload, got.literal);
  // The shapes are worth comparing: typed data really is typed.
  assert.match(got.literal[0]!, /ValueData=UInt32:4294967295/);
  assert.match(got.literal[1]!, /ValueData=UInt64:18446744073709551615/);
  assert.match(got.literal[4]!, /ValueData=string\[\]\(/);
});

test('2,000 generated strings arrive exactly as written', async () => {
  const strings = fc.sample(fc.string({ unit: 'grapheme', maxLength: 12 }).chain((a) => fc.string({ unit: 'binary', maxLength: 6 }).map((b) => a + b)), { numRuns: 2000, seed: 20261201 })
    .filter((s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s));
  const code = ps`$list = [System.Management.Automation.PSSerializer]::Deserialize(${toClixml(strings)})
foreach ($s in $list) { [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes([string]$s)) }`;
  const r = await session.invoke(code);
  assert.ok(r.ok, r.error?.message);
  assert.equal(r.output.split('\n').map((b) => Buffer.from(b, 'base64').toString('utf8')), strings);
});

test('the payload is printable ASCII and names no code', () => {
  const payload = bridgePayload(planFromYaml(DOC));
  assert.ok(/^[\x20-\x7e]*$/.test(payload));
  assert.not.match(payload, /<SBK|<Ref /); // no script blocks, no object references
});

test.run();
