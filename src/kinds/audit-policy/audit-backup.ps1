# Audit backup store: the CSV that auditpol /backup writes, held in memory as its lines, so a
# write-back changes only the rows of the subcategories that changed. Option rows
# (Option:CrashOnAuditFail, FileGlobalSacl, ...) are kept as they are.
# Needs src/kinds/text-file.ps1 and audit-policy.generated.ps1 ($script:WsAuditInclusion).
#
# Store hashtable:
#   Kind    'AuditBackup'
#   Path    the file
#   File    the lines (Read-WsTextFile)
#   Columns hashtable column name -> field index
#   Width   number of columns
#   Rows    OrderedDictionary '{GUID}' (upper case) -> line; a line is @{ Text; Eol; Fields }
#   Changed OrderedDictionary '{GUID}' -> $true: subcategories set since opening
#   Dirty   whether Save-WsAuditBackup has something to write

$script:WsAuditColumns = @('Machine Name', 'Policy Target', 'Subcategory', 'Subcategory GUID', 'Inclusion Setting', 'Exclusion Setting', 'Setting Value')
$script:WsGuidPattern = [regex]'^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$'

function Open-WsAuditBackup {
    <#
    .SYNOPSIS
    Reads an auditpol backup (.csv).
    .DESCRIPTION
    The header must name the seven auditpol columns; every row has that many fields; a row with
    a Subcategory GUID has a GUID there, appears once and has a Setting Value of 0 to 3.
    Errors are "file:line: message".
    .PARAMETER LiteralPath
    The .csv file.
    .OUTPUTS
    The store hashtable (see the top of this file).
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [string] $LiteralPath
    )
    $file = Read-WsTextFile -LiteralPath $LiteralPath
    return ConvertFrom-WsAuditBackupFile -File $file
}

function ConvertFrom-WsAuditBackupFile {
    <#
    .SYNOPSIS
    Indexes the lines of an auditpol backup by subcategory GUID (see Open-WsAuditBackup).
    .PARAMETER File
    A hashtable from Read-WsTextFile.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $File
    )
    $path = $File.Path
    $lines = $File.Lines
    if ($lines.Count -eq 0 -or $lines[0].Text.Trim().Length -eq 0) { throw "${path}:1: empty; expected the auditpol header '$($script:WsAuditColumns -join ',')'" }
    $header = ConvertFrom-WsCsvLine -Text $lines[0].Text -Path $path -Number 1
    $columns = @{}
    for ($i = 0; $i -lt $header.Length; $i++) { $columns[$header[$i].Trim()] = $i }
    foreach ($name in $script:WsAuditColumns) {
        if (-not $columns.ContainsKey($name)) { throw "${path}:1: missing column '$name' (an auditpol backup has: $($script:WsAuditColumns -join ','))" }
    }
    $rows = [System.Collections.Specialized.OrderedDictionary]::new([System.StringComparer]::OrdinalIgnoreCase)
    $guidAt = $columns['Subcategory GUID']
    $valueAt = $columns['Setting Value']
    for ($i = 1; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]
        $number = $i + 1
        if ($line.Text.Trim().Length -eq 0) { continue }
        $fields = ConvertFrom-WsCsvLine -Text $line.Text -Path $path -Number $number
        if ($fields.Length -ne $header.Length) { throw "${path}:${number}: expected $($header.Length) fields as in the header, found $($fields.Length)" }
        $guid = $fields[$guidAt].Trim()
        if ($guid.Length -eq 0) { continue }
        if (-not $script:WsGuidPattern.IsMatch($guid)) { throw "${path}:${number}: Subcategory GUID '$guid' is not a GUID ({xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx})" }
        $id = Format-WsAuditGuid -Guid $guid
        if ($rows.Contains($id)) { throw "${path}:${number}: subcategory $id appears a second time (first at line $($lines.IndexOf($rows[$id]) + 1))" }
        if (@('0', '1', '2', '3') -notcontains $fields[$valueAt].Trim()) { throw "${path}:${number}: Setting Value must be 0, 1, 2 or 3, found '$($fields[$valueAt])'" }
        $line.Fields = $fields
        $rows[$id] = $line
    }
    return @{
        Kind    = 'AuditBackup'
        Path    = $path
        File    = $File
        Columns = $columns
        Width   = $header.Length
        Rows    = $rows
        Changed = [System.Collections.Specialized.OrderedDictionary]::new([System.StringComparer]::OrdinalIgnoreCase)
        Dirty   = $false
    }
}

function ConvertFrom-WsCsvLine {
    <#
    .SYNOPSIS
    Splits one CSV line into fields; a field in double quotes may hold commas and doubled quotes.
    .PARAMETER Text
    The line.
    .PARAMETER Path
    The file, for error messages.
    .PARAMETER Number
    The line number, for error messages.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyString()] [string] $Text,
        [Parameter(Mandatory = $true)] [string] $Path,
        [Parameter(Mandatory = $true)] [int] $Number
    )
    $fields = [System.Collections.Generic.List[string]]::new()
    $i = 0
    while ($true) {
        if ($i -lt $Text.Length -and $Text[$i] -eq [char]'"') {
            $sb = [System.Text.StringBuilder]::new()
            $i++
            while ($true) {
                if ($i -ge $Text.Length) { throw "${Path}:${Number}: a quoted field is not closed" }
                if ($Text[$i] -eq [char]'"') {
                    if ($i + 1 -lt $Text.Length -and $Text[$i + 1] -eq [char]'"') { $null = $sb.Append('"'); $i += 2; continue }
                    $i++
                    break
                }
                $null = $sb.Append($Text[$i])
                $i++
            }
            $fields.Add($sb.ToString())
            if ($i -lt $Text.Length -and $Text[$i] -ne [char]',') { throw "${Path}:${Number}: text after a closing quote at column $($i + 1)" }
        } else {
            $comma = $Text.IndexOf([char]',', $i)
            if ($comma -lt 0) { $comma = $Text.Length }
            $fields.Add($Text.Substring($i, $comma - $i))
            $i = $comma
        }
        if ($i -ge $Text.Length) { break }
        $i++
    }
    return , [string[]]$fields.ToArray()
}

function ConvertTo-WsCsvLine {
    <#
    .SYNOPSIS
    Joins fields into one CSV line, quoting only a field that holds a comma or a quote.
    .PARAMETER Field
    The fields.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [AllowEmptyString()] [string[]] $Field
    )
    $parts = foreach ($f in $Field) {
        if ($f.IndexOfAny([char[]]"`r`n") -ge 0) { throw 'an audit backup field is one line' }
        if ($f.IndexOfAny([char[]]',"') -ge 0) { '"' + $f.Replace('"', '""') + '"' } else { $f }
    }
    return (@($parts) -join ',')
}

function Format-WsAuditGuid {
    <#
    .SYNOPSIS
    A subcategory GUID as auditpol writes it: upper case, in braces.
    .PARAMETER Guid
    The GUID, with or without braces.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)] [string] $Guid
    )
    if (-not $script:WsGuidPattern.IsMatch($Guid.Trim())) { throw "not a GUID: '$Guid'" }
    return '{' + $Guid.Trim().Trim('{', '}').ToUpperInvariant() + '}'
}

function Get-WsAuditSubcategory {
    <#
    .SYNOPSIS
    One subcategory's setting, or $null when the backup has no row for it.
    .PARAMETER Store
    A store from Open-WsAuditBackup.
    .PARAMETER Guid
    The subcategory GUID, with or without braces, any case.
    .OUTPUTS
    @{ Guid; Name; Value (0 none, 1 success, 2 failure, 3 both); Success; Failure; Inclusion }
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Guid
    )
    $id = Format-WsAuditGuid -Guid $Guid
    $line = $Store.Rows[$id]
    if ($null -eq $line) { return $null }
    $value = [int]$line.Fields[$Store.Columns['Setting Value']].Trim()
    return @{
        Guid      = $id
        Name      = $line.Fields[$Store.Columns['Subcategory']]
        Value     = $value
        Success   = ($value -band 1) -ne 0
        Failure   = ($value -band 2) -ne 0
        Inclusion = $line.Fields[$Store.Columns['Inclusion Setting']]
    }
}

function Set-WsAuditSubcategory {
    <#
    .SYNOPSIS
    Sets one subcategory: Setting Value and, to match it, the Inclusion Setting text auditpol
    writes (No Auditing, Success, Failure, Success and Failure). A subcategory the backup lacks
    gets a new row after the last subcategory row, with the first row's machine name.
    .PARAMETER Store
    A store from Open-WsAuditBackup.
    .PARAMETER Guid
    The subcategory GUID.
    .PARAMETER Value
    0 none, 1 success, 2 failure, 3 success and failure.
    .PARAMETER Name
    The subcategory's English name, needed only for a new row.
    .OUTPUTS
    $true when the file changed.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Guid,
        [Parameter(Mandatory = $true)] [ValidateRange(0, 3)] [int] $Value,
        [string] $Name
    )
    $id = Format-WsAuditGuid -Guid $Guid
    $c = $Store.Columns
    $inclusion = $script:WsAuditInclusion[$Value]
    $line = $Store.Rows[$id]
    if ($null -ne $line) {
        $fields = [string[]]$line.Fields.Clone()
        if ($fields[$c['Setting Value']] -ceq [string]$Value -and $fields[$c['Inclusion Setting']] -ceq $inclusion) { return $false }
        $fields[$c['Setting Value']] = [string]$Value
        $fields[$c['Inclusion Setting']] = $inclusion
        $line.Text = ConvertTo-WsCsvLine -Field $fields
        $line.Fields = $fields
    } else {
        if (-not $Name) { throw "the audit backup has no row for $id; a new row needs the subcategory's name" }
        $lines = $Store.File.Lines
        $at = $lines.Count
        $machine = ''
        if ($Store.Rows.get_Count() -gt 0) {
            $last = $null
            foreach ($row in $Store.Rows.get_Values()) {
                if ($null -eq $last -or $lines.IndexOf($row) -gt $lines.IndexOf($last)) { $last = $row }
            }
            $at = $lines.IndexOf($last) + 1
            $machine = $last.Fields[$c['Machine Name']]
        }
        $fields = [string[]]::new($Store.Width)
        for ($i = 0; $i -lt $fields.Length; $i++) { $fields[$i] = '' }
        $fields[$c['Machine Name']] = $machine
        $fields[$c['Policy Target']] = 'System'
        $fields[$c['Subcategory']] = $Name
        $fields[$c['Subcategory GUID']] = $id
        $fields[$c['Inclusion Setting']] = $inclusion
        $fields[$c['Setting Value']] = [string]$Value
        $line = Add-WsTextLine -File $Store.File -Index $at -Text (ConvertTo-WsCsvLine -Field $fields)
        $line.Fields = $fields
        $Store.Rows[$id] = $line
    }
    $Store.Changed[$id] = $true
    $Store.Dirty = $true
    return $true
}

function Remove-WsAuditSubcategory {
    <#
    .SYNOPSIS
    Removes a subcategory's row (offline rollback of a row a run added).
    .PARAMETER Store
    A store from Open-WsAuditBackup.
    .PARAMETER Guid
    The subcategory GUID.
    .OUTPUTS
    $true when a row was removed.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [string] $Guid
    )
    $id = Format-WsAuditGuid -Guid $Guid
    $line = $Store.Rows[$id]
    if ($null -eq $line) { return $false }
    $lines = $Store.File.Lines
    $at = $lines.IndexOf($line)
    # The last line of a file without a final line break hands that ending to the line before it.
    if ($at -eq $lines.Count - 1 -and $line.Eol -eq '' -and $at -gt 0) { $lines[$at - 1].Eol = '' }
    $lines.RemoveAt($at)
    $Store.Rows.Remove($id)
    $Store.Changed[$id] = $true
    $Store.Dirty = $true
    return $true
}

function Save-WsAuditBackup {
    <#
    .SYNOPSIS
    Writes the backup back atomically when something changed; rows that were not changed keep
    their bytes, and the file keeps its encoding, byte order mark and line endings.
    .PARAMETER Store
    A store from Open-WsAuditBackup.
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
    return Save-WsTextStore -Store $Store -Fence $Fence -Label 'audit backup'
}
