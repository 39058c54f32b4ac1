// CimInstance: check-only runtime state. The judging rules in the runtime, offline runs ("not
// evaluated on a snapshot", counted once as skipped, no snapshot store needed), a live run on Linux
// pwsh (no CIM: a clear failure, never a crash) and set, which never changes or backs up anything.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunReport, RunSummary } from '../../src/engine/results.js';
import { bridgePayload } from '../../src/compile/emit.js';
import { ps, psLiteral, PsCode } from '../../src/compile/quote.js';
import { planFromYaml, runCli, shareCliSession, tempDir, writeReg } from '../helpers.js';

import { KindsShell } from '../kinds-helpers.js';

const shell = new KindsShell();
test.after(() => shell.close());

const DEVICE_GUARD = `  - name: Credential Guard running
    type: CimInstance
    properties:
      namespace: root\\Microsoft\\Windows\\DeviceGuard
      className: Win32_DeviceGuard
      expect:
        SecurityServicesRunning: { contains: [1] }
        VirtualizationBasedSecurityStatus: { equals: 2 }
`;
const REGISTRY = `  - name: VBS enabled
    type: Registry
    properties: { key: 'HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\DeviceGuard', valueName: EnableVirtualizationBasedSecurity, valueType: DWord, valueData: 1 }
`;

function setup(resources: string): { dir: string; doc: string; reg: string } {
  const dir = tempDir();
  const doc = join(dir, 'cim.yaml');
  writeFileSync(doc, `metadata: { name: cim }\nresources:\n${resources}`);
  const reg = join(dir, 'machine.reg');
  writeReg(reg, ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\DeviceGuard]', '"EnableVirtualizationBasedSecurity"=dword:00000000']);
  return { dir, doc, reg };
}

/** Every resource in exactly one count. */
function countsAddUp(s: RunSummary): void {
  assert.is(s.changed + s.inDesiredState + s.drifted + s.failed + s.waived + s.skipped, s.total, JSON.stringify(s));
}

// --- the runtime's rules -------------------------------------------------------------------------------

// CLI calls run in one PowerShell for the file (a process each costs ~2 s of CPU).
shareCliSession(test.after);

test('Test-WsCimExpectation: equals, oneOf, atLeast/atMost, contains (a scalar is a list of one), anyOf; numbers by value, text ignoring case', async () => {
  const cases: [Record<string, unknown>, unknown, boolean][] = [
    [{ Equals: 2 }, 2, true],
    [{ Equals: 2 }, 3, false],
    [{ Equals: 2 }, '2', true],
    [{ Equals: 2 }, null, false],
    [{ Equals: 2 }, [2], false],
    [{ Equals: 'Running' }, 'running', true],
    [{ Equals: true }, true, true],
    [{ Equals: true }, 1, false],
    [{ OneOf: [1, 3] }, 3, true],
    [{ OneOf: [1, 3] }, 2, false],
    [{ AtLeast: 3 }, 3, true],
    [{ AtLeast: 3 }, 2, false],
    [{ AtLeast: 3 }, '4', false],
    [{ AtLeast: 1, AtMost: 2 }, 2, true],
    [{ AtMost: 2 }, 5, false],
    [{ Contains: [1] }, [1, 2], true],
    [{ Contains: [1, 2] }, [2, 1], true],
    [{ Contains: [3] }, [1, 2], false],
    [{ Contains: [1] }, [], false],
    [{ Contains: [1] }, null, false],
    [{ Contains: [1] }, 1, true],
    [{ Contains: ['ab'] }, ['AB', 'c'], true],
    [{ AnyOf: [{ Equals: 1 }, { AtLeast: 5 }] }, 6, true],
    [{ AnyOf: [{ Equals: 1 }, { AtLeast: 5 }] }, 3, false],
    [{ Contains: [2], AnyOf: [{ Contains: [1] }, { Contains: [3] }] }, [2, 3], true],
    [{ Contains: [2], AnyOf: [{ Contains: [1] }, { Contains: [3] }] }, [1, 3], false],
  ];
  // Values as Get-CimInstance gives them: CIM uint32 and uint32[] arrive typed.
  const typed = (v: unknown) => (Array.isArray(v) && v.every((x) => typeof x === 'number') && v.length ? ps`[uint32[]]${psLiteral(v)}` : typeof v === 'number' && Number.isInteger(v) ? ps`[uint32]${psLiteral(v)}` : psLiteral(v));
  const items = cases.map(([e, v]) => ps`@{ E = ${psLiteral(e)}; V = ${typed(v)} }`);
  const answers = await shell.json<boolean>(ps`foreach ($case in @(${items.reduce((a, b) => ps`${a}, ${b}`)})) { [bool](Test-WsCimExpectation -Expectation $case.E -Value $case.V) }`);
  cases.forEach(([e, v, expected], i) => assert.is(answers[i], expected, `${JSON.stringify(e)} on ${JSON.stringify(v)}`));
});

test('ConvertTo-WsCimInstanceState: every instance must meet each property; no instance is absent; a property the class lacks is an error naming it', async () => {
  const plan = planFromYaml(`metadata: { name: cim }\nresources:\n${DEVICE_GUARD}`);
  const payload = bridgePayload(plan);
  const judge = (instances: string) =>
    shell.json<{ View: Record<string, unknown>; Differing: string[] }>(ps`$data = ConvertFrom-WsPayload -Payload ${payload}
$state = ConvertTo-WsCimInstanceState -Resource $data.Resources[0] -Instances @(${new PsCode(instances)})
[ordered]@{ View = $state.View; Differing = @($state.Differing) }`);
  const running = '[pscustomobject]@{ SecurityServicesRunning = [uint32[]]@(1, 2); VirtualizationBasedSecurityStatus = [uint32]2 }';
  const off = '[pscustomobject]@{ SecurityServicesRunning = [uint32[]]@(0); VirtualizationBasedSecurityStatus = [uint32]0 }';
  const [ok] = await judge(running);
  assert.equal(ok!.Differing, []);
  assert.equal(ok!.View, { ensure: 'Present', instances: 1, properties: { SecurityServicesRunning: [1, 2], VirtualizationBasedSecurityStatus: 2 } });
  const [drift] = await judge(off);
  assert.equal(drift!.Differing, ['SecurityServicesRunning', 'VirtualizationBasedSecurityStatus']);
  const [mixed] = await judge(`${running}, ${off}`);
  assert.equal(mixed!.Differing, ['SecurityServicesRunning', 'VirtualizationBasedSecurityStatus'], 'the second instance fails');
  assert.is(mixed!.View.instances, 2);
  const [none] = await judge('');
  assert.equal(none!.View, { ensure: 'Absent', instances: 0 });
  assert.equal(none!.Differing, ['SecurityServicesRunning', 'VirtualizationBasedSecurityStatus']);
  const error = await shell.error(ps`$data = ConvertFrom-WsPayload -Payload ${payload}
$null = ConvertTo-WsCimInstanceState -Resource $data.Resources[0] -Instances @([pscustomobject]@{ VirtualizationBasedSecurityStatus = 2 })`);
  assert.match(error, /root\\Microsoft\\Windows\\DeviceGuard:Win32_DeviceGuard has no property SecurityServicesRunning/);
});

test('the engine never sets a check-only resource: a drifted one stays drifted, unchanged, with no backup (CIM replaced by fixed instances: Linux has none)', async () => {
  const plan = planFromYaml(`metadata: { name: cim }\nresources:\n${DEVICE_GUARD}`);
  const dir = tempDir();
  const backup = join(dir, 'backup.json');
  // Only the query is replaced, inside the module; the engine, the kind's judging and its Set are the real ones.
  const [report] = await shell.json<RunReport>(ps`& (Get-Module WsKinds) { function script:Invoke-WsCimQuery { param($Namespace, $ClassName) return , [object[]]@([pscustomobject]@{ SecurityServicesRunning = [uint32[]]@(0); VirtualizationBasedSecurityStatus = [uint32]1 }) } }
try {
  $data = ConvertFrom-WsPayload -Payload ${bridgePayload(plan)}
  $report = Invoke-WsConfiguration -Document $data.Document -Resources $data.Resources -Mode Set -Cmdlet $PSCmdlet -BackupPath ${backup} -NoLock $true
  $report.text = (Format-WsText -Report $report) -join [string][char]10
  $report
} finally {
  & (Get-Module WsKinds) { Remove-Item -LiteralPath Function:\\Invoke-WsCimQuery }
}`);
  const r = report!.results[0]!;
  assert.is(r.changed, false);
  assert.is(r.inDesiredState, false);
  assert.is(r.checkOnly, true);
  assert.equal(r.differingProperties, ['SecurityServicesRunning', 'VirtualizationBasedSecurityStatus']);
  assert.equal(r.after, r.before);
  assert.is(r.error, undefined);
  assert.is(report!.backup, null);
  assert.not.ok(existsSync(backup), 'nothing changes, so nothing is backed up');
  assert.equal(report!.summary, { total: 1, inDesiredState: 0, drifted: 1, changed: 0, failed: 0, skipped: 0, waived: 0 });
  assert.match((report as unknown as { text: string }).text, /\[DRIFT\]   Credential Guard running: .*\[check only: set does not change it\]/);
  // The runtime function really is back.
  assert.match(await shell.text(ps`(Get-Command Invoke-WsCimQuery).Definition`), /Get-CimInstance is not available/);
});

// --- through the CLI -----------------------------------------------------------------------------------

test('a snapshot run: "not evaluated on a snapshot", counted once as skipped; no store needed, any snapshot kind works', async () => {
  const { dir, doc, reg } = setup(DEVICE_GUARD);
  const r = await runCli(['test', doc, '--snapshot', reg, '--json']);
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as RunReport;
  assert.is(report.target, 'snapshot');
  const result = report.results[0]!;
  assert.is(result.kind, 'CimInstance');
  assert.is(result.skipped, true);
  assert.match(result.notEvaluated!, /^not evaluated on a snapshot: root\\Microsoft\\Windows\\DeviceGuard:Win32_DeviceGuard is runtime state/);
  assert.is(result.inDesiredState, undefined);
  assert.is(result.actual, undefined);
  assert.equal(result.desired, { properties: { SecurityServicesRunning: { contains: [1] }, VirtualizationBasedSecurityStatus: { equals: 2 } } });
  assert.equal(report.summary, { total: 1, inDesiredState: 0, drifted: 0, changed: 0, failed: 0, skipped: 1, waived: 0 });
  countsAddUp(report.summary);

  const text = await runCli(['test', doc, '--snapshot', reg]);
  assert.match(text.stdout, /SKIPPED +Credential Guard running: not evaluated on a snapshot/);
  assert.match(text.stdout, /1 resource: 0 changed, 0 in desired state, 0 drifted, 0 failed, 1 skipped/);

  // A security template alone is a snapshot too: the CIM resource asks for no registry export.
  const inf = join(dir, 'secedit.inf');
  copyFileSync('test/fixtures/secedit/SecurityPolicyDsc_sample.inf', inf);
  const onInf = await runCli(['test', doc, '--snapshot', inf, '--json']);
  assert.is(onInf.code, 0, onInf.stderr);
  assert.is((JSON.parse(onInf.stdout) as RunReport).results[0]!.notEvaluated !== undefined, true);
});

test('beside registry resources offline: the registry is judged and set, the check is not evaluated, and the counts add up', async () => {
  const { doc, reg, dir } = setup(REGISTRY + DEVICE_GUARD);
  const state = join(dir, 'state');
  const tested = await runCli(['test', doc, '--snapshot', reg, '--json']);
  assert.is(tested.code, 2, tested.stderr);
  const before = JSON.parse(tested.stdout) as RunReport;
  assert.equal(before.summary, { total: 2, inDesiredState: 0, drifted: 1, changed: 0, failed: 0, skipped: 1, waived: 0 });
  countsAddUp(before.summary);

  const applied = await runCli(['apply', doc, '--snapshot', reg, '--state-dir', state, '--json']);
  assert.is(applied.code, 0, applied.stderr + applied.stdout);
  const apply = JSON.parse(applied.stdout) as { plan: { name: string }[]; set: RunReport; summary: RunSummary; converged: boolean };
  assert.equal(apply.plan.map((p) => p.name), ['VBS enabled'], 'the check is not planned as a change');
  assert.equal(apply.summary, { total: 2, inDesiredState: 0, drifted: 0, changed: 1, failed: 0, skipped: 1, waived: 0 });
  const set = apply.set.results.find((x) => x.kind === 'CimInstance')!;
  assert.is(set.changed, undefined);
  assert.is(set.skipped, true);
  // The backup holds the registry value only.
  const backup = JSON.parse(readFileSync(apply.set.backup!, 'utf8')) as { entries: { resource: string }[] };
  assert.equal(backup.entries.map((e) => e.resource), ['VBS enabled']);
});

test('set on a snapshot with only the check: nothing written, no backup, exit 0', async () => {
  const { doc, reg, dir } = setup(DEVICE_GUARD);
  const bytes = readFileSync(reg);
  const state = join(dir, 'state');
  const r = await runCli(['set', doc, '--snapshot', reg, '--state-dir', state, '--json']);
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as RunReport;
  assert.is(report.backup, null);
  assert.is(report.results[0]!.notEvaluated !== undefined, true);
  assert.ok(readFileSync(reg).equals(bytes), 'the snapshot is untouched');
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

test('live on Linux pwsh: the class cannot be queried, said plainly as a failed resource (exit 1), never a crash', async () => {
  const { doc } = setup(DEVICE_GUARD);
  const r = await runCli(['test', doc, '--json']);
  assert.is(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as RunReport;
  assert.is(report.target, 'live');
  assert.match(report.results[0]!.error!, /^cannot query root\\Microsoft\\Windows\\DeviceGuard:Win32_DeviceGuard: Get-CimInstance is not available in this PowerShell \(Core [0-9.]+\); CIM classes can be queried only on Windows$/);
  assert.equal(report.summary, { total: 1, inDesiredState: 0, drifted: 0, changed: 0, failed: 1, skipped: 0, waived: 0 });
});

test('documents: names are checked (a namespace with anything but identifiers and backslashes is refused, positioned); impossible bounds refused', async () => {
  const dir = tempDir();
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, `metadata: { name: bad }\nresources:\n  - name: x\n    type: CimInstance\n    properties:\n      namespace: "root\\\\cimv2'; Remove-Item x; '"\n      className: Win32_OperatingSystem\n      expect: { BuildNumber: { atLeast: 1 } }\n`);
  const r = await runCli(['validate', bad]);
  assert.is(r.code, 3);
  assert.match(r.stderr + r.stdout, /bad\.yaml:6:\d+: error: resources\[0\]\.properties\.namespace/);
  writeFileSync(bad, `metadata: { name: bad }\nresources:\n  - name: x\n    type: CimInstance\n    properties:\n      namespace: root\\cimv2\n      className: Win32_OperatingSystem\n      expect: { BuildNumber: { atLeast: 5, atMost: 3 } }\n`);
  const bounds = await runCli(['validate', bad]);
  assert.is(bounds.code, 3);
  assert.match(bounds.stderr + bounds.stdout, /atMost 3 is below atLeast 5: no value can comply/);
  writeFileSync(bad, `metadata: { name: bad }\nresources:\n  - name: x\n    type: CimInstance\n    properties:\n      namespace: root\\cimv2\n      className: Win32_OperatingSystem\n      expect: { "Build Number": { equals: 1 } }\n`);
  assert.is((await runCli(['validate', bad])).code, 3, 'a property name with a space');
});

test.run();
