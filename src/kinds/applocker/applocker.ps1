# AppLocker rule collections in their registry form (src/kinds/applocker/kind.ts): under
# HKLM\SOFTWARE\Policies\Microsoft\Windows\SrpV2\<collection>, EnforcementMode (0 audit only, 1
# enforced, absent not configured) and one key per rule id whose Value holds the rule's XML. Reads
# and writes go through the registry store (live or .reg) and the registry kind's own functions.

function ConvertTo-WsAppLockerRuleFactSet {
    <#
    .SYNOPSIS
    A rule's facts, the one comparison rule (ruleFacts in kind.ts, same cases): a line per element,
    attribute ('path@Name=value') and text ('path#text=value'), sorted ordinally; Name and
    Description left out (labels only), the Id in lower case. Returns @{ Name; Facts } or $null for
    text that is not XML.
    .PARAMETER Text
    The XML of one rule element.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param([AllowEmptyString()] [AllowNull()] [string] $Text)
    if (-not $Text) { return $null }
    # No DTD: a rule never has one, and entity expansion must not be possible.
    $settings = [System.Xml.XmlReaderSettings]::new()
    $settings.DtdProcessing = [System.Xml.DtdProcessing]::Prohibit
    $settings.XmlResolver = $null
    $settings.IgnoreWhitespace = $true
    $settings.IgnoreComments = $true
    $document = [System.Xml.XmlDocument]::new()
    try {
        $reader = [System.Xml.XmlReader]::Create([System.IO.StringReader]::new($Text), $settings)
        try { $document.Load($reader) } finally { $reader.Dispose() }
    } catch {
        return $null
    }
    # Methods, not properties: PowerShell's XML adapter shows attributes as properties ($rule.Name is the Name attribute).
    $root = $document.get_DocumentElement()
    $lines = [System.Collections.Generic.List[string]]::new()
    Add-WsAppLockerNodeFact -Node $root -Path $root.get_Name() -Root $true -Lines $lines
    $lines.Sort([System.StringComparer]::Ordinal)
    return @{ Name = $root.GetAttribute('Name'); Facts = $lines.ToArray() }
}

function Add-WsAppLockerNodeFact {
    param([System.Xml.XmlNode] $Node, [string] $Path, [bool] $Root, [System.Collections.Generic.List[string]] $Lines)
    $Lines.Add($Path)
    foreach ($attribute in $Node.get_Attributes()) {
        $name = $attribute.get_Name()
        if ($Root -and ($name -ceq 'Name' -or $name -ceq 'Description')) { continue }
        $value = $attribute.get_Value()
        if ($Root -and $name -ceq 'Id') { $value = $value.ToLowerInvariant() }
        $Lines.Add(('{0}@{1}={2}' -f $Path, $name, $value))
    }
    $text = ''
    $seen = [System.Collections.Generic.Dictionary[string, int]]::new([System.StringComparer]::Ordinal)
    foreach ($child in $Node.get_ChildNodes()) {
        $type = $child.get_NodeType()
        if ($type -eq [System.Xml.XmlNodeType]::Text -or $type -eq [System.Xml.XmlNodeType]::CDATA) { $text += $child.get_Value().Trim() }
    }
    if ($text -ne '') { $Lines.Add(('{0}#text={1}' -f $Path, $text)) }
    foreach ($child in $Node.get_ChildNodes()) {
        if ($child.get_NodeType() -ne [System.Xml.XmlNodeType]::Element) { continue }
        $name = $child.get_Name()
        $n = 1
        # Ordinal: element names are case-sensitive (a hashtable's keys are not).
        if ($seen.ContainsKey($name)) { $n = $seen[$name] + 1 }
        $seen[$name] = $n
        $childPath = $Path + '/' + $name
        if ($n -gt 1) { $childPath += ('[{0}]' -f $n) }
        Add-WsAppLockerNodeFact -Node $child -Path $childPath -Root $false -Lines $Lines
    }
}

function Test-WsAppLockerFactsEqual {
    param([string[]] $Wanted, [string[]] $Actual)
    if ($null -eq $Actual -or $Wanted.Count -ne $Actual.Count) { return $false }
    for ($i = 0; $i -lt $Wanted.Count; $i++) { if (-not [string]::Equals($Wanted[$i], $Actual[$i], [System.StringComparison]::Ordinal)) { return $false } }
    return $true
}

function Get-WsAppLockerRuleDifference {
    <#
    .SYNOPSIS
    Where two rules' facts differ (ruleDifference in kind.ts): 'rule type', or attribute and element
    paths below the rule such as 'Action' or 'Conditions/FilePathCondition@Path'; an element only
    one side has stands for everything below it.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([string[]] $Wanted, [string[]] $Actual)
    $root = $Wanted[0]
    if (-not [string]::Equals($root, $Actual[0], [System.StringComparison]::Ordinal)) { return , @('rule type') }
    $inWanted = [System.Collections.Generic.HashSet[string]]::new([string[]]$Wanted, [System.StringComparer]::Ordinal)
    $inActual = [System.Collections.Generic.HashSet[string]]::new([string[]]$Actual, [System.StringComparer]::Ordinal)
    $changed = [System.Collections.Generic.List[string]]::new()
    foreach ($line in $Wanted) { if (-not $inActual.Contains($line)) { $changed.Add($line) } }
    foreach ($line in $Actual) { if (-not $inWanted.Contains($line)) { $changed.Add($line) } }
    $changed.Sort([System.StringComparer]::Ordinal)
    $names = [System.Collections.Generic.List[string]]::new()
    foreach ($line in $changed) {
        $cut = $line.IndexOf([char]'=')
        $name = $line
        if ($cut -ge 0) { $name = $line.Substring(0, $cut) }
        $name = $name.Substring($root.Length)
        if ($name.StartsWith('@') -or $name.StartsWith('/')) { $name = $name.Substring(1) }
        $covered = $names.Contains($name)
        foreach ($known in $names) {
            if ($known.Contains('@') -or $known.Contains('#')) { continue }
            if ($name.StartsWith($known + '/', [System.StringComparison]::Ordinal) -or $name.StartsWith($known + '@', [System.StringComparison]::Ordinal) -or $name.StartsWith($known + '#', [System.StringComparison]::Ordinal)) { $covered = $true }
        }
        if (-not $covered) { $names.Add($name) }
    }
    return , $names.ToArray()
}

function Get-WsAppLockerCollectionState {
    # One collection as the store holds it: its enforcement and its rules (id -> Name, Facts: $null when the XML cannot be read).
    param([hashtable] $Store, [string] $Hive, [string] $SubKey)
    $state = @{ KeyExists = $false; EnforcementMode = 'NotConfigured'; Rules = [ordered]@{} }
    $tree = & $Store.Ops.Tree -Store $Store -Hive $Hive -SubKey $SubKey
    foreach ($key in $tree) {
        if ([string]::Equals($key.SubKey.TrimEnd([char]'\'), $SubKey, [System.StringComparison]::OrdinalIgnoreCase)) {
            $state.KeyExists = $true
            foreach ($value in $key.Values) {
                if ($value.Name -eq 'EnforcementMode') {
                    $mode = [string]$value.Data
                    if ($value.Kind -eq 'DWord' -and [uint32]$value.Data -eq 0) { $mode = 'AuditOnly' }
                    elseif ($value.Kind -eq 'DWord' -and [uint32]$value.Data -eq 1) { $mode = 'Enabled' }
                    $state.EnforcementMode = $mode
                }
            }
            continue
        }
        # Only the rule keys right below the collection.
        $id = $key.SubKey.Substring($SubKey.Length + 1)
        if ($id.Contains('\')) { continue }
        $xml = $null
        foreach ($value in $key.Values) { if ($value.Name -eq 'Value' -and $value.Kind -eq 'String') { $xml = [string]$value.Data } }
        $read = ConvertTo-WsAppLockerRuleFactSet -Text $xml
        $name = '?'
        $facts = $null
        if ($null -ne $read) {
            $facts = $read.Facts
            if ($read.Name) { $name = $read.Name }
        }
        $state.Rules[$id.ToLowerInvariant()] = @{ Name = $name; Facts = $facts }
    }
    return $state
}

function Get-WsAppLockerPolicyDesiredView {
    # What the policy wants, in the view's shape (desiredView in kind.ts).
    param($Resource)
    $collections = [ordered]@{}
    foreach ($wanted in $Resource.Collections) {
        $rules = [ordered]@{}
        foreach ($rule in $wanted.Rules) { $rules[$rule.Id] = $rule.Name }
        $collections[$wanted.Type] = [ordered]@{ enforcementMode = $wanted.EnforcementMode; rules = $rules }
    }
    return [ordered]@{ collections = $collections }
}

function Get-WsAppLockerPolicyStates {
    <#
    .SYNOPSIS
    Each AppLocker resource's rule collections compared rule by rule with the store.
    .OUTPUTS
    Per resource @{ View; Differing }: the view lists each collection's enforcement and rules (id ->
    name); Differing names each difference, e.g. 'Exe rule 921cc481-... (Name): differs in Action'.
    .PARAMETER Store
    A registry store.
    .PARAMETER Resources
    Runtime table rows of kind AppLockerPolicy.
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $Resources
    )
    $out = [object[]]::new($Resources.Count)
    for ($i = 0; $i -lt $Resources.Count; $i++) {
        $resource = $Resources[$i]
        $collections = [ordered]@{}
        $differing = [System.Collections.Generic.List[string]]::new()
        foreach ($wanted in $resource.Collections) {
            $state = Get-WsAppLockerCollectionState -Store $Store -Hive $resource.Hive -SubKey ($resource.SubKey + '\' + $wanted.Type)
            $rules = [ordered]@{}
            foreach ($id in $state.Rules.Keys) { $rules[$id] = $state.Rules[$id].Name }
            $collections[$wanted.Type] = [ordered]@{ enforcementMode = $state.EnforcementMode; rules = $rules }
            if ($state.EnforcementMode -ne $wanted.EnforcementMode) { $differing.Add(('{0} enforcementMode' -f $wanted.Type)) }
            $ids = [System.Collections.Generic.HashSet[string]]::new()
            foreach ($rule in $wanted.Rules) {
                $null = $ids.Add($rule.Id)
                if (-not $state.Rules.Contains($rule.Id)) { $differing.Add(('{0} rule {1} ({2}): missing' -f $wanted.Type, $rule.Id, $rule.Name)) }
                else {
                    $actual = $state.Rules[$rule.Id].Facts
                    $facts = (ConvertTo-WsAppLockerRuleFactSet -Text $rule.Xml).Facts
                    if ($null -eq $actual) { $differing.Add(('{0} rule {1} ({2}): differs: its XML cannot be read' -f $wanted.Type, $rule.Id, $rule.Name)) }
                    elseif (-not (Test-WsAppLockerFactsEqual -Wanted $facts -Actual $actual)) {
                        $where = Get-WsAppLockerRuleDifference -Wanted $facts -Actual $actual
                        $differing.Add(('{0} rule {1} ({2}): differs in {3}' -f $wanted.Type, $rule.Id, $rule.Name, ($where -join ', ')))
                    }
                }
            }
            if ($resource.Exact) {
                foreach ($id in $state.Rules.Keys) {
                    if (-not $ids.Contains($id)) { $differing.Add(('{0} rule {1} ({2}): extra' -f $wanted.Type, $id, $state.Rules[$id].Name)) }
                }
            }
        }
        # Setting $null: any earlier change to the registry in the same run makes it read again.
        $out[$i] = @{ View = [ordered]@{ collections = $collections }; Differing = $differing.ToArray(); Desired = (Get-WsAppLockerPolicyDesiredView -Resource $resource); Setting = $null; Recheck = $false }
    }
    return , $out
}

function Get-WsAppLockerPolicyState {
    <#
    .SYNOPSIS
    One AppLocker resource's state (see Get-WsAppLockerPolicyStates).
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param([Parameter(Mandatory = $true)] [hashtable] $Store, [Parameter(Mandatory = $true)] [hashtable] $Resource)
    return (Get-WsAppLockerPolicyStates -Store $Store -Resources @($Resource))[0]
}

function Get-WsAppLockerRegistryRow {
    # The registry changes that bring the collections to the policy: enforcement values, rule keys
    # whose Value is missing or differs, and (exact) rule keys to remove. Registry rows, so the
    # registry kind writes them and records their prior state.
    param([hashtable] $Store, $Resource)
    $rows = [System.Collections.Generic.List[object]]::new()
    foreach ($wanted in $Resource.Collections) {
        $collectionKey = $Resource.SubKey + '\' + $wanted.Type
        $state = Get-WsAppLockerCollectionState -Store $Store -Hive $Resource.Hive -SubKey $collectionKey
        $base = @{ Name = $Resource.Name; Target = $Resource.Target; Hive = $Resource.Hive }
        if ($state.EnforcementMode -ne $wanted.EnforcementMode) {
            $row = $base.Clone(); $row.SubKey = $collectionKey; $row.ValueName = 'EnforcementMode'
            if ($null -eq $wanted.EnforcementData) { $row.Ensure = 'Absent' }
            else { $row.Ensure = 'Present'; $row.ValueType = 'DWord'; $row.ValueData = [uint32]$wanted.EnforcementData }
            $rows.Add($row)
        }
        $ids = [System.Collections.Generic.HashSet[string]]::new()
        foreach ($rule in $wanted.Rules) {
            $null = $ids.Add($rule.Id)
            # A rule with the same facts stays as it is, whatever it is called.
            if ($state.Rules.Contains($rule.Id) -and (Test-WsAppLockerFactsEqual -Wanted (ConvertTo-WsAppLockerRuleFactSet -Text $rule.Xml).Facts -Actual $state.Rules[$rule.Id].Facts)) { continue }
            $row = $base.Clone(); $row.SubKey = $collectionKey + '\' + $rule.Id; $row.ValueName = 'Value'
            $row.Ensure = 'Present'; $row.ValueType = 'String'; $row.ValueData = [string]$rule.Xml
            $rows.Add($row)
        }
        if ($Resource.Exact) {
            foreach ($id in @($state.Rules.Keys)) {
                if ($ids.Contains($id)) { continue }
                $row = $base.Clone(); $row.SubKey = $collectionKey + '\' + $id; $row.ValueName = $null; $row.Ensure = 'Absent'
                $rows.Add($row)
            }
        }
    }
    return , $rows.ToArray()
}

function Set-WsAppLockerPolicyState {
    <#
    .SYNOPSIS
    Brings the resource's rule collections to the policy (the engine has asked ShouldProcess).
    .OUTPUTS
    The state after the change, read again.
    .PARAMETER Store
    A registry store.
    .PARAMETER Resource
    A runtime table row of kind AppLockerPolicy.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param([Parameter(Mandatory = $true)] [hashtable] $Store, [Parameter(Mandatory = $true)] [hashtable] $Resource)
    foreach ($row in (Get-WsAppLockerRegistryRow -Store $Store -Resource $Resource)) { $null = Set-WsRegistryState -Store $Store -Resource $row }
    return Get-WsAppLockerPolicyState -Store $Store -Resource $Resource
}

function Get-WsAppLockerPolicyBackupEntry {
    <#
    .SYNOPSIS
    The prior state of everything Set will change, as registry backup entries (registryEntries),
    so that rollback restores it through the registry kind.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory = $true)] [hashtable] $Store, [Parameter(Mandatory = $true)] [hashtable] $Resource)
    $entries = @(foreach ($row in (Get-WsAppLockerRegistryRow -Store $Store -Resource $Resource)) { Get-WsRegistryBackupEntry -Store $Store -Resource $row })
    return [ordered]@{ kind = 'AppLockerPolicy'; resource = $Resource.Name; target = $Resource.Target; registryEntries = $entries }
}

function Format-WsAppLockerPolicyStateText {
    <#
    .SYNOPSIS
    An AppLocker view in words: each collection's enforcement and rule count (appLockerStateText in kind.ts).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] [System.Collections.IDictionary] $View)
    if ($null -eq $View -or $null -eq $View.collections -or $View.collections.Count -eq 0) { return 'no rule collection' }
    $parts = foreach ($type in $View.collections.Keys) {
        $c = $View.collections[$type]
        $count = 0
        if ($null -ne $c.rules) { $count = @($c.rules.Keys).Count }
        $mode = 'NotConfigured'
        if ($c.enforcementMode) { $mode = $c.enforcementMode }
        $plural = 's'
        if ($count -eq 1) { $plural = '' }
        '{0}: {1}, {2} rule{3}' -f $type, $mode, $count, $plural
    }
    return ($parts -join '; ')
}

function Get-WsAppLockerPolicyBackupEntries {
    <#
    .SYNOPSIS
    The backup entries of many AppLocker resources (see Get-WsAppLockerPolicyBackupEntry).
    .PARAMETER Store
    A registry store.
    .PARAMETER Resources
    Runtime table rows of kind AppLockerPolicy.
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param(
        [Parameter(Mandatory = $true)] [hashtable] $Store,
        [Parameter(Mandatory = $true)] [AllowEmptyCollection()] [object[]] $Resources
    )
    $out = [object[]]::new($Resources.Count)
    for ($i = 0; $i -lt $Resources.Count; $i++) { $out[$i] = Get-WsAppLockerPolicyBackupEntry -Store $Store -Resource $Resources[$i] }
    return , $out
}
