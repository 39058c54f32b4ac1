# CimInstance: check-only runtime state (src/kinds/cim-instance/kind.ts). A row names a CIM
# namespace and class and what some of its properties must hold; the state is read with
# Get-CimInstance on the live system. The kind has no store: the engine passes it a stand-in that
# only says whether the run is offline, and then nothing is queried ("not evaluated on a snapshot").
# Set never changes anything and the engine never asks it to (CheckOnly in the kind table).

function Test-WsCimNumber {
    # A CIM number: any integer or floating type (not bool, char, text or date).
    param($Value)
    if ($null -eq $Value) { return $false }
    $code = [int][System.Type]::GetTypeCode($Value.GetType())
    return ($code -ge 5 -and $code -le 15)
}

function Test-WsCimSame {
    # One CIM value against one expected value: numbers by value, text ignoring case, booleans exactly.
    param($Actual, $Expected)
    if ($null -eq $Actual) { return $false }
    if ($Expected -is [bool] -or $Actual -is [bool]) { return ($Actual -is [bool] -and $Expected -is [bool] -and $Actual -eq $Expected) }
    if ((Test-WsCimNumber -Value $Actual) -and (Test-WsCimNumber -Value $Expected)) { return ([decimal]$Actual -eq [decimal]$Expected) }
    return ([string]$Actual -ieq [string]$Expected)
}

function Test-WsCimExpectation {
    <#
    .SYNOPSIS
    Whether a property value meets an expectation: every test given holds (Equals, OneOf, AtLeast,
    AtMost, Contains) and, when AnyOf is given, one of its expectations.
    .PARAMETER Expectation
    The row's Test: a hashtable with any of Equals, OneOf, AtLeast, AtMost, Contains, AnyOf.
    .PARAMETER Value
    The property's value (a list for array properties; $null when the instance has none).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)] $Expectation, [AllowNull()] $Value)
    $isList = ($Value -is [System.Array])
    if ($Expectation.Contains('Equals') -and ($isList -or -not (Test-WsCimSame -Actual $Value -Expected $Expectation.Equals))) { return $false }
    if ($Expectation.Contains('OneOf')) {
        if ($isList) { return $false }
        $found = $false
        foreach ($allowed in $Expectation.OneOf) { if (Test-WsCimSame -Actual $Value -Expected $allowed) { $found = $true; break } }
        if (-not $found) { return $false }
    }
    foreach ($bound in @('AtLeast', 'AtMost')) {
        if (-not $Expectation.Contains($bound)) { continue }
        if ($isList -or -not (Test-WsCimNumber -Value $Value)) { return $false }
        if ($bound -eq 'AtLeast' -and [decimal]$Value -lt [decimal]$Expectation.AtLeast) { return $false }
        if ($bound -eq 'AtMost' -and [decimal]$Value -gt [decimal]$Expectation.AtMost) { return $false }
    }
    if ($Expectation.Contains('Contains')) {
        # A scalar is a list of one; no value holds nothing.
        $items = @()
        if ($null -ne $Value) { $items = @($Value) }
        foreach ($wanted in $Expectation.Contains) {
            $found = $false
            foreach ($item in $items) { if (Test-WsCimSame -Actual $item -Expected $wanted) { $found = $true; break } }
            if (-not $found) { return $false }
        }
    }
    if ($Expectation.Contains('AnyOf')) {
        foreach ($alternative in $Expectation.AnyOf) { if (Test-WsCimExpectation -Expectation $alternative -Value $Value) { return $true } }
        return $false
    }
    return $true
}

function ConvertTo-WsCimViewValue {
    # A property value as JSON carries it: numbers, text and booleans as they are, lists as lists,
    # anything else (a date, an embedded instance) as its text.
    param($Value)
    if ($null -eq $Value) { return $null }
    if ($Value -is [System.Array]) { return , [object[]]@(foreach ($item in $Value) { ConvertTo-WsCimViewValue -Value $item }) }
    if ($Value -is [string] -or $Value -is [bool] -or (Test-WsCimNumber -Value $Value)) { return $Value }
    return [string]$Value
}

function Get-WsCimDesiredView {
    param($Resource)
    $properties = [ordered]@{}
    foreach ($item in $Resource.Expect) { $properties[$item.Property] = $item.View }
    return [ordered]@{ properties = $properties }
}

function Invoke-WsCimQuery {
    <#
    .SYNOPSIS
    The instances of a CIM class, or a clear error when the class cannot be queried here.
    .PARAMETER Namespace
    The namespace, e.g. root\Microsoft\Windows\DeviceGuard.
    .PARAMETER ClassName
    The class, e.g. Win32_DeviceGuard.
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param([Parameter(Mandatory = $true)] [string] $Namespace, [Parameter(Mandatory = $true)] [string] $ClassName)
    if ($null -eq (Get-Command -Name 'Get-CimInstance' -CommandType Cmdlet -ErrorAction SilentlyContinue)) {
        throw ('cannot query {0}:{1}: Get-CimInstance is not available in this PowerShell ({2} {3}); CIM classes can be queried only on Windows' -f $Namespace, $ClassName, $PSVersionTable.PSEdition, $PSVersionTable.PSVersion)
    }
    try {
        return , [object[]]@(Get-CimInstance -Namespace $Namespace -ClassName $ClassName -ErrorAction Stop)
    } catch {
        throw [System.InvalidOperationException]::new(('cannot query {0}:{1}: {2}' -f $Namespace, $ClassName, $_.Exception.Message), $_.Exception)
    }
}

function ConvertTo-WsCimInstanceState {
    <#
    .SYNOPSIS
    Judges the instances a query returned: a property differs unless every instance meets its
    expectation (no instance: every property differs). The view shows the first instance's values.
    .PARAMETER Resource
    A CimInstance row.
    .PARAMETER Instances
    What Get-CimInstance returned (any objects with those properties).
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param([Parameter(Mandatory = $true)] $Resource, [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $Instances)
    $properties = [ordered]@{}
    $differing = [System.Collections.Generic.List[string]]::new()
    foreach ($item in $Resource.Expect) {
        $met = ($Instances.Count -gt 0)
        for ($n = 0; $n -lt $Instances.Count; $n++) {
            $property = $Instances[$n].PSObject.Properties[$item.Property]
            if ($null -eq $property) { throw ('{0}:{1} has no property {2}' -f $Resource.Namespace, $Resource.ClassName, $item.Property) }
            if ($n -eq 0) { $properties[$item.Property] = ConvertTo-WsCimViewValue -Value $property.Value }
            if ($met -and -not (Test-WsCimExpectation -Expectation $item.Test -Value $property.Value)) { $met = $false }
        }
        if (-not $met) { $differing.Add($item.Property) }
    }
    $view = [ordered]@{ ensure = 'Present'; instances = $Instances.Count; properties = $properties }
    if ($Instances.Count -eq 0) { $view = [ordered]@{ ensure = 'Absent'; instances = 0 } }
    return @{ View = $view; Differing = $differing.ToArray(); Desired = (Get-WsCimDesiredView -Resource $Resource); Setting = $null; Recheck = $false }
}

function Get-WsCimInstanceStates {
    <#
    .SYNOPSIS
    The state of CIM resources: each class queried once; every instance must meet every property's
    expectation. Offline: not evaluated, and nothing is queried.
    .PARAMETER Store
    The engine's stand-in for a kind without a store: only Offline is read.
    .PARAMETER Resources
    CimInstance rows (Namespace, ClassName, Expect of Property, Test, View).
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param([Parameter(Mandatory = $true)] [hashtable] $Store, [Parameter(Mandatory = $true)] [object[]] $Resources)
    $out = [object[]]::new($Resources.Count)
    $queried = @{}
    for ($i = 0; $i -lt $Resources.Count; $i++) {
        $resource = $Resources[$i]
        if ($Store.Offline) {
            $out[$i] = @{ View = $null; Differing = [string[]]@(); Desired = (Get-WsCimDesiredView -Resource $resource); Setting = $null; Recheck = $false
                NotEvaluated = ('not evaluated on a snapshot: {0}:{1} is runtime state, queried only on a live target' -f $resource.Namespace, $resource.ClassName) }
            continue
        }
        $key = $resource.Namespace + ':' + $resource.ClassName
        if (-not $queried.ContainsKey($key)) { $queried[$key] = Invoke-WsCimQuery -Namespace $resource.Namespace -ClassName $resource.ClassName }
        $out[$i] = ConvertTo-WsCimInstanceState -Resource $resource -Instances $queried[$key]
    }
    return , $out
}

function Get-WsCimInstanceState {
    <#
    .SYNOPSIS
    The state of one CIM resource (see Get-WsCimInstanceStates).
    .PARAMETER Store
    The engine's stand-in for a kind without a store.
    .PARAMETER Resource
    A CimInstance row.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param([Parameter(Mandatory = $true)] [hashtable] $Store, [Parameter(Mandatory = $true)] [hashtable] $Resource)
    return (Get-WsCimInstanceStates -Store $Store -Resources @($Resource))[0]
}

function Set-WsCimInstanceState {
    <#
    .SYNOPSIS
    Refuses: runtime state is checked, never set (the engine does not call it for a check-only kind).
    .PARAMETER Store
    The engine's stand-in for a kind without a store.
    .PARAMETER Resource
    A CimInstance row.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Store, [Parameter(Mandatory = $true)] [hashtable] $Resource)
    throw ('{0} is check-only: winstate does not change {1}:{2}' -f $Resource.Name, $Resource.Namespace, $Resource.ClassName)
}

function Get-WsCimInstanceBackupEntry {
    <#
    .SYNOPSIS
    Nothing: a check-only resource changes nothing, so it has no prior state to keep.
    .PARAMETER Store
    The engine's stand-in for a kind without a store.
    .PARAMETER Resource
    A CimInstance row.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Store, [Parameter(Mandatory = $true)] [hashtable] $Resource)
    return $null
}

function Get-WsCimInstanceBackupEntries {
    <#
    .SYNOPSIS
    Nothing for each resource (see Get-WsCimInstanceBackupEntry).
    .PARAMETER Store
    The engine's stand-in for a kind without a store.
    .PARAMETER Resources
    CimInstance rows.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Store, [Parameter(Mandatory = $true)] [object[]] $Resources)
    return , [object[]]::new($Resources.Count)
}

function Format-WsCimExpectationText {
    param($Expectation)
    $parts = [System.Collections.Generic.List[string]]::new()
    if ($Expectation.Contains('equals')) { $parts.Add('equals ' + (Format-WsCimWord -Value $Expectation.equals)) }
    if ($Expectation.Contains('oneOf')) { $parts.Add('one of ' + (@(foreach ($v in $Expectation.oneOf) { Format-WsCimWord -Value $v }) -join ', ')) }
    if ($Expectation.Contains('atLeast')) { $parts.Add('at least ' + (Format-WsCimWord -Value $Expectation.atLeast)) }
    if ($Expectation.Contains('atMost')) { $parts.Add('at most ' + (Format-WsCimWord -Value $Expectation.atMost)) }
    if ($Expectation.Contains('contains')) { $parts.Add('contains ' + (@(foreach ($v in $Expectation.contains) { Format-WsCimWord -Value $v }) -join ', ')) }
    if ($Expectation.Contains('anyOf')) { $parts.Add('(' + (@(foreach ($a in $Expectation.anyOf) { Format-WsCimExpectationText -Expectation $a }) -join ' or ') + ')') }
    return ($parts -join ' and ')
}

function Format-WsCimWord {
    # Same as word() in kind.ts: text in JSON quotes, lists in braces, booleans lower case, null.
    param($Value)
    if ($null -eq $Value) { return 'null' }
    if ($Value -is [string]) { return (ConvertTo-WsAsciiJson -InputObject $Value) }
    if ($Value -is [bool]) { if ($Value) { return 'true' } return 'false' }
    if ($Value -is [System.Collections.IList]) { return '{' + (@(foreach ($item in $Value) { Format-WsCimWord -Value $item }) -join ', ') + '}' }
    return [string]$Value
}

function Format-WsCimInstanceStateText {
    <#
    .SYNOPSIS
    A CIM view in words, as cimStateText in kind.ts: "no instance", or each property as
    "Name = value" (actual) or "Name <expectation>" (desired), in ordinal order of their names
    (as JavaScript sorts them), joined by "; ".
    .PARAMETER View
    A desired or actual view.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] [System.Collections.IDictionary] $View)
    if ($null -eq $View) { return '?' }
    if ($View.ensure -eq 'Absent') { return 'no instance' }
    $parts = [System.Collections.Generic.List[string]]::new()
    if ($null -ne $View.properties) {
        $names = [string[]]@($View.properties.Keys)
        [System.Array]::Sort($names, [System.StringComparer]::Ordinal)
        foreach ($name in $names) {
            $value = $View.properties[$name]
            if ($value -is [System.Collections.IDictionary]) { $parts.Add($name + ' ' + (Format-WsCimExpectationText -Expectation $value)) }
            else { $parts.Add($name + ' = ' + (Format-WsCimWord -Value $value)) }
        }
    }
    if ($parts.Count -eq 0) { return 'no property' }
    return ($parts -join '; ')
}
