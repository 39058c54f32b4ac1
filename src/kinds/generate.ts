/**
 * Renders the PowerShell form of the kinds' data tables (`*.generated.ps1`) from their JSON, so
 * each table lives in one place. Every value goes through the quoting gate (psLiteral).
 * Run `node dist/src/kinds/generate.js` after changing a table; a test fails while a committed
 * file differs from what this renders.
 */
import { fileURLToPath } from 'node:url';
import { psLiteral } from '../compile/quote.js';
import { writeFileAtomic } from '../fs.js';
import { projectPath } from '../paths.js';
import { TABLE_FILES, tables } from './tables.js';

const HEADER = (source: readonly string[]) =>
  `# Generated from ${source.join('/')} by src/kinds/generate.ts; do not edit.\n# Regenerate: npx tsc -p . && node dist/src/kinds/generate.js\n`;

/** Keeps one variable per line, so a diff shows which entry changed. */
function psArray(items: readonly unknown[]): string {
  if (items.length === 0) return '@()';
  return `@(\n${items.map((item) => `    ${psLiteral(item).text}`).join(',\n')}\n)`;
}

/** Path (inside the project) -> text of every generated PowerShell table. */
export function renderPowerShellTables(): Record<string, string> {
  const t = tables();
  const principals = t.principals;
  const values = [...t.audit.settingValues].sort((a, b) => a.value - b.value);
  return {
    'src/kinds/user-right/principals.generated.ps1':
      HEADER(TABLE_FILES.principals) +
      `$script:WsPrincipalAuthorities = ${psLiteral(principals.authorities).text}\n` +
      `$script:WsServiceAuthority = ${psLiteral(principals.serviceAuthority).text}\n` +
      `$script:WsWellKnownPrincipals = ${psArray(principals.wellKnown.map((w) => ({ sid: w.sid, name: w.name, aliases: w.aliases })))}\n` +
      `$script:WsDomainRelativePrincipals = ${psArray(principals.domainRelative.map((d) => ({ rid: d.rid, name: d.name, forestRoot: d.forestRoot })))}\n`,
    'src/kinds/user-right/privileges.generated.ps1':
      HEADER(TABLE_FILES.userRights) + `$script:WsUserRights = ${psArray(t.userRights.map((r) => ({ constant: r.constant, title: r.title, type: r.type })))}\n`,
    'src/kinds/audit-policy/subcategories.generated.ps1':
      HEADER(TABLE_FILES.audit) +
      `# Inclusion Setting text by Setting Value (0..3), as auditpol writes it.\n` +
      `$script:WsAuditInclusion = ${psLiteral(values.map((v) => v.inclusion)).text}\n` +
      `$script:WsAuditSubcategories = ${psArray(t.audit.subcategories.map((s) => ({ guid: s.guid, name: s.name, gpoTitle: s.gpoTitle, category: s.category })))}\n`,
    'src/kinds/security-policy/template-keys.generated.ps1':
      HEADER(TABLE_FILES.templateKeys) +
      `$script:WsTemplateKeys = ${psArray(t.templateKeys.map((k) => ({ section: k.section, key: k.key, type: k.type, min: k.min ?? null, max: k.max ?? null })))}\n`,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [file, text] of Object.entries(renderPowerShellTables())) {
    writeFileAtomic(projectPath(file), text);
    console.log(`wrote ${file}`);
  }
}
