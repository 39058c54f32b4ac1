// A live change from a PowerShell that is not elevated is refused before anything is locked or
// written, with a message that says so plainly; reading (test) still works. The PowerShell is the
// live one started through limited-pwsh.ps1, which drops the administrator group from its token.
import { underWine, keyExists, describeLivePowerShell, invokeLive } from './live-env.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PwshSession } from '../../src/bridge/session.js';
import { ps } from '../../src/compile/quote.js';
import { projectPath } from '../../src/paths.js';
import { runCli, tempDir } from '../helpers.js';

const KEY = `HKLM\\SOFTWARE\\winstate-elevation-${randomBytes(4).toString('hex')}`;
const dir = tempDir();
const direct = new PwshSession();
test.after(() => direct.close());

/**
 * A pwsh-like executable for --pwsh: the live PowerShell running limited-pwsh.ps1, which starts
 * pwsh.exe non-elevated with the arguments the CLI gives. Node starts a .cmd only through a shell,
 * so on Windows there is no such launcher: the test needs Wine.
 */
function limitedLauncher(): string {
  const live = process.env.WINSTATE_PWSH!;
  const script = `Z:${projectPath('test', 'windows', 'limited-pwsh.ps1').replace(/\//g, '\\')}`;
  const file = join(dir, 'limited-pwsh');
  writeFileSync(file, `#!/bin/sh\nexec '${live}' -NoProfile -NonInteractive -File '${script}' "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

const DOC = `metadata: { name: elevation }
resources:
  - { name: probe value, type: Registry, properties: { key: '${KEY}', valueName: A, valueType: DWord, valueData: 1 } }
`;

test('apply and set on the live machine without elevation, and the generated script run by hand: refused plainly before anything runs, nothing written; test still reads', async () => {
  if (!underWine) {
    console.log('  (skipped: starting a non-elevated PowerShell for the CLI needs the Wine launcher)');
    return;
  }
  // The launcher really gives a PowerShell without the administrator role.
  const pwsh = limitedLauncher();
  const limited = new PwshSession({ pwshPath: pwsh });
  try {
    assert.is((await describeLivePowerShell(limited)).platform, 'Win32NT');
    const role = await invokeLive(limited, ps`([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)`);
    assert.is(role.output.trim(), 'False', role.error?.message);
  } finally {
    await limited.close();
  }

  const doc = join(dir, 'elevation.yaml');
  writeFileSync(doc, DOC);
  const stateDir = join(dir, 'state');
  const refusal = /elevation: changing the live machine needs administrator rights, and this PowerShell is not elevated: run winstate from an elevated prompt \(Run as administrator\); nothing was changed/;

  const applied = await runCli(['apply', doc, '--pwsh', pwsh, '--state-dir', stateDir, '--timeout', '300000']);
  assert.is(applied.code, 1, applied.stderr);
  assert.match(applied.stderr, refusal);
  assert.is(applied.stdout, '', 'refused before the test half ran');
  const set = await runCli(['set', doc, '--pwsh', pwsh, '--state-dir', stateDir, '--timeout', '300000']);
  assert.is(set.code, 1, set.stderr);
  assert.match(set.stderr, refusal);
  assert.not.ok(await keyExists(direct, KEY), 'nothing was written');
  // Reading needs no elevation: test reports the drift.
  const tested = await runCli(['test', doc, '--pwsh', pwsh, '--timeout', '300000']);
  assert.is(tested.code, 2, tested.stderr);
  assert.match(tested.stdout, /DRIFT\s+probe value: absent -> DWord 1/);
  const runs = await runCli(['runs', '--state-dir', stateDir, '--json']);
  assert.equal(JSON.parse(runs.stdout), [], 'a refused change is not recorded as a run');

  // The generated script run by hand says the same before it locks or writes anything.
  const compiled = await runCli(['compile', doc, '--out', dir]);
  assert.is(compiled.code, 0, compiled.stderr);
  const script = `Z:${join(dir, 'elevation.ps1').replace(/\//g, '\\')}`;
  const byHand = spawnSync(pwsh, ['-File', script, '-Mode', 'Set'], { encoding: 'utf8', timeout: 300_000 });
  assert.is.not(byHand.status, 0, byHand.stdout);
  // PowerShell's error view wraps the message at the console width, with '|' gutters.
  const said = `${byHand.stdout}\n${byHand.stderr}`.replace(/\s*\n\s*\|?\s*/g, ' ');
  assert.match(said, /changing the live machine needs administrator rights, and this PowerShell is not elevated: run the script from an elevated prompt \(Run as administrator\); nothing was changed/, `${byHand.stdout}\n${byHand.stderr}`);
  assert.not.ok(await keyExists(direct, KEY), 'the script wrote nothing');
});

test.run();
