import type { CatalogEntry, RecommendedKindValue } from '../../catalog/catalog.js';
import type { KindBackupEntry, KindUnit, KindView, ResolveContext, ResolvedResource, ResourceKind, RollbackResource } from '../kind.js';
import { closestWord } from '../../suggest.js';
import { findAuditSubcategory, tables, type AuditSubcategory } from '../tables.js';

/** An AuditPolicy resource's resolved form: the GUID is what is compared (auditpol's names are localized). */
export interface AuditSpec {
  guid: string;
  subcategory: string;
  ensure: 'Present' | 'Absent';
  /** Undefined: either is fine ("must include Failure" states only failure). */
  success?: boolean;
  failure?: boolean;
}

const GUID = /^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$/;
const onOff = { enum: ['enabled', 'disabled'] };

export const auditPolicyKind: ResourceKind = {
  type: 'AuditPolicy',
  description: 'An advanced audit policy subcategory, by its English name, GPO title or GUID, with success and failure auditing enabled or disabled.',
  overrideKeys: ['success', 'failure'],
  keptUnderOverride(properties) {
    // An override states the whole setting.
    const kept = { ...properties };
    delete kept.success;
    delete kept.failure;
    return kept;
  },
  propertiesSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['subcategory'],
    properties: {
      subcategory: { type: 'string', minLength: 1, description: "English name (Credential Validation), GPO title (Audit Credential Validation) or GUID ('{0CCE923F-69AE-11D9-BED3-505054503030}')." },
      success: { ...onOff, description: 'Audit successes: enabled or disabled; omitted = either.' },
      failure: { ...onOff, description: 'Audit failures: enabled or disabled; omitted = either.' },
      ensure: { enum: ['Present', 'Absent'], default: 'Present', description: 'Absent (offline only): the subcategory has no row in the audit backup.' },
    },
  },
  resolve(props, ctx) {
    const sub = findSubcategory(props.subcategory as string, ctx);
    if (!sub) return undefined;
    const ensure = (props.ensure as AuditSpec['ensure'] | undefined) ?? 'Present';
    const spec: AuditSpec = { guid: sub.guid.toUpperCase(), subcategory: sub.name, ensure };
    if (ensure === 'Absent') {
      const extra = (['success', 'failure'] as const).find((k) => k in props);
      if (extra) {
        ctx.error([extra], 'invalid-value', `ensure: Absent takes no ${extra}`);
        return undefined;
      }
      return auditResource(spec);
    }
    if (!('success' in props) && !('failure' in props)) {
      ctx.error([], 'invalid-value', 'give success and/or failure (enabled or disabled)');
      return undefined;
    }
    if ('success' in props) spec.success = props.success === 'enabled';
    if ('failure' in props) spec.failure = props.failure === 'enabled';
    return auditResource(spec);
  },
};

function auditResource(spec: AuditSpec, extra: Pick<ResolvedResource, 'policy' | 'entry'> = {}): ResolvedResource<AuditSpec> {
  return { kind: 'AuditPolicy', identity: `audit:${spec.guid.toLowerCase()}`, target: `Audit ${spec.guid} (${spec.subcategory})`, spec, ...extra };
}

function findSubcategory(given: string, ctx: ResolveContext): AuditSubcategory | undefined {
  const found = findAuditSubcategory(given);
  if (found) return found;
  const text = given.trim();
  if ((text.startsWith('{') || /^[0-9a-fA-F]{8}-/.test(text)) && !GUID.test(text)) {
    ctx.error(['subcategory'], 'invalid-value', `'${given}' is not a GUID ({xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx})`);
    return undefined;
  }
  if (GUID.test(text)) {
    ctx.error(['subcategory'], 'invalid-value', `${text} is not an advanced audit subcategory GUID`);
    return undefined;
  }
  const subs = tables().audit.subcategories;
  const hint = closestWord(text, [...subs.map((s) => s.name), ...subs.map((s) => s.gpoTitle)]);
  ctx.error(['subcategory'], 'invalid-value', `unknown audit subcategory '${given}'${hint ? `; did you mean '${hint}'?` : ''}`);
  return undefined;
}

/** auditpol's words for a success/failure pair. */
export function auditSetting(success: boolean, failure: boolean): string {
  return tables().audit.settingValues.find((v) => v.success === success && v.failure === failure)!.inclusion;
}

/** An audit view in words (Format-WsAuditPolicyStateText). */
export function auditStateText(view: KindView): string {
  if (view.ensure === 'Absent') return 'not defined';
  if (typeof view.setting === 'string') return view.setting;
  const s = view.success as boolean | undefined;
  const f = view.failure as boolean | undefined;
  if (s !== undefined && f !== undefined) return auditSetting(s, f);
  const parts: string[] = [];
  if (s !== undefined) parts.push(`${s ? 'includes' : 'excludes'} Success`);
  if (f !== undefined) parts.push(`${f ? 'includes' : 'excludes'} Failure`);
  return parts.join('; ') || 'any setting';
}

/** Catalog values: Success, Failure, Success and Failure, No Auditing (exact), or recommended. */
function resolveEntry(entry: CatalogEntry, props: Record<string, unknown>, ctx: ResolveContext): ResolvedResource<AuditSpec> | undefined {
  const storage = entry.storage as { guid: string; subcategory: string };
  const value = props.value;
  const base = { guid: storage.guid.toUpperCase(), subcategory: storage.subcategory, ensure: 'Present' as const };
  const policy = (label: string) => ({ title: entry.title, value: label, choices: [] });
  if ('condition' in props || 'absentOk' in props) {
    ctx.error(['condition' in props ? 'condition' : 'absentOk'], 'invalid-value', `"${entry.title}" is an audit subcategory: its value is Success, Failure, Success and Failure or No Auditing`);
    return undefined;
  }
  const wanted = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (wanted === 'recommended') {
    const r = entry.recommended as RecommendedKindValue | undefined;
    if (!r || typeof r !== 'object') {
      ctx.error(['value'], 'invalid-value', `"${entry.title}" has no recommended value in the catalog`);
      return undefined;
    }
    const spec: AuditSpec = { ...base };
    if (r.success) spec.success = r.success === 'enabled';
    if (r.failure) spec.failure = r.failure === 'enabled';
    return auditResource(spec, { policy: policy(r.text ?? auditStateText({ ...spec, ensure: undefined })), entry });
  }
  const setting = tables().audit.settingValues.find((v) => v.inclusion.toLowerCase() === wanted);
  if (!setting) {
    ctx.error(['value'], 'invalid-value', `"${String(value)}" is not a value of "${entry.title}": use Success, Failure, Success and Failure, No Auditing${entry.recommended !== undefined ? ' or recommended' : ''}`);
    return undefined;
  }
  return auditResource({ ...base, success: setting.success, failure: setting.failure }, { policy: policy(setting.inclusion), entry });
}

export const auditPolicyUnit: KindUnit<AuditSpec> = {
  kind: 'AuditPolicy',
  store: 'AuditBackup',
  documentTypes: [auditPolicyKind],
  resolveEntry,
  sameDesired: (a, b) => a.ensure === b.ensure && a.success === b.success && a.failure === b.failure,
  wantsPresent: (spec) => spec.ensure === 'Present',
  row(r) {
    return { Guid: r.spec.guid, Subcategory: r.spec.subcategory, ...this.desiredColumns(r.spec, r.policy) };
  },
  desiredColumns(spec) {
    const word = (b: boolean | undefined) => (b === undefined ? null : b ? 'enabled' : 'disabled');
    return { Ensure: spec.ensure, Success: word(spec.success), Failure: word(spec.failure) };
  },
  commentLines(r) {
    return [`Audit:      ${r.spec.subcategory} ${r.spec.guid} = ${auditStateText(this.desiredView(r.spec, undefined))}`];
  },
  desiredView(spec) {
    if (spec.ensure === 'Absent') return { ensure: 'Absent' };
    const view: KindView = {};
    if (spec.success !== undefined) view.success = spec.success;
    if (spec.failure !== undefined) view.failure = spec.failure;
    return view;
  },
  area: () => 'Advanced Audit Policy',
  stateText: auditStateText,
  rollbackResources(entries: KindBackupEntry[]) {
    const resources: RollbackResource[] = [];
    const unsupported: string[] = [];
    for (const e of entries) {
      const guid = String(e.guid);
      const value = e.value as number | null;
      if (!GUID.test(guid)) {
        unsupported.push(`${e.target}: '${guid}' is not a GUID`);
        continue;
      }
      if (value === null) {
        if (e.live) unsupported.push(`${e.target}: had no row before, and a live subcategory cannot be removed`);
        else resources.push({ name: `remove ${e.target} again`, type: 'AuditPolicy', properties: { subcategory: guid, ensure: 'Absent' }, restores: e.resource });
        continue;
      }
      const setting = tables().audit.settingValues.find((v) => v.value === value);
      if (!setting) {
        unsupported.push(`${e.target}: setting value ${String(value)} is not 0..3`);
        continue;
      }
      if (!findAuditSubcategory(guid)) {
        unsupported.push(`${e.target}: ${guid} is not a subcategory winstate knows`);
        continue;
      }
      const word = (b: boolean) => (b ? 'enabled' : 'disabled');
      resources.push({ name: `restore ${e.target}`, type: 'AuditPolicy', properties: { subcategory: guid, success: word(setting.success), failure: word(setting.failure) }, restores: e.resource });
    }
    return { resources, unsupported };
  },
};
