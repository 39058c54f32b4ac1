# Text files that must come back byte for byte. The encoding, the byte order mark and every
# line's own line ending are kept, so a store that changes one line rewrites only that line.
# Shared by the security template (.inf) and audit backup (.csv) stores.
# Needs Write-WsFileAtomic (src/compile/runtime/core.ps1).

function Read-WsTextFile {
    <#
    .SYNOPSIS
    Reads a text file into lines that keep their own line endings.
    .DESCRIPTION
    Accepts UTF-16LE (with a byte order mark, or without one when the second byte is zero), UTF-8
    with or without a byte order mark, and otherwise the ANSI code page. Errors are
    "file:line: message".
    .PARAMETER LiteralPath
    The file to read.
    .OUTPUTS
    A hashtable: Path, Encoding, Bom (byte[]), NewLine (the first line ending found, CRLF when the
    file has none) and Lines, a List of @{ Text; Eol } in file order. The last line's Eol is ''
    when the file does not end with a line break.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [string] $LiteralPath
    )
    # .NET resolves relative paths against the process directory, not the PowerShell location.
    $full = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($LiteralPath)
    if (-not [System.IO.File]::Exists($full)) { throw "File not found: $full" }
    $bytes = [System.IO.File]::ReadAllBytes($full)
    return ConvertFrom-WsTextContent -Bytes $bytes -Path $full
}

function ConvertFrom-WsTextContent {
    <#
    .SYNOPSIS
    Decodes file bytes into lines that keep their own line endings (see Read-WsTextFile).
    .PARAMETER Bytes
    The file's bytes.
    .PARAMETER Path
    The file's name, used in error messages.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [byte[]] $Bytes,
        [Parameter(Mandatory = $true)] [string] $Path
    )
    $bomLength = 0
    $utf16 = $false
    if ($Bytes.Length -ge 2 -and $Bytes[0] -eq 0xFF -and $Bytes[1] -eq 0xFE) {
        $utf16 = $true
        $bomLength = 2
    } elseif ($Bytes.Length -ge 3 -and $Bytes[0] -eq 0xEF -and $Bytes[1] -eq 0xBB -and $Bytes[2] -eq 0xBF) {
        $bomLength = 3
    } elseif ($Bytes.Length -ge 2 -and $Bytes[0] -ne 0 -and $Bytes[1] -eq 0) {
        $utf16 = $true
    }
    $count = $Bytes.Length - $bomLength
    if ($utf16) {
        $encoding = [System.Text.UnicodeEncoding]::new($false, $false)
        if ($count % 2 -ne 0) {
            $head = $encoding.GetString($Bytes, $bomLength, $count - 1)
            throw "${Path}:$(Get-WsLineNumber -Text $head -Index $head.Length): the file is UTF-16 but has an odd number of bytes (it ends in half a character)"
        }
        $strict = [System.Text.UnicodeEncoding]::new($false, $false, $true)
    } else {
        $encoding = [System.Text.UTF8Encoding]::new($false)
        $strict = [System.Text.UTF8Encoding]::new($false, $true)
    }
    try {
        $text = $strict.GetString($Bytes, $bomLength, $count)
    } catch {
        if ($utf16) {
            $loose = $encoding.GetString($Bytes, $bomLength, $count)
            throw [System.IO.InvalidDataException]::new("${Path}:$(Get-WsLineNumber -Text $loose -Index $loose.IndexOf([char]0xFFFD)): the file is UTF-16 but holds an unpaired surrogate", $_.Exception)
        }
        # Not UTF-8: the ANSI code page, as Windows tools without a byte order mark write it.
        $encoding = [System.Text.Encoding]::GetEncoding([System.Globalization.CultureInfo]::CurrentCulture.TextInfo.ANSICodePage)
        $text = $encoding.GetString($Bytes, $bomLength, $count)
    }
    $bom = [byte[]]::new($bomLength)
    [System.Array]::Copy($Bytes, $bom, $bomLength)

    $lines = [System.Collections.Generic.List[object]]::new()
    $start = 0
    while ($start -lt $text.Length) {
        $lf = $text.IndexOf([char]10, $start)
        if ($lf -lt 0) {
            $lines.Add(@{ Text = $text.Substring($start); Eol = '' })
            break
        }
        $end = $lf
        $eol = "`n"
        if ($lf -gt $start -and $text[$lf - 1] -eq [char]13) {
            $end = $lf - 1
            $eol = "`r`n"
        }
        $lines.Add(@{ Text = $text.Substring($start, $end - $start); Eol = $eol })
        $start = $lf + 1
    }
    $newLine = "`r`n"
    foreach ($line in $lines) {
        if ($line.Eol -ne '') { $newLine = $line.Eol; break }
    }
    return @{ Path = $Path; Encoding = $encoding; Bom = $bom; NewLine = $newLine; Lines = $lines }
}

function Get-WsLineNumber {
    <#
    .SYNOPSIS
    The 1-based line number of a character index in a text.
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $Text,
        [Parameter(Mandatory = $true)] [int] $Index
    )
    $line = 1
    $limit = [System.Math]::Min([System.Math]::Max($Index, 0), $Text.Length)
    for ($i = 0; $i -lt $limit; $i++) {
        if ($Text[$i] -eq [char]10) { $line++ }
    }
    return $line
}

function ConvertTo-WsTextContent {
    <#
    .SYNOPSIS
    The bytes of a text file read by Read-WsTextFile: its byte order mark, then every line with
    its own line ending, in its own encoding.
    .PARAMETER File
    A hashtable from Read-WsTextFile or New-WsTextFile.
    #>
    [CmdletBinding()]
    [OutputType([byte[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $File
    )
    $sb = [System.Text.StringBuilder]::new()
    foreach ($line in $File.Lines) { $null = $sb.Append($line.Text).Append($line.Eol) }
    $body = $File.Encoding.GetBytes($sb.ToString())
    $bytes = [byte[]]::new($File.Bom.Length + $body.Length)
    [System.Array]::Copy($File.Bom, $bytes, $File.Bom.Length)
    [System.Array]::Copy($body, 0, $bytes, $File.Bom.Length, $body.Length)
    return , $bytes
}

function Write-WsTextFile {
    <#
    .SYNOPSIS
    Writes a text file atomically, byte for byte as ConvertTo-WsTextContent renders it.
    .PARAMETER File
    A hashtable from Read-WsTextFile or New-WsTextFile.
    .PARAMETER LiteralPath
    Where to write; the file's own Path when omitted.
    .PARAMETER BeforeSwap
    Runs right before the new file is swapped in (the engine's lock check).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $File,
        [string] $LiteralPath,
        [scriptblock] $BeforeSwap
    )
    $target = $File.Path
    if ($LiteralPath) { $target = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($LiteralPath) }
    Write-WsFileAtomic -Path $target -Bytes (ConvertTo-WsTextContent -File $File) -BeforeSwap $BeforeSwap
}

function New-WsTextFile {
    <#
    .SYNOPSIS
    An empty text file in memory, UTF-16LE with a byte order mark and CRLF (as secedit writes) unless told otherwise.
    .PARAMETER Path
    The file's name, used in error messages and as the default target of Write-WsTextFile.
    .PARAMETER Utf8
    UTF-8 without a byte order mark instead.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [string] $Path,
        [switch] $Utf8
    )
    if ($Utf8) {
        $encoding = [System.Text.UTF8Encoding]::new($false)
        $bom = [byte[]]::new(0)
    } else {
        $encoding = [System.Text.UnicodeEncoding]::new($false, $false)
        $bom = [byte[]](0xFF, 0xFE)
    }
    return @{ Path = $Path; Encoding = $encoding; Bom = $bom; NewLine = "`r`n"; Lines = [System.Collections.Generic.List[object]]::new() }
}

function Add-WsTextLine {
    <#
    .SYNOPSIS
    Inserts a line at a position, ending it with the file's line ending. A line inserted after a
    last line that had no line ending gives that line one and ends without one itself, so the
    file keeps ending the way it did.
    .PARAMETER File
    A hashtable from Read-WsTextFile or New-WsTextFile.
    .PARAMETER Index
    Where the new line goes (0 = first; Lines.Count = after the last).
    .PARAMETER Text
    The line's text, without a line ending.
    .OUTPUTS
    The new line (@{ Text; Eol }).
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $File,
        [Parameter(Mandatory = $true)] [int] $Index,
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $Text
    )
    $lines = $File.Lines
    $line = @{ Text = $Text; Eol = $File.NewLine }
    if ($Index -eq $lines.Count -and $Index -gt 0 -and $lines[$Index - 1].Eol -eq '') {
        $lines[$Index - 1].Eol = $File.NewLine
        $line.Eol = ''
    }
    $lines.Insert($Index, $line)
    return $line
}

function Save-WsTextStore {
    <#
    .SYNOPSIS
    Writes a line-keeping text store (security template, audit backup) back atomically when
    something changed, with the writer's lock checked right before the file is swapped in.
    .PARAMETER Store
    A store whose File came from Read-WsTextFile, with Dirty, Changed and Path.
    .PARAMETER Fence
    The lock the writer holds (Path, Token); $null when no lock is checked.
    .PARAMETER Label
    What the file is, for the error message ('security template').
    .OUTPUTS
    $true when the file was written.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [AllowNull()] [hashtable] $Fence,
        [Parameter(Mandatory = $true)] [string] $Label
    )
    if (-not $Store.Dirty) { return $false }
    $check = $null
    if ($null -ne $Fence) {
        $check = {
            Step-WsTestHook -Phase 'swap'
            Assert-WsFence -Fence $Fence
        }
    }
    try {
        Write-WsTextFile -File $Store.File -BeforeSwap $check
    } catch {
        throw [System.IO.IOException]::new("Cannot save $Label '$($Store.Path)': $($_.Exception.Message)", $_.Exception)
    }
    $Store.Dirty = $false
    $Store.Changed.Clear()
    return $true
}
