// A generated script run by hand on several files takes a lock per file, all or none, like the CLI.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { compilePlan } from '../../src/compile/emit.js';
import { planFromYaml, runPwshFile, tempDir, writeReg } from '../helpers.js';

const DOC = `metadata: { name: two-stores }
resources:
  - { name: reg value, type: Registry, properties: { key: 'HKLM\\SOFTWARE\\Two', valueName: V, valueType: DWord, valueData: 1 } }
  - { name: guests denied, type: UserRight, properties: { right: SeDenyNetworkLogonRight, mustInclude: [Guests] } }
`;

test('a hand-run script refuses when one of its files is locked, takes no lock, changes nothing; then takes both and applies', () => {
  const dir = tempDir();
  const reg = join(dir, 'server.reg');
  const inf = join(dir, 'secedit.inf');
  writeReg(reg, []);
  copyFileSync('test/fixtures/secedit/SecurityPolicyDsc_sample.inf', inf);
  const script = join(dir, 'two-stores.ps1');
  writeFileSync(script, compilePlan(planFromYaml(DOC)).text);
  const before = [readFileSync(reg), readFileSync(inf)];
  // Another process (this one, alive) holds the template's lock.
  writeFileSync(`${inf}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), processStarted: new Date().toISOString(), document: 'someone-else', since: new Date().toISOString(), token: 'theirs' }));
  const refused = runPwshFile(script, ['-Mode', 'Set', '-RegistrySnapshot', reg, '-SecurityTemplate', inf, '-OutputFormat', 'Json']);
  assert.is(refused.status, 1, refused.stdout + refused.stderr);
  assert.match(refused.stderr + refused.stdout, /locked by process .*'someone-else'/);
  assert.not.ok(existsSync(`${reg}.lock`), 'the lock it took first was given back');
  assert.ok(readFileSync(reg).equals(before[0]!) && readFileSync(inf).equals(before[1]!), 'nothing changed');

  rmSync(`${inf}.lock`);
  const applied = runPwshFile(script, ['-Mode', 'Set', '-RegistrySnapshot', reg, '-SecurityTemplate', inf, '-OutputFormat', 'Json']);
  assert.is(applied.status, 0, applied.stdout + applied.stderr);
  assert.not.ok(readFileSync(reg).equals(before[0]!) || readFileSync(inf).equals(before[1]!), 'both files changed');
  assert.not.ok(existsSync(`${reg}.lock`) || existsSync(`${inf}.lock`), 'both locks released');
});

test.run();
