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
    # The CLI uses the same paths (src/engine/state.ts): beside a snapshot file, or one per machine.
    param([AllowEmptyString()][string] $Snapshot)
    if ($Snapshot) { return $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Snapshot) + '.lock' }
    return [System.IO.Path]::Combine($env:ProgramData, 'winstate', 'registry.lock')
}

function Get-WsLockPathList {
    # Every lock a run takes: one per snapshot file in ordinal order of the full paths (as the CLI
    # sorts them), or the machine's lock when there is none.
    param([AllowEmptyCollection()][string[]] $Files)
    if ($Files.Count -eq 0) { return , @(Get-WsLockPath -Snapshot '') }
    $paths = [System.Collections.Generic.List[string]]::new()
    foreach ($file in $Files) { $paths.Add((Get-WsLockPath -Snapshot $file)) }
    $paths.Sort([System.StringComparer]::Ordinal)
    return , $paths.ToArray()
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
    # Called before every save: a writer whose token no longer holds one of its locks, or whose parent
    # winstate process is gone, must save nothing. Throws, so the run fails loudly.
    param($Fence)
    if ($null -eq $Fence) { return }
    foreach ($lock in $Fence.Locks) {
        $holder = $null
        try { $holder = ConvertFrom-Json -InputObject ([System.IO.File]::ReadAllText($lock.Path)) } catch { $holder = $null }
        if ($null -eq $holder -or [string]$holder.token -cne $lock.Token) {
            throw ('This run no longer holds the target lock {0}: another writer took it over. Nothing more is saved.' -f $lock.Path)
        }
        if ($null -ne $holder.parentPid -and $null -eq (Get-Process -Id ([int]$holder.parentPid) -ErrorAction SilentlyContinue)) {
            throw ('The winstate process {0} that started this run is gone; stopping before saving anything.' -f $holder.parentPid)
        }
    }
}

function Step-WsTestHook {
    # Test seam: with WINSTATE_TEST_HOOKS set to a folder, a changing run announces each phase
    # (<phase>.reached) and waits for <phase>.go, so tests can stop or kill it at exact points.
    param([string] $Phase)
    $dir = $env:WINSTATE_TEST_HOOKS
    if (-not $dir) { return }
    # Written aside and moved in: a test that sees the file must never read it empty.
    $reached = [System.IO.Path]::Combine($dir, $Phase + '.reached')
    [System.IO.File]::WriteAllText($reached + '.tmp', [string]$PID)
    [System.IO.File]::Move($reached + '.tmp', $reached)
    $go = [System.IO.Path]::Combine($dir, $Phase + '.go')
    while (-not [System.IO.File]::Exists($go)) { Start-Sleep -Milliseconds 10 }
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
