# The SecurityPolicy kind: the [System Access] security options held by the LSA and SAM, one value of the
# security template store. The rules are template-policy.ps1's, shared with the other template kind.

function Get-WsSecurityPolicyStates {
    <#
    .SYNOPSIS
    The state of every SecurityPolicy resource (see Get-WsTemplatePolicyStates).
    .PARAMETER Store
    A security template store.
    .PARAMETER Resources
    Runtime table rows of kind SecurityPolicy.
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $Resources
    )
    return , (Get-WsTemplatePolicyStates -Store $Store -Resources $Resources)
}

function Get-WsSecurityPolicyState {
    <#
    .SYNOPSIS
    One SecurityPolicy resource's state.
    .PARAMETER Store
    A security template store.
    .PARAMETER Resource
    A runtime table row of kind SecurityPolicy.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] $Resource
    )
    return (Get-WsTemplatePolicyStates -Store $Store -Resources @($Resource))[0]
}

function Set-WsSecurityPolicyState {
    <#
    .SYNOPSIS
    Writes the desired value (see Set-WsTemplatePolicyState).
    .PARAMETER Store
    A security template store.
    .PARAMETER Resource
    A runtime table row of kind SecurityPolicy.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] $Resource
    )
    return Set-WsTemplatePolicyState -Store $Store -Resource $Resource
}

function Get-WsSecurityPolicyBackupEntry {
    <#
    .SYNOPSIS
    The value before the change: { kind, resource, target, section, key, value } ($null: not defined).
    .PARAMETER Store
    A security template store.
    .PARAMETER Resource
    A runtime table row of kind SecurityPolicy.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] $Resource
    )
    return Get-WsTemplatePolicyBackupEntry -Kind 'SecurityPolicy' -Store $Store -Resource $Resource
}

function Get-WsSecurityPolicyBackupEntries {
    <#
    .SYNOPSIS
    The backup entries of many resources, one per resource (see Get-WsSecurityPolicyBackupEntry).
    .PARAMETER Store
    The kind's store.
    .PARAMETER Resources
    Runtime table rows of kind SecurityPolicy.
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $Resources
    )
    return , [object[]]@(foreach ($r in $Resources) { Get-WsSecurityPolicyBackupEntry -Store $Store -Resource $r })
}

function Format-WsSecurityPolicyStateText {
    <#
    .SYNOPSIS
    A SecurityPolicy view in words (see Format-WsTemplatePolicyStateText).
    .PARAMETER View
    A desired or actual view.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] $View)
    return Format-WsTemplatePolicyStateText -View $View
}
