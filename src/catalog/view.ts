import type { CatalogEntry } from './catalog.js';

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
  default: string | null;
  severity: string;
  scope: string[];
  platforms: string[];
  rationale: string;
  impact: string;
  references: { stig: string[]; cis: string[]; oval: string[]; cce: string[] };
}

export function catalogEntryView(entry: CatalogEntry): CatalogEntryView {
  const choices = entry.choices ?? [];
  const named = typeof entry.recommended === 'string' ? choices.find((c) => c.name === entry.recommended) : undefined;
  const data = typeof entry.recommended === 'object' ? entry.recommended : undefined;
  return {
    id: entry.id,
    kind: entry.kind,
    title: entry.title,
    gpoPath: entry.gpoPath,
    area: entry.area ?? null,
    registry: { ...entry.registry },
    desired: data
      ? { choice: null, valueData: data.valueData, ...(data.condition ? { condition: data.condition } : {}), ...(data.absentOk ? { absentOk: true } : {}), ...(data.text ? { text: data.text } : {}) }
      : { choice: named?.name ?? null, valueData: named?.data ?? null },
    choices: choices.map((c) => ({ name: c.name, valueData: c.data, meaning: c.meaning })),
    default: entry.default ?? null,
    severity: entry.severity,
    scope: [...entry.scope],
    platforms: [...entry.platforms],
    rationale: entry.rationale,
    impact: entry.impact,
    references: {
      stig: [...(entry.references.stig ?? [])],
      cis: [...(entry.references.cis ?? [])],
      oval: [...(entry.references.oval ?? [])],
      cce: [...(entry.references.cce ?? [])],
    },
  };
}

/** A rule page for people, the way a SCAP rule page reads. */
export function renderCatalogEntry(entry: CatalogEntry): string {
  const v = catalogEntryView(entry);
  const refs = [
    v.references.stig.length ? `STIG ${v.references.stig.join(', ')}` : '',
    v.references.cis.length ? `CIS ${v.references.cis.join(', ')}` : '',
    v.references.cce.length ? v.references.cce.join(', ') : '',
    v.references.oval.length ? `OVAL ${v.references.oval.join(', ')}` : '',
  ].filter(Boolean);
  return [
    `${v.title}`,
    `  id:          ${v.id} (${v.kind})`,
    `  GPO path:    ${v.gpoPath}`,
    `  registry:    ${v.registry.key}!${v.registry.valueName} (${v.registry.valueType})`,
    `  recommended: ${v.desired.choice ?? v.desired.text ?? '-'} (${JSON.stringify(v.desired.valueData)}${v.desired.condition ? `; accepts ${JSON.stringify(v.desired.condition)}` : ''}${v.desired.absentOk ? '; absent is fine' : ''})`,
    `  default:     ${v.default ?? 'unknown'}`,
    `  choices:`,
    ...v.choices.map((c) => `    ${c.name} = ${JSON.stringify(c.valueData)}: ${c.meaning}`),
    `  severity:    ${v.severity}; scope: ${v.scope.join(', ')}; platforms: ${v.platforms.join(', ')}`,
    `  rationale:   ${v.rationale}`,
    `  impact:      ${v.impact}`,
    `  references:  ${refs.join('; ') || '-'}`,
  ].join('\n');
}
