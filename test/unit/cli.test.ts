// The CLI as a function: argv in, exit code and captured output out. No PowerShell runs here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, type CliIo } from '../../src/cli/cli.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SEED = join(ROOT, 'configurations', 'smb-client-signing.yaml');
const SCHEMA_FILE = join(ROOT, 'schema', 'winstate.schema.json');
const PACKAGE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(...argv: string[]): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'winstate-cli-'));
  temps.push(dir);
  return dir;
}
test.after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** Three problems, one per resource, at known positions. */
const BAD = [
  'metadata:', //                                                   1
  '  name: bad', //                                                 2
  'resources:', //                                                  3
  '  - name: a', //                                                 4
  '    type: Registry', //                                          5
  '    properties:', //                                             6
  '      key: HKXX\\Foo', //                                        7: invalid-key-path at 7:12
  '  - name: b', //                                                 8
  '    type: Registry', //                                          9
  '    properties:', //                                             10
  '      key: HKLM\\Software\\X', //                                11
  '      valueName: V', //                                          12
  '      valueType: DWord', //                                      13
  '      valueData: 4294967296', //                                 14: out-of-range at 14:18
  '  - name: c', //                                                 15
  '    type: SecurityOption', //                                    16
  '    properties:', //                                             17
  '      policy: "Microsoft network client: Digitaly sign communications (if server agrees)"', // 18: unknown-policy at 18:15
  '      value: Enabled', //                                        19
].join('\n') + '\n';

function writeBad(dir: string, name = 'bad.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, BAD);
  return file;
}

/** `file:line:col: ` lines of stderr, as [line, col, rest]. */
function positioned(stderr: string, file: string): [number, number, string][] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith(`${file}:`))
    .map((l) => {
      const m = /^(\d+):(\d+): (.*)$/.exec(l.slice(file.length + 1));
      assert.ok(m, `not file:line:col: ${l}`);
      return [Number(m![1]), Number(m![2]), m![3]!] as [number, number, string];
    });
}

// --- validate --------------------------------------------------------------------------------------

test('validate: a bad document exits 3 and reports every problem as file:line:col', async () => {
  const file = writeBad(tempDir());
  const r = await run('validate', file);
  assert.is(r.code, 3);
  const lines = positioned(r.stderr, file);
  assert.equal(lines.map(([line, col]) => [line, col]), [[7, 12], [14, 18], [18, 15]], r.stderr);
  assert.match(lines[0]![2], /unknown registry root 'HKXX'/);
  assert.match(lines[1]![2], /4294967296 is outside the DWord range/);
  assert.match(lines[2]![2], /did you mean "Microsoft network client: Digitally sign communications \(if server agrees\)"/);
});

test('validate: a directory is expanded to its YAML documents', async () => {
  const dir = tempDir();
  const file = writeBad(dir);
  writeFileSync(join(dir, 'notes.txt'), 'not a document: [');
  const r = await run('validate', dir);
  assert.is(r.code, 3);
  assert.is(positioned(r.stderr, file).length, 3);
  assert.not.ok(r.stderr.includes('notes.txt'), r.stderr);
});

test('validate and compile: a folder without documents is an error (exit 3), not a silent pass', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'winstate-empty-'));
  writeFileSync(join(empty, 'notes.txt'), 'not a document');
  for (const command of ['validate', 'compile']) {
    const r = await run(command, empty);
    assert.is(r.code, 3, `${command}: ${r.stderr}`);
    assert.match(r.stderr, /the folder holds no documents \(\.yaml or \.yml files\)/);
  }
  rmSync(empty, { recursive: true });
});

test('validate: the seed document exits 0', async () => {
  const r = await run('validate', SEED);
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stderr.includes('valid, 2 resources'), r.stderr);
  assert.not.match(r.stderr, /:\d+:\d+: error/);
});

test('validate --json reports validity on stdout', async () => {
  const file = writeBad(tempDir());
  const r = await run('validate', file, '--json');
  assert.is(r.code, 3);
  const report = JSON.parse(r.stdout) as { valid: boolean; diagnostics: { code: string }[] };
  assert.is(report.valid, false);
  assert.equal(report.diagnostics.map((d) => d.code), ['invalid-key-path', 'out-of-range', 'unknown-policy']);
});

// --- compile ----------------------------------------------------------------------------------------

test('compile: a bad document exits 3 and writes nothing', async () => {
  const dir = tempDir();
  const file = writeBad(dir);
  const out = join(dir, 'out');
  mkdirSync(out);
  const r = await run('compile', file, '--out', out);
  assert.is(r.code, 3);
  assert.equal(readdirSync(out), []);
  assert.is(positioned(r.stderr, file).length, 3);

  const missing = join(dir, 'not-created');
  assert.is((await run('compile', file, '--out', missing)).code, 3);
  assert.not.ok(existsSync(missing), 'the out dir must not be created for an invalid document');
});

test('compile: one bad document among good ones writes nothing at all', async () => {
  const dir = tempDir();
  const docs = join(dir, 'docs');
  mkdirSync(docs);
  writeFileSync(join(docs, 'a-good.yaml'), readFileSync(SEED));
  writeBad(docs, 'b-bad.yaml');
  const out = join(dir, 'out');
  mkdirSync(out);
  const r = await run('compile', docs, '--out', out);
  assert.is(r.code, 3);
  assert.equal(readdirSync(out), []);
});

test('compile: a good document writes <name>.ps1, byte-identical on a second compile', async () => {
  const out = tempDir();
  const first = await run('compile', SEED, '--out', out);
  assert.is(first.code, 0, first.stderr);
  assert.equal(readdirSync(out), ['smb-client-signing.ps1']);
  const script = join(out, 'smb-client-signing.ps1');
  const bytes = readFileSync(script);
  assert.ok(bytes.length > 0);
  assert.ok(bytes.toString('utf8').includes('EnableSecuritySignature'));

  const second = await run('compile', SEED, '--out', out);
  assert.is(second.code, 0, second.stderr);
  assert.equal(readdirSync(out), ['smb-client-signing.ps1']);
  assert.ok(readFileSync(script).equals(bytes), 'second compile must give identical bytes');
});

test('compile --check: 0 when up to date, 2 when edited, 2 with a stray script, 2 when missing', async () => {
  const out = tempDir();
  assert.is((await run('compile', SEED, '--out', out)).code, 0);
  const script = join(out, 'smb-client-signing.ps1');
  const original = readFileSync(script);

  const fresh = await run('compile', SEED, '--out', out, '--check');
  assert.is(fresh.code, 0, fresh.stderr);
  assert.ok(fresh.stderr.includes('up to date'), fresh.stderr);

  appendFileSync(script, '# hand edit\n');
  const advice = await run('compile', SEED, '--out', out, '--check');
  // The advice is the package's own command for exactly this check, not a script of this repository.
  assert.ok(advice.stderr.includes(`1 generated script(s) out of date: run winstate compile ${SEED} --out ${out}\n`), advice.stderr);
  const edited = await run('compile', SEED, '--out', out, '--check');
  assert.is(edited.code, 2);
  assert.ok(edited.stderr.includes(`${script}: differs`), edited.stderr);
  assert.ok(readFileSync(script).toString().endsWith('# hand edit\n'), '--check must not rewrite the script');

  writeFileSync(script, original);
  assert.is((await run('compile', SEED, '--out', out, '--check')).code, 0);

  const stray = join(out, 'old-document.ps1');
  writeFileSync(stray, '# stale\n');
  const withStray = await run('compile', SEED, '--out', out, '--check');
  assert.is(withStray.code, 2);
  assert.ok(withStray.stderr.includes(`${stray}: no document compiles to it`), withStray.stderr);
  assert.ok(existsSync(stray), '--check must not delete anything');

  const empty = tempDir();
  const missing = await run('compile', SEED, '--out', empty, '--check');
  assert.is(missing.code, 2);
  assert.ok(missing.stderr.includes('missing'), missing.stderr);
  assert.equal(readdirSync(empty), []);
});

// --- schema, usage, version ----------------------------------------------------------------------------

test('schema --check without --out is a usage error, not a printed schema and exit 0', async () => {
  const r = await run('schema', '--check');
  assert.is(r.code, 3);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /schema --check compares the schema with a file: give it as --out <file>/);
});

test('schema prints the document JSON Schema, equal to the committed file', async () => {
  const r = await run('schema');
  assert.is(r.code, 0);
  const printed = JSON.parse(r.stdout) as { $id: string };
  assert.is(printed.$id, 'urn:winstate:document:v1');
  const committed = readFileSync(SCHEMA_FILE, 'utf8');
  assert.equal(printed, JSON.parse(committed));
  assert.is(r.stdout, committed.replace(/\r\n/g, '\n'));
});

test('schema --out --check agrees with the committed file', async () => {
  const r = await run('schema', '--out', SCHEMA_FILE, '--check');
  assert.is(r.code, 0, r.stderr);
  const other = join(tempDir(), 'schema.json');
  writeFileSync(other, '{}\n');
  assert.is((await run('schema', '--out', other, '--check')).code, 2);
});

test('an unknown command exits 3', async () => {
  const r = await run('frobnicate', SEED);
  assert.is(r.code, 3);
  assert.ok(r.stderr.includes("unknown command 'frobnicate'"), r.stderr);
  assert.is(r.stdout, '');
});

test('an unknown option exits 3 and names the command and what it takes', async () => {
  const r = await run('validate', SEED, '--frobnicate');
  assert.is(r.code, 3);
  assert.ok(r.stderr.includes('validate does not take --frobnicate (it takes --json)'), r.stderr);
});

test('options are strict per command: another command\'s option is an error naming who takes it', async () => {
  const r = await run('validate', SEED, '--check', '--fail-fast');
  assert.is(r.code, 3);
  assert.match(r.stderr, /validate does not take --check \(it goes with compile, schema\)/);
  const t = await run('test', SEED, '--what-if');
  assert.is(t.code, 3);
  assert.match(t.stderr, /test does not take --what-if \(it goes with set, apply, rollback, dsc\)/);
});

test('typos get a suggestion: options and commands', async () => {
  const option = await run('apply', SEED, '--whatif');
  assert.is(option.code, 3);
  assert.match(option.stderr, /apply does not take --whatif; did you mean --what-if\?/);
  const command = await run('tset', SEED);
  assert.is(command.code, 3);
  assert.match(command.stderr, /unknown command 'tset'; did you mean 'test'\?/);
  const verb = await run('catalog', 'lsit');
  assert.is(verb.code, 3);
  assert.match(verb.stderr, /unknown catalog command 'lsit'; did you mean 'list'\?/);
  const far = await run('frobnicate');
  assert.is(far.code, 3);
  assert.not.match(far.stderr, /did you mean/);
});

test('--name=value works like --name value; a flag given a value is an error', async () => {
  const dir = tempDir();
  const r = await run('compile', SEED, `--out=${dir}`);
  assert.is(r.code, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'smb-client-signing.ps1')));
  const flag = await run('validate', SEED, '--json=yes');
  assert.is(flag.code, 3);
  assert.match(flag.stderr, /--json takes no value/);
});

test('-o=file works like -o file (not a file under a folder named "=")', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'winstate-short-eq-'));
  const r = await run('baseline', 'msft-ws2016', '--scope', 'MS', `-o=${join(dir, 'ms.yaml')}`);
  assert.is(r.code, 0, r.stderr);
  assert.equal(readdirSync(dir), ['ms.yaml']);
  rmSync(dir, { recursive: true });
});

test('--timeout is bounded by what a timer can hold, with a clear message', async () => {
  for (const bad of ['2147483648', '0', '-5', '1.5', 'soon']) {
    const r = await run('test', SEED, '--snapshot', SEED, `--timeout=${bad}`);
    assert.is(r.code, 3, bad);
    assert.match(r.stderr, /--timeout takes whole milliseconds from 1 to 2147483647/, bad);
  }
});

test('an option missing its value, and no document at all, exit 3', async () => {
  const out = await run('compile', SEED, '--out');
  assert.is(out.code, 3);
  assert.match(out.stderr, /winstate: --out needs a value\n/);
  assert.match((await run('baseline', 'cis-ws2016', '-o')).stderr, /winstate: --out needs a value\n/);
  assert.match((await run('runs', '--limit')).stderr, /winstate: --limit needs a value\n/);
  const none = await run('validate');
  assert.is(none.code, 3);
  assert.ok(none.stderr.includes('name at least one document'), none.stderr);
});

test('a damaged run record stops runs and rollback with its file named, never skipped', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'winstate-runs-damaged-'));
  const record = join(stateDir, 'runs', '20261202T000000000Z-abcdef', 'run.json');
  mkdirSync(join(stateDir, 'runs', '20261202T000000000Z-abcdef'), { recursive: true });
  writeFileSync(record, '{"id": ');
  for (const argv of [['runs'], ['rollback', 'latest', '--what-if']]) {
    const r = await run(...argv, '--state-dir', stateDir);
    assert.is(r.code, 1, `${argv.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(`${record} is not a readable run record`), r.stderr);
  }
  rmSync(stateDir, { recursive: true });
});

test('rollback --backup with a file that is not there is invalid input (exit 3), before PowerShell starts', async () => {
  const r = await run('rollback', '--backup', '/nonexistent/backup.json', '--pwsh', '/nonexistent/pwsh');
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /--backup \/nonexistent\/backup\.json does not exist/);
});

test('a state folder that is a file is invalid input for set, apply and rollback, before PowerShell starts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'winstate-state-file-'));
  const file = join(dir, 'state');
  writeFileSync(file, '');
  const snapshot = join(dir, 'server.reg');
  writeFileSync(snapshot, readFileSync(join(ROOT, 'examples', 'demo', 'server-before.reg')));
  for (const argv of [['apply', SEED, '--snapshot', snapshot], ['set', SEED, '--snapshot', snapshot], ['rollback', 'latest']]) {
    const r = await run(...argv, '--state-dir', file, '--pwsh', '/nonexistent/pwsh');
    assert.is(r.code, 3, `${argv[0]}: ${r.stderr}`);
    assert.ok(r.stderr.includes(`the state folder ${file} is a file`), r.stderr);
  }
  rmSync(dir, { recursive: true });
});

test('--version prints the package.json version', async () => {
  const r = await run('--version');
  assert.is(r.code, 0);
  assert.is(r.stdout, `${PACKAGE_VERSION}\n`);
  assert.is(r.stderr, '');
});


test('a reader that stops early (catalog list | head) ends the CLI quietly', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'winstate.js'), 'catalog', 'list'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  // Read the first chunk, then close the pipe as head does.
  await new Promise<void>((resolve) => child.stdout.once('data', () => { child.stdout.destroy(); resolve(); }));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.is(code, 0, stderr);
  assert.is(stderr, '');
});

test('runs --host takes one host name: a repeated --host is refused, not cut to its first value', async () => {
  const r = await run('runs', '--host', 'web1', '--host', 'web2', '--state-dir', mkdtempSync(join(tmpdir(), 'winstate-runs-')));
  assert.is(r.code, 3);
  assert.match(r.stderr, /runs --host takes one host name/);
});

test.run();
