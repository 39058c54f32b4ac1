# Security template store: a secedit export or GPO security template (.inf) held in memory as
# its lines, so a write-back changes only the lines of the entries that changed. Offline
# snapshots and the live layer (security-template-live.ps1) share this reader and writer.
# Needs src/kinds/text-file.ps1.
#
# Store hashtable:
#   Kind     'SecurityTemplate'
#   Path     the file
#   File     the lines (Read-WsTextFile)
#   Sections OrderedDictionary name -> @{ Name; Header (line); Entries (OrderedDictionary key -> line) }
#   Changed  OrderedDictionary "section\key" -> @{ Section; Key }: entries set or removed since opening
#   Dirty    whether Save-WsSecurityTemplate has something to write
# An entry line is @{ Text; Eol; Key; Lead; Value }: Lead is the text up to the value, kept as
# it was (indentation, key spelling, spaces around '=').

$script:WsTemplateSections = @('Unicode', 'System Access', 'Event Audit', 'Kerberos Policy', 'Registry Values', 'Privilege Rights', 'Version')

function Open-WsSecurityTemplate {
    <#
    .SYNOPSIS
    Reads a security template (.inf) as secedit exports it or as GPO backups hold it.
    .DESCRIPTION
    UTF-16LE with a byte order mark and CRLF (secedit), or UTF-8/ASCII with LF or CRLF. Known
    sections are checked: every line there is "key = value", a comment (;) or blank; a key
    appears once. Other sections are kept as they are. Errors are "file:line: message".
    .PARAMETER LiteralPath
    The .inf file.
    .OUTPUTS
    The store hashtable (see the top of this file).
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [string] $LiteralPath
    )
    $file = Read-WsTextFile -LiteralPath $LiteralPath
    return ConvertFrom-WsSecurityTemplateFile -File $file
}

function ConvertFrom-WsSecurityTemplateFile {
    <#
    .SYNOPSIS
    Indexes the lines of a security template into sections and entries (see Open-WsSecurityTemplate).
    .PARAMETER File
    A hashtable from Read-WsTextFile or New-WsTextFile.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $File
    )
    $ci = [System.StringComparer]::OrdinalIgnoreCase
    $known = [System.Collections.Generic.HashSet[string]]::new([string[]]$script:WsTemplateSections, $ci)
    $sections = [System.Collections.Specialized.OrderedDictionary]::new($ci)
    $reHeader = [regex]'^\s*\[([^\[\]]*)\]\s*$'
    $reEntry = [regex]'^(\s*([^=]*?)\s*=\s*)(.*)$'
    $path = $File.Path
    $section = $null
    $checked = $false
    $lines = $File.Lines
    for ($i = 0; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]
        $text = $line.Text
        $number = $i + 1
        if ($text.IndexOf([char]0) -ge 0) { throw "${path}:${number}: NUL character in the text; is this a UTF-16 file without its byte order mark?" }
        $trimmed = $text.Trim()
        if ($trimmed.Length -eq 0 -or $trimmed[0] -eq [char]';') { continue }
        if ($trimmed[0] -eq [char]'[') {
            $m = $reHeader.Match($text)
            if (-not $m.Success -or $m.Groups[1].Value.Trim().Length -eq 0) {
                throw "${path}:${number}: a section header must be one name in brackets, such as [System Access]"
            }
            $name = $m.Groups[1].Value.Trim()
            if ($sections.Contains($name)) {
                $first = $lines.IndexOf($sections[$name].Header) + 1
                throw "${path}:${number}: section [$name] appears a second time (first at line $first)"
            }
            $section = @{ Name = $name; Header = $line; Entries = [System.Collections.Specialized.OrderedDictionary]::new($ci) }
            $sections[$name] = $section
            $checked = $known.Contains($name)
            continue
        }
        if ($null -eq $section) { throw "${path}:${number}: text before the first [section]; this is not a security template" }
        $m = $reEntry.Match($text)
        if (-not $m.Success -or $m.Groups[2].Value.Length -eq 0) {
            if ($checked) { throw "${path}:${number}: expected 'key = value' in [$($section.Name)]" }
            continue
        }
        $key = $m.Groups[2].Value
        if ($section.Entries.Contains($key)) {
            if ($checked) {
                $first = $lines.IndexOf($section.Entries[$key]) + 1
                throw "${path}:${number}: '$key' is set a second time in [$($section.Name)] (first at line $first)"
            }
            continue
        }
        $line.Key = $key
        $line.Lead = $m.Groups[1].Value
        $line.Value = $m.Groups[3].Value.TrimEnd()
        $section.Entries[$key] = $line
    }
    if ($sections.get_Count() -eq 0) { throw "${path}:1: no [section] found; this is not a security template" }
    return @{
        Kind     = 'SecurityTemplate'
        Path     = $path
        File     = $File
        Sections = $sections
        Changed  = [System.Collections.Specialized.OrderedDictionary]::new($ci)
        Dirty    = $false
    }
}

function New-WsSecurityTemplate {
    <#
    .SYNOPSIS
    A new security template in memory: [Unicode] and [Version] as secedit writes them, UTF-16LE
    with a byte order mark and CRLF.
    .PARAMETER Path
    Where Save-WsSecurityTemplate will write it.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [string] $Path
    )
    $file = New-WsTextFile -Path $Path
    foreach ($text in @('[Unicode]', 'Unicode=yes', '[Version]', 'signature="$CHICAGO$"', 'Revision=1')) {
        $null = Add-WsTextLine -File $file -Index $file.Lines.Count -Text $text
    }
    $store = ConvertFrom-WsSecurityTemplateFile -File $file
    $store.Dirty = $true
    return $store
}

function Get-WsSecurityTemplateEntry {
    <#
    .SYNOPSIS
    The value of an entry, as written after '=' (trailing blanks dropped), or $null when the
    section or the key is absent. Section and key are matched case-insensitively.
    .PARAMETER Store
    A store from Open-WsSecurityTemplate.
    .PARAMETER Section
    Section name without brackets, such as 'System Access'.
    .PARAMETER Key
    Entry key, such as 'MinimumPasswordLength'.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Section,
        [Parameter(Mandatory = $true)] [string] $Key
    )
    $s = $Store.Sections[$Section]
    if ($null -eq $s) { return $null }
    $line = $s.Entries[$Key]
    if ($null -eq $line) { return $null }
    return $line.Value
}

function Assert-WsTemplateText {
    <#
    .SYNOPSIS
    Keys and values are written into one line of the file: refuse what would break its syntax.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [string] $Section,
        [Parameter(Mandatory = $true)] [string] $Key,
        [AllowEmptyString()] [string] $Value
    )
    if ($Section.IndexOfAny([char[]]"[]`r`n") -ge 0 -or $Section.Trim() -ne $Section -or $Section.Length -eq 0) { throw "not a security template section name: '$Section'" }
    if ($Key.IndexOfAny([char[]]"=`r`n") -ge 0 -or $Key.Trim() -ne $Key -or $Key.Length -eq 0 -or $Key[0] -eq [char]'[' -or $Key[0] -eq [char]';') { throw "not a security template key: '$Key'" }
    if ($Value.IndexOfAny([char[]]"`r`n") -ge 0) { throw "a security template value is one line; '$Key' got a line break" }
}

function Set-WsSecurityTemplateEntry {
    <#
    .SYNOPSIS
    Sets an entry's value. An existing line keeps its indentation, key spelling and spacing
    around '='; a new key goes after the last entry of its section, a new section at the end
    of the file. The separator of a new key follows secedit: ' = ' except in [Unicode],
    [Version] and [Registry Values], which use '='.
    .PARAMETER Store
    A store from Open-WsSecurityTemplate.
    .PARAMETER Section
    Section name without brackets.
    .PARAMETER Key
    Entry key.
    .PARAMETER Value
    The text after '=', exactly as the file should hold it (quotes included, see ConvertTo-WsTemplateString).
    .OUTPUTS
    $true when the file changed, $false when the entry already had this value.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Section,
        [Parameter(Mandatory = $true)] [string] $Key,
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $Value
    )
    Assert-WsTemplateText -Section $Section -Key $Key -Value $Value
    $Value = $Value.TrimEnd()
    $s = $Store.Sections[$Section]
    if ($null -ne $s) {
        $line = $s.Entries[$Key]
        if ($null -ne $line) {
            if ($line.Value -ceq $Value) { return $false }
            $line.Text = $line.Lead + $Value
            $line.Value = $Value
            Register-WsTemplateChange -Store $Store -Section $s.Name -Key $line.Key
            return $true
        }
    }
    $lines = $Store.File.Lines
    if ($null -eq $s) {
        $header = Add-WsTextLine -File $Store.File -Index $lines.Count -Text "[$Section]"
        $s = @{ Name = $Section; Header = $header; Entries = [System.Collections.Specialized.OrderedDictionary]::new([System.StringComparer]::OrdinalIgnoreCase) }
        $Store.Sections[$Section] = $s
        $at = $lines.Count
    } else {
        $at = (Get-WsTemplateSectionEnd -Store $Store -Section $s) + 1
    }
    $separator = ' = '
    if (@('Unicode', 'Version', 'Registry Values') -contains $s.Name) { $separator = '=' }
    $line = Add-WsTextLine -File $Store.File -Index $at -Text ($Key + $separator + $Value)
    $line.Key = $Key
    $line.Lead = $Key + $separator
    $line.Value = $Value
    $s.Entries[$Key] = $line
    Register-WsTemplateChange -Store $Store -Section $s.Name -Key $Key
    return $true
}

function Get-WsTemplateSectionEnd {
    <#
    .SYNOPSIS
    Index of the section's last line that is neither blank nor past the section (its header when empty).
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [hashtable] $Section
    )
    $lines = $Store.File.Lines
    $start = $lines.IndexOf($Section.Header)
    $last = $start
    for ($i = $start + 1; $i -lt $lines.Count; $i++) {
        $trimmed = $lines[$i].Text.Trim()
        if ($trimmed.StartsWith('[')) { break }
        if ($trimmed.Length -gt 0) { $last = $i }
    }
    return $last
}

function Remove-WsSecurityTemplateEntry {
    <#
    .SYNOPSIS
    Removes an entry's line, and its section when nothing at all is left under the header.
    .PARAMETER Store
    A store from Open-WsSecurityTemplate.
    .PARAMETER Section
    Section name without brackets.
    .PARAMETER Key
    Entry key.
    .OUTPUTS
    $true when a line was removed, $false when the entry was absent.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Section,
        [Parameter(Mandatory = $true)] [string] $Key
    )
    $s = $Store.Sections[$Section]
    if ($null -eq $s) { return $false }
    $line = $s.Entries[$Key]
    if ($null -eq $line) { return $false }
    $lines = $Store.File.Lines
    $at = $lines.IndexOf($line)
    # The last line of a file without a final line break hands that ending to the line before it.
    if ($at -eq $lines.Count - 1 -and $line.Eol -eq '' -and $at -gt 0) { $lines[$at - 1].Eol = '' }
    $lines.RemoveAt($at)
    $s.Entries.Remove($Key)
    # A section left with nothing at all under its header goes too: that is how a run that created
    # it is undone byte for byte (a section with a comment or a blank line under it stays).
    $header = $lines.IndexOf($s.Header)
    if ($s.Entries.Count -eq 0 -and ($header -eq $lines.Count - 1 -or $lines[$header + 1].Text.Trim().StartsWith('['))) {
        if ($header -eq $lines.Count - 1 -and $s.Header.Eol -eq '' -and $header -gt 0) { $lines[$header - 1].Eol = '' }
        $lines.RemoveAt($header)
        $Store.Sections.Remove($s.Name)
    }
    Register-WsTemplateChange -Store $Store -Section $s.Name -Key $line.Key
    return $true
}

function Register-WsTemplateChange {
    <#
    .SYNOPSIS
    Remembers which entries changed: the live layer configures only those.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Section,
        [Parameter(Mandatory = $true)] [string] $Key
    )
    $id = $Section + '\' + $Key
    if (-not $Store.Changed.Contains($id)) { $Store.Changed[$id] = @{ Section = $Section; Key = $Key } }
    $Store.Dirty = $true
}

function Get-WsPrivilegeRight {
    <#
    .SYNOPSIS
    The principals holding a privilege or logon right in [Privilege Rights], in file order:
    '*S-...' for SIDs, account names as written. An absent right and a right written with no
    principals both give an empty list.
    .PARAMETER Store
    A store from Open-WsSecurityTemplate.
    .PARAMETER Right
    The constant, such as 'SeDenyNetworkLogonRight'.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Right
    )
    $value = Get-WsSecurityTemplateEntry -Store $Store -Section 'Privilege Rights' -Key $Right
    $list = [System.Collections.Generic.List[string]]::new()
    if ($null -ne $value) {
        foreach ($item in $value.Split([char]',')) {
            $principal = $item.Trim()
            if ($principal.Length -gt 0) { $list.Add($principal) }
        }
    }
    return , [string[]]$list.ToArray()
}

function Set-WsPrivilegeRight {
    <#
    .SYNOPSIS
    Makes exactly these principals hold a right. A list equal to the current one (in any order,
    ignoring case) changes nothing.
    .DESCRIPTION
    The list is written comma-separated without spaces, as secedit does. An empty list removes
    the right's line, since secedit /export leaves out rights that nobody holds; with -KeepEmpty
    it writes 'Right = ' instead, which is how a template given to secedit /configure says
    "defined, nobody" (absence there means "leave alone").
    .PARAMETER Store
    A store from Open-WsSecurityTemplate.
    .PARAMETER Right
    The constant, such as 'SeDenyNetworkLogonRight'.
    .PARAMETER Principal
    '*S-...' SIDs or account names.
    .PARAMETER KeepEmpty
    Write an empty right as 'Right = ' rather than removing it.
    .OUTPUTS
    $true when the file changed.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Right,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [string[]] $Principal,
        [switch] $KeepEmpty
    )
    if ($Right -notmatch '^Se[A-Za-z]+(Privilege|Right)$') { throw "not a privilege or logon right constant: '$Right'" }
    $wanted = [System.Collections.Generic.List[string]]::new()
    $seen = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
    foreach ($p in $Principal) {
        if ($null -eq $p -or $p.Trim().Length -eq 0 -or $p.IndexOfAny([char[]]",`r`n") -ge 0 -or $p.Trim() -ne $p) { throw "${Right}: not a principal: '$p'" }
        if (-not $seen.Add($p)) { throw "${Right}: '$p' is listed twice" }
        $wanted.Add($p)
    }
    $current = Get-WsPrivilegeRight -Store $Store -Right $Right
    $defined = $null -ne (Get-WsSecurityTemplateEntry -Store $Store -Section 'Privilege Rights' -Key $Right)
    $same = $current.Length -eq $wanted.Count
    if ($same) {
        foreach ($p in $current) { if (-not $seen.Contains($p)) { $same = $false; break } }
    }
    if ($wanted.Count -eq 0) {
        if ($KeepEmpty) {
            if ($same -and $defined) { return $false }
            return Set-WsSecurityTemplateEntry -Store $Store -Section 'Privilege Rights' -Key $Right -Value ''
        }
        return Remove-WsSecurityTemplateEntry -Store $Store -Section 'Privilege Rights' -Key $Right
    }
    if ($same) { return $false }
    return Set-WsSecurityTemplateEntry -Store $Store -Section 'Privilege Rights' -Key $Right -Value ($wanted -join ',')
}

function ConvertFrom-WsTemplateString {
    <#
    .SYNOPSIS
    The text of a quoted template value ("  Guest" gives '  Guest'; a doubled quote inside is one
    quote). An unquoted value is returned as it is.
    .PARAMETER Value
    The value as Get-WsSecurityTemplateEntry returns it.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $Value
    )
    if ($Value.Length -ge 2 -and $Value[0] -eq [char]'"' -and $Value[$Value.Length - 1] -eq [char]'"') {
        return $Value.Substring(1, $Value.Length - 2).Replace('""', '"')
    }
    return $Value
}

function ConvertTo-WsTemplateString {
    <#
    .SYNOPSIS
    A text as a quoted template value, as secedit writes account names ("Guest").
    .PARAMETER Text
    The text; it may not hold line breaks.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $Text
    )
    if ($Text.IndexOfAny([char[]]"`r`n") -ge 0) { throw 'a security template value is one line' }
    return '"' + $Text.Replace('"', '""') + '"'
}

function Save-WsSecurityTemplate {
    <#
    .SYNOPSIS
    Writes the template back atomically when something changed: every line that was not
    changed keeps its bytes, and the file keeps its encoding, byte order mark and line endings.
    .PARAMETER Store
    A store from Open-WsSecurityTemplate.
    .PARAMETER Fence
    The lock the writer holds (Path, Token): checked right before the file is swapped in.
    .OUTPUTS
    $true when the file was written.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [AllowNull()] [hashtable] $Fence
    )
    return Save-WsTextStore -Store $Store -Fence $Fence -Label 'security template'
}
