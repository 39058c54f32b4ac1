import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, waitFor } from '../helpers.js';
import { PwshSession } from '../../src/bridge/session.js';
import { locatePwsh, PwshNotFoundError } from '../../src/bridge/locate.js';
import { ps } from '../../src/compile/quote.js';

const session = new PwshSession({ timeoutMs: 30_000 });
test.after(() => session.close());

/** Running, not merely a zombie waiting for a parent to reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/^\d+ \(.*\) Z/.test(stat);
}

test('many requests share one process and node-powershell history is cleared', async () => {
  const first = await session.invoke(ps`$PID`);
  assert.ok(first.ok, first.error?.message);
  for (let i = 0; i < 5; i++) {
    const r = await session.invoke(ps`$PID`);
    assert.is(r.output, first.output);
  }
  assert.is(session.starts, 1);
  const shell = (session as unknown as { shell: { history: unknown[] } }).shell;
  assert.is(shell.history.length, 0);
});

test('output objects come back as text; multi-line values survive', async () => {
  const r = await session.invoke(ps`'line one' + [char]10 + 'line two'; 42`);
  assert.is(r.output, 'line one\nline two\n42');
});

test('an empty result is still a result', async () => {
  const r = await session.invoke(ps`$null`);
  assert.ok(r.ok, r.error?.message);
  assert.is(r.output, '');
});

test('a failing request reports its error and keeps the session', async () => {
  const r = await session.invoke(ps`throw 'boom from test'`);
  assert.is(r.ok, false);
  assert.match(r.error!.message, /boom from test/);
  const after = await session.invoke(ps`'still here'`);
  assert.is(after.output, 'still here');
  assert.is(session.starts, 1);
});

test('stderr is kept separately from the result', async () => {
  const r = await session.invoke(ps`[Console]::Error.WriteLine('trace line'); 'result'`);
  assert.is(r.output, 'result');
  assert.match(r.stderr, /trace line/);
});

test('a timed-out request kills the process; the next request starts a new one', async () => {
  const before = Number((await session.invoke(ps`$PID`)).output);
  assert.is(session.powershellPid, before);
  const r = await session.invoke(ps`Start-Sleep -Seconds 60`, 800);
  assert.is(r.timedOut, true);
  assert.is(r.ok, false);
  assert.ok(r.durationMs < 10_000);
  await waitFor(() => !alive(before), 'the stuck process is gone');
  const next = await session.invoke(ps`$PID`);
  assert.ok(next.ok);
  assert.is(next.restarted, true);
  assert.is.not(Number(next.output), before);
  assert.is(session.starts, 2);
});

test('a process that died between requests is noticed and replaced before the next one', async () => {
  const pid = Number((await session.invoke(ps`$PID`)).output);
  const startsBefore = session.starts;
  process.kill(pid, 'SIGKILL');
  await waitFor(() => !alive(pid), 'the killed process is gone');
  const next = await session.invoke(ps`$PID`);
  assert.ok(next.ok, next.error?.message);
  assert.is(next.restarted, true);
  assert.is.not(Number(next.output), pid);
  assert.is(session.starts, startsBefore + 1);
});

test('a queued request keeps its own timeout: only the hung request is killed', async () => {
  // Had the queued request's clock started while it waited, it would time out before the hung one
  // is killed (15 s < 20 s); its own 15 s leave room for a restart on a loaded CI machine (3 test
  // files and Wine on 2 cores), where 10 s once did not.
  const hung = session.invoke(ps`Start-Sleep -Seconds 60`, 20_000);
  const queued = session.invoke(ps`'queued'`, 15_000);
  const [a, b] = await Promise.all([hung, queued]);
  assert.is(a.timedOut, true);
  assert.ok(b.ok, b.error?.message);
  assert.is(b.output, 'queued');
  assert.is(b.restarted, true);
});

test('text that imitates the result marker cannot pose as the result', async () => {
  const r = await session.invoke(ps`[Console]::Out.WriteLine('@@winstate-0000000000000000-error:Ym9vbQ=='); Write-Host '@@winstate-x-result:eA=='; 'real'`);
  assert.ok(r.ok, r.error?.message);
  assert.is(r.output, 'real');
  assert.match(r.hostText, /@@winstate-0000000000000000-error/);
});

test('a PowerShell that hangs at start-up is bounded by the timeout', async () => {
  const dir = tempDir();
  const fake = join(dir, 'pwsh');
  // exec: the hanging process is the one the bridge started, so its kill leaves nothing behind.
  writeFileSync(fake, '#!/bin/sh\nexec sleep 30\n');
  chmodSync(fake, 0o755);
  const hanging = new PwshSession({ pwshPath: fake, timeoutMs: 1000 });
  const started = Date.now();
  const r = await hanging.invoke(ps`1`);
  assert.is(r.ok, false);
  assert.is(r.timedOut, true);
  assert.ok(Date.now() - started < 5000);
  await hanging.close();
});

test('a PowerShell that dies at start-up says how: exit code and the end of what it wrote to stderr', async () => {
  const dir = tempDir();
  const fake = join(dir, 'pwsh');
  // As a launcher (e.g. one that starts PowerShell under another token) fails before PowerShell runs.
  writeFileSync(fake, '#!/bin/sh\necho "launcher: could not start pwsh.exe (access denied)" >&2\nexit 7\n');
  chmodSync(fake, 0o755);
  const dying = new PwshSession({ pwshPath: fake, timeoutMs: 10_000 });
  const r = await dying.invoke(ps`1`);
  assert.is(r.ok, false);
  assert.is(r.timedOut, false);
  assert.is(r.exited, true);
  assert.match(r.error!.message, /exited with code 7; it last wrote to stderr:\nlauncher: could not start pwsh\.exe \(access denied\)/);
  assert.ok(r.error!.message.includes(fake), 'names the executable');
  await dying.close();
});

test('a PowerShell that exits during a request says its exit code; the next request starts a new one', async () => {
  const own = new PwshSession({ timeoutMs: 30_000 });
  const r = await own.invoke(ps`[Console]::Error.WriteLine('about to leave'); [Environment]::Exit(5)`);
  assert.is(r.ok, false);
  assert.is(r.exited, true);
  assert.match(r.error!.message, /exited with code 5/);
  assert.match(r.error!.message, /about to leave/);
  const next = await own.invoke(ps`'back'`);
  assert.ok(next.ok, next.error?.message);
  assert.is(next.output, 'back');
  assert.is(own.starts, 2);
  await own.close();
});

test('pwsh discovery: explicit path, environment variable, then a clear install hint', () => {
  assert.is(locatePwsh(process.execPath), process.execPath);
  assert.throws(() => locatePwsh('/nonexistent/pwsh'), (e: Error) => e instanceof PwshNotFoundError && /dotnet tool install --tool-path \.tools PowerShell --version 7\.6\.9/.test(e.message));
  assert.throws(() => locatePwsh(undefined, { WINSTATE_PWSH: '/nonexistent/pwsh', PATH: '' }), /WINSTATE_PWSH/);
  assert.match(locatePwsh(undefined, { PATH: '' }), /\.tools\/pwsh$/);
});

test.run();
