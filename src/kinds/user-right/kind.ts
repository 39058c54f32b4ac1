import type { CatalogEntry, RecommendedKindValue } from '../../catalog/catalog.js';
import type { KindBackupEntry, KindUnit, KindView, ResolveContext, ResolvedResource, ResourceKind } from '../kind.js';
import { closestWord } from '../../suggest.js';
import { findUserRight, tables } from '../tables.js';
import { canonicalSid, normalisePrincipalList, type Principal } from './principal.js';

/** A UserRight resource's resolved form: principals in the form the runtime compares. */
export interface UserRightSpec {
  right: string;
  ensure: 'Present' | 'Absent';
  principals?: string[];
  mustInclude?: string[];
  mustExclude?: string[];
  allowLockout?: boolean;
}

const principalList = (description: string) => ({ type: 'array', items: { type: 'string', minLength: 1 }, description });

export const userRightKind: ResourceKind = {
  type: 'UserRight',
  description: 'A user right (privilege or logon right, User Rights Assignment) and who holds it: exactly these principals, or at least/at most.',
  overrideKeys: ['principals', 'mustInclude', 'mustExclude'],
  keptUnderOverride(properties, override) {
    // One way of stating the holders replaces the other.
    const kept = { ...properties };
    for (const k of ['principals', 'mustInclude', 'mustExclude']) if (k in override) { delete kept.principals; delete kept.mustInclude; delete kept.mustExclude; }
    return kept;
  },
  propertiesSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['right'],
    properties: {
      right: { type: 'string', minLength: 1, description: 'The constant (SeDenyNetworkLogonRight) or its title ("Deny access to this computer from the network").' },
      principals: principalList("Exactly these holders: SIDs ('*S-1-5-32-546') or well-known names (Guests, Local account, NT AUTHORITY\\Authenticated Users); [] = no one."),
      mustInclude: principalList('Holders the right must have (others may hold it too).'),
      mustExclude: principalList('Holders the right must not have.'),
      allowLockout: { type: 'boolean', description: 'Lets set add or remove principals that the lockout guard refuses on a live target (those the running account is or belongs to).' },
      ensure: { enum: ['Present', 'Absent'], default: 'Present', description: 'Absent (only with right): the right is not defined in the template.' },
    },
  },
  resolve(props, ctx) {
    const right = findRight(props.right as string, ['right'], ctx);
    if (!right) return undefined;
    const ensure = (props.ensure as UserRightSpec['ensure'] | undefined) ?? 'Present';
    const stated = (['principals', 'mustInclude', 'mustExclude'] as const).filter((k) => k in props);
    if (ensure === 'Absent') {
      const extra = [...stated, ...('allowLockout' in props ? ['allowLockout'] : [])][0];
      if (extra) {
        ctx.error([extra], 'invalid-value', `ensure: Absent takes only right, not ${extra}`);
        return undefined;
      }
      return userRightResource({ right, ensure });
    }
    if (stated.length === 0) {
      ctx.error([], 'invalid-value', 'give principals (exactly these holders) or mustInclude/mustExclude');
      return undefined;
    }
    if ('principals' in props && stated.length > 1) {
      ctx.error([stated.find((k) => k !== 'principals')!], 'invalid-value', 'principals (exactly these) does not go with mustInclude or mustExclude: use one or the other');
      return undefined;
    }
    const spec: UserRightSpec = { right, ensure };
    for (const key of stated) {
      const list = normalisedPrincipals(props[key] as string[], [key], ctx);
      if (!list) return undefined;
      spec[key] = list;
    }
    if (spec.mustInclude && spec.mustExclude) {
      const both = spec.mustInclude.find((p) => spec.mustExclude!.some((q) => samePrincipal(p, q)));
      if (both) {
        ctx.error(['mustExclude'], 'conflict', `${principalText(both)} is both in mustInclude and in mustExclude`);
        return undefined;
      }
    }
    if (props.allowLockout === true) spec.allowLockout = true;
    return userRightResource(spec);
  },
};

function userRightResource(spec: UserRightSpec, extra: Pick<ResolvedResource, 'policy' | 'entry'> = {}): ResolvedResource<UserRightSpec> {
  return { kind: 'UserRight', identity: `userright:${spec.right.toLowerCase()}`, target: `User right ${spec.right}`, spec, ...extra };
}

/** A right by its constant or title (ignoring case), or an error with the nearest one. */
function findRight(given: string, path: (string | number)[], ctx: ResolveContext): string | undefined {
  const byConstant = findUserRight(given.trim());
  const byTitle = tables().userRights.find((r) => r.title.toLowerCase() === given.trim().toLowerCase());
  const found = byConstant ?? byTitle;
  if (found) return found.constant;
  const all = tables().userRights;
  const hint = closestWord(given.trim(), [...all.map((r) => r.constant), ...all.map((r) => r.title)]);
  ctx.error(path, 'invalid-value', `unknown user right '${given}'${hint ? `; did you mean '${hint}'?` : ''}`);
  return undefined;
}

/** A document's principals in the runtime's form: `*S-...` where the SID is known, else the name as given. */
function normalisedPrincipals(items: string[], path: (string | number)[], ctx: ResolveContext): string[] | undefined {
  const { principals, problems } = normalisePrincipalList(items);
  if (problems.length > 0) {
    for (const p of problems) ctx.error([...path, p.index], 'invalid-value', p.message);
    return undefined;
  }
  return principals.map(runtimeForm);
}

function runtimeForm(p: Principal): string {
  return p.kind === 'sid' ? p.sid : p.name;
}

function samePrincipal(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

let sidNames: Map<string, string> | undefined;
/** A principal for people: a well-known SID by its name, anything else as it is. */
export function principalText(principal: string): string {
  sidNames ??= new Map(tables().principals.wellKnown.map((w) => [`*${w.sid}`.toUpperCase(), w.name]));
  const sid = canonicalSid(principal);
  return (sid && sidNames.get(sid.toUpperCase())) ?? principal;
}

const listText = (list: readonly unknown[]) => (list.length === 0 ? 'no one' : list.map((p) => principalText(String(p))).join(', '));

/** A user right view in words (Format-WsUserRightStateText). */
export function userRightStateText(view: KindView): string {
  if (view.ensure === 'Absent') return 'not defined';
  if (Array.isArray(view.principals)) return listText(view.principals);
  const parts: string[] = [];
  if (Array.isArray(view.mustInclude) && view.mustInclude.length) parts.push(`includes ${listText(view.mustInclude)}`);
  if (Array.isArray(view.mustExclude) && view.mustExclude.length) parts.push(`excludes ${listText(view.mustExclude)}`);
  return parts.join('; ') || 'any holders';
}

/** A user right catalog entry with a document's value: a list of principals, or `recommended`. */
function resolveEntry(entry: CatalogEntry, props: Record<string, unknown>, ctx: ResolveContext): ResolvedResource<UserRightSpec> | undefined {
  const storage = entry.storage as { kind: 'UserRight'; right: string };
  const value = props.value;
  const policy = (label: string) => ({ title: entry.title, value: label, choices: [] });
  if ('condition' in props || 'absentOk' in props) {
    ctx.error(['condition' in props ? 'condition' : 'absentOk'], 'invalid-value', `"${entry.title}" is a user right: its value is a list of principals`);
    return undefined;
  }
  if (typeof value === 'string' && value.trim().toLowerCase() === 'recommended') {
    const r = entry.recommended as RecommendedKindValue | string | undefined;
    if (!r || typeof r !== 'object') {
      ctx.error(['value'], 'invalid-value', `"${entry.title}" has no recommended value in the catalog`);
      return undefined;
    }
    const spec: UserRightSpec = { right: storage.right, ensure: 'Present' };
    for (const key of ['principals', 'mustInclude', 'mustExclude'] as const) {
      if (!r[key]) continue;
      const list = normalisedPrincipals(r[key]!, ['value'], ctx);
      if (!list) return undefined;
      spec[key] = list;
    }
    const label = r.text ?? userRightStateText(spec as unknown as KindView);
    return userRightResource(spec, { policy: policy(label), entry });
  }
  if (!Array.isArray(value)) {
    ctx.error(['value'], 'invalid-value', `"${entry.title}" is a user right: give a list of principals (exactly these holders) or recommended`);
    return undefined;
  }
  const list = normalisedPrincipals(value as string[], ['value'], ctx);
  if (!list) return undefined;
  return userRightResource({ right: storage.right, ensure: 'Present', principals: list }, { policy: policy(listText(list)), entry });
}

const sortedUpper = (list: string[] | undefined) => (list ? [...list].map((p) => p.toUpperCase()).sort().join('\n') : undefined);

export const userRightUnit: KindUnit<UserRightSpec> = {
  kind: 'UserRight',
  store: 'SecurityTemplate',
  documentTypes: [userRightKind],
  resolveEntry,
  sameDesired: (a, b) =>
    a.ensure === b.ensure && sortedUpper(a.principals) === sortedUpper(b.principals) && sortedUpper(a.mustInclude) === sortedUpper(b.mustInclude) && sortedUpper(a.mustExclude) === sortedUpper(b.mustExclude),
  wantsPresent: (spec) => spec.ensure === 'Present',
  row(r) {
    return { Right: r.spec.right, ...this.desiredColumns(r.spec, r.policy) };
  },
  desiredColumns(spec) {
    return {
      Ensure: spec.ensure,
      Principals: spec.principals ?? null,
      MustInclude: spec.mustInclude ?? null,
      MustExclude: spec.mustExclude ?? null,
      AllowLockout: spec.allowLockout === true,
    };
  },
  commentLines(r) {
    return [`User right: ${r.spec.right} = ${userRightStateText(this.desiredView(r.spec, undefined))}${r.spec.allowLockout ? ' (lockout guard off)' : ''}`];
  },
  desiredView(spec) {
    if (spec.ensure === 'Absent') return { ensure: 'Absent' };
    if (spec.principals) return { principals: spec.principals };
    const view: KindView = {};
    if (spec.mustInclude) view.mustInclude = spec.mustInclude;
    if (spec.mustExclude) view.mustExclude = spec.mustExclude;
    return view;
  },
  area: () => 'User Rights Assignment',
  stateText: userRightStateText,
  rollbackResources(entries: KindBackupEntry[]) {
    const resources = [];
    const unsupported: string[] = [];
    for (const e of entries) {
      const right = String(e.right);
      const principals = e.principals as string[] | null;
      if (!findUserRight(right)) {
        unsupported.push(`${e.target}: unknown user right '${right}'`);
        continue;
      }
      if (principals === null && e.live) {
        // Live, secedit cannot undefine a right: emptying it is the nearest.
        resources.push({ name: `empty ${e.target} again`, type: 'UserRight', properties: { right, principals: [] }, restores: e.resource });
      } else if (principals === null) {
        resources.push({ name: `remove ${e.target} again`, type: 'UserRight', properties: { right, ensure: 'Absent' }, restores: e.resource });
      } else {
        const { principals: holders, problems } = normalisePrincipalList(principals);
        // A holder twice in the template (a SID and its name) is one holder; one the document cannot name is listed.
        for (const p of problems.filter((x) => !x.message.includes('same principal'))) unsupported.push(`${e.target}: ${p.message}`);
        if (problems.some((x) => !x.message.includes('same principal'))) continue;
        resources.push({ name: `restore ${e.target}`, type: 'UserRight', properties: { right, principals: holders.map(runtimeForm) }, restores: e.resource });
      }
    }
    return { resources, unsupported };
  },
};

