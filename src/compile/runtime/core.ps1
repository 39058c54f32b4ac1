# Runtime shared by every generated script: store dispatch, compare rules, get/test/set, output.
# Registry data in memory: String/ExpandString [string], DWord [uint32], QWord [uint64],
# MultiString [string[]], Binary and Raw [byte[]]. Results carry the JSON-safe "wire" form.

function Open-WsStore {
    param([AllowEmptyString()][string] $RegistrySnapshot)
    if ($RegistrySnapshot) {
        # Relative to PowerShell's location, which .NET's current directory does not follow.
        $fullPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($RegistrySnapshot)
        return Open-WsSnapshotStore -LiteralPath $fullPath
    }
    return Open-WsLiveStore
}

function Get-WsState {
    param($Store, $Resource)
    if ($Store.Kind -eq 'Snapshot') {
        return Get-WsSnapshotState -Store $Store -Hive $Resource.Hive -SubKey $Resource.SubKey -ValueName $Resource.ValueName
    }
    return Get-WsLiveState -Store $Store -Hive $Resource.Hive -SubKey $Resource.SubKey -ValueName $Resource.ValueName
}

function Invoke-WsChange {
    # Moves one resource to its desired state; the caller has already asked ShouldProcess.
    param($Store, $Resource)
    $snapshot = ($Store.Kind -eq 'Snapshot')
    $common = @{ Store = $Store; Hive = $Resource.Hive; SubKey = $Resource.SubKey }
    if ($null -eq $Resource.ValueName) {
        if ($Resource.Ensure -eq 'Present') {
            if ($snapshot) { New-WsSnapshotKey @common } else { New-WsLiveKey @common }
        } else {
            if ($snapshot) { Remove-WsSnapshotKey @common } else { Remove-WsLiveKey @common }
        }
        return
    }
    $common.ValueName = $Resource.ValueName
    if ($Resource.Ensure -eq 'Present') {
        if ($snapshot) { Set-WsSnapshotValue @common -Kind $Resource.ValueType -Data $Resource.ValueData }
        else { Set-WsLiveValue @common -Kind $Resource.ValueType -Data $Resource.ValueData }
    } else {
        if ($snapshot) { Remove-WsSnapshotValue @common } else { Remove-WsLiveValue @common }
    }
}

function ConvertTo-WsHex {
    param([byte[]] $Bytes)
    if ($null -eq $Bytes -or $Bytes.Length -eq 0) { return '' }
    return ([System.BitConverter]::ToString($Bytes)).Replace('-', '').ToLowerInvariant()
}

function ConvertTo-WsWireData {
    # JSON-safe form: QWord as a decimal string (exact beyond 2^53), bytes as lowercase hex.
    param([string] $Kind, $Data)
    switch ($Kind) {
        'DWord' { return [uint32]$Data }
        'QWord' { return ([uint64]$Data).ToString([System.Globalization.CultureInfo]::InvariantCulture) }
        'MultiString' { return , ([object[]]([string[]]$Data)) }
        'Binary' { return ConvertTo-WsHex -Bytes $Data }
        'Raw' { return ConvertTo-WsHex -Bytes $Data }
        default { return [string]$Data }
    }
}

function Test-WsDataEqual {
    param([string] $Kind, $Left, $Right)
    if ($Kind -eq 'MultiString') {
        $l = [string[]]$Left; $r = [string[]]$Right
        if ($l.Length -ne $r.Length) { return $false }
        for ($i = 0; $i -lt $l.Length; $i++) {
            if (-not [string]::Equals($l[$i], $r[$i], [System.StringComparison]::Ordinal)) { return $false }
        }
        return $true
    }
    if ($Kind -eq 'Binary' -or $Kind -eq 'Raw') { return (ConvertTo-WsHex -Bytes $Left) -ceq (ConvertTo-WsHex -Bytes $Right) }
    if ($Kind -eq 'DWord' -or $Kind -eq 'QWord') { return ([uint64]$Left) -eq ([uint64]$Right) }
    return [string]::Equals([string]$Left, [string]$Right, [System.StringComparison]::Ordinal)
}

function Get-WsPolicyValue {
    # The policy's own name for registry data, or $null when the data matches no choice.
    param($Resource, [string] $Kind, $Data)
    if ($Kind -ne $Resource.ValueType) { return $null }
    foreach ($choice in $Resource.Policy.Choices) {
        if (Test-WsDataEqual -Kind $Kind -Left $choice.Data -Right $Data) { return $choice.Name }
    }
    return $null
}

function Get-WsDesiredView {
    param($Resource)
    $view = [ordered]@{ ensure = $Resource.Ensure }
    if ($null -ne $Resource.ValueName -and $Resource.Ensure -eq 'Present') {
        $view.valueType = $Resource.ValueType
        $view.valueData = ConvertTo-WsWireData -Kind $Resource.ValueType -Data $Resource.ValueData
    }
    if ($null -ne $Resource.Policy) { $view.policyValue = $Resource.Policy.Value }
    return $view
}

function Get-WsActualView {
    param($Resource, $State)
    if ($null -eq $Resource.ValueName) {
        if ($State.KeyExists) { return [ordered]@{ ensure = 'Present' } }
        return [ordered]@{ ensure = 'Absent' }
    }
    if (-not $State.ValueExists) {
        $view = [ordered]@{ ensure = 'Absent' }
    } else {
        $kind = $State.Kind
        if ($kind -eq 'Raw') { $kind = 'Raw' + $State.TypeCode }
        $view = [ordered]@{ ensure = 'Present'; valueType = $kind; valueData = ConvertTo-WsWireData -Kind $State.Kind -Data $State.Data }
    }
    if ($null -ne $Resource.Policy) {
        $policyValue = $null
        if ($State.ValueExists) { $policyValue = Get-WsPolicyValue -Resource $Resource -Kind $State.Kind -Data $State.Data }
        $view.policyValue = $policyValue
    }
    return $view
}

function Get-WsDifferences {
    # Names of the properties that differ; empty when the resource is in its desired state.
    param($Resource, $State)
    $differing = New-Object -TypeName 'System.Collections.Generic.List[string]'
    if ($null -eq $Resource.ValueName) {
        if ($State.KeyExists -ne ($Resource.Ensure -eq 'Present')) { $differing.Add('ensure') }
        return , $differing.ToArray()
    }
    if ($Resource.Ensure -eq 'Absent') {
        if ($State.ValueExists) { $differing.Add('ensure') }
        return , $differing.ToArray()
    }
    if (-not $State.ValueExists) {
        $differing.Add('ensure'); $differing.Add('valueType'); $differing.Add('valueData')
        return , $differing.ToArray()
    }
    if ($State.Kind -ne $Resource.ValueType) {
        $differing.Add('valueType'); $differing.Add('valueData')
    } elseif (-not (Test-WsDataEqual -Kind $State.Kind -Left $State.Data -Right $Resource.ValueData)) {
        $differing.Add('valueData')
    }
    return , $differing.ToArray()
}

function Invoke-WsResource {
    param($Store, $Resource, [string] $Mode, $Cmdlet)
    $result = [ordered]@{ name = $Resource.Name; type = $Resource.Type; target = $Resource.Target }
    if ($null -ne $Resource.Id) { $result.id = $Resource.Id }
    $state = Get-WsState -Store $Store -Resource $Resource
    if ($Mode -eq 'Get') {
        $result.actual = Get-WsActualView -Resource $Resource -State $state
        return $result
    }
    $differing = Get-WsDifferences -Resource $Resource -State $state
    if ($Mode -eq 'Test') {
        $result.desired = Get-WsDesiredView -Resource $Resource
        $result.actual = Get-WsActualView -Resource $Resource -State $state
        $result.inDesiredState = ($differing.Length -eq 0)
        $result.differingProperties = $differing
        return $result
    }
    $result.desired = Get-WsDesiredView -Resource $Resource
    $result.before = Get-WsActualView -Resource $Resource -State $state
    $result.changed = $false
    if ($differing.Length -gt 0) {
        $action = 'Set to desired state'
        if ($Resource.Ensure -eq 'Absent') { $action = 'Remove' }
        if ($Cmdlet.ShouldProcess($result.target, $action)) {
            Invoke-WsChange -Store $Store -Resource $Resource
            $state = Get-WsState -Store $Store -Resource $Resource
            $result.changed = $true
        } else {
            $result.whatIf = $true
        }
    }
    $after = Get-WsDifferences -Resource $Resource -State $state
    $result.after = Get-WsActualView -Resource $Resource -State $state
    $result.inDesiredState = ($after.Length -eq 0)
    $result.differingProperties = $differing
    return $result
}

function ConvertTo-WsAsciiJson {
    # ASCII-only JSON reads the same whatever the console encoding is.
    param($InputObject)
    $json = ConvertTo-Json -InputObject $InputObject -Depth 10 -Compress
    return [System.Text.RegularExpressions.Regex]::Replace($json, '[^\x00-\x7F]', {
            param($m) '\u{0:x4}' -f [int][char]$m.Value
        })
}

function Format-WsText {
    param($Report)
    $lines = New-Object -TypeName 'System.Collections.Generic.List[string]'
    foreach ($r in $Report.results) {
        if ($r.Contains('error')) { $lines.Add(('[ERROR]   {0}: {1}' -f $r.name, $r.error)); continue }
        if ($Report.mode -eq 'Get') { $lines.Add(('[GET]     {0}: {1}' -f $r.name, (ConvertTo-WsAsciiJson -InputObject $r.actual))); continue }
        $tag = '[OK]     '
        if ($r.Contains('changed') -and $r.changed) { $tag = '[CHANGED]' }
        elseif ($r.Contains('whatIf')) { $tag = '[WHATIF] ' }
        elseif (-not $r.inDesiredState) { $tag = '[DRIFT]  ' }
        $actual = $r.actual
        if ($r.Contains('before')) { $actual = $r.before }
        $line = '{0} {1}' -f $tag, $r.name
        if ($r.differingProperties.Length -gt 0) {
            $line += (': {0} -> {1}' -f (ConvertTo-WsAsciiJson -InputObject $actual), (ConvertTo-WsAsciiJson -InputObject $r.desired))
        }
        $lines.Add($line)
    }
    $s = $Report.summary
    $lines.Add(('{0} resources: {1} in desired state, {2} drifted, {3} changed, {4} failed' -f $s.total, $s.inDesiredState, $s.drifted, $s.changed, $s.failed))
    return , $lines.ToArray()
}

function Invoke-WsConfiguration {
    param($Document, $Resources, [string] $Mode, [AllowEmptyString()][string] $RegistrySnapshot, $Cmdlet)
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $store = Open-WsStore -RegistrySnapshot $RegistrySnapshot
    $results = New-Object -TypeName 'System.Collections.Generic.List[object]'
    $summary = [ordered]@{ total = $Resources.Count; inDesiredState = 0; drifted = 0; changed = 0; failed = 0 }
    foreach ($resource in $Resources) {
        try {
            $result = Invoke-WsResource -Store $store -Resource $resource -Mode $Mode -Cmdlet $Cmdlet
        } catch {
            $result = [ordered]@{ name = $resource.Name; type = $resource.Type; target = $resource.Target; error = $_.Exception.Message }
        }
        if ($result.Contains('error')) { $summary.failed++ }
        elseif ($result.Contains('inDesiredState')) {
            if ($result.inDesiredState) { $summary.inDesiredState++ } else { $summary.drifted++ }
            if ($result.Contains('changed') -and $result.changed) { $summary.changed++ }
        }
        $results.Add($result)
    }
    if ($Mode -eq 'Set') {
        if ($store.Kind -eq 'Snapshot') { $null = Save-WsSnapshotStore -Store $store } else { $null = Save-WsLiveStore -Store $store }
    }
    $target = 'live'
    if ($store.Kind -eq 'Snapshot') { $target = 'snapshot' }
    $report = [ordered]@{
        tool = 'winstate'; version = $Document.WinstateVersion; document = $Document.Name; mode = $Mode
        target = $target; snapshot = $store.Path; whatIf = [bool]$WhatIfPreference
        psVersion = $PSVersionTable.PSVersion.ToString(); psEdition = $PSVersionTable.PSEdition
        durationMs = [int]$clock.ElapsedMilliseconds; summary = $summary; results = $results.ToArray()
    }
    return $report
}

function Get-WsExitCode {
    # 0 in desired state, 2 drift or not converged, 1 a resource failed.
    param($Report)
    if ($Report.summary.failed -gt 0) { return 1 }
    if ($Report.mode -ne 'Get' -and $Report.summary.drifted -gt 0) { return 2 }
    return 0
}
