# The engine core shared by every generated script: the kind and store tables, the run
# (Invoke-WsConfiguration), the condition rules and the output. It knows no kind's internals:
# each kind is a module under src/kinds/<kind>/ reached through Get-WsKindModule, and each store
# is opened and saved through Open-WsStore / Save-WsStore (see src/kinds/CONTRACT.md).

# Kinds: the store each uses, its functions, and the row columns that say what it wants (a
# waiver override replaces them all). A row without Kind is a registry row, as rows were before kinds.
$script:WsKindTable = @{
    Registry       = @{ Store = 'Registry'; Noun = 'Registry'; Payload = 'Repair-WsRegistryPayload'
        DesiredColumns = @('ValueData', 'WireData', 'Condition', 'ConditionView', 'AbsentOk', 'Policy') }
    UserRight      = @{ Store = 'SecurityTemplate'; Noun = 'UserRight'; Payload = $null
        DesiredColumns = @('Principals', 'MustInclude', 'MustExclude', 'AllowLockout') }
    # The two template kinds share one module (security-policy/template-policy.ps1).
    AccountPolicy  = @{ Store = 'SecurityTemplate'; Noun = 'TemplatePolicy'; Payload = $null
        DesiredColumns = @('Value', 'Condition', 'ConditionView', 'Policy') }
    SecurityPolicy = @{ Store = 'SecurityTemplate'; Noun = 'TemplatePolicy'; Payload = $null
        DesiredColumns = @('Value', 'Condition', 'ConditionView', 'Policy') }
    AuditPolicy    = @{ Store = 'AuditBackup'; Noun = 'AuditPolicy'; Payload = $null
        DesiredColumns = @('Ensure', 'Success', 'Failure') }
    AppLockerPolicy = @{ Store = 'Registry'; Noun = 'AppLockerPolicy'; Payload = $null
        DesiredColumns = @('Collections', 'Exact') }
    # Check only, no store: it queries the live system itself (Store 'None': see Invoke-WsConfiguration).
    CimInstance    = @{ Store = 'None'; Noun = 'CimInstance'; Payload = $null; CheckOnly = $true
        DesiredColumns = @('Expect') }
}

# Stores: how each opens and saves, offline (a file) and live; what a missing file is called.
# Immediate: live changes are real at once (journaled one by one, the lock checked before each).
# ReportedAsSnapshot: the store whose file reports and backups show as 'snapshot' (as before kinds).
$script:WsStoreTable = @{
    Registry         = @{
        Open = 'Open-WsSnapshotStore'; Save = 'Save-WsSnapshotStore'; OpenLive = 'Open-WsLiveStore'; SaveLive = 'Save-WsLiveStore'
        CloseLive = $null; Immediate = $true; Parameter = 'RegistrySnapshot'; Need = 'a registry export'; Example = 'file.reg'; ReportedAsSnapshot = $true
    }
    SecurityTemplate = @{
        Open = 'Open-WsSecurityTemplate'; Save = 'Save-WsSecurityTemplate'; OpenLive = 'Open-WsLiveSecurityTemplate'; SaveLive = 'Save-WsLiveSecurityTemplate'
        CloseLive = 'Close-WsLiveStore'; Immediate = $false; Parameter = 'SecurityTemplate'; Need = 'a security template'; Example = 'secedit.inf'
    }
    AuditBackup      = @{
        Open = 'Open-WsAuditBackup'; Save = 'Save-WsAuditBackup'; OpenLive = 'Open-WsLiveAuditBackup'; SaveLive = 'Save-WsLiveAuditBackup'
        CloseLive = 'Close-WsLiveStore'; Immediate = $false; Parameter = 'AuditBackup'; Need = 'an audit policy backup'; Example = 'audit.csv'
    }
}
# The order stores are opened, saved and reported in.
$script:WsStoreOrder = @('Registry', 'SecurityTemplate', 'AuditBackup')

function Get-WsKindModule {
    <#
    .SYNOPSIS
    A kind's module: its store's name and the names of its functions (States, State, Set, Backup, Format).
    .PARAMETER Kind
    The kind (a row's Kind column); empty means Registry.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param([AllowEmptyString()] [AllowNull()] [string] $Kind)
    if (-not $Kind) { $Kind = 'Registry' }
    $entry = $script:WsKindTable[$Kind]
    if ($null -eq $entry) { throw "unknown resource kind '$Kind' (this runtime knows $(@($script:WsKindTable.Keys | Sort-Object) -join ', '))" }
    if ($null -eq $entry.States) {
        $noun = $entry.Noun
        $entry.Kind = $Kind
        $entry.States = "Get-Ws${noun}States"; $entry.State = "Get-Ws${noun}State"; $entry.Set = "Set-Ws${noun}State"
        $entry.Backup = "Get-Ws${noun}BackupEntry"; $entry.Backups = "Get-Ws${noun}BackupEntries"; $entry.Format = "Format-Ws${noun}StateText"
    }
    return $entry
}

function Open-WsStore {
    <#
    .SYNOPSIS
    Opens a store: the file given (offline), or the live system when no file is given.
    .PARAMETER Name
    The store: Registry, SecurityTemplate or AuditBackup.
    .PARAMETER LiteralPath
    The snapshot file; empty for the live system.
    .OUTPUTS
    The store hashtable with Name, Offline, Path and Immediate added to the store's own data.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [string] $Name,
        [AllowEmptyString()] [string] $LiteralPath
    )
    $entry = $script:WsStoreTable[$Name]
    if ($null -eq $entry) { throw "unknown store '$Name'" }
    if ($LiteralPath) {
        $full = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($LiteralPath)
        # A file this session has already parsed and that has not changed since is not parsed again.
        $cache = Get-WsStoreCache
        $cached = $cache[$Name + '|' + $full]
        if ($null -ne $cached -and $cached.Stamp -ceq (Get-WsFileStamp -Path $full)) { return $cached.Store }
        $store = & $entry.Open -LiteralPath $full
        $store.Offline = $true
        $store.Immediate = $false
    } else {
        $store = & $entry.OpenLive
        $store.Offline = $false
        $store.Immediate = $entry.Immediate
    }
    $store.Name = $Name
    return $store
}

function Save-WsStore {
    <#
    .SYNOPSIS
    Writes a store's changes: its file atomically (offline) or through its tool (live), after
    checking that the run still holds the lock (Fence).
    .PARAMETER Store
    A store from Open-WsStore.
    .PARAMETER Fence
    The lock this run holds (Path, Token), or $null.
    .OUTPUTS
    $true when something was written.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [AllowNull()] [hashtable] $Fence
    )
    $entry = $script:WsStoreTable[$Store.Name]
    $save = $entry.SaveLive
    if ($Store.Offline) { $save = $entry.Save }
    return [bool](& $save -Store $Store -Fence $Fence)
}

function Close-WsStore {
    <#
    .SYNOPSIS
    Ends a run's use of a store: a live store's work directory goes; a file store that matches
    its file (nothing left unsaved) is kept for the session's next run, which reuses it while the
    file stays unchanged (length, last write time and SHA-256).
    .PARAMETER Store
    A store from Open-WsStore.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [hashtable] $Store)
    if ($Store.Offline) {
        $cache = Get-WsStoreCache
        $key = $Store.Name + '|' + $Store.Path
        $cache.Remove($key)
        if (-not $Store.Dirty) {
            $stamp = Get-WsFileStamp -Path $Store.Path
            if ($null -ne $stamp) { $cache[$key] = @{ Stamp = $stamp; Store = $Store } }
        }
        return
    }
    $close = $script:WsStoreTable[$Store.Name].CloseLive
    if ($close) { & $close -Store $Store }
}

function Get-WsStoreCache {
    # Parsed snapshot files, kept for the life of the PowerShell process (the bridge's session
    # runs many requests; a standalone script runs one). One entry per store and file.
    $cache = [System.AppDomain]::CurrentDomain.GetData('winstate.storeCache')
    if ($null -eq $cache) {
        $cache = [hashtable]::Synchronized(@{})
        [System.AppDomain]::CurrentDomain.SetData('winstate.storeCache', $cache)
    }
    return $cache
}

function Get-WsFileStamp {
    # What tells a file unchanged: its length, last write time and SHA-256; $null when it is gone.
    param([string] $Path)
    $info = [System.IO.FileInfo]::new($Path)
    if (-not $info.Exists) { return $null }
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try { $hash = [System.BitConverter]::ToString($sha.ComputeHash([System.IO.File]::ReadAllBytes($Path))) } finally { $sha.Dispose() }
    return '{0}|{1}|{2}' -f $info.Length, $info.LastWriteTimeUtc.Ticks, $hash
}

function ConvertFrom-WsPayload {
    # The bridge passes the document and its resource table as CLIXML data (one deserialisation,
    # exact types); each kind that needs it repairs its rows once (lists come back as ArrayList).
    param([Parameter(Mandatory = $true)][string] $Payload)
    $data = [System.Management.Automation.PSSerializer]::Deserialize($Payload)
    $resources = @()
    if ($null -ne $data.Resources) { $resources = $data.Resources.ToArray() }
    foreach ($entry in $script:WsKindTable.Values) {
        if ($entry.Payload) { & $entry.Payload -Resources $resources }
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

function Test-WsCondition {
    # Same rules as meetsCondition in src/kinds/condition.ts (shared cases in
    # test/fixtures/kinds/condition-cases.json): every listed test must hold, and one of AnyOf when
    # given. Numbers compare unsigned (Signed: as int64, for template integers); a String under
    # numeric tests must be a decimal number; text compares exactly (IgnoreCase: ignoring case).
    param($Condition, $Data)
    $value = $Data
    if ($Condition.Numeric) {
        if ($Condition.Signed) {
            $value = [int64]$Data
        } elseif ($Data -is [string]) {
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
        if ($Condition.IgnoreCase) { foreach ($allowed in $Condition.OneOf) { if ([string]$allowed -ieq [string]$value) { $found = $true; break } } }
        else { foreach ($allowed in $Condition.OneOf) { if ([string]$allowed -ceq [string]$value) { $found = $true; break } } }
        if (-not $found) { return $false }
    }
    if ($null -ne $Condition.Not) {
        if ($Condition.IgnoreCase) { foreach ($refused in $Condition.Not) { if ([string]$refused -ieq [string]$value) { return $false } } }
        else { foreach ($refused in $Condition.Not) { if ([string]$refused -ceq [string]$value) { return $false } } }
    }
    if ($null -ne $Condition.BitsSet -and ($value -band $Condition.BitsSet) -ne $Condition.BitsSet) { return $false }
    if ($null -ne $Condition.BitsClear -and ($value -band $Condition.BitsClear) -ne 0) { return $false }
    if ($null -ne $Condition.AnyOf) {
        foreach ($alternative in $Condition.AnyOf) { if (Test-WsCondition -Condition $alternative -Data $Data) { return $true } }
        return $false
    }
    return $true
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
    # A view in its kind's words (Format-Ws<Kind>StateText).
    param([AllowEmptyString()][string] $Kind, $View)
    return & (Get-WsKindModule -Kind $Kind).Format -View $View
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
        if ($r.Contains('checkOnly') -and -not $r.inDesiredState) { $note += ' [check only: set does not change it]' }
        if ($r.Contains('error')) { $lines.Add(('[ERROR]   {0}: {1}' -f $r.name, $r.error)); continue }
        if ($r.Contains('waived')) { $lines.Add(('[WAIVED]  {0}: until {1}: {2}' -f $r.name, $r.waiver.expires, $r.waiver.justification)); continue }
        if ($r.Contains('notEvaluated')) { $lines.Add(('[SKIPPED] {0}: {1}' -f $r.name, $r.notEvaluated)); continue }
        if ($r.Contains('skipped')) { $lines.Add(('[SKIPPED] {0}: not attempted (an earlier setting failed; -FailFast)' -f $r.name)); continue }
        if ($Report.mode -eq 'Get') { $lines.Add(('[GET]     {0}: {1}' -f $r.name, (Format-WsStateText -Kind $r.kind -View $r.actual))); continue }
        $current = $r.actual
        if ($r.Contains('before')) { $current = $r.before }
        $diff = '{0} -> {1}' -f (Format-WsStateText -Kind $r.kind -View $current), (Format-WsStateText -Kind $r.kind -View $r.desired)
        if ($r.Contains('changed') -and $r.changed) { $lines.Add(('[CHANGED] {0}: {1}{2}' -f $r.name, $diff, $note)) }
        elseif ($r.Contains('whatIf')) { $lines.Add(('[WHATIF]  {0}: would change {1}{2}' -f $r.name, $diff, $note)) }
        elseif (-not $r.inDesiredState) { $lines.Add(('[DRIFT]   {0}: {1}{2}' -f $r.name, $diff, $note)) }
        else { $lines.Add(('[OK]      {0}: {1}{2}' -f $r.name, (Format-WsStateText -Kind $r.kind -View $current), $note)) }
    }
    $s = $Report.summary
    # As the CLI says it (src/plural.ts): '1 resource', '2 resources'.
    $resources = if ($s.total -eq 1) { 'resource' } else { 'resources' }
    if ($Report.mode -eq 'Get') {
        $lines.Add(('{0} {1} read' -f $s.total, $resources))
    } else {
        $already = 'in desired state'
        if ($Report.mode -eq 'Set') { $already = 'already in desired state' }
        $line = '{0} {1}: {2} changed, {3} {4}, {5} drifted, {6} failed' -f $s.total, $resources, $s.changed, $s.inDesiredState, $already, $s.drifted, $s.failed
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
    $result = [ordered]@{ name = $Resource.Name; type = $Resource.Type; kind = (Get-WsKindModule -Kind $Resource.Kind).Kind; target = $Resource.Target }
    if ($null -ne $Resource.Id) { $result.id = $Resource.Id }
    return $result
}

function Invoke-WsSetPhase {
    # The set phase of Invoke-WsConfiguration: the backup of what will change, the changes in
    # order, the saves and the journal. A function of its own so that a read-only run never
    # compiles it (PowerShell compiles a whole function body on its first call).
    # Returns the backup file written, or $null.
    param([hashtable] $Run)
    $Resources = $Run.Resources
    $results = $Run.results
    $states = $Run.states
    $modules = $Run.modules
    $groups = $Run.groups
    $stores = $Run.stores
    $offline = $Run.offline
    $changing = $Run.changing
    $BackupPath = $Run.BackupPath
    $Document = $Run.Document
    $mainFile = $Run.mainFile
    $snapshots = $Run.snapshots
    $fence = $Run.fence
    $Cmdlet = $Run.Cmdlet
    $FailFast = $Run.FailFast
    $backup = $null
    # What this run may touch: what drifts now, and what the kind wants judged again at
    # set time (a key to remove once empty, which earlier resources of the same run may empty).
    $touched = @(for ($i = 0; $i -lt $Resources.Count; $i++) {
            if ($null -ne $states[$i] -and -not $modules[$i].CheckOnly -and ($states[$i].Differing.Length -gt 0 -or $states[$i].Recheck)) { $i }
        })
    $drifted = @(foreach ($i in $touched) { if ($states[$i].Differing.Length -gt 0) { $i } })
    if ($changing -and $drifted.Count -gt 0) {
        if (-not $BackupPath) { $BackupPath = Get-WsDefaultBackupPath -Document $Document.Name }
        $BackupPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($BackupPath)
        # One call per kind; the entries keep the resources' order.
        $entryAt = [object[]]::new($Resources.Count)
        foreach ($kind in $groups.Keys) {
            $module = Get-WsKindModule -Kind $kind
            $mine = @(foreach ($i in $touched) { if ($modules[$i].Kind -eq $kind) { $i } })
            if ($mine.Count -eq 0) { continue }
            $made = & $module.Backups -Store $stores[$module.Store] -Resources ([object[]]@(foreach ($i in $mine) { $Resources[$i] }))
            for ($j = 0; $j -lt $mine.Count; $j++) { $entryAt[$mine[$j]] = $made[$j] }
        }
        $entries = @(foreach ($i in $touched) { $entryAt[$i] })
        $backupTarget = 'Live'
        if ($offline) { $backupTarget = 'Snapshot' }
        Write-WsBackup -Path $BackupPath -Record ([ordered]@{
                tool = 'winstate'; version = $Document.WinstateVersion; document = $Document.Name
                target = $backupTarget; snapshot = $mainFile; snapshots = $snapshots
                createdAt = [System.DateTime]::UtcNow.ToString('o'); entries = $entries
            })
        $backup = $BackupPath
        Step-WsTestHook -Phase 'backup'
    }
    $journal = $null
    if ($null -ne $backup) { $journal = $backup + '.journal' }
    $appliedCount = 0
    # Changes waiting for their store's save before they are journaled.
    $pending = @{}
    foreach ($name in $stores.Keys) { $pending[$name] = [System.Collections.Generic.List[object]]::new() }
    # Settings this run has changed (per store), and stores where a change touched more than
    # one setting (a registry key): only resources those can affect are read again.
    $touchedSettings = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
    $changedStores = @{}
    $broadStores = @{}
    # -WhatIf, -Confirm and -Verbose show each change in words; otherwise the words are not needed.
    $describe = ([bool]$WhatIfPreference -or $ConfirmPreference -ne 'High' -or $VerbosePreference -ne 'SilentlyContinue')
    $stopped = $false
    for ($i = 0; $i -lt $Resources.Count; $i++) {
        $resource = $Resources[$i]
        $result = $results[$i]
        if ($result.Contains('error') -or $result.Contains('waived') -or $result.Contains('notEvaluated')) { continue }
        if ($stopped) { $result.skipped = $true; continue }
        $result.changed = $false
        $module = $modules[$i]
        # Check only: reported as it is, never changed.
        if ($module.CheckOnly) { $result.after = $states[$i].View; continue }
        $storeName = $module.Store
        $store = $stores[$storeName]
        # A change real at once is a save: a writer that lost the lock (or its parent) stops before it.
        if ($store.Immediate -and $changing) { Assert-WsFence -Fence $fence }
        try {
            # Resources apply in order, so an earlier change can matter here (the same setting
            # named twice, a key it emptied): read again what an earlier change may have touched.
            $setting = $states[$i].Setting
            if ($changedStores.ContainsKey($storeName) -and ($broadStores.ContainsKey($storeName) -or $null -eq $setting -or $touchedSettings.Contains($storeName + ':' + $setting))) {
                $states[$i] = & $module.State -Store $store -Resource $resource
                $result.before = $states[$i].View
                $result.differingProperties = $states[$i].Differing
            }
            if ($states[$i].Differing.Length -gt 0) {
                $target = '{0} [{1}]' -f $resource.Name, $resource.Target
                $action = 'Change'
                if ($describe) {
                    $now = Format-WsStateText -Kind $module.Kind -View $states[$i].View
                    $action = 'Set {0} -> {1}' -f $now, (Format-WsStateText -Kind $module.Kind -View $result.desired)
                    if ($resource.Ensure -eq 'Absent') { $action = 'Remove ({0} now)' -f $now }
                }
                if ($Cmdlet.ShouldProcess($target, $action)) {
                    $after = & $module.Set -Store $store -Resource $resource
                    if ($null -eq $after) { $after = & $module.State -Store $store -Resource $resource }
                    $changedStores[$storeName] = $true
                    if ($null -eq $setting) { $broadStores[$storeName] = $true } else { $null = $touchedSettings.Add($storeName + ':' + $setting) }
                    $result.changed = $true
                    $change = [ordered]@{ resource = $resource.Name; target = $resource.Target }
                    # Changes real at once are journaled at once; the others once their store is saved.
                    if ($store.Immediate) { if ($null -ne $journal) { Add-WsJournal -Path $journal -Entry $change } }
                    else { $pending[$storeName].Add($change) }
                    $appliedCount++
                    if ($appliedCount -eq 1) { Step-WsTestHook -Phase 'changed' }
                    $states[$i] = $after
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
    foreach ($name in $stores.Keys) {
        $store = $stores[$name]
        if (-not $store.Dirty) { continue }
        $saved = Save-WsStore -Store $store -Fence $fence
        if ($saved) { Step-WsTestHook -Phase 'saved' }
        if ($saved -and $null -ne $journal) { foreach ($change in $pending[$name]) { Add-WsJournal -Path $journal -Entry $change } }
    }
    if ($null -ne $journal) {
        Step-WsTestHook -Phase 'journal'
        Add-WsJournal -Path $journal -Entry ([ordered]@{ complete = $true; applied = $appliedCount })
    }
    if ($changing) { Step-WsTestHook -Phase 'done' }
    return $backup
}

function Invoke-WsConfiguration {
    param(
        $Document, $Resources, [string] $Mode, [AllowEmptyString()][string] $RegistrySnapshot, $Cmdlet,
        [AllowEmptyString()][string] $BackupPath, [bool] $FailFast, [bool] $NoLock, [AllowEmptyString()][string] $LockToken,
        [AllowEmptyString()][string] $LockFile, [AllowEmptyString()][string] $SecurityTemplate, [AllowEmptyString()][string] $AuditBackup
    )
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $changing = ($Mode -eq 'Set' -and -not $WhatIfPreference)
    if ($null -eq $Resources) { $Resources = @() }
    $Resources = @($Resources)
    # The snapshot given for each store; one given makes the whole run offline.
    $given = @{ RegistrySnapshot = $RegistrySnapshot; SecurityTemplate = $SecurityTemplate; AuditBackup = $AuditBackup }
    $files = @{}
    $offline = $false
    foreach ($name in $script:WsStoreOrder) {
        $files[$name] = $given[$script:WsStoreTable[$name].Parameter]
        if ($files[$name]) { $offline = $true }
    }
    # A live change from a PowerShell that is not elevated would fail value by value: said once, first.
    if ($changing -and -not $offline -and [System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT -and -not (Test-WsElevated)) {
        throw 'changing the live machine needs administrator rights, and this PowerShell is not elevated: run the script from an elevated prompt (Run as administrator); nothing was changed'
    }
    # Each resource's kind module, and the stores the run needs: checked before the lock or any read.
    $modules = [object[]]::new($Resources.Count)
    $needed = @{}
    $byKind = @{}
    for ($i = 0; $i -lt $Resources.Count; $i++) {
        # One lookup per kind, not per resource: at 300 resources each call per resource costs ~10 ms.
        $kindName = [string]$Resources[$i].Kind
        $module = $byKind[$kindName]
        if ($null -eq $module) { $module = Get-WsKindModule -Kind $kindName; $byKind[$kindName] = $module }
        $modules[$i] = $module
        if ($module.Store -ne 'None' -and -not $needed.ContainsKey($module.Store)) {
            $needed[$module.Store] = $module.Kind
            $store = $script:WsStoreTable[$module.Store]
            if ($offline -and -not $files[$module.Store]) {
                throw ('{0} resources need {1}: pass --snapshot <{2}> (script parameter -{3})' -f $module.Kind, $store.Need, $store.Example, $store.Parameter)
            }
        }
    }
    # One lock per file of an offline run, taken in ordinal order of the full paths (the CLI's order,
    # so two runs cannot deadlock), or the machine's one lock for a live run.
    $lockPaths = Get-WsLockPathList -Files @(foreach ($name in $script:WsStoreOrder) { if ($files[$name]) { $files[$name] } })
    $taken = @()
    $fence = $null
    if ($changing -and $LockToken) {
        # The caller (the winstate CLI) took the locks in this process's name; every save checks they still hold.
        # The live lock's path too when given: under Wine the two sides need not agree on %ProgramData%.
        if ($LockFile -and -not $offline) { $lockPaths = @($LockFile) }
        $fence = @{ Locks = @(foreach ($path in $lockPaths) { @{ Path = $path; Token = $LockToken } }) }
    } elseif ($changing -and -not $NoLock) {
        # Before reading: a second writer must not read what the first is about to replace.
        try {
            foreach ($path in $lockPaths) { $taken += @{ Path = $path; Token = (Enter-WsLock -Path $path -Document $Document.Name) } }
        } catch {
            foreach ($lock in $taken) { Exit-WsLock -Path $lock.Path -Token $lock.Token }
            throw
        }
        $fence = @{ Locks = $taken }
    }
    if ($changing) { Step-WsTestHook -Phase 'locked' }
    $stores = [ordered]@{}
    try {
        # Every store given as a file (so each is checked and reported), and the live stores the kinds need.
        foreach ($name in $script:WsStoreOrder) {
            if ($files[$name] -or (-not $offline -and $needed.ContainsKey($name))) {
                $stores[$name] = Open-WsStore -Name $name -LiteralPath $files[$name]
            }
        }
        # What each kind is given: its store, or for a kind without one ('None') only whether the run is offline.
        $storeOf = @{ None = @{ Name = 'None'; Offline = $offline; Immediate = $false; Dirty = $false } }
        foreach ($name in $stores.Keys) { $storeOf[$name] = $stores[$name] }
        # Reports name every file used, and the one reports have always shown as 'snapshot'.
        $snapshots = [ordered]@{}
        $mainFile = $null
        foreach ($name in $stores.Keys) {
            if (-not $stores[$name].Offline) { continue }
            $snapshots[$name] = $stores[$name].Path
            if ($script:WsStoreTable[$name].ReportedAsSnapshot) { $mainFile = $stores[$name].Path }
        }
        # Read everything first: Set records the prior state of all it will change before changing anything.
        $results = [System.Collections.Generic.List[object]]::new()
        $states = [object[]]::new($Resources.Count)
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
                        foreach ($column in $modules[$i].DesiredColumns) { $r.Remove($column) }
                        foreach ($column in $r.Waiver.Override.Keys) { $r[$column] = $r.Waiver.Override[$column] }
                    }
                }
                $waivers[$i] = $view
            }
            $effective[$i] = $r
        }
        $Resources = $effective
        # States in one call per kind (fast); if that fails, one by one so that only the failing resource fails.
        $groups = [ordered]@{}
        for ($i = 0; $i -lt $Resources.Count; $i++) {
            $kind = $modules[$i].Kind
            if (-not $groups.Contains($kind)) { $groups[$kind] = [System.Collections.Generic.List[int]]::new() }
            $groups[$kind].Add($i)
        }
        $batch = [object[]]::new($Resources.Count)
        foreach ($kind in $groups.Keys) {
            $indexes = $groups[$kind]
            $module = Get-WsKindModule -Kind $kind
            $rows = [object[]]::new($indexes.Count)
            for ($j = 0; $j -lt $indexes.Count; $j++) { $rows[$j] = $Resources[$indexes[$j]] }
            try {
                $read = & $module.States -Store $storeOf[$module.Store] -Resources $rows
                for ($j = 0; $j -lt $indexes.Count; $j++) { $batch[$indexes[$j]] = $read[$j] }
            } catch { $null = $_ }
        }
        for ($index = 0; $index -lt $Resources.Count; $index++) {
            $resource = $Resources[$index]
            $module = $modules[$index]
            # Inline rather than helpers: at 300 resources each extra call per resource costs ~10 ms.
            $result = [ordered]@{ name = $resource.Name; type = $resource.Type; kind = $module.Kind; target = $resource.Target }
            if ($null -ne $resource.Id) { $result.id = $resource.Id }
            $current = $batch[$index]
            try {
                if ($null -eq $current) { $current = & $module.State -Store $storeOf[$module.Store] -Resource $resource }
                if ($Mode -eq 'Get') {
                    $result.actual = $current.View
                } else {
                    $result.desired = $current.Desired
                    if ($Mode -eq 'Test') { $result.actual = $current.View } else { $result.before = $current.View }
                    $result.inDesiredState = ($current.Differing.Length -eq 0)
                    $result.differingProperties = $current.Differing
                    if ($module.CheckOnly) { $result.checkOnly = $true }
                }
                if ($null -ne $current.NotEvaluated) {
                    # Not judged (a runtime query on a snapshot): counted once, as skipped, with why.
                    foreach ($judged in @('inDesiredState', 'differingProperties', 'actual', 'before')) { if ($result.Contains($judged)) { $result.Remove($judged) } }
                    $result.notEvaluated = [string]$current.NotEvaluated
                    $result.skipped = $true
                    $current = $null
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
            $states[$index] = $current
        }
        $backup = $null
        $partial = $false
        if ($Mode -eq 'Set') {
            $backup = Invoke-WsSetPhase -Run @{
                Resources = $Resources; results = $results; states = $states; modules = $modules; groups = $groups; stores = $stores
                offline = $offline; changing = $changing; BackupPath = $BackupPath; Document = $Document; mainFile = $mainFile
                snapshots = $snapshots; fence = $fence; Cmdlet = $Cmdlet; FailFast = $FailFast
            }
        }
        $summary = [ordered]@{ total = $Resources.Count; inDesiredState = 0; drifted = 0; changed = 0; failed = 0; skipped = 0; waived = 0 }
        # Each resource in at most one count (Get judges nothing), so that test and set add up to the total.
        $anyChange = $false
        # Not evaluated (a runtime check on a snapshot) is skipped by design, not a change left undone.
        $notEvaluated = 0
        foreach ($result in $results) {
            $madeChange = ($result.Contains('changed') -and $result.changed)
            if ($madeChange) { $anyChange = $true }
            if ($result.Contains('error')) { $summary.failed++ }
            elseif ($result.Contains('waived')) { $summary.waived++ }
            elseif ($result.Contains('skipped')) { $summary.skipped++; if ($result.Contains('notEvaluated')) { $notEvaluated++ } }
            elseif ($madeChange) { $summary.changed++ }
            elseif ($result.Contains('inDesiredState')) {
                if ($result.inDesiredState) { $summary.inDesiredState++ } else { $summary.drifted++ }
            }
        }
        # Partial: some changes were made (even one whose read-back then failed) but not all succeeded.
        $partial = ($anyChange -and ($summary.failed + $summary.skipped - $notEvaluated) -gt 0)
        $target = 'live'
        if ($offline) { $target = 'snapshot' }
        return [ordered]@{
            tool = 'winstate'; version = $Document.WinstateVersion; document = $Document.Name; mode = $Mode
            target = $target; snapshot = $mainFile; snapshots = $snapshots; whatIf = [bool]$WhatIfPreference; backup = $backup; partial = $partial
            psVersion = $PSVersionTable.PSVersion.ToString(); psEdition = $PSVersionTable.PSEdition
            durationMs = [int]$clock.ElapsedMilliseconds; summary = $summary; results = $results.ToArray()
        }
    } finally {
        foreach ($store in $stores.Values) { try { Close-WsStore -Store $store } catch { $null = $_ } }
        foreach ($lock in $taken) { Exit-WsLock -Path $lock.Path -Token $lock.Token }
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
