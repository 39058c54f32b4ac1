import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { processAlive } from '../processes.js';
import type { ChildProcess } from 'node:child_process';
import nodePowershell from 'node-powershell';
import { ps, PsCode, psString } from '../compile/quote.js';
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
  /** True when the process ended during this request (it died, or exited on its own); the next request starts a new one. */
  exited: boolean;
  /** True when the process was gone and had to be restarted before this request. */
  restarted: boolean;
  error?: Error;
}

export const DEFAULT_TIMEOUT_MS = 120_000;
const STDERR_TAIL_CHARS = 4_000;
const STDERR_END_WAIT_MS = 2_000;

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
  private readonly stderrTails = new WeakMap<Shell, () => string>();
  private everStarted = false;
  /** Requests run one at a time; each one's timeout starts when it does, not while it waits. */
  private queue: Promise<unknown> = Promise.resolve();
  /** How many processes this session has started (1 unless a request timed out or the process died). */
  starts = 0;
  /**
   * PowerShell's own process id ($PID). A .NET tool install starts pwsh through a launcher
   * process, so the child node spawned is not always the one that must be killed.
   */
  powershellPid: number | undefined;

  constructor(options: SessionOptions = {}) {
    this.executable = locatePwsh(options.pwshPath);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Runs PowerShell code (built with the ps`` template) and returns its output as text. */
  invoke(code: PsCode, timeoutMs = this.timeoutMs): Promise<RequestResult> {
    return this.enqueue(() => code, timeoutMs);
  }

  /**
   * Runs a compiled script with parameters. The script text is sent once per process and kept
   * as a script block, so later runs send only the parameters.
   */
  runScript(script: CompiledScript, parameters: Record<string, string | boolean>, timeoutMs = this.timeoutMs): Promise<RequestResult> {
    const hash = scriptHash(script);
    // String values travel as arguments of the request line (see execute), not inside its
    // base64-encoded code: a payload of megabytes is then quoted once and parsed once.
    const values: string[] = [];
    const args = new PsCode(
      Object.entries(parameters)
        .map(([name, value]) => (typeof value === 'boolean' ? ps`-${safeParameter(name)}:${value}`.text : `-${safeParameter(name).text} $wsArgs[${values.push(value) - 1}]`))
        .join(' '),
    );
    // Decided when the request runs: a restart in between forgets every loaded script.
    const build = () => ps`${this.defineOnce(script, hash)}& $global:WinstateScripts[${hash}] ${args}`;
    return this.enqueue(build, timeoutMs, () => this.loadedScripts.add(hash), values);
  }

  /**
   * Starts the process and parses a script now, so that a later runScript of it sends only its
   * parameters. Resolves false (never rejects) when that failed; the later run then tries again.
   */
  async preload(script: CompiledScript, timeoutMs = this.timeoutMs): Promise<boolean> {
    const hash = scriptHash(script);
    const result = await this.enqueue(() => ps`${this.defineOnce(script, hash)}`, timeoutMs, () => this.loadedScripts.add(hash));
    return result.ok;
  }

  /** The code that parses a script into this process's script table, or nothing when it is there already. */
  private defineOnce(script: CompiledScript, hash: string): PsCode {
    if (this.loadedScripts.has(hash)) return new PsCode('');
    return ps`if ($null -eq $global:WinstateScripts) { $global:WinstateScripts = @{} }
$global:WinstateScripts[${hash}] = [scriptblock]::Create([System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String(${toBase64(script.text)})))
`;
  }

  private enqueue(build: () => PsCode, timeoutMs: number, onSuccess?: () => void, values: readonly string[] = []): Promise<RequestResult> {
    const run = this.queue.then(() => this.execute(build, timeoutMs, onSuccess, values));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async execute(build: () => PsCode, timeoutMs: number, onSuccess?: () => void, values: readonly string[] = []): Promise<RequestResult> {
    const started = Date.now();
    // A process that exited on its own (or was killed from outside) is replaced before use.
    // PowerShell itself may be gone while its launcher has not noticed yet: check both.
    if (this.shell && ((this.shell as unknown as { isExited: boolean }).isExited || (this.powershellPid !== undefined && !processAlive(this.powershellPid)))) await this.stop(this.shell, 'SIGKILL');
    const restarted = this.everStarted && this.shell === undefined;
    const marker = `@@winstate-${randomBytes(8).toString('hex')}`;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const base = { restarted, stderr: '', hostText: '', output: '' };
    let shell = this.shell;
    try {
      const work = (async () => {
        if (!shell) shell = await this.start();
        // The code as base64 (it spans lines; pwsh reads -Command - line by line), then each value
        // as a quoted argument, which the quoting gate keeps on one line of printable ASCII.
        const code = ps`& ([scriptblock]::Create([System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String(${toBase64(wrapRequest(build(), marker))}))))`;
        return shell.invoke([code.text, ...values.map((v) => psString(v).text)].join(' '));
      })();
      const outcome = await Promise.race([work, timeout]);
      if (outcome === 'timeout') {
        work.catch(() => undefined);
        if (shell) await this.stop(shell, 'SIGKILL');
        return { ...base, ok: false, timedOut: true, exited: false, durationMs: Date.now() - started, error: new Error(`PowerShell request timed out after ${timeoutMs} ms; the process was killed and will be restarted`) };
      }
      shell!.history.splice(0); // node-powershell keeps every result otherwise
      const parsed = parseOutput(outcome.stdout?.toString('utf8') ?? '', stripTerminal(outcome.stderr?.toString('utf8') ?? ''), marker);
      if (parsed.ok) onSuccess?.();
      const exited = (shell as unknown as { isExited: boolean }).isExited;
      if (exited) await this.stop(shell!, 'SIGKILL');
      return { ...parsed, restarted, timedOut: false, exited, durationMs: Date.now() - started };
    } catch (error) {
      // A process that died while starting is this.shell, not yet shell.
      const failed = shell ?? this.shell;
      const died = failed ? await this.describeExit(failed, error) : '';
      if (failed) await this.stop(failed, 'SIGKILL');
      return { ...base, ok: false, timedOut: false, exited: died !== '', durationMs: Date.now() - started, error: new Error(`PowerShell process failed: ${died || (error as Error).message}`, { cause: error }) };
    } finally {
      clearTimeout(timer);
    }
  }

  private async start(): Promise<Shell> {
    const shell = new PowerShell({
      executable: this.executable,
      executableOptions: { '-NoProfile': true, '-NonInteractive': true },
      spawnOptions: { env: { ...process.env, TERM: 'dumb', NO_COLOR: '1', POWERSHELL_TELEMETRY_OPTOUT: '1', POWERSHELL_UPDATECHECK: 'Off' } },
      throwOnInvocationError: false,
    });
    this.shell = shell;
    this.keepStderrTail(shell);
    this.starts++;
    this.everStarted = true;
    this.loadedScripts.clear();
    // node-powershell finds the end of a reply by a delimiter line, and misses it when both of a
    // request's delimiters arrive in one read ending in CRLF (Windows PowerShell's line end): the
    // request then waits forever. LF line ends avoid that; the first delimiter still ends in CRLF.
    const probe = await shell.invoke('[Console]::Out.NewLine = [string][char]10; [Console]::Error.NewLine = [string][char]10; "$PID $([System.Environment]::OSVersion.Platform)"');
    shell.history.splice(0);
    const [pid, platform] = (probe.stdout?.toString('utf8') ?? '').trim().split(' ');
    // A Windows PowerShell driven from Linux (under Wine) reports a Windows process id, which is
    // no process of ours to signal: only the launcher node spawned is stopped then.
    const sameSystem = (platform === 'Win32NT') === (process.platform === 'win32');
    this.powershellPid = sameSystem ? Number(pid) || undefined : undefined;
    return shell;
  }

  /**
   * Keeps the last few KiB a process wrote to stderr, so that a PowerShell that dies (at start-up,
   * or in a launcher before it) can say why instead of only that it exited.
   */
  private keepStderrTail(shell: Shell): void {
    const stderr = (shell as unknown as { process: ChildProcess }).process.stderr;
    let tail = '';
    stderr?.on('data', (chunk: Buffer | string) => {
      tail = (tail + chunk.toString()).slice(-STDERR_TAIL_CHARS);
    });
    this.stderrTails.set(shell, () => tail);
  }

  /** How a process ended, when it did: exit code or signal and the end of its stderr; '' while it runs. */
  private async describeExit(shell: Shell, error: unknown): Promise<string> {
    const child = (shell as unknown as { process: ChildProcess }).process;
    const exitCode = (error as { exitCode?: number | null }).exitCode ?? child.exitCode;
    const signal = (error as { signalCode?: string | null }).signalCode ?? child.signalCode;
    if (exitCode === null && signal === null) return '';
    // 'exit' can come before the last of stderr is read; 'close' comes after. A grandchild holding
    // the pipe open (a launcher's relay) must not hold the error up, hence the bound.
    if (child.stderr && !child.stderr.readableEnded) {
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([once(child.stderr, 'end').catch(() => undefined), new Promise((resolve) => (bound = setTimeout(resolve, STDERR_END_WAIT_MS)))]);
      clearTimeout(bound);
    }
    const how = signal ? `was stopped by ${signal}` : `exited with code ${exitCode}`;
    const said = stripTerminal(this.stderrTails.get(shell)?.() ?? '').trim();
    return `the PowerShell process (${this.executable}) ${how}${said ? `; it last wrote to stderr:\n${said}` : ' and wrote nothing to stderr'}`;
  }

  /** Stops the current process; the next request starts a new one. */
  async kill(): Promise<void> {
    if (this.shell) await this.stop(this.shell, 'SIGKILL');
  }

  async close(): Promise<void> {
    if (this.shell) await this.stop(this.shell, 'SIGTERM');
  }

  /** Stops one process (only if it is still the current one) and PowerShell's own process behind a launcher. */
  private async stop(shell: Shell, signal: NodeJS.Signals): Promise<void> {
    if (shell !== this.shell) return;
    const pid = this.powershellPid;
    const launcher = (shell as unknown as { process: ChildProcess }).process.pid;
    this.shell = undefined;
    this.powershellPid = undefined;
    this.loadedScripts.clear();
    await shell.dispose(signal).catch(() => undefined);
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

function scriptHash(script: CompiledScript): string {
  return createHash('sha256').update(script.text).digest('hex');
}

function toBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * Runs the request in a child scope (the values of the request line are $wsArgs) and reports
 * its output (or error) on one line that starts with this request's random marker, so no text a
 * script prints can pose as the result.
 */
function wrapRequest(code: PsCode, marker: string): string {
  return `$wsArgs = $args
$ProgressPreference = 'SilentlyContinue'
try {
    $wsText = @(& {
${code.text}
    }) -join [string][char]10
    $wsLine = '${marker}-result:' + [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($wsText))
} catch {
    $wsMessage = $_.Exception.Message
    if ($_.InvocationInfo -and $_.InvocationInfo.PositionMessage) { $wsMessage += [string][char]10 + $_.InvocationInfo.PositionMessage }
    $wsLine = '${marker}-error:' + [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($wsMessage))
}
[Console]::Out.WriteLine()
[Console]::Out.WriteLine($wsLine)`;
}

/** Terminal control sequences (CSI, OSC) that a console host writes around text, e.g. Wine's console on a pty. */
function stripTerminal(text: string): string {
  return text.replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

function parseOutput(stdout: string, stderr: string, marker: string): Omit<RequestResult, 'durationMs' | 'timedOut' | 'restarted' | 'exited'> {
  const host: string[] = [];
  let output: string | undefined;
  let error: Error | undefined;
  // pwsh may put terminal control sequences around lines even when not interactive.
  for (const line of stripTerminal(stdout).split(/\r?\n/)) {
    if (line.startsWith(`${marker}-result:`)) output = Buffer.from(line.slice(marker.length + 8), 'base64').toString('utf8');
    else if (line.startsWith(`${marker}-error:`)) error = new Error(Buffer.from(line.slice(marker.length + 7), 'base64').toString('utf8'));
    else if (line.trim() !== '') host.push(line);
  }
  if (!error && output === undefined) error = new Error(`PowerShell returned no result${stderr ? `: ${stderr.trim()}` : ''}`);
  return { ok: !error, output: output ?? '', hostText: host.join('\n'), stderr, error };
}
