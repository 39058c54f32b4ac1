/**
 * SARIF 2.1.0: one result per setting that is not compliant (drift, a pending what-if change, an
 * error), each pointing at the resource's line in the document, with rule metadata from the catalog.
 */
import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expectedActual, lockoutRiskText, stateText, stateWithRaw, waiverText, type ReportModel, type ReportSetting, type Severity } from './model.js';
import { referenceList } from './junit.js';

export const SARIF_SCHEMA_URI = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { high: 'error', medium: 'warning', low: 'note', unrated: 'warning' };
/** GitHub code scanning ranks security results by this property (CVSS-like, as a string). */
const SECURITY_SEVERITY: Record<Severity, string> = { high: '8.0', medium: '5.5', low: '3.0', unrated: '5.0' };

export function ruleId(s: ReportSetting): string {
  return s.id ?? `registry:${s.target}`;
}

/** A document path as a SARIF artifact location: relative paths against %SRCROOT%, absolute ones as file URIs. */
function artifactLocation(file: string): { uri: string; uriBaseId?: string } {
  if (isAbsolute(file) || /^[A-Za-z]:[\\/]/.test(file)) return { uri: pathToFileURL(file).href };
  const segments = file.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  return { uri: segments.map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
}

function help(s: ReportSetting): { text: string; markdown: string } {
  const text: string[] = [];
  const md: string[] = [];
  const add = (label: string, value: string | null | undefined) => {
    if (!value) return;
    text.push(`${label}: ${value}`);
    md.push(`**${label}:** ${markdownText(value)}`);
  };
  if (s.rationale) {
    text.push(s.rationale);
    md.push(markdownText(s.rationale));
  }
  add('Impact', s.impact);
  add('Desired', stateWithRaw(s.desired, s.kind, ' (', ')'));
  add('Recommended', s.recommended);
  add('Group Policy', s.title ? `${s.gpoPath ? `${s.gpoPath}\\` : ''}${s.title}` : null);
  add(s.kind === 'Registry' ? 'Registry' : 'Setting', s.target);
  add('References', referenceList(s));
  return { text: text.join('\n\n'), markdown: md.join('\n\n') };
}

/** Markdown text with its syntax characters escaped. */
function markdownText(value: string): string {
  return value.replace(/[\\`*_[\]()#!|<>&~]/g, (c) => `\\${c}`);
}

function rule(s: ReportSetting) {
  const title = s.title ?? `${s.type} ${s.target}`;
  return {
    id: ruleId(s),
    name: s.id ?? undefined,
    shortDescription: { text: title },
    fullDescription: { text: s.rationale ?? `Registry value ${s.target} in its declared state.` },
    help: help(s),
    defaultConfiguration: { level: LEVEL[s.severity] },
    properties: {
      tags: [...new Set(['security', 'windows', s.area, ...s.references.stig])],
      severity: s.severity,
      'security-severity': SECURITY_SEVERITY[s.severity],
      area: s.area,
      ...(s.gpoPath ? { gpoPath: s.gpoPath } : {}),
      references: s.references,
    },
  };
}

/** An active override in place: the baseline's value is not met, by an accepted decision. */
function heldOverride(s: ReportSetting): boolean {
  return s.waiver?.status === 'active' && s.waiver.override && (s.status === 'ok' || s.status === 'changed');
}

function fingerprint(model: ReportModel, s: ReportSetting): string {
  return createHash('sha256').update(`${model.document.name}\u0000${s.name}\u0000${s.target}`).digest('hex');
}

export function renderSarif(model: ReportModel): string {
  // Waived settings and held overrides are results too, suppressed with the waiver's justification.
  const failing = model.settings.filter((s) => s.status === 'drift' || s.status === 'whatif' || s.status === 'error' || s.status === 'waived' || heldOverride(s));
  const rules: ReturnType<typeof rule>[] = [];
  const ruleIndex = new Map<string, number>();
  for (const s of failing) {
    if (!ruleIndex.has(ruleId(s))) {
      ruleIndex.set(ruleId(s), rules.length);
      rules.push(rule(s));
    }
  }
  const location = artifactLocation(model.document.file);
  const results = failing.map((s) => {
    const message =
      s.status === 'error'
        ? `${s.name}: the setting failed: ${s.error}`
        : s.status === 'whatif'
          ? `${s.name}: would change: ${expectedActual(s)}`
          : s.waiver && (s.status === 'waived' || heldOverride(s))
            ? `${s.name}: ${waiverText(s.waiver, s.kind)}`
            : `${s.name}: ${expectedActual(s)}`;
    const suppressed = s.status === 'waived' || heldOverride(s);
    return {
      ruleId: ruleId(s),
      ruleIndex: ruleIndex.get(ruleId(s))!,
      kind: 'fail',
      level: s.status === 'error' ? 'error' : LEVEL[s.severity],
      message: { text: message },
      locations: [
        {
          physicalLocation: { artifactLocation: location, ...(s.source ? { region: { startLine: Math.max(1, s.source.line) } } : {}) },
          logicalLocations: [{ name: s.name, fullyQualifiedName: s.target, kind: 'resource' }],
        },
      ],
      partialFingerprints: { 'winstateSetting/v1': fingerprint(model, s) },
      ...(suppressed && s.waiver
        ? { suppressions: [{ kind: 'external', status: 'accepted', justification: s.waiver.justification, properties: { expires: s.waiver.expires, approvedBy: s.waiver.approvedBy, override: s.waiver.override, baseline: s.waiver.baseline } }] }
        : {}),
      properties: {
        status: s.status,
        setting: s.name,
        target: s.target,
        expected: s.desired,
        actual: s.actual,
        differingProperties: s.differingProperties,
        severity: s.severity,
        area: s.area,
        ...(s.error ? { error: s.error } : {}),
        ...(s.waiver ? { waiver: s.waiver } : {}),
        ...(s.lockoutRisk ? { lockoutRisk: s.lockoutRisk } : {}),
      },
    };
  });
  const risks = model.settings.filter((s) => s.lockoutRisk);
  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'winstate',
            version: model.version,
            semanticVersion: model.version,
            rules,
          },
        },
        automationDetails: { id: `winstate/${model.document.name}/${model.command}/` },
        invocations: [
          {
            executionSuccessful: model.exitCode === 0 || model.exitCode === 2,
            exitCode: model.exitCode,
            startTimeUtc: model.startedAt,
            endTimeUtc: model.finishedAt,
            machine: model.host.hostname,
            ...(model.host.user ? { account: model.host.user } : {}),
          },
        ],
        results,
        properties: {
          document: model.document.name,
          command: model.command,
          target: model.target,
          outcome: model.outcome,
          summary: model.summary,
          // Accepted lockout risks are no finding of their own, and a compliant setting has no result: all listed here.
          ...(risks.length ? { lockoutRisksAccepted: risks.map((s) => ({ setting: s.name, target: s.target, text: lockoutRiskText(s.lockoutRisk!), ...s.lockoutRisk! })) } : {}),
        },
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
