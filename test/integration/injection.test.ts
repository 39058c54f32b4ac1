import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PwshSession } from '../../src/bridge/session.js';
import { ps, psString } from '../../src/compile/quote.js';
import { Engine } from '../../src/engine/engine.js';
import { compilePlan } from '../../src/compile/emit.js';
import type { RunReport } from '../../src/engine/results.js';
import { planFromYaml, runPwshFile, tempDir, writeReg } from '../helpers.js';

const dir = tempDir();
const canary = join(dir, 'canary');
const touch = `New-Item -ItemType File -Path '${canary}'`;

/** Each one would create the canary file if any layer evaluated it. */
const HOSTILE = [
  `it's`,
  `it\u2019s \u2018quoted\u2019 \u201Ahere\u201B`,
  `$(${touch})`,
  `'; ${touch}; '`,
  `\u2019; ${touch}; \u2018`,
  `\u201C$(${touch})\u201D \u201E`,
  '`$(' + touch + ')` and `n',
  `"$(${touch})"`,
  `@(${touch})`,
  `a; ${touch}`,
  `line one\nline two\r\nline three\r`,
  `tab\there # not a comment <# nor this #>`,
  `$env:PATH $PSHOME \${x}`,
  `| & ${touch}`,
  `\u0001\u0007\u001b[31m control`,
  `astral \u{1F600} \u{10FFFF}`,
  '',
  ' ',
  `\\\\server\\share\\"quoted"`,
];

// One PowerShell for the engine's runs and the quoting checks alike.
const session = new PwshSession();
const engine = new Engine({ session });
test.after(async () => {
  await session.close();
  await engine.close();
});

test('psString: every hostile string survives the PowerShell parser exactly and runs nothing', async () => {
  for (const text of HOSTILE) {
    const quoted = psString(text);
    assert.ok(/^[\x20-\x7e]*$/.test(quoted.text), `quoted form is printable ASCII: ${quoted.text}`);
    const r = await session.invoke(ps`[System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes([string]${text}))`);
    assert.ok(r.ok, r.error?.message);
    assert.is(Buffer.from(r.output, 'base64').toString('utf8'), text);
  }
  assert.not.ok(existsSync(canary), 'nothing was executed');
});

test('psString: all four single-quote characters are never left for PowerShell to interpret', () => {
  for (const q of ["'", '\u2018', '\u2019', '\u201A', '\u201B']) {
    const out = psString(`a${q}b`).text;
    if (q === "'") assert.is(out, "'a''b'");
    else assert.is(out, `('a' + [char]0x${q.charCodeAt(0).toString(16).toUpperCase()} + 'b')`);
  }
});

function hostileDocument(): string {
  const resources = HOSTILE.flatMap((text, i) => {
    const keyName = text.replace(/[\\\u0000-\u001f]/g, '_') || 'empty';
    return [
      {
        name: `string ${i}: ${text}`,
        type: 'Registry',
        description: text,
        properties: { key: `HKLM\\SOFTWARE\\Hostile\\${i} ${keyName}`, valueName: text, valueType: 'String', valueData: text },
      },
      {
        name: `multi ${i}`,
        type: 'Registry',
        properties: { key: `HKLM\\SOFTWARE\\Hostile\\multi`, valueName: `m${i} ${text}`, valueType: 'MultiString', valueData: [text, text, ''] },
      },
    ];
  });
  // JSON is YAML: the document carries every string without hand-escaping.
  return JSON.stringify({ metadata: { name: 'hostile', description: HOSTILE.join(' ') }, resources });
}

test('hostile key paths, value names, data, names and comments round-trip through set and get', async () => {
  const snapshot = join(dir, 'hostile.reg');
  writeReg(snapshot, ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\Hostile]', '"seed"="x"']);
  const plan = planFromYaml(hostileDocument());
  const set = await engine.set(plan, { snapshot });
  assert.is(set.summary.failed, 0, JSON.stringify(set.results.filter((r) => r.error)));
  assert.is(set.summary.changed, HOSTILE.length * 2);
  const got = await engine.get(plan, { snapshot });
  HOSTILE.forEach((text, i) => {
    const single = got.results[i * 2]!;
    const multi = got.results[i * 2 + 1]!;
    assert.is(single.name, `string ${i}: ${text}`);
    assert.equal(single.actual, { ensure: 'Present', valueType: 'String', valueData: text });
    assert.equal(multi.actual, { ensure: 'Present', valueType: 'MultiString', valueData: [text, text, ''] });
  });
  const test2 = await engine.test(plan, { snapshot });
  assert.is(test2.summary.inDesiredState, HOSTILE.length * 2);
  assert.not.ok(existsSync(canary), 'nothing was executed');
});

test('the standalone script carries the same hostile text and runs nothing either', async () => {
  const snapshot = join(dir, 'direct.reg');
  writeReg(snapshot, ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\Hostile]']);
  const plan = planFromYaml(hostileDocument());
  const file = join(dir, 'hostile.ps1');
  writeFileSync(file, compilePlan(plan).text);
  const set = runPwshFile(file, ['-Mode', 'Set', '-RegistrySnapshot', snapshot, '-OutputFormat', 'Json']);
  assert.is(set.status, 0, set.stderr);
  const report = JSON.parse(set.stdout) as RunReport;
  assert.is(report.summary.changed, HOSTILE.length * 2);
  const viaBridge = await engine.get(plan, { snapshot });
  HOSTILE.forEach((text, i) => assert.is(viaBridge.results[i * 2]!.actual!.valueData, text));
  assert.not.ok(existsSync(canary), 'nothing was executed');
});

test.run();
