# The AccountPolicy kind: password, lockout and Kerberos policy, one value of the
# security template store. The rules are template-policy.ps1's, shared with the other template kind.

function Get-WsAccountPolicyStates {
    <#
    .SYNOPSIS
    The state of every AccountPolicy resource (see Get-WsTemplatePolicyStates).
    .PARAMETER Store
    A security template store.
    .PARAMETER Resources
    Runtime table rows of kind AccountPolicy.
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $Resources
    )
    return , (Get-WsTemplatePolicyStates -Store $Store -Resources $Resources)
}

function Get-WsAccountPolicyState {
    <#
    .SYNOPSIS
    One AccountPolicy resource's state.
    .PARAMETER Store
    A security template store.
    .PARAMETER Resource
    A runtime table row of kind AccountPolicy.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] $Resource
    )
    return (Get-WsTemplatePolicyStates -Store $Store -Resources @($Resource))[0]
}

function Set-WsAccountPolicyState {
    <#
    .SYNOPSIS
    Writes the desired value (see Set-WsTemplatePolicyState).
    .PARAMETER Store
    A security template store.
    .PARAMETER Resource
    A runtime table row of kind AccountPolicy.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] $Resource
    )
    return Set-WsTemplatePolicyState -Store $Store -Resource $Resource
}

function Get-WsAccountPolicyBackupEntry {
    <#
    .SYNOPSIS
    The value before the change: { kind, resource, target, section, key, value } ($null: not defined).
    .PARAMETER Store
    A security template store.
    .PARAMETER Resource
    A runtime table row of kind AccountPolicy.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] $Resource
    )
    return Get-WsTemplatePolicyBackupEntry -Kind 'AccountPolicy' -Store $Store -Resource $Resource
}

function Get-WsAccountPolicyBackupEntries {
    <#
    .SYNOPSIS
    The backup entries of many resources, one per resource (see Get-WsAccountPolicyBackupEntry).
    .PARAMETER Store
    The kind's store.
    .PARAMETER Resources
    Runtime table rows of kind AccountPolicy.
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $Resources
    )
    return , [object[]]@(foreach ($r in $Resources) { Get-WsAccountPolicyBackupEntry -Store $Store -Resource $r })
}

function Format-WsAccountPolicyStateText {
    <#
    .SYNOPSIS
    A AccountPolicy view in words (see Format-WsTemplatePolicyStateText).
    .PARAMETER View
    A desired or actual view.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] $View)
    return Format-WsTemplatePolicyStateText -View $View
}
