# Safe change: one lock per target, the record of prior state written before the first change,
# and a journal of what was applied, so an interrupted run can be reported and rolled back.

function Get-WsStateDirectory {
    # Same rule as the winstate CLI: $WINSTATE_STATE_DIR, else a per-machine (Windows) or per-user folder.
    if ($env:WINSTATE_STATE_DIR) { return $env:WINSTATE_STATE_DIR }
    if ([System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT) {
        return [System.IO.Path]::Combine($env:ProgramData, 'winstate')
    }
    $base = $env:XDG_STATE_HOME
    if (-not $base) { $base = [System.IO.Path]::Combine($HOME, '.local', 'state') }
    return [System.IO.Path]::Combine($base, 'winstate')
}

function Get-WsLockPath {
    # The CLI uses the same paths (src/engine/state.ts): beside a snapshot, or one per machine.
    param([AllowEmptyString()][string] $RegistrySnapshot)
    if ($RegistrySnapshot) { return $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($RegistrySnapshot) + '.lock' }
    return [System.IO.Path]::Combine($env:ProgramData, 'winstate', 'registry.lock')
}

function Enter-WsLock {
    # Creates the lock file or fails naming its holder; a stale lock is taken over. Returns the
    # lock's token, which every save checks (Assert-WsFence).
    param([string] $Path, [string] $Document)
    $me = [System.Diagnostics.Process]::GetCurrentProcess()
    $token = [guid]::NewGuid().ToString('N')
    $record = [ordered]@{
        pid = $me.Id; host = [System.Environment]::MachineName; processStarted = $me.StartTime.ToUniversalTime().ToString('o')
        document = $Document; since = [System.DateTime]::UtcNow.ToString('o'); token = $token
    }
    $bytes = [System.Text.Encoding]::UTF8.GetBytes((ConvertTo-Json -InputObject $record -Compress))
    $null = [System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($Path))
    for ($attempt = 0; $attempt -lt 2; $attempt++) {
        try {
            $stream = [System.IO.File]::Open($Path, [System.IO.FileMode]::CreateNew, [System.IO.FileAccess]::Write, [System.IO.FileShare]::None)
            try { $stream.Write($bytes, 0, $bytes.Length) } finally { $stream.Dispose() }
            return $token
        } catch {
            if (-not [System.IO.File]::Exists($Path)) { throw }
        }
        $holder = $null
        try { $holder = ConvertFrom-Json -InputObject ([System.IO.File]::ReadAllText($Path)) } catch { $holder = $null }
        if ($null -ne $holder -and (Test-WsLockStale -Holder $holder)) {
            [System.IO.File]::Delete($Path)
            continue
        }
        if ($null -eq $holder) { throw "The target is locked: $Path exists but cannot be read. Remove it if no winstate run is active." }
        throw ("The target is locked by process {0} on {1} (document '{2}', since {3}). Lock file: {4}" -f $holder.pid, $holder.host, $holder.document, $holder.since, $Path)
    }
    throw "Could not take the lock $Path."
}

function Test-WsLockStale {
    # Same rule as stale() in src/engine/state.ts: the writer is gone, or the winstate process that
    # started it is (its writer then stops before its next save). Only this machine's processes
    # can be checked; a reused process id shows a different start time.
    param($Holder)
    if ($Holder.host -ne [System.Environment]::MachineName) { return $false }
    $process = Get-Process -Id ([int]$Holder.pid) -ErrorAction SilentlyContinue
    if ($null -eq $process) { return $true }
    if ($null -ne $Holder.parentPid -and $null -eq (Get-Process -Id ([int]$Holder.parentPid) -ErrorAction SilentlyContinue)) { return $true }
    # The CLI (Node.js) records its start time only to the second or so: allow for that.
    try {
        # PowerShell 7's ConvertFrom-Json already turns ISO dates into DateTime; 5.1 leaves text.
        $recorded = $Holder.processStarted
        if ($recorded -isnot [System.DateTime]) {
            $recorded = [System.DateTime]::Parse([string]$recorded, [System.Globalization.CultureInfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::RoundtripKind)
        }
        return ([System.Math]::Abs(($process.StartTime.ToUniversalTime() - $recorded.ToUniversalTime()).TotalSeconds) -gt 5)
    } catch { return $false }
}

function Exit-WsLock {
    # Removes the lock only while it is still ours: a lock taken over belongs to its new holder.
    param([string] $Path, [string] $Token)
    $holder = $null
    try { $holder = ConvertFrom-Json -InputObject ([System.IO.File]::ReadAllText($Path)) } catch { return }
    if ([string]$holder.token -ceq $Token) { [System.IO.File]::Delete($Path) }
}

function Assert-WsFence {
    # Called before every save: a writer whose token no longer holds the lock, or whose parent
    # winstate process is gone, must save nothing. Throws, so the run fails loudly.
    param($Fence)
    if ($null -eq $Fence) { return }
    $holder = $null
    try { $holder = ConvertFrom-Json -InputObject ([System.IO.File]::ReadAllText($Fence.Path)) } catch { $holder = $null }
    if ($null -eq $holder -or [string]$holder.token -cne $Fence.Token) {
        throw ('This run no longer holds the target lock {0}: another writer took it over. Nothing more is saved.' -f $Fence.Path)
    }
    if ($null -ne $holder.parentPid -and $null -eq (Get-Process -Id ([int]$holder.parentPid) -ErrorAction SilentlyContinue)) {
        throw ('The winstate process {0} that started this run is gone; stopping before saving anything.' -f $holder.parentPid)
    }
}

function Step-WsTestHook {
    # Test seam: with WINSTATE_TEST_HOOKS set to a folder, a changing run announces each phase
    # (<phase>.reached) and waits for <phase>.go, so tests can stop or kill it at exact points.
    param([string] $Phase)
    $dir = $env:WINSTATE_TEST_HOOKS
    if (-not $dir) { return }
    [System.IO.File]::WriteAllText([System.IO.Path]::Combine($dir, $Phase + '.reached'), [string]$PID)
    $go = [System.IO.Path]::Combine($dir, $Phase + '.go')
    while (-not [System.IO.File]::Exists($go)) { Start-Sleep -Milliseconds 10 }
}

function Get-WsStoreState {
    param($Store, [string] $Hive, [string] $SubKey, $ValueName = $null)
    if ($Store.Kind -eq 'Snapshot') { return Get-WsSnapshotState -Store $Store -Hive $Hive -SubKey $SubKey -ValueName $ValueName }
    return Get-WsLiveState -Store $Store -Hive $Hive -SubKey $SubKey -ValueName $ValueName
}

function Test-WsStoreKeyEmpty {
    param($Store, [string] $Hive, [string] $SubKey)
    if ($Store.Kind -eq 'Snapshot') { return Test-WsSnapshotKeyEmpty -Store $Store -Hive $Hive -SubKey $SubKey }
    return Test-WsLiveKeyEmpty -Store $Store -Hive $Hive -SubKey $SubKey
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
    $exact = ConvertTo-WsHex -Bytes (ConvertTo-WsValueBytes -Kind $Kind -Data $Data -Bytes $Bytes)
    $typed = ($Kind -ne 'Raw')
    if ($typed -and ($Kind -eq 'String' -or $Kind -eq 'ExpandString' -or $Kind -eq 'MultiString')) {
        foreach ($text in @($Data)) {
            if ([regex]::IsMatch([string]$text, '\x00|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]')) { $typed = $false; break }
        }
    }
    if ($typed -and $null -ne $Bytes) { $typed = ($exact -ceq (ConvertTo-WsHex -Bytes (ConvertTo-WsValueBytes -Kind $Kind -Data $Data -Bytes $null))) }
    if (-not $typed) { $Value.rawData = $exact }
}

function Get-WsBackupEntry {
    # Everything Set may change for one resource: the value (or its absence), whether the key
    # existed, which keys Set will create, and for a key it removes, the whole tree below it.
    param($Store, $Resource)
    $state = Get-WsStoreState -Store $Store -Hive $Resource.Hive -SubKey $Resource.SubKey -ValueName $Resource.ValueName
    $entry = [ordered]@{
        resource = $Resource.Name; target = $Resource.Target; hive = $Resource.Hive; subKey = $Resource.SubKey
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
        while ($path.Length -gt 0 -and -not (Get-WsStoreState -Store $Store -Hive $Resource.Hive -SubKey $path).KeyExists) {
            $created.Insert(0, $path)
            $cut = $path.LastIndexOf([char]'\')
            if ($cut -lt 0) { break }
            $path = $path.Substring(0, $cut)
        }
        $entry.createdKeys = $created.ToArray()
    }
    if ($null -eq $Resource.ValueName -and $Resource.Ensure -eq 'Absent' -and $state.KeyExists) {
        if ($Store.Kind -eq 'Snapshot') { $tree = Get-WsSnapshotTree -Store $Store -Hive $Resource.Hive -SubKey $Resource.SubKey }
        else { $tree = Get-WsLiveTree -Store $Store -Hive $Resource.Hive -SubKey $Resource.SubKey }
        $entry.removedTree = @(foreach ($key in $tree) {
                [ordered]@{ subKey = $key.SubKey; values = @(foreach ($v in $key.Values) { Get-WsWireValue -Name $v.Name -Kind $v.Kind -TypeCode $v.TypeCode -Data $v.Data -Bytes $v.Bytes }) }
            })
    }
    return $entry
}

function Get-WsDefaultBackupPath {
    param([string] $Document)
    $stamp = [System.DateTime]::UtcNow.ToString('yyyyMMddTHHmmssfffZ')
    return [System.IO.Path]::Combine((Get-WsStateDirectory), 'backups', ('{0}-{1}.json' -f $Document, $stamp))
}

function Write-WsBackup {
    param([string] $Path, $Record)
    $null = [System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($Path))
    Write-WsFileAtomic -Path $Path -Bytes ([System.Text.Encoding]::UTF8.GetBytes((ConvertTo-WsAsciiJson -InputObject $Record)))
}

function Add-WsJournal {
    # One JSON line per applied change; each append reaches the file before the next change starts.
    param([string] $Path, $Entry)
    [System.IO.File]::AppendAllText($Path, (ConvertTo-WsAsciiJson -InputObject $Entry) + [char]10)
}
