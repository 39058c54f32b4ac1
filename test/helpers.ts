import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { validateText, type Plan } from '../src/document/validate.js';
import { formatDiagnostic } from '../src/document/diagnostics.js';
import { locatePwsh } from '../src/bridge/locate.js';
import { PwshSession } from '../src/bridge/session.js';
import { main, type CliIo } from '../src/cli/cli.js';

// Runs record backups under the state directory: keep tests out of the user's own.
process.env.WINSTATE_STATE_DIR ??= mkdtempSync(join(tmpdir(), 'winstate-state-'));

export function tempDir(prefix = 'winstate-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A regedit-style export: UTF-16LE with BOM, CRLF. */
export function writeReg(file: string, lines: string[]): void {
  const text = ['Windows Registry Editor Version 5.00', '', ...lines, '', ''].join('\r\n');
  writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
}

export function readReg(file: string): string {
  return readFileSync(file).toString('utf16le').replace(/^\uFEFF/, '');
}

export function planFromYaml(yaml: string, file = 'test.yaml'): Plan {
  const { plan, diagnostics } = validateText(file, yaml);
  if (!plan) throw new Error(`test document invalid:\n${diagnostics.map(formatDiagnostic).join('\n')}`);
  return plan;
}

/** Runs a script file the way an admin would: pwsh -File. */
export function runPwshFile(script: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  // Large documents print megabytes of JSON: past maxBuffer the child would be killed (status null).
  const result = spawnSync(locatePwsh(), ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', script, ...args], { encoding: 'utf8', env: { ...process.env, TERM: 'dumb' }, maxBuffer: 512 * 2 ** 20 });
  if (result.error) throw new Error(`pwsh -File ${script} failed to run: ${result.error.message}`, { cause: result.error });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** YAML single-quoted scalar: the only escape is a doubled quote. */
export function yamlQuote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

let fileSession: PwshSession | undefined;
let sharing = false;

/**
 * One PowerShell for the whole test file, started on first use: starting pwsh and parsing the
 * runtime costs seconds of CPU, a command run in a warm session a fraction of that. Closed by the
 * `after` hook this registers. Tests about process start, kill, timeouts or locks between
 * processes use their own.
 */
export function sharedSession(after?: (hook: () => Promise<void>) => void): PwshSession {
  if (!fileSession) {
    fileSession = new PwshSession();
    if (!after) throw new Error('sharedSession: the first call registers the hook that closes it (pass test.after)');
    after(async () => {
      await fileSession?.close();
      fileSession = undefined;
    });
  }
  return fileSession;
}

/**
 * From now on runCli runs this file's commands in the shared session (io.session, which the CLI
 * never closes) unless a call sets `session` itself (`{ session: undefined }`: a PowerShell of its own).
 */
export function shareCliSession(after: (hook: () => Promise<void>) => void): void {
  sharedSession(after);
  sharing = true;
}

/** The CLI as a function, its output captured; `extra` sets the rest of the io (isTTY, env, session...). */
export async function runCli(argv: string[], extra: Partial<CliIo> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const shared = sharing && !('session' in extra) ? { session: sharedSession() } : {};
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), ...shared, ...extra };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** Chromium for the HTML report test: $WINSTATE_CHROMIUM, else chromium (or chromium-browser) on PATH. */
export function findChromium(): string | undefined {
  if (process.env.WINSTATE_CHROMIUM) return process.env.WINSTATE_CHROMIUM;
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of ['chromium', 'chromium-browser']) if (existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Polls until the condition holds (no fixed sleeps in tests); fails with the message after the limit. */
export async function waitFor(condition: () => boolean, message: string, limitMs = 30_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up after ${limitMs} ms waiting: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
