/**
 * JUnit XML as CI systems read it (the Ant/Jenkins schema, test/fixtures/junit.xsd): one testcase
 * per setting; drift (and a pending what-if change) is a failure, a setting that failed is an error.
 */
import { expectedActual, lockoutRiskText, snapshotFiles, stateText, stateWithRaw, waiverText, type ReportModel, type ReportSetting } from './model.js';
import { xmlAttr, xmlText } from './escape.js';
import { counted } from '../plural.js';

function seconds(ms: number | null | undefined): string {
  return ((ms ?? 0) / 1000).toFixed(3);
}

function details(s: ReportSetting): string {
  const lines = [
    `setting:  ${s.name}`,
    `type:     ${s.type}${s.id ? ` (${s.id})` : ''}`,
    `target:   ${s.target}`,
    `expected: ${stateWithRaw(s.desired, s.kind)}`,
    `actual:   ${stateWithRaw(s.actual, s.kind)}`,
  ];
  if (s.differingProperties.length) lines.push(`differs:  ${s.differingProperties.join(', ')}`);
  if (s.error) lines.push(`error:    ${s.error}`);
  if (s.waiver) lines.push(`waiver:   ${waiverText(s.waiver, s.kind)}`);
  if (s.waiver?.override && s.waiver.status === 'active') lines.push(`baseline: ${stateText(s.waiver.baseline, s.kind)} (the override is enforced instead)`);
  if (s.lockoutRisk) lines.push(`lockout: ${lockoutRiskText(s.lockoutRisk)}`);
  lines.push(`severity: ${s.severity}`, `area:     ${s.area}`);
  if (s.title) lines.push(`policy:   ${s.gpoPath ? `${s.gpoPath}\\` : ''}${s.title}`);
  if (s.rationale) lines.push(`why:      ${s.rationale}`);
  const refs = referenceList(s);
  if (refs) lines.push(`refs:     ${refs}`);
  if (s.source) lines.push(`source:   ${s.source.file}:${s.source.line}`);
  return lines.join('\n');
}

export function referenceList(s: ReportSetting): string {
  const r = s.references;
  return [
    ...r.stig.map((id) => `STIG ${id}`),
    ...r.cis.map((id) => `CIS ${id}`),
    ...r.cce,
    ...r.oval,
  ].join(', ');
}

function testcase(model: ReportModel, s: ReportSetting): string {
  const open = `    <testcase name="${xmlAttr(s.name)}" classname="${xmlAttr(`winstate.${model.document.name}.${s.area}`)}" time="0.000"`;
  switch (s.status) {
    case 'drift':
      return `${open}>\n      <failure message="${xmlAttr(expectedActual(s))}" type="drift">${xmlText(details(s))}</failure>\n    </testcase>`;
    case 'whatif':
      return `${open}>\n      <failure message="${xmlAttr(`would change: ${expectedActual(s)}`)}" type="whatif">${xmlText(details(s))}</failure>\n    </testcase>`;
    case 'error':
      return `${open}>\n      <error message="${xmlAttr(s.error ?? 'failed')}" type="error">${xmlText(details(s))}</error>\n    </testcase>`;
    case 'skipped':
      return `${open}>\n      <skipped message="${xmlAttr(s.notEvaluated ?? 'not attempted: an earlier setting failed (fail-fast)')}"/>\n    </testcase>`;
    case 'waived':
      return `${open}>\n      <skipped message="${xmlAttr(`waived: ${s.waiver?.justification ?? ''}`)}">${xmlText(details(s))}</skipped>\n    </testcase>`;
    default:
      return `${open}/>`;
  }
}

export function renderJunit(model: ReportModel): string {
  const s = model.summary;
  const properties: [string, string][] = [
    ['winstate.version', model.version],
    ['command', model.command],
    ['document', model.document.file],
    ['target', model.target.kind === 'live' ? 'live settings' : (snapshotFiles(model) || 'snapshot')],
    ['whatIf', String(model.whatIf)],
    ['outcome', model.outcome],
    ['exitCode', String(model.exitCode)],
    ['os', model.host.os],
    ['powershell', `${model.host.psVersion ?? '?'} ${model.host.psEdition ?? ''}`.trim()],
  ];
  const changes = model.changes.map((c) => `${c.status === 'changed' ? 'changed' : 'would change'} ${c.name}: ${stateText(c.before, c.kind)} -> ${stateText(c.after, c.kind)}`);
  const out = [
    `${model.document.name} (${model.command}): ${counted(s.total, 'setting')}, ${s.ok} in desired state, ${s.changed} changed, ${s.drift} drifted, ${s.whatif} would change, ${s.error} failed, ${s.skipped} skipped, ${s.waived} waived`,
    ...changes,
    // The Ant schema allows no output inside a passing testcase: every waiver is listed here.
    ...model.settings.filter((x) => x.waiver).map((x) => `${x.name}: ${waiverText(x.waiver!, x.kind)}`),
    ...model.settings.filter((x) => x.lockoutRisk).map((x) => `${x.name}: ${lockoutRiskText(x.lockoutRisk!)}`),
  ].join('\n');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<testsuites>',
    `  <testsuite package="winstate" id="0" name="${xmlAttr(`winstate.${model.document.name}`)}" timestamp="${model.startedAt.slice(0, 19)}" hostname="${xmlAttr(model.host.hostname || 'localhost')}" tests="${s.total}" failures="${s.drift + s.whatif}" errors="${s.error}" skipped="${s.skipped + s.waived}" time="${seconds(model.durationMs)}">`,
    '    <properties>',
    ...properties.map(([name, value]) => `      <property name="${xmlAttr(name)}" value="${xmlAttr(value)}"/>`),
    '    </properties>',
    ...model.settings.map((setting) => testcase(model, setting)),
    `    <system-out>${xmlText(out)}</system-out>`,
    '    <system-err></system-err>',
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
