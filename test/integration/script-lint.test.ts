// A PowerShell reviewer's rules, checked with PowerShell's own parser on the runtime every script
// carries and on the committed generated scripts: approved verbs and singular nouns, no aliases,
// no Write-Host or Invoke-Expression, -LiteralPath for paths, nothing Windows PowerShell 5.1 lacks
// (parameters, automatic variables, .NET members) without a fallback, errors that keep their
// cause, the kind contract's functions as advanced functions with help, and the script's own help.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PwshSession } from '../../src/bridge/session.js';
import { ps } from '../../src/compile/quote.js';
import { RUNTIME_FILES } from '../../src/compile/runtime-text.js';
import { runPwshFile, tempDir } from '../helpers.js';
import { KindsShell } from '../kinds-helpers.js';

const session = new PwshSession();
const kinds = new KindsShell();
test.after(async () => {
  await session.close();
  await kinds.close();
});

/**
 * Lints one file; prints one line per finding, `rule: detail at line N`. `-Contract` names the
 * functions the kind and store tables call: those must be advanced functions with help.
 */
const LINT = `
param([string] $Path, [string[]] $Contract, [switch] $Whole)
$tokens = $null; $errors = $null
$ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$tokens, [ref]$errors)
foreach ($e in $errors) { 'parse: {0} at line {1}' -f $e.Message, $e.Extent.StartLineNumber }
$verbs = @{}; foreach ($v in Get-Verb) { $verbs[$v.Verb] = $true }
$aliases = @{}; foreach ($a in Get-Alias) { $aliases[$a.Name] = $a.Definition }
# The kind contract's batched forms (one call per kind: src/kinds/CONTRACT.md).
$pluralAllowed = '^(Get-Ws\\w+States|Get-Ws\\w+BackupEntries)$'
$forbidden = @{ 'Write-Host' = 'data goes to the pipeline'; 'Invoke-Expression' = 'runs text as code' }
$literalPath = @('Get-Content', 'Set-Content', 'Add-Content', 'Clear-Content', 'Test-Path', 'Get-Item', 'Get-ChildItem',
    'Remove-Item', 'Copy-Item', 'Move-Item', 'Rename-Item', 'Resolve-Path', 'Out-File', 'Get-FileHash', 'Import-Csv',
    'Export-Csv', 'Import-Clixml', 'Export-Clixml', 'Get-Acl', 'Set-Acl', 'Get-ItemProperty', 'Set-ItemProperty')
# Parameters these commands have only in PowerShell 6 and later (a splatted hashtable is how to pass one).
$newer = @{ 'ConvertFrom-Json' = @('AsHashtable', 'Depth', 'NoEnumerate', 'DateKind'); 'ConvertTo-Json' = @('EscapeHandling', 'AsArray', 'EnumsAsStrings')
    'Get-Content' = @('AsByteStream'); 'Set-Content' = @('AsByteStream'); 'Add-Content' = @('AsByteStream'); 'Join-Path' = @('AdditionalChildPath')
    'Split-Path' = @('LeafBase', 'Extension'); 'Select-String' = @('Raw', 'NoEmphasis'); 'Get-Date' = @('AsUTC', 'FromUnixTime'); 'Test-Json' = @() }
$coreVariables = @('IsWindows', 'IsLinux', 'IsMacOS', 'IsCoreCLR', 'PSStyle')
# .NET members that exist only on .NET Core / .NET 5+: allowed only where the function checks for them first.
$coreMembers = @('System.Convert::FromHexString', 'System.Convert::ToHexString', 'System.IO.Path::GetRelativePath', 'System.IO.Path::Join',
    'System.IO.Path::TrimEndingDirectorySeparator', 'System.Text.Encoding::Latin1', 'System.Math::Clamp', 'System.Environment::ProcessId',
    'System.Environment::ProcessPath', 'System.Environment::IsPrivilegedProcess', 'System.Random::Shared', 'System.String::Create',
    'System.IO.File::ReadAllTextAsync', 'System.IO.File::WriteAllTextAsync', 'System.IO.File::ReadAllBytesAsync', 'System.IO.File::WriteAllBytesAsync')
$all = $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.FunctionDefinitionAst] -or
        $n -is [System.Management.Automation.Language.CommandAst] -or $n -is [System.Management.Automation.Language.VariableExpressionAst] -or
        $n -is [System.Management.Automation.Language.InvokeMemberExpressionAst] -or $n -is [System.Management.Automation.Language.MemberExpressionAst] -or
        $n -is [System.Management.Automation.Language.ThrowStatementAst] -or
        ($Whole -and $n -is [System.Management.Automation.Language.StringConstantExpressionAst] -and $n.Value -cmatch '^[A-Z][a-z]+-Ws[A-Za-z0-9]+$') }, $true)
$functions = @{}
# Whole script: every function called by name, or named in a table, must exist (a rename missed shows here, not at run time).
$called = [System.Collections.Generic.List[object]]::new()
foreach ($n in $all) {
    $line = $n.Extent.StartLineNumber
    if ($n -is [System.Management.Automation.Language.FunctionDefinitionAst]) {
        $functions[$n.Name] = $n
        $verb, $noun = $n.Name -split '-', 2
        if (-not $verbs.ContainsKey($verb)) { 'verb: {0} does not use an approved verb at line {1}' -f $n.Name, $line }
        if ($noun -notmatch '^Ws[A-Z]') { 'prefix: {0} has no Ws noun prefix at line {1}' -f $n.Name, $line }
        if ($noun -match '[^s]s$' -and $n.Name -notmatch $pluralAllowed) { 'noun: {0} has a plural noun at line {1}' -f $n.Name, $line }
    } elseif ($n -is [System.Management.Automation.Language.CommandAst]) {
        $name = $n.GetCommandName()
        if ($name) { $called.Add($n) }
        # Native stderr redirected: 5.1 makes each line an error record, terminating under 'Stop'.
        $stderr = @($n.Redirections | Where-Object { $_.FromStream -eq 'Error' }).Count -gt 0
        if ($stderr -and ($n.InvocationOperator -eq 'Ampersand' -or $name -like '*.exe')) {
            $function = $n.Parent
            while ($null -ne $function -and $function -isnot [System.Management.Automation.Language.FunctionDefinitionAst]) { $function = $function.Parent }
            if ($null -eq $function -or $function.Extent.Text -notmatch '\\$ErrorActionPreference = ''(Silently)?Continue''') { 'stderr: a native command with redirected stderr needs $ErrorActionPreference = ''Continue'' in its function (Windows PowerShell 5.1 stops at the first stderr line) at line {0}' -f $line }
        }
        if (-not $name) { continue }
        if ($aliases.ContainsKey($name)) { 'alias: {0} (use {1}) at line {2}' -f $name, $aliases[$name], $line }
        if ($forbidden.ContainsKey($name)) { 'forbidden: {0} ({1}) at line {2}' -f $name, $forbidden[$name], $line }
        $parameters = @(foreach ($e in $n.CommandElements) { if ($e -is [System.Management.Automation.Language.CommandParameterAst]) { $e.ParameterName } })
        if ($literalPath -contains $name) {
            $positional = $n.CommandElements.Count -gt 1 -and $n.CommandElements[1] -isnot [System.Management.Automation.Language.CommandParameterAst]
            if ($positional -or $parameters -contains 'Path') { 'path: {0} takes -LiteralPath (a path may hold [ or *) at line {1}' -f $name, $line }
        }
        if ($newer.ContainsKey($name)) {
            foreach ($p in $parameters) { if ($newer[$name] -contains $p) { 'ps51: {0} -{1} does not exist in Windows PowerShell 5.1 at line {2}' -f $name, $p, $line } }
        }
    } elseif ($n -is [System.Management.Automation.Language.VariableExpressionAst]) {
        if ($coreVariables -contains $n.VariablePath.UserPath) { 'ps51: $' + $n.VariablePath.UserPath + (' is not defined in Windows PowerShell 5.1 at line {0}' -f $line) }
    } elseif ($n -is [System.Management.Automation.Language.MemberExpressionAst]) {
        if (-not $n.Static -or $n.Expression -isnot [System.Management.Automation.Language.TypeExpressionAst]) { continue }
        $type = $n.Expression.TypeName.FullName -replace '^(System\\.)?', 'System.'
        $member = '{0}::{1}' -f $type, $n.Member.Extent.Text
        if ($coreMembers -notcontains $member) { continue }
        $function = $n.Parent
        while ($null -ne $function -and $function -isnot [System.Management.Automation.Language.FunctionDefinitionAst]) { $function = $function.Parent }
        if ($null -eq $function -or $function.Extent.Text -notmatch ("GetMethod\\('" + $n.Member.Extent.Text + "'")) { 'ps51: [{0}] is .NET Core only and has no fallback at line {1}' -f $member, $line }
    } elseif ($n -is [System.Management.Automation.Language.StringConstantExpressionAst]) {
        $called.Add($n)
    } elseif ($n -is [System.Management.Automation.Language.ThrowStatementAst]) {
        if ($null -eq $n.Pipeline) { continue }
        $inCatch = $n.Parent
        while ($null -ne $inCatch -and $inCatch -isnot [System.Management.Automation.Language.CatchClauseAst] -and $inCatch -isnot [System.Management.Automation.Language.FunctionDefinitionAst]) { $inCatch = $inCatch.Parent }
        if ($inCatch -isnot [System.Management.Automation.Language.CatchClauseAst]) { continue }
        $thrown = $n.Pipeline.PipelineElements[0].Expression
        while ($thrown -is [System.Management.Automation.Language.ParenExpressionAst]) { $thrown = $thrown.Pipeline.PipelineElements[0].Expression }
        $text = $thrown -is [System.Management.Automation.Language.StringConstantExpressionAst] -or $thrown -is [System.Management.Automation.Language.ExpandableStringExpressionAst] -or
            ($thrown -is [System.Management.Automation.Language.BinaryExpressionAst] -and $thrown.Operator -eq 'Format')
        if ($text) { 'cause: a throw of text in a catch block drops the caught exception (rethrow it, or pass it as the inner exception) at line {0}' -f $line }
    }
}
if ($Whole) {
    # Get-CimInstance is Windows-only (CimCmdlets); the runtime asks for it before calling it.
    $platformOnly = @('Get-CimInstance')
    foreach ($c in $called) {
        $name = if ($c -is [System.Management.Automation.Language.CommandAst]) { $c.GetCommandName() } else { $c.Value }
        if ($functions.ContainsKey($name) -or $platformOnly -contains $name) { continue }
        if ($name -match '-Ws' -or $null -eq (Get-Command -Name $name -CommandType Cmdlet -ErrorAction SilentlyContinue)) { 'unknown: {0} is no function of the script and no cmdlet at line {1}' -f $name, $c.Extent.StartLineNumber }
    }
}
foreach ($name in $Contract) {
    $f = $functions[$name]
    if ($null -eq $f) {
        if ($Whole) { 'contract: {0} is missing' -f $name }
        continue
    }
    $advanced = $null -ne $f.Body.ParamBlock -and @($f.Body.ParamBlock.Attributes | Where-Object { $_.TypeName.Name -eq 'CmdletBinding' }).Count -gt 0
    if (-not $advanced) { 'contract: {0} is not an advanced function ([CmdletBinding()]) at line {1}' -f $name, $f.Extent.StartLineNumber }
    $help = $f.GetHelpContent()
    if ($null -eq $help -or -not $help.Synopsis) { 'contract: {0} has no comment-based help with a synopsis at line {1}' -f $name, $f.Extent.StartLineNumber }
    if ($null -ne $f.Body.ParamBlock) {
        foreach ($p in $f.Body.ParamBlock.Parameters) {
            if (@($p.Attributes | Where-Object { $_ -is [System.Management.Automation.Language.TypeConstraintAst] }).Count -eq 0) { 'contract: {0} -{1} has no type at line {2}' -f $name, $p.Name.VariablePath.UserPath, $p.Extent.StartLineNumber }
        }
    }
}
`;

/** The functions the kind and store tables of core.ps1 name: the interface every kind and store implements. */
function contractFunctions(): string[] {
  const core = readFileSync('src/compile/runtime/core.ps1', 'utf8');
  const nouns = [...core.matchAll(/\bNoun = '(\w+)'/g)].map((m) => m[1]);
  assert.ok(nouns.length >= 6, 'the kind table names its nouns');
  const stores = [...core.matchAll(/\b(?:Open|Save|OpenLive|SaveLive|CloseLive) = '([\w-]+)'/g)].map((m) => m[1]);
  assert.ok(stores.length >= 10, 'the store table names its functions');
  const perKind = nouns.flatMap((n) => [`Get-Ws${n}States`, `Get-Ws${n}State`, `Set-Ws${n}State`, `Get-Ws${n}BackupEntry`, `Get-Ws${n}BackupEntries`, `Format-Ws${n}StateText`]);
  return [...new Set([...perKind, ...stores, 'Open-WsStore', 'Save-WsStore', 'Close-WsStore', 'Get-WsKindModule'])];
}

async function lint(file: string, contract: string[] = [], whole = false): Promise<string[]> {
  const r = await session.invoke(ps`& ([scriptblock]::Create(${LINT})) -Path ${resolve(file)} -Contract ${contract} -Whole:${whole}`);
  assert.ok(r.ok, r.error?.message);
  return r.output.split('\n').map((l) => l.trim()).filter(Boolean);
}

test('the lint finds each thing it looks for (it can fail)', async () => {
  const bad = join(tempDir(), 'bad.ps1');
  writeFileSync(bad, [
    'function Fetch-WsThing { }',
    'function Get-Thing { }',
    'function Get-WsThings { }',
    'function Get-WsNoHelpState { param($Store) }',
    '% { $_ }',
    'Write-Host "x"',
    'Invoke-Expression "1"',
    'Get-Content -Path $p',
    'Test-Path $p',
    'ConvertFrom-Json -InputObject $t -AsHashtable',
    'if ($IsWindows) { }',
    '[System.Convert]::ToHexString($b)',
    '[IO.Path]::GetRelativePath($a, $b)',
    'try { 1 } catch { throw "failed: $($_.Exception.Message)" }',
    "try { 1 } catch { throw ('failed {0}' -f 1) }",
    'function Invoke-WsTool { $out = & $exe @a 2>&1 }',
    'Get-WsRenamedAway -Store $s',
    "$table = @{ Open = 'Open-WsGoneStore' }",
  ].join('\n'));
  const found = await lint(bad, ['Get-WsNoHelpState', 'Get-WsMissingState'], true);
  const expected = [
    'verb: Fetch-WsThing', 'prefix: Get-Thing', 'noun: Get-WsThings', 'alias: %', 'forbidden: Write-Host', 'forbidden: Invoke-Expression',
    'path: Get-Content', 'path: Test-Path', 'ps51: ConvertFrom-Json -AsHashtable', 'ps51: $IsWindows', 'ps51: [System.Convert::ToHexString]',
    'ps51: [System.IO.Path::GetRelativePath]', 'stderr: a native command', 'contract: Get-WsNoHelpState is not an advanced', 'contract: Get-WsNoHelpState has no comment-based help',
    'contract: Get-WsNoHelpState -Store has no type', 'unknown: Get-WsRenamedAway', 'unknown: Open-WsGoneStore', 'contract: Get-WsMissingState is missing',
  ];
  for (const start of expected) assert.ok(found.some((f) => f.startsWith(start)), `expected "${start}" in:\n${found.join('\n')}`);
  assert.is(found.filter((f) => f.startsWith('cause:')).length, 2, found.join('\n'));

  const good = join(tempDir(), 'good.ps1');
  writeFileSync(good, [
    'function Get-WsGoodState {',
    '    <#',
    '    .SYNOPSIS',
    '    A state.',
    '    #>',
    '    [CmdletBinding()]',
    '    param([hashtable] $Store)',
    "    if ($null -ne [System.Convert].GetMethod('FromHexString')) { [System.Convert]::FromHexString('00') }",
    '    try { Get-Content -LiteralPath $p } catch { throw }',
    '    try { 1 } catch { throw [System.InvalidOperationException]::new("failed", $_.Exception) }',
    '    $escaping = @{ EscapeHandling = "EscapeNonAscii" }; ConvertTo-Json -InputObject 1 @escaping',
    "    $ErrorActionPreference = 'Continue'",
    '    $out = & $exe @a 2>&1',
    '}',
  ].join('\n'));
  assert.equal(await lint(good, ['Get-WsGoodState'], true), []);
});

test('the runtime every script carries passes the lint (each file, with the kind contract)', async () => {
  const contract = contractFunctions();
  const findings: string[] = [];
  for (const file of RUNTIME_FILES) for (const f of await lint(file, contract)) findings.push(`${file}: ${f}`);
  assert.equal(findings, []);
});

test('the committed generated scripts pass the lint (one whole; the others carry the same runtime and frame)', async () => {
  const files = readdirSync('generated-ps').filter((f) => f.endsWith('.ps1'));
  assert.ok(files.length > 0);
  // They share one runtime (the header's hash says so) and the same frame around their help and
  // table (tables are data, which ast.test.ts parses in every script): the smallest is linted whole.
  const headers = new Set(files.map((f) => readFileSync(join('generated-ps', f), 'utf8').match(/^# winstate runtime .*$/m)?.[0]));
  assert.is(headers.size, 1, 'every committed script carries the same runtime');
  assert.equal(await lint(join('generated-ps', 'smb-client-signing.ps1'), contractFunctions(), true), []);
});

test('Get-Help on a generated script: synopsis, every parameter described, examples with their explanation, only -Mode by position', async () => {
  const file = resolve('generated-ps', 'windows-server-2016-stig-ms.ps1');
  const r = await session.invoke(ps`
$help = Get-Help -Name ${file} -Full
$lines = @('synopsis=' + $help.Synopsis)
foreach ($p in $help.parameters.parameter) {
    $lines += ('parameter={0} position={1} described={2}' -f $p.name, $p.position, [bool](($p.description | Out-String).Trim()))
}
foreach ($e in $help.examples.example) { $lines += ('example={0} explained={1}' -f $e.code, [bool](($e.remarks | Out-String).Trim())) }
$lines += 'outputs=' + (($help.returnValues | Out-String) -replace '\\s+', ' ').Trim()
$lines -join [char]10
`);
  assert.ok(r.ok, r.error?.message);
  const out = r.output.split('\n').map((l) => l.trim());
  assert.match(out[0], /^synopsis=Keeps the settings of "windows-server-2016-stig-ms" \(\d+ resources\) in their desired state\.$/);
  const parameters = out.filter((l) => l.startsWith('parameter='));
  assert.ok(parameters.length >= 10, parameters.join('\n'));
  for (const p of parameters) {
    const [, name, position, described] = /^parameter=(\w+) position=(\S+) described=(\w+)$/.exec(p)!;
    assert.is(position, name === 'Mode' ? '1' : 'named', p);
    // -WhatIf and -Confirm are PowerShell's own, described by PowerShell's help for them.
    if (!['WhatIf', 'Confirm'].includes(name)) assert.is(described, 'True', p);
  }
  const examples = out.filter((l) => l.startsWith('example='));
  assert.is(examples.length, 3);
  for (const e of examples) assert.match(e, / explained=True$/);
  // The offline example names every file this document's kinds need.
  assert.ok(examples.some((e) => e.includes('-RegistrySnapshot .\\server.reg -SecurityTemplate .\\secedit.inf -AuditBackup .\\audit.csv')), examples.join('\n'));
  assert.match(out.find((l) => l.startsWith('outputs='))!, /System\.String.*PSCustomObject/);
});

test('a runtime error raised in a catch block carries the caught exception as its inner exception', async () => {
  const [found] = await kinds.json<{ message: string; type: string; inner: string }>(ps`
try { $null = ConvertTo-WsSnapshotEntry -Name 'v' -Kind 'DWord' -Data 99999999999 } catch {
    [ordered]@{ message = $_.Exception.Message; type = $_.Exception.GetType().FullName; inner = [string]$_.Exception.InnerException.GetType().FullName }
}`);
  assert.is(found!.message, "Data for value 'v' of kind DWord is out of range: 99999999999");
  assert.is(found!.type, 'System.ArgumentException');
  assert.ok(found!.inner.length > 0, 'the cast failure is kept');
});

test('the native tool call says so when the tool is missing (it no longer stops at the first stderr line, so it must check)', async () => {
  // Off Windows the system directory is empty: the tool is never found.
  const message = await kinds.error(ps`Invoke-WsNativeTool -Tool auditpol -Argument '/get'`);
  assert.match(message, /^auditpol was not found: \S*auditpol\.exe does not exist/);
});

test('Json output and the backup hold plain arrays even where Windows PowerShell 5.1 would show a wrapped array as {"value":..,"Count":..}', () => {
  const dir = tempDir();
  const files = { reg: join(dir, 's.reg'), inf: join(dir, 's.inf'), csv: join(dir, 's.csv'), backup: join(dir, 'backup.json') };
  copyFileSync('test/fixtures/reg/plus3it_sceWin8.reg', files.reg);
  copyFileSync('test/fixtures/secedit/SecurityPolicyDsc_sample.inf', files.inf);
  copyFileSync('test/fixtures/auditpol/AuditPolicyDsc_audit.csv', files.csv);
  // 5.1's types.ps1xml gives System.Array an extended Count: added here, PowerShell 7 serialises
  // an array that went through a PSObject wrapper as 5.1 does.
  const wrapper = join(dir, 'as-51.ps1');
  writeFileSync(wrapper, [
    'param([string] $Script, [string] $Mode)',
    'Update-TypeData -TypeName System.Array -MemberType AliasProperty -MemberName Count -Value Length -Force',
    "$check = ConvertTo-Json -Compress -InputObject @{ a = (Write-Output -NoEnumerate @(1, 2)) }",
    "if ($check -notmatch '\"Count\":2') { throw 'the 5.1 emulation does not wrap arrays' }",
    `& $Script -Mode $Mode -RegistrySnapshot ${files.reg} -SecurityTemplate ${files.inf} -AuditBackup ${files.csv} -BackupPath ${files.backup} -OutputFormat Json -Confirm:$false`,
  ].join('\n'));
  const script = resolve('generated-ps', 'windows-server-2016-stig-ms.ps1');
  for (const mode of ['Test', 'Set']) {
    const r = runPwshFile(wrapper, ['-Script', script, '-Mode', mode]);
    assert.ok(r.stdout.startsWith('{"tool":"winstate"'), `${mode}: ${r.stderr.slice(0, 2000)}`);
    assert.not.match(r.stdout, /"Count":\d/, mode);
    const report = JSON.parse(r.stdout) as { summary: { total: number; changed: number } };
    assert.ok(report.summary.total > 100, mode);
    if (mode === 'Set') assert.ok(report.summary.changed > 0, 'Set changed settings, so it wrote a backup');
  }
  const backup = readFileSync(files.backup, 'utf8');
  assert.ok(JSON.parse(backup).entries.length > 0);
  assert.not.match(backup, /"Count":\d/);
});

test('-OutputFormat Object: the report, its summary and each result are objects the pipeline cmdlets can select and filter', () => {
  const dir = tempDir();
  const reg = join(dir, 's.reg');
  copyFileSync('test/fixtures/reg/plus3it_sceWin8.reg', reg);
  const wrapper = join(dir, 'objects.ps1');
  writeFileSync(wrapper, [
    'param([string] $Script, [string] $Reg)',
    '$report = & $Script -Mode Test -RegistrySnapshot $Reg -OutputFormat Object',
    '$drifted = @($report.results | Where-Object { -not $_.inDesiredState } | Select-Object -Property name, target)',
    '$csv = @($report.results | Select-Object -Property name, inDesiredState | ConvertTo-Csv -NoTypeInformation)',
    "[ordered]@{ report = $report.GetType().Name; summary = $report.summary.GetType().Name; result = $report.results[0].GetType().Name",
    '    total = $report.summary.total; drifted = $drifted.Count; driftedCount = $report.summary.drifted; names = @($drifted | ForEach-Object { $_.name }); csvHeader = $csv[0] } | ConvertTo-Json -Compress',
  ].join('\n'));
  const r = runPwshFile(wrapper, ['-Script', resolve('generated-ps', 'smb-client-signing.ps1'), '-Reg', reg]);
  assert.is(r.stderr, '');
  const out = JSON.parse(r.stdout) as { report: string; summary: string; result: string; total: number; drifted: number; driftedCount: number; names: string[]; csvHeader: string };
  assert.equal([out.report, out.summary, out.result], ['PSCustomObject', 'PSCustomObject', 'PSCustomObject']);
  assert.is(out.total, 2);
  assert.is(out.drifted, out.driftedCount);
  assert.ok(out.drifted > 0 && out.names.every((n) => n.length > 0), r.stdout);
  assert.is(out.csvHeader, '"name","inDesiredState"');
});

test('a generated script requires Windows PowerShell 5.1 or later, on its first line', async () => {
  for (const f of readdirSync('generated-ps').filter((name) => name.endsWith('.ps1'))) {
    assert.is(readFileSync(join('generated-ps', f), 'utf8').split('\n')[0], '#Requires -Version 5.1', f);
  }
  const file = resolve('generated-ps', 'smb-client-signing.ps1');
  const r = await session.invoke(ps`
$tokens = $null; $errors = $null
$ast = [System.Management.Automation.Language.Parser]::ParseFile(${file}, [ref]$tokens, [ref]$errors)
[string]$ast.ScriptRequirements.RequiredPSVersion
`);
  assert.ok(r.ok, r.error?.message);
  assert.is(r.output.trim(), '5.1');
});

test('a generated script binds only -Mode by position', async () => {
  const file = resolve('generated-ps', 'smb-client-signing.ps1');
  const r = await session.invoke(ps`
$command = Get-Command -Name ${file}
$positional = foreach ($p in $command.Parameters.Values) { foreach ($a in $p.Attributes) { if ($a -is [System.Management.Automation.ParameterAttribute] -and $a.Position -ge 0) { $p.Name + '@' + $a.Position } } }
@($positional) -join ','
`);
  assert.ok(r.ok, r.error?.message);
  assert.is(r.output.trim(), 'Mode@0');
});

test.run();
