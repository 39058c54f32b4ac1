import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ajv2020, DATA_VALIDATOR_OPTIONS, readBundle } from '../build-artifacts.js';

/**
 * Every `*.json` file of a directory, in name order, each checked against a JSON Schema (data
 * files are the project's own: a bad one is a bug, so it throws). The build checks the shipped
 * folders once and bundles them; this reads the bundle while it is current.
 */
export function readJsonFiles<T>(dir: string, schemaFile: string, what: string, options: { bundle?: boolean } = {}): { file: string; data: T }[] {
  if (options.bundle !== false) {
    const bundled = readBundle<T>(dir, schemaFile);
    if (bundled) return bundled;
  }
  const validate = ajv2020(DATA_VALIDATOR_OPTIONS).compile(JSON.parse(readFileSync(schemaFile, 'utf8')));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const data = JSON.parse(readFileSync(join(dir, file), 'utf8')) as T;
      if (!validate(data)) {
        const problems = validate.errors!.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
        throw new Error(`${what} ${join(dir, file)} is invalid: ${problems}`);
      }
      return { file, data };
    });
}
