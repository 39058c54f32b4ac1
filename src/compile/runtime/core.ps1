# Runtime shared by every generated script: store dispatch, compare rules, get/test/set, output.
# Registry data in memory: String/ExpandString [string], DWord [uint32], QWord [uint64],
# MultiString [string[]], Binary and Raw [byte[]]. Results carry the JSON-safe "wire" form.

function Open-WsStore {
    param([AllowEmptyString()][string] $RegistrySnapshot)
    if ($RegistrySnapshot) { return Open-WsSnapshotStore -LiteralPath $RegistrySnapshot }
    return Open-WsLiveStore
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
    if ($Resource.Ensure -eq 'Present' -and $null -ne $Resource.TypeCode) {
        # Raw form: exact bytes with their type code (rollback of any value).
        if ($snapshot) { Set-WsSnapshotRawValue @common -TypeCode ([int]$Resource.TypeCode) -Bytes $Resource.ValueData }
        elseif ($Resource.TypeCode -eq 3) { Set-WsLiveValue @common -Kind 'Binary' -Data $Resource.ValueData }
        else { Set-WsLiveRawValue @common -TypeCode ([uint32]$Resource.TypeCode) -Bytes $Resource.ValueData }
        return
    }
    if ($Resource.Ensure -eq 'Present') {
        if ($snapshot) { Set-WsSnapshotValue @common -Kind $Resource.ValueType -Data $Resource.ValueData }
        else { Set-WsLiveValue @common -Kind $Resource.ValueType -Data $Resource.ValueData }
    } else {
        if ($snapshot) { Remove-WsSnapshotValue @common } else { Remove-WsLiveValue @common }
    }
}

function ConvertFrom-WsPayload {
    # The bridge passes the document and its resource table as CLIXML data (one deserialisation,
    # exact types). Lists come back as ArrayList: MultiString data is made string[] again, as the
    # script's own table literal has it.
    param([Parameter(Mandatory = $true)][string] $Payload)
    $data = [System.Management.Automation.PSSerializer]::Deserialize($Payload)
    $resources = @()
    if ($null -ne $data.Resources) { $resources = $data.Resources.ToArray() }
    foreach ($r in $resources) {
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
    return @{ Document = $data.Document; Resources = $resources }
}

function Write-WsFileAtomic {
    # Writes beside the destination and swaps the file in, so no reader ever sees half of it.
    # BeforeSwap runs last, right before the swap (the lock check: as late as it can be).
    param([string] $Path, [byte[]] $Bytes, [scriptblock] $BeforeSwap)
    $tmp = [System.IO.Path]::Combine([System.IO.Path]::GetDirectoryName($Path),
        '.' + [System.IO.Path]::GetFileName($Path) + '.' + [guid]::NewGuid().ToString('N') + '.tmp')
    try {
        [System.IO.File]::WriteAllBytes($tmp, $Bytes)
        if ($null -ne $BeforeSwap) { & $BeforeSwap }
        if ([System.IO.File]::Exists($Path)) {
            # [NullString]: PowerShell would pass $null to a .NET string parameter as ''.
            [System.IO.File]::Replace($tmp, $Path, [NullString]::Value)
        } else {
            [System.IO.File]::Move($tmp, $Path)
        }
    } catch {
        if ([System.IO.File]::Exists($tmp)) { [System.IO.File]::Delete($tmp) }
        throw
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

function Test-WsCondition {
    # Same rules as meetsCondition in src/resources/condition.ts: every listed test must hold;
    # numbers compare unsigned, a String under numeric tests must be a decimal number.
    param($Condition, $Data)
    $value = $Data
    if ($Condition.Numeric) {
        if ($Data -is [string]) {
            $parsed = [uint64]0
            $text = $Data.Trim()
            if ($text -notmatch '^[0-9]+$' -or -not [uint64]::TryParse($text, [ref]$parsed)) { return $false }
            $value = $parsed
        } else {
            $value = [uint64]$Data
        }
    }
    if ($null -ne $Condition.AtLeast -and $value -lt $Condition.AtLeast) { return $false }
    if ($null -ne $Condition.AtMost -and $value -gt $Condition.AtMost) { return $false }
    if ($null -ne $Condition.OneOf) {
        $found = $false
        foreach ($allowed in $Condition.OneOf) { if ([string]$allowed -ceq [string]$value) { $found = $true; break } }
        if (-not $found) { return $false }
    }
    if ($null -ne $Condition.Not) {
        foreach ($refused in $Condition.Not) { if ([string]$refused -ceq [string]$value) { return $false } }
    }
    if ($null -ne $Condition.BitsSet -and ($value -band $Condition.BitsSet) -ne $Condition.BitsSet) { return $false }
    if ($null -ne $Condition.BitsClear -and ($value -band $Condition.BitsClear) -ne 0) { return $false }
    return $true
}

function Get-WsResourceStates {
    # Every resource's current state as results show it, and what differs from its desired state.
    # One store call for all and one loop without helper calls for the common kinds: at 300
    # resources each PowerShell function call per resource costs about 10 ms.
    param($Store, $Resources)
    if ($Store.Kind -eq 'Snapshot') { $states = Get-WsSnapshotStates -Store $Store -Resources $Resources }
    else { $states = Get-WsLiveStates -Store $Store -Resources $Resources }
    $out = [object[]]::new($Resources.Count)
    for ($i = 0; $i -lt $Resources.Count; $i++) {
        $Resource = $Resources[$i]
        $state = $states[$i]
        if ($null -eq $Resource.ValueName) {
            $present = $state.KeyExists
            $view = [ordered]@{ ensure = 'Absent' }
            if ($present) { $view.ensure = 'Present' }
            $differing = @()
            if ($present -ne ($Resource.Ensure -eq 'Present')) { $differing = @('ensure') }
            # OnlyIfEmpty (rollback of keys a run created): a key that holds something now is left alone.
            if ($present -and $Resource.OnlyIfEmpty -and -not (Test-WsStoreKeyEmpty -Store $Store -Hive $Resource.Hive -SubKey $Resource.SubKey)) { $differing = @() }
            $out[$i] = @{ View = $view; Differing = $differing }
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
                (ConvertTo-WsHex -Bytes (ConvertTo-WsValueBytes -Kind $kind -Data $data -Bytes $state.Bytes)) -ceq (ConvertTo-WsHex -Bytes $Resource.ValueData)) { $differing = @() }
        }
        elseif ($kind -ne $Resource.ValueType) { $differing = @('valueType', 'valueData') }
        elseif ($null -ne $Resource.Condition) {
            if (Test-WsCondition -Condition $Resource.Condition -Data $data) { $differing = @() } else { $differing = @('valueData') }
        }
        elseif (-not $equal) { $differing = @('valueData') }
        else { $differing = @() }
        $out[$i] = @{ View = $view; Differing = $differing }
    }
    return , $out
}

function Get-WsResourceState {
    param($Store, $Resource)
    return (Get-WsResourceStates -Store $Store -Resources @($Resource))[0]
}

function ConvertTo-WsAsciiJson {
    # ASCII-only JSON reads the same whatever the console encoding is.
    param($InputObject)
    if ($PSVersionTable.PSVersion.Major -ge 7) {
        # Splatted so that Windows PowerShell 5.1, which lacks the parameter, still parses the script.
        $escaping = @{ EscapeHandling = 'EscapeNonAscii' }
        return ConvertTo-Json -InputObject $InputObject -Depth 10 -Compress @escaping
    }
    $json = ConvertTo-Json -InputObject $InputObject -Depth 10 -Compress
    return [System.Text.RegularExpressions.Regex]::Replace($json, '[^\x00-\x7F]', {
            param($m) '\u{0:x4}' -f [int][char]$m.Value
        })
}

function Format-WsStateText {
    # A state in the policy's own words when it has them; the same rules as stateText in src/report/model.ts.
    param($View)
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

function Format-WsText {
    # Reads like the CLI: tag, setting, current -> desired, and a summary whose counts add up.
    param($Report)
    $lines = New-Object -TypeName 'System.Collections.Generic.List[string]'
    foreach ($r in $Report.results) {
        $note = ''
        if ($r.Contains('waiver')) {
            if ($r.waiver.status -eq 'expired') { $note = ' [waiver expired {0}: enforced]' -f $r.waiver.expires }
            elseif ($r.waiver.Contains('override')) { $note = ' [waiver override until {0}]' -f $r.waiver.expires }
        }
        if ($r.Contains('error')) { $lines.Add(('[ERROR]   {0}: {1}' -f $r.name, $r.error)); continue }
        if ($r.Contains('waived')) { $lines.Add(('[WAIVED]  {0}: until {1}: {2}' -f $r.name, $r.waiver.expires, $r.waiver.justification)); continue }
        if ($r.Contains('skipped')) { $lines.Add(('[SKIPPED] {0}: not attempted (an earlier setting failed; -FailFast)' -f $r.name)); continue }
        if ($Report.mode -eq 'Get') { $lines.Add(('[GET]     {0}: {1}' -f $r.name, (Format-WsStateText -View $r.actual))); continue }
        $current = $r.actual
        if ($r.Contains('before')) { $current = $r.before }
        $diff = '{0} -> {1}' -f (Format-WsStateText -View $current), (Format-WsStateText -View $r.desired)
        if ($r.Contains('changed') -and $r.changed) { $lines.Add(('[CHANGED] {0}: {1}{2}' -f $r.name, $diff, $note)) }
        elseif ($r.Contains('whatIf')) { $lines.Add(('[WHATIF]  {0}: would change {1}{2}' -f $r.name, $diff, $note)) }
        elseif (-not $r.inDesiredState) { $lines.Add(('[DRIFT]   {0}: {1}{2}' -f $r.name, $diff, $note)) }
        else { $lines.Add(('[OK]      {0}: {1}{2}' -f $r.name, (Format-WsStateText -View $current), $note)) }
    }
    $s = $Report.summary
    if ($Report.mode -eq 'Get') {
        $lines.Add(('{0} resources read' -f $s.total))
    } else {
        $already = 'in desired state'
        if ($Report.mode -eq 'Set') { $already = 'already in desired state' }
        $line = '{0} resources: {1} changed, {2} {3}, {4} drifted, {5} failed' -f $s.total, $s.changed, $s.inDesiredState, $already, $s.drifted, $s.failed
        if ($s.waived -gt 0) { $line += (', {0} waived' -f $s.waived) }
        if ($s.skipped -gt 0) { $line += (', {0} skipped' -f $s.skipped) }
        $lines.Add($line)
    }
    if ($Report.backup) { $lines.Add('Prior state saved to ' + $Report.backup) }
    if ($Report.partial) { $lines.Add('PARTIAL: some settings changed while others failed; the backup above can undo the changes') }
    return , $lines.ToArray()
}

function New-WsResult {
    param($Resource)
    $result = [ordered]@{ name = $Resource.Name; type = $Resource.Type; target = $Resource.Target }
    if ($null -ne $Resource.Id) { $result.id = $Resource.Id }
    return $result
}

function Invoke-WsConfiguration {
    param(
        $Document, $Resources, [string] $Mode, [AllowEmptyString()][string] $RegistrySnapshot, $Cmdlet,
        [AllowEmptyString()][string] $BackupPath, [bool] $FailFast, [bool] $NoLock, [AllowEmptyString()][string] $LockToken,
        [AllowEmptyString()][string] $LockFile
    )
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $changing = ($Mode -eq 'Set' -and -not $WhatIfPreference)
    $lockPath = $null
    $fence = $null
    if ($changing -and $LockToken) {
        # The caller (the winstate CLI) took the lock in this process's name; every save checks it still holds.
        # Its path too when given: under Wine the two sides need not agree on %ProgramData%.
        if (-not $LockFile) { $LockFile = Get-WsLockPath -RegistrySnapshot $RegistrySnapshot }
        $fence = @{ Path = $LockFile; Token = $LockToken }
    } elseif ($changing -and -not $NoLock) {
        # Before reading: a second writer must not read what the first is about to replace.
        $lockPath = Get-WsLockPath -RegistrySnapshot $RegistrySnapshot
        $fence = @{ Path = $lockPath; Token = (Enter-WsLock -Path $lockPath -Document $Document.Name) }
    }
    if ($changing) { Step-WsTestHook -Phase 'locked' }
    try {
        $store = Open-WsStore -RegistrySnapshot $RegistrySnapshot
        # Read everything first: Set records the prior state of all it will change before changing anything.
        $results = [System.Collections.Generic.List[object]]::new()
        $states = [System.Collections.Generic.List[object]]::new()
        # Waivers are judged against today (UTC): an active one skips its resource or swaps in its
        # override; an expired one no longer applies and is reported.
        $today = [System.DateTime]::UtcNow.ToString('yyyy-MM-dd', [System.Globalization.CultureInfo]::InvariantCulture)
        $waivers = [object[]]::new($Resources.Count)
        $effective = [object[]]::new($Resources.Count)
        for ($i = 0; $i -lt $Resources.Count; $i++) {
            $r = $Resources[$i]
            if ($null -ne $r.Waiver) {
                $active = ([string]::CompareOrdinal($today, $r.Waiver.Expires) -le 0)
                $view = [ordered]@{ justification = $r.Waiver.Justification; expires = $r.Waiver.Expires; status = 'expired' }
                if ($null -ne $r.Waiver.ApprovedBy) { $view.approvedBy = $r.Waiver.ApprovedBy }
                if ($active) {
                    $view.status = 'active'
                    if ($null -ne $r.Waiver.Override) {
                        $view.override = $true
                        $r = $r.Clone()
                        foreach ($column in @('ValueData', 'WireData', 'Condition', 'ConditionView', 'AbsentOk', 'Policy')) { $r.Remove($column) }
                        foreach ($column in $r.Waiver.Override.Keys) { $r[$column] = $r.Waiver.Override[$column] }
                    }
                }
                $waivers[$i] = $view
            }
            $effective[$i] = $r
        }
        $Resources = $effective
        # All at once (fast); if that fails, one by one so that only the failing resource fails.
        $batch = $null
        try { $batch = Get-WsResourceStates -Store $store -Resources $Resources } catch { $batch = $null }
        $index = 0
        foreach ($resource in $Resources) {
            # Inline rather than helpers: at 300 resources each extra call per resource costs ~10 ms.
            $result = [ordered]@{ name = $resource.Name; type = $resource.Type; target = $resource.Target }
            if ($null -ne $resource.Id) { $result.id = $resource.Id }
            $current = $null
            try {
                if ($null -ne $batch) { $current = $batch[$index] } else { $current = Get-WsResourceState -Store $store -Resource $resource }
                if ($Mode -eq 'Get') {
                    $result.actual = $current.View
                } else {
                    $desired = [ordered]@{ ensure = $resource.Ensure }
                    if ($null -ne $resource.ValueName -and $resource.Ensure -eq 'Present') {
                        $desired.valueType = $resource.ValueType
                        $desired.valueData = $resource.WireData
                        if ($null -ne $resource.TypeCode) { $desired.typeCode = $resource.TypeCode }
                        if ($null -ne $resource.ConditionView) { $desired.condition = $resource.ConditionView }
                        if ($resource.AbsentOk) { $desired.absentOk = $true }
                    }
                    if ($null -ne $resource.Policy) { $desired.policyValue = $resource.Policy.Value }
                    $result.desired = $desired
                    if ($Mode -eq 'Test') { $result.actual = $current.View } else { $result.before = $current.View }
                    $result.inDesiredState = ($current.Differing.Length -eq 0)
                    $result.differingProperties = $current.Differing
                }
            } catch {
                $result = New-WsResult -Resource $resource
                $result.error = $_.Exception.Message
                $current = $null
            }
            $waiver = $waivers[$index]
            if ($null -ne $waiver) {
                $result.waiver = $waiver
                if ($waiver.status -eq 'active' -and -not $waiver.Contains('override')) {
                    # Waived: shown with its current value (when it could be read), neither judged nor changed.
                    if ($result.Contains('error')) { $result.Remove('error') }
                    $result.waived = $true
                    $result.skipped = $true
                    foreach ($judged in @('inDesiredState', 'differingProperties', 'desired')) { if ($result.Contains($judged)) { $result.Remove($judged) } }
                    $current = $null
                }
            }
            $results.Add($result)
            $states.Add($current)
            $index++
        }
        $backup = $null
        $partial = $false
        if ($Mode -eq 'Set') {
            # What this run may touch: what drifts now, and keys to remove once empty, which earlier
            # resources of the same run may empty.
            $touched = @(for ($i = 0; $i -lt $Resources.Count; $i++) {
                    if ($null -ne $states[$i] -and ($states[$i].Differing.Length -gt 0 -or $Resources[$i].OnlyIfEmpty)) { $i }
                })
            $drifted = @(foreach ($i in $touched) { if ($states[$i].Differing.Length -gt 0) { $i } })
            if ($changing -and $drifted.Count -gt 0) {
                if (-not $BackupPath) { $BackupPath = Get-WsDefaultBackupPath -Document $Document.Name }
                $BackupPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($BackupPath)
                $entries = @(foreach ($i in $touched) { Get-WsBackupEntry -Store $store -Resource $Resources[$i] })
                Write-WsBackup -Path $BackupPath -Record ([ordered]@{
                        tool = 'winstate'; version = $Document.WinstateVersion; document = $Document.Name
                        target = $store.Kind; snapshot = $store.Path; createdAt = [System.DateTime]::UtcNow.ToString('o'); entries = $entries
                    })
                $backup = $BackupPath
                Step-WsTestHook -Phase 'backup'
            }
            $journal = $null
            if ($null -ne $backup) { $journal = $backup + '.journal' }
            $applied = [System.Collections.Generic.List[object]]::new()
            # Values this run has changed, and whether it changed a key itself: only resources
            # those can affect are read again (a read per resource costs milliseconds).
            $touchedValues = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
            $keyChanged = $false
            $stopped = $false
            for ($i = 0; $i -lt $Resources.Count; $i++) {
                $resource = $Resources[$i]
                $result = $results[$i]
                if ($result.Contains('error') -or $result.Contains('waived')) { continue }
                if ($stopped) { $result.skipped = $true; continue }
                $result.changed = $false
                # A live change is a save: a writer that lost the lock (or its parent) stops before it.
                if ($store.Kind -eq 'Live' -and $changing) { Assert-WsFence -Fence $fence }
                try {
                    # Resources apply in order, so an earlier change can matter here (the same value
                    # named twice, a key it emptied): read again what an earlier change may have touched.
                    if ($applied.Count -gt 0 -and ($keyChanged -or $null -eq $resource.ValueName -or $touchedValues.Contains($resource.Hive + '\' + $resource.SubKey.Trim([char]'\') + '!' + $resource.ValueName))) {
                        $states[$i] = Get-WsResourceState -Store $store -Resource $resource
                        $result.before = $states[$i].View
                        $result.differingProperties = $states[$i].Differing
                    }
                    if ($states[$i].Differing.Length -gt 0) {
                        # -WhatIf and -Confirm name the setting with its current and desired value.
                        $action = 'Set {0} -> {1}' -f (Format-WsStateText -View $states[$i].View), (Format-WsStateText -View $result.desired)
                        if ($resource.Ensure -eq 'Absent') { $action = 'Remove ({0} now)' -f (Format-WsStateText -View $states[$i].View) }
                        if ($Cmdlet.ShouldProcess(('{0} [{1}]' -f $resource.Name, $resource.Target), $action)) {
                            Invoke-WsChange -Store $store -Resource $resource
                            if ($null -eq $resource.ValueName) { $keyChanged = $true } else { $null = $touchedValues.Add($resource.Hive + '\' + $resource.SubKey.Trim([char]'\') + '!' + $resource.ValueName) }
                            $result.changed = $true
                            $change = [ordered]@{ resource = $resource.Name; target = $resource.Target }
                            # Live changes are real at once; snapshot changes only when the file is saved.
                            if ($store.Kind -eq 'Live' -and $null -ne $journal) { Add-WsJournal -Path $journal -Entry $change }
                            $applied.Add($change)
                            if ($applied.Count -eq 1) { Step-WsTestHook -Phase 'changed' }
                            $states[$i] = Get-WsResourceState -Store $store -Resource $resource
                        } else {
                            $result.whatIf = $true
                        }
                    }
                } catch {
                    $result.error = $_.Exception.Message
                    if ($FailFast) { $stopped = $true }
                    continue
                }
                $result.after = $states[$i].View
                $result.inDesiredState = ($states[$i].Differing.Length -eq 0)
            }
            if ($store.Kind -eq 'Snapshot') {
                $saved = Save-WsSnapshotStore -Store $store -Fence $fence
                if ($saved) { Step-WsTestHook -Phase 'saved' }
                if ($saved -and $null -ne $journal) { foreach ($change in $applied) { Add-WsJournal -Path $journal -Entry $change } }
            }
            if ($null -ne $journal) {
                Step-WsTestHook -Phase 'journal'
                Add-WsJournal -Path $journal -Entry ([ordered]@{ complete = $true; applied = $applied.Count })
            }
            if ($changing) { Step-WsTestHook -Phase 'done' }
        }
        $summary = [ordered]@{ total = $Resources.Count; inDesiredState = 0; drifted = 0; changed = 0; failed = 0; skipped = 0; waived = 0 }
        # Each resource in at most one count (Get judges nothing), so that test and set add up to the total.
        $anyChange = $false
        foreach ($result in $results) {
            $madeChange = ($result.Contains('changed') -and $result.changed)
            if ($madeChange) { $anyChange = $true }
            if ($result.Contains('error')) { $summary.failed++ }
            elseif ($result.Contains('waived')) { $summary.waived++ }
            elseif ($result.Contains('skipped')) { $summary.skipped++ }
            elseif ($madeChange) { $summary.changed++ }
            elseif ($result.Contains('inDesiredState')) {
                if ($result.inDesiredState) { $summary.inDesiredState++ } else { $summary.drifted++ }
            }
        }
        # Partial: some changes were made (even one whose read-back then failed) but not all succeeded.
        $partial = ($anyChange -and ($summary.failed + $summary.skipped) -gt 0)
        $target = 'live'
        if ($store.Kind -eq 'Snapshot') { $target = 'snapshot' }
        return [ordered]@{
            tool = 'winstate'; version = $Document.WinstateVersion; document = $Document.Name; mode = $Mode
            target = $target; snapshot = $store.Path; whatIf = [bool]$WhatIfPreference; backup = $backup; partial = $partial
            psVersion = $PSVersionTable.PSVersion.ToString(); psEdition = $PSVersionTable.PSEdition
            durationMs = [int]$clock.ElapsedMilliseconds; summary = $summary; results = $results.ToArray()
        }
    } finally {
        if ($null -ne $lockPath) { Exit-WsLock -Path $lockPath -Token $fence.Token }
    }
}

function Get-WsExitCode {
    # 0 in desired state, 2 drift or not converged, 1 a resource failed, 4 partly applied.
    param($Report)
    if ($Report.partial) { return 4 }
    if ($Report.summary.failed -gt 0) { return 1 }
    if ($Report.mode -ne 'Get' -and $Report.summary.drifted -gt 0) { return 2 }
    return 0
}
