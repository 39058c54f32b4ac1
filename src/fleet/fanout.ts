import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { projectPath } from '../paths.js';
import { ps, PsCode } from '../compile/quote.js';
import type { PwshSession } from '../bridge/session.js';
import type { FleetHost } from './inventory.js';

/** One host's outcome of one fan-out: the script's output, or why there is none. */
export interface HostOutcome {
  host: string;
  output: string | null;
  error: string | null;
  /** When the script started and ended on the host (the host's clock, ISO 8601). */
  startedAt: string | null;
  finishedAt: string | null;
}

export interface FanOutProgress {
  done: number;
  running: number;
  failed: number;
  waiting: number;
}

export interface FleetTimeouts {
  /** ssh's own ConnectTimeout, seconds. */
  connectSeconds: number;
  /** How long opening every session may take, seconds. */
  openSeconds: number;
  /** How long one script may run on the fleet, seconds. */
  runSeconds: number;
  /** The longest a progress request waits for the hosts' job to end (it answers at once when it does), ms. */
  pollMilliseconds: number;
}

export const DEFAULT_FLEET_TIMEOUTS: FleetTimeouts = { connectSeconds: 10, openSeconds: 120, runSeconds: 600, pollMilliseconds: 1000 };

let fleetCode: string | undefined;
function fleetFunctions(): string {
  fleetCode ??= readFileSync(fleetFunctionsPath(), 'utf8');
  return fleetCode;
}

/** A host as Open-WsFleetSession (src/fleet/fleet.ps1) takes it. */
export function hostSpec(h: FleetHost): { Name: string; Address: string; User: string; Port: number; KeyFile: string | null; Transport: string } {
  return { Name: h.name, Address: h.address, User: h.user, Port: h.port, KeyFile: h.keyFile ?? null, Transport: h.transport };
}

/** The command that opens a session per host, SSH and WinRM alike, every value through the quoting gate. */
export function openSessionsCommand(hosts: FleetHost[], timeouts: FleetTimeouts): PsCode {
  return ps`Open-WsFleetSession -Hosts (${hosts.map(hostSpec)}) -ConnectTimeoutSeconds ${timeouts.connectSeconds} -OpenTimeoutSeconds ${timeouts.openSeconds}`;
}

/** The fleet functions, for a PowerShell of one's own (tests); FleetSessions loads them itself. */
export function fleetFunctionsPath(): string {
  return projectPath('src', 'fleet', 'fleet.ps1');
}

/**
 * Remoting sessions to a set of hosts, held in the CLI's persistent PowerShell: opened once, then
 * each phase (identity probe, test, set, backup fetch) is one Invoke-Command over all of them.
 */
export class FleetSessions {
  private loaded = false;
  readonly opened = new Set<string>();
  /** Hashes of the script texts the CLI's PowerShell already holds: later phases name them only. */
  private readonly sentTexts = new Set<string>();

  constructor(
    private readonly session: PwshSession,
    private readonly timeouts: FleetTimeouts = DEFAULT_FLEET_TIMEOUTS,
  ) {}

  /** Opens a session per host; returns the hosts that could not be reached, with PowerShell's reason. */
  async open(hosts: FleetHost[]): Promise<Map<string, string>> {
    await this.load();
    const limitMs = (this.timeouts.openSeconds + 30) * 1000;
    const result = await this.session.invoke(openSessionsCommand(hosts, this.timeouts), limitMs);
    if (!result.ok) throw new Error(`could not open remoting sessions: ${result.error?.message ?? 'no reply'}`);
    const parsed = JSON.parse(result.output) as { Opened: string[] | string | null; Failures: Record<string, string> | null };
    for (const name of [parsed.Opened ?? []].flat()) this.opened.add(name);
    return new Map(Object.entries(parsed.Failures ?? {}));
  }

  /**
   * Runs one script on the named hosts through one Invoke-Command -ThrottleLimit, each with its own
   * parameters; reports progress while it runs. Every host gets an outcome.
   */
  async run(
    names: string[],
    scriptText: string,
    argumentsByHost: Map<string, Record<string, string | boolean>>,
    throttle: number,
    onProgress?: (progress: FanOutProgress) => void,
  ): Promise<Map<string, HostOutcome>> {
    const outcomes = new Map<string, HostOutcome>();
    if (names.length === 0) return outcomes;
    await this.load();
    // A list, not a mapping by name: host names ('10.0.0.5-2222') are no PowerShell identifiers.
    const args = names.map((n) => ({ Name: n, Arguments: argumentsByHost.get(n) ?? {} }));
    const hash = createHash('sha256').update(scriptText).digest('hex');
    const text = this.sentTexts.has(hash) ? '' : scriptText;
    const prepare = this.timeouts.openSeconds;
    const start = await this.session.invoke(
      ps`Start-WsFleetScript -Names (${names}) -ScriptText (${text}) -ScriptHash ${hash} -ArgumentsByHost (${args}) -ThrottleLimit ${throttle} -PrepareTimeoutSeconds ${prepare}`,
      (prepare + 60) * 1000,
    );
    if (!start.ok) throw new Error(`could not start the script on the hosts: ${start.error?.message ?? 'no reply'}`);
    this.sentTexts.add(hash);
    const deadline = Date.now() + this.timeouts.runSeconds * 1000;
    // Bounded: the job ends, or the deadline passes and Complete-WsFleetScript stops it.
    while (Date.now() < deadline) {
      const wait = Math.max(0, Math.min(this.timeouts.pollMilliseconds, deadline - Date.now()));
      const poll = await this.session.invoke(ps`Get-WsFleetProgress -WaitMilliseconds ${wait}`, wait + 60_000);
      if (!poll.ok) break;
      const progress = JSON.parse(poll.output) as FanOutProgress & { finished: boolean };
      onProgress?.(progress);
      if (progress.finished) break;
    }
    const remaining = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    const done = await this.session.invoke(ps`Complete-WsFleetScript -TimeoutSeconds ${remaining}`, (remaining + 60) * 1000);
    if (!done.ok) throw new Error(`could not collect the hosts' results: ${done.error?.message ?? 'no reply'}`);
    const records = JSON.parse(done.output || '[]') as { Host: string; Output: string | null; Error: string | null; StartedAt: string | null; FinishedAt: string | null }[];
    for (const r of [records].flat()) {
      outcomes.set(r.Host, { host: r.Host, output: r.Output, error: r.Error || null, startedAt: r.StartedAt, finishedAt: r.FinishedAt });
    }
    for (const name of names) {
      if (!outcomes.has(name)) outcomes.set(name, { host: name, output: null, error: 'no result came back from this host', startedAt: null, finishedAt: null });
    }
    return outcomes;
  }

  async close(): Promise<void> {
    if (!this.loaded) return;
    await this.session.invoke(new PsCode('Close-WsFleetSession'), 30_000);
    this.opened.clear();
  }

  private async load(): Promise<void> {
    // Checked on every call: a restarted PowerShell has forgotten the functions (and the sessions).
    const probe = await this.session.invoke(new PsCode("[bool](Get-Command -Name Start-WsFleetScript -ErrorAction SilentlyContinue)"));
    if (probe.ok && probe.output.trim() === 'True') {
      this.loaded = true;
      return;
    }
    this.sentTexts.clear();
    const define = ps`. ([scriptblock]::Create([System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String(${Buffer.from(fleetFunctions(), 'utf8').toString('base64')}))))`;
    // Functions must land in the global scope to outlive this request.
    const result = await this.session.invoke(new PsCode(`$wsFleetDefinition = { ${define.text} }; . $wsFleetDefinition; foreach ($f in 'New-WsFleetConnectionInfo','Open-WsFleetSession','Start-WsFleetScript','New-WsFleetRecord','Get-WsFleetHostName','Get-WsFleetProgress','Complete-WsFleetScript','Close-WsFleetSession') { Set-Item -Path ('function:global:' + $f) -Value (Get-Item -Path ('function:' + $f)).ScriptBlock }; 'loaded'`));
    if (!result.ok) throw new Error(`could not load the fleet functions into PowerShell: ${result.error?.message ?? 'no reply'}`);
    this.loaded = true;
  }
}
