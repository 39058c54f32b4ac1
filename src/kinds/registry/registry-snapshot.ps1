# Registry store backed by a regedit export (.reg) file.
# The file is parsed into memory, changed there, and written back atomically: every line
# a run does not change is written back as it was read (see ConvertTo-WsRegText); new and
# changed values are written in regedit's own export layout, in the file's encoding and newlines.
#
# Store hashtable fields (besides Kind, Path, Dirty):
#   Header, Encoding, Bom, NewLine  - how the file was written, reused on save
#   TextEncoding                    - encoding of hex(1)/hex(2)/hex(7) text (UTF-16LE in version 5 files)
#   KeyMap  - OrderedDictionary path -> @{ Path; ValueMap }, in file order, case-insensitive
#   ValueMap - OrderedDictionary name -> @{ Name; Kind; TypeCode; Data; Bytes; Source }, in file order;
#              Bytes: the exact data of a hex(n) value (or of one set raw), else $null;
#              Source: the value's lines as read, written back verbatim until the value changes
#   Hives   - short and long hive names -> long name
#   Lead, Pieces, Tail - the layout: Lead is the text up to the header line; Pieces holds one
#              @{ Before; Source; Path; Key; Items; Removal } per [key] or [-key] line, in file order
#              (a header seen twice is two pieces); Items are the value records and raw lines
#              (@{ Raw = $true; Before; Source }: removal lines, values later removed or repeated)
#              under it. Before is the exact text between the previous element and this one
#              (line breaks, blank lines, comments); Tail the text after the last element.
#   Key records also hold Piece (where a new value goes); value records hold Before.
#   Implied - cache: paths that exist only as ancestors of headers ($null = rebuild)
# OrderedDictionary members are reached through get_Count()/get_Values()/get_Keys() because
# PowerShell resolves '.Count' on a dictionary to an entry named 'Count' if one exists.

# What the registry kind (src/kinds/registry/registry.ps1) calls on this store.
$script:WsSnapshotRegistryOps = @{
    States = 'Get-WsSnapshotStates'; SetRowValue = 'Set-WsSnapshotRowValue'; SetValue = 'Set-WsSnapshotValue'; SetRawValue = 'Set-WsSnapshotRawValue'; RemoveValue = 'Remove-WsSnapshotValue'
    NewKey = 'New-WsSnapshotKey'; RemoveKey = 'Remove-WsSnapshotKey'; Tree = 'Get-WsSnapshotTree'; KeyEmpty = 'Test-WsSnapshotKeyEmpty'
}

function Open-WsSnapshotStore {
    <#
    .SYNOPSIS
    Opens a regedit export (.reg) as the Registry store: reads and parses the whole file.
    .PARAMETER LiteralPath
    The export; a relative path is resolved against the PowerShell location.
    .OUTPUTS
    The store hashtable: the file's lines, keys and values, its encoding and the functions the registry kind calls (Ops).
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [string] $LiteralPath
    )
    # .NET resolves relative paths against the process directory, not the PowerShell location.
    $full = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($LiteralPath)
    if ([System.IO.Directory]::Exists($full)) { throw "${full}: is a directory, not a registry export (.reg) file" }
    if (-not [System.IO.File]::Exists($full)) { throw "Snapshot file not found: $full" }
    $bytes = [System.IO.File]::ReadAllBytes($full)
    $bomLength = 0
    # Encodings used to write: strict, so text a file cannot hold is refused, never replaced by '?'.
    if ($bytes.Length -ge 2 -and $bytes[0] -eq 0xFF -and $bytes[1] -eq 0xFE) {
        # UTF-16LE is copied char for char (ConvertFrom-WsUtf16): lone surrogates survive.
        $encoding = [System.Text.UnicodeEncoding]::new($false, $false)
        $bomLength = 2
        if ($bytes.Length % 2 -ne 0) { throw "${full}: the file ends in the middle of a UTF-16 character (truncated?)" }
        $text = ConvertFrom-WsUtf16 -Bytes $bytes -Offset 2
    } else {
        if ($bytes.Length -ge 3 -and $bytes[0] -eq 0xEF -and $bytes[1] -eq 0xBB -and $bytes[2] -eq 0xBF) { $bomLength = 3 }
        # regedit reads a REGEDIT4 file without a BOM in the ANSI code page, even when its bytes
        # happen to be valid UTF-8 (plain ASCII is); other files are UTF-8 if they are valid UTF-8.
        $ansi = $bomLength -eq 0 -and (Test-WsRegedit4Header -Bytes $bytes)
        $encoding = [System.Text.UTF8Encoding]::new($false, $true)
        if (-not $ansi) {
            try {
                $text = $encoding.GetString($bytes, $bomLength, $bytes.Length - $bomLength)
            } catch {
                if ($bomLength -gt 0) { throw [System.IO.InvalidDataException]::new("${full}: the file starts with a UTF-8 byte order mark but is not valid UTF-8", $_.Exception) }
                $ansi = $true
            }
        }
        if ($ansi) {
            $codePage = [System.Globalization.CultureInfo]::CurrentCulture.TextInfo.ANSICodePage
            $encoding = [System.Text.Encoding]::GetEncoding($codePage, [System.Text.EncoderFallback]::ExceptionFallback, [System.Text.DecoderFallback]::ReplacementFallback)
            $text = $encoding.GetString($bytes)
        }
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
        Ops          = $script:WsSnapshotRegistryOps
    }
    ConvertFrom-WsRegText -Store $store -Text $text
    return $store
}

# The name and '=' at the start of a value line, spaces included.
$script:WsRegValuePrefix = [regex]'^\s*(?:@|"(?:[^"\\]|\\.)*")\s*=\s*'

function Test-WsRegedit4Header {
    # True when the first non-blank line of 8-bit text is REGEDIT4 (the reader's header rule:
    # the line trimmed, compared case-sensitively).
    param([byte[]] $Bytes)
    $blank = [byte[]]@(9, 10, 11, 12, 13, 32)
    $at = 0
    while ($at -lt $Bytes.Length -and $blank -contains $Bytes[$at]) { $at++ }
    $word = [System.Text.Encoding]::ASCII.GetBytes('REGEDIT4')
    if ($Bytes.Length - $at -lt $word.Length) { return $false }
    for ($j = 0; $j -lt $word.Length; $j++) { if ($Bytes[$at + $j] -ne $word[$j]) { return $false } }
    for ($at += $word.Length; $at -lt $Bytes.Length -and $Bytes[$at] -ne 10; $at++) {
        if ($blank -notcontains $Bytes[$at]) { return $false }
    }
    return $true
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
    # A last line holding only Ctrl-Z (DOS end of file) ends the file for regedit; it stays in the Tail.
    $last = $n - 1
    while ($last -ge 0 -and $lines[$last].Trim().Length -eq 0) { $last-- }
    if ($last -ge 0 -and $lines[$last].Trim() -ceq [string][char]26) { $n = $last }
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
    } else {
        # Copied char for char (ConvertFrom-WsUtf16), so lone surrogates survive.
        $Store.TextEncoding = $null
    }

    # Layout (see the store fields above). $gapFrom is the first line after the last element,
    # $break the line break that ended it ("`r`n" or "`n"): together they give the next Before.
    $lead = [string]::Join([char]10, $lines, 0, $i + 1)
    $crlfBreak = "`r`n"
    $lfBreak = "`n"
    $break = $lfBreak
    if ($lead.Length -gt 0 -and $lead[$lead.Length - 1] -eq [char]13) { $lead = $lead.Substring(0, $lead.Length - 1); $break = $crlfBreak }
    $Store.Lead = $lead
    $pieces = [System.Collections.Generic.List[hashtable]]::new()
    $Store.Pieces = $pieces
    $piece = $null
    $gapFrom = $i + 1

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
            $before = $break
            if ($i -gt $gapFrom) { $before = $break + [string]::Join([char]10, $lines, $gapFrom, $i - $gapFrom) + $lfBreak }
            $source = $lines[$i]
            $break = $lfBreak
            if ($source.Length -gt 0 -and $source[$source.Length - 1] -eq [char]13) { $source = $source.Substring(0, $source.Length - 1); $break = $crlfBreak }
            $gapFrom = $i + 1
            $piece = @{ Before = $before; Source = $source; Path = $keyPath; Key = $null; Items = [System.Collections.Generic.List[hashtable]]::new(); Removal = $delete }
            $pieces.Add($piece)
            if ($delete) {
                # The removed keys' lines stay in the file as they were (-KeepLines).
                $null = Remove-WsSnapshotSubtree -Store $Store -Path $keyPath -KeepLines
                $key = $null
                $skipping = $true
                continue
            }
            $skipping = $false
            $key = $keys[$keyPath]
            if ($null -eq $key) {
                $key = @{ Path = $keyPath; ValueMap = [System.Collections.Specialized.OrderedDictionary]::new($ci); Piece = $piece; LastValuePiece = $null; Raw = $false }
                $keys.Add($keyPath, $key)
            } elseif ($null -eq $key.LastValuePiece) {
                $key.Piece = $piece
            }
            $piece.Key = $key
            continue
        }
        if ($c -eq ';') { continue }
        if ($c -ne '"' -and $c -ne '@') { throw "${file}:${lineNo}: unexpected line; expected a [key], a value or a ; comment" }
        if ($null -eq $key -and -not $skipping) { throw "${file}:${lineNo}: value outside a key" }
        $m = $reValue.Match($t)
        if (-not $m.Success) { throw "${file}:${lineNo}: malformed value; expected ""name""=data or @=data" }
        $first = $i
        $name = ''
        if ($m.Groups[1].Success) {
            $name = $m.Groups[1].Value
            if ($name.IndexOf([char]'\') -ge 0) { $name = $reUnescape.Replace($name, $unescape) }
        }
        $d = $m.Groups[2].Value
        if ($d.Length -eq 0) { throw "${file}:${lineNo}: value has no data" }
        $exact = $null
        $c = $d[0]
        if ($c -eq '"') {
            $sm = $reString.Match($d)
            if ($sm.Success) {
                $data = $sm.Groups[1].Value
            } else {
                # regedit writes a line break inside a string as it is: the string runs on over
                # physical lines until its closing quote. Scanned once, so linear in its length.
                $raw = $lines[$i]
                $sb = [System.Text.StringBuilder]::new($d + $raw.Substring($raw.TrimEnd().Length))
                $j = 1
                $close = -1
                while ($true) {
                    $len = $sb.Length
                    while ($j -lt $len) {
                        $ch = $sb[$j]
                        if ($ch -eq '\') { $j += 2; continue }
                        if ($ch -eq '"') { $close = $j; break }
                        $j++
                    }
                    if ($close -ge 0) { break }
                    $i++
                    if ($i -ge $n) { throw "${file}:${lineNo}: unterminated string: no closing quote before the end of the file" }
                    $null = $sb.Append([char]10).Append($lines[$i])
                }
                $whole = $sb.ToString()
                if ($whole.Substring($close + 1).Trim().Length -gt 0) { throw "${file}:${lineNo}: text after the closing quote of a string" }
                $data = $whole.Substring(1, $close - 1)
            }
            if ($data.IndexOf([char]'\') -ge 0) { $data = $reUnescape.Replace($data, $unescape) }
            $kind = 'String'
            $code = 1
        } elseif ($c -eq '-' -and $d.Length -eq 1) {
            $kind = $null
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
            # A trailing backslash continues the hex list on the next (indented) line. The pieces
            # are joined once at the end: appending line by line would copy the list every time.
            if ($body.Length -gt 0 -and $body[$body.Length - 1] -eq '\') {
                $parts = [System.Collections.Generic.List[string]]::new()
                while ($body.Length -gt 0 -and $body[$body.Length - 1] -eq '\') {
                    $parts.Add($body.Substring(0, $body.Length - 1))
                    $i++
                    if ($i -ge $n) { throw "${file}:$($i): hex data continues past the end of the file" }
                    $body = $lines[$i].Trim()
                    if ($body.Length -eq 0) { throw "${file}:$($i): hex data continues with '\' but the next line is empty (truncated?)" }
                }
                $parts.Add($body)
                $body = [string]::Concat($parts)
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
            $decoded = ConvertFrom-WsRawValue -TypeCode $code -Bytes $bytes -TextEncoding $Store.TextEncoding
            $kind = $decoded.Kind
            $data = $decoded.Data
            $exact = $bytes
        }
        # The value's lines as read (without the last line's break): written back unchanged.
        $before = $break
        if ($first -gt $gapFrom) { $before = $break + [string]::Join([char]10, $lines, $gapFrom, $first - $gapFrom) + $lfBreak }
        if ($i -eq $first) { $source = $lines[$i] } else { $source = [string]::Join([char]10, $lines, $first, $i - $first + 1) }
        $break = $lfBreak
        if ($source.Length -gt 0 -and $source[$source.Length - 1] -eq [char]13) { $source = $source.Substring(0, $source.Length - 1); $break = $crlfBreak }
        $gapFrom = $i + 1
        if ($null -eq $key) {
            # A value under a [-key] line: regedit ignores it; its lines stay with that piece.
            $piece.Items.Add(@{ Raw = $true; Before = $before; Source = $source })
            continue
        }
        $key.Piece = $piece
        $key.LastValuePiece = $piece
        # A removed or repeated value's earlier lines stay as they are (Raw); the last one counts.
        $old = $key.ValueMap[$name]
        if ($null -ne $old) { $old.Raw = $true }
        if ($null -eq $kind) {
            if ($null -ne $old) { $key.ValueMap.Remove($name) }
            $piece.Items.Add(@{ Raw = $true; Before = $before; Source = $source })
            continue
        }
        $record = @{ Name = $name; Kind = $kind; TypeCode = $code; Data = $data; Bytes = $exact; Source = $source; Before = $before; Raw = $false }
        if ($null -eq $old) { $key.ValueMap.Add($name, $record) } else { $key.ValueMap[$name] = $record }
        $piece.Items.Add($record)
    }
    $all = $lines.Length
    if ($gapFrom -ge $all) { $Store.Tail = $break.Substring(0, $break.Length - 1) }
    else { $Store.Tail = $break + [string]::Join([char]10, $lines, $gapFrom, $all - $gapFrom) }
}

function ConvertTo-WsRegText {
    # Renders $Store: the layout as read, element by element, so untouched lines (their
    # spelling, comments, blank lines, removal lines, the end of the file) keep their exact
    # text. A changed or new value is written as regedit exports it (hex lists wrap like
    # regedit; Wine's export.c matches); a removed key or value drops its lines and the blank
    # lines before them, keeping any comment above them.
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store
    )
    $nl = $Store.NewLine
    $terminator = [string][char]0
    $lineBreakChars = [char[]]@(13, 10, 0)
    $keyMap = $Store.KeyMap
    $sb = [System.Text.StringBuilder]::new(65536)
    $null = $sb.Append($Store.Lead)
    foreach ($piece in $Store.Pieces) {
        $key = $piece.Key
        $kept = $piece.Removal -or $key.Raw
        if (-not $kept -and -not [object]::ReferenceEquals($keyMap[$piece.Path], $key)) {
            $null = $sb.Append((Get-WsCommentsBefore -Text $piece.Before))
            continue
        }
        $null = $sb.Append($piece.Before).Append($piece.Source)
        $values = $null
        if (-not $kept) { $values = $key.ValueMap }
        foreach ($value in $piece.Items) {
            if ($kept -or $value.Raw) {
                $null = $sb.Append($value.Before).Append($value.Source)
                continue
            }
            if (-not [object]::ReferenceEquals($values[$value.Name], $value)) {
                $null = $sb.Append((Get-WsCommentsBefore -Text $value.Before))
                continue
            }
            $null = $sb.Append($value.Before)
            if ($null -ne $value.Source) {
                $null = $sb.Append($value.Source)
                continue
            }
            # Prefix: the name and '=' as the value's line spelled them, if it was read from the file
            # (set only by Set-WsSnapshotEntry, hence the index).
            $prefix = $value['Prefix']
            if ($null -eq $prefix -and $value.Name.Length -eq 0) { $prefix = '@=' }
            if ($null -eq $prefix) {
                # A name has no hex form, so its line breaks and NULs are escaped the way Wine's regedit does.
                $escaped = $value.Name.Replace('\', '\\').Replace('"', '\"')
                if ($escaped.IndexOfAny($lineBreakChars) -ge 0) { $escaped = $escaped.Replace("`r", '\r').Replace("`n", '\n').Replace([string][char]0, '\0') }
                $prefix = '"' + $escaped + '"='
            }
            $null = $sb.Append($prefix)
            $kind = $value.Kind
            $data = $value.Data
            if ($null -ne $value.Bytes -and -not ($kind -eq 'DWord' -and $value.TypeCode -eq 4)) {
                # Set from exact bytes (a raw restore): written as those bytes.
                $kind = 'Raw'
                $data = $value.Bytes
            }
            if ($kind -eq 'DWord') {
                $null = $sb.Append('dword:').Append($data.ToString('x8'))
                continue
            }
            if ($kind -eq 'String' -and $data.IndexOfAny($lineBreakChars) -lt 0) {
                $null = $sb.Append('"').Append($data.Replace('\', '\\').Replace('"', '\"')).Append('"')
                continue
            }
            # Strings with CR, LF or NUL cannot be quoted, so they go out as hex(1) like other hex kinds.
            if ($kind -eq 'String') {
                $type = 'hex(1):'; $bytes = ConvertTo-WsSnapshotTextData -Store $Store -Text ($data + $terminator)
            } elseif ($kind -eq 'ExpandString') {
                $type = 'hex(2):'; $bytes = ConvertTo-WsSnapshotTextData -Store $Store -Text ($data + $terminator)
            } elseif ($kind -eq 'MultiString') {
                $type = 'hex(7):'
                if ($data.Length -eq 0) {
                    $bytes = ConvertTo-WsSnapshotTextData -Store $Store -Text $terminator
                } else {
                    $bytes = ConvertTo-WsSnapshotTextData -Store $Store -Text ([string]::Join($terminator, $data) + $terminator + $terminator)
                }
            } elseif ($kind -eq 'QWord') {
                $type = 'hex(b):'; $bytes = [System.BitConverter]::GetBytes([uint64]$data)
            } elseif ($kind -eq 'Binary' -or $value.TypeCode -eq 3) {
                $type = 'hex:'; $bytes = $data
            } else {
                $type = 'hex(' + $value.TypeCode.ToString('x') + '):'; $bytes = $data
            }
            $null = $sb.Append($type)
            $hex = ''
            if ($bytes.Length -gt 0) { $hex = [System.BitConverter]::ToString($bytes).Replace('-', ',').ToLowerInvariant() }
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
        }
    }
    $null = $sb.Append($Store.Tail)
    return $sb.ToString()
}

function Get-WsCommentsBefore {
    # What stays of the text before a removed element: up to the end of its last non-blank line
    # (comments stay), without the blank lines and the line break that led to the element.
    param([AllowEmptyString()][string] $Text)
    $end = $Text.TrimEnd().Length
    if ($end -eq 0) { return '' }
    $lineEnd = $Text.IndexOf([char]10, $end)
    if ($lineEnd -lt 0) { return $Text }
    if ($lineEnd - 1 -ge $end -and $Text[$lineEnd - 1] -eq [char]13) { $lineEnd-- }
    return $Text.Substring(0, $lineEnd)
}

function ConvertFrom-WsUtf16 {
    # UTF-16LE bytes to text char for char: Encoding.Unicode would turn lone surrogates into U+FFFD.
    param([byte[]] $Bytes, [int] $Offset = 0)
    $chars = [char[]]::new([int][System.Math]::Floor(($Bytes.Length - $Offset) / 2))
    [System.Buffer]::BlockCopy($Bytes, $Offset, $chars, 0, $chars.Length * 2)
    return [string]::new($chars)
}

function ConvertTo-WsUtf16 {
    # Text to UTF-16LE bytes char for char (see ConvertFrom-WsUtf16).
    param([AllowEmptyString()][string] $Text)
    $chars = $Text.ToCharArray()
    $bytes = [byte[]]::new($chars.Length * 2)
    [System.Buffer]::BlockCopy($chars, 0, $bytes, 0, $bytes.Length)
    return , $bytes
}

function ConvertTo-WsSnapshotTextData {
    # Text of a hex(1)/hex(2)/hex(7) value: UTF-16LE, or the ANSI code page in REGEDIT4 files.
    param([hashtable] $Store, [AllowEmptyString()][string] $Text)
    if ($null -eq $Store.TextEncoding) { return , (ConvertTo-WsUtf16 -Text $Text) }
    return , $Store.TextEncoding.GetBytes($Text)
}

function ConvertFrom-WsRawValue {
    # Registry data bytes to the in-memory kind and data, as RegistryKey.GetValue reads them.
    # TextEncoding $null: UTF-16LE (char for char); else the encoding of a REGEDIT4 file.
    param([int] $TypeCode, [byte[]] $Bytes, $TextEncoding)
    if ($TypeCode -eq 3) { return @{ Kind = 'Binary'; Data = $Bytes } }
    if ($TypeCode -eq 4 -and $Bytes.Length -eq 4) { return @{ Kind = 'DWord'; Data = [System.BitConverter]::ToUInt32($Bytes, 0) } }
    if ($TypeCode -eq 11 -and $Bytes.Length -eq 8) { return @{ Kind = 'QWord'; Data = [System.BitConverter]::ToUInt64($Bytes, 0) } }
    if ($TypeCode -ne 1 -and $TypeCode -ne 2 -and $TypeCode -ne 7) { return @{ Kind = 'Raw'; Data = $Bytes } }
    if ($null -eq $TextEncoding) {
        # An odd trailing byte is zero-padded, as RegistryKey.GetValue does.
        $s = ConvertFrom-WsUtf16 -Bytes ($Bytes + [byte[]]::new($Bytes.Length % 2))
    } else {
        try { $s = $TextEncoding.GetString($Bytes) } catch { return @{ Kind = 'Raw'; Data = $Bytes } }
    }
    $last = $s.Length - 1
    if ($TypeCode -eq 7) {
        # The final NUL ends the list, and an empty last element right before it is the
        # list terminator, not an element.
        if ($last -ge 0 -and $s[$last] -eq [char]0) { $s = $s.Substring(0, $last); $last-- }
        if ($last -lt 0) { return @{ Kind = 'MultiString'; Data = [string[]]::new(0) } }
        if ($s[$last] -eq [char]0) { $s = $s.Substring(0, $last) }
        return @{ Kind = 'MultiString'; Data = [string[]]$s.Split([char]0) }
    }
    # One terminating NUL is dropped, as RegistryKey.GetValue does.
    if ($last -ge 0 -and $s[$last] -eq [char]0) { $s = $s.Substring(0, $last) }
    if ($TypeCode -eq 2) { return @{ Kind = 'ExpandString'; Data = $s } }
    return @{ Kind = 'String'; Data = $s }
}

function ConvertTo-WsRawValue {
    # The exact registry data of a stored value: its bytes as read or set, else its canonical encoding.
    param($Kind, $Data, $Bytes)
    if ($null -ne $Bytes) { return , ([byte[]]$Bytes) }
    $nul = [string][char]0
    switch ($Kind) {
        'String' { return , (ConvertTo-WsUtf16 -Text ([string]$Data + $nul)) }
        'ExpandString' { return , (ConvertTo-WsUtf16 -Text ([string]$Data + $nul)) }
        'MultiString' {
            if (@($Data).Count -eq 0) { return , (ConvertTo-WsUtf16 -Text $nul) }
            return , (ConvertTo-WsUtf16 -Text ([string]::Join($nul, [string[]]$Data) + $nul + $nul))
        }
        'DWord' { return , [System.BitConverter]::GetBytes([uint32]$Data) }
        'QWord' { return , [System.BitConverter]::GetBytes([uint64]$Data) }
    }
    if ($null -eq $Data) { return , [byte[]]::new(0) }
    return , ([byte[]]$Data)
}

function Assert-WsSnapshotEncodable {
    # A REGEDIT4 (ANSI) or UTF-8 file cannot hold every character: refuse such text before
    # anything changes, rather than letting the save write '?' in its place.
    param([hashtable] $Store, [AllowEmptyString()][string] $Text, [string] $What)
    if ($Store.Encoding -is [System.Text.UnicodeEncoding]) { return }
    try { $null = $Store.Encoding.GetBytes($Text) } catch {
        throw [System.ArgumentException]::new(("{0} cannot be stored in {1}: it is a {2} file (code page {3}), which has no form for some of its characters" -f $What, $Store.Path, $Store.Header, $Store.Encoding.CodePage), $_.Exception)
    }
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
    $key = @{ Path = $Path; ValueMap = [System.Collections.Specialized.OrderedDictionary]::new($ci); Piece = $null; LastValuePiece = $null; Raw = $false }
    $map.Insert($at, $Path, $key)
    # In the file: after the last piece sorting before it, and after a [-key] line for the same
    # path (a new header above that line would be removed by it on import).
    $pieces = $Store.Pieces
    $at = 0
    for ($j = 0; $j -lt $pieces.Count; $j++) {
        $order = [string]::Compare($pieces[$j].Path.Replace([char]'\', [char]1), $sortKey, $ordinalCi)
        if ($order -lt 0 -or ($order -eq 0 -and $pieces[$j].Removal)) { $at = $j + 1 }
    }
    $nl = $Store.NewLine
    $key.Piece = @{ Before = $nl + $nl; Source = '[' + $Path + ']'; Path = $Path; Key = $key; Items = [System.Collections.Generic.List[hashtable]]::new(); Removal = $false }
    $pieces.Insert($at, $key.Piece)
    $Store.Implied = $null
    $Store.Dirty = $true
    return $key
}

function Remove-WsSnapshotSubtree {
    # Removes the header for $Path and every header below it; returns how many were removed.
    # -KeepLines (a [-key] line being read): the removed keys' lines stay in the file as read.
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Path,
        [switch] $KeepLines
    )
    $ordinalCi = [System.StringComparison]::OrdinalIgnoreCase
    $prefix = $Path + '\'
    $doomed = [System.Collections.Generic.List[string]]::new()
    foreach ($p in $Store.KeyMap.get_Keys()) {
        if ([string]::Equals($p, $Path, $ordinalCi) -or $p.StartsWith($prefix, $ordinalCi)) { $doomed.Add($p) }
    }
    foreach ($p in $doomed) {
        if ($KeepLines) { $Store.KeyMap[$p].Raw = $true }
        $Store.KeyMap.Remove($p)
    }
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
            throw [System.ArgumentException]::new("Data for ${what} is out of range: $Data", $_.Exception)
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
            try { $copy = [byte[]]@($Data) } catch { throw [System.ArgumentException]::new("Data for ${what} must be bytes (0..255)", $_.Exception) }
        }
    }
    # A Raw value must not be one the reader would decode as a typed kind.
    if ($Kind -eq 'Raw' -and (($code -ge 1 -and $code -le 3) -or $code -eq 7 -or
            ($code -eq 4 -and $copy.Length -eq 4) -or ($code -eq 11 -and $copy.Length -eq 8))) {
        throw "Type code $code for ${what} has its own kind; use that kind instead of Raw"
    }
    return @{ Name = $Name; Kind = $Kind; TypeCode = $code; Data = $copy; Bytes = $null; Source = $null; Before = $null; Raw = $false }
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
        $state = @{ KeyExists = $false; ValueExists = $false; Kind = $null; TypeCode = $null; Data = $null; Bytes = $null }
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
        if ($null -ne $value.Bytes) { $state.Bytes = $value.Bytes.Clone() }
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
    Set-WsSnapshotEntry -Store $Store -Hive $Hive -SubKey $SubKey -Entry $entry
}

function Set-WsSnapshotRowValue {
    # The set phase's hot path: a resource row's typed value, one call per change. A value the
    # file already holds in a UTF-16 file (the common case) is updated in place; anything else
    # takes the general path (Set-WsSnapshotValue: new keys, encodability checks).
    param([hashtable] $Store, $Resource)
    $root = $Store.Hives[$Resource.Hive]
    $old = $null
    if ($null -ne $root -and $Store.Encoding -is [System.Text.UnicodeEncoding]) {
        $sub = $Resource.SubKey.Trim([char]'\')
        $path = $root
        if ($sub.Length -gt 0) { $path = $root + '\' + $sub }
        $key = $Store.KeyMap[$path]
        if ($null -ne $key) { $old = $key.ValueMap[[string]$Resource.ValueName] }
    }
    if ($null -eq $old) {
        Set-WsSnapshotValue -Store $Store -Hive $Resource.Hive -SubKey $Resource.SubKey -ValueName $Resource.ValueName -Kind $Resource.ValueType -Data $Resource.ValueData
        return
    }
    if ($Resource.ValueType -eq 'DWord' -and $Resource.ValueData -is [uint32]) {
        $entry = @{ Kind = 'DWord'; TypeCode = 4; Data = [uint32]$Resource.ValueData }
    } else {
        $entry = ConvertTo-WsSnapshotEntry -Name $old.Name -Kind $Resource.ValueType -Data $Resource.ValueData -TypeCode $null
    }
    # The existing name spelling and position stay, as the registry keeps them.
    $old.Kind = $entry.Kind
    $old.TypeCode = $entry.TypeCode
    $old.Data = $entry.Data
    $old.Bytes = $null
    $old.Source = $null
    $Store.Dirty = $true
}

function Set-WsSnapshotRawValue {
    # Sets a value from its exact type code and bytes (rollback of any value, byte for byte).
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Hive,
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $SubKey,
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $ValueName,
        [Parameter(Mandatory = $true)] [int] $TypeCode,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [byte[]] $Bytes
    )
    $copy = [byte[]]$Bytes.Clone()
    $decoded = ConvertFrom-WsRawValue -TypeCode $TypeCode -Bytes $copy -TextEncoding $null
    $entry = @{ Name = $ValueName; Kind = $decoded.Kind; TypeCode = $TypeCode; Data = $decoded.Data; Bytes = $copy; Source = $null; Before = $null; Raw = $false }
    Set-WsSnapshotEntry -Store $Store -Hive $Hive -SubKey $SubKey -Entry $entry
}

function Set-WsSnapshotEntry {
    param([hashtable] $Store, [string] $Hive, [AllowEmptyString()] [string] $SubKey, [hashtable] $Entry)
    $ValueName = $Entry.Name
    $path = Get-WsSnapshotKeyPath -Store $Store -Hive $Hive -SubKey $SubKey
    $text = $path + [char]10 + $ValueName
    if ($null -eq $Entry.Bytes -and ($Entry.Kind -eq 'String' -or $Entry.Kind -eq 'ExpandString' -or $Entry.Kind -eq 'MultiString')) { $text += [char]10 + [string]::Join([char]10, [string[]]@($Entry.Data)) }
    Assert-WsSnapshotEncodable -Store $Store -Text $text -What ("Value '{0}' of {1}" -f $ValueName, $path)
    $key = Add-WsSnapshotKey -Store $Store -Path $path
    $values = $key.ValueMap
    $old = $values[$ValueName]
    $entry = $Entry
    if ($null -ne $old) {
        # Keep the existing name spelling and position, as the registry does: the line's own
        # '"name" = ' stays too, so setting the old data back gives back the old line.
        if ($null -ne $old.Source) { $old.Prefix = $script:WsRegValuePrefix.Match($old.Source).Value }
        $old.Kind = $entry.Kind
        $old.TypeCode = $entry.TypeCode
        $old.Data = $entry.Data
        $old.Bytes = $entry.Bytes
        $old.Source = $null
    } else {
        # In the file: after the key's last value line; the default value first, as regedit
        # writes it, but below any line that removes or repeats a value (those would undo it).
        $entry.Before = $Store.NewLine
        $items = $key.Piece.Items
        if ($ValueName.Length -eq 0) {
            $values.Insert(0, $ValueName, $entry)
            $at = 0
            for ($j = 0; $j -lt $items.Count; $j++) { if ($items[$j].Raw) { $at = $j + 1 } }
            $items.Insert($at, $entry)
        } else {
            $values.Add($ValueName, $entry)
            $items.Add($entry)
        }
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
        Assert-WsSnapshotEncodable -Store $Store -Text $path -What ("Key {0}" -f $path)
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
    <#
    .SYNOPSIS
    Writes a changed registry export back atomically, in its own encoding and line endings.
    .PARAMETER Store
    The store from Open-WsSnapshotStore.
    .PARAMETER Fence
    The lock this run holds; checked right before the new file is swapped in.
    .OUTPUTS
    $true when the file was written; $false when nothing had changed.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        # The lock this writer holds (Path, Token); checked right before the file is swapped in.
        [hashtable] $Fence
    )
    if (-not $Store.Dirty) { return $false }
    $text = ConvertTo-WsRegText -Store $Store
    if ($Store.Encoding -is [System.Text.UnicodeEncoding]) { $body = ConvertTo-WsUtf16 -Text $text }
    else {
        try { $body = $Store.Encoding.GetBytes($text) } catch { throw [System.IO.IOException]::new("Cannot save snapshot '$($Store.Path)': $($_.Exception.Message)", $_.Exception) }
    }
    $bom = $Store.Bom
    $bytes = [byte[]]::new($bom.Length + $body.Length)
    [System.Array]::Copy($bom, $bytes, $bom.Length)
    [System.Array]::Copy($body, 0, $bytes, $bom.Length, $body.Length)
    # A writer killed between writing its temporary file and swapping it in leaves that file
    # behind; whoever saves next (under the lock) clears it away.
    $folder = [System.IO.Path]::GetDirectoryName($Store.Path)
    foreach ($stale in [System.IO.Directory]::GetFiles($folder, '.' + [System.IO.Path]::GetFileName($Store.Path) + '.*.tmp')) {
        try { [System.IO.File]::Delete($stale) } catch { $null = $_ }
    }
    $check = $null
    if ($null -ne $Fence) {
        $check = {
            Step-WsTestHook -Phase 'swap'
            Assert-WsFence -Fence $Fence
        }
    }
    try {
        Write-WsFileAtomic -Path $Store.Path -Bytes $bytes -BeforeSwap $check
    } catch {
        throw [System.IO.IOException]::new("Cannot save snapshot '$($Store.Path)': $($_.Exception.Message)", $_.Exception)
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
                $values.Add(@{ Name = $v.Name; Kind = $v.Kind; TypeCode = $v.TypeCode; Data = $v.Data; Bytes = $v.Bytes })
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
