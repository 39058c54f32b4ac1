import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import nodePowershell from 'node-powershell';
import { ps, PsCode } from '../compile/quote.js';
import type { CompiledScript } from '../compile/emit.js';
import { locatePwsh } from './locate.js';

const { PowerShell } = nodePowershell;
type Shell = InstanceType<typeof PowerShell>;

export interface SessionOptions {
  /** Path of pwsh or powershell.exe; otherwise see locatePwsh. */
  pwshPath?: string;
  /** Per-request limit; a request that takes longer kills the process, which restarts on the next request. */
  timeoutMs?: number;
}

/** One request's outcome, execa-style: explicit flags, errors keep their cause. */
export interface RequestResult {
  ok: boolean;
  /** The request's output objects as text, joined by newlines. */
  output: string;
  /** What else the process printed meanwhile (host messages such as What if:). */
  hostText: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** True when the process was gone and had to be restarted before this request. */
  restarted: boolean;
  error?: Error;
}

export const DEFAULT_TIMEOUT_MS = 120_000;
const RESULT_MARK = '@@winstate-result:';
const ERROR_MARK = '@@winstate-error:';

/**
 * One persistent PowerShell process. Every request travels as a single line (a base64-encoded
 * script block) because pwsh reads -Command - line by line; results come back base64-encoded
 * behind a marker so host text can never be mistaken for them.
 */
export class PwshSession {
  readonly executable: string;
  private readonly timeoutMs: number;
  private shell: Shell | undefined;
  private readonly loadedScripts = new Set<string>();
  private everStarted = false;
  /** How many processes this session has started (1 unless a request timed out or the process died). */
  starts = 0;

  constructor(options: SessionOptions = {}) {
    this.executable = locatePwsh(options.pwshPath);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /**
   * PowerShell's own process id ($PID). A .NET tool install starts pwsh through a launcher
   * process, so the child node spawned is not always the one that must be killed.
   */
  powershellPid: number | undefined;

  private get launcherPid(): number | undefined {
    return this.shell ? (this.shell as unknown as { process: ChildProcess }).process.pid : undefined;
  }

  private start(): Shell {
    const shell = new PowerShell({
      executable: this.executable,
      executableOptions: { '-NoProfile': true, '-NonInteractive': true },
      spawnOptions: { env: { ...process.env, TERM: 'dumb', NO_COLOR: '1', POWERSHELL_TELEMETRY_OPTOUT: '1', POWERSHELL_UPDATECHECK: 'Off' } },
      throwOnInvocationError: false,
    });
    this.starts++;
    this.everStarted = true;
    this.loadedScripts.clear();
    return shell;
  }

  /** Runs PowerShell code (built with the ps`` template) and returns its output as text. */
  async invoke(code: PsCode, timeoutMs = this.timeoutMs): Promise<RequestResult> {
    const restarted = this.everStarted && this.shell === undefined;
    if (!this.shell) {
      this.shell = this.start();
      const probe = await this.shell.invoke('$PID');
      this.shell.history.splice(0);
      this.powershellPid = Number(probe.raw.trim()) || undefined;
    }
    const shell = this.shell;
    const started = Date.now();
    const line = ps`& ([scriptblock]::Create([System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String(${toBase64(wrapRequest(code))}))))`;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const base = { restarted, stderr: '', hostText: '', output: '' };
    try {
      const outcome = await Promise.race([shell.invoke(line.text), timeout]);
      if (outcome === 'timeout') {
        await this.kill();
        return { ...base, ok: false, timedOut: true, durationMs: Date.now() - started, error: new Error(`PowerShell request timed out after ${timeoutMs} ms; the process was killed and will be restarted`) };
      }
      shell.history.splice(0); // node-powershell keeps every result otherwise
      return { ...parseOutput(outcome.stdout?.toString('utf8') ?? '', outcome.stderr?.toString('utf8') ?? ''), restarted, timedOut: false, durationMs: Date.now() - started };
    } catch (error) {
      await this.kill();
      return { ...base, ok: false, timedOut: false, durationMs: Date.now() - started, error: new Error(`PowerShell process failed: ${(error as Error).message}`, { cause: error }) };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs a compiled script with parameters. The script text is sent once per process and kept
   * as a script block, so later runs send only the parameters.
   */
  async runScript(script: CompiledScript, parameters: Record<string, string | boolean>, timeoutMs?: number): Promise<RequestResult> {
    const hash = createHash('sha256').update(script.text).digest('hex');
    const args = new PsCode(
      Object.entries(parameters)
        .map(([name, value]) => (typeof value === 'boolean' ? ps`-${safeParameter(name)}:${value}` : ps`-${safeParameter(name)} ${value}`).text)
        .join(' '),
    );
    const define = this.loadedScripts.has(hash)
      ? new PsCode('')
      : ps`if ($null -eq $global:WinstateScripts) { $global:WinstateScripts = @{} }
$global:WinstateScripts[${hash}] = [scriptblock]::Create([System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String(${toBase64(script.text)})))
`;
    const result = await this.invoke(ps`${define}& $global:WinstateScripts[${hash}] ${args}`, timeoutMs);
    if (result.ok) this.loadedScripts.add(hash);
    return result;
  }

  /** Stops the process; the next request starts a new one. */
  async kill(): Promise<void> {
    await this.stop('SIGKILL');
  }

  async close(): Promise<void> {
    await this.stop('SIGTERM');
  }

  private async stop(signal: NodeJS.Signals): Promise<void> {
    const shell = this.shell;
    const pid = this.powershellPid;
    const launcher = this.launcherPid;
    this.shell = undefined;
    this.powershellPid = undefined;
    this.loadedScripts.clear();
    if (shell) await shell.dispose(signal).catch(() => undefined);
    if (pid !== undefined && pid !== launcher) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }
}

function safeParameter(name: string): PsCode {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error(`not a parameter name: ${name}`);
  return new PsCode(name);
}

function toBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** Runs the request in a child scope and reports its output (or error) on one marked line. */
function wrapRequest(code: PsCode): string {
  return `$ProgressPreference = 'SilentlyContinue'
try {
    $wsText = @(& {
${code.text}
    }) -join [string][char]10
    [Console]::Out.WriteLine('${RESULT_MARK}' + [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($wsText)))
} catch {
    $wsMessage = $_.Exception.Message
    if ($_.InvocationInfo -and $_.InvocationInfo.PositionMessage) { $wsMessage += [string][char]10 + $_.InvocationInfo.PositionMessage }
    [Console]::Out.WriteLine('${ERROR_MARK}' + [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($wsMessage)))
}`;
}

function parseOutput(stdout: string, stderr: string): Omit<RequestResult, 'durationMs' | 'timedOut' | 'restarted'> {
  const host: string[] = [];
  let output: string | undefined;
  let error: Error | undefined;
  // pwsh may put terminal control sequences around lines even when not interactive.
  for (const line of stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split(/\r?\n/)) {
    const result = line.indexOf(RESULT_MARK);
    const failure = line.indexOf(ERROR_MARK);
    if (result >= 0) output = Buffer.from(line.slice(result + RESULT_MARK.length), 'base64').toString('utf8');
    else if (failure >= 0) error = new Error(Buffer.from(line.slice(failure + ERROR_MARK.length), 'base64').toString('utf8'));
    else if (line.trim() !== '') host.push(line);
  }
  if (!error && output === undefined) error = new Error(`PowerShell returned no result${stderr ? `: ${stderr.trim()}` : ''}`);
  return { ok: !error, output: output ?? '', hostText: host.join('\n'), stderr, error };
}
