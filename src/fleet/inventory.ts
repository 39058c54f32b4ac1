import { homedir, userInfo } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { loadFile, loadText, type DataPath, type SourceDocument } from '../document/load.js';
import type { Diagnostic } from '../document/diagnostics.js';
import type { Snapshots, StoreName } from '../engine/snapshots.js';

/** How winstate reaches a host: PowerShell remoting over SSH, or WinRM (needs a Windows controller). */
export type Transport = 'ssh' | 'winrm';

export interface FleetHost {
  /** Unique in the inventory; names records, reports and `--host`. */
  name: string;
  address: string;
  user: string;
  port: number;
  keyFile?: string;
  transport: Transport;
  /** Groups it belongs to, in inventory order. */
  groups: string[];
  /** The document this host runs instead of the one on the command line (from one of its groups). */
  document?: string;
  /** Waivers its groups add to the document (each a waiver as a document writes it). */
  waivers: unknown[];
  /** Exported files on the host, one per store: the remote script works on them instead of the live machine. */
  snapshots?: Snapshots;
  /** An identity file (see identity.ts) the lockout guard uses instead of probing the host. */
  identity?: string;
}

export interface Inventory {
  file: string;
  throttle: number;
  hosts: FleetHost[];
}

export const DEFAULT_THROTTLE = 10;
export const MAX_THROTTLE = 256;
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const HOST_KEYS = ['name', 'address', 'user', 'port', 'keyFile', 'transport', 'groups', 'snapshot', 'identity'];
const DEFAULT_KEYS = ['user', 'port', 'keyFile', 'transport'];
const GROUP_KEYS = ['document', 'waivers'];
const TOP_KEYS = ['throttle', 'defaults', 'groups', 'hosts', '$schema'];
/**
 * `snapshot:` as a mapping: the store of each file is named, since the files are on the host and the
 * controller cannot read them to tell their kind (as the local --snapshot does).
 */
const SNAPSHOT_KEYS: Record<string, StoreName> = { registry: 'Registry', securityTemplate: 'SecurityTemplate', auditBackup: 'AuditBackup' };

/** Reads and checks an inventory; every problem is positioned in the file. */
export function loadInventory(file: string): { inventory?: Inventory; diagnostics: Diagnostic[] } {
  const { source, diagnostics } = loadFile(file);
  return source ? checkInventory(source) : { diagnostics };
}

export function inventoryFromText(file: string, text: string): { inventory?: Inventory; diagnostics: Diagnostic[] } {
  const { source, diagnostics } = loadText(file, text);
  return source ? checkInventory(source) : { diagnostics };
}

function checkInventory(source: SourceDocument): { inventory?: Inventory; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const fail = (path: DataPath, message: string, which: 'key' | 'value' = 'value') => {
    const { start, end } = source.locate(path, which);
    diagnostics.push({ file: source.file, code: 'schema', message, start, end, severity: 'error' });
  };
  const base = dirname(resolve(source.file));
  const data = source.data;
  if (!isRecord(data)) {
    fail([], 'an inventory is a mapping with hosts (and optionally throttle, defaults, groups)');
    return { diagnostics };
  }
  unknownKeys(data, [], TOP_KEYS, fail);
  const throttle = data.throttle === undefined ? DEFAULT_THROTTLE : wholeNumber(data.throttle, ['throttle'], 1, MAX_THROTTLE, fail);
  const defaults = data.defaults === undefined ? {} : data.defaults;
  if (!isRecord(defaults)) fail(['defaults'], 'defaults is a mapping of user, port, keyFile, transport');
  else unknownKeys(defaults, ['defaults'], DEFAULT_KEYS, fail);
  const defaultsOf = isRecord(defaults) ? defaults : {};

  const groups = new Map<string, { document?: string; waivers: unknown[] }>();
  if (data.groups !== undefined) {
    if (!isRecord(data.groups)) fail(['groups'], 'groups is a mapping from a group name to its document and waivers');
    else {
      for (const [name, group] of Object.entries(data.groups)) {
        const at: DataPath = ['groups', name];
        if (!HOST_NAME.test(name)) fail(at, `group name '${name}' may hold only letters, digits, '.', '_' and '-'`, 'key');
        if (!isRecord(group)) {
          fail(at, `group ${name} is a mapping with document and/or waivers`);
          continue;
        }
        unknownKeys(group, at, GROUP_KEYS, fail);
        const document = group.document === undefined ? undefined : text(group.document, [...at, 'document'], fail);
        const waivers = group.waivers === undefined ? [] : group.waivers;
        if (!Array.isArray(waivers)) fail([...at, 'waivers'], 'waivers is a list of waivers, written as in a document');
        groups.set(name, { document: document ? resolveFrom(base, document) : undefined, waivers: Array.isArray(waivers) ? waivers : [] });
      }
    }
  }

  const hosts: FleetHost[] = [];
  if (!Array.isArray(data.hosts) || data.hosts.length === 0) {
    fail(data.hosts === undefined ? [] : ['hosts'], 'hosts is a list of at least one host (name, address, ...)');
    return { diagnostics };
  }
  const seen = new Map<string, number>();
  data.hosts.forEach((raw, i) => {
    const at: DataPath = ['hosts', i];
    if (!isRecord(raw)) {
      fail(at, 'a host is a mapping with name and address (and optionally user, port, keyFile, transport, groups, snapshot, identity)');
      return;
    }
    unknownKeys(raw, at, HOST_KEYS, fail);
    const name = text(raw.name, [...at, 'name'], fail, 'a host needs a name');
    if (name !== undefined && !HOST_NAME.test(name)) fail([...at, 'name'], `host name '${name}' may hold only letters, digits, '.', '_' and '-' (up to 63), starting with a letter or digit`);
    if (name !== undefined && seen.has(name.toLowerCase())) fail([...at, 'name'], `host name '${name}' is used twice (first by hosts[${seen.get(name.toLowerCase())}])`);
    if (name !== undefined) seen.set(name.toLowerCase(), i);
    const address = text(raw.address, [...at, 'address'], fail, 'a host needs an address (host name or IP)');
    if (address !== undefined && !/^[A-Za-z0-9._:%\[\]-]+$/.test(address)) fail([...at, 'address'], `address '${address}' is not a host name or IP address`);
    const pick = (key: string) => (raw[key] !== undefined ? { value: raw[key], path: [...at, key] } : defaultsOf[key] !== undefined ? { value: defaultsOf[key], path: ['defaults', key] } : undefined);
    const transportRaw = pick('transport');
    const transport = transportRaw === undefined ? 'ssh' : text(transportRaw.value, transportRaw.path, fail);
    if (transport !== undefined && transport !== 'ssh' && transport !== 'winrm') fail(transportRaw!.path, `transport is ssh or winrm, not '${transport}'`);
    const portRaw = pick('port');
    const port = portRaw === undefined ? (transport === 'winrm' ? 5985 : 22) : wholeNumber(portRaw.value, portRaw.path, 1, 65535, fail);
    const userRaw = pick('user');
    const user = userRaw === undefined ? userInfo().username : text(userRaw.value, userRaw.path, fail);
    const keyRaw = pick('keyFile');
    const keyFile = keyRaw === undefined ? undefined : text(keyRaw.value, keyRaw.path, fail);
    const groupNames: string[] = [];
    if (raw.groups !== undefined) {
      if (!Array.isArray(raw.groups)) fail([...at, 'groups'], 'groups is a list of group names');
      else
        raw.groups.forEach((g, j) => {
          const groupName = text(g, [...at, 'groups', j], fail);
          if (groupName === undefined) return;
          if (!groups.has(groupName)) fail([...at, 'groups', j], `no group '${groupName}' under groups:${groups.size ? ` (there are ${[...groups.keys()].join(', ')})` : ''}`);
          else groupNames.push(groupName);
        });
    }
    const documents = groupNames.filter((g) => groups.get(g)!.document !== undefined);
    if (documents.length > 1) fail([...at, 'groups'], `groups ${documents.join(' and ')} each give a document; a host runs one`);
    const snapshots = raw.snapshot === undefined ? undefined : snapshotsOf(raw.snapshot, [...at, 'snapshot'], fail);
    const identity = raw.identity === undefined ? undefined : text(raw.identity, [...at, 'identity'], fail);
    if (name === undefined || address === undefined || port === undefined || user === undefined || (transport !== 'ssh' && transport !== 'winrm')) return;
    hosts.push({
      name, address, user, port, transport, groups: groupNames,
      ...(keyFile !== undefined ? { keyFile: resolveFrom(base, keyFile) } : {}),
      ...(documents.length === 1 ? { document: groups.get(documents[0]!)!.document } : {}),
      waivers: groupNames.flatMap((g) => groups.get(g)!.waivers),
      ...(snapshots !== undefined ? { snapshots } : {}),
      ...(identity !== undefined ? { identity: resolveFrom(base, identity) } : {}),
    });
  });
  if (diagnostics.length > 0 || throttle === undefined) return { diagnostics };
  return { inventory: { file: source.file, throttle, hosts }, diagnostics };
}

/**
 * `--host` values for a quick run without an inventory: `[user@]address[:port]`, named by the
 * address (and port when given), with `--key-file` if given. Returns an error text for a value that
 * is none of these.
 */
export function adHocHost(spec: string, keyFile?: string): FleetHost | string {
  const match = /^(?:([^@\s]+)@)?([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(spec);
  if (!match) return `--host takes [user@]address[:port], not '${spec}'`;
  const port = match[3] === undefined ? 22 : Number(match[3]);
  if (port < 1 || port > 65535) return `--host ${spec}: port ${port} is outside 1..65535`;
  const address = match[2]!.replace(/^\[|\]$/g, '');
  const name = match[3] === undefined ? address : `${address}-${port}`;
  if (!HOST_NAME.test(name.replace(/:/g, '-'))) return `--host ${spec}: '${name}' cannot name a host`;
  return { name: name.replace(/:/g, '-'), address, user: match[1] ?? userInfo().username, port, transport: 'ssh', groups: [], waivers: [], ...(keyFile !== undefined ? { keyFile: resolve(keyFile) } : {}) };
}

/** A host's `snapshot:`: a regedit export's path, or a mapping of registry, securityTemplate, auditBackup to paths on the host. */
function snapshotsOf(value: unknown, at: DataPath, fail: Fail): Snapshots | undefined {
  if (typeof value === 'string') {
    const file = text(value, at, fail);
    return file === undefined ? undefined : { Registry: file };
  }
  if (!isRecord(value) || Object.keys(value).length === 0) {
    fail(at, `snapshot is a regedit export's path on the host, or a mapping of ${Object.keys(SNAPSHOT_KEYS).join(', ')} to paths on the host`);
    return undefined;
  }
  unknownKeys(value, at, Object.keys(SNAPSHOT_KEYS), fail);
  const out: Snapshots = {};
  for (const [key, store] of Object.entries(SNAPSHOT_KEYS)) {
    if (value[key] === undefined) continue;
    const file = text(value[key], [...at, key], fail);
    if (file !== undefined) out[store] = file;
  }
  return out;
}

function resolveFrom(base: string, path: string): string {
  if (path === '~' || path.startsWith('~/')) return resolve(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(base, path);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type Fail = (path: DataPath, message: string, which?: 'key' | 'value') => void;

function unknownKeys(data: Record<string, unknown>, at: DataPath, known: string[], fail: Fail): void {
  for (const key of Object.keys(data)) {
    if (!known.includes(key)) fail([...at, key], `unknown key '${key}' (expected ${known.filter((k) => k !== '$schema').join(', ')})`, 'key');
  }
}

function text(value: unknown, path: DataPath, fail: Fail, missing = 'a text value is needed'): string | undefined {
  if (value === undefined || value === null) {
    fail(path, missing);
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    fail(path, `${missing === 'a text value is needed' ? 'expected text' : missing}, not ${JSON.stringify(typeof value === 'bigint' ? Number(value) : value)}`);
    return undefined;
  }
  return value;
}

function wholeNumber(value: unknown, path: DataPath, min: number, max: number, fail: Fail): number | undefined {
  if (typeof value !== 'bigint' || value < BigInt(min) || value > BigInt(max)) {
    fail(path, `expected a whole number from ${min} to ${max}`);
    return undefined;
  }
  return Number(value);
}
