# The Registry kind: registry values and keys, on the live registry (registry-live.ps1) or a
# regedit export (registry-snapshot.ps1). Both stores carry an Ops table naming their functions,
# so nothing here asks which store it has.
# Row columns: Hive, SubKey, ValueName ($null = the key itself), Ensure, ValueType, ValueData,
# WireData, TypeCode (raw form), Condition, ConditionView, AbsentOk, Policy, OnlyIfEmpty.

# Registry type code of each typed value kind (what a typed write stores).
$script:WsRegistryTypeCodes = @{ String = 1; ExpandString = 2; Binary = 3; DWord = 4; MultiString = 7; QWord = 11 }

function ConvertTo-WsRegistryStateView {
    <#
    .SYNOPSIS
    Turns store states (one per resource) into the engine's states: View, Differing, Desired,
    Setting (what two resources share when they name the same value; $null for a key, which
    touches everything below it) and Recheck (a key to remove once empty, judged again at set).
    .DESCRIPTION
    One loop without helper calls for the common kinds: at 300 resources each PowerShell
    function call per resource costs about 10 ms.
    .PARAMETER Store
    The registry store the states came from.
    .PARAMETER Resources
    Runtime table rows.
    .PARAMETER States
    Store states: @{ KeyExists; ValueExists; Kind; TypeCode; Data; Bytes }, one per resource.
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $Resources,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $States
    )
    $out = [object[]]::new($Resources.Count)
    for ($i = 0; $i -lt $Resources.Count; $i++) {
        $Resource = $Resources[$i]
        $state = $States[$i]
        $desired = [ordered]@{ ensure = $Resource.Ensure }
        if ($null -ne $Resource.ValueName -and $Resource.Ensure -eq 'Present') {
            $desired.valueType = $Resource.ValueType
            $desired.valueData = $Resource.WireData
            if ($null -ne $Resource.TypeCode) { $desired.typeCode = $Resource.TypeCode }
            if ($null -ne $Resource.ConditionView) { $desired.condition = $Resource.ConditionView }
            if ($Resource.AbsentOk) { $desired.absentOk = $true }
        }
        if ($null -ne $Resource.Policy) { $desired.policyValue = $Resource.Policy.Value }
        if ($null -eq $Resource.ValueName) {
            $present = $state.KeyExists
            $view = [ordered]@{ ensure = 'Absent' }
            if ($present) { $view.ensure = 'Present' }
            $differing = @()
            if ($present -ne ($Resource.Ensure -eq 'Present')) { $differing = @('ensure') }
            # OnlyIfEmpty (rollback of keys a run created): a key that holds something now is left alone.
            if ($present -and $Resource.OnlyIfEmpty -and -not (& $Store.Ops.KeyEmpty -Store $Store -Hive $Resource.Hive -SubKey $Resource.SubKey)) { $differing = @() }
            $out[$i] = @{ View = $view; Differing = $differing; Desired = $desired; Setting = $null; Recheck = [bool]$Resource.OnlyIfEmpty }
            continue
        }
        $kind = $state.Kind
        $data = $state.Data
        $equal = $false
        if (-not $state.ValueExists) {
            $view = [ordered]@{ ensure = 'Absent' }
        } else {
            $shownKind = $kind
            if ($kind -eq 'Raw') { $shownKind = 'Raw' + $state.TypeCode }
            if ($kind -eq 'DWord') { $wire = [uint32]$data }
            elseif ($kind -eq 'String') { $wire = $data }
            else { $wire = ConvertTo-WsWireData -Kind $kind -Data $data }
            $view = [ordered]@{ ensure = 'Present'; valueType = $shownKind; valueData = $wire }
            if ($kind -eq $Resource.ValueType) {
                if ($kind -eq 'DWord') { $equal = ([uint32]$data -eq [uint32]$Resource.ValueData) }
                else { $equal = Test-WsDataEqual -Kind $kind -Left $data -Right $Resource.ValueData }
            }
        }
        # Only a setting with named choices has a word for its data; text and numbers speak for themselves.
        if ($null -ne $Resource.Policy -and @($Resource.Policy.Choices).Count -gt 0) {
            $policyValue = $null
            if ($state.ValueExists -and $kind -eq $Resource.ValueType) {
                foreach ($choice in $Resource.Policy.Choices) {
                    if ($kind -eq 'DWord') { $same = ([uint32]$choice.Data -eq [uint32]$data) }
                    else { $same = Test-WsDataEqual -Kind $kind -Left $choice.Data -Right $data }
                    if ($same) { $policyValue = $choice.Name; break }
                }
            }
            $view.policyValue = $policyValue
        }
        if ($Resource.Ensure -eq 'Absent') {
            $differing = @()
            if ($state.ValueExists) { $differing = @('ensure') }
        } elseif (-not $state.ValueExists) {
            if ($Resource.AbsentOk) { $differing = @() } else { $differing = @('ensure', 'valueType', 'valueData') }
        }
        elseif ($null -ne $Resource.TypeCode) {
            # Raw form: the same type code and the same bytes.
            $differing = @('valueType', 'valueData')
            if ([int64]$state.TypeCode -eq [int64]$Resource.TypeCode -and
                (ConvertTo-WsHex -Bytes (ConvertTo-WsRawValue -Kind $kind -Data $data -Bytes $state.Bytes)) -ceq (ConvertTo-WsHex -Bytes $Resource.ValueData)) { $differing = @() }
        }
        elseif ($kind -ne $Resource.ValueType) { $differing = @('valueType', 'valueData') }
        elseif ($null -ne $Resource.Condition) {
            if (Test-WsCondition -Condition $Resource.Condition -Data $data) { $differing = @() } else { $differing = @('valueData') }
        }
        elseif (-not $equal) { $differing = @('valueData') }
        else { $differing = @() }
        $setting = $Resource.Hive + '\' + $Resource.SubKey.Trim([char]'\') + '!' + $Resource.ValueName
        $out[$i] = @{ View = $view; Differing = $differing; Desired = $desired; Setting = $setting; Recheck = $false }
    }
    return , $out
}

function Get-WsRegistryStates {
    <#
    .SYNOPSIS
    The state of every resource, read from the store in one call.
    .PARAMETER Store
    A registry store (Open-WsStore -Name Registry).
    .PARAMETER Resources
    Runtime table rows of kind Registry.
    .OUTPUTS
    One @{ View; Differing; Desired; Setting; Recheck } per resource.
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $Resources
    )
    $states = & $Store.Ops.States -Store $Store -Resources $Resources
    return , (ConvertTo-WsRegistryStateView -Store $Store -Resources $Resources -States $states)
}

function Get-WsRegistryState {
    <#
    .SYNOPSIS
    One resource's state (see Get-WsRegistryStates).
    .PARAMETER Store
    A registry store.
    .PARAMETER Resource
    A runtime table row of kind Registry.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [hashtable] $Resource
    )
    return (Get-WsRegistryStates -Store $Store -Resources @($Resource))[0]
}

function Set-WsRegistryState {
    <#
    .SYNOPSIS
    Moves one resource to its desired state in the store (the engine has asked ShouldProcess).
    .OUTPUTS
    The state after the change, stated from what was written (no read back), except for a value
    written from raw bytes, which is read again.
    .PARAMETER Store
    A registry store.
    .PARAMETER Resource
    A runtime table row of kind Registry.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [hashtable] $Resource
    )
    $ops = $Store.Ops
    $common = @{ Store = $Store; Hive = $Resource.Hive; SubKey = $Resource.SubKey }
    if ($null -eq $Resource.ValueName) {
        if ($Resource.Ensure -eq 'Present') {
            & $ops.NewKey @common
            $after = @{ KeyExists = $true; ValueExists = $false }
        } else {
            & $ops.RemoveKey @common
            $after = @{ KeyExists = $false; ValueExists = $false }
        }
    } else {
        $common.ValueName = $Resource.ValueName
        if ($Resource.Ensure -ne 'Present') {
            & $ops.RemoveValue @common
            $after = @{ KeyExists = $true; ValueExists = $false }
        } elseif ($null -ne $Resource.TypeCode) {
            # Raw form: exact bytes with their type code (rollback of any value); read back, since
            # the store decides how it decodes them.
            & $ops.SetRawValue @common -TypeCode ([int]$Resource.TypeCode) -Bytes $Resource.ValueData
            return Get-WsRegistryState -Store $Store -Resource $Resource
        } else {
            & $ops.SetRowValue -Store $Store -Resource $Resource
            $after = @{ KeyExists = $true; ValueExists = $true; Kind = $Resource.ValueType; TypeCode = $script:WsRegistryTypeCodes[$Resource.ValueType]; Data = $Resource.ValueData; Bytes = $null }
        }
    }
    return (ConvertTo-WsRegistryStateView -Store $Store -Resources @($Resource) -States @($after))[0]
}

function Get-WsRegistryBackupEntry {
    <#
    .SYNOPSIS
    Everything Set may change for one resource: the value (or its absence), whether the key
    existed, which keys Set will create, and for a key it removes, the whole tree below it.
    .PARAMETER Store
    A registry store.
    .PARAMETER Resource
    A runtime table row of kind Registry.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [hashtable] $Resource
    )
    $ops = $Store.Ops
    $state = (& $ops.States -Store $Store -Resources @(@{ Hive = $Resource.Hive; SubKey = $Resource.SubKey; ValueName = $Resource.ValueName }))[0]
    $entry = [ordered]@{
        kind = 'Registry'; resource = $Resource.Name; target = $Resource.Target; hive = $Resource.Hive; subKey = $Resource.SubKey
        valueName = $Resource.ValueName; keyExisted = [bool]$state.KeyExists
    }
    if ($null -ne $Resource.ValueName) {
        $value = [ordered]@{ exists = [bool]$state.ValueExists }
        if ($state.ValueExists) {
            $value.valueType = $state.Kind
            $value.typeCode = $state.TypeCode
            $value.valueData = ConvertTo-WsWireData -Kind $state.Kind -Data $state.Data
            Add-WsRawData -Value $value -Kind $state.Kind -Data $state.Data -Bytes $state.Bytes
        }
        $entry.value = $value
    }
    if ($Resource.Ensure -eq 'Present' -and -not $state.KeyExists) {
        $created = [System.Collections.Generic.List[string]]::new()
        $path = $Resource.SubKey
        while ($path.Length -gt 0 -and -not (& $ops.States -Store $Store -Resources @(@{ Hive = $Resource.Hive; SubKey = $path; ValueName = $null }))[0].KeyExists) {
            $created.Insert(0, $path)
            $cut = $path.LastIndexOf([char]'\')
            if ($cut -lt 0) { break }
            $path = $path.Substring(0, $cut)
        }
        $entry.createdKeys = $created.ToArray()
    }
    if ($null -eq $Resource.ValueName -and $Resource.Ensure -eq 'Absent' -and $state.KeyExists) {
        $tree = & $ops.Tree -Store $Store -Hive $Resource.Hive -SubKey $Resource.SubKey
        $entry.removedTree = @(foreach ($key in $tree) {
                [ordered]@{ subKey = $key.SubKey; values = @(foreach ($v in $key.Values) { Get-WsWireValue -Name $v.Name -Kind $v.Kind -TypeCode $v.TypeCode -Data $v.Data -Bytes $v.Bytes }) }
            })
    }
    return $entry
}

function Get-WsRegistryBackupEntries {
    <#
    .SYNOPSIS
    The backup entries of many resources (see Get-WsRegistryBackupEntry), their values read in
    one store call; a key the change creates or removes takes the single form.
    .PARAMETER Store
    A registry store.
    .PARAMETER Resources
    Runtime table rows of kind Registry.
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $Resources
    )
    $states = & $Store.Ops.States -Store $Store -Resources $Resources
    $out = [object[]]::new($Resources.Count)
    for ($i = 0; $i -lt $Resources.Count; $i++) {
        $r = $Resources[$i]
        $state = $states[$i]
        if ($null -eq $r.ValueName -or -not $state.KeyExists) {
            $out[$i] = Get-WsRegistryBackupEntry -Store $Store -Resource $r
            continue
        }
        $value = [ordered]@{ exists = [bool]$state.ValueExists }
        if ($state.ValueExists) {
            $value.valueType = $state.Kind
            $value.typeCode = $state.TypeCode
            if ($state.Kind -eq 'DWord') { $value.valueData = [uint32]$state.Data }
            else { $value.valueData = ConvertTo-WsWireData -Kind $state.Kind -Data $state.Data }
            Add-WsRawData -Value $value -Kind $state.Kind -Data $state.Data -Bytes $state.Bytes
        }
        $out[$i] = [ordered]@{
            kind = 'Registry'; resource = $r.Name; target = $r.Target; hive = $r.Hive; subKey = $r.SubKey
            valueName = $r.ValueName; keyExisted = $true; value = $value
        }
    }
    return , $out
}

function Format-WsRegistryStateText {
    <#
    .SYNOPSIS
    A registry view in words: the policy's choice when it has one, else type and data; the same
    rules as the Registry kind's stateText in TypeScript.
    .PARAMETER View
    A desired or actual view.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] [System.Collections.IDictionary] $View)
    if ($null -eq $View) { return '?' }
    if ($View.ensure -eq 'Absent') { return 'absent' }
    $raw = ''
    if ($View.Contains('valueType')) { $raw = '{0} {1}' -f $View.valueType, (ConvertTo-WsAsciiJson -InputObject $View.valueData) }
    if ($View.Contains('policyValue')) {
        if ($null -eq $View.policyValue) {
            if ($raw) { return ('not a defined choice ({0})' -f $raw) }
            return 'not a defined choice'
        }
        return [string]$View.policyValue
    }
    if (-not $raw) { return 'present' }
    return $raw
}

function ConvertTo-WsHex {
    param([byte[]] $Bytes)
    if ($null -eq $Bytes -or $Bytes.Length -eq 0) { return '' }
    return ([System.BitConverter]::ToString($Bytes)).Replace('-', '').ToLowerInvariant()
}

function ConvertTo-WsWireData {
    # JSON-safe form: QWord as a decimal string (exact beyond 2^53), bytes as lowercase hex.
    param([string] $Kind, $Data)
    if ($Kind -eq 'DWord') { return [uint32]$Data }
    if ($Kind -eq 'String' -or $Kind -eq 'ExpandString') { return [string]$Data }
    if ($Kind -eq 'QWord') { return ([uint64]$Data).ToString([System.Globalization.CultureInfo]::InvariantCulture) }
    if ($Kind -eq 'MultiString') { return , ([object[]]([string[]]$Data)) }
    return ConvertTo-WsHex -Bytes $Data
}

function Test-WsDataEqual {
    # Exact comparison per kind: numbers as unsigned, text and lists ordinal, bytes as hex.
    param([string] $Kind, $Left, $Right)
    if ($Kind -eq 'DWord' -or $Kind -eq 'QWord') { return ([uint64]$Left) -eq ([uint64]$Right) }
    if ($Kind -eq 'String' -or $Kind -eq 'ExpandString') { return [string]::Equals([string]$Left, [string]$Right, [System.StringComparison]::Ordinal) }
    if ($Kind -eq 'MultiString') {
        $l = [string[]]$Left; $r = [string[]]$Right
        if ($l.Length -ne $r.Length) { return $false }
        for ($i = 0; $i -lt $l.Length; $i++) {
            if (-not [string]::Equals($l[$i], $r[$i], [System.StringComparison]::Ordinal)) { return $false }
        }
        return $true
    }
    return (ConvertTo-WsHex -Bytes $Left) -ceq (ConvertTo-WsHex -Bytes $Right)
}

function Get-WsWireValue {
    # A stored value as the backup records it.
    param($Name, $Kind, $TypeCode, $Data, $Bytes)
    $value = [ordered]@{ name = $Name; valueType = $Kind; typeCode = $TypeCode; valueData = (ConvertTo-WsWireData -Kind $Kind -Data $Data) }
    Add-WsRawData -Value $value -Kind $Kind -Data $Data -Bytes $Bytes
    return $value
}

function Add-WsRawData {
    # Adds rawData (the exact bytes, hex) when the typed form cannot put the value back byte for
    # byte: a type documents have no form for, text with NUL or a lone surrogate, data that
    # re-encodes differently (no terminating NUL, an odd length, REGEDIT4 text).
    param($Value, $Kind, $Data, $Bytes)
    $typed = ($Kind -ne 'Raw')
    # Typed numbers and lists read without their own bytes always re-encode exactly: nothing to add.
    if ($typed -and $null -eq $Bytes -and $Kind -ne 'String' -and $Kind -ne 'ExpandString' -and $Kind -ne 'MultiString') { return }
    $exact = ConvertTo-WsHex -Bytes (ConvertTo-WsRawValue -Kind $Kind -Data $Data -Bytes $Bytes)
    if ($typed -and ($Kind -eq 'String' -or $Kind -eq 'ExpandString' -or $Kind -eq 'MultiString')) {
        foreach ($text in @($Data)) {
            if ([regex]::IsMatch([string]$text, '\x00|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]')) { $typed = $false; break }
        }
    }
    if ($typed -and $null -ne $Bytes) { $typed = ($exact -ceq (ConvertTo-WsHex -Bytes (ConvertTo-WsRawValue -Kind $Kind -Data $Data -Bytes $null))) }
    if (-not $typed) { $Value.rawData = $exact }
}

function Repair-WsRegistryPayload {
    <#
    .SYNOPSIS
    Rows that came through the bridge's CLIXML payload have lists as ArrayList: MultiString data
    is made string[] again, as the script's own table literal has it.
    .PARAMETER Resources
    Every row of the payload (rows of other kinds have no MultiString data and are passed over).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $Resources)
    foreach ($r in $Resources) {
        $parts = @($r)
        if ($null -ne $r.Waiver -and $null -ne $r.Waiver.Override) { $parts += $r.Waiver.Override }
        foreach ($part in $parts) {
            if ($part.ValueType -ne 'MultiString') { continue }
            if ($null -ne $part.ValueData) { $part.ValueData = [string[]]@($part.ValueData) }
            if ($null -ne $part.Policy) {
                foreach ($choice in $part.Policy.Choices) { $choice.Data = [string[]]@($choice.Data) }
            }
        }
    }
}
