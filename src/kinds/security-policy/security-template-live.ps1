# Live security policy: secedit exports to a temporary template read by the offline store's
# reader; changes go back through a minimal template (only the changed entries) written by the
# same writer and applied with secedit /configure on a private database. Windows only; needs
# security-template.ps1 and src/kinds/live.ps1.

function Open-WsLiveSecurityTemplate {
    <#
    .SYNOPSIS
    Exports the machine's security policy and user rights (secedit /export /areas SECURITYPOLICY
    USER_RIGHTS) and opens the export as a store. Checks elevation first.
    .OUTPUTS
    A store as Open-WsSecurityTemplate returns it, with Kind 'LiveSecurityTemplate' and WorkDirectory.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param()
    Assert-WsElevated -Tool 'secedit'
    $dir = New-WsWorkDirectory
    $export = [System.IO.Path]::Combine($dir, 'export.inf')
    Invoke-WsNativeTool -Tool secedit -Argument @('/export', '/areas', 'SECURITYPOLICY', 'USER_RIGHTS', '/cfg', $export, '/log', [System.IO.Path]::Combine($dir, 'export.log'), '/quiet')
    $store = Open-WsSecurityTemplate -LiteralPath $export
    $store.Kind = 'LiveSecurityTemplate'
    $store.WorkDirectory = $dir
    return $store
}

function New-WsSecurityTemplateChangeFile {
    <#
    .SYNOPSIS
    The template secedit /configure gets: [Unicode], the changed entries with their new values,
    [Version]; UTF-16LE with a byte order mark and CRLF. A right nobody holds any more is written
    'Right = ' (absent would mean "leave alone").
    .PARAMETER Store
    A store whose Changed list names the entries to apply.
    .PARAMETER LiteralPath
    Where the change file will be written.
    .OUTPUTS
    @{ Template (a store; write it with Save-WsSecurityTemplate); Areas (secedit /areas names) }
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $LiteralPath
    )
    $template = New-WsSecurityTemplate -Path $LiteralPath
    $areas = [System.Collections.Generic.List[string]]::new()
    foreach ($change in $Store.Changed.get_Values()) {
        $value = Get-WsSecurityTemplateEntry -Store $Store -Section $change.Section -Key $change.Key
        if ($change.Section -eq 'Privilege Rights') {
            $area = 'USER_RIGHTS'
            $null = Set-WsPrivilegeRight -Store $template -Right $change.Key -Principal (Get-WsPrivilegeRight -Store $Store -Right $change.Key) -KeepEmpty
        } elseif (@('System Access', 'Event Audit', 'Kerberos Policy', 'Registry Values') -contains $change.Section) {
            $area = 'SECURITYPOLICY'
            if ($null -eq $value) { throw "secedit cannot remove [$($change.Section)] $($change.Key); set a value instead" }
            $null = Set-WsSecurityTemplateEntry -Store $template -Section $change.Section -Key $change.Key -Value $value
        } else {
            throw "secedit /configure does not apply [$($change.Section)] through winstate"
        }
        if (-not $areas.Contains($area)) { $areas.Add($area) }
    }
    return @{ Template = $template; Areas = [string[]]$areas.ToArray() }
}

function Save-WsLiveSecurityTemplate {
    <#
    .SYNOPSIS
    Applies the changed entries with secedit /configure /db <own database> /cfg <change file>
    /areas <only the areas touched>; never /overwrite, so unrelated policy stays as it is.
    .PARAMETER Store
    A store from Open-WsLiveSecurityTemplate.
    .PARAMETER Fence
    The lock the writer holds (Path, Token): checked before the tool changes anything.
    .OUTPUTS
    $true when secedit ran.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [AllowNull()] [hashtable] $Fence
    )
    if ($Store.Changed.get_Count() -eq 0) { return $false }
    Assert-WsElevated -Tool 'secedit'
    Assert-WsFence -Fence $Fence
    $dir = $Store.WorkDirectory
    $change = New-WsSecurityTemplateChangeFile -Store $Store -LiteralPath ([System.IO.Path]::Combine($dir, 'change.inf'))
    $null = Save-WsSecurityTemplate -Store $change.Template
    $arguments = @('/configure', '/db', [System.IO.Path]::Combine($dir, 'winstate.sdb'), '/cfg', $change.Template.Path, '/areas') + $change.Areas + @('/log', [System.IO.Path]::Combine($dir, 'configure.log'), '/quiet')
    try {
        Invoke-WsNativeTool -Tool secedit -Argument $arguments
    } catch {
        throw [System.InvalidOperationException]::new("$($_.Exception.Message) (secedit's log: $([System.IO.Path]::Combine($dir, 'configure.log')))", $_.Exception)
    }
    $Store.Changed.Clear()
    $Store.Dirty = $false
    return $true
}
