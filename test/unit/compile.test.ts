import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePlan } from '../../src/compile/emit.js';
import { psCommentText, psIdentifier, psLiteral, psString, PsTyped } from '../../src/compile/quote.js';
import { validateText } from '../../src/document/validate.js';
import { planFromYaml } from '../helpers.js';

test('psLiteral gives exact typed registry data, including values past 2^53', () => {
  assert.is(psLiteral(new PsTyped('uint64', 18446744073709551615n)).text, "[uint64]'18446744073709551615'");
  assert.is(psLiteral(new PsTyped('uint32', 4294967295)).text, "[uint32]'4294967295'");
  assert.throws(() => psLiteral(new PsTyped('uint32', 4294967296)), /outside uint32/);
  assert.is(psLiteral(new PsTyped('byte[]', Uint8Array.from([0, 255]))).text, '[byte[]](0x00,0xff)');
  assert.is(psLiteral(new PsTyped('byte[]', new Uint8Array())).text, '[byte[]]@()');
  assert.is(psLiteral(new PsTyped('string[]', [])).text, '[string[]]@()');
  assert.throws(() => psLiteral(2 ** 60), /safe integers/);
  assert.is(psLiteral({ A: 'x', B: null }).text, "@{ A = 'x'; B = $null }");
});

test('identifiers are whitelisted, never quoted', () => {
  assert.is(psIdentifier('ValueName').text, 'ValueName');
  for (const bad of ['a b', '$x', 'a;b', '', '1a', 'a-b']) assert.throws(() => psIdentifier(bad));
  assert.throws(() => psLiteral({ 'bad key': 1 }));
});

test('psString output is printable ASCII with only doubled quotes inside literals', () => {
  assert.is(psString('').text, "''");
  assert.is(psString("a'b").text, "'a''b'");
  assert.is(psString('\n').text, "('' + [char]0x000A)");
  assert.is(psString('\u{1F600}').text, "('' + [char]0xD83D + [char]0xDE00)");
  // Mostly non-ASCII text travels as base64 of its UTF-8: constant-size for the parser.
  const greek = '\u03B1\u03B2\u03B3'.repeat(10);
  assert.is(psString(greek).text, `[System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String('${Buffer.from(greek).toString('base64')}'))`);
});

test('comment text stays on one line and cannot open or close a block comment', () => {
  const text = psCommentText('a\nb #> c <# d \u2019');
  assert.not.match(text, /[\n\r]/);
  assert.not.ok(text.includes('#>') || text.includes('<#'));
  assert.ok(text.includes('\\u{2019}'));
});

test('compile is deterministic and the help block cannot be taken over by a description', () => {
  const yaml = `metadata: { name: det, description: ".EXTERNALHELP \\\\\\\\host\\\\share\\\\x.xml" }
resources:
  - { name: a, type: Registry, properties: { key: 'HKLM\\X', valueName: v, valueType: DWord, valueData: 1 } }
`;
  const first = compilePlan(planFromYaml(yaml)).text;
  assert.is(compilePlan(planFromYaml(yaml)).text, first);
  const help = first.slice(0, first.indexOf('#>'));
  assert.not.match(help, /^\s*\.EXTERNALHELP/m);
  assert.match(help, /Document: \.EXTERNALHELP/);
});

test('NUL and lone surrogates are refused in value names, text data and multi-string items', () => {
  for (const props of [
    `valueName: "a\\0b", valueType: DWord, valueData: 1`,
    `valueName: v, valueType: String, valueData: "a\\0b"`,
    `valueName: v, valueType: ExpandString, valueData: "a\\0"`,
    `valueName: v, valueType: MultiString, valueData: ["ok", "a\\0b"]`,
    `valueName: "a\\ud834", valueType: DWord, valueData: 1`,
    `valueName: v, valueType: String, valueData: "x\\udc00y"`,
  ]) {
    const { plan, diagnostics } = validateText('nul.yaml', `metadata: { name: n }\nresources:\n  - { name: r, type: Registry, properties: { key: 'HKLM\\X', ${props} } }\n`);
    assert.is(plan, undefined, props);
    assert.match(diagnostics[0]!.message, /NUL|surrogate/);
    assert.is(diagnostics[0]!.start.line, 3);
  }
});

test.run();
