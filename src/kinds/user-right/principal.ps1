# Principal normaliser, the PowerShell side of src/kinds/user-right/principal.ts: the same rules,
# checked by a test that feeds both the same cases. Needs principals.generated.ps1.

function Get-WsSqueezedName {
    <#
    .SYNOPSIS
    Lower case without anything but letters and digits: how near misses are recognised.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $Text)
    return ($Text.ToLowerInvariant() -replace '[^a-z0-9]', '')
}

function Get-WsPrincipalIndex {
    <#
    .SYNOPSIS
    Lookup tables built once from the generated principal table.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param()
    if ($null -ne $script:WsPrincipalIndex) { return $script:WsPrincipalIndex }
    $ci = [System.StringComparer]::OrdinalIgnoreCase
    $byName = [System.Collections.Generic.Dictionary[string, object]]::new($ci)
    $squeezed = [System.Collections.Generic.Dictionary[string, string]]::new()
    $sidNames = [System.Collections.Generic.Dictionary[string, string]]::new($ci)
    $targets = [System.Collections.Generic.List[object]]::new()
    foreach ($w in $script:WsWellKnownPrincipals) {
        $sidNames['*' + $w.sid] = $w.name
        $spellings = @($w.name)
        $cut = $w.name.IndexOf([char]'\')
        if ($cut -ge 0) { $spellings += $w.name.Substring($cut + 1) }
        $spellings += $w.aliases
        foreach ($s in $spellings) { $targets.Add(@($s, @{ Kind = 'sid'; Sid = '*' + $w.sid; Name = $w.name })) }
    }
    foreach ($d in $script:WsDomainRelativePrincipals) {
        $targets.Add(@($d.name, @{ Kind = 'domain'; Rid = $d.rid; Name = $d.name; ForestRoot = $d.forestRoot }))
    }
    foreach ($pair in $targets) {
        if ($byName.ContainsKey($pair[0])) { throw "principals table: '$($pair[0])' names two principals" }
        $byName[$pair[0]] = $pair[1]
        $squeezed[(Get-WsSqueezedName -Text $pair[0])] = $pair[1].Name
    }
    $script:WsPrincipalIndex = @{
        ByName      = $byName
        Squeezed    = $squeezed
        SidNames    = $sidNames
        Authorities = [System.Collections.Generic.HashSet[string]]::new([string[]]$script:WsPrincipalAuthorities, $ci)
    }
    return $script:WsPrincipalIndex
}

function ConvertTo-WsCanonicalSid {
    <#
    .SYNOPSIS
    'S-1-...' (any case, star optional) as '*S-1-...', or $null when the text is not a SID.
    .PARAMETER Text
    The text to check.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)] [string] $Text)
    $bare = $Text
    if ($bare.StartsWith('*')) { $bare = $bare.Substring(1) }
    $m = [regex]::Match($bare, '^[Ss]-1-(0|[1-9][0-9]*)((?:-(?:0|[1-9][0-9]*))+)$')
    if (-not $m.Success) { return $null }
    if ($m.Groups[1].Value.Length -gt 15 -or [decimal]$m.Groups[1].Value -gt 281474976710655) { return $null }
    $subs = $m.Groups[2].Value.Substring(1).Split([char]'-')
    if ($subs.Length -gt 15) { return $null }
    foreach ($s in $subs) {
        if ($s.Length -gt 10 -or [decimal]$s -gt 4294967295) { return $null }
    }
    return '*S' + $bare.Substring(1)
}

function Get-WsServiceSid {
    <#
    .SYNOPSIS
    The SID of a per-service account (NT SERVICE\name): S-1-5-80 and the SHA-1 of the upper-case
    service name in UTF-16LE, read as five little-endian 32-bit numbers.
    .PARAMETER Service
    The service name (printable ASCII).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)] [string] $Service)
    $sha = [System.Security.Cryptography.SHA1]::Create()
    try {
        $digest = $sha.ComputeHash([System.Text.Encoding]::Unicode.GetBytes($Service.ToUpperInvariant()))
    } finally {
        $sha.Dispose()
    }
    $parts = foreach ($offset in 0, 4, 8, 12, 16) { [System.BitConverter]::ToUInt32($digest, $offset) }
    return '*S-1-5-80-' + ($parts -join '-')
}

function ConvertTo-WsPrincipal {
    <#
    .SYNOPSIS
    Turns a principal as a document writes it into the form secedit stores.
    .DESCRIPTION
    '*S-...' or 'S-...' gives the SID; a well-known name (full, after its backslash, or an
    alias, any case) its SID; NT SERVICE\name the service's SID; a domain group name its RID;
    any other name stays an account name for the machine to resolve. An unknown name under a
    well-known authority (NT AUTHORITY\..., BUILTIN\...) and a near miss of a well-known name
    are errors.
    .PARAMETER Name
    The principal.
    .OUTPUTS
    @{ Ok = $true; Kind = 'sid'|'domain'|'account'; Sid; Name; Rid; ForestRoot } or @{ Ok = $false; Message }.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param([Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $Name)
    $ix = Get-WsPrincipalIndex
    $text = $Name.Trim()
    if ($text.Length -eq 0) { return @{ Ok = $false; Message = 'a principal is empty' } }
    if ($text -match '[,\x00-\x1f\x7f]') { return @{ Ok = $false; Message = "'$text': a principal may not contain a comma or a control character" } }
    if ($text.StartsWith('*') -or $text -match '^[Ss]-[0-9]') {
        $sid = ConvertTo-WsCanonicalSid -Text $text
        if ($null -eq $sid) { return @{ Ok = $false; Message = "'$text' is not a SID (expected *S-1-<authority>-<number>...)" } }
        $known = $null
        if ($ix.SidNames.ContainsKey($sid)) { $known = $ix.SidNames[$sid] }
        return @{ Ok = $true; Kind = 'sid'; Sid = $sid; Name = $known }
    }
    if ($ix.ByName.ContainsKey($text)) {
        $t = $ix.ByName[$text]
        if ($t.Kind -eq 'sid') { return @{ Ok = $true; Kind = 'sid'; Sid = $t.Sid; Name = $t.Name } }
        return @{ Ok = $true; Kind = 'domain'; Rid = $t.Rid; Name = $t.Name; ForestRoot = $t.ForestRoot }
    }
    $cut = $text.IndexOf([char]'\')
    if ($cut -ge 0) {
        $authority = $text.Substring(0, $cut)
        $rest = $text.Substring($cut + 1)
        if ($authority -eq $script:WsServiceAuthority) {
            if ($rest -cnotmatch '^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$' -or $rest.IndexOf([char]'\') -ge 0) {
                return @{ Ok = $false; Message = "'$text': a service name is printable ASCII without a backslash" }
            }
            return @{ Ok = $true; Kind = 'sid'; Sid = (Get-WsServiceSid -Service $rest); Name = $script:WsServiceAuthority + '\' + $rest }
        }
        if ($ix.Authorities.Contains($authority)) { return @{ Ok = $false; Message = "'$text' is not a known principal of $authority" } }
    }
    $squeezed = Get-WsSqueezedName -Text $text
    if ($ix.Squeezed.ContainsKey($squeezed)) { return @{ Ok = $false; Message = "'$text' is not a known principal; did you mean '$($ix.Squeezed[$squeezed])'?" } }
    return @{ Ok = $true; Kind = 'account'; Name = $text }
}
