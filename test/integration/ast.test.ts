import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PwshSession } from '../../src/bridge/session.js';
import { ps } from '../../src/compile/quote.js';
import { compilePlan } from '../../src/compile/emit.js';
import { planFromYaml, tempDir } from '../helpers.js';

const session = new PwshSession();
test.after(() => session.close());

/**
 * Parses a file with PowerShell's own parser and lists syntax errors and constructs that
 * Windows PowerShell 5.1 does not have. The walk over the syntax tree is C# (compiled once per
 * session): a PowerShell loop over the nodes of a 600 KB script costs seconds per file.
 */
const CHECK = `
param([string] $Path)
if (-not ('WsAstCheck' -as [type])) {
    Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.Management.Automation.Language;
public static class WsAstCheck {
    public static string Check(string path) {
        Token[] tokens; ParseError[] errors;
        Ast ast = Parser.ParseFile(path, out tokens, out errors);
        List<string> found = new List<string>();
        foreach (ParseError e in errors) found.Add("parse error: " + e.Message + " at line " + e.Extent.StartLineNumber);
        foreach (Ast n in ast.FindAll(delegate (Ast a) { return true; }, true)) {
            int line = n.Extent.StartLineNumber;
            if (n is TernaryExpressionAst) found.Add("ternary at line " + line);
            if (n is PipelineChainAst) found.Add("&&/|| chain at line " + line);
            BinaryExpressionAst binary = n as BinaryExpressionAst;
            if (binary != null && binary.Operator == TokenKind.QuestionQuestion) found.Add("?? at line " + line);
            AssignmentStatementAst assignment = n as AssignmentStatementAst;
            if (assignment != null && assignment.Operator == TokenKind.QuestionQuestionEquals) found.Add("??= at line " + line);
            MemberExpressionAst member = n as MemberExpressionAst;
            IndexExpressionAst index = n as IndexExpressionAst;
            if ((member != null && member.NullConditional) || (index != null && index.NullConditional)) found.Add("?. or ?[] at line " + line);
            CommandParameterAst parameter = n as CommandParameterAst;
            if (parameter != null && parameter.ParameterName.Length >= 3 && "Parallel".StartsWith(parameter.ParameterName, StringComparison.OrdinalIgnoreCase)) found.Add("-Parallel at line " + line);
            ScriptBlockAst block = n as ScriptBlockAst;
            if (block != null && block.CleanBlock != null) found.Add("clean block at line " + line);
            if (n is TypeDefinitionAst) found.Add("class/enum at line " + line);
        }
        foreach (Token token in tokens) {
            foreach (char c in token.Text) {
                if (c > 0x7F) { found.Add("non-ASCII token at line " + token.Extent.StartLineNumber); break; }
            }
        }
        return String.Join("\\n", found);
    }
}
'@
}
[WsAstCheck]::Check($Path)
`;

async function problems(file: string): Promise<string[]> {
  const r = await session.invoke(ps`& ([scriptblock]::Create(${CHECK})) -Path ${resolve(file)}`);
  assert.ok(r.ok, r.error?.message);
  return r.output.split('\n').filter(Boolean);
}

test('the 5.1 check finds each construct it looks for (it can fail)', async () => {
  const dir = tempDir();
  const bad = join(dir, 'bad.ps1');
  writeFileSync(bad, [
    '$a = $b ?? 1',
    '$c = $true ? 1 : 2',
    'Get-Item . && Get-Item .',
    '${x}?.Name',
    '1..2 | ForEach-Object -Parallel { $_ }',
    'function f { process { } clean { } }',
    '$z ??= 3',
    'class K { }',
  ].join('\n'));
  const found = await problems(bad);
  for (const word of ['??', 'ternary', '&&/||', '?.', '-Parallel', 'clean', '??=', 'class']) {
    assert.ok(found.some((f) => f.startsWith(word)), `expected ${word} in ${found.join('; ')}`);
  }
  const broken = join(dir, 'broken.ps1');
  writeFileSync(broken, 'function f { ');
  assert.ok((await problems(broken)).some((f) => f.startsWith('parse error')));
});

test('every committed generated script parses and uses nothing newer than Windows PowerShell 5.1', async () => {
  const files = readdirSync('generated-ps').filter((f) => f.endsWith('.ps1'));
  assert.ok(files.length > 0);
  for (const f of files) {
    const text = readFileSync(join('generated-ps', f));
    assert.ok(!text.some((b) => b > 0x7e || (b < 0x20 && b !== 0x0a && b !== 0x09)), `${f} is printable ASCII`);
    assert.equal(await problems(join('generated-ps', f)), [], f);
  }
});

test('a script with every value type and hostile text also passes the 5.1 check', async () => {
  const dir = tempDir();
  const file = join(dir, 'hostile.ps1');
  const plan = planFromYaml(`
metadata: { name: hostile, description: "ends a comment #> and starts one <# and has a newline\\nhere" }
resources:
  - name: "quote ' right \u2019 and \$(Get-Date) #> <#"
    type: Registry
    description: "line one\\nline two #>"
    properties: { key: 'HKLM\\SOFTWARE\\a''b\u2019c', valueName: "\`n\$x", valueType: MultiString, valueData: ["a\u2018", "\\r\\n", "\u{1F600}"] }
  - { name: q, type: Registry, properties: { key: 'HKCU\\X', valueName: q, valueType: QWord, valueData: 18446744073709551615 } }
  - { name: b, type: Registry, properties: { key: 'HKCU\\X', valueName: b, valueType: Binary, valueData: '' } }
`);
  writeFileSync(file, compilePlan(plan).text);
  assert.equal(await problems(file), []);
});

test('every catalog entry, with each of its choices, compiles to a script that parses under the 5.1 check', async () => {
  const { loadCatalog } = await import('../../src/catalog/catalog.js');
  const entries = loadCatalog().entries;
  assert.ok(entries.length > 0);
  // Choices of one entry conflict with each other by design: compile each choice set separately.
  for (let pick = 0; pick < Math.max(...entries.map((e) => e.choices?.length ?? 0)); pick++) {
    const picked = ['metadata: { name: catalog-all }', 'resources:'];
    entries.forEach((entry) => {
      const choice = entry.choices?.[pick];
      if (choice) picked.push(`  - name: ${JSON.stringify(entry.id)}`, '    type: Policy', `    properties: { id: ${JSON.stringify(entry.id)}, value: ${JSON.stringify(choice.name)} }`);
      else if (pick === 0 && entry.recommended !== undefined) picked.push(`  - name: ${JSON.stringify(entry.id)}`, '    type: Policy', `    properties: { id: ${JSON.stringify(entry.id)}, value: recommended }`);
    });
    const file = join(tempDir(), `catalog-${pick}.ps1`);
    writeFileSync(file, compilePlan(planFromYaml(picked.join('\n'))).text);
    assert.equal(await problems(file), [], `choice set ${pick}`);
  }
});

test('every PowerShell file of the kinds (src/kinds) is printable ASCII, parses and uses nothing newer than Windows PowerShell 5.1', async () => {
  const files = (readdirSync('src/kinds', { recursive: true }) as string[]).filter((f) => f.endsWith('.ps1')).map((f) => join('src/kinds', f));
  assert.ok(files.length >= 10);
  for (const f of files) {
    const text = readFileSync(f);
    assert.ok(!text.some((b) => b > 0x7e || (b < 0x20 && b !== 0x0a && b !== 0x09 && b !== 0x0d)), `${f} is printable ASCII`);
    assert.equal(await problems(f), [], f);
  }
});

test.run();
