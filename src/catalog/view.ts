import type { Catalog, CatalogEntry } from './catalog.js';

/**
 * The published machine-readable shape of a catalog entry (`winstate catalog list --json`):
 * other tools read it, so fields are only ever added.
 */
export interface CatalogEntryView {
  id: string;
  kind: string;
  title: string;
  gpoPath: string;
  area: string | null;
  registry: { key: string; valueName: string; valueType: string };
  /** The recommended setting: its choice name (if any), registry data, and what test accepts. */
  desired: { choice: string | null; valueData: unknown; condition?: Record<string, unknown>; absentOk?: boolean; text?: string };
  choices: { name: string; valueData: unknown; meaning: string }[];
  /** The value is the organisation's own (banner text, SDDL): desired is then null data. */
  siteDefined: boolean;
  default: string | null;
  severity: string;
  scope: string[];
  platforms: string[];
  rationale: string;
  impact: string;
  references: { stig: string[]; cis: string[]; microsoft: string[]; oval: string[]; cce: string[] };
  /** What each shipped baseline (every shipped version) that sets this entry wants: its reference, level, roles and value. */
  baselines: { baseline: string; version: string; ref: string; level: string | null; scope: string[]; setting: string | null; value: string | number | string[]; condition?: Record<string, unknown>; absentOk?: boolean }[];
}

export function catalogEntryView(entry: CatalogEntry, catalog?: Catalog): CatalogEntryView {
  const choices = entry.choices ?? [];
  const named = typeof entry.recommended === 'string' ? choices.find((c) => c.name === entry.recommended) : undefined;
  const data = typeof entry.recommended === 'object' ? entry.recommended : undefined;
  return {
    id: entry.id,
    kind: entry.kind,
    title: entry.title,
    gpoPath: entry.gpoPath,
    area: entry.area ?? null,
    registry: { ...entry.registry! },
    desired: data
      ? { choice: null, valueData: data.valueData, ...(data.condition ? { condition: data.condition } : {}), ...(data.absentOk ? { absentOk: true } : {}), ...(data.text ? { text: data.text } : {}) }
      : { choice: named?.name ?? null, valueData: named?.data ?? null },
    choices: choices.map((c) => ({ name: c.name, valueData: c.data, meaning: c.meaning })),
    siteDefined: entry.siteDefined === true,
    default: entry.default ?? null,
    severity: entry.severity,
    scope: [...entry.scope],
    platforms: [...entry.platforms],
    rationale: entry.rationale,
    impact: entry.impact,
    references: {
      stig: [...(entry.references.stig ?? [])],
      cis: [...(entry.references.cis ?? [])],
      microsoft: [...(entry.references.microsoft ?? [])],
      oval: [...(entry.references.oval ?? [])],
      cce: [...(entry.references.cce ?? [])],
    },
    baselines: (catalog?.baselineSettings(entry) ?? []).map(({ baseline, setting }) => ({
      baseline: baseline.id,
      version: baseline.version,
      ref: setting.ref,
      level: setting.level ?? null,
      scope: [...setting.scope],
      setting: setting.setting ?? null,
      value: setting.value,
      ...(setting.condition ? { condition: setting.condition } : {}),
      ...(setting.absentOk ? { absentOk: true } : {}),
    })),
  };
}

/** A rule page for people, the way a SCAP rule page reads. */
export function renderCatalogEntry(entry: CatalogEntry, catalog?: Catalog): string {
  const v = catalogEntryView(entry, catalog);
  const refs = [
    v.references.stig.length ? `STIG ${v.references.stig.join(', ')}` : '',
    v.references.cis.length ? `CIS ${v.references.cis.join(', ')}` : '',
    v.references.microsoft.length ? `Microsoft baseline ${v.references.microsoft.join(', ')}` : '',
    v.references.cce.length ? v.references.cce.join(', ') : '',
    v.references.oval.length ? `OVAL ${v.references.oval.join(', ')}` : '',
  ].filter(Boolean);
  return [
    `${v.title}`,
    `  id:          ${v.id} (${v.kind})`,
    `  GPO path:    ${v.gpoPath}`,
    `  registry:    ${v.registry.key}!${v.registry.valueName} (${v.registry.valueType})`,
    v.siteDefined
      ? '  recommended: none, the value is site-defined'
      : `  recommended: ${v.desired.choice ?? v.desired.text ?? '-'} (${JSON.stringify(v.desired.valueData)}${v.desired.condition ? `; accepts ${JSON.stringify(v.desired.condition)}` : ''}${v.desired.absentOk ? '; absent is fine' : ''})`,
    `  default:     ${v.default ?? 'unknown'}`,
    `  choices:`,
    ...v.choices.map((c) => `    ${c.name} = ${JSON.stringify(c.valueData)}: ${c.meaning}`),
    `  severity:    ${v.severity}; scope: ${v.scope.join(', ')}; platforms: ${v.platforms.join(', ')}`,
    `  rationale:   ${v.rationale}`,
    `  impact:      ${v.impact}`,
    `  references:  ${refs.join('; ') || '-'}`,
    ...(v.baselines.length ? ['  baselines:'] : []),
    ...v.baselines.map(
      (b) =>
        `    ${b.baseline} ${b.version} ${b.ref}${b.level ? ` (${b.level})` : ''} [${b.scope.join(', ')}]: ${b.setting ?? JSON.stringify(b.value)}` +
        `${b.condition ? `; accepts ${JSON.stringify(b.condition)}` : ''}${b.absentOk ? '; absent is fine' : ''}`,
    ),
  ].join('\n');
}
