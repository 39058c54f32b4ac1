// The whole STIG baseline offline, every kind at once: the committed member-server and
// domain-controller documents applied to a regedit export, a real secedit export and a real auditpol
// backup converge; a second apply changes no byte of any file; rollback puts all three back byte for byte.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApplyReport } from '../../src/engine/results.js';
import { runCli, shareCliSession, tempDir, writeReg } from '../helpers.js';

shareCliSession(test.after);

const INF = 'test/fixtures/secedit/SecurityPolicyDsc_sample.inf';
const CSV = 'test/fixtures/auditpol/AuditPolicyDsc_audit.csv';

for (const role of ['ms', 'dc']) {
  test(`STIG ${role.toUpperCase()}: apply to .reg + .inf + .csv converges, a second apply leaves every byte, rollback restores every byte`, async () => {
    const doc = `configurations/windows-server-2016-stig-${role}.yaml`;
    const dir = tempDir();
    const state = join(dir, 'state');
    const files = { reg: join(dir, 'server.reg'), inf: join(dir, 'secedit.inf'), csv: join(dir, 'audit.csv') };
    writeReg(files.reg, []);
    copyFileSync(INF, files.inf);
    copyFileSync(CSV, files.csv);
    const original = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, readFileSync(f)]));
    const snapshots = Object.values(files).flatMap((f) => ['--snapshot', f]);
    const kinds = new Set((readFileSync(doc, 'utf8').match(/type: (\w+)/g) ?? []).map((m) => m.slice(6)));

    const first = await runCli(['apply', doc, ...snapshots, '--state-dir', state, '--json']);
    assert.is(first.code, 0, first.stderr.slice(-2000));
    const report = JSON.parse(first.stdout) as ApplyReport;
    assert.ok(report.converged);
    // Every kind the document holds changed something in its own file.
    const changedKinds = new Set(report.set!.results.filter((r) => r.changed).map((r) => (r as { kind?: string }).kind ?? 'Registry'));
    for (const kind of ['Registry', 'UserRight', 'AuditPolicy']) assert.ok(changedKinds.has(kind), `${kind} changed (${[...changedKinds].join(', ')}; document types: ${[...kinds].join(', ')})`);
    for (const [k, f] of Object.entries(files)) assert.not.ok(readFileSync(f).equals(original[k]!), `${k} changed`);

    const after = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, readFileSync(f)]));
    const second = await runCli(['apply', doc, ...snapshots, '--state-dir', state, '--json']);
    assert.is(second.code, 0, second.stderr.slice(-2000));
    assert.is((JSON.parse(second.stdout) as ApplyReport).plan.length, 0);
    for (const [k, f] of Object.entries(files)) assert.ok(readFileSync(f).equals(after[k]!), `${k}: the second apply changed no byte`);

    const rolled = await runCli(['rollback', 'latest', '--state-dir', state]);
    assert.is(rolled.code, 0, `${rolled.stdout.slice(-2000)}\n${rolled.stderr.slice(-2000)}`);
    for (const [k, f] of Object.entries(files)) assert.ok(readFileSync(f).equals(original[k]!), `${k}: rollback restored every byte`);
  });
}

test.run();
