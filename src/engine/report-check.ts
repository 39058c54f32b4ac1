/**
 * What crosses the bridge is checked: the runtime's JSON report against its published schema
 * (src/engine/run-report.schema.json), before any of it is trusted, recorded or rendered.
 */
import { readFileSync } from 'node:fs';
import { ajv2020, DATA_VALIDATOR_OPTIONS, loadStandaloneValidator, type ValidatorFunction } from '../build-artifacts.js';
import { projectPath } from '../paths.js';

export const RUN_REPORT_SCHEMA_FILE = projectPath('src', 'engine', 'run-report.schema.json');
export const RUN_REPORT_VALIDATOR_OPTIONS = DATA_VALIDATOR_OPTIONS;

let validator: ValidatorFunction | undefined;

export function runReportSchema(): unknown {
  return JSON.parse(readFileSync(RUN_REPORT_SCHEMA_FILE, 'utf8')) as unknown;
}

/** Problems of a report as `<path>: <message>` lines; empty when it matches the schema. */
export function runReportProblems(report: unknown): string[] {
  if (!validator) {
    const schema = runReportSchema();
    validator = loadStandaloneValidator('run-report', schema) ?? ajv2020(RUN_REPORT_VALIDATOR_OPTIONS).compile(schema as object);
  }
  if (validator(report)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
}
