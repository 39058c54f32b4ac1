import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';

/** Every `*.json` file of a directory, in name order, each checked against a JSON Schema (data files are the project's own: a bad one is a bug, so it throws). */
export function readJsonFiles<T>(dir: string, schemaFile: string, what: string): { file: string; data: T }[] {
  const validate = new Ajv2020({ allErrors: true, allowUnionTypes: true }).compile(JSON.parse(readFileSync(schemaFile, 'utf8')));
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
