import type { ApplyReport, ResourceResult, RunReport, StateView } from '../engine/results.js';

/** Compact human rendering of a state: the policy's own words when it has them. */
export function stateText(view: StateView | undefined): string {
  if (!view) return '?';
  if (view.ensure === 'Absent') return 'absent';
  if (view.policyValue !== undefined) {
    const raw = view.valueType ? ` (${view.valueType} ${JSON.stringify(view.valueData)})` : '';
    return view.policyValue === null ? `not a defined choice${raw}` : view.policyValue;
  }
  if (!view.valueType) return 'present';
  return `${view.valueType} ${JSON.stringify(view.valueData)}`;
}

function line(tag: string, r: ResourceResult, detail: string): string {
  return `  ${tag.padEnd(9)} ${r.name}${detail ? `: ${detail}` : ''}`;
}

export function renderRun(report: RunReport): string {
  const lines = [`${report.document} (${report.mode}, ${report.target === 'live' ? 'live registry' : report.snapshot})`];
  for (const r of report.results) {
    if (r.error !== undefined) lines.push(line('ERROR', r, r.error));
    else if (report.mode === 'Get') lines.push(line('GET', r, `${stateText(r.actual)}  [${r.target}]`));
    else if (report.mode === 'Test') lines.push(line(r.inDesiredState ? 'OK' : 'DRIFT', r, r.inDesiredState ? stateText(r.actual) : `${stateText(r.actual)} -> ${stateText(r.desired)}`));
    else if (r.changed) lines.push(line('CHANGED', r, `${stateText(r.before)} -> ${stateText(r.after)}`));
    else if (r.whatIf) lines.push(line('WHATIF', r, `would change ${stateText(r.before)} -> ${stateText(r.desired)}`));
    else lines.push(line(r.inDesiredState ? 'OK' : 'DRIFT', r, stateText(r.after)));
  }
  const s = report.summary;
  lines.push(`${s.total} resources: ${s.inDesiredState} in desired state, ${s.drifted} drifted, ${s.changed} changed, ${s.failed} failed (${report.durationMs} ms)`);
  return lines.join('\n');
}

export function renderApply(report: ApplyReport): string {
  const lines = [`${report.document}: plan (${report.plan.length} of ${report.test.summary.total} settings to change)`];
  for (const item of report.plan) lines.push(`  ~ ${item.name}: ${stateText(item.current)} -> ${stateText(item.desired)}`);
  if (report.plan.length === 0) lines.push('  nothing to change');
  if (report.set) lines.push(renderRun(report.set));
  if (report.whatIf) lines.push('what-if: nothing was changed');
  else if (report.verify) lines.push(report.converged ? 'verified: every setting is in its desired state' : 'NOT converged: some settings still differ after set');
  return lines.join('\n');
}
