// One persistent PowerShell (the project's bridge) with the kinds' PowerShell files loaded as a
// module, for the src/kinds tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PwshSession } from '../src/bridge/session.js';
import { ps, PsCode } from '../src/compile/quote.js';
import { projectPath } from '../src/paths.js';
import { RUNTIME_FILES } from '../src/compile/emit.js';

/** In load order: the whole runtime a generated script embeds (engine core, stores, kind modules, tables). */
export const KIND_SCRIPTS = RUNTIME_FILES;

export class KindsShell {
  // Generous: loading the whole runtime as a module takes seconds on a busy machine.
  readonly session = new PwshSession({ timeoutMs: 180_000 });
  private loadedAt = -1;

  /** Runs code with the kinds module loaded; returns its output text, or throws PowerShell's error. */
  async text(code: PsCode): Promise<string> {
    let load = new PsCode('');
    if (this.loadedAt !== this.session.starts || this.session.starts === 0) {
      const source = KIND_SCRIPTS.map((f) => readFileSync(projectPath(f), 'utf8')).join('\n');
      load = ps`$null = New-Module -Name WsKinds -ScriptBlock ([scriptblock]::Create(${source})) | Import-Module -Global -Force
`;
    }
    const result = await this.session.invoke(ps`$ErrorActionPreference = 'Stop'
${load}${code}`);
    this.loadedAt = this.session.starts;
    if (!result.ok) throw result.error ?? new Error('PowerShell failed');
    return result.output;
  }

  /** Runs code and returns its output objects as parsed JSON, always as an array. */
  async json<T = unknown>(code: PsCode): Promise<T[]> {
    const out = await this.text(ps`ConvertTo-Json -InputObject @(${code}) -Depth 8 -Compress`);
    return JSON.parse(out) as T[];
  }

  /** The first line of the error the code throws; fails when it does not throw. */
  async error(code: PsCode): Promise<string> {
    try {
      await this.text(code);
    } catch (error) {
      return (error as Error).message.split('\n')[0]!;
    }
    throw new Error('expected PowerShell to throw');
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

export function fixturePath(...parts: string[]): string {
  return projectPath('test', 'fixtures', ...parts);
}

/** The same text as UTF-16LE with a byte order mark and CRLF line endings, as secedit writes. */
export function asUtf16Crlf(bytes: Buffer): Buffer {
  const text = bytes.toString('utf8').replace(/\r?\n/g, '\r\n');
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

export { join };
