import { resolve as resolvePath } from 'node:path';
import { compilePlan, type CompiledScript } from '../compile/emit.js';
import { PwshSession, type SessionOptions } from '../bridge/session.js';
import type { Plan } from '../document/validate.js';
import type { ApplyReport, Mode, PlanItem, RunReport } from './results.js';

export interface RunOptions {
  /** A regedit export to work on instead of the live registry. */
  snapshot?: string;
  /** Describe changes without making them. */
  whatIf?: boolean;
  timeoutMs?: number;
}

export class WinstateRunError extends Error {
  constructor(message: string, options: { cause?: unknown; timedOut?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = 'WinstateRunError';
    this.timedOut = options.timedOut ?? false;
  }
  readonly timedOut: boolean;
}

/**
 * Runs compiled documents through one persistent PowerShell process: the very script
 * `compile` writes, with a mode and a target passed in.
 */
export class Engine {
  private sessionInstance: PwshSession | undefined;
  private readonly scripts = new WeakMap<Plan, CompiledScript>();

  constructor(private readonly sessionOptions: SessionOptions = {}) {}

  get session(): PwshSession {
    return (this.sessionInstance ??= new PwshSession(this.sessionOptions));
  }

  private script(plan: Plan): CompiledScript {
    let script = this.scripts.get(plan);
    if (!script) this.scripts.set(plan, (script = compilePlan(plan)));
    return script;
  }

  async run(plan: Plan, mode: Mode, options: RunOptions = {}): Promise<RunReport> {
    const parameters: Record<string, string | boolean> = { Mode: mode, OutputFormat: 'Json' };
    if (options.snapshot) parameters.RegistrySnapshot = resolvePath(options.snapshot);
    if (options.whatIf) parameters.WhatIf = true;
    const result = await this.session.runScript(this.script(plan), parameters, options.timeoutMs);
    if (!result.ok) {
      throw new WinstateRunError(`${plan.name}: ${mode} failed: ${result.error?.message ?? 'unknown error'}`, { cause: result.error, timedOut: result.timedOut });
    }
    try {
      return JSON.parse(result.output) as RunReport;
    } catch (error) {
      throw new WinstateRunError(`${plan.name}: ${mode} returned output that is not JSON: ${result.output.slice(0, 200)}`, { cause: error });
    }
  }

  get(plan: Plan, options?: RunOptions): Promise<RunReport> {
    return this.run(plan, 'Get', options);
  }

  test(plan: Plan, options?: RunOptions): Promise<RunReport> {
    return this.run(plan, 'Test', options);
  }

  set(plan: Plan, options?: RunOptions): Promise<RunReport> {
    return this.run(plan, 'Set', options);
  }

  /** Test, plan what drifted, set it (or describe it under whatIf), then test again to verify. */
  async apply(plan: Plan, options: RunOptions = {}): Promise<ApplyReport> {
    const whatIf = options.whatIf ?? false;
    const test = await this.test(plan, options);
    const items: PlanItem[] = test.results
      .filter((r) => r.inDesiredState === false)
      .map((r) => ({ name: r.name, target: r.target, current: r.actual!, desired: r.desired!, differingProperties: r.differingProperties ?? [] }));
    const report: ApplyReport = { document: plan.name, whatIf, plan: items, test, converged: false, failed: test.summary.failed };
    if (items.length === 0) {
      report.converged = test.summary.failed === 0;
      return report;
    }
    report.set = await this.set(plan, options);
    report.failed = report.set.summary.failed;
    if (whatIf) return report;
    report.verify = await this.test(plan, options);
    report.failed = Math.max(report.failed, report.verify.summary.failed);
    report.converged = report.verify.summary.drifted === 0 && report.verify.summary.failed === 0;
    return report;
  }

  async close(): Promise<void> {
    await this.sessionInstance?.close();
    this.sessionInstance = undefined;
  }
}
