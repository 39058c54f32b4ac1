# Runs on each remote host before any change: who this connection is, for the lockout guard.
# Windows: the token's user and group SIDs (S-1-5-113/114 included when Windows adds them), how it
# authenticated, whether the account is local. Elsewhere (tests on Linux): the user name only.
$ErrorActionPreference = 'Stop'
$WsIdentity = [ordered]@{ user = $null; sid = $null; groups = @(); local = $null; authentication = $null; platform = [string][System.Environment]::OSVersion.Platform }
if ($WsIdentity.platform -eq 'Win32NT') {
    $WsToken = [System.Security.Principal.WindowsIdentity]::GetCurrent()
    $WsIdentity.user = $WsToken.Name
    $WsIdentity.sid = $WsToken.User.Value
    $WsIdentity.authentication = $WsToken.AuthenticationType
    $WsIdentity.local = ($WsToken.Name -split '\\')[0] -eq $env:COMPUTERNAME
    $WsIdentity.groups = @(foreach ($g in $WsToken.Groups) {
            $WsName = $null
            try { $WsName = $g.Translate([System.Security.Principal.NTAccount]).Value } catch { }
            [ordered]@{ sid = $g.Value; name = $WsName }
        })
} else {
    $WsIdentity.user = [System.Environment]::UserName
    $WsIdentity.local = $true
}
ConvertTo-Json -InputObject $WsIdentity -Depth 4 -Compress
