import { existsSync, readFileSync } from 'node:fs';
import type { RegistrySpec } from '../kinds/registry/kind.js';
import type { Plan, PlannedResource } from '../document/validate.js';
import type { Transport } from './inventory.js';

/**
 * The lockout guard of a fleet run: before the first change on a host, a check of the plan against
 * the identity the connection runs as. It refuses a document that would cut that identity off, unless
 * the resource says `acceptLockoutRisk: <reason>` (then the finding is kept in the reports, as a waiver is).
 */

export interface Identity {
  /** DOMAIN\user or user. */
  user: string;
  sid?: string | null;
  groups: { sid?: string | null; name?: string | null }[];
  /** A local account of the host (not a domain account). */
  local?: boolean | null;
  /** How the token authenticated (Windows: NTLM, Kerberos, Negotiate...). */
  authentication?: string | null;
  platform?: string | null;
  /** Identity files only: the connection to judge offline (default ssh on port 22). */
  transport?: Transport;
  port?: number;
}

/** The connection the guard protects: the identity and how it arrived. */
export interface Connection {
  identity: Identity;
  transport: Transport;
  port: number;
}

export interface LockoutFinding {
  resource: string;
  /** The setting, in words (a user right constant, a registry value). */
  setting: string;
  message: string;
  /** The identity's principal it concerns (its user, or the group through which it is affected). */
  principal?: string;
  /** The resource's acceptLockoutRisk reason: the finding is recorded but does not refuse. */
  accepted?: string;
}

const LOCAL_ACCOUNT = 'S-1-5-113';
const LOCAL_ADMIN_ACCOUNT = 'S-1-5-114';
const ADMINISTRATORS = 'S-1-5-32-544';
const WELL_KNOWN: Record<string, string> = {
  [LOCAL_ACCOUNT]: 'Local account',
  [LOCAL_ADMIN_ACCOUNT]: 'Local account and member of Administrators group',
  [ADMINISTRATORS]: 'Administrators',
  'S-1-1-0': 'Everyone',
  'S-1-5-11': 'Authenticated Users',
  'S-1-5-2': 'NETWORK',
  'S-1-5-32-545': 'Users',
  'S-1-5-32-546': 'Guests',
  'S-1-5-32-555': 'Remote Desktop Users',
  'S-1-5-32-580': 'Remote Management Users',
};

/** Deny rights that cut a remoting connection off, per transport. */
const DENY_RIGHTS: Record<string, string> = {
  SeDenyNetworkLogonRight: 'Deny access to this computer from the network',
  SeDenyRemoteInteractiveLogonRight: 'Deny log on through Remote Desktop Services',
  SeDenyInteractiveLogonRight: 'Deny log on locally',
};
/** Allow rights the connection needs to keep. */
const ALLOW_RIGHTS: Record<string, string> = {
  SeNetworkLogonRight: 'Access this computer from the network',
};

const POLICIES_SYSTEM = 'hklm\\software\\microsoft\\windows\\currentversion\\policies\\system';
const MSV1_0 = 'hklm\\system\\currentcontrolset\\control\\lsa\\msv1_0';
const SERVICES = 'hklm\\system\\currentcontrolset\\services';
const FIREWALL = 'hklm\\software\\policies\\microsoft\\windowsfirewall';

/** An identity file for `--as` (or an inventory host's `identity:`): JSON as the remote probe reports it. */
export function readIdentityFile(file: string): Identity {
  if (!existsSync(file)) throw new Error(`identity file ${file} does not exist`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`identity file ${file} is not JSON: ${(error as Error).message}`);
  }
  const problem = identityProblem(data);
  if (problem) throw new Error(`identity file ${file}: ${problem}`);
  return data as Identity;
}

function identityProblem(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'expected an object with user, sid and groups';
  const d = data as Record<string, unknown>;
  if (typeof d.user !== 'string' || d.user === '') return 'user (DOMAIN\\name or name) is required';
  if (d.sid !== undefined && d.sid !== null && (typeof d.sid !== 'string' || !/^S-1-[0-9-]+$/i.test(d.sid))) return `sid '${String(d.sid)}' is not a SID (S-1-...)`;
  if (!Array.isArray(d.groups)) return 'groups is a list of { sid, name }';
  if (d.transport !== undefined && d.transport !== 'ssh' && d.transport !== 'winrm') return `transport is ssh or winrm, not '${String(d.transport)}'`;
  if (d.port !== undefined && !(Number.isInteger(d.port) && (d.port as number) >= 1 && (d.port as number) <= 65535)) return `port ${String(d.port)} is not a port number (1..65535)`;
  for (const [i, g] of d.groups.entries()) {
    if (typeof g !== 'object' || g === null) return `groups[${i}] is an object with sid and/or name`;
    const { sid, name } = g as Record<string, unknown>;
    if (sid !== undefined && sid !== null && (typeof sid !== 'string' || !/^S-1-[0-9-]+$/i.test(sid))) return `groups[${i}].sid '${String(sid)}' is not a SID`;
    if ((sid === undefined || sid === null) && typeof name !== 'string') return `groups[${i}] needs a sid or a name`;
  }
  return undefined;
}

/** The identity's principals, each with the text a message names it by. */
function principalsOf(identity: Identity): { keys: string[]; label: string }[] {
  const out: { keys: string[]; label: string }[] = [];
  const keysOf = (sid?: string | null, name?: string | null) => {
    const keys: string[] = [];
    if (sid) keys.push(sid.toUpperCase());
    if (name) {
      keys.push(name.toLowerCase());
      const bare = name.split('\\').pop()!;
      keys.push(bare.toLowerCase());
    }
    if (sid && WELL_KNOWN[sid.toUpperCase()]) keys.push(WELL_KNOWN[sid.toUpperCase()]!.toLowerCase());
    return keys;
  };
  out.push({ keys: keysOf(identity.sid, identity.user), label: `the connecting account ${identity.user}` });
  for (const g of identity.groups) {
    const name = g.name ?? (g.sid ? WELL_KNOWN[g.sid.toUpperCase()] : undefined);
    out.push({ keys: keysOf(g.sid, name), label: `its group ${name ?? g.sid}${name && g.sid ? ` (${g.sid})` : ''}` });
  }
  return out;
}

/** A principal as documents and the contract write it: '*S-1-5-113', 'S-1-5-113', 'Guests', 'DOMAIN\\name'. */
function principalKeys(principal: string): string[] {
  const text = principal.trim().replace(/^\*/, '');
  if (/^S-1-[0-9-]+$/i.test(text)) return [text.toUpperCase()];
  return [text.toLowerCase(), text.split('\\').pop()!.toLowerCase()];
}

function matching(identity: Identity, principals: string[]): string | undefined {
  const wanted = new Set(principals.flatMap(principalKeys));
  return principalsOf(identity).find((p) => p.keys.some((k) => wanted.has(k)))?.label;
}

function isAdministrator(identity: Identity): boolean {
  return identity.groups.some((g) => g.sid?.toUpperCase() === ADMINISTRATORS || g.sid?.toUpperCase() === LOCAL_ADMIN_ACCOUNT);
}

/** A user right as the plan holds it: today from the contract's row columns, whatever the kind refactor names its spec. */
interface UserRightForm {
  right: string;
  principals?: string[] | null;
  mustInclude?: string[] | null;
  mustExclude?: string[] | null;
  ensure?: string;
}

function userRightOf(r: PlannedResource): UserRightForm | undefined {
  const loose = r as unknown as { kind?: string; type: string; spec?: Record<string, unknown>; entry?: { storage?: { kind?: string; right?: string } } };
  const spec = loose.spec ?? {};
  const right = (spec.right ?? spec.Right ?? loose.entry?.storage?.right) as string | undefined;
  if (!(loose.kind === 'UserRight' || loose.type === 'UserRight' || loose.entry?.storage?.kind === 'UserRight') || !right) return undefined;
  const list = (v: unknown) => (Array.isArray(v) ? (v as string[]) : v === null ? null : undefined);
  return {
    right,
    principals: list(spec.principals ?? spec.Principals),
    mustInclude: list(spec.mustInclude ?? spec.MustInclude),
    mustExclude: list(spec.mustExclude ?? spec.MustExclude),
    ensure: (spec.ensure ?? spec.Ensure) as string | undefined,
  };
}

/** A registry setting as the plan holds it: the registry kind's spec (after a waiver's override). */
function registryOf(r: PlannedResource): { path: string; valueName: string | null; ensure: string; data: unknown } | undefined {
  if (r.kind !== 'Registry') return undefined;
  const spec = (r.waiver && !r.waiver.expired ? r.waiver.override?.spec : r.spec) as RegistrySpec | undefined;
  if (!spec) return undefined; // waived: left alone
  const { target, desired } = spec;
  const hive = /^(HKLM|HKEY_LOCAL_MACHINE)$/i.test(target.hive) ? 'hklm' : target.hive.toLowerCase();
  return { path: `${hive}\\${target.subKey.toLowerCase()}`, valueName: target.valueName === null ? null : target.valueName.toLowerCase(), ensure: desired.ensure, data: desired.valueData };
}

const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);

/** Every way the plan would cut the connection off, accepted ones marked. */
export function lockoutFindings(plan: Plan, connection: Connection, accepted: Map<string, string> = acceptedRisks(plan)): LockoutFinding[] {
  const { identity, transport, port } = connection;
  const findings: LockoutFinding[] = [];
  const add = (r: PlannedResource, finding: Omit<LockoutFinding, 'resource'>) => {
    const reason = accepted.get(r.name);
    findings.push({ resource: r.name, ...finding, ...(reason ? { accepted: reason } : {}) });
  };
  const registry = plan.resources.map((r) => ({ r, reg: registryOf(r) }));
  const valueOf = (path: string, name: string) => registry.find((x) => x.reg?.path === path && x.reg.valueName === name);

  for (const r of plan.resources) {
    const right = userRightOf(r);
    if (right) {
      const deny = DENY_RIGHTS[right.right];
      if (deny && right.ensure !== 'Absent') {
        const held = matching(identity, [...(right.principals ?? []), ...(right.mustInclude ?? [])]);
        if (held) add(r, { setting: `${right.right} (${deny})`, principal: held, message: `${right.right} (${deny}) would hold ${held}: ${identity.user} could no longer connect over ${transport}` });
      }
      const allow = ALLOW_RIGHTS[right.right];
      if (allow) {
        if (right.principals && !matching(identity, right.principals)) {
          add(r, { setting: `${right.right} (${allow})`, principal: identity.user, message: `${right.right} (${allow}) would list only ${right.principals.join(', ') || 'no one'}: ${identity.user} and its groups drop out and could no longer connect over ${transport}` });
        } else if (right.mustExclude) {
          const dropped = matching(identity, right.mustExclude);
          if (dropped) add(r, { setting: `${right.right} (${allow})`, principal: dropped, message: `${right.right} (${allow}) would remove ${dropped}: unless ${identity.user} holds the right another way, it could no longer connect over ${transport}` });
        }
      }
      continue;
    }
    const reg = registryOf(r);
    if (!reg) continue;
    const at = `${reg.path}!${reg.valueName ?? ''}`;
    // UAC remote restrictions: a local administrator other than the built-in one (RID 500) gets a
    // filtered token over the network unless LocalAccountTokenFilterPolicy is 1; absent means 0.
    if (at === `${POLICIES_SYSTEM}!localaccounttokenfilterpolicy` && (reg.ensure === 'Absent' || num(reg.data) === 0)) {
      if (identity.local && isAdministrator(identity) && !/-500$/.test(identity.sid ?? '')) {
        add(r, { setting: 'LocalAccountTokenFilterPolicy = 0', principal: `the local administrator ${identity.user}`, message: `LocalAccountTokenFilterPolicy = 0 would give ${identity.user}, a local administrator other than the built-in one, only a filtered token over the network: it could no longer administer the host over ${transport}` });
      }
    }
    if (at === `${MSV1_0}!restrictreceivingntlmtraffic` && num(reg.data) === 2 && /ntlm/i.test(identity.authentication ?? '')) {
      add(r, { setting: 'Restrict NTLM: Incoming NTLM traffic = Deny all', principal: identity.user, message: `incoming NTLM would be denied while ${identity.user} authenticates with ${identity.authentication}` });
    }
    const service = transport === 'ssh' ? 'sshd' : 'winrm';
    if (reg.path === `${SERVICES}\\${service}` && ((reg.valueName === 'start' && num(reg.data) === 4) || (reg.valueName === null && reg.ensure === 'Absent'))) {
      add(r, { setting: `the ${service} service ${reg.valueName === 'start' ? 'disabled (Start = 4)' : 'removed'}`, principal: identity.user, message: `the ${service} service, which this ${transport} connection comes through, would be ${reg.valueName === 'start' ? 'disabled' : 'removed'}` });
    }
    const profile = /^hklm\\software\\policies\\microsoft\\windowsfirewall\\(domain|private|public|standard)profile$/.exec(reg.path)?.[1];
    if (profile && reg.path.startsWith(FIREWALL)) {
      if (reg.valueName === 'donotallowexceptions' && num(reg.data) === 1) {
        add(r, { setting: `Windows Firewall ${profile} profile: block all incoming connections`, principal: identity.user, message: `the ${profile} firewall profile would block every incoming connection, including port ${port} this ${transport} connection uses` });
      }
      if (reg.valueName === 'allowlocalpolicymerge' && num(reg.data) === 0) {
        const inbound = valueOf(reg.path, 'defaultinboundaction');
        if (inbound && num(inbound.reg!.data) === 1) {
          add(r, { setting: `Windows Firewall ${profile} profile: local rules not applied, inbound blocked`, principal: identity.user, message: `the ${profile} firewall profile would block inbound connections and ignore local rules: port ${port} of this ${transport} connection stays open only through a Group Policy rule` });
        }
      }
    }
  }
  return findings;
}

/** The refusing findings (those not accepted), as one message per host. */
export function refusal(findings: LockoutFinding[], identity: Identity): string | undefined {
  const refusing = findings.filter((f) => !f.accepted);
  if (refusing.length === 0) return undefined;
  return `lockout guard: refused before any change, as ${identity.user}: ${refusing.map((f) => `${f.resource}: ${f.message}`).join('; ')} (add acceptLockoutRisk: <reason> to a resource to accept its risk)`;
}

/** `acceptLockoutRisk` of each resource, by name, as the plan carries it (included baseline settings cannot carry one). */
export function acceptedRisks(plan: Plan): Map<string, string> {
  return new Map(plan.resources.filter((r) => r.acceptLockoutRisk !== undefined).map((r) => [r.name, r.acceptLockoutRisk!]));
}
