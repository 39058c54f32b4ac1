# Live registry store: the only code that touches the Windows registry. Its changes are real at
# once (the engine journals them one by one).
# Keys are opened through the 64-bit view so a 32-bit host sees what Group Policy sees.

function Open-WsLiveStore {
    <#
    .SYNOPSIS
    Opens the live registry as the Registry store (Windows only).
    .OUTPUTS
    The store hashtable: Kind 'Live', no Path, and the functions the registry kind calls (Ops).
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param()
    $onWindows = ([System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT)
    if (-not $onWindows) {
        throw 'The live registry exists only on Windows. Pass -RegistrySnapshot <file.reg> to work on a registry export instead.'
    }
    return @{ Kind = 'Live'; Path = $null; Dirty = $false; Ops = $script:WsLiveRegistryOps }
}

# What the registry kind (src/kinds/registry/registry.ps1) calls on this store.
$script:WsLiveRegistryOps = @{
    States = 'Get-WsLiveStates'; SetRowValue = 'Set-WsLiveRowValue'; SetValue = 'Set-WsLiveValue'; SetRawValue = 'Set-WsLiveRawValue'; RemoveValue = 'Remove-WsLiveValue'
    NewKey = 'New-WsLiveKey'; RemoveKey = 'Remove-WsLiveKey'; Tree = 'Get-WsLiveTree'; KeyEmpty = 'Test-WsLiveKeyEmpty'
}

function Get-WsLiveBaseKey {
    param([Parameter(Mandatory = $true)][string] $Hive)
    $hiveId = switch ($Hive) {
        'HKEY_LOCAL_MACHINE' { [Microsoft.Win32.RegistryHive]::LocalMachine }
        'HKEY_CURRENT_USER' { [Microsoft.Win32.RegistryHive]::CurrentUser }
        'HKEY_USERS' { [Microsoft.Win32.RegistryHive]::Users }
        'HKEY_CLASSES_ROOT' { [Microsoft.Win32.RegistryHive]::ClassesRoot }
        'HKEY_CURRENT_CONFIG' { [Microsoft.Win32.RegistryHive]::CurrentConfig }
        default { throw "Unknown registry hive '$Hive'." }
    }
    return [Microsoft.Win32.RegistryKey]::OpenBaseKey($hiveId, [Microsoft.Win32.RegistryView]::Registry64)
}

function Get-WsLiveState {
    # Untyped ValueName: a [string] parameter would turn $null (the key itself) into '' (the default value).
    param($Store, [string] $Hive, [string] $SubKey, [AllowNull()][AllowEmptyString()] $ValueName = $null)
    $state = @{ KeyExists = $false; ValueExists = $false; Kind = $null; TypeCode = $null; Data = $null }
    $base = Get-WsLiveBaseKey -Hive $Hive
    try {
        $key = $base.OpenSubKey($SubKey, $false)
        if ($null -eq $key) { return $state }
        try {
            $state.KeyExists = $true
            if ($null -eq $ValueName) { return $state }
            # GetValueNames is the only exact existence test: GetValue cannot tell absent from empty.
            $found = $false
            foreach ($name in $key.GetValueNames()) {
                if ([string]::Equals($name, $ValueName, [System.StringComparison]::OrdinalIgnoreCase)) { $found = $true; break }
            }
            if (-not $found) { return $state }
            $raw = $key.GetValue($ValueName, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
            $kind = $key.GetValueKind($ValueName)
            $state.ValueExists = $true
            switch ($kind) {
                'String' { $state.Kind = 'String'; $state.TypeCode = 1; $state.Data = [string]$raw }
                'ExpandString' { $state.Kind = 'ExpandString'; $state.TypeCode = 2; $state.Data = [string]$raw }
                'Binary' { $state.Kind = 'Binary'; $state.TypeCode = 3; $state.Data = [byte[]]$raw }
                'DWord' {
                    # A REG_DWORD whose data is not 4 bytes comes back as long or bytes: keep its exact bytes.
                    if ($raw -is [int]) { $state.Kind = 'DWord'; $state.TypeCode = 4; $state.Data = [System.BitConverter]::ToUInt32([System.BitConverter]::GetBytes([int32]$raw), 0) }
                    else { $exact = Read-WsLiveRawValue -Key $key -Name $ValueName; $state.Kind = 'Raw'; $state.TypeCode = $exact.TypeCode; $state.Data = $exact.Bytes }
                }
                'MultiString' { $state.Kind = 'MultiString'; $state.TypeCode = 7; $state.Data = [string[]]$raw }
                'QWord' { $state.Kind = 'QWord'; $state.TypeCode = 11; $state.Data = [System.BitConverter]::ToUInt64([System.BitConverter]::GetBytes([int64]$raw), 0) }
                default {
                    # REG_NONE, REG_LINK, resource lists: .NET knows neither their type code nor how to write them back.
                    $exact = Read-WsLiveRawValue -Key $key -Name $ValueName
                    $state.Kind = 'Raw'; $state.TypeCode = $exact.TypeCode; $state.Data = $exact.Bytes
                }
            }
            return $state
        } finally { $key.Dispose() }
    } finally { $base.Dispose() }
}

function Get-WsLiveStates {
    param($Store, $Resources)
    $out = [object[]]::new($Resources.Count)
    for ($i = 0; $i -lt $Resources.Count; $i++) {
        $r = $Resources[$i]
        $out[$i] = Get-WsLiveState -Store $Store -Hive $r.Hive -SubKey $r.SubKey -ValueName $r.ValueName
    }
    return , $out
}

function Set-WsLiveValue {
    param($Store, [string] $Hive, [string] $SubKey, [AllowEmptyString()][string] $ValueName, [string] $Kind, $Data)
    $base = Get-WsLiveBaseKey -Hive $Hive
    try {
        $key = $base.CreateSubKey($SubKey)
        try {
            switch ($Kind) {
                'DWord' { $key.SetValue($ValueName, [System.BitConverter]::ToInt32([System.BitConverter]::GetBytes([uint32]$Data), 0), [Microsoft.Win32.RegistryValueKind]::DWord) }
                'QWord' { $key.SetValue($ValueName, [System.BitConverter]::ToInt64([System.BitConverter]::GetBytes([uint64]$Data), 0), [Microsoft.Win32.RegistryValueKind]::QWord) }
                'MultiString' { $key.SetValue($ValueName, [string[]]$Data, [Microsoft.Win32.RegistryValueKind]::MultiString) }
                'Binary' { $key.SetValue($ValueName, [byte[]]$Data, [Microsoft.Win32.RegistryValueKind]::Binary) }
                'ExpandString' { $key.SetValue($ValueName, [string]$Data, [Microsoft.Win32.RegistryValueKind]::ExpandString) }
                'String' { $key.SetValue($ValueName, [string]$Data, [Microsoft.Win32.RegistryValueKind]::String) }
                default { throw "Cannot write registry values of kind '$Kind'." }
            }
        } finally { $key.Dispose() }
    } finally { $base.Dispose() }
}

function Set-WsLiveRowValue {
    # A resource row's typed value (the set phase's one call per change).
    param($Store, $Resource)
    Set-WsLiveValue -Store $Store -Hive $Resource.Hive -SubKey $Resource.SubKey -ValueName $Resource.ValueName -Kind $Resource.ValueType -Data $Resource.ValueData
}

function Remove-WsLiveValue {
    param($Store, [string] $Hive, [string] $SubKey, [AllowEmptyString()][string] $ValueName)
    $base = Get-WsLiveBaseKey -Hive $Hive
    try {
        $key = $base.OpenSubKey($SubKey, $true)
        if ($null -ne $key) {
            try { $key.DeleteValue($ValueName, $false) } finally { $key.Dispose() }
        }
    } finally { $base.Dispose() }
}

function New-WsLiveKey {
    param($Store, [string] $Hive, [string] $SubKey)
    $base = Get-WsLiveBaseKey -Hive $Hive
    try { $base.CreateSubKey($SubKey).Dispose() } finally { $base.Dispose() }
}

function Remove-WsLiveKey {
    param($Store, [string] $Hive, [string] $SubKey)
    $base = Get-WsLiveBaseKey -Hive $Hive
    try { $base.DeleteSubKeyTree($SubKey, $false) } finally { $base.Dispose() }
}

function Save-WsLiveStore {
    <#
    .SYNOPSIS
    Saves the live registry store: nothing to write, each change was real when made.
    .PARAMETER Store
    The store from Open-WsLiveStore.
    .PARAMETER Fence
    The lock this run holds; the engine checked it before each change.
    .OUTPUTS
    $false: nothing was written now.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)] [hashtable] $Store, [AllowNull()] [hashtable] $Fence)
    # Live writes take effect immediately; nothing to flush.
    return $false
}

function Get-WsLiveTree {
    # The key and every key below it, each with its values (depth first, parents before children).
    param($Store, [string] $Hive, [string] $SubKey)
    $tree = [System.Collections.Generic.List[object]]::new()
    $pending = [System.Collections.Generic.Stack[string]]::new()
    $pending.Push($SubKey)
    while ($pending.Count -gt 0) {
        $path = $pending.Pop()
        $base = Get-WsLiveBaseKey -Hive $Hive
        try {
            $key = $base.OpenSubKey($path, $false)
            if ($null -eq $key) { continue }
            try {
                $values = [System.Collections.Generic.List[object]]::new()
                foreach ($name in $key.GetValueNames()) {
                    $state = Get-WsLiveState -Store $Store -Hive $Hive -SubKey $path -ValueName $name
                    $values.Add(@{ Name = $name; Kind = $state.Kind; TypeCode = $state.TypeCode; Data = $state.Data })
                }
                $tree.Add(@{ SubKey = $path; Values = $values.ToArray() })
                $children = $key.GetSubKeyNames()
                for ($i = $children.Length - 1; $i -ge 0; $i--) { $pending.Push($path + '\' + $children[$i]) }
            } finally { $key.Dispose() }
        } finally { $base.Dispose() }
    }
    return , $tree.ToArray()
}

function Test-WsLiveKeyEmpty {
    param($Store, [string] $Hive, [string] $SubKey)
    $base = Get-WsLiveBaseKey -Hive $Hive
    try {
        $key = $base.OpenSubKey($SubKey, $false)
        if ($null -eq $key) { return $true }
        try { return ($key.ValueCount -eq 0 -and $key.SubKeyCount -eq 0) } finally { $key.Dispose() }
    } finally { $base.Dispose() }
}

function Initialize-WsRegistryRaw {
    # RegQueryValueEx/RegSetValueEx for the values RegistryKey cannot handle (REG_NONE, REG_LINK,
    # resource lists, odd-sized DWORDs). Compiled on first need only: it costs a second or more.
    if ($null -ne ('WsRegistryRaw' -as [type])) { return }
    Add-Type -TypeDefinition @'
using System;
using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32;
using Microsoft.Win32.SafeHandles;
public static class WsRegistryRaw {
    [DllImport("advapi32.dll", CharSet = CharSet.Unicode, EntryPoint = "RegQueryValueExW")]
    private static extern int RegQueryValueEx(SafeRegistryHandle key, string name, IntPtr reserved, out uint type, byte[] data, ref uint size);
    [DllImport("advapi32.dll", CharSet = CharSet.Unicode, EntryPoint = "RegSetValueExW")]
    private static extern int RegSetValueEx(SafeRegistryHandle key, string name, int reserved, uint type, byte[] data, uint size);
    public static byte[] Read(RegistryKey key, string name, out uint type) {
        uint size = 0;
        int rc = RegQueryValueEx(key.Handle, name, IntPtr.Zero, out type, null, ref size);
        if (rc != 0) throw new Win32Exception(rc);
        byte[] data = new byte[size];
        rc = RegQueryValueEx(key.Handle, name, IntPtr.Zero, out type, data, ref size);
        if (rc != 0) throw new Win32Exception(rc);
        if (size != data.Length) Array.Resize(ref data, (int)size);
        return data;
    }
    public static void Write(RegistryKey key, string name, uint type, byte[] data) {
        int rc = RegSetValueEx(key.Handle, name, 0, type, data, (uint)data.Length);
        if (rc != 0) throw new Win32Exception(rc);
    }
}
'@
}

function Read-WsLiveRawValue {
    <#
    .SYNOPSIS
        A registry value's exact type code and bytes, whatever its type.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)][Microsoft.Win32.RegistryKey] $Key,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string] $Name
    )
    Initialize-WsRegistryRaw
    $type = [uint32]0
    $bytes = [WsRegistryRaw]::Read($Key, $Name, [ref]$type)
    return @{ TypeCode = [int64]$type; Bytes = [byte[]]$bytes }
}

function Set-WsLiveRawValue {
    <#
    .SYNOPSIS
        Writes exact bytes with a registry type code, creating the key: the rollback of any value.
    #>
    [CmdletBinding()]
    param(
        $Store,
        [Parameter(Mandatory = $true)][string] $Hive,
        [Parameter(Mandatory = $true)][string] $SubKey,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string] $ValueName,
        [Parameter(Mandatory = $true)][uint32] $TypeCode,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][byte[]] $Bytes
    )
    # REG_BINARY needs no compiled helper.
    if ($TypeCode -eq 3) { Set-WsLiveValue -Store $Store -Hive $Hive -SubKey $SubKey -ValueName $ValueName -Kind 'Binary' -Data $Bytes; return }
    Initialize-WsRegistryRaw
    $base = Get-WsLiveBaseKey -Hive $Hive
    try {
        $key = $base.CreateSubKey($SubKey)
        try { [WsRegistryRaw]::Write($key, $ValueName, $TypeCode, $Bytes) } finally { $key.Dispose() }
    } finally { $base.Dispose() }
}
