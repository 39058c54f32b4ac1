import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { readReg, runCli, shareCliSession, tempDir, writeReg } from '../helpers.js';

// The DSC v3 resource: its manifest and every output checked against DSC v3's own published
// schemas (test/fixtures/dsc, v3.1.0, MIT), with the real CLI and real PowerShell.

const require = createRequire(import.meta.url);
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const root = process.cwd();
const fixture = (...p: string[]) => JSON.parse(readFileSync(resolve(root, 'test', 'fixtures', 'dsc', ...p), 'utf8'));

function ajv(): Ajv2020 {
  const a = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(a);
  // The manifest schema lets an embedded instance schema be draft 2019-09 or 07: their meta-schemas must be known.
  a.addMetaSchema(require('ajv/dist/refs/json-schema-draft-07.json'));
  for (const f of ['meta/core', 'meta/applicator', 'meta/validation', 'meta/meta-data', 'meta/format', 'meta/content', 'schema']) {
    a.addMetaSchema(require(`ajv/dist/refs/json-schema-2019-09/${f}.json`), undefined, false);
  }
  return a;
}
const validator = ajv();
const manifest = JSON.parse(readFileSync(resolve(root, 'winstate.dsc.resource.json'), 'utf8'));
validator.addSchema(fixture('resource', 'properties', 'inDesiredState.json'));
const compiled = new Map<object, ReturnType<Ajv2020['compile']>>();
const check = (schema: object, value: unknown, what: string) => {
  const validate = compiled.get(schema) ?? validator.compile(schema);
  compiled.set(schema, validate);
  assert.ok(validate(value), `${what}: ${JSON.stringify(validate.errors)}`);
};
const instanceSchema = manifest.schema.embedded;
const manifestSchema = fixture('resource', 'manifest.json');
const stdout = Object.fromEntries(['get', 'test', 'set', 'whatIf'].map((op) => [op, fixture('resource', 'stdout', `${op}.json`)]));

const KEY = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Winstate\\Dsc';
const DOC = `metadata: { name: dsc-doc }
resources:
  - name: Signing
    type: Registry
    properties: { key: 'HKLM\\SOFTWARE\\Winstate\\Dsc', valueName: Signing, valueType: DWord, valueData: 1 }
  - name: Banner
    type: Registry
    properties: { key: 'HKLM\\SOFTWARE\\Winstate\\Dsc', valueName: Banner, valueType: String, valueData: hello }
`;

shareCliSession(test.after);

/** `winstate dsc` as DSC runs it: a process of its own, the instance on its real stdin. */
function dscProcess(args: string[], input: string, stateDir: string): { status: number | null; lines: unknown[]; stderr: string } {
  const r = spawnSync(process.execPath, [resolve(root, 'bin', 'winstate.js'), 'dsc', ...args, '--state-dir', stateDir], { input, encoding: 'utf8', timeout: 120_000 });
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown);
  return { status: r.status, lines, stderr: r.stderr };
}

/** The same command through the CLI function, in the file's one PowerShell (each process costs ~2 s of CPU). */
async function dsc(args: string[], input: string, stateDir: string): Promise<{ status: number | null; lines: unknown[]; stderr: string }> {
  const r = await runCli(['dsc', ...args, '--state-dir', stateDir], { stdin: async () => input });
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown);
  return { status: r.code, lines, stderr: r.stderr };
}

test('the manifest is valid against DSC v3\'s manifest schema and names our commands', () => {
  check(manifestSchema, manifest, 'manifest');
  assert.is(manifest.type, 'Winstate/Document');
  assert.equal(manifest.test.args, ['dsc', 'test']);
  // A manifest that breaks DSC's rules fails here: the check has teeth.
  const validate = compiled.get(manifestSchema)!;
  assert.not.ok(validate({ ...manifest, type: 'no slash' }));
});

test('get, test, what-if and set through the CLI: every output valid against DSC v3\'s stdout schemas', async () => {
  const dir = tempDir('winstate-dsc-');
  const doc = join(dir, 'doc.yaml');
  writeFileSync(doc, DOC);
  const snap = join(dir, 'machine.reg');
  writeReg(snap, [`[${KEY}]`, '"Signing"=dword:00000000', '"Banner"="hello"']);
  const input = JSON.stringify({ path: doc, snapshot: snap });
  const state = join(dir, 'state');

  const get = dscProcess(['get'], input, state);
  assert.is(get.status, 0, get.stderr);
  assert.is(get.lines.length, 1);
  check(stdout.get, get.lines[0], 'get');
  check(instanceSchema, get.lines[0], 'get state');
  assert.is((get.lines[0] as { settings: Record<string, { actual: { valueData: number } }> }).settings.Signing!.actual.valueData, 0);

  const t = await dsc(['test'], input, state);
  assert.is(t.status, 0, t.stderr);
  assert.is(t.lines.length, 2);
  for (const line of t.lines) check(stdout.test, line, 'test');
  check(instanceSchema, t.lines[0], 'test state');
  assert.is((t.lines[0] as { _inDesiredState: boolean })._inDesiredState, false);
  assert.equal(t.lines[1], ['Signing']);

  const before = readFileSync(snap);
  const w = await dsc(['set', '--what-if'], input, state);
  assert.is(w.status, 0, w.stderr);
  for (const line of w.lines) check(stdout.whatIf, line, 'what-if');
  assert.equal(w.lines[1], ['Signing']);
  assert.ok(readFileSync(snap).equals(before), 'what-if changed nothing');

  const s = await dsc(['set'], input, state);
  assert.is(s.status, 0, s.stderr);
  for (const line of s.lines) check(stdout.set, line, 'set');
  check(instanceSchema, s.lines[0], 'set state');
  assert.equal(s.lines[1], ['Signing']);
  assert.match(readReg(snap), /"Signing"=dword:00000001/);
  const again = await dsc(['test'], input, state);
  assert.is((again.lines[0] as { _inDesiredState: boolean })._inDesiredState, true);
  assert.equal(again.lines[1], []);
});

test('bad instance input: exit 3 with the reason, nothing on stdout', async () => {
  const dir = tempDir('winstate-dsc-');
  const r = await dsc(['test'], JSON.stringify({ path: join(dir, 'missing.yaml') }), join(dir, 'state'));
  assert.is(r.status, 3);
  assert.equal(r.lines, []);
  assert.match(r.stderr, /missing\.yaml does not exist/);
  const extra = await dsc(['get'], JSON.stringify({ path: join(dir, 'x.yaml'), colour: 'red' }), join(dir, 'state'));
  assert.is(extra.status, 3);
  assert.match(extra.stderr, /unknown property 'colour'/);
});

test.run();
