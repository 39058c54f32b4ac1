import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { projectPath } from '../paths.js';
import { VERSION } from '../version.js';

// The runtime and the frame of every script, apart from the compiler: the CLI can then start
// PowerShell and send it the runtime before it loads the modules that read a document.

/**
 * Runtime pieces embedded in every script, in this order (project paths): the engine core, then
 * each store and kind module with the tables it reads. Only the live layers run Windows-only code.
 */
export const RUNTIME_FILES = [
  'src/compile/runtime/core.ps1',
  'src/compile/runtime/safety.ps1',
  'src/kinds/text-file.ps1',
  'src/kinds/live.ps1',
  'src/kinds/registry/registry-live.ps1',
  'src/kinds/registry/registry-snapshot.ps1',
  'src/kinds/registry/registry.ps1',
  'src/kinds/user-right/principals.generated.ps1',
  'src/kinds/user-right/privileges.generated.ps1',
  'src/kinds/user-right/principal.ps1',
  'src/kinds/security-policy/template-keys.generated.ps1',
  'src/kinds/security-policy/security-template.ps1',
  'src/kinds/security-policy/security-template-live.ps1',
  'src/kinds/security-policy/template-policy.ps1',
  'src/kinds/audit-policy/subcategories.generated.ps1',
  'src/kinds/audit-policy/audit-backup.ps1',
  'src/kinds/audit-policy/audit-backup-live.ps1',
  'src/kinds/user-right/user-right.ps1',
  'src/kinds/audit-policy/audit-policy.ps1',
  'src/kinds/applocker/applocker.ps1',
  'src/kinds/cim-instance/cim-instance.ps1',
];

let runtimeText: string | undefined;
/**
 * The runtime region's text: a header line with the winstate version and the SHA-256 of the rest
 * (`# winstate runtime <version> sha256:<hex>`), so a reviewer can tell at once that a script
 * carries the runtime they approved, then the runtime files.
 */
export function runtime(): string {
  if (runtimeText === undefined) {
    const body = RUNTIME_FILES.map((f) => {
      const text = readFileSync(projectPath(...f.split('/')), 'utf8').replace(/\r\n/g, '\n');
      return `# --- runtime: ${f} ---\n${text.trimEnd()}\n`;
    }).join('\n');
    runtimeText = `${runtimeHeader(body)}\n${body}`;
  }
  return runtimeText;
}

/**
 * One function of the runtime as the runtime carries it, for a request that needs that rule but
 * not the whole runtime (the engine's writer probe asks Test-WsElevated).
 */
export function runtimeFunction(name: string): string {
  const text = runtime();
  const start = text.indexOf(`\nfunction ${name} {`);
  const end = start < 0 ? -1 : text.indexOf('\n}\n', start);
  if (end < 0) throw new Error(`the runtime has no function ${name}`);
  return text.slice(start + 1, end + 2);
}

/** The runtime's first line for a runtime body (the text after that line, LF line endings). */
export function runtimeHeader(body: string): string {
  return `# winstate runtime ${VERSION} sha256:${createHash('sha256').update(body, 'utf8').digest('hex')}`;
}

export interface CompiledScript {
  name: string;
  fileName: string;
  text: string;
}

/**
 * The bridge's form of every script: the same parameters, runtime and entry point as a compiled
 * script, with the document and its resource table passed in as data (-Payload, see
 * bridge/clixml.ts). Its text is the same for every document, so a session parses it once.
 */
export function bridgeScript(): CompiledScript {
  bridgeScriptText ??= [
    PARAM_BLOCK.replace(/\n\)$/, ',\n\n    [Parameter(Mandatory = $true)]\n    [string] $Payload\n)'),
    "$ErrorActionPreference = 'Stop'",
    '',
    `#region Runtime (winstate ${VERSION})`,
    runtime(),
    '#endregion',
    '',
    '$WsData = ConvertFrom-WsPayload -Payload $Payload',
    '$WsDocument = $WsData.Document',
    '$WsResources = $WsData.Resources',
    ENTRY_POINT,
  ].join('\n');
  assertAscii(bridgeScriptText);
  return { name: 'winstate-bridge', fileName: 'winstate-bridge.ps1', text: bridgeScriptText };
}
let bridgeScriptText: string | undefined;

// Only -Mode binds by position (`.\script.ps1 Set`); a path given without its name would be
// ambiguous between the three snapshot parameters. Output: text lines, one JSON string, or objects.
export const PARAM_BLOCK = `[CmdletBinding(SupportsShouldProcess = $true, PositionalBinding = $false)]
[OutputType([string], [System.Management.Automation.PSCustomObject])]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Get', 'Test', 'Set')]
    [string] $Mode = 'Test',

    [string] $RegistrySnapshot,

    [string] $SecurityTemplate,

    [string] $AuditBackup,

    [ValidateSet('Text', 'Json', 'Object')]
    [string] $OutputFormat = 'Text',

    [string] $BackupPath,

    [switch] $FailFast,

    [switch] $NoLock,

    [string] $LockToken,

    [string] $LockPath
)`;

export const ENTRY_POINT = `$WsReport = Invoke-WsConfiguration -Document $WsDocument -Resources $WsResources -Mode $Mode -RegistrySnapshot $RegistrySnapshot -Cmdlet $PSCmdlet \`
    -BackupPath $BackupPath -FailFast $FailFast.IsPresent -NoLock $NoLock.IsPresent -LockToken $LockToken -LockFile $LockPath \`
    -SecurityTemplate $SecurityTemplate -AuditBackup $AuditBackup
switch ($OutputFormat) {
    'Json' { ConvertTo-WsAsciiJson -InputObject $WsReport }
    'Object' {
        # Objects, not dictionaries: Select-Object, Format-Table and Export-Csv then see their properties.
        $WsReport.summary = [pscustomobject]$WsReport.summary
        $WsReport.results = @(foreach ($WsResult in $WsReport.results) { [pscustomobject]$WsResult })
        [pscustomobject]$WsReport
    }
    default { Format-WsText -Report $WsReport }
}
# Only a script file sets an exit code; a script block run inside a session must not end it.
if ($MyInvocation.MyCommand.Path) { exit (Get-WsExitCode -Report $WsReport) }
`;

export function assertAscii(text: string): void {
  const bad = text.search(/[^\x09\x0a\x20-\x7e]/);
  if (bad >= 0) throw new Error(`internal error: generated script has a non-ASCII character at offset ${bad}`);
}
