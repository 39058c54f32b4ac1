# Starts pwsh.exe (beside this PowerShell) with the given arguments under a restricted copy of this
# process's token in which BUILTIN\Administrators is deny-only: a PowerShell that is not elevated, as
# under UAC without "Run as administrator". Wine gives every process an administrator token and
# ignores __COMPAT_LAYER=RunAsInvoker, but it does filter a token with CreateRestrictedToken. The
# child inherits this process's console and standard handles, so the caller talks to it as to the
# PowerShell it started; the exit code is the child's.
Add-Type -TypeDefinition @'
using System; using System.Runtime.InteropServices;
public static class LimitedStart {
  [StructLayout(LayoutKind.Sequential)] public struct SidAndAttributes { public IntPtr Sid; public uint Attributes; }
  [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)] public struct StartupInfo {
    public int cb; public string lpReserved; public string lpDesktop; public string lpTitle;
    public int dwX, dwY, dwXSize, dwYSize, dwXCountChars, dwYCountChars, dwFillAttribute, dwFlags;
    public short wShowWindow, cbReserved2; public IntPtr lpReserved2, hStdInput, hStdOutput, hStdError; }
  [StructLayout(LayoutKind.Sequential)] public struct ProcessInformation { public IntPtr hProcess, hThread; public int dwProcessId, dwThreadId; }
  [DllImport("advapi32.dll", SetLastError = true)] static extern bool CreateRestrictedToken(IntPtr existing, uint flags, uint disableCount, SidAndAttributes[] disable, uint deleteCount, IntPtr delete, uint restrictCount, IntPtr restrict, out IntPtr token);
  [DllImport("advapi32.dll", SetLastError = true, CharSet = CharSet.Unicode)] static extern bool CreateProcessAsUserW(IntPtr token, string app, System.Text.StringBuilder cmd, IntPtr pa, IntPtr ta, bool inherit, uint flags, IntPtr env, string dir, ref StartupInfo si, out ProcessInformation pi);
  [DllImport("kernel32.dll")] static extern IntPtr GetStdHandle(int which);
  [DllImport("kernel32.dll")] static extern uint WaitForSingleObject(IntPtr h, uint ms);
  [DllImport("kernel32.dll")] static extern bool GetExitCodeProcess(IntPtr h, out uint code);
  public static int Run(IntPtr own, byte[] adminSid, string app, string commandLine) {
    IntPtr sid = Marshal.AllocHGlobal(adminSid.Length); Marshal.Copy(adminSid, 0, sid, adminSid.Length);
    var disable = new SidAndAttributes[] { new SidAndAttributes { Sid = sid } };
    IntPtr token;
    if (!CreateRestrictedToken(own, 0, 1, disable, 0, IntPtr.Zero, 0, IntPtr.Zero, out token)) throw new System.ComponentModel.Win32Exception();
    var si = new StartupInfo { cb = Marshal.SizeOf(typeof(StartupInfo)), dwFlags = 0x100, hStdInput = GetStdHandle(-10), hStdOutput = GetStdHandle(-11), hStdError = GetStdHandle(-12) };
    ProcessInformation pi;
    if (!CreateProcessAsUserW(token, app, new System.Text.StringBuilder(commandLine), IntPtr.Zero, IntPtr.Zero, true, 0, IntPtr.Zero, null, ref si, out pi)) throw new System.ComponentModel.Win32Exception();
    WaitForSingleObject(pi.hProcess, 0xFFFFFFFF);
    uint code; GetExitCodeProcess(pi.hProcess, out code); return (int)code;
  }
}
'@
$admin = New-Object Security.Principal.SecurityIdentifier('S-1-5-32-544')
$bytes = New-Object byte[] ($admin.BinaryLength); $admin.GetBinaryForm($bytes, 0)
$exe = Join-Path $PSHOME 'pwsh.exe'
$line = '"' + $exe + '"' + (($args | ForEach-Object { ' "' + $_ + '"' }) -join '')
exit [LimitedStart]::Run([Security.Principal.WindowsIdentity]::GetCurrent().Token, $bytes, $exe, $line)
