/**
 * Principal normaliser: what a document may write for a user right's holder, turned into the
 * form secedit stores (`*S-...`). The same rules run in PowerShell (principal.ps1); a test feeds
 * both the same cases and compares.
 */
import { createHash } from 'node:crypto';
import { tables, type PrincipalTable } from '../tables.js';

export type Principal =
  /** A SID, written `*S-...` as secedit does; `name` when the table knows it. */
  | { kind: 'sid'; sid: string; name: string | null }
  /** A domain group: the domain's (or forest root's) SID followed by `rid`, known only live. */
  | { kind: 'domain'; rid: number; name: string; forestRoot: boolean }
  /** A plain account or group name, resolved on the machine. */
  | { kind: 'account'; name: string };

export type PrincipalResult = { ok: true; principal: Principal } | { ok: false; message: string };

const SID = /^S-1-(0|[1-9][0-9]*)((?:-(?:0|[1-9][0-9]*))+)$/i;
const MAX_AUTHORITY = 2 ** 48 - 1;

interface Index {
  byName: Map<string, { sid: string; name: string } | { rid: number; name: string; forestRoot: boolean }>;
  sidNames: Map<string, string>;
  squeezed: Map<string, string>;
  authorities: Set<string>;
  service: string;
}

const indexes = new WeakMap<PrincipalTable, Index>();

/** Lower case without anything but letters and digits: how near misses are recognised. */
function squeeze(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Every accepted spelling of a principal: its full name, the part after the backslash, its aliases. */
export function principalSpellings(name: string, aliases: readonly string[] = []): string[] {
  const cut = name.indexOf('\\');
  return [name, ...(cut >= 0 ? [name.slice(cut + 1)] : []), ...aliases];
}

function buildIndex(table: PrincipalTable): Index {
  const byName: Index['byName'] = new Map();
  const squeezed = new Map<string, string>();
  const add = (spelling: string, target: { sid: string; name: string } | { rid: number; name: string; forestRoot: boolean }) => {
    const key = spelling.toLowerCase();
    if (byName.has(key)) throw new Error(`principals.json: '${spelling}' names two principals`);
    byName.set(key, target);
    squeezed.set(squeeze(spelling), target.name);
  };
  for (const w of table.wellKnown) for (const s of principalSpellings(w.name, w.aliases)) add(s, { sid: `*${w.sid}`, name: w.name });
  for (const d of table.domainRelative) add(d.name, { rid: d.rid, name: d.name, forestRoot: d.forestRoot });
  return {
    byName,
    sidNames: new Map(table.wellKnown.map((w) => [`*${w.sid}`.toUpperCase(), w.name])),
    squeezed,
    authorities: new Set(table.authorities.map((a) => a.toLowerCase())),
    service: table.serviceAuthority.toLowerCase(),
  };
}

/** `S-1-...` (any case, star optional) as `*S-1-...`, or undefined when it is not a SID. */
export function canonicalSid(text: string): string | undefined {
  const bare = text.startsWith('*') ? text.slice(1) : text;
  const m = SID.exec(bare);
  if (!m) return undefined;
  if (Number(m[1]) > MAX_AUTHORITY || m[1]!.length > 15) return undefined;
  const subs = m[2]!.slice(1).split('-');
  if (subs.length > 15 || subs.some((s) => s.length > 10 || Number(s) > 0xffffffff)) return undefined;
  return `*S${bare.slice(1)}`;
}

/** The SID of a per-service account (NT SERVICE\name): S-1-5-80 and the SHA-1 of the upper-case name. */
export function serviceSid(service: string): string {
  const digest = createHash('sha1').update(Buffer.from(service.toUpperCase(), 'utf16le')).digest();
  const parts = [0, 4, 8, 12, 16].map((o) => digest.readUInt32LE(o));
  return `*S-1-5-80-${parts.join('-')}`;
}

/** Turns a principal as a document writes it into the form secedit stores, or says why it cannot. */
export function normalisePrincipal(input: string, table: PrincipalTable = tables().principals): PrincipalResult {
  let ix = indexes.get(table);
  if (!ix) indexes.set(table, (ix = buildIndex(table)));
  const text = input.trim();
  if (text === '') return { ok: false, message: 'a principal is empty' };
  if (/[,\x00-\x1f\x7f]/.test(text)) return { ok: false, message: `'${text}': a principal may not contain a comma or a control character` };
  if (text.startsWith('*') || /^S-[0-9]/i.test(text)) {
    const sid = canonicalSid(text);
    if (!sid) return { ok: false, message: `'${text}' is not a SID (expected *S-1-<authority>-<number>...)` };
    return { ok: true, principal: { kind: 'sid', sid, name: ix.sidNames.get(sid.toUpperCase()) ?? null } };
  }
  const known = ix.byName.get(text.toLowerCase());
  if (known) {
    return { ok: true, principal: 'sid' in known ? { kind: 'sid', sid: known.sid, name: known.name } : { kind: 'domain', ...known } };
  }
  const cut = text.indexOf('\\');
  if (cut >= 0) {
    const authority = text.slice(0, cut).toLowerCase();
    const rest = text.slice(cut + 1);
    if (authority === ix.service) {
      if (!/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(rest) || rest.includes('\\')) {
        return { ok: false, message: `'${text}': a service name is printable ASCII without a backslash` };
      }
      return { ok: true, principal: { kind: 'sid', sid: serviceSid(rest), name: `${table.serviceAuthority}\\${rest}` } };
    }
    if (ix.authorities.has(authority)) return { ok: false, message: `'${text}' is not a known principal of ${text.slice(0, cut)}` };
  }
  const near = ix.squeezed.get(squeeze(text));
  if (near !== undefined) return { ok: false, message: `'${text}' is not a known principal; did you mean '${near}'?` };
  return { ok: true, principal: { kind: 'account', name: text } };
}

/** What makes two principals the same holder: the SID, the domain RID, or the account name ignoring case. */
export function principalIdentity(p: Principal): string {
  if (p.kind === 'sid') return p.sid.toUpperCase();
  if (p.kind === 'domain') return `${p.forestRoot ? 'forest' : 'domain'}-rid:${p.rid}`;
  return `account:${p.name.toLowerCase()}`;
}

/**
 * A whole principal list: each item normalised, and an item naming a holder already listed
 * (`Administrators` after `*S-1-5-32-544`) reported as a duplicate. Problems carry the item's index,
 * so a document validator can point at it.
 */
export function normalisePrincipalList(inputs: readonly string[]): { principals: Principal[]; problems: { index: number; message: string }[] } {
  const principals: Principal[] = [];
  const problems: { index: number; message: string }[] = [];
  const seen = new Map<string, number>();
  inputs.forEach((input, index) => {
    const r = normalisePrincipal(input);
    if (!r.ok) {
      problems.push({ index, message: r.message });
      return;
    }
    const id = principalIdentity(r.principal);
    const first = seen.get(id);
    if (first !== undefined) {
      problems.push({ index, message: `'${input.trim()}' is the same principal as '${inputs[first]!.trim()}' (item ${first + 1})` });
      return;
    }
    seen.set(id, index);
    principals.push(r.principal);
  });
  return { principals, problems };
}
