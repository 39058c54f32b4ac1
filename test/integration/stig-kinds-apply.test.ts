// The STIG documents' user right, account, security and audit policy resources applied offline to
// copies of the fixture secedit template and auditpol backup: set converges, a second set changes
// no byte, and the rollback document made from the backup restores both files byte for byte.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { rollbackDocument, type BackupRecord } from '../../src/engine/rollback.js';
import { validateFile, validateText, type Plan } from '../../src/document/validate.js';
import { formatDiagnostic } from '../../src/document/diagnostics.js';
import { projectPath } from '../../src/paths.js';
import { tempDir } from '../helpers.js';
import { asUtf16Crlf } from '../kinds-helpers.js';

const dir = tempDir('winstate-stig-kinds-');
const engine = new Engine({ stateDir: join(dir, 'state'), timeoutMs: 300_000 });
test.after(() => engine.close());

for (const scope of ['ms', 'dc'] as const) {
  test(`STIG ${scope.toUpperCase()}: the non-registry resources converge on the fixture INF and CSV; a second set changes no byte; the rollback restores them`, async () => {
    const whole = validateFile(projectPath('configurations', `windows-server-2016-stig-${scope}.yaml`)).plan!;
    // Domain groups (Domain Admins, Enterprise Admins) resolve only on a domain member: left to a live run.
    const domainOnly = (r: Plan['resources'][number]) => /Domain Admins|Enterprise Admins/.test(JSON.stringify(r.spec, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    // The runtime checks (CimInstance) are not evaluated on a snapshot: test/integration/cim-instance.test.ts.
    const plan: Plan = { ...whole, resources: whole.resources.filter((r) => r.kind !== 'Registry' && r.kind !== 'CimInstance' && !domainOnly(r)) };
    assert.is(plan.resources.length, scope === 'ms' ? 64 - 5 : 74, 'every non-registry resource but the five that name domain groups');
    const files = { reg: join(dir, `${scope}.reg`), inf: join(dir, `${scope}.inf`), csv: join(dir, `${scope}.csv`) };
    copyFileSync(projectPath('test', 'fixtures', 'reg', 'plus3it_sceWin8.reg'), files.reg);
    writeFileSync(files.inf, asUtf16Crlf(readFileSync(projectPath('test', 'fixtures', 'secedit', 'SecurityPolicyDsc_sample.inf'))));
    copyFileSync(projectPath('test', 'fixtures', 'auditpol', 'AuditPolicyDsc_audit.csv'), files.csv);
    const bytes = () => ({ inf: readFileSync(files.inf), csv: readFileSync(files.csv) });
    const original = bytes();
    const stores = { SecurityTemplate: files.inf, AuditBackup: files.csv };
    const backupFile = join(dir, `${scope}-backup.json`);

    const set = await engine.run(plan, 'Set', { snapshot: files.reg }, { ...stores, BackupPath: backupFile, NoLock: true });
    assert.equal(set.results.filter((r) => r.error).map((r) => `${r.name}: ${r.error}`), []);
    assert.ok(set.results.some((r) => r.changed), 'the fixtures start out of compliance');
    const verify = await engine.run(plan, 'Test', { snapshot: files.reg }, stores);
    assert.equal(verify.results.filter((r) => !r.inDesiredState).map((r) => `${r.name}: ${JSON.stringify(r.differingProperties)}`), []);
    const after = bytes();
    const again = await engine.run(plan, 'Set', { snapshot: files.reg }, { ...stores, BackupPath: join(dir, `${scope}-backup-2.json`), NoLock: true });
    assert.equal(again.results.filter((r) => r.changed).map((r) => r.name), []);
    assert.equal(bytes(), after, 'a second set leaves every byte');

    const backup = JSON.parse(readFileSync(backupFile, 'utf8')) as BackupRecord;
    const { yaml, unsupported } = rollbackDocument(backup, `stig-${scope}`);
    assert.equal(unsupported, []);
    const rollback = validateText(join(dir, `${scope}-rollback.yaml`), yaml);
    assert.equal(rollback.diagnostics.map(formatDiagnostic), []);
    const restored = await engine.run(rollback.plan!, 'Set', { snapshot: files.reg }, { ...stores, BackupPath: join(dir, `${scope}-backup-3.json`), NoLock: true });
    assert.equal(restored.results.filter((r) => r.error).map((r) => `${r.name}: ${r.error}`), []);
    assert.equal(bytes().csv, original.csv, 'the rollback restores the audit backup byte for byte');
    // An emptied right keeps its line ("Right = "), and a section the run created goes with its
    // last entry: the template comes back byte for byte too.
    assert.equal(bytes().inf, original.inf, 'the rollback restores the template byte for byte');
  });
}

test.run();
