import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { projectPath } from '../paths.js';

export const PWSH_ENV = 'WINSTATE_PWSH';
export const PWSH_INSTALL_HINT =
  'install PowerShell 7 with `dotnet tool install --tool-path .tools PowerShell --version 7.6.9` ' +
  '(or `npm run setup`), put pwsh on PATH, or name it with --pwsh <path> or the WINSTATE_PWSH environment variable';

export class PwshNotFoundError extends Error {
  constructor(readonly tried: string[]) {
    super(`no PowerShell found (looked for: ${tried.join(', ')}); ${PWSH_INSTALL_HINT}`);
    this.name = 'PwshNotFoundError';
  }
}

/**
 * Finds PowerShell in this order: an explicit path, $WINSTATE_PWSH, the project-local .tools/,
 * pwsh on PATH, and on Windows powershell.exe (Windows PowerShell 5.1).
 */
export function locatePwsh(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const windows = process.platform === 'win32';
  const exe = (name: string) => (windows ? `${name}.exe` : name);
  const tried: string[] = [];
  const named = explicit ?? env[PWSH_ENV];
  if (named) {
    if (isExecutable(named)) return named;
    throw new PwshNotFoundError([`${named} (${explicit ? 'explicit option' : PWSH_ENV}) is not an executable file`]);
  }
  const local = projectPath('.tools', exe('pwsh'));
  tried.push(local);
  if (isExecutable(local)) return local;
  const candidates = [exe('pwsh'), ...(windows ? ['powershell.exe'] : [])];
  for (const name of candidates) {
    tried.push(`${name} on PATH`);
    for (const dir of (env.PATH ?? env.Path ?? '').split(delimiter).filter(Boolean)) {
      const full = join(dir, name);
      if (isExecutable(full)) return full;
    }
  }
  throw new PwshNotFoundError(tried);
}

function isExecutable(file: string): boolean {
  if (!existsSync(file)) return false;
  try {
    accessSync(file, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
