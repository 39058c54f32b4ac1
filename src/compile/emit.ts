import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { projectPath } from '../paths.js';
import type { PlannedResource, Plan } from '../document/validate.js';
import { unitOf } from '../kinds/index.js';
import { settingInfo } from '../kinds/info.js';
import { ps, psCommentText, psIdentifier, psJoin, PsCode } from './quote.js';
import { VERSION } from '../version.js';
import { toClixml } from '../bridge/clixml.js';
import { releaseGarbage } from '../bridge/memory.js';

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
  'src/kinds/account-policy/account-policy.ps1',
  'src/kinds/security-policy/security-policy.ps1',
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

/** The runtime's first line for a runtime body (the text after that line, LF line endings). */
export function runtimeHeader(body: string): string {
  return `# winstate runtime ${VERSION} sha256:${createHash('sha256').update(body, 'utf8').digest('hex')}`;
}

export interface CompiledScript {
  name: string;
  fileName: string;
  text: string;
}

/** Plan -> one standalone, deterministic, ASCII-only .ps1 for Windows PowerShell 5.1 and PowerShell 7. */
export function compilePlan(plan: Plan): CompiledScript {
  const text = [
    helpBlock(plan),
    PARAM_BLOCK,
    "$ErrorActionPreference = 'Stop'",
    '',
    ps`$WsDocument = ${documentFields(plan)}`.text,
    '',
    '#region Resources: one table row per setting; the runtime below interprets them.',
    '$WsResources = @(',
    psJoin(plan.resources.map(resourceRow), ',\n').text,
    ')',
    '#endregion',
    '',
    `#region Runtime (winstate ${VERSION})`,
    runtime(),
    '#endregion',
    '',
    ENTRY_POINT,
  ].join('\n');
  assertAscii(text);
  return { name: plan.name, fileName: `${plan.name}.ps1`, text };
}

function documentFields(plan: Plan): Record<string, unknown> {
  return { Name: plan.name, WinstateVersion: VERSION };
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

/** The document and its resources as the bridge sends them (-Payload of bridgeScript). */
export function bridgePayload(plan: Plan): string {
  // A large plan comes straight from a large parse: its garbage goes before the payload is built.
  if (plan.resources.length >= 1000) releaseGarbage();
  return toClixml({ Document: documentFields(plan), Resources: plan.resources.map(resourceFields) });
}

function helpBlock(plan: Plan): string {
  const c = psCommentText;
  const lines = [
    '<#',
    '.SYNOPSIS',
    `    Keeps the settings of "${c(plan.name)}" (${plan.resources.length} resources) in their desired state.`,
    '.DESCRIPTION',
    // A fixed prefix: a help line of user text starting with '.' would read as a help keyword.
    ...(plan.description ? [`    Document: ${c(plan.description)}`, ''] : []),
    `    Generated by winstate ${VERSION} from ${c(basename(plan.file))}. Do not edit: change the`,
    '    document and compile again. Reads and writes the registry through .NET (64-bit view), user',
    '    rights and security policy through secedit, audit policy through auditpol; or, offline, the',
    '    files given with -RegistrySnapshot, -SecurityTemplate and -AuditBackup (one given: every',
    '    setting is read from its file). Runs on Windows PowerShell 5.1 and PowerShell 7.',
    '.PARAMETER Mode',
    '    Get reports current values. Test compares them with the desired state. Set changes what differs',
    '    (honours -WhatIf and -Confirm).',
    '.PARAMETER RegistrySnapshot',
    '    Path of a regedit export (.reg) to use instead of the live registry. Set rewrites it atomically.',
    '.PARAMETER SecurityTemplate',
    '    Path of a secedit export or GPO security template (.inf) to use instead of the live user rights',
    '    and security policy. Set rewrites it atomically, changing only the lines of changed settings.',
    '.PARAMETER AuditBackup',
    '    Path of an auditpol backup (.csv) to use instead of the live audit policy. Set rewrites it',
    '    atomically, changing only the rows of changed subcategories.',
    '.PARAMETER OutputFormat',
    '    Text (default) for people, Json for machines, Object for the PowerShell pipeline.',
    '.PARAMETER BackupPath',
    '    Set writes the prior state of everything it will change to this JSON file before the first',
    '    change (default: a new file under $env:WINSTATE_STATE_DIR, %ProgramData%\\winstate or',
    '    ~/.local/state/winstate, in backups\\), and a journal of applied changes beside it.',
    '    `winstate rollback --backup <file>` restores from it.',
    '.PARAMETER FailFast',
    '    Stop at the first setting that fails; by default the others still run.',
    '.PARAMETER NoLock',
    '    Do not take the target lock. Only for callers that already hold it.',
    '.PARAMETER LockToken',
    '    The token of a target lock the caller (the winstate CLI) took for this process; every save',
    '    checks that the lock still carries it, and saves nothing otherwise.',
    '.PARAMETER LockPath',
    '    With -LockToken: the lock file the caller took (default: the one this script would use).',
    '.EXAMPLE',
    `    .\\${c(plan.name)}.ps1 -Mode Test`,
    '.EXAMPLE',
    `    .\\${c(plan.name)}.ps1 -Mode Set -WhatIf`,
    '.EXAMPLE',
    `    .\\${c(plan.name)}.ps1 -Mode Test -RegistrySnapshot .\\server.reg -OutputFormat Json`,
    '.NOTES',
    '    Exit codes when run as a script file: 0 in desired state, 2 drift found (Test) or not',
    '    converged (Set), 1 a setting or the run failed, 4 Set changed some settings but others',
    '    failed or were skipped (see the backup to roll back).',
    '#>',
  ];
  return lines.join('\n');
}

const PARAM_BLOCK = `[CmdletBinding(SupportsShouldProcess = $true)]
param(
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

const ENTRY_POINT = `$WsReport = Invoke-WsConfiguration -Document $WsDocument -Resources $WsResources -Mode $Mode -RegistrySnapshot $RegistrySnapshot -Cmdlet $PSCmdlet \`
    -BackupPath $BackupPath -FailFast $FailFast.IsPresent -NoLock $NoLock.IsPresent -LockToken $LockToken -LockFile $LockPath \`
    -SecurityTemplate $SecurityTemplate -AuditBackup $AuditBackup
switch ($OutputFormat) {
    'Json' { ConvertTo-WsAsciiJson -InputObject $WsReport }
    'Object' { [pscustomobject]$WsReport }
    default { Format-WsText -Report $WsReport }
}
# Only a script file sets an exit code; a script block run inside a session must not end it.
if ($MyInvocation.MyCommand.Path) { exit (Get-WsExitCode -Report $WsReport) }
`;

function resourceRow(r: PlannedResource, i: number): PsCode {
  const { policy } = r;
  const unit = unitOf(r.kind);
  const info = settingInfo(r);
  const references = referencesText(info.references);
  const comments = [
    `# ${'-'.repeat(94)}`,
    `# [${i + 1}] ${r.name} (${r.type}, line ${r.line})`,
    ...(r.description ? [`#     ${r.description}`] : []),
    ...(policy ? [`#     Policy:     ${policy.title} = ${policy.value}`] : info.title ? [`#     Title:      ${info.title}`] : []),
    ...(info.gpoPath ? [`#     GPO path:   ${info.gpoPath}`] : []),
    ...(info.severity ? [`#     Severity:   ${info.severity}`] : []),
    ...unit.commentLines(r).map((line) => `#     ${line}`),
    ...(info.rationale ? wrap('Rationale:  ', info.rationale) : []),
    ...(info.impact ? wrap('Impact:     ', info.impact) : []),
    ...(references ? wrap('References: ', references) : []),
    ...(r.waiver ? wrap('Waiver:     ', `until ${r.waiver.expires}${r.waiver.override ? ', enforcing an override' : ', skipped'}${r.waiver.approvedBy ? `, approved by ${r.waiver.approvedBy}` : ''}: ${r.waiver.justification}`) : []),
  ].map((line) => `    ${psCommentText(line)}`);
  const body = Object.entries(resourceFields(r))
    .map(([k, v]) => `        ${ps`${psIdentifier(k)} = ${v}`.text}`)
    .join('\n');
  return new PsCode(`${comments.join('\n')}\n    @{\n${body}\n    }`);
}

/** One row of the resource table as data: what the script's table literal and the bridge's payload both hold. */
export function resourceFields(r: PlannedResource): Record<string, unknown> {
  const unit = unitOf(r.kind);
  const fields: Record<string, unknown> = {
    Name: r.name,
    Type: r.type,
    Kind: r.kind,
    Id: r.entry?.id ?? null,
    Target: r.target,
    ...unit.row(r),
  };
  if (r.waiver) {
    // Judged by the runtime against the day it runs, so a script compiled earlier still honours the expiry.
    fields.Waiver = {
      Justification: r.waiver.justification,
      Expires: r.waiver.expires,
      ApprovedBy: r.waiver.approvedBy ?? null,
      Override: r.waiver.override ? unit.desiredColumns(r.waiver.override.spec, r.waiver.override.policy) : null,
    };
  }
  return fields;
}

function referencesText(refs: { stig?: string[]; cis?: string[]; oval?: string[]; cce?: string[] }): string {
  const parts: string[] = [];
  if (refs.stig?.length) parts.push(`STIG ${refs.stig.join(', ')}`);
  if (refs.cis?.length) parts.push(`CIS ${refs.cis.join(', ')}`);
  if (refs.cce?.length) parts.push(refs.cce.join(', '));
  if (refs.oval?.length) parts.push(`OVAL ${refs.oval.join(', ')}`);
  return parts.join('; ');
}

/** Wraps prose into comment lines of about 100 characters. */
function wrap(label: string, text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > 86) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.map((l, i) => `#     ${i === 0 ? label : ' '.repeat(label.length)}${l}`);
}

function assertAscii(text: string): void {
  const bad = text.search(/[^\x09\x0a\x20-\x7e]/);
  if (bad >= 0) throw new Error(`internal error: generated script has a non-ASCII character at offset ${bad}`);
}
