// Issue 4: malformed documents. Every file of test/fixtures/bad-documents/ must give positioned
// errors and exit 3, within bounded time and memory, and nothing may be run or written.
// Each NN-name.yaml has a sibling NN-name.expect.json:
//   { "errors": [{ "code", "line", "col", "message" (a substring), "notMessage"? }], "exactCount": bool }
// Huge documents (a 5 MiB one, one of 24,000 resources just under the 4 MiB limit) are generated here, not committed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { validateFile, validateText, type ValidationResult } from '../../src/document/validate.js';
import { formatDiagnostic, type Diagnostic } from '../../src/document/diagnostics.js';
import { MAX_DOCUMENT_BYTES } from '../../src/document/load.js';
import { main, type CliIo } from '../../src/cli/cli.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CORPUS = join(ROOT, 'test', 'fixtures', 'bad-documents');
const SNAPSHOT = join(ROOT, 'examples', 'demo', 'server-before.reg');

/** Bounds against runaway parsing (alias bombs, deep nesting), not performance targets. */
const TIME_LIMIT_MS = 2000;
const HEAP_LIMIT_BYTES = 200 * 1024 * 1024;
/**
 * The largest accepted document (4 MiB, 24,000 resources) gets the same bounds per byte: 2 s of
 * CPU and 200 MiB of heap per MiB of YAML, the time the parser takes plus room for a busy machine.
 */
const LARGEST_TIME_LIMIT_MS = 4 * TIME_LIMIT_MS;
const LARGEST_HEAP_LIMIT_BYTES = 4 * HEAP_LIMIT_BYTES;

const CODES = new Set(['io', 'yaml-syntax', 'duplicate-key', 'schema', 'unknown-policy', 'invalid-value', 'out-of-range', 'invalid-key-path', 'duplicate-name', 'conflict']);
/** What must never reach a one-line diagnostic: C0/C1 controls (tab included), DEL, and U+2028/U+2029. */
const NOT_PRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

interface ExpectedError {
  code: string;
  line: number;
  col: number;
  /** A substring of the message. */
  message: string;
  /** A substring the message must not contain. */
  notMessage?: string;
}
interface Expectation {
  errors: ExpectedError[];
  exactCount: boolean;
}

/**
 * Product bugs found by the corpus. The expectation files say what SHOULD happen; the listed
 * aspects of these cases are skipped until the bug is fixed (remove the entry then).
 *   diagnostics: the expected code/position/message/count;  stderr: one `file:line:col: error:` line per diagnostic.
 */
type Aspect = 'diagnostics' | 'stderr';
const KNOWN_BUGS: Record<string, { aspects: Aspect[]; reason: string }> = {};

// --- helpers --------------------------------------------------------------------------------------

/** gc() when it can be had, so the heap measurement starts from live data only. */
const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    return typeof gc === 'function' ? gc : () => {};
  } catch {
    return () => {};
  }
})();

function measured<T>(run: () => T): { value: T; ms: number; heapGrowth: number } {
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  // CPU time, not wall time: the bound is on the work done, whatever else the machine is running.
  const started = process.cpuUsage();
  const value = run();
  const used = process.cpuUsage(started);
  const ms = (used.user + used.system) / 1000;
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  return { value, ms, heapGrowth };
}

function assertBounded(what: string, m: { ms: number; heapGrowth: number }, timeLimit = TIME_LIMIT_MS, heapLimit = HEAP_LIMIT_BYTES): void {
  assert.ok(m.ms < timeLimit, `${what} took ${m.ms.toFixed(0)} ms of CPU time (limit ${timeLimit} ms)`);
  assert.ok(m.heapGrowth < heapLimit, `${what} grew the heap by ${(m.heapGrowth / 2 ** 20).toFixed(1)} MiB (limit ${(heapLimit / 2 ** 20).toFixed(0)} MiB)`);
}

function shown(list: readonly Diagnostic[]): string {
  const lines = list.slice(0, 20).map((d) => `  ${d.code} ${d.start.line}:${d.start.col} ${JSON.stringify(d.message.slice(0, 300))}`);
  if (list.length > 20) lines.push(`  ... ${list.length - 20} more`);
  return `\nactual (${list.length}):\n${lines.join('\n')}`;
}

/** The result of validation, or a failed test if the document is (unexpectedly) valid. */
function mustBeInvalid(file: string): ValidationResult {
  const result = validateFile(file);
  if (result.plan || result.diagnostics.length === 0) {
    assert.unreachable(`${basename(file)} validates, so apply would start PowerShell; refusing to go on`);
  }
  return result;
}

/** Shared checks on every diagnostic of an invalid document, whatever the case. */
function checkDiagnosticShape(file: string, list: readonly Diagnostic[]): void {
  for (const d of list) {
    assert.is(d.file, file, `diagnostic names another file: ${formatDiagnostic(d)}`);
    assert.is(d.severity, 'error', formatDiagnostic(d));
    assert.ok(CODES.has(d.code), `unknown diagnostic code ${d.code}`);
    assert.ok(Number.isInteger(d.start.line) && d.start.line >= 1, `line ${d.start.line} of ${d.message}`);
    assert.ok(Number.isInteger(d.start.col) && d.start.col >= 1, `col ${d.start.col} of ${d.message}`);
    assert.ok(d.message.length > 0, 'empty message');
  }
}

function matchExpected(list: readonly Diagnostic[], expectation: Expectation): void {
  const unmatched = [...list];
  for (const e of expectation.errors) {
    const i = unmatched.findIndex((d) => d.code === e.code && d.start.line === e.line && d.start.col === e.col && d.message.includes(e.message));
    assert.ok(i >= 0, `expected ${e.code} at ${e.line}:${e.col} with message containing ${JSON.stringify(e.message)}${shown(list)}`);
    const d = unmatched.splice(i, 1)[0]!;
    if (e.notMessage !== undefined) {
      assert.not.ok(d.message.includes(e.notMessage), `message at ${e.line}:${e.col} must not contain ${JSON.stringify(e.notMessage)}: ${d.message}`);
    }
  }
  if (expectation.exactCount) {
    assert.is(list.length, expectation.errors.length, `expected exactly ${expectation.errors.length} diagnostic(s)${shown(list)}`);
  }
}

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

async function runCli(argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) };
  // CPU time of this process (the CLI runs in it and must start no other): a busy machine does not change it.
  const started = process.cpuUsage();
  const code = await main(argv, io);
  const used = process.cpuUsage(started);
  return { code, stdout, stderr, ms: (used.user + used.system) / 1000 };
}

function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

// --- the suite's sandbox: a PowerShell canary and a state dir that must never appear ---------------

let sandbox = '';
let PWSH_CANARY = '';
let PWSH_STARTED = '';
let STATE_DIR = '';
const savedEnv = { WINSTATE_PWSH: process.env.WINSTATE_PWSH, WINSTATE_STATE_DIR: process.env.WINSTATE_STATE_DIR };

test.before(() => {
  sandbox = mkdtempSync(join(tmpdir(), 'winstate-bad-docs-'));
  PWSH_CANARY = join(sandbox, 'pwsh-canary.sh');
  PWSH_STARTED = join(sandbox, 'pwsh-was-started');
  STATE_DIR = join(sandbox, 'state');
  // If apply ever got past validation, "PowerShell" would be this script: it leaves a marker and fails.
  writeFileSync(PWSH_CANARY, `#!/bin/sh\necho "$@" > '${PWSH_STARTED}'\nexit 1\n`, { mode: 0o755 });
  if (process.platform !== 'win32') process.env.WINSTATE_PWSH = PWSH_CANARY;
  process.env.WINSTATE_STATE_DIR = STATE_DIR;
});

test.after(() => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  if (sandbox) rmSync(sandbox, { recursive: true, force: true });
});

/**
 * `apply <doc> --snapshot <copy> --json` and `compile <doc> --out <dir>` in a fresh temp dir;
 * asserts exit 3 and that nothing ran or was written. Returns the apply run for stderr checks.
 * Callers validate first: a valid document would start PowerShell.
 */
async function refusedByCli(doc: string, { timeLimitMs = TIME_LIMIT_MS, compile = true } = {}): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), 'winstate-bad-doc-'));
  try {
    const snapshot = join(dir, 'server.reg');
    copyFileSync(SNAPSHOT, snapshot);
    const snapshotBytes = readFileSync(snapshot);
    const before = listTree(dir);

    const apply = await runCli(['apply', doc, '--snapshot', snapshot, '--json']);
    assert.is(apply.code, 3, `apply exit code; stderr:\n${apply.stderr.slice(0, 2000)}`);
    if (apply.stdout !== '') {
      // --json may describe the refusal, but never a run.
      const report = JSON.parse(apply.stdout) as Record<string, unknown>;
      for (const key of ['plan', 'test', 'set', 'verify', 'results']) assert.not.ok(key in report, `stdout JSON carries '${key}'`);
    }
    assert.ok(apply.stderr.startsWith(`${doc}:`), `stderr does not start with the document's name:\n${apply.stderr.slice(0, 2000)}`);
    assert.ok(/^\d+:\d+: error: /.test(apply.stderr.slice(doc.length + 1)), `stderr does not start with a positioned error:\n${apply.stderr.slice(0, 2000)}`);
    assert.ok(readFileSync(snapshot).equals(snapshotBytes), 'the snapshot changed');
    assert.equal(listTree(dir), before, 'apply created or removed files next to the snapshot');
    assert.ok(apply.ms < timeLimitMs, `apply took ${apply.ms.toFixed(0)} ms of CPU time (limit ${timeLimitMs} ms)`);

    if (compile) {
      const out = join(dir, 'generated');
      const compiled = await runCli(['compile', doc, '--out', out]);
      assert.is(compiled.code, 3, `compile exit code; stderr:\n${compiled.stderr.slice(0, 2000)}`);
      assert.is(compiled.stdout, '');
      assert.not.ok(existsSync(out), 'compile created its output directory');
      assert.equal(listTree(dir), before, 'compile wrote files');
      assert.ok(readFileSync(snapshot).equals(snapshotBytes), 'the snapshot changed');
    }

    assert.not.ok(existsSync(PWSH_STARTED), `PowerShell (the canary) was started: ${existsSync(PWSH_STARTED) ? readFileSync(PWSH_STARTED, 'utf8') : ''}`);
    assert.not.ok(existsSync(STATE_DIR), 'a run record or backup was written');
    return apply;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** stderr of a refused run: exactly one printable `file:line:col: error: message [code]` line per diagnostic. */
function checkStderrLines(doc: string, stderr: string, diagnostics: readonly Diagnostic[]): void {
  assert.ok(stderr.endsWith('\n'), 'stderr ends with a line break');
  const lines = stderr.slice(0, -1).split('\n');
  assert.is(lines.length, diagnostics.length, `one stderr line per diagnostic; stderr:\n${stderr.slice(0, 2000)}`);
  const prefix = `${doc}:`;
  lines.forEach((line, i) => {
    const d = diagnostics[i]!;
    assert.ok(line.startsWith(prefix), `not a line about the document: ${JSON.stringify(line)}`);
    const m = /^(\d+):(\d+): error: (.+) \[([a-z-]+)\]$/.exec(line.slice(prefix.length));
    assert.ok(m, `not file:line:col: error: message [code]: ${JSON.stringify(line)}`);
    assert.equal([Number(m![1]), Number(m![2]), m![4]], [d.start.line, d.start.col, d.code], `line ${i + 1} of stderr`);
    assert.is(line, formatDiagnostic(d));
    assert.not.ok(NOT_PRINTABLE.test(line), `stderr line holds a control or line-separator character: ${JSON.stringify(line)}`);
  });
}

// --- the corpus ------------------------------------------------------------------------------------

const corpus = readdirSync(CORPUS).filter((f) => f.endsWith('.yaml')).sort();
const expectationOf = (name: string): Expectation =>
  JSON.parse(readFileSync(join(CORPUS, `${name}.expect.json`), 'utf8')) as Expectation;
const exactCountOf = (name: string): boolean => {
  try {
    return expectationOf(name).exactCount === true;
  } catch {
    return false; // a missing or broken expectation fails the corpus test and the case itself
  }
};

test('corpus: at least 55 numbered documents, each with a well-formed expectation inside the file', () => {
  assert.ok(corpus.length >= 55, `only ${corpus.length} documents`);
  const expectations = readdirSync(CORPUS).filter((f) => f.endsWith('.expect.json')).sort();
  assert.equal(expectations.map((f) => f.replace(/\.expect\.json$/, '')), corpus.map((f) => f.replace(/\.yaml$/, '')), 'every .yaml has a .expect.json and back');
  assert.equal(readdirSync(CORPUS).filter((f) => !f.endsWith('.yaml') && !f.endsWith('.expect.json')), [], 'stray files in the corpus');
  const numbers = corpus.map((f) => f.slice(0, 2));
  assert.equal(new Set(numbers).size, corpus.length, 'NN prefixes are unique');
  for (const file of corpus) {
    assert.match(file, /^\d\d-[a-z0-9-]+\.yaml$/);
    const name = file.replace(/\.yaml$/, '');
    const expectation = expectationOf(name);
    assert.ok(Array.isArray(expectation.errors) && expectation.errors.length > 0, `${name}: no expected errors`);
    assert.type(expectation.exactCount, 'boolean', `${name}: exactCount`);
    const lines = readFileSync(join(CORPUS, file), 'utf8').split('\n');
    for (const e of expectation.errors) {
      assert.ok(CODES.has(e.code), `${name}: unknown code ${e.code}`);
      assert.type(e.message, 'string');
      assert.ok(e.line >= 1 && e.line <= lines.length, `${name}: line ${e.line} is outside the file`);
      assert.ok(e.col >= 1 && e.col <= lines[e.line - 1]!.length + 1, `${name}: ${e.line}:${e.col} is outside its line`);
    }
  }
  for (const name of Object.keys(KNOWN_BUGS)) assert.ok(corpus.includes(`${name}.yaml`), `KNOWN_BUGS names a missing case ${name}`);
});

for (const file of corpus) {
  const name = file.replace(/\.yaml$/, '');
  const doc = join(CORPUS, file);
  const bug = KNOWN_BUGS[name];
  const skipped = (aspect: Aspect) => bug?.aspects.includes(aspect) ?? false;

  test(`${name}: refused within ${TIME_LIMIT_MS} ms and ${HEAP_LIMIT_BYTES / 2 ** 20} MiB of heap, every diagnostic well-formed`, () => {
    const m = measured(() => validateFile(doc));
    assertBounded(`validating ${file}`, m);
    assert.is(m.value.plan, undefined, `${file} validates`);
    assert.ok(m.value.diagnostics.length > 0, `${file}: no diagnostics`);
    checkDiagnosticShape(doc, m.value.diagnostics);
  });

  const diagnosticsTitle = `${name}: the expected diagnostics (code, line, col, message${exactCountOf(name) ? ', count' : ''}), each one printable line`;
  if (skipped('diagnostics')) {
    test.skip(`${diagnosticsTitle} [known bug: ${bug!.reason}]`, () => {});
  } else {
    test(diagnosticsTitle, () => {
      const { diagnostics } = mustBeInvalid(doc);
      matchExpected(diagnostics, expectationOf(name));
      for (const d of diagnostics) assert.not.ok(NOT_PRINTABLE.test(d.message), `message is not one printable line: ${JSON.stringify(d.message)}`);
    });
  }

  let applyRun: { run: CliRun; diagnostics: readonly Diagnostic[] } | undefined;
  test(`${name}: apply and compile exit 3, start no PowerShell, leave the snapshot and the folder untouched`, async () => {
    const { diagnostics } = mustBeInvalid(doc);
    applyRun = { run: await refusedByCli(doc), diagnostics };
  });

  const stderrTitle = `${name}: apply prints one file:line:col: error: line per diagnostic`;
  if (skipped('stderr')) {
    test.skip(`${stderrTitle} [known bug: ${bug!.reason}]`, () => {});
  } else {
    test(stderrTitle, () => {
      assert.ok(applyRun, 'the apply run of the previous test did not complete');
      checkStderrLines(doc, applyRun!.run.stderr, applyRun!.diagnostics);
    });
  }
}

// --- huge documents, generated here ------------------------------------------------------------------

const HEAD = ['metadata:', '  name: bulk-baseline', '  description: Generated settings, one per registry value', 'resources:'];

/** Resource i as 7 lines; its valueData is on the 7th line, at col 18. */
function bulkResource(i: number, data: string | number = i % 2): string[] {
  const n = String(i).padStart(5, '0');
  return [
    `  - name: Bulk setting ${n}`,
    '    type: Registry',
    '    properties:',
    `      key: HKLM\\SOFTWARE\\Contoso\\B${String(Math.floor(i / 100)).padStart(3, '0')}`,
    `      valueName: V${n}`,
    '      valueType: DWord',
    `      valueData: ${data}`,
  ];
}

function writeTemp(name: string, text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'winstate-huge-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return { dir, file };
}

test('a 5 MiB document of valid resources is refused quickly with a size error, by validateFile, validateText and apply', async () => {
  const lines = [...HEAD];
  for (let i = 0, size = 0; size < 5 * 2 ** 20 + 4096; i++) {
    const resource = bulkResource(i);
    lines.push(...resource);
    size += resource.join('\n').length + 1;
  }
  const text = `${lines.join('\n')}\n`;
  const bytes = Buffer.byteLength(text);
  assert.ok(bytes >= 5 * 2 ** 20 && bytes > MAX_DOCUMENT_BYTES, `generated only ${bytes} bytes`);
  const { dir, file } = writeTemp('five-mib.yaml', text);
  try {
    const m = measured(() => validateFile(file));
    // Refused from its size alone: reading it into a string would already cost 5 MiB of heap.
    assertBounded('refusing the 5 MiB document', m, 100, 2 ** 20);
    assert.is(m.value.plan, undefined);
    assert.equal(m.value.diagnostics.map((d) => [d.code, d.start.line, d.start.col]), [['io', 1, 1]], shown(m.value.diagnostics));
    assert.ok(m.value.diagnostics[0]!.message.includes(`document is ${bytes} bytes; the limit is ${MAX_DOCUMENT_BYTES}`), m.value.diagnostics[0]!.message);
    assert.is(m.value.diagnostics[0]!.file, file);

    const inMemory = measured(() => validateText('five-mib.yaml', text));
    assertBounded('refusing the 5 MiB text', inMemory, 100, 2 ** 20);
    assert.equal(inMemory.value.diagnostics.map((d) => [d.code, d.start.line, d.start.col]), [['io', 1, 1]]);

    const apply = await refusedByCli(file);
    assert.is(apply.stderr, `${formatDiagnostic(m.value.diagnostics[0]!)}\n`);
    assert.ok(apply.ms < 500, `apply took ${apply.ms.toFixed(0)} ms of CPU time to refuse`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** 24,000 valid resources (7 lines each), the last with a DWord one past the range; just under the 4 MiB limit. */
const BULK = 24_000;
function largestAccepted(): { text: string; errorLine: number } {
  const lines = [...HEAD];
  for (let i = 0; i < BULK - 1; i++) lines.push(...bulkResource(i));
  lines.push(...bulkResource(BULK - 1, 4294967296));
  return { text: `${lines.join('\n')}\n`, errorLine: lines.length };
}

test('a document of 24,000 resources just under the size limit, one error at the end: exactly that error, at its line', async () => {
  const { text, errorLine } = largestAccepted();
  const bytes = Buffer.byteLength(text);
  assert.ok(bytes >= 0.9 * MAX_DOCUMENT_BYTES && bytes < MAX_DOCUMENT_BYTES, `generated ${bytes} bytes`);
  assert.is(errorLine, HEAD.length + BULK * 7);
  assert.is(text.split('\n')[errorLine - 1], '      valueData: 4294967296');
  const { dir, file } = writeTemp('largest-accepted.yaml', text);
  try {
    const result = validateFile(file);
    assert.is(result.plan, undefined);
    assert.equal(result.diagnostics.map((d) => [d.code, d.start.line, d.start.col]), [['out-of-range', errorLine, 18]], shown(result.diagnostics));
    assert.ok(result.diagnostics[0]!.message.includes(`Bulk setting ${String(BULK - 1).padStart(5, "0")}: 4294967296 is outside the DWord range 0..4294967295`), result.diagnostics[0]!.message);

    // The CLI's whole refusal (load, validate, report) within the largest document's bound; compile
    // validates the same way as apply and would only double the time.
    const apply = await refusedByCli(file, { timeLimitMs: LARGEST_TIME_LIMIT_MS, compile: false });
    checkStderrLines(file, apply.stderr, result.diagnostics);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The size limit exists to keep the largest accepted document within bounds: the corpus's, per MiB.
test('the largest accepted document is validated within the corpus bounds per MiB (8 s of CPU, 800 MiB of heap for 4 MiB)', () => {
  const { text } = largestAccepted();
  const m = measured(() => validateText('largest-accepted.yaml', text));
  assert.is(m.value.diagnostics.length, 1);
  assertBounded(`validating ${BULK} resources (${(Buffer.byteLength(text) / 2 ** 20).toFixed(2)} MiB)`, m, LARGEST_TIME_LIMIT_MS, LARGEST_HEAP_LIMIT_BYTES);
});

test.run();
