# Shared by the live layers of the security template and audit backup stores (Windows only).

function Assert-WsElevated {
    <#
    .SYNOPSIS
    Stops with a clear message unless PowerShell runs elevated on Windows: secedit and auditpol
    need an administrator token to read or change policy.
    .PARAMETER Tool
    The tool about to run, named in the message.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [string] $Tool)
    if ([System.Environment]::OSVersion.Platform -ne [System.PlatformID]::Win32NT) {
        throw "$Tool exists only on Windows; give a snapshot file instead"
    }
    if (-not (Test-WsElevated)) {
        throw "$Tool needs an elevated PowerShell (Run as administrator); nothing was read or changed"
    }
}

function Test-WsElevated {
    <#
    .SYNOPSIS
    Whether this PowerShell holds an administrator token (Windows only; call it only there).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param()
    $principal = [System.Security.Principal.WindowsPrincipal]::new([System.Security.Principal.WindowsIdentity]::GetCurrent())
    return $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)
}

function Invoke-WsNativeTool {
    <#
    .SYNOPSIS
    Runs secedit.exe or auditpol.exe from System32 with an argument list (never a command line
    built from text) and throws with its output when it fails.
    .PARAMETER Tool
    'secedit' or 'auditpol'.
    .PARAMETER Argument
    The arguments, one per element.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [ValidateSet('secedit', 'auditpol')] [string] $Tool,
        [Parameter(Mandatory = $true)] [string[]] $Argument
    )
    $exe = [System.IO.Path]::Combine([System.Environment]::SystemDirectory, $Tool + '.exe')
    # Windows PowerShell 5.1 turns each redirected stderr line into an error record, which under
    # the script's 'Stop' ends the call at the first line, before the exit code and the rest are seen.
    $ErrorActionPreference = 'Continue'
    # Under 'Continue' a missing program would only be reported, not stop the call: said here.
    if (-not [System.IO.File]::Exists($exe)) { throw "$Tool was not found: $exe does not exist" }
    $output = (& $exe @Argument 2>&1 | ForEach-Object { [string]$_ }) -join [System.Environment]::NewLine
    if ($LASTEXITCODE -ne 0) { throw "$Tool $($Argument -join ' ') failed (exit code $LASTEXITCODE): $($output.Trim())" }
}

function New-WsWorkDirectory {
    <#
    .SYNOPSIS
    A new private directory under the temp folder for one export or configuration.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()
    $dir = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'winstate-' + [guid]::NewGuid().ToString('N'))
    $null = [System.IO.Directory]::CreateDirectory($dir)
    return $dir
}

function Close-WsLiveStore {
    <#
    .SYNOPSIS
    Deletes a live store's private work directory (the export and any change file); the engine
    calls it when it is done with the store, after it has kept what it needs for backups.
    .PARAMETER Store
    A store from Open-WsLiveSecurityTemplate or Open-WsLiveAuditBackup.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Store)
    $dir = $Store.WorkDirectory
    if ($dir -and [System.IO.Directory]::Exists($dir)) { [System.IO.Directory]::Delete($dir, $true) }
    $Store.WorkDirectory = $null
}
