# Live audit policy: auditpol /backup to a temporary file read by the offline store's reader;
# changes go back per subcategory GUID with auditpol /set (GUIDs, because names are localized),
# from the same Setting Value rules the offline store writes. Windows only; needs
# audit-backup.ps1 and src/kinds/live.ps1.

function Open-WsLiveAuditBackup {
    <#
    .SYNOPSIS
    Backs up the machine's audit policy (auditpol /backup) and opens the backup as a store.
    Checks elevation first.
    .OUTPUTS
    A store as Open-WsAuditBackup returns it, with Kind 'LiveAuditBackup'.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param()
    Assert-WsElevated -Tool 'auditpol'
    $dir = New-WsWorkDirectory
    $backup = [System.IO.Path]::Combine($dir, 'audit.csv')
    Invoke-WsNativeTool -Tool auditpol -Argument @('/backup', "/file:$backup")
    $store = Open-WsAuditBackup -LiteralPath $backup
    $store.Kind = 'LiveAuditBackup'
    $store.WorkDirectory = $dir
    return $store
}

function Get-WsAuditSetArgument {
    <#
    .SYNOPSIS
    The auditpol /set arguments that give one subcategory the setting the store holds for it.
    .PARAMETER Store
    An audit backup store.
    .PARAMETER Guid
    The subcategory GUID.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Guid
    )
    $s = Get-WsAuditSubcategory -Store $Store -Guid $Guid
    $success = 'disable'
    $failure = 'disable'
    if ($s.Success) { $success = 'enable' }
    if ($s.Failure) { $failure = 'enable' }
    return , [string[]]@('/set', "/subcategory:$($s.Guid)", "/success:$success", "/failure:$failure")
}

function Save-WsLiveAuditBackup {
    <#
    .SYNOPSIS
    Applies each changed subcategory with auditpol /set /subcategory:{GUID}; the others are not touched.
    .PARAMETER Store
    A store from Open-WsLiveAuditBackup.
    .PARAMETER Fence
    The lock the writer holds (Path, Token): checked before the tool changes anything.
    .OUTPUTS
    $true when auditpol ran.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [AllowNull()] [hashtable] $Fence
    )
    if ($Store.Changed.get_Count() -eq 0) { return $false }
    Assert-WsElevated -Tool 'auditpol'
    Assert-WsFence -Fence $Fence
    foreach ($guid in @($Store.Changed.get_Keys())) {
        Invoke-WsNativeTool -Tool auditpol -Argument (Get-WsAuditSetArgument -Store $Store -Guid $guid)
        $Store.Changed.Remove($guid)
    }
    $Store.Dirty = $false
    return $true
}
