// The kinds' data tables (src/kinds/**/*.json), their generated PowerShell forms, and the
// principal normaliser on both sides fed the same cases.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { ps } from '../../src/compile/quote.js';
import { projectPath } from '../../src/paths.js';
import { findAuditSubcategory, findTemplateKey, findUserRight, tables } from '../../src/kinds/tables.js';
import { renderPowerShellTables } from '../../src/kinds/generate.js';
import { canonicalSid, normalisePrincipal, normalisePrincipalList, principalSpellings, serviceSid, type PrincipalResult } from '../../src/kinds/user-right/principal.js';
import { fixturePath, KindsShell } from '../kinds-helpers.js';

const shell = new KindsShell();
test.after(() => shell.close());

interface Flat { ok: boolean; kind?: string; sid?: string; name?: string | null; rid?: number; forestRoot?: boolean; message?: string }
const cases = (JSON.parse(readFileSync(fixturePath('kinds', 'principal-cases.json'), 'utf8')) as { cases: { input: string; expect: Flat }[] }).cases;

function flatten(r: PrincipalResult): Flat {
  return r.ok ? { ok: true, ...r.principal } : { ok: false, message: r.message };
}

/** Every input through ConvertTo-WsPrincipal in one request, in the same flat shape. */
async function normaliseInPowerShell(inputs: string[]): Promise<Flat[]> {
  const rows = await shell.json<Record<string, unknown>>(ps`foreach ($name in ${inputs}) { ConvertTo-WsPrincipal -Name $name }`);
  return rows.map((row) => {
    const flat: Flat = { ok: row.Ok as boolean };
    if (!flat.ok) return { ok: false, message: row.Message as string };
    flat.kind = row.Kind as string;
    if (flat.kind === 'sid') Object.assign(flat, { sid: row.Sid, name: row.Name ?? null });
    else if (flat.kind === 'domain') Object.assign(flat, { rid: row.Rid, name: row.Name, forestRoot: row.ForestRoot });
    else flat.name = row.Name as string;
    return flat;
  });
}

test('generated PowerShell tables are what generate.ts renders from the JSON today, in ASCII', () => {
  for (const [file, text] of Object.entries(renderPowerShellTables())) {
    const committed = readFileSync(projectPath(file), 'utf8');
    assert.is(committed, text, `${file} is stale: run node dist/src/kinds/generate.js`);
    assert.ok(/^[\x09\x0a\x0d\x20-\x7e]*$/.test(committed), `${file} is not ASCII`);
  }
});

test('principal cases: TypeScript gives the expected result', () => {
  for (const c of cases) assert.equal(flatten(normalisePrincipal(c.input)), c.expect, c.input);
});

test('principal cases: PowerShell gives the same results as TypeScript', async () => {
  const fromPs = await normaliseInPowerShell(cases.map((c) => c.input));
  cases.forEach((c, i) => assert.equal(fromPs[i], c.expect, c.input));
});

test('every spelling of every table principal, and its near misses, agree between both sides', async () => {
  const t = tables().principals;
  const inputs: string[] = [];
  for (const w of t.wellKnown) for (const s of principalSpellings(w.name, w.aliases)) inputs.push(s, s.toUpperCase(), s.replace(/ /g, ''), `*${w.sid}`);
  for (const d of t.domainRelative) inputs.push(d.name, d.name.replace(/ /g, '-'));
  for (const a of t.authorities) inputs.push(`${a}\\Nobody Here`);
  const fromPs = await normaliseInPowerShell(inputs);
  inputs.forEach((input, i) => assert.equal(fromPs[i], flatten(normalisePrincipal(input)), input));
  // Each well-known spelling resolves to its own SID.
  for (const w of t.wellKnown) {
    for (const s of principalSpellings(w.name, w.aliases)) {
      const r = normalisePrincipal(s);
      assert.ok(r.ok && r.principal.kind === 'sid' && r.principal.sid === `*${w.sid}`, s);
    }
  }
});

test('principal table: SIDs are valid and distinct; every SID in the fixture template is a SID the normaliser accepts', () => {
  const t = tables().principals;
  const sids = t.wellKnown.map((w) => w.sid);
  assert.is(new Set(sids).size, sids.length);
  for (const sid of sids) assert.is(canonicalSid(sid), `*${sid}`, sid);
  assert.is(new Set(t.domainRelative.map((d) => d.rid)).size, t.domainRelative.length);
  const inf = readFileSync(fixturePath('secedit', 'SecurityPolicyDsc_sample.inf'), 'utf8');
  const holders = [...inf.matchAll(/^Se\w+ = (.*)$/gm)].flatMap((m) => m[1]!.split(','));
  assert.ok(holders.length > 60);
  for (const h of holders) assert.ok(normalisePrincipal(h).ok, h);
  // The one service SID in the fixture is the WdiServiceHost service's.
  assert.ok(holders.includes(serviceSid('WdiServiceHost')));
});

test('user rights table: 45 distinct constants with titles; every right in the fixture template is in it', () => {
  const rights = tables().userRights;
  assert.is(rights.length, 45);
  assert.is(new Set(rights.map((r) => r.constant)).size, 45);
  for (const r of rights) {
    assert.match(r.constant, /^Se[A-Za-z]+(Privilege|Right)$/);
    assert.is(r.type, r.constant.endsWith('Right') ? 'logonRight' : 'privilege');
    assert.ok(r.title.length > 5);
  }
  const inf = readFileSync(fixturePath('secedit', 'SecurityPolicyDsc_sample.inf'), 'utf8');
  const used = [...inf.matchAll(/^(Se\w+) = /gm)].map((m) => m[1]!);
  assert.is(used.length, 31);
  for (const c of used) assert.ok(findUserRight(c), c);
  assert.is(findUserRight('sedenynetworklogonright')?.title, 'Deny access to this computer from the network');
  assert.is(findUserRight('SeMadeUpPrivilege'), undefined);
});

test('audit table: the 59 subcategories of the fixture backup, same GUIDs and names, in 9 categories', () => {
  const audit = tables().audit;
  const csv = readFileSync(fixturePath('auditpol', 'AuditPolicyDsc_audit.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const fromFixture = new Map(csv.filter((f) => f[3]).map((f) => [f[3]!, f[2]!]));
  assert.is(fromFixture.size, 59);
  assert.is(audit.subcategories.length, 59);
  for (const s of audit.subcategories) {
    assert.is(fromFixture.get(s.guid), s.name, s.guid);
    assert.ok(audit.categories.includes(s.category), s.category);
  }
  assert.is(new Set(audit.subcategories.map((s) => s.category)).size, 9);
  assert.equal(audit.settingValues.map((v) => [v.value, v.success, v.failure]), [[0, false, false], [1, true, false], [2, false, true], [3, true, true]]);
  assert.is(findAuditSubcategory('0cce923f-69ae-11d9-bed3-505054503030')?.name, 'Credential Validation');
  assert.is(findAuditSubcategory('Audit PNP Activity')?.category, 'Detailed Tracking');
  assert.is(findAuditSubcategory('logon')?.guid, '{0CCE9215-69AE-11D9-BED3-505054503030}');
});

test('template keys: every [System Access] key of the fixture has a type, integers a range that holds the fixture value', () => {
  const inf = readFileSync(fixturePath('secedit', 'SecurityPolicyDsc_sample.inf'), 'utf8');
  const section = inf.split('[System Access]')[1]!.split('[')[0]!;
  const entries = [...section.matchAll(/^(\w+) = (.*)$/gm)].map((m) => [m[1]!, m[2]!] as const);
  assert.is(entries.length, 16);
  for (const [key, value] of entries) {
    const k = findTemplateKey(key);
    assert.ok(k, key);
    if (k!.type === 'string') assert.match(value, /^".*"$/);
    else {
      const n = Number(value);
      assert.ok(Number.isInteger(n), key);
      if (k!.type === 'boolean') assert.ok(n === 0 || n === 1, key);
      else assert.ok(n >= k!.min! && n <= k!.max!, `${key} ${n}`);
    }
  }
  assert.is(findTemplateKey('MaxClockSkew')?.section, 'Kerberos Policy');
});

test('a principal list reports bad items and duplicates by identity (SID, RID, account name) with their index', () => {
  const r = normalisePrincipalList(['*S-1-5-32-544', 'Guests', 'BUILTIN\\Administrators', 'Domain Admins', 'domain admins', 'svc1', 'SVC1', 'NT AUTHORITY\\Nobody']);
  assert.equal(r.principals.map((p) => (p.kind === 'sid' ? p.sid : p.kind === 'domain' ? p.rid : p.name)), ['*S-1-5-32-544', '*S-1-5-32-546', 512, 'svc1']);
  assert.equal(r.problems, [
    { index: 2, message: "'BUILTIN\\Administrators' is the same principal as '*S-1-5-32-544' (item 1)" },
    { index: 4, message: "'domain admins' is the same principal as 'Domain Admins' (item 4)" },
    { index: 6, message: "'SVC1' is the same principal as 'svc1' (item 6)" },
    { index: 7, message: "'NT AUTHORITY\\Nobody' is not a known principal of NT AUTHORITY" },
  ]);
  assert.equal(normalisePrincipalList([]), { principals: [], problems: [] });
});

test.run();
