# The UserRight kind: which principals hold a privilege or logon right, in [Privilege Rights] of
# the security template store (an offline .inf, or the live export of secedit).
# Row columns: Right, Ensure, Principals (exact list or $null), MustInclude, MustExclude, AllowLockout.
# Needs principal.ps1 and security-template.ps1.

# Rights whose new holders can no longer log on, and rights whose lost holders can no longer log on.
$script:WsDenyLogonRights = @('SeDenyNetworkLogonRight', 'SeDenyRemoteInteractiveLogonRight', 'SeDenyInteractiveLogonRight')
$script:WsAllowLogonRights = @('SeNetworkLogonRight', 'SeRemoteInteractiveLogonRight')

function Get-WsPrincipalKey {
    <#
    .SYNOPSIS
    What makes two principals the same holder: the SID ('*S-...', exact) when the text is a SID or
    a well-known name, else 'name:' and the name in upper case (names ignore case).
    .PARAMETER Name
    A principal as a template or a document writes it.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $Name)
    $p = ConvertTo-WsPrincipal -Name $Name
    if ($p.Ok -and $p.Kind -eq 'sid') { return $p.Sid }
    return 'name:' + $Name.Trim().ToUpperInvariant()
}

function ConvertTo-WsPrincipalKeySet {
    <#
    .SYNOPSIS
    The principals as a set of keys (Get-WsPrincipalKey): order and duplicates do not count.
    .PARAMETER Principal
    The principals.
    #>
    [CmdletBinding()]
    param([AllowNull()] [AllowEmptyCollection()] [string[]] $Principal)
    $set = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::Ordinal)
    foreach ($p in @($Principal)) { if ($null -ne $p) { $null = $set.Add((Get-WsPrincipalKey -Name $p)) } }
    return , $set
}

function Get-WsUserRightDesiredView {
    <#
    .SYNOPSIS
    The desired view of a UserRight row: { principals } or { mustInclude, mustExclude }, or
    { ensure: 'Absent' }.
    .PARAMETER Resource
    A runtime table row of kind UserRight.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] $Resource)
    if ($Resource.Ensure -eq 'Absent') { return [ordered]@{ ensure = 'Absent' } }
    $view = [ordered]@{}
    if ($null -ne $Resource.Principals) { $view.principals = [object[]]@($Resource.Principals) }
    if ($null -ne $Resource.MustInclude) { $view.mustInclude = [object[]]@($Resource.MustInclude) }
    if ($null -ne $Resource.MustExclude) { $view.mustExclude = [object[]]@($Resource.MustExclude) }
    return $view
}

function Get-WsUserRightWanted {
    <#
    .SYNOPSIS
    The list a right should hold given what it holds now: exactly Principals, or the current list
    with MustInclude added (at the end) and MustExclude taken out. Current order is kept.
    .PARAMETER Resource
    A runtime table row of kind UserRight (Ensure Present).
    .PARAMETER Current
    The principals the right holds now, in file order.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param(
        [Parameter(Mandatory = $true)] $Resource,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [string[]] $Current
    )
    $source = $Current
    if ($null -ne $Resource.Principals) { $source = [string[]]@($Resource.Principals) }
    $exclude = ConvertTo-WsPrincipalKeySet -Principal $Resource.MustExclude
    $seen = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::Ordinal)
    $list = [System.Collections.Generic.List[string]]::new()
    foreach ($p in @($source) + @($Resource.MustInclude)) {
        if ($null -eq $p) { continue }
        $key = Get-WsPrincipalKey -Name $p
        if ($exclude.Contains($key) -or -not $seen.Add($key)) { continue }
        $list.Add($p)
    }
    return , [string[]]$list.ToArray()
}

function Get-WsUserRightStates {
    <#
    .SYNOPSIS
    The state of every UserRight resource: who holds the right (file order) and what differs.
    .DESCRIPTION
    Principals compare as sets: SIDs exactly, names ignoring case, a well-known name equal to its
    SID; order and duplicates in the file do not count. A right the template does not define
    holds no one (view ensure 'Absent').
    .PARAMETER Store
    A security template store.
    .PARAMETER Resources
    Runtime table rows of kind UserRight.
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
        $defined = $null -ne (Get-WsSecurityTemplateEntry -Store $Store -Section 'Privilege Rights' -Key $r.Right)
        $current = Get-WsPrivilegeRight -Store $Store -Right $r.Right
        $view = [ordered]@{ ensure = 'Present'; principals = [object[]]$current }
        if (-not $defined) { $view.ensure = 'Absent' }
        $differing = [System.Collections.Generic.List[string]]::new()
        if ($r.Ensure -eq 'Absent') {
            if ($defined) { $differing.Add('ensure') }
        } else {
            $have = ConvertTo-WsPrincipalKeySet -Principal $current
            if ($null -ne $r.Principals) {
                $want = ConvertTo-WsPrincipalKeySet -Principal $r.Principals
                if (-not $have.SetEquals($want)) { $differing.Add('principals') }
            }
            if ($null -ne $r.MustInclude) {
                foreach ($p in $r.MustInclude) { if (-not $have.Contains((Get-WsPrincipalKey -Name $p))) { $differing.Add('mustInclude'); break } }
            }
            if ($null -ne $r.MustExclude) {
                foreach ($p in $r.MustExclude) { if ($have.Contains((Get-WsPrincipalKey -Name $p))) { $differing.Add('mustExclude'); break } }
            }
        }
        $out[$i] = @{
            View = $view; Differing = [string[]]$differing.ToArray(); Desired = (Get-WsUserRightDesiredView -Resource $r)
            Setting = 'Privilege Rights\' + $r.Right.ToLowerInvariant(); Recheck = $false
        }
    }
    return , $out
}

function Get-WsUserRightState {
    <#
    .SYNOPSIS
    One UserRight resource's state (see Get-WsUserRightStates).
    .PARAMETER Store
    A security template store.
    .PARAMETER Resource
    A runtime table row of kind UserRight.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [hashtable] $Resource
    )
    return (Get-WsUserRightStates -Store $Store -Resources @($Resource))[0]
}

function Get-WsCurrentAccountSid {
    <#
    .SYNOPSIS
    The SIDs of the account running this PowerShell and of every group in its token, as
    '*S-...' (Windows only; computed once per session).
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param()
    if ($null -eq $script:WsCurrentAccountSids) {
        $identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
        $sids = [System.Collections.Generic.List[string]]::new()
        $sids.Add('*' + $identity.User.Value)
        foreach ($group in $identity.Groups) { $sids.Add('*' + $group.Value) }
        $script:WsCurrentAccountSids = [string[]]$sids.ToArray()
        $script:WsCurrentAccountName = $identity.Name
    }
    return , $script:WsCurrentAccountSids
}

function Get-WsLockoutRisk {
    <#
    .SYNOPSIS
    The lockout guard's decision: the reason a user right change would lock the running account
    out, or $null when it would not.
    .DESCRIPTION
    A change locks the account out when it adds to a deny-logon right (network, remote desktop,
    local) a principal the account is or belongs to, or removes such a principal from the
    network or remote desktop allow-logon rights. A principal matches by SID (well-known names
    are their SIDs) or, for a plain account name, by the account's own name ignoring case.
    .PARAMETER Right
    The right's constant.
    .PARAMETER Added
    Principals the change gives the right.
    .PARAMETER Removed
    Principals the change takes from the right.
    .PARAMETER AccountSid
    The running account's SIDs ('*S-...'): its user SID and its groups' SIDs.
    .PARAMETER AccountName
    The running account's name (DOMAIN\user), for principals written as names.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [string] $Right,
        [AllowEmptyCollection()] [string[]] $Added = @(),
        [AllowEmptyCollection()] [string[]] $Removed = @(),
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [string[]] $AccountSid,
        [AllowEmptyString()] [string] $AccountName = ''
    )
    $mine = ConvertTo-WsPrincipalKeySet -Principal $AccountSid
    if ($AccountName) { $null = $mine.Add('name:' + $AccountName.Trim().ToUpperInvariant()) }
    $list = @()
    $text = ''
    if ($script:WsDenyLogonRights -contains $Right) {
        $list = $Added
        $text = "lockout guard: adding '{0}' to {1} would deny logon to the account running winstate, which is or belongs to '{0}' (allowLockout: true on the resource allows it)"
    } elseif ($script:WsAllowLogonRights -contains $Right) {
        $list = $Removed
        $text = "lockout guard: removing '{0}' from {1} would take logon away from the account running winstate, which is or belongs to '{0}' (allowLockout: true on the resource allows it)"
    }
    foreach ($p in @($list)) {
        if ($null -ne $p -and $mine.Contains((Get-WsPrincipalKey -Name $p))) { return ($text -f $p, $Right) }
    }
    return $null
}

function Set-WsUserRightState {
    <#
    .SYNOPSIS
    Gives a right exactly the desired principals, or adds MustInclude and takes out MustExclude;
    Ensure Absent removes the right's line (on a live system: the right then holds no one).
    .DESCRIPTION
    On a live store the lockout guard runs first (Get-WsLockoutRisk) unless the row says
    AllowLockout; a refused change throws and changes nothing.
    .PARAMETER Store
    A security template store.
    .PARAMETER Resource
    A runtime table row of kind UserRight.
    .OUTPUTS
    The state after the change.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [hashtable] $Resource
    )
    $current = Get-WsPrivilegeRight -Store $Store -Right $Resource.Right
    $wanted = [string[]]@()
    if ($Resource.Ensure -ne 'Absent') { $wanted = Get-WsUserRightWanted -Resource $Resource -Current $current }
    if (-not $Store.Offline -and -not $Resource.AllowLockout) {
        $have = ConvertTo-WsPrincipalKeySet -Principal $current
        $will = ConvertTo-WsPrincipalKeySet -Principal $wanted
        $added = @(foreach ($p in $wanted) { if (-not $have.Contains((Get-WsPrincipalKey -Name $p))) { $p } })
        $removed = @(foreach ($p in $current) { if (-not $will.Contains((Get-WsPrincipalKey -Name $p))) { $p } })
        $sids = Get-WsCurrentAccountSid
        $risk = Get-WsLockoutRisk -Right $Resource.Right -Added $added -Removed $removed -AccountSid $sids -AccountName $script:WsCurrentAccountName
        if ($null -ne $risk) { throw $risk }
    }
    if ($Resource.Ensure -eq 'Absent') {
        $null = Remove-WsSecurityTemplateEntry -Store $Store -Section 'Privilege Rights' -Key $Resource.Right
    } else {
        # A right emptied keeps its line as "Right = ": in a GPO template a missing line means "not
        # defined" (no longer enforced), and the line's place lets a rollback restore it byte for byte.
        $null = Set-WsPrivilegeRight -Store $Store -Right $Resource.Right -Principal $wanted -KeepEmpty
    }
    return Get-WsUserRightState -Store $Store -Resource $Resource
}

function Get-WsUserRightBackupEntry {
    <#
    .SYNOPSIS
    The right's principals before the change, as the file lists them ($null: not defined).
    .PARAMETER Store
    A security template store.
    .PARAMETER Resource
    A runtime table row of kind UserRight.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [hashtable] $Resource
    )
    $principals = $null
    if ($null -ne (Get-WsSecurityTemplateEntry -Store $Store -Section 'Privilege Rights' -Key $Resource.Right)) {
        $principals = [object[]](Get-WsPrivilegeRight -Store $Store -Right $Resource.Right)
    }
    return [ordered]@{ kind = 'UserRight'; resource = $Resource.Name; target = $Resource.Target; right = $Resource.Right; principals = $principals }
}

function Get-WsUserRightBackupEntries {
    <#
    .SYNOPSIS
    The backup entries of many resources, one per resource (see Get-WsUserRightBackupEntry).
    .PARAMETER Store
    The kind's store.
    .PARAMETER Resources
    Runtime table rows of kind UserRight.
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $Resources
    )
    return , [object[]]@(foreach ($r in $Resources) { Get-WsUserRightBackupEntry -Store $Store -Resource $r })
}

function Format-WsUserRightStateText {
    <#
    .SYNOPSIS
    A UserRight view in words: well-known SIDs by their names, others as written; the same rules
    as the UserRight kind's stateText in TypeScript (test/fixtures/kinds/state-text-cases.json).
    .PARAMETER View
    A desired or actual view.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] [System.Collections.IDictionary] $View)
    if ($null -eq $View) { return '?' }
    if ($View.Contains('ensure') -and $View.ensure -eq 'Absent') { return 'not defined' }
    $names = {
        param($list)
        $ix = Get-WsPrincipalIndex
        $words = @(foreach ($p in @($list)) {
                $sid = $null
                if ([string]$p -match '^\*') { $sid = ConvertTo-WsCanonicalSid -Text ([string]$p) }
                if ($null -ne $sid -and $ix.SidNames.ContainsKey($sid)) { $ix.SidNames[$sid] } else { [string]$p }
            })
        if ($words.Count -eq 0) { return 'no one' }
        return $words -join ', '
    }
    if ($View.Contains('principals')) { return (& $names $View.principals) }
    $parts = @()
    if ($View.Contains('mustInclude')) { $parts += 'includes ' + (& $names $View.mustInclude) }
    if ($View.Contains('mustExclude')) { $parts += 'excludes ' + (& $names $View.mustExclude) }
    return $parts -join '; '
}
