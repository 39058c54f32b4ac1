// Rules both languages hold, fed the same cases: the exit code of a run (Get-WsExitCode in the
// generated scripts, exitCodeOf in the CLI).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PwshSession } from '../../src/bridge/session.js';
import { ps } from '../../src/compile/quote.js';
import { exitCodeOf, type Mode, type RunReport } from '../../src/engine/results.js';
import { projectPath } from '../../src/paths.js';

const session = new PwshSession();
test.after(() => session.close());

function cases(): RunReport[] {
  const out: RunReport[] = [];
  for (const mode of ['Get', 'Test', 'Set'] as Mode[])
    for (const partial of [false, true])
      for (const failed of [0, 1])
        for (const drifted of [0, 2])
          for (const changed of [0, 3]) {
            out.push({
              tool: 'winstate', version: 'x', document: 'd', mode, target: 'snapshot', snapshot: null, whatIf: false, backup: null, partial,
              psVersion: '7', psEdition: 'Core', durationMs: 0, results: [],
              summary: { total: 10, inDesiredState: 10 - failed - drifted - changed, drifted, changed, failed, skipped: 0, waived: 0 },
            });
          }
  return out;
}

test('exit codes: the runtime and the CLI give every run the same code', async () => {
  const all = cases();
  const json = JSON.stringify(all.map((r) => ({ mode: r.mode, partial: r.partial, summary: r.summary })));
  const result = await session.invoke(ps`. ${projectPath('src', 'compile', 'runtime', 'core.ps1')}
$cases = ConvertFrom-Json -InputObject ${json}
($cases | ForEach-Object { Get-WsExitCode -Report $_ }) -join ','`);
  assert.ok(result.ok, result.error?.message);
  const fromPowerShell = result.output.trim().split(',').map(Number);
  const fromTypeScript = all.map(exitCodeOf);
  assert.is(fromPowerShell.length, all.length);
  assert.equal(fromPowerShell, fromTypeScript);
  // Each code occurs, so the comparison covers them all.
  assert.equal([...new Set(fromTypeScript)].sort(), [0, 1, 2, 4]);
});

test.run();
