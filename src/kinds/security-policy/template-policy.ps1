# What the AccountPolicy and SecurityPolicy kinds share: one value of [System Access] or
# [Kerberos Policy] in the security template store, read and written through
# Get-/Set-WsSecurityTemplateEntry. Both kinds' module: the kind table names it (Noun
# 'TemplatePolicy') for each, and a backup entry takes its kind from the row.
# Row columns: Section, Key, ValueKind ('integer' | 'boolean' | 'string'), Ensure, Value (int64,
# string or $null: a string judged by its condition only), Condition, ConditionView, Policy.

function ConvertFrom-WsTemplatePolicyText {
    <#
    .SYNOPSIS
    A template value as its kind reads it: integers and booleans as int64 (text that is not a
    number stays text, and then never equals a number), strings unquoted.
    .PARAMETER Text
    The text after '=' (Get-WsSecurityTemplateEntry).
    .PARAMETER ValueKind
    'integer', 'boolean' or 'string'.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $Text,
        [Parameter(Mandatory = $true)] [string] $ValueKind
    )
    if ($ValueKind -eq 'string') { return (ConvertFrom-WsTemplateString -Value $Text) }
    $number = [int64]0
    if ([int64]::TryParse($Text.Trim(), [System.Globalization.NumberStyles]::AllowLeadingSign, [System.Globalization.CultureInfo]::InvariantCulture, [ref]$number)) { return $number }
    return $Text
}

function ConvertTo-WsTemplatePolicyText {
    <#
    .SYNOPSIS
    A desired value as the template holds it: numbers in decimal, strings quoted as secedit writes them.
    .PARAMETER Resource
    A runtime table row of kind AccountPolicy or SecurityPolicy.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)] $Resource)
    if ($null -eq $Resource.Value) { throw 'no value to write: give value (the condition alone says what is accepted, not what to write)' }
    if ($Resource.ValueKind -eq 'string') { return ConvertTo-WsTemplateString -Text ([string]$Resource.Value) }
    return ([int64]$Resource.Value).ToString([System.Globalization.CultureInfo]::InvariantCulture)
}

function Test-WsTemplatePolicyValueEqual {
    <#
    .SYNOPSIS
    Whether two values are the same: numbers as numbers, text exactly (or ignoring case with -IgnoreCase).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()] $Left, [AllowNull()] $Right, [switch] $IgnoreCase)
    if ($null -eq $Left -or $null -eq $Right) { return ($null -eq $Left -and $null -eq $Right) }
    if ($Left -is [string] -or $Right -is [string]) {
        if ($IgnoreCase) { return [string]::Equals([string]$Left, [string]$Right, [System.StringComparison]::OrdinalIgnoreCase) }
        return [string]::Equals([string]$Left, [string]$Right, [System.StringComparison]::Ordinal)
    }
    return ([int64]$Left -eq [int64]$Right)
}

function Get-WsTemplatePolicyStates {
    <#
    .SYNOPSIS
    The state of every AccountPolicy or SecurityPolicy resource: the value and what differs.
    .DESCRIPTION
    With a condition, the value must meet it (Test-WsCondition, the registry's rules plus AnyOf;
    text ignoring case); without, it must equal Value. A key the template lacks is not defined
    (view ensure 'Absent').
    .PARAMETER Store
    A security template store.
    .PARAMETER Resources
    Runtime table rows.
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
        $text = Get-WsSecurityTemplateEntry -Store $Store -Section $r.Section -Key $r.Key
        $value = $null
        if ($null -eq $text) {
            $view = [ordered]@{ ensure = 'Absent' }
        } else {
            $value = ConvertFrom-WsTemplatePolicyText -Text $text -ValueKind $r.ValueKind
            $view = [ordered]@{ ensure = 'Present'; value = $value }
            if ($null -ne $r.Policy -and @($r.Policy.Choices).Count -gt 0) {
                $policyValue = $null
                foreach ($choice in $r.Policy.Choices) {
                    if (Test-WsTemplatePolicyValueEqual -Left $choice.Data -Right $value -IgnoreCase) { $policyValue = $choice.Name; break }
                }
                $view.policyValue = $policyValue
            }
        }
        if ($r.Ensure -eq 'Absent') {
            $desired = [ordered]@{ ensure = 'Absent' }
            $differing = @()
            if ($null -ne $text) { $differing = @('ensure') }
        } else {
            $desired = [ordered]@{}
            if ($null -ne $r.Value) { $desired.value = $r.Value }
            if ($null -ne $r.ConditionView) { $desired.condition = $r.ConditionView }
            if ($null -ne $r.Policy) { $desired.policyValue = $r.Policy.Value }
            if ($null -eq $text) { $differing = @('ensure', 'value') }
            elseif ($null -ne $r.Condition) {
                $meets = $false
                if ($r.ValueKind -eq 'string' -or $value -isnot [string]) { $meets = Test-WsCondition -Condition $r.Condition -Data $value }
                if ($meets) { $differing = @() } else { $differing = @('value') }
            }
            elseif (Test-WsTemplatePolicyValueEqual -Left $value -Right $r.Value) { $differing = @() }
            else { $differing = @('value') }
        }
        $out[$i] = @{ View = $view; Differing = $differing; Desired = $desired; Setting = ($r.Section + '\' + $r.Key).ToLowerInvariant(); Recheck = $false }
    }
    return , $out
}

function Set-WsTemplatePolicyState {
    <#
    .SYNOPSIS
    Writes the desired value (or, with Ensure Absent, removes the key from an offline template;
    secedit cannot undefine a policy, so a live store refuses that).
    .PARAMETER Store
    A security template store.
    .PARAMETER Resource
    A runtime table row of kind AccountPolicy or SecurityPolicy.
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
        if (-not $Store.Offline) { throw "secedit cannot make [$($Resource.Section)] $($Resource.Key) undefined on a live system; give a value instead" }
        $null = Remove-WsSecurityTemplateEntry -Store $Store -Section $Resource.Section -Key $Resource.Key
    } else {
        $null = Set-WsSecurityTemplateEntry -Store $Store -Section $Resource.Section -Key $Resource.Key -Value (ConvertTo-WsTemplatePolicyText -Resource $Resource)
    }
    return (Get-WsTemplatePolicyStates -Store $Store -Resources @($Resource))[0]
}

function Get-WsTemplatePolicyState {
    <#
    .SYNOPSIS
    One AccountPolicy or SecurityPolicy resource's state (see Get-WsTemplatePolicyStates).
    .PARAMETER Store
    A security template store.
    .PARAMETER Resource
    A runtime table row.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [hashtable] $Resource
    )
    return (Get-WsTemplatePolicyStates -Store $Store -Resources @($Resource))[0]
}

function Get-WsTemplatePolicyBackupEntry {
    <#
    .SYNOPSIS
    The key's text after '=' before the change ($null: not defined), under the row's own kind.
    .PARAMETER Store
    A security template store.
    .PARAMETER Resource
    A runtime table row of kind AccountPolicy or SecurityPolicy.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [hashtable] $Resource
    )
    return [ordered]@{
        kind = [string]$Resource.Kind; resource = $Resource.Name; target = $Resource.Target; section = $Resource.Section; key = $Resource.Key
        value = (Get-WsSecurityTemplateEntry -Store $Store -Section $Resource.Section -Key $Resource.Key)
    }
}

function Get-WsTemplatePolicyBackupEntries {
    <#
    .SYNOPSIS
    The backup entries of many resources, one per resource (see Get-WsTemplatePolicyBackupEntry).
    .PARAMETER Store
    A security template store.
    .PARAMETER Resources
    Runtime table rows of kind AccountPolicy or SecurityPolicy.
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $Resources
    )
    return , [object[]]@(foreach ($r in $Resources) { Get-WsTemplatePolicyBackupEntry -Store $Store -Resource $r })
}

function Format-WsTemplatePolicyStateText {
    <#
    .SYNOPSIS
    A policy view in words: its choice name when it has one, else numbers as digits and text in
    JSON quotes; the same rules as the kinds' stateText in TypeScript.
    .PARAMETER View
    A desired or actual view.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] [System.Collections.IDictionary] $View)
    if ($null -eq $View) { return '?' }
    if ($View.Contains('ensure') -and $View.ensure -eq 'Absent') { return 'not defined' }
    $raw = $null
    if ($View.Contains('value') -and $null -ne $View.value) {
        if ($View.value -is [string]) { $raw = ConvertTo-WsAsciiJson -InputObject $View.value }
        else { $raw = ([int64]$View.value).ToString([System.Globalization.CultureInfo]::InvariantCulture) }
    }
    if ($View.Contains('policyValue')) {
        if ($null -ne $View.policyValue) { return [string]$View.policyValue }
        if ($null -ne $raw) { return ('not a defined choice ({0})' -f $raw) }
        return 'not a defined choice'
    }
    if ($null -eq $raw) { return 'any value' }
    return $raw
}
