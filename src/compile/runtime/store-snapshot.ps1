# Registry store backed by a regedit export (.reg) file.
# The file is parsed into memory, changed there, and written back atomically in
# regedit's own export layout, keeping the file's header line, encoding and newlines.
#
# Store hashtable fields (besides Kind, Path, Dirty):
#   Header, Encoding, Bom, NewLine  - how the file was written, reused on save
#   TextEncoding                    - encoding of hex(1)/hex(2)/hex(7) text (UTF-16LE in version 5 files)
#   KeyMap  - OrderedDictionary path -> @{ Path; ValueMap }, in file order, case-insensitive
#   ValueMap - OrderedDictionary name -> @{ Name; Kind; TypeCode; Data }, in file order
#   Hives   - short and long hive names -> long name
#   Implied - cache: paths that exist only as ancestors of headers ($null = rebuild)
# OrderedDictionary members are reached through get_Count()/get_Values()/get_Keys() because
# PowerShell resolves '.Count' on a dictionary to an entry named 'Count' if one exists.

function Open-WsSnapshotStore {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [string] $LiteralPath
    )
    # .NET resolves relative paths against the process directory, not the PowerShell location.
    $full = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($LiteralPath)
    if (-not [System.IO.File]::Exists($full)) { throw "Snapshot file not found: $full" }
    $bytes = [System.IO.File]::ReadAllBytes($full)
    $bomLength = 0
    if ($bytes.Length -ge 2 -and $bytes[0] -eq 0xFF -and $bytes[1] -eq 0xFE) {
        $encoding = [System.Text.UnicodeEncoding]::new($false, $false)
        $bomLength = 2
    } elseif ($bytes.Length -ge 3 -and $bytes[0] -eq 0xEF -and $bytes[1] -eq 0xBB -and $bytes[2] -eq 0xBF) {
        $encoding = [System.Text.UTF8Encoding]::new($false)
        $bomLength = 3
    } else {
        # No BOM: UTF-8 if the bytes are valid UTF-8, else the ANSI code page (REGEDIT4 files).
        $encoding = [System.Text.UTF8Encoding]::new($false, $true)
        try {
            $text = $encoding.GetString($bytes)
        } catch {
            $encoding = [System.Text.Encoding]::GetEncoding([System.Globalization.CultureInfo]::CurrentCulture.TextInfo.ANSICodePage)
        }
    }
    if ($bomLength -gt 0 -or $encoding -isnot [System.Text.UTF8Encoding]) {
        $text = $encoding.GetString($bytes, $bomLength, $bytes.Length - $bomLength)
    }
    $bom = [byte[]]::new($bomLength)
    [System.Array]::Copy($bytes, $bom, $bomLength)
    $newLine = "`n"
    $lf = $text.IndexOf([char]10)
    if ($lf -gt 0 -and $text[$lf - 1] -eq [char]13) { $newLine = "`r`n" }

    $ci = [System.StringComparer]::OrdinalIgnoreCase
    $hives = [System.Collections.Generic.Dictionary[string, string]]::new($ci)
    foreach ($pair in @(
            @('HKEY_LOCAL_MACHINE', 'HKLM'), @('HKEY_CURRENT_USER', 'HKCU'), @('HKEY_USERS', 'HKU'),
            @('HKEY_CLASSES_ROOT', 'HKCR'), @('HKEY_CURRENT_CONFIG', 'HKCC'))) {
        $hives[$pair[0]] = $pair[0]
        $hives[$pair[1]] = $pair[0]
    }
    $store = @{
        Kind         = 'Snapshot'
        Path         = $full
        Dirty        = $false
        Header       = $null
        Encoding     = $encoding
        Bom          = $bom
        NewLine      = $newLine
        TextEncoding = $null
        KeyMap       = [System.Collections.Specialized.OrderedDictionary]::new($ci)
        Hives        = $hives
        Implied      = $null
    }
    ConvertFrom-WsRegText -Store $store -Text $text
    return $store
}

function ConvertFrom-WsRegText {
    # Parses .reg text into $Store. Everything stays inline in one loop: a PowerShell
    # function call costs tens of microseconds, a regex match about one.
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $Text
    )
    $file = $Store.Path
    $keys = $Store.KeyMap
    $hives = $Store.Hives
    $ci = [System.StringComparer]::OrdinalIgnoreCase
    $ordinalCi = [System.StringComparison]::OrdinalIgnoreCase
    $reValue = [regex]'^(?:@|"((?:[^"\\]|\\.)*)")\s*=\s*(.*)$'
    $reString = [regex]'^"((?:[^"\\]|\\.)*)"\s*$'
    # Windows' regedit escapes only \ and "; \n, \r and \0 (Wine's escapes) let names keep line breaks.
    $reUnescape = [regex]'\\([\\"nr0])'
    $unescape = [System.Text.RegularExpressions.MatchEvaluator] {
        param($match)
        switch -CaseSensitive ($match.Groups[1].Value) { 'n' { "`n" } 'r' { "`r" } '0' { [string][char]0 } default { $match.Groups[1].Value } }
    }
    $reDword = [regex]'^[0-9a-fA-F]{1,8}$'
    $reHex = [regex]'^[hH][eE][xX](?:\(([0-9a-fA-F]{1,8})\))?:(.*)$'
    $reHexBytes = [regex]'^(?:[0-9a-fA-F]{2}(?:,[0-9a-fA-F]{2})*,?)?$'
    # Convert.FromHexString exists on .NET 5+; Windows PowerShell 5.1 has SoapHexBinary instead.
    $hasFromHex = $null -ne [System.Convert].GetMethod('FromHexString', [type[]]@([string]))

    $lines = $Text.Split([char]10)
    $n = $lines.Length
    $i = 0
    while ($i -lt $n -and $lines[$i].Trim().Length -eq 0) { $i++ }
    $header = ''
    if ($i -lt $n) { $header = $lines[$i].Trim() }
    if ($header -cne 'Windows Registry Editor Version 5.00' -and $header -cne 'REGEDIT4') {
        throw "${file}:$($i + 1): expected 'Windows Registry Editor Version 5.00' or 'REGEDIT4' as the first line"
    }
    $Store.Header = $header
    if ($header -ceq 'REGEDIT4') {
        $Store.TextEncoding = $Store.Encoding
        $charSize = 1
    } else {
        $Store.TextEncoding = [System.Text.UnicodeEncoding]::new($false, $false)
        $charSize = 2
    }
    $textEncoding = $Store.TextEncoding

    $key = $null
    $skipping = $false
    for ($i++; $i -lt $n; $i++) {
        $t = $lines[$i].Trim()
        if ($t.Length -eq 0) { continue }
        $lineNo = $i + 1
        $c = $t[0]
        if ($c -eq '[') {
            $end = $t.LastIndexOf([char]']')
            if ($end -lt 2) { throw "${file}:${lineNo}: key header has no closing ']'" }
            $inner = $t.Substring(1, $end - 1)
            $delete = $inner[0] -eq '-'
            if ($delete) { $inner = $inner.Substring(1) }
            $inner = $inner.TrimEnd([char]'\')
            $sep = $inner.IndexOf([char]'\')
            $rest = ''
            $hive = $inner
            if ($sep -ge 0) {
                $hive = $inner.Substring(0, $sep)
                $rest = $inner.Substring($sep + 1)
            }
            if (-not $hives.ContainsKey($hive)) { throw "${file}:${lineNo}: unknown registry hive '$hive'" }
            $keyPath = $hives[$hive]
            if ($rest.Length -gt 0) { $keyPath = $keyPath + '\' + $rest }
            if ($delete) {
                $null = Remove-WsSnapshotSubtree -Store $Store -Path $keyPath
                $key = $null
                $skipping = $true
                continue
            }
            $skipping = $false
            $key = $keys[$keyPath]
            if ($null -eq $key) {
                $key = @{ Path = $keyPath; ValueMap = [System.Collections.Specialized.OrderedDictionary]::new($ci) }
                $keys.Add($keyPath, $key)
            }
            continue
        }
        if ($c -eq ';') { continue }
        if ($c -ne '"' -and $c -ne '@') { throw "${file}:${lineNo}: unexpected line; expected a [key], a value or a ; comment" }
        if ($null -eq $key -and -not $skipping) { throw "${file}:${lineNo}: value outside a key" }
        $m = $reValue.Match($t)
        if (-not $m.Success) { throw "${file}:${lineNo}: malformed value; expected ""name""=data or @=data" }
        $name = ''
        if ($m.Groups[1].Success) {
            $name = $m.Groups[1].Value
            if ($name.IndexOf([char]'\') -ge 0) { $name = $reUnescape.Replace($name, $unescape) }
        }
        $d = $m.Groups[2].Value
        if ($d.Length -eq 0) { throw "${file}:${lineNo}: value has no data" }
        $c = $d[0]
        if ($c -eq '"') {
            $sm = $reString.Match($d)
            if (-not $sm.Success) { throw "${file}:${lineNo}: unterminated string or text after its closing quote" }
            $data = $sm.Groups[1].Value
            if ($data.IndexOf([char]'\') -ge 0) { $data = $reUnescape.Replace($data, $unescape) }
            $kind = 'String'
            $code = 1
        } elseif ($c -eq '-' -and $d.Length -eq 1) {
            if ($null -ne $key) { $key.ValueMap.Remove($name) }
            continue
        } elseif ($d.StartsWith('dword:', $ordinalCi)) {
            $digits = $d.Substring(6)
            if (-not $reDword.IsMatch($digits)) { throw "${file}:${lineNo}: bad dword data '$digits'" }
            $data = [System.Convert]::ToUInt32($digits, 16)
            $kind = 'DWord'
            $code = 4
        } else {
            $hm = $reHex.Match($d)
            if (-not $hm.Success) { throw "${file}:${lineNo}: unknown data form; expected ""string"", dword:, hex:, hex(N): or -" }
            $code = 3
            if ($hm.Groups[1].Success) { $code = [System.Convert]::ToInt32($hm.Groups[1].Value, 16) }
            $body = $hm.Groups[2].Value
            # A trailing backslash continues the hex list on the next (indented) line.
            while ($body.Length -gt 0 -and $body[$body.Length - 1] -eq '\') {
                $i++
                if ($i -ge $n) { throw "${file}:${lineNo}: hex data continues past the end of the file" }
                $body = $body.Substring(0, $body.Length - 1) + $lines[$i].Trim()
            }
            $body = $body.Replace(' ', '')
            if (-not $reHexBytes.IsMatch($body)) { throw "${file}:${lineNo}: bad hex data; expected two-digit hex bytes separated by commas" }
            $hexDigits = $body.Replace(',', '')
            if ($hexDigits.Length -eq 0) {
                $bytes = [byte[]]::new(0)
            } elseif ($hasFromHex) {
                $bytes = [System.Convert]::FromHexString($hexDigits)
            } else {
                $bytes = [System.Runtime.Remoting.Metadata.W3cXsd2001.SoapHexBinary]::Parse($hexDigits).Value
            }
            if ($code -eq 3) {
                $kind = 'Binary'
                $data = $bytes
            } elseif ($code -eq 1 -or $code -eq 2 -or $code -eq 7) {
                # Decode as RegistryKey.GetValue does: an odd trailing byte is zero-padded.
                if ($bytes.Length % $charSize -ne 0) {
                    $padded = [byte[]]::new($bytes.Length + 1)
                    [System.Array]::Copy($bytes, $padded, $bytes.Length)
                    $bytes = $padded
                }
                $s = $textEncoding.GetString($bytes)
                $last = $s.Length - 1
                if ($code -eq 7) {
                    # Like RegistryKey.GetValue: the final NUL ends the list, and an empty
                    # last element right before it is the list terminator, not an element.
                    $kind = 'MultiString'
                    if ($last -ge 0 -and $s[$last] -eq [char]0) { $s = $s.Substring(0, $last); $last-- }
                    if ($last -lt 0) {
                        $data = [string[]]::new(0)
                    } else {
                        if ($s[$last] -eq [char]0) { $s = $s.Substring(0, $last) }
                        $data = $s.Split([char]0)
                    }
                } else {
                    # One terminating NUL is dropped, as RegistryKey.GetValue does.
                    if ($last -ge 0 -and $s[$last] -eq [char]0) { $s = $s.Substring(0, $last) }
                    $data = $s
                    $kind = 'String'
                    if ($code -eq 2) { $kind = 'ExpandString' }
                }
            } elseif ($code -eq 4 -and $bytes.Length -eq 4) {
                $kind = 'DWord'
                $data = [System.BitConverter]::ToUInt32($bytes, 0)
            } elseif ($code -eq 11 -and $bytes.Length -eq 8) {
                $kind = 'QWord'
                $data = [System.BitConverter]::ToUInt64($bytes, 0)
            } else {
                $kind = 'Raw'
                $data = $bytes
            }
        }
        if ($null -eq $key) { continue }
        # A repeated value is replaced in place, keeping its first spelling.
        $old = $key.ValueMap[$name]
        if ($null -eq $old) {
            $key.ValueMap.Add($name, @{ Name = $name; Kind = $kind; TypeCode = $code; Data = $data })
        } else {
            $old.Kind = $kind
            $old.TypeCode = $code
            $old.Data = $data
        }
    }
}

function ConvertTo-WsRegText {
    # Renders $Store as regedit exports it: header, blank line, then each key's header,
    # its values and a blank line. Hex lists wrap like regedit (Wine's export.c matches).
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store
    )
    $nl = $Store.NewLine
    $textEncoding = $Store.TextEncoding
    $terminator = [string][char]0
    $lineBreakChars = [char[]]@(13, 10, 0)
    $sb = [System.Text.StringBuilder]::new(65536)
    $null = $sb.Append($Store.Header).Append($nl).Append($nl)
    foreach ($key in $Store.KeyMap.get_Values()) {
        $null = $sb.Append('[').Append($key.Path).Append(']').Append($nl)
        foreach ($value in $key.ValueMap.get_Values()) {
            $prefix = '@='
            if ($value.Name.Length -gt 0) {
                # A name has no hex form, so its line breaks and NULs are escaped the way Wine's regedit does.
                $escaped = $value.Name.Replace('\', '\\').Replace('"', '\"')
                if ($escaped.IndexOfAny($lineBreakChars) -ge 0) { $escaped = $escaped.Replace("`r", '\r').Replace("`n", '\n').Replace([string][char]0, '\0') }
                $prefix = '"' + $escaped + '"='
            }
            $null = $sb.Append($prefix)
            $kind = $value.Kind
            $data = $value.Data
            if ($kind -eq 'DWord') {
                $null = $sb.Append('dword:').Append($data.ToString('x8')).Append($nl)
                continue
            }
            if ($kind -eq 'String' -and $data.IndexOfAny($lineBreakChars) -lt 0) {
                $null = $sb.Append('"').Append($data.Replace('\', '\\').Replace('"', '\"')).Append('"').Append($nl)
                continue
            }
            # Strings with CR, LF or NUL cannot be quoted, so they go out as hex(1) like other hex kinds.
            if ($kind -eq 'String') {
                $type = 'hex(1):'; $bytes = $textEncoding.GetBytes($data + $terminator)
            } elseif ($kind -eq 'ExpandString') {
                $type = 'hex(2):'; $bytes = $textEncoding.GetBytes($data + $terminator)
            } elseif ($kind -eq 'MultiString') {
                $type = 'hex(7):'
                if ($data.Length -eq 0) {
                    $bytes = $textEncoding.GetBytes($terminator)
                } else {
                    $bytes = $textEncoding.GetBytes([string]::Join($terminator, $data) + $terminator + $terminator)
                }
            } elseif ($kind -eq 'QWord') {
                $type = 'hex(b):'; $bytes = [System.BitConverter]::GetBytes([uint64]$data)
            } elseif ($kind -eq 'Binary') {
                $type = 'hex:'; $bytes = $data
            } else {
                $type = 'hex(' + $value.TypeCode.ToString('x') + '):'; $bytes = $data
            }
            $null = $sb.Append($type)
            $hex = [System.BitConverter]::ToString($bytes).Replace('-', ',').ToLowerInvariant()
            # After each byte's comma the line length grows by 3; regedit breaks once it
            # reaches 77 characters, never after the last byte, and indents by two spaces.
            $count = $bytes.Length
            $lineLength = $prefix.Length + $type.Length
            $pos = 0
            while ($pos -lt $count) {
                $take = [System.Math]::Max(1, [int][System.Math]::Ceiling((77 - $lineLength) / 3))
                if ($pos + $take -ge $count) {
                    $null = $sb.Append($hex, $pos * 3, $hex.Length - $pos * 3)
                    break
                }
                $null = $sb.Append($hex, $pos * 3, $take * 3).Append('\').Append($nl).Append('  ')
                $pos += $take
                $lineLength = 2
            }
            $null = $sb.Append($nl)
        }
        $null = $sb.Append($nl)
    }
    return $sb.ToString()
}

function Get-WsSnapshotKeyPath {
    # Full key path as used in headers and KeyMap: long hive name, then the subkey.
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Hive,
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $SubKey
    )
    if (-not $Store.Hives.ContainsKey($Hive)) { throw "Unknown registry hive '$Hive'" }
    $sub = $SubKey.Trim([char]'\')
    if ($sub.Length -eq 0) { return $Store.Hives[$Hive] }
    return $Store.Hives[$Hive] + '\' + $sub
}

function Test-WsSnapshotKeyImplied {
    # True if some header lies below $Path; regedit exports may leave out parent headers.
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Path
    )
    if ($null -eq $Store.Implied) {
        $implied = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
        foreach ($p in $Store.KeyMap.get_Keys()) {
            $cut = $p.LastIndexOf([char]'\')
            while ($cut -gt 0) {
                $p = $p.Substring(0, $cut)
                # Once an ancestor is known, all of its ancestors are too.
                if (-not $implied.Add($p)) { break }
                $cut = $p.LastIndexOf([char]'\')
            }
        }
        $Store.Implied = $implied
    }
    return $Store.Implied.Contains($Path)
}

function Add-WsSnapshotKey {
    # Returns the key record for $Path, adding a header (for that key only) if it has none.
    # A new header goes after the last header sorting before it (case-insensitive, '\' first).
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Path
    )
    $map = $Store.KeyMap
    $key = $map[$Path]
    if ($null -ne $key) { return $key }
    $ci = [System.StringComparer]::OrdinalIgnoreCase
    $ordinalCi = [System.StringComparison]::OrdinalIgnoreCase
    $sortKey = $Path.Replace([char]'\', [char]1)
    $at = 0
    $index = 0
    foreach ($existing in $map.get_Keys()) {
        $index++
        if ([string]::Compare($existing.Replace([char]'\', [char]1), $sortKey, $ordinalCi) -lt 0) { $at = $index }
    }
    $key = @{ Path = $Path; ValueMap = [System.Collections.Specialized.OrderedDictionary]::new($ci) }
    $map.Insert($at, $Path, $key)
    $Store.Implied = $null
    $Store.Dirty = $true
    return $key
}

function Remove-WsSnapshotSubtree {
    # Removes the header for $Path and every header below it; returns how many were removed.
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Path
    )
    $ordinalCi = [System.StringComparison]::OrdinalIgnoreCase
    $prefix = $Path + '\'
    $doomed = [System.Collections.Generic.List[string]]::new()
    foreach ($p in $Store.KeyMap.get_Keys()) {
        if ([string]::Equals($p, $Path, $ordinalCi) -or $p.StartsWith($prefix, $ordinalCi)) { $doomed.Add($p) }
    }
    foreach ($p in $doomed) { $Store.KeyMap.Remove($p) }
    if ($doomed.Count -gt 0) { $Store.Implied = $null }
    return $doomed.Count
}

function ConvertTo-WsSnapshotEntry {
    # Validates caller data and copies it into the canonical form, so the caller's arrays
    # never alias the store's.
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $Name,
        [Parameter(Mandatory = $true)] [string] $Kind,
        [AllowNull()] $Data,
        [AllowNull()] $TypeCode
    )
    $what = "value '$Name' of kind $Kind"
    switch ($Kind) {
        'String' { $Kind = 'String'; $code = 1 }
        'ExpandString' { $Kind = 'ExpandString'; $code = 2 }
        'Binary' { $Kind = 'Binary'; $code = 3 }
        'DWord' { $Kind = 'DWord'; $code = 4 }
        'MultiString' { $Kind = 'MultiString'; $code = 7 }
        'QWord' { $Kind = 'QWord'; $code = 11 }
        'Raw' {
            $Kind = 'Raw'
            if ($null -eq $TypeCode) { throw "Data for ${what} needs a TypeCode" }
            $code = [int]$TypeCode
        }
        default { throw "Unknown value kind '$Kind'" }
    }
    if ($Kind -eq 'String' -or $Kind -eq 'ExpandString') {
        if ($Data -isnot [string]) { throw "Data for ${what} must be a string" }
        $copy = [string]$Data
    } elseif ($Kind -eq 'DWord' -or $Kind -eq 'QWord') {
        if ($null -eq $Data -or $Data -is [array]) { throw "Data for ${what} must be a single number" }
        try {
            if ($Kind -eq 'DWord') { $copy = [uint32]$Data } else { $copy = [uint64]$Data }
        } catch {
            throw "Data for ${what} is out of range: $Data"
        }
    } elseif ($Kind -eq 'MultiString') {
        if ($null -eq $Data) {
            $copy = [string[]]::new(0)
        } elseif ($Data -is [string[]]) {
            $copy = $Data.Clone()
        } else {
            $copy = [string[]]@($Data)
        }
        for ($j = 0; $j -lt $copy.Length; $j++) { if ($null -eq $copy[$j]) { $copy[$j] = '' } }
    } else {
        if ($null -eq $Data) {
            $copy = [byte[]]::new(0)
        } elseif ($Data -is [byte[]]) {
            $copy = $Data.Clone()
        } else {
            try { $copy = [byte[]]@($Data) } catch { throw "Data for ${what} must be bytes (0..255)" }
        }
    }
    # A Raw value must not be one the reader would decode as a typed kind.
    if ($Kind -eq 'Raw' -and (($code -ge 1 -and $code -le 3) -or $code -eq 7 -or
            ($code -eq 4 -and $copy.Length -eq 4) -or ($code -eq 11 -and $copy.Length -eq 8))) {
        throw "Type code $code for ${what} has its own kind; use that kind instead of Raw"
    }
    return @{ Name = $Name; Kind = $Kind; TypeCode = $code; Data = $copy }
}

function Get-WsSnapshotStates {
    # Hot path: the state of every resource in one call, key paths built inline, because
    # PowerShell parameter binding costs more than the lookups themselves.
    param([hashtable] $Store, $Resources)
    $out = [object[]]::new($Resources.Count)
    for ($i = 0; $i -lt $Resources.Count; $i++) {
        $r = $Resources[$i]
        $root = $Store.Hives[$r.Hive]
        if ($null -eq $root) { throw "Unknown registry hive '$($r.Hive)'" }
        $sub = $r.SubKey.Trim([char]'\')
        $path = $root
        if ($sub.Length -gt 0) { $path = $root + '\' + $sub }
        $state = @{ KeyExists = $false; ValueExists = $false; Kind = $null; TypeCode = $null; Data = $null }
        $out[$i] = $state
        $key = $Store.KeyMap[$path]
        if ($null -eq $key) {
            $state.KeyExists = Test-WsSnapshotKeyImplied -Store $Store -Path $path
            continue
        }
        $state.KeyExists = $true
        if ($null -eq $r.ValueName) { continue }
        $value = $key.ValueMap[[string]$r.ValueName]
        if ($null -eq $value) { continue }
        $data = $value.Data
        # Arrays are copied so callers cannot change the store through them.
        if ($data -is [array]) { $data = $data.Clone() }
        $state.ValueExists = $true
        $state.Kind = $value.Kind
        $state.TypeCode = $value.TypeCode
        $state.Data = $data
    }
    return , $out
}

function Get-WsSnapshotState {
    param(
        [hashtable] $Store,
        [string] $Hive,
        [AllowEmptyString()] [string] $SubKey,
        # Untyped on purpose: a [string] parameter would turn $null into '' (the default value).
        [AllowNull()] [AllowEmptyString()] $ValueName = $null
    )
    return (Get-WsSnapshotStates -Store $Store -Resources @(@{ Hive = $Hive; SubKey = $SubKey; ValueName = $ValueName }))[0]
}

function Set-WsSnapshotValue {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Hive,
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $SubKey,
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $ValueName,
        [Parameter(Mandatory = $true)] [string] $Kind,
        [Parameter(Mandatory = $true)] [AllowNull()] [AllowEmptyString()] [AllowEmptyCollection()] $Data,
        [AllowNull()] $TypeCode = $null
    )
    $entry = ConvertTo-WsSnapshotEntry -Name $ValueName -Kind $Kind -Data $Data -TypeCode $TypeCode
    $path = Get-WsSnapshotKeyPath -Store $Store -Hive $Hive -SubKey $SubKey
    $values = (Add-WsSnapshotKey -Store $Store -Path $path).ValueMap
    $old = $values[$ValueName]
    if ($null -ne $old) {
        # Keep the existing name spelling and position, as the registry does.
        $old.Kind = $entry.Kind
        $old.TypeCode = $entry.TypeCode
        $old.Data = $entry.Data
    } elseif ($ValueName.Length -eq 0) {
        $values.Insert(0, $ValueName, $entry)
    } else {
        $values.Add($ValueName, $entry)
    }
    $Store.Dirty = $true
}

function Remove-WsSnapshotValue {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Hive,
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $SubKey,
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $ValueName
    )
    $key = $Store.KeyMap[(Get-WsSnapshotKeyPath -Store $Store -Hive $Hive -SubKey $SubKey)]
    if ($null -ne $key -and $key.ValueMap.Contains($ValueName)) {
        $key.ValueMap.Remove($ValueName)
        $Store.Dirty = $true
    }
}

function New-WsSnapshotKey {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Hive,
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $SubKey
    )
    $path = Get-WsSnapshotKeyPath -Store $Store -Hive $Hive -SubKey $SubKey
    # A key implied by its descendants already exists; it needs no header of its own.
    if (-not $Store.KeyMap.Contains($path) -and -not (Test-WsSnapshotKeyImplied -Store $Store -Path $path)) {
        $null = Add-WsSnapshotKey -Store $Store -Path $path
    }
}

function Remove-WsSnapshotKey {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Hive,
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $SubKey
    )
    $path = Get-WsSnapshotKeyPath -Store $Store -Hive $Hive -SubKey $SubKey
    if ((Remove-WsSnapshotSubtree -Store $Store -Path $path) -gt 0) { $Store.Dirty = $true }
}

function Save-WsSnapshotStore {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store
    )
    if (-not $Store.Dirty) { return $false }
    $body = $Store.Encoding.GetBytes((ConvertTo-WsRegText -Store $Store))
    $bom = $Store.Bom
    $bytes = [byte[]]::new($bom.Length + $body.Length)
    [System.Array]::Copy($bom, $bytes, $bom.Length)
    [System.Array]::Copy($body, 0, $bytes, $bom.Length, $body.Length)
    try {
        Write-WsFileAtomic -Path $Store.Path -Bytes $bytes
    } catch {
        throw "Cannot save snapshot '$($Store.Path)': $($_.Exception.Message)"
    }
    $Store.Dirty = $false
    return $true
}

function Get-WsSnapshotTree {
    # The key and every key below it that has a header, each with its values, in file order.
    param([hashtable] $Store, [string] $Hive, [AllowEmptyString()] [string] $SubKey)
    $path = Get-WsSnapshotKeyPath -Store $Store -Hive $Hive -SubKey $SubKey
    $ordinalCi = [System.StringComparison]::OrdinalIgnoreCase
    $rootLength = $Store.Hives[$Hive].Length + 1
    $tree = [System.Collections.Generic.List[object]]::new()
    foreach ($key in $Store.KeyMap.get_Values()) {
        if ([string]::Equals($key.Path, $path, $ordinalCi) -or $key.Path.StartsWith($path + '\', $ordinalCi)) {
            $values = [System.Collections.Generic.List[object]]::new()
            foreach ($v in $key.ValueMap.get_Values()) {
                $values.Add(@{ Name = $v.Name; Kind = $v.Kind; TypeCode = $v.TypeCode; Data = $v.Data })
            }
            $tree.Add(@{ SubKey = $key.Path.Substring($rootLength); Values = $values.ToArray() })
        }
    }
    return , $tree.ToArray()
}

function Test-WsSnapshotKeyEmpty {
    # True when the key has no values and no key below it.
    param([hashtable] $Store, [string] $Hive, [AllowEmptyString()] [string] $SubKey)
    $path = Get-WsSnapshotKeyPath -Store $Store -Hive $Hive -SubKey $SubKey
    $key = $Store.KeyMap[$path]
    if ($null -ne $key -and $key.ValueMap.get_Count() -gt 0) { return $false }
    return -not (Test-WsSnapshotKeyImplied -Store $Store -Path $path)
}
