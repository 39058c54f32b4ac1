# The AuditPolicy kind: success and failure auditing of one advanced audit subcategory, a row of
# the audit backup store (an offline auditpol .csv, or the live auditpol /backup).
# Row columns: Guid ('{...}' upper case), Subcategory (English name), Ensure ('Absent': offline,
# the row goes), Success, Failure ('enabled' | 'disabled' | $null = either). Needs audit-backup.ps1.

function Get-WsAuditPolicyDesiredView {
    <#
    .SYNOPSIS
    The desired view: success and failure as booleans, each only when the row states it.
    .PARAMETER Resource
    A runtime table row of kind AuditPolicy.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] $Resource)
    if ($Resource.Ensure -eq 'Absent') { return [ordered]@{ ensure = 'Absent' } }
    $view = [ordered]@{}
    if ($null -ne $Resource.Success) { $view.success = ($Resource.Success -eq 'enabled') }
    if ($null -ne $Resource.Failure) { $view.failure = ($Resource.Failure -eq 'enabled') }
    return $view
}

function Get-WsAuditPolicyStates {
    <#
    .SYNOPSIS
    The state of every AuditPolicy resource. A subcategory the backup has no row for audits
    nothing (view ensure 'Absent', 'No Auditing').
    .PARAMETER Store
    An audit backup store.
    .PARAMETER Resources
    Runtime table rows of kind AuditPolicy.
    .OUTPUTS
    One @{ View; Differing; Desired; Setting; Recheck } per resource.
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $Resources
    )
    $out = [object[]]::new($Resources.Count)
    for ($i = 0; $i -lt $Resources.Count; $i++) {
        $r = $Resources[$i]
        $row = Get-WsAuditSubcategory -Store $Store -Guid $r.Guid
        $value = 0
        $ensure = 'Absent'
        if ($null -ne $row) { $value = $row.Value; $ensure = 'Present' }
        $success = ($value -band 1) -ne 0
        $failure = ($value -band 2) -ne 0
        $view = [ordered]@{ ensure = $ensure; success = $success; failure = $failure; setting = $script:WsAuditInclusion[$value] }
        $differing = @()
        if ($r.Ensure -eq 'Absent') { if ($null -ne $row) { $differing = @('ensure') } }
        elseif ($null -ne $r.Success -and $success -ne ($r.Success -eq 'enabled')) { $differing += 'success' }
        if ($r.Ensure -ne 'Absent' -and $null -ne $r.Failure -and $failure -ne ($r.Failure -eq 'enabled')) { $differing += 'failure' }
        $out[$i] = @{ View = $view; Differing = [string[]]$differing; Desired = (Get-WsAuditPolicyDesiredView -Resource $r); Setting = ([string]$r.Guid).ToUpperInvariant(); Recheck = $false }
    }
    return , $out
}

function Get-WsAuditPolicyState {
    <#
    .SYNOPSIS
    One AuditPolicy resource's state (see Get-WsAuditPolicyStates).
    .PARAMETER Store
    An audit backup store.
    .PARAMETER Resource
    A runtime table row of kind AuditPolicy.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [hashtable] $Resource
    )
    return (Get-WsAuditPolicyStates -Store $Store -Resources @($Resource))[0]
}

function Set-WsAuditPolicyState {
    <#
    .SYNOPSIS
    Writes the subcategory's Setting Value: the stated flags as desired, an unstated one as it is now.
    .PARAMETER Store
    An audit backup store.
    .PARAMETER Resource
    A runtime table row of kind AuditPolicy.
    .OUTPUTS
    The state after the change.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [hashtable] $Resource
    )
    if ($Resource.Ensure -eq 'Absent') {
        # auditpol has no "not configured" to go back to; only a file loses the row.
        if (-not $Store.Offline) { throw "auditpol cannot remove subcategory $($Resource.Guid) from the live audit policy; give success and failure instead" }
        $null = Remove-WsAuditSubcategory -Store $Store -Guid $Resource.Guid
        return Get-WsAuditPolicyState -Store $Store -Resource $Resource
    }
    $row = Get-WsAuditSubcategory -Store $Store -Guid $Resource.Guid
    $value = 0
    if ($null -ne $row) { $value = $row.Value }
    if ($null -ne $Resource.Success) { if ($Resource.Success -eq 'enabled') { $value = $value -bor 1 } else { $value = $value -band 2 } }
    if ($null -ne $Resource.Failure) { if ($Resource.Failure -eq 'enabled') { $value = $value -bor 2 } else { $value = $value -band 1 } }
    $null = Set-WsAuditSubcategory -Store $Store -Guid $Resource.Guid -Value $value -Name $Resource.Subcategory
    return Get-WsAuditPolicyState -Store $Store -Resource $Resource
}

function Get-WsAuditPolicyBackupEntry {
    <#
    .SYNOPSIS
    The subcategory's Setting Value before the change (0..3; $null: no row).
    .PARAMETER Store
    An audit backup store.
    .PARAMETER Resource
    A runtime table row of kind AuditPolicy.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [hashtable] $Resource
    )
    $row = Get-WsAuditSubcategory -Store $Store -Guid $Resource.Guid
    $value = $null
    if ($null -ne $row) { $value = $row.Value }
    return [ordered]@{ kind = 'AuditPolicy'; resource = $Resource.Name; target = $Resource.Target; guid = $Resource.Guid; subcategory = $Resource.Subcategory; value = $value }
}

function Get-WsAuditPolicyBackupEntries {
    <#
    .SYNOPSIS
    The backup entries of many resources, one per resource (see Get-WsAuditPolicyBackupEntry).
    .PARAMETER Store
    The kind's store.
    .PARAMETER Resources
    Runtime table rows of kind AuditPolicy.
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $Resources
    )
    return , [object[]]@(foreach ($r in $Resources) { Get-WsAuditPolicyBackupEntry -Store $Store -Resource $r })
}

function Format-WsAuditPolicyStateText {
    <#
    .SYNOPSIS
    An audit view in words: auditpol's setting, or for a desired view that states only one flag,
    "includes X" / "excludes X"; the same rules as the AuditPolicy kind's stateText in TypeScript.
    .PARAMETER View
    A desired or actual view.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] [System.Collections.IDictionary] $View)
    if ($null -eq $View) { return '?' }
    if ($View.Contains('ensure') -and $View.ensure -eq 'Absent') { return 'not defined' }
    if ($View.Contains('setting') -and $null -ne $View.setting) { return [string]$View.setting }
    $hasSuccess = $View.Contains('success')
    $hasFailure = $View.Contains('failure')
    if ($hasSuccess -and $hasFailure) {
        $value = 0
        if ($View.success) { $value = $value -bor 1 }
        if ($View.failure) { $value = $value -bor 2 }
        return $script:WsAuditInclusion[$value]
    }
    if ($hasSuccess) { if ($View.success) { return 'includes Success' } return 'excludes Success' }
    if ($hasFailure) { if ($View.failure) { return 'includes Failure' } return 'excludes Failure' }
    return 'any setting'
}
