# AppLocker rule collections in their registry form (src/kinds/applocker/kind.ts): under
# HKLM\SOFTWARE\Policies\Microsoft\Windows\SrpV2\<collection>, EnforcementMode (0 audit only, 1
# enforced, absent not configured) and one key per rule id whose Value holds the rule's XML. Reads
# and writes go through the registry store (live or .reg) and the registry kind's own functions.

function ConvertTo-WsCanonicalXml {
    <#
    .SYNOPSIS
    One text for any spelling of the same XML element: attributes sorted by name, whitespace between
    elements dropped, empty elements closed the same way. Returns $null for text that is not XML.
    .PARAMETER Text
    The XML of one element (an AppLocker rule).
    #>
    [CmdletBinding()]
    [OutputType([string])]
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
    return (ConvertTo-WsCanonicalNode -Node $document.DocumentElement)
}

function ConvertTo-WsCanonicalNode {
    param([System.Xml.XmlNode] $Node)
    $attributes = @($Node.Attributes | Sort-Object -Property Name | ForEach-Object { ' {0}="{1}"' -f $_.Name, [System.Security.SecurityElement]::Escape($_.Value) })
    $children = foreach ($child in $Node.ChildNodes) {
        if ($child.NodeType -eq [System.Xml.XmlNodeType]::Element) { ConvertTo-WsCanonicalNode -Node $child }
        elseif ($child.NodeType -eq [System.Xml.XmlNodeType]::Text -or $child.NodeType -eq [System.Xml.XmlNodeType]::CDATA) { [System.Security.SecurityElement]::Escape($child.Value.Trim()) }
    }
    return ('<{0}{1}>{2}</{0}>' -f $Node.Name, ($attributes -join ''), ($children -join ''))
}

function Get-WsAppLockerCollectionState {
    # One collection as the store holds it: its enforcement and its rules (id -> Name, canonical XML).
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
        $canonical = ConvertTo-WsCanonicalXml -Text $xml
        $name = '?'
        if ($null -ne $canonical) {
            $match = [regex]::Match($canonical, '\sName="([^"]*)"')
            if ($match.Success) { $name = [System.Net.WebUtility]::HtmlDecode($match.Groups[1].Value) }
        }
        $state.Rules[$id.ToLowerInvariant()] = @{ Name = $name; Canonical = $canonical }
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
    name); Differing names each difference, e.g. 'Exe rule 921cc481-... (Name): differs'.
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
                elseif ($state.Rules[$rule.Id].Canonical -cne (ConvertTo-WsCanonicalXml -Text $rule.Xml)) { $differing.Add(('{0} rule {1} ({2}): differs' -f $wanted.Type, $rule.Id, $rule.Name)) }
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
    param([Parameter(Mandatory = $true)] [hashtable] $Store, [Parameter(Mandatory = $true)] $Resource)
    return (Get-WsAppLockerPolicyStates -Store $Store -Resources @($Resource))[0]
}

function Get-WsAppLockerRegistryRows {
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
            if ($state.Rules.Contains($rule.Id) -and $state.Rules[$rule.Id].Canonical -ceq (ConvertTo-WsCanonicalXml -Text $rule.Xml)) { continue }
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
    param([Parameter(Mandatory = $true)] [hashtable] $Store, [Parameter(Mandatory = $true)] $Resource)
    foreach ($row in (Get-WsAppLockerRegistryRows -Store $Store -Resource $Resource)) { $null = Set-WsRegistryState -Store $Store -Resource $row }
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
    param([Parameter(Mandatory = $true)] [hashtable] $Store, [Parameter(Mandatory = $true)] $Resource)
    $entries = @(foreach ($row in (Get-WsAppLockerRegistryRows -Store $Store -Resource $Resource)) { Get-WsRegistryBackupEntry -Store $Store -Resource $row })
    return [ordered]@{ kind = 'AppLockerPolicy'; resource = $Resource.Name; target = $Resource.Target; registryEntries = $entries }
}

function Format-WsAppLockerPolicyStateText {
    <#
    .SYNOPSIS
    An AppLocker view in words: each collection's enforcement and rule count (appLockerStateText in kind.ts).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param($View)
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
