// Property-based injection test: arbitrary text through every place user text reaches PowerShell
// (key paths, value names, string and multi-string data, resource names, descriptions), through
// the snapshot and through the generated script. By default 3 documents of 150 cases (450 cases,
// the first document through `pwsh -File`; few large documents, because each new document costs
// PowerShell a parse of its whole script) and 4,000 strings through the quoting gate.
// WINSTATE_FUZZ_DOCUMENTS, _PER_DOCUMENT and _STRINGS run more.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { PwshSession } from '../../src/bridge/session.js';
import { ps, psString } from '../../src/compile/quote.js';
import { compilePlan } from '../../src/compile/emit.js';
import { validateText } from '../../src/document/validate.js';
import { formatDiagnostic } from '../../src/document/diagnostics.js';
import type { RunReport } from '../../src/engine/results.js';
import { runPwshFile, tempDir, writeReg } from '../helpers.js';

const DOCUMENTS = Number(process.env.WINSTATE_FUZZ_DOCUMENTS ?? 3);
const PER_DOCUMENT = Number(process.env.WINSTATE_FUZZ_PER_DOCUMENT ?? 150);
const STRINGS = Number(process.env.WINSTATE_FUZZ_STRINGS ?? 4000);
const SEED = Number(process.env.WINSTATE_FUZZ_SEED ?? 20261125);
const dir = tempDir('winstate-fuzz-');
const canary = join(dir, 'canary');
// One PowerShell for the engine's runs and the quoting checks alike.
const session = new PwshSession();
const engine = new Engine({ session });
test.after(async () => {
  await engine.close();
  await session.close();
});

const touch = `New-Item -ItemType File -Path '${canary}'`;
const FRAGMENTS = [
  "'", '\u2018', '\u2019', '\u201A', '\u201B', '\u201C', '\u201D', '\u201E', '"', '$', '$(', `$(${touch})`, '@(', `@(${touch})`,
  '`', '`n', ';', `; ${touch}; `, '|', '&', '&&', '#', '<#', '#>', '\n', '\r', '\r\n', '\t', '\u0001', '\u001b[31m', '\u007f',
  '\u0085', '\u2028', '\uFEFF', '\u{1F600}', '\u{10FFFF}', '*', '?', '[', ']', '[a-z]', '{', '}', '%PATH%', '\\', '/', ' ', '=', '@',
  '-', '.', 'EXTERNALHELP', '@@winstate-',
];
const textArb = fc
  .array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ unit: 'binary', maxLength: 6 })), { maxLength: 8 })
  .map((parts) => parts.join(''))
  .filter((s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s) && !s.includes('\0'));
// Key names: no '\' (the separator) and no control characters (refused by validation).
const keyNameArb = textArb
  .map((s) => Array.from(s.replace(/[\\\u0000-\u001f]/g, '_')).slice(0, 60).join(''))
  .filter((s) => s.length > 0);
// Resource names are limited to 200 characters by the schema.
const titleArb = textArb.map((s) => Array.from(s).slice(0, 120).join(''));
const caseArb = fc.record({ key: keyNameArb, name: textArb, data: textArb, multi: fc.array(textArb, { maxLength: 3 }), title: titleArb, description: textArb });
type Case = { key: string; name: string; data: string; multi: string[]; title: string; description: string };

/** JSON with every character outside printable ASCII escaped: valid YAML that carries any text. */
function yamlText(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/gu, (ch) => {
    const cp = ch.codePointAt(0)!;
    return cp > 0xffff ? `\\U${cp.toString(16).padStart(8, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
}

function documentFor(cases: Case[], n: number): string {
  const resources = cases.flatMap((c, i) => [
    {
      name: `${n}.${i}s ${c.title}`,
      type: 'Registry',
      description: c.description,
      properties: { key: `HKLM\\SOFTWARE\\Fuzz\\${i}\\${c.key}`, valueName: c.name, valueType: 'String', valueData: c.data },
    },
    {
      name: `${n}.${i}m ${c.title}`,
      type: 'Registry',
      properties: { key: `HKLM\\SOFTWARE\\Fuzz\\${i}\\${c.key}`, valueName: `${c.name}~multi`, valueType: 'MultiString', valueData: c.multi },
    },
  ]);
  return yamlText({ metadata: { name: `fuzz-${n}`, description: cases.map((c) => c.description).join(' ') }, resources });
}

function checkRoundTrip(cases: Case[], report: RunReport): void {
  cases.forEach((c, i) => {
    const single = report.results[i * 2]!;
    const multi = report.results[i * 2 + 1]!;
    assert.is(single.name.slice(single.name.indexOf(' ') + 1), c.title);
    assert.equal(single.actual, { ensure: 'Present', valueType: 'String', valueData: c.data });
    assert.equal(multi.actual, { ensure: 'Present', valueType: 'MultiString', valueData: c.multi });
  });
}

let documentNumber = 0;

async function roundTrip(cases: Case[], direct: boolean): Promise<void> {
  const n = documentNumber++;
  const yaml = documentFor(cases, n);
  const { plan, diagnostics } = validateText(`fuzz-${n}.yaml`, yaml);
  if (!plan) throw new Error(diagnostics.map(formatDiagnostic).join('\n'));
  const snapshot = join(dir, `fuzz-${n}.reg`);
  writeReg(snapshot, ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\Fuzz]']);
  if (direct) {
    const file = join(dir, `fuzz-${n}.ps1`);
    writeFileSync(file, compilePlan(plan).text);
    const run = runPwshFile(file, ['-Mode', 'Set', '-RegistrySnapshot', snapshot, '-OutputFormat', 'Json', '-BackupPath', join(dir, `fuzz-${n}.backup.json`)]);
    assert.is(run.status, 0, run.stderr);
    assert.is((JSON.parse(run.stdout) as RunReport).summary.failed, 0);
  } else {
    const set = await engine.set(plan, { snapshot });
    assert.is(set.summary.failed, 0, JSON.stringify(set.results.find((r) => r.error)));
  }
  // Read back by a fresh parse of the file the script wrote.
  const got = await engine.get(plan, { snapshot });
  checkRoundTrip(cases, got);
  const again = await engine.test(plan, { snapshot });
  assert.is(again.summary.inDesiredState, cases.length * 2, 'a second test finds no drift');
  assert.not.ok(existsSync(canary), 'nothing was executed');
}

test(`${DOCUMENTS * PER_DOCUMENT} generated cases round-trip through the snapshot via the bridge and the standalone script`, async () => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(caseArb, { minLength: PER_DOCUMENT, maxLength: PER_DOCUMENT }), async (cases) => {
      // Every tenth document goes through `pwsh -File` as an admin would run it.
      try {
        await roundTrip(cases, runs++ % 10 === 0);
      } catch (error) {
        // Keep the failing input where it can be turned into a regression case.
        writeFileSync(join(dir, 'failing-cases.json'), JSON.stringify(cases));
        console.error(`fuzz failure (input saved to ${join(dir, 'failing-cases.json')}): ${String((error as Error).message).slice(0, 1500)}`);
        throw error;
      }
    }),
    { numRuns: DOCUMENTS, seed: SEED, endOnFailure: true },
  );
  assert.is(runs, DOCUMENTS);
});

test(`${STRINGS} generated strings survive the quoting gate through the PowerShell parser exactly`, async () => {
  const strings = fc.sample(textArb, { numRuns: STRINGS, seed: SEED });
  for (let start = 0; start < strings.length; start += 500) {
    const batch = strings.slice(start, start + 500);
    const list = batch.map((s) => psString(s).text).join(',\n');
    const r = await session.invoke(ps`foreach ($s in @(${new (await import('../../src/compile/quote.js')).PsCode(list)})) { [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes([string]$s)) }`);
    assert.ok(r.ok, r.error?.message);
    const back = r.output.split('\n').map((b) => Buffer.from(b, 'base64').toString('utf8'));
    assert.equal(back, batch);
  }
  assert.not.ok(existsSync(canary), 'nothing was executed');
});

test('regression corpus: every string that once broke a layer still round-trips', async () => {
  const corpus = JSON.parse(readFileSync('test/fixtures/fuzz-regressions.json', 'utf8')) as { cases: { text: string }[] };
  const cases: Case[] = corpus.cases.map(({ text }) => {
    const t = text.replace(/CANARY/g, `'${canary}'`);
    return { key: t.replace(/[\\\u0000-\u001f]/g, '_'), name: t, data: t, multi: [t, '', t], title: t, description: t };
  });
  await roundTrip(cases, false);
  await roundTrip(cases, true);
});

test('key paths with * ? [ ] are literal: only the named key is touched', async () => {
  const snapshot = join(dir, 'wild.reg');
  writeReg(snapshot, ['[HKEY_LOCAL_MACHINE\\SOFTWARE\\W\\A1]', '"v"="a1"', '', '[HKEY_LOCAL_MACHINE\\SOFTWARE\\W\\Ab]', '"v"="ab"']);
  const yaml = yamlText({
    metadata: { name: 'wild' },
    resources: [
      { name: 'star', type: 'Registry', properties: { key: 'HKLM\\SOFTWARE\\W\\A*', valueName: 'v', valueType: 'String', valueData: 'star' } },
      { name: 'question', type: 'Registry', properties: { key: 'HKLM\\SOFTWARE\\W\\A?', valueName: 'v', ensure: 'Absent' } },
      { name: 'class', type: 'Registry', properties: { key: 'HKLM\\SOFTWARE\\W\\A[0-9]', ensure: 'Absent' } },
    ],
  });
  const { plan } = validateText('wild.yaml', yaml);
  await engine.set(plan!, { snapshot });
  const check = validateText('check.yaml', yamlText({
    metadata: { name: 'check' },
    resources: [
      { name: 'a1', type: 'Registry', properties: { key: 'HKLM\\SOFTWARE\\W\\A1', valueName: 'v', valueType: 'String', valueData: 'a1' } },
      { name: 'ab', type: 'Registry', properties: { key: 'HKLM\\SOFTWARE\\W\\Ab', valueName: 'v', valueType: 'String', valueData: 'ab' } },
      { name: 'star', type: 'Registry', properties: { key: 'HKLM\\SOFTWARE\\W\\A*', valueName: 'v', valueType: 'String', valueData: 'star' } },
    ],
  })).plan!;
  assert.is((await engine.test(check, { snapshot })).summary.inDesiredState, 3);
});

test.run();
