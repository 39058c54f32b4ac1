/**
 * One self-contained HTML page for a security reviewer: summary counts, charts by severity and by
 * area (inline SVG), a sortable and filterable table of every setting, and the changes of an apply.
 * No network: inline CSS and JS only, and a Content-Security-Policy that forbids loading anything.
 */
import { html, jsonForScript } from './escape.js';
import { counted } from '../plural.js';
import {
  emptyCounts, rawStateText, SEVERITIES, snapshotFiles, STATUS_LABEL, STATUSES, stateText,
  type Outcome, type ReportModel, type ReportSetting, type SettingStatus, type Severity, type StatusCounts,
} from './model.js';

const STATUS_COLOR: Record<SettingStatus, string> = {
  drift: '#c2410c',
  error: '#b91c1c',
  whatif: '#7c3aed',
  changed: '#1d4ed8',
  ok: '#15803d',
  skipped: '#6b7280',
  waived: '#0e7490',
};

/** Accepted lockout risks: a warning colour, apart from every status. */
const LOCKOUT_COLOR = '#a16207';

/** Problems first. */
const STATUS_RANK: Record<SettingStatus, number> = { drift: 0, error: 1, whatif: 2, skipped: 3, waived: 4, changed: 5, ok: 6 };
const SEVERITY_RANK: Record<Severity, number> = { high: 0, medium: 1, low: 2, unrated: 3 };

const OUTCOME_TEXT: Record<Outcome, [string, string]> = {
  compliant: ['Compliant', 'Every setting is in its desired state.'],
  converged: ['Converged', 'Every setting that drifted was changed and verified.'],
  drift: ['Drift found', 'Some settings are not in their desired state.'],
  'not-converged': ['Not converged', 'Some settings still differ after the change.'],
  'would-change': ['Changes pending', 'A what-if run: these changes were not made.'],
  partial: ['Partly applied', 'Some settings changed while others failed.'],
  error: ['Errors', 'Some settings could not be evaluated or changed.'],
};
const OUTCOME_COLOR: Record<Outcome, string> = {
  compliant: STATUS_COLOR.ok,
  converged: STATUS_COLOR.ok,
  drift: STATUS_COLOR.drift,
  'not-converged': STATUS_COLOR.drift,
  'would-change': STATUS_COLOR.whatif,
  partial: STATUS_COLOR.error,
  error: STATUS_COLOR.error,
};

/** A registry path that wraps at its separators rather than anywhere. */
function pathHtml(text: string): string {
  return html(text).replace(/\\/g, '\\<wbr>');
}

function duration(ms: number | null): string {
  if (ms === null) return '';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A long label shortened for a chart axis; registry paths keep their end, which says the most. */
function shorten(label: string, max = 32): string {
  if (label.length <= max) return label;
  return label.includes('\\') ? `…${label.slice(label.length - max + 1)}` : `${label.slice(0, max - 1)}…`;
}

function stackedBars(title: string, rows: { label: string; counts: StatusCounts }[]): string {
  const labelWidth = 230;
  const barWidth = 300;
  const rowHeight = 28;
  const width = labelWidth + barWidth + 50;
  const height = rows.length * rowHeight + 8;
  const max = Math.max(1, ...rows.map((r) => r.counts.total));
  const body = rows.map((row, i) => {
    const y = i * rowHeight + 4;
    let x = labelWidth;
    const segments = STATUSES.filter((s) => row.counts[s] > 0).map((s) => {
      const w = (row.counts[s] / max) * barWidth;
      const rect = `<rect x="${x.toFixed(1)}" y="${y + 4}" width="${Math.max(w, 1).toFixed(1)}" height="${rowHeight - 10}" fill="${STATUS_COLOR[s]}"><title>${html(`${row.label}: ${row.counts[s]} ${STATUS_LABEL[s].toLowerCase()}`)}</title></rect>`;
      x += w;
      return rect;
    });
    return [
      `<text x="${labelWidth - 8}" y="${y + rowHeight / 2 + 4}" text-anchor="end" class="axis"><title>${html(row.label)}</title>${html(shorten(row.label))}</text>`,
      ...segments,
      `<text x="${(x + 6).toFixed(1)}" y="${y + rowHeight / 2 + 4}" class="count">${row.counts.total}</text>`,
    ].join('');
  });
  return `<svg class="chart" role="img" aria-label="${html(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${body.join('')}</svg>`;
}

function charts(model: ReportModel): string {
  const severityRows = SEVERITIES.filter((s) => s !== 'unrated' || model.bySeverity.unrated.total > 0).map((s) => ({
    label: s === 'unrated' ? 'unrated (no catalog entry)' : s,
    counts: model.bySeverity[s],
  }));
  const areaRows = model.byArea.slice(0, 12).map((a) => ({ label: a.area, counts: a.counts }));
  if (model.byArea.length > 12) {
    const rest = model.byArea.slice(12);
    const counts = rest.reduce((acc, a) => {
      for (const k of Object.keys(acc) as (keyof StatusCounts)[]) acc[k] += a.counts[k];
      return acc;
    }, emptyCounts());
    areaRows.push({ label: `${rest.length} other areas`, counts });
  }
  const present = STATUSES.filter((s) => model.summary[s] > 0);
  const legend = present.map((s) => `<span class="legend-item"><span class="swatch" style="background:${STATUS_COLOR[s]}"></span>${html(STATUS_LABEL[s])}</span>`).join('');
  return `<section class="charts" aria-label="Charts">
<figure><figcaption>By severity</figcaption>${stackedBars('Settings by severity and status', severityRows)}</figure>
<figure><figcaption>By area</figcaption>${stackedBars('Settings by area and status', areaRows)}</figure>
<div class="legend">${legend}</div>
</section>`;
}

function card(label: string, value: string, color: string, note = ''): string {
  return `<div class="card" style="border-top-color:${color}"><div class="card-value">${html(value)}</div><div class="card-label">${html(label)}</div>${note ? `<div class="card-note">${html(note)}</div>` : ''}</div>`;
}

function summary(model: ReportModel): string {
  const s = model.summary;
  const compliant = s.ok + s.changed;
  const pct = s.total ? Math.round((100 * compliant) / s.total) : 100;
  const cards = [
    card('Settings', String(s.total), '#334155'),
    card('In desired state', String(compliant), STATUS_COLOR.ok, `${pct}%${s.changed ? `, ${s.changed} after changes` : ''}`),
    card('Drift', String(s.drift), STATUS_COLOR.drift),
    card('Errors', String(s.error), STATUS_COLOR.error),
  ];
  if (s.changed || model.command !== 'test') cards.push(card('Changed', String(s.changed), STATUS_COLOR.changed));
  if (s.whatif) cards.push(card('Would change', String(s.whatif), STATUS_COLOR.whatif));
  if (s.skipped) cards.push(card('Skipped', String(s.skipped), STATUS_COLOR.skipped));
  const waivers = model.settings.filter((x) => x.waiver);
  if (waivers.length) {
    const overrides = waivers.filter((x) => x.waiver!.status === 'active' && x.waiver!.override).length;
    const expired = waivers.filter((x) => x.waiver!.status === 'expired').length;
    const note = [overrides ? `${overrides} override${overrides === 1 ? '' : 's'}` : '', expired ? `${expired} expired, enforced` : ''].filter(Boolean).join(', ');
    cards.push(card('Waived', String(s.waived), STATUS_COLOR.waived, note));
  }
  const risks = model.settings.filter((x) => x.lockoutRisk);
  if (risks.length) {
    const found = risks.filter((x) => x.lockoutRisk!.findings.length).length;
    cards.push(card('Lockout risks accepted', String(risks.length), LOCKOUT_COLOR, found ? `${found} found by the lockout guard in this run` : 'declared; no lockout guard found one in this run'));
  }
  return `<section class="cards" aria-label="Summary">${cards.join('')}</section>`;
}

function stateCell(view: ReportSetting['desired'], highlight: boolean, kind: ReportSetting['kind']): string {
  if (!view) return '<span class="muted">unknown</span>';
  const words = stateText(view, kind);
  const raw = rawStateText(view, kind);
  const sub = view.policyValue !== undefined && raw ? `<div class="raw">${html(raw)}</div>` : '';
  return `<code class="${highlight ? 'diff' : ''}">${html(words)}</code>${sub}`;
}

function referencesCell(s: ReportSetting): string {
  const chips = [
    ...s.references.stig.map((id) => ['STIG', id]),
    ...s.references.cis.map((id) => ['CIS', id]),
    ...s.references.cce.map((id) => ['CCE', id.replace(/^CCE-/, '')]),
  ];
  if (chips.length === 0) return '<span class="muted">none</span>';
  return chips.map(([kind, id]) => `<span class="chip"><b>${html(kind)}</b> ${html(id)}</span>`).join(' ');
}

/** The waiver on a row: its state, expiry, approver and justification, and an override's baseline value. */
function waiverHtml(s: ReportSetting): string {
  const w = s.waiver;
  if (!w) return '';
  const head = w.status === 'expired' ? `Waiver expired ${w.expires}: enforced again` : w.override ? `Waiver override until ${w.expires}` : `Waived until ${w.expires}`;
  const baseline = w.override && w.status === 'active' ? `<div>Baseline wants ${stateCell(w.baseline, false, s.kind)}; enforced instead ${stateCell(s.desired, false, s.kind)}</div>` : '';
  return `<div class="waiver waiver-${w.status}"><b>${html(head)}</b>${w.approvedBy ? ` · approved by ${html(w.approvedBy)}` : ''}<div class="justification">${html(w.justification)}</div>${baseline}</div>`;
}

/** An accepted lockout risk on a row: the document's reason and what the lockout guard found. */
function lockoutRiskHtml(s: ReportSetting): string {
  const risk = s.lockoutRisk;
  if (!risk) return '';
  const found = risk.findings.map((f) => `<div>${html(f.message)}</div>`).join('');
  return `<div class="lockout"><b>Lockout risk accepted</b><div class="justification">${html(risk.reason)}</div>${found}</div>`;
}

function settingRow(s: ReportSetting): string {
  const problem = s.status === 'drift' || s.status === 'whatif';
  const actual = s.status === 'error' ? `<div class="error-text">${html(s.error ?? 'failed')}</div>${s.actual ? stateCell(s.actual, false, s.kind) : ''}` : stateCell(s.actual, problem, s.kind);
  const sub = [
    s.title && s.title !== s.name ? `<div class="sub">${html(s.title)}</div>` : '',
    `<div class="sub target"><code>${pathHtml(s.target)}</code></div>`,
    s.source ? `<div class="sub muted">${html(s.type)}${s.id ? ` · ${html(s.id)}` : ''} · line ${s.source.line}</div>` : '',
    s.restartRequired ? '<div class="sub muted">takes effect after a restart</div>' : '',
    waiverHtml(s),
    lockoutRiskHtml(s),
  ].join('');
  const rationale = s.rationale
    ? `<div class="rationale" title="${html(s.rationale)}">${html(s.rationale)}</div>${s.impact ? `<div class="sub muted">Impact: ${html(s.impact)}</div>` : ''}`
    : '<span class="muted">no catalog entry</span>';
  return `<tr data-status="${s.status}" data-severity="${s.severity}" data-index="${s.index}">
<td data-sort="${STATUS_RANK[s.status]}"><span class="badge" style="background:${STATUS_COLOR[s.status]}">${html(STATUS_LABEL[s.status])}</span></td>
<td data-sort="${html(s.name.toLowerCase())}"><div class="name">${html(s.name)}</div>${sub}</td>
<td data-sort="${SEVERITY_RANK[s.severity]}"><span class="sev sev-${s.severity}">${html(s.severity)}</span></td>
<td class="area">${pathHtml(s.area)}</td>
<td>${s.status === 'waived' && s.waiver?.baseline ? stateCell(s.waiver.baseline, false, s.kind) : stateCell(s.desired, false, s.kind)}</td>
<td>${actual}</td>
<td>${rationale}</td>
<td><div class="refs">${referencesCell(s)}</div></td>
</tr>`;
}

function settingsTable(model: ReportModel): string {
  const rows = [...model.settings].sort((a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status] || a.index - b.index);
  const statusOptions = STATUSES.filter((s) => model.summary[s] > 0)
    .map((s) => `<option value="${s}">${html(STATUS_LABEL[s])} (${model.summary[s]})</option>`)
    .join('');
  const severityOptions = SEVERITIES.filter((s) => model.bySeverity[s].total > 0)
    .map((s) => `<option value="${s}">${html(s)} (${model.bySeverity[s].total})</option>`)
    .join('');
  const header = (label: string, key: string, type: 'text' | 'number', sort = 'none') =>
    `<th scope="col" data-key="${key}" data-type="${type}" aria-sort="${sort}"><button type="button">${html(label)}<span class="arrow" aria-hidden="true"></span></button></th>`;
  return `<section class="settings" aria-label="Settings">
<h2>Settings</h2>
<div class="controls">
<label class="search"><span class="visually-hidden">Filter settings</span><input id="filter" type="search" placeholder="Filter: name, setting, value, reference…" autocomplete="off"></label>
<label>Status <select id="status-filter"><option value="">All</option>${statusOptions}</select></label>
<label>Severity <select id="severity-filter"><option value="">All</option>${severityOptions}</select></label>
<span id="count" role="status" aria-live="polite">${model.settings.length} of ${counted(model.settings.length, 'setting')} shown</span>
</div>
<div class="table-wrap">
<table id="settings">
<thead><tr>${header('Status', 'status', 'number', 'ascending')}${header('Setting', 'name', 'text')}${header('Severity', 'severity', 'number')}${header('Area', 'area', 'text')}${header('Expected', 'expected', 'text')}${header('Actual', 'actual', 'text')}<th scope="col">Rationale</th><th scope="col">References</th></tr></thead>
<tbody>
${rows.map(settingRow).join('\n')}
</tbody>
</table>
<p id="no-match" class="muted" hidden>No setting matches the filter.</p>
</div>
</section>`;
}

function changesSection(model: ReportModel): string {
  if (model.command === 'test') return '';
  const whatIf = model.whatIf;
  const title = whatIf ? 'Changes this run would make (what-if: nothing was changed)' : 'Changes made';
  if (model.changes.length === 0) {
    return `<section class="changes" aria-label="Changes"><h2>${html(title)}</h2><p class="muted">Nothing ${whatIf ? 'would change' : 'was changed'}: every setting was already in its desired state${model.summary.error ? ' or failed' : ''}.</p></section>`;
  }
  const rows = model.changes.map((c) => `<tr><td><div class="name">${html(c.name)}</div><div class="sub target"><code>${pathHtml(c.target)}</code></div></td><td>${stateCell(c.before, false, c.kind)}</td><td class="arrow-cell" aria-hidden="true">→</td><td>${stateCell(c.after, false, c.kind)}</td><td><span class="badge" style="background:${STATUS_COLOR[c.status]}">${html(STATUS_LABEL[c.status])}</span></td></tr>`);
  return `<section class="changes" aria-label="Changes"><h2>${html(title)}</h2>
<div class="table-wrap"><table class="changes-table"><thead><tr><th scope="col">Setting</th><th scope="col">Before</th><th></th><th scope="col">After</th><th scope="col">Result</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div></section>`;
}

const STYLE = `
:root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1440px;margin:0 auto;padding:24px}
header h1{margin:0 0 4px;font-size:24px;display:flex;flex-wrap:wrap;align-items:center;gap:12px}
.verdict{font-size:13px;font-weight:600;color:#fff;border-radius:999px;padding:3px 12px}
.meta{color:var(--muted);margin:4px 0}
.meta span+span:before{content:"·";margin:0 8px;color:#cbd5e1}
.desc{margin:8px 0 0}
h2{font-size:18px;margin:28px 0 10px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px;margin-top:20px}
.card{background:var(--card);border:1px solid var(--line);border-top:4px solid;border-radius:8px;padding:12px 14px}
.card-value{font-size:28px;font-weight:700}
.card-label{color:var(--muted)}
.card-note{font-size:12px;color:var(--muted)}
.charts{display:flex;flex-wrap:wrap;gap:16px;margin-top:20px}
.charts figure{margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px;flex:1 1 520px;overflow-x:auto}
.charts figcaption{font-weight:600;margin-bottom:6px}
.chart .axis{font-size:12px;fill:#334155}
.chart .count{font-size:12px;fill:#334155;font-weight:600}
.legend{flex-basis:100%;display:flex;flex-wrap:wrap;gap:14px;color:var(--muted)}
.legend-item{display:inline-flex;align-items:center;gap:6px}
.swatch{width:12px;height:12px;border-radius:3px;display:inline-block}
.controls{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin-bottom:10px}
.controls input{width:340px;max-width:100%;padding:7px 10px;border:1px solid #cbd5e1;border-radius:6px;font:inherit}
.controls select{padding:6px 8px;border:1px solid #cbd5e1;border-radius:6px;font:inherit;background:#fff}
#count{color:var(--muted);margin-left:auto}
.table-wrap{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:9px 8px;border-bottom:1px solid var(--line)}
thead th{background:#f1f5f9;font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#475569;position:sticky;top:0;white-space:nowrap}
th button{all:unset;cursor:pointer;display:inline-flex;gap:4px;align-items:center}
th button:focus-visible{outline:2px solid #2563eb;outline-offset:2px}
th[aria-sort=ascending] .arrow:after{content:"▲"}
th[aria-sort=descending] .arrow:after{content:"▼"}
th[aria-sort=none] .arrow:after{content:"↕";color:#94a3b8}
tbody tr:hover{background:#f8fafc}
tr[hidden]{display:none}
.badge{display:inline-block;color:#fff;border-radius:4px;padding:2px 8px;font-size:12px;font-weight:600;white-space:nowrap}
.name{font-weight:600;overflow-wrap:anywhere;min-width:190px}
.sub{font-size:12px;color:#334155;overflow-wrap:anywhere}
.target code{font-size:11px;color:var(--muted)}
.muted{color:var(--muted)}
.waiver{margin-top:4px;padding:4px 6px;border-left:3px solid #0e7490;font-size:12px}
.waiver-expired{border-left-color:#c2410c}
.lockout{margin-top:4px;padding:4px 6px;border-left:3px solid #a16207;font-size:12px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;overflow-wrap:break-word}
code.diff{background:#fff7ed;color:#9a3412;border-radius:3px;padding:0 3px}
.raw{font-size:11px;color:var(--muted);font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.rationale{font-size:12.5px;min-width:210px;max-width:340px;display:-webkit-box;-webkit-line-clamp:4;-webkit-box-orient:vertical;overflow:hidden}
.sev{font-size:12px;font-weight:600;text-transform:capitalize}
.sev-high{color:#b91c1c}.sev-medium{color:#c2410c}.sev-low{color:#a16207}.sev-unrated{color:var(--muted)}
.area{font-size:12.5px;max-width:150px;overflow-wrap:break-word}
.refs{min-width:160px;max-width:230px}
.chip{display:inline-block;font-size:11px;border:1px solid var(--line);border-radius:4px;padding:1px 5px;margin:1px 0;white-space:nowrap;background:#f8fafc}
.error-text{color:#b91c1c;font-size:12.5px;overflow-wrap:anywhere}
.arrow-cell{color:var(--muted);font-size:16px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
footer{color:var(--muted);font-size:12px;margin-top:28px}
@media print{.controls{display:none}body{background:#fff}thead th{position:static}}
`;

/** Sorting and filtering; plain DOM code, no libraries. */
const SCRIPT = `
(function () {
  var table = document.getElementById('settings');
  if (!table) return;
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var text = document.getElementById('filter');
  var status = document.getElementById('status-filter');
  var severity = document.getElementById('severity-filter');
  var count = document.getElementById('count');
  var none = document.getElementById('no-match');
  var haystack = rows.map(function (r) { return r.textContent.toLowerCase(); });
  function filter() {
    var words = text.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row, i) {
      var ok = (!status.value || row.getAttribute('data-status') === status.value) &&
        (!severity.value || row.getAttribute('data-severity') === severity.value) &&
        words.every(function (w) { return haystack[i].indexOf(w) >= 0; });
      row.hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = shown + ' of ' + rows.length + (rows.length === 1 ? ' setting shown' : ' settings shown');
    none.hidden = shown > 0;
  }
  text.addEventListener('input', filter);
  status.addEventListener('change', filter);
  severity.addEventListener('change', filter);
  var headers = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(headers, function (th, column) {
    var button = th.querySelector('button');
    if (!button) return;
    button.addEventListener('click', function () {
      var direction = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
      Array.prototype.forEach.call(headers, function (h) { if (h.hasAttribute('aria-sort')) h.setAttribute('aria-sort', 'none'); });
      th.setAttribute('aria-sort', direction);
      var numeric = th.getAttribute('data-type') === 'number';
      function key(row) {
        var cell = row.cells[column];
        var value = cell.getAttribute('data-sort');
        return value !== null ? value : cell.textContent.trim().toLowerCase();
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var c = numeric ? Number(x) - Number(y) : x.localeCompare(y);
        if (c === 0) c = Number(a.getAttribute('data-index')) - Number(b.getAttribute('data-index'));
        return direction === 'ascending' ? c : -c;
      });
      rows.forEach(function (row) { tbody.appendChild(row); });
    });
  });
})();
`;

export function renderHtml(model: ReportModel): string {
  const [verdict, verdictText] = OUTCOME_TEXT[model.outcome];
  const target = model.target.kind === 'live' ? `live settings of ${model.host.hostname}` : `snapshot ${snapshotFiles(model)}`;
  const meta = [
    `${model.command}${model.whatIf ? ' --what-if' : ''}`,
    target,
    `host ${model.host.hostname}`,
    new Date(model.startedAt).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'),
    duration(model.durationMs),
    `winstate ${model.version}`,
    model.host.psVersion ? `PowerShell ${model.host.psVersion} ${model.host.psEdition ?? ''}`.trim() : '',
  ].filter(Boolean);
  const timings = (['test', 'set', 'verify'] as const)
    .filter((k) => model.timings[k] !== null)
    .map((k) => `${k} ${duration(model.timings[k])}`)
    .join(', ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="winstate ${html(model.version)}">
<title>${html(`winstate: ${model.document.name} — ${verdict}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>${html(model.document.name)} <span class="verdict" style="background:${OUTCOME_COLOR[model.outcome]}">${html(verdict)}</span></h1>
<p class="meta">${meta.map((m) => `<span>${html(m)}</span>`).join('')}</p>
<p class="desc">${html(verdictText)} ${html(`${counted(model.summary.total, 'setting')} from ${model.document.file}.`)}${model.document.description ? ` ${html(model.document.description)}` : ''}</p>
</header>
${summary(model)}
${charts(model)}
${changesSection(model)}
${settingsTable(model)}
<footer>Generated by winstate ${html(model.version)} at ${html(model.finishedAt)}${timings ? ` (PowerShell time: ${html(timings)})` : ''}; exit code ${model.exitCode}. This page loads nothing from the network; the full result is embedded as JSON (script#winstate-report).</footer>
</main>
<script type="application/json" id="winstate-report">${jsonForScript(model)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
