/** `--report <format>:<file>`: the formats, their parsing, and writing every requested report. */
import { dirname, join, basename, extname, resolve } from 'node:path';
import { writeFileAtomic } from '../fs.js';
import type { ReportModel } from './model.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderSarif } from './sarif.js';
import { renderHtml } from './html.js';
import { renderCkl, renderXccdf, type ReportContext } from './ckl.js';

export type { ReportContext };

export interface ReportFormat {
  name: string;
  description: string;
  /** Each output of the format: a suffix for the file name ('' for the file given) and its renderer. */
  outputs: { suffix: string; render: (model: ReportModel, context?: ReportContext) => string }[];
}

export const REPORT_FORMATS: readonly ReportFormat[] = [
  { name: 'json', description: 'the full result (schema/report.schema.json)', outputs: [{ suffix: '', render: renderJson }] },
  { name: 'junit', description: 'JUnit XML, one testcase per setting', outputs: [{ suffix: '', render: renderJunit }] },
  { name: 'sarif', description: 'SARIF 2.1.0, one result per non-compliant setting', outputs: [{ suffix: '', render: renderSarif }] },
  { name: 'html', description: 'one self-contained page: summary, charts, sortable/filterable table', outputs: [{ suffix: '', render: renderHtml }] },
  {
    name: 'ckl',
    description: 'STIG Viewer checklist, plus an XCCDF 1.2 TestResult beside it (<file>.xccdf.xml)',
    outputs: [
      { suffix: '', render: renderCkl },
      { suffix: '.xccdf.xml', render: renderXccdf },
    ],
  },
  { name: 'xccdf', description: 'XCCDF 1.2 TestResult alone', outputs: [{ suffix: '', render: renderXccdf }] },
];

export interface ReportSpec {
  format: ReportFormat;
  file: string;
}

export class ReportSpecError extends Error {}

/** Parses one `--report` value; throws ReportSpecError with a message for the user. */
export function parseReportSpec(text: string): ReportSpec {
  const colon = text.indexOf(':');
  const name = (colon < 0 ? text : text.slice(0, colon)).trim().toLowerCase();
  const format = REPORT_FORMATS.find((f) => f.name === name);
  const known = REPORT_FORMATS.map((f) => f.name).join(', ');
  if (!format) throw new ReportSpecError(`--report: unknown format '${colon < 0 ? text : text.slice(0, colon)}' (known: ${known}); write --report <format>:<file>`);
  const file = colon < 0 ? '' : text.slice(colon + 1);
  if (file.trim() === '') throw new ReportSpecError(`--report ${name}: name the file to write, as --report ${name}:<file>`);
  return { format, file };
}

/** Files a spec writes: the file given, and for formats with more than one output, siblings of it. */
export function outputFiles(spec: ReportSpec): { file: string; render: (model: ReportModel, context?: ReportContext) => string }[] {
  return spec.format.outputs.map((o) => {
    if (o.suffix === '') return { file: spec.file, render: o.render };
    const ext = extname(spec.file);
    return { file: join(dirname(spec.file), `${basename(spec.file, ext)}${o.suffix}`), render: o.render };
  });
}

/**
 * Parses every `--report` value and rejects two reports writing one file, and a report that would
 * overwrite a file the run reads (`inputs`: the document, a snapshot, the benchmark).
 */
export function parseReportSpecs(values: string[], inputs: string[] = []): ReportSpec[] {
  const specs = values.map(parseReportSpec);
  const seen = new Map<string, string>();
  const read = new Set(inputs.map((f) => resolve(f)));
  for (const spec of specs) {
    for (const { file } of outputFiles(spec)) {
      const key = resolve(file);
      if (read.has(key)) throw new ReportSpecError(`--report ${spec.format.name}: ${file} is a file this run reads; a report never overwrites it`);
      const other = seen.get(key);
      if (other) throw new ReportSpecError(`--report: ${file} is written by both ${other} and ${spec.format.name}`);
      seen.set(key, spec.format.name);
    }
  }
  return specs;
}

/** What writeReports did: the files written and, per file it could not write, why. */
export interface ReportsWritten {
  written: string[];
  failed: { file: string; message: string }[];
}

/**
 * Renders and writes each report atomically. One report that cannot be written (a read-only
 * folder, a full disk) does not cost the others: every file is tried and each failure returned.
 */
export function writeReports(specs: ReportSpec[], model: ReportModel, context: ReportContext = {}): ReportsWritten {
  const result: ReportsWritten = { written: [], failed: [] };
  for (const spec of specs) {
    for (const { file, render } of outputFiles(spec)) {
      try {
        writeFileAtomic(file, render(model, context));
        result.written.push(file);
      } catch (error) {
        result.failed.push({ file, message: (error as Error).message });
      }
    }
  }
  return result;
}
