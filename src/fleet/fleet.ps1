# winstate fleet: PowerShell remoting over SSH, driven from the CLI's persistent PowerShell.
# Loaded once per session; the TypeScript side (src/fleet/fanout.ts) calls these functions with
# values that went through the quoting gate. Sessions live in $global:WsFleetSessions between
# requests, so one connection per host serves the identity probe, test, set and backup fetch.

if ($null -eq $global:WsFleetSessions) { $global:WsFleetSessions = @{} }
# Script texts by SHA-256, sent once from the CLI and then named by their hash.
if ($null -eq $global:WsFleetTexts) { $global:WsFleetTexts = @{} }

function New-WsFleetConnectionInfo {
    <#
    .SYNOPSIS
        How one host is reached: SSH (user, key, port, the powershell subsystem) or WinRM
        (http://address:port/wsman, https on 5986, as the identity running winstate).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] $Target,
        [Parameter(Mandatory = $true)] [int] $OpenTimeoutSeconds,
        [Parameter(Mandatory = $true)] [hashtable] $SshOptions
    )
    if ($Target.Transport -eq 'winrm') {
        $scheme = 'http'
        if ([int]$Target.Port -eq 5986) { $scheme = 'https' }
        # UriBuilder puts an IPv6 address in brackets.
        $uri = ([System.UriBuilder]::new($scheme, [string]$Target.Address, [int]$Target.Port, 'wsman')).Uri
        $info = [System.Management.Automation.Runspaces.WSManConnectionInfo]::new($uri)
        $info.OpenTimeout = $OpenTimeoutSeconds * 1000
        return $info
    }
    $key = $Target.KeyFile
    if (-not $key) { $key = $null }
    return [System.Management.Automation.Runspaces.SSHConnectionInfo]::new([string]$Target.User, [string]$Target.Address, $key, [int]$Target.Port, 'powershell', $OpenTimeoutSeconds * 1000, $SshOptions)
}

function Open-WsFleetSession {
    <#
    .SYNOPSIS
        Opens one remoting session per host, all at once, and waits (bounded) until each is usable or broken.
    .PARAMETER Hosts
        Hashtables with Name, Address, User, Port, KeyFile (or $null), Transport ('ssh' or 'winrm').
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [object[]] $Hosts,
        [Parameter(Mandatory = $true)] [int] $ConnectTimeoutSeconds,
        [Parameter(Mandatory = $true)] [int] $OpenTimeoutSeconds
    )
    # Runspaces opened asynchronously: New-PSSession -HostName connects one host after another, and
    # a remote PowerShell takes seconds to start, so a fleet would wait for the sum of them.
    $sshOptions = @{
        BatchMode = 'yes'                         # never prompt for a password when the key is refused
        ConnectTimeout = [string]$ConnectTimeoutSeconds
        StrictHostKeyChecking = 'accept-new'
        LogLevel = 'ERROR'
    }
    if ($env:WINSTATE_SSH_KNOWN_HOSTS) {
        $sshOptions.UserKnownHostsFile = $env:WINSTATE_SSH_KNOWN_HOSTS
    }
    $pending = @()
    $failures = @{}
    foreach ($h in $Hosts) {
        try {
            $info = New-WsFleetConnectionInfo -Target $h -OpenTimeoutSeconds $OpenTimeoutSeconds -SshOptions $sshOptions
            $runspace = [runspacefactory]::CreateRunspace($Host, $info)
            $runspace.OpenAsync()
            $pending += [pscustomobject]@{ Name = $h.Name; Runspace = $runspace; Transport = $h.Transport }
        } catch {
            $failures[$h.Name] = $_.Exception.Message
        }
    }
    $deadline = [DateTime]::UtcNow.AddSeconds($OpenTimeoutSeconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        $waiting = @($pending | Where-Object {
                $state = $_.Runspace.RunspaceStateInfo.State
                $state -eq 'BeforeOpen' -or $state -eq 'Opening' -or ($state -eq 'Opened' -and $_.Runspace.RunspaceAvailability -ne 'Available')
            })
        if ($waiting.Count -eq 0) { break }
        Start-Sleep -Milliseconds 50
    }
    $opened = @()
    foreach ($p in $pending) {
        $info = $p.Runspace.RunspaceStateInfo
        # Opened is enough: availability flickers to Busy while the runspace settles, and a command waits for it.
        if ($info.State -eq 'Opened') {
            $transportName = 'SSH'
            if ($p.Transport -eq 'winrm') { $transportName = 'WSMan' }
            $global:WsFleetSessions[$p.Name] = [System.Management.Automation.Runspaces.PSSession]::Create($p.Runspace, $transportName, $null)
            $opened += $p.Name
        } else {
            $reason = 'not open after ' + $OpenTimeoutSeconds + ' s (state ' + $info.State + ')'
            if ($info.Reason) { $reason = $info.Reason.Message }
            $failures[$p.Name] = $reason
            try { $p.Runspace.Dispose() } catch { }
        }
    }
    [pscustomobject]@{ Opened = $opened; Failures = $failures } | ConvertTo-Json -Depth 4 -Compress
}

function Start-WsFleetScript {
    <#
    .SYNOPSIS
        Starts one script on the named hosts' sessions with one Invoke-Command -ThrottleLimit -AsJob,
        each host with its own parameters. Get-WsFleetProgress and Complete-WsFleetScript follow it.
    .PARAMETER ScriptText
        The script, or '' when an earlier call already gave the text of ScriptHash.
    .PARAMETER ArgumentsByHost
        One hashtable per host: Name, and Arguments (the script's parameters there, splatted on the host).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [string[]] $Names,
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $ScriptText,
        [Parameter(Mandatory = $true)] [string] $ScriptHash,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $ArgumentsByHost,
        [Parameter(Mandatory = $true)] [int] $ThrottleLimit,
        [Parameter(Mandatory = $true)] [int] $PrepareTimeoutSeconds
    )
    $argumentsOf = @{}
    foreach ($entry in $ArgumentsByHost) { $argumentsOf[[string]$entry.Name] = $entry.Arguments }
    if ($ScriptText) { $global:WsFleetTexts[$ScriptHash] = $ScriptText }
    $text = $global:WsFleetTexts[$ScriptHash]
    if ($null -eq $text) { throw ('no script text for ' + $ScriptHash + ': send it again') }
    $records = @{}
    $sessions = @()
    $nameOf = @{}
    # Invoke-Command passes one -ArgumentList to every session, so each host's own parameters (its
    # snapshot, say) are left in its session first: all hosts at once, each answering whether it
    # already holds this script (an earlier phase sent it), so the text crosses the wire once per host.
    $pending = @()
    foreach ($name in $Names) {
        $session = $global:WsFleetSessions[$name]
        if ($null -eq $session -or $session.State -ne 'Opened') {
            $records[$name] = New-WsFleetRecord -Name $name -Problem 'the session to this host is not open'
            continue
        }
        try {
            $shell = [powershell]::Create()
            $shell.Runspace = $session.Runspace
            $null = $shell.AddScript('param($a, $h) $global:WsFleetArguments = $a; ($global:WsFleetScripts -is [hashtable]) -and $global:WsFleetScripts.ContainsKey($h)').AddArgument($argumentsOf[$name]).AddArgument($ScriptHash)
            $pending += [pscustomobject]@{ Name = $name; Session = $session; Shell = $shell; Async = $shell.BeginInvoke() }
        } catch {
            $records[$name] = New-WsFleetRecord -Name $name -Problem $_.Exception.Message
        }
    }
    $deadline = [DateTime]::UtcNow.AddSeconds($PrepareTimeoutSeconds)
    $missing = $false
    foreach ($p in $pending) {
        try {
            $left = [int][Math]::Max(0, ($deadline - [DateTime]::UtcNow).TotalMilliseconds)
            if (-not $p.Async.AsyncWaitHandle.WaitOne($left)) { throw ('no answer within ' + $PrepareTimeoutSeconds + ' s') }
            $answer = @($p.Shell.EndInvoke($p.Async))
            if ($p.Shell.Streams.Error.Count -gt 0) { throw $p.Shell.Streams.Error[0].Exception }
            if (-not ($answer.Count -eq 1 -and $true -eq $answer[0])) { $missing = $true }
            $sessions += $p.Session
            $nameOf[[string]$p.Session.InstanceId] = $p.Name
            $nameOf[[string]$p.Session.Runspace.InstanceId] = $p.Name
        } catch {
            $records[$p.Name] = New-WsFleetRecord -Name $p.Name -Problem $_.Exception.Message
        } finally {
            $p.Shell.Dispose()
        }
    }
    # The text goes out when any session lacks it; the others replace theirs with the same script.
    $send = $null
    if ($missing) { $send = $text }
    $job = $null
    if ($sessions.Count -gt 0) {
        $job = Invoke-Command -Session $sessions -ThrottleLimit $ThrottleLimit -AsJob -ArgumentList $ScriptHash, $send -ScriptBlock {
            param($hash, $text)
            $started = [DateTime]::UtcNow.ToString('o')
            $output = $null
            $problem = $null
            try {
                if ($global:WsFleetScripts -isnot [hashtable]) { $global:WsFleetScripts = @{} }
                if ($null -ne $text) { $global:WsFleetScripts[$hash] = [scriptblock]::Create($text) }
                $script = $global:WsFleetScripts[$hash]
                if ($null -eq $script) { throw 'the script did not reach this host' }
                $output = @(& $script @global:WsFleetArguments) -join [string][char]10
            } catch {
                $problem = $_.Exception.Message
            }
            [pscustomobject]@{ WsFleetOutput = $output; WsFleetError = $problem; StartedAt = $started; FinishedAt = [DateTime]::UtcNow.ToString('o') }
        }
    }
    $global:WsFleetRun = @{ Job = $job; Records = $records; NameOf = $nameOf; Sessions = $sessions }
    'started'
}

function New-WsFleetRecord {
    param([string] $Name, $Problem = $null, $Output = $null, $StartedAt = $null, $FinishedAt = $null)
    [pscustomobject]@{ Host = $Name; Output = $Output; Error = $Problem; StartedAt = $StartedAt; FinishedAt = $FinishedAt }
}

function Get-WsFleetHostName {
    # The host a child job or an error record belongs to, by the session's runspace id.
    param($Run, $Item)
    $ids = @()
    if ($Item.PSObject.Properties['Runspace'] -and $Item.Runspace) { $ids += [string]$Item.Runspace.InstanceId }
    if ($Item.PSObject.Properties['OriginInfo'] -and $Item.OriginInfo) { $ids += [string]$Item.OriginInfo.RunspaceID }
    if ($Item.PSObject.Properties['TargetObject'] -and $Item.TargetObject -is [System.Management.Automation.Runspaces.PSSession]) { $ids += [string]$Item.TargetObject.InstanceId }
    if ($Item.PSObject.Properties['RunspaceId'] -and $Item.RunspaceId) { $ids += [string]$Item.RunspaceId }
    foreach ($id in $ids) { if ($Run.NameOf.ContainsKey($id)) { return $Run.NameOf[$id] } }
    return $null
}

function Get-WsFleetProgress {
    # Counts of the running job's hosts: done, running, failed (no session, a broken transport, or the
    # script threw), waiting (throttled). Reading a child's Output leaves it for Receive-Job.
    [CmdletBinding()]
    param([int] $WaitMilliseconds = 0)
    $run = $global:WsFleetRun
    # The wait is here, not in the caller: the answer comes as soon as the job ends, and each request
    # to this PowerShell costs CPU, so fewer of them while nothing happens.
    if ($run.Job -and $WaitMilliseconds -gt 0) { $null = $run.Job.Finished.WaitOne($WaitMilliseconds) }
    $counts = [ordered]@{ done = 0; running = 0; failed = $run.Records.Count; waiting = 0; finished = $true }
    if ($run.Job) {
        foreach ($child in $run.Job.ChildJobs) {
            switch ([string]$child.JobStateInfo.State) {
                'Completed' {
                    $threw = @($child.Output | Where-Object { $null -ne $_.PSObject.Properties['WsFleetError'] -and $_.WsFleetError })
                    if ($threw.Count -gt 0) { $counts.failed++ } else { $counts.done++ }
                }
                'Running' { $counts.running++ }
                'NotStarted' { $counts.waiting++ }
                default { $counts.failed++ }
            }
        }
        $counts.finished = $run.Job.JobStateInfo.State -ne 'Running' -and $run.Job.JobStateInfo.State -ne 'NotStarted'
    }
    [pscustomobject]$counts | ConvertTo-Json -Compress
}

function Complete-WsFleetScript {
    <#
    .SYNOPSIS
        Waits (bounded) for the started job and returns one record per host: its output or its error.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [int] $TimeoutSeconds)
    $run = $global:WsFleetRun
    $records = $run.Records
    if ($run.Job) {
        $null = Wait-Job -Job $run.Job -Timeout $TimeoutSeconds
        foreach ($child in $run.Job.ChildJobs) {
            $name = Get-WsFleetHostName -Run $run -Item $child
            if ($child.JobStateInfo.State -eq 'Running' -or $child.JobStateInfo.State -eq 'NotStarted') {
                if ($name) { $records[$name] = New-WsFleetRecord -Name $name -Problem ('no result within ' + $TimeoutSeconds + ' s; stopped') }
                continue
            }
            $errors = @()
            $outputs = @(Receive-Job -Job $child -ErrorAction SilentlyContinue -ErrorVariable errors)
            foreach ($o in $outputs) {
                if ($null -eq $o.PSObject.Properties['WsFleetOutput']) { continue }
                $own = Get-WsFleetHostName -Run $run -Item $o
                if (-not $own) { $own = $name }
                if ($own) { $records[$own] = New-WsFleetRecord -Name $own -Problem $o.WsFleetError -Output $o.WsFleetOutput -StartedAt $o.StartedAt -FinishedAt $o.FinishedAt }
            }
            $problems = @($errors | ForEach-Object { $_.Exception.Message })
            if ($child.JobStateInfo.Reason) { $problems += $child.JobStateInfo.Reason.Message }
            if ($name -and -not $records.ContainsKey($name)) {
                $why = 'no result came back (job ' + $child.JobStateInfo.State + ')'
                if ($problems.Count -gt 0) { $why = $problems -join '; ' }
                $records[$name] = New-WsFleetRecord -Name $name -Problem $why
            }
        }
        Stop-Job -Job $run.Job -ErrorAction SilentlyContinue
        Remove-Job -Job $run.Job -Force -ErrorAction SilentlyContinue
    }
    $global:WsFleetRun = $null
    ConvertTo-Json -InputObject @($records.Values) -Depth 4 -Compress
}

function Close-WsFleetSession {
    [CmdletBinding()]
    param()
    foreach ($session in @($global:WsFleetSessions.Values)) {
        try { Remove-PSSession -Session $session -ErrorAction SilentlyContinue } catch { }
        try { $session.Runspace.Dispose() } catch { }
    }
    $global:WsFleetSessions = @{}
    'closed'
}
