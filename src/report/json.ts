import type { ReportModel } from './model.js';

/** The full report as JSON, shaped by schema/report.schema.json. */
export function renderJson(model: ReportModel): string {
  return `${JSON.stringify(model, null, 2)}\n`;
}
