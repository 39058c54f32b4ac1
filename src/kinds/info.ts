import type { CatalogEntry } from '../catalog/catalog.js';

/** What a document may say about a resource itself (imported STIG rules carry their ids here). */
export interface ResourceMetadata {
  title?: string;
  severity?: 'low' | 'medium' | 'high';
  area?: string;
  gpoPath?: string;
  rationale?: string;
  impact?: string;
  scope?: ('MS' | 'DC')[];
  references?: { stig?: string[]; cis?: string[]; cce?: string[]; oval?: string[] };
}

export const resourceMetadataSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Facts about the setting for reports and generated comments; a catalog entry, when the resource has one, takes precedence.',
  properties: {
    title: { type: 'string' },
    severity: { enum: ['low', 'medium', 'high'] },
    area: { type: 'string' },
    gpoPath: { type: 'string' },
    rationale: { type: 'string' },
    impact: { type: 'string' },
    scope: { type: 'array', items: { enum: ['MS', 'DC'] } },
    references: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(['stig', 'cis', 'cce', 'oval'].map((k) => [k, { type: 'array', items: { type: 'string' } }])),
    },
  },
} as const;

/** Everything known about a setting: its catalog entry first, then the document's own metadata (references: the document's first). */
export interface SettingInfo extends Omit<ResourceMetadata, 'scope' | 'references'> {
  id?: string;
  recommended?: string;
  references: { stig: string[]; cis: string[]; cce: string[]; oval: string[] };
}

export function settingInfo(resource: { entry?: CatalogEntry; metadata?: ResourceMetadata } | undefined): SettingInfo {
  const entry = resource?.entry;
  const meta = resource?.metadata;
  // The document's own references are the specific ones (a CIS document cites the recommendation it
  // implements); the catalog's list every baseline that names the setting.
  const refs = (k: 'stig' | 'cis' | 'cce' | 'oval') => [...(meta?.references?.[k] ?? entry?.references[k] ?? [])];
  return {
    id: entry?.id,
    title: entry?.title ?? meta?.title,
    severity: entry?.severity ?? meta?.severity,
    area: entry?.area ?? meta?.area,
    gpoPath: entry?.gpoPath ?? meta?.gpoPath,
    rationale: entry?.rationale ?? meta?.rationale,
    impact: entry?.impact ?? meta?.impact,
    recommended: typeof entry?.recommended === 'object' ? (entry.recommended.text ?? JSON.stringify(entry.recommended.valueData)) : entry?.recommended,
    references: { stig: refs('stig'), cis: refs('cis'), cce: refs('cce'), oval: refs('oval') },
  };
}
