// The HTML report in a real browser: Debian's Chromium driven by playwright-core (no browser
// download). The page comes from the CLI and real PowerShell on a snapshot. Typing into the filter
// and choosing a status hides rows, clicking a header sorts, nothing is fetched from the network.
// Screenshots land in test-artifacts/ (report.png: a test with drift; report-apply.png: an apply).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { main, type CliIo } from '../../src/cli/cli.js';
import { tempDir, writeReg } from '../helpers.js';
import { findChromium, runCli } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts');
const CHROMIUM = findChromium();

const DOC = `
metadata: { name: server-baseline, description: "SMB, LSA and logon settings of a member server" }
resources:
  - name: SMB client signing (if server agrees)
    type: SecurityOption
    properties: { policy: "Microsoft network client: Digitally sign communications (if server agrees)", value: Enabled }
  - name: SMB server requires signing
    type: Registry
    properties: { key: HKLM\\SYSTEM\\CurrentControlSet\\Services\\LanmanServer\\Parameters, valueName: RequireSecuritySignature, valueType: DWord, valueData: 1 }
  - name: SMBv1 server off
    type: Registry
    properties: { key: HKLM\\SYSTEM\\CurrentControlSet\\Services\\LanmanServer\\Parameters, valueName: SMB1, valueType: DWord, valueData: 0 }
  - name: Restrict anonymous enumeration
    type: Registry
    properties: { key: HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa, valueName: RestrictAnonymous, valueType: DWord, valueData: 1 }
  - name: LAN Manager authentication level
    type: Registry
    properties: { key: HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa, valueName: LmCompatibilityLevel, valueType: DWord, valueData: 5 }
  - name: No LM hash stored
    type: Registry
    properties: { key: HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa, valueName: NoLMHash, valueType: DWord, valueData: 1 }
  - name: Logon banner caption
    type: Registry
    properties: { key: HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System, valueName: LegalNoticeCaption, valueType: String, valueData: Authorized use only }
  - name: Machine inactivity limit
    type: Registry
    properties: { key: HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System, valueName: InactivityTimeoutSecs, valueType: DWord, valueData: 900 }
  - name: Legacy telnet key removed
    type: Registry
    properties: { key: HKLM\\SOFTWARE\\Legacy\\Telnet, ensure: Absent }
`;

const SNAPSHOT = [
  '[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters]',
  '"EnableSecuritySignature"=dword:00000000',
  '',
  '[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\LanmanServer\\Parameters]',
  '"RequireSecuritySignature"=dword:00000001',
  '"SMB1"=dword:00000001',
  '',
  '[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa]',
  '"RestrictAnonymous"=dword:00000001',
  '"LmCompatibilityLevel"=dword:00000003',
  '',
  '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System]',
  '"LegalNoticeCaption"="Authorized use only"',
  '"InactivityTimeoutSecs"=dword:00000384',
  '',
  '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Legacy\\Telnet]',
  '"Port"=dword:00000017',
];

const DRIFTED = ['SMB client signing (if server agrees)', 'SMBv1 server off', 'LAN Manager authentication level', 'No LM hash stored', 'Legacy telnet key removed'];

const cli = runCli;

async function report(command: 'test' | 'apply'): Promise<string> {
  const dir = tempDir();
  const doc = join(dir, 'server-baseline.yaml');
  writeFileSync(doc, DOC);
  const snapshot = join(dir, 'server.reg');
  writeReg(snapshot, SNAPSHOT);
  const file = join(dir, 'report.html');
  const r = await cli([command, doc, '--snapshot', snapshot, '--report', `html:${file}`]);
  assert.is(r.code, command === 'test' ? 2 : 0, r.stderr);
  return file;
}

// apply leaves run records: keep them out of the user's state directory while this file runs
// (uvu runs every file in one process, so the variable is restored afterwards).
const savedStateDir = process.env.WINSTATE_STATE_DIR;
test.before(() => {
  process.env.WINSTATE_STATE_DIR = tempDir('winstate-report-html-state-');
});
test.after(() => {
  if (savedStateDir === undefined) delete process.env.WINSTATE_STATE_DIR;
  else process.env.WINSTATE_STATE_DIR = savedStateDir;
});

let browser: Browser | undefined;
let launchError: Error | undefined;
test.before(async () => {
  try {
    if (!CHROMIUM) throw new Error('Chromium is missing: npm test installs it as root (apt-get install chromium), or set WINSTATE_CHROMIUM to a Chromium or Chrome binary');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  } catch (error) {
    launchError = error as Error; // each test fails with it, rather than the whole run stopping
  }
});
test.after(async () => {
  await browser?.close();
});

interface Opened {
  page: Page;
  requests: string[];
  errors: string[];
}

async function open(file: string): Promise<Opened> {
  if (!browser) throw launchError ?? new Error('Chromium did not start');
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
  });
  await page.goto(pathToFileURL(file).href);
  return { page, requests, errors };
}

const visibleRows = (page: Page) => page.locator('#settings tbody tr:visible');
const visibleNames = (page: Page) => page.locator('#settings tbody tr:visible .name').allTextContents();

test('filtering: typing hides rows that do not match, the status filter keeps one status, the count follows', async () => {
  const { page, requests, errors } = await open(await report('test'));
  assert.is(await visibleRows(page).count(), 9);
  assert.is(await page.locator('#count').textContent(), '9 of 9 settings shown');
  // Problems come first.
  assert.equal((await visibleNames(page)).slice(0, 5).sort(), [...DRIFTED].sort());

  await page.locator('#filter').fill('Lsa');
  assert.equal((await visibleNames(page)).sort(), ['LAN Manager authentication level', 'No LM hash stored', 'Restrict anonymous enumeration']);
  assert.is(await page.locator('#count').textContent(), '3 of 9 settings shown');
  await page.locator('#filter').fill('lsa nolmhash');
  assert.equal(await visibleNames(page), ['No LM hash stored'], 'every word must match');
  await page.locator('#filter').fill('no such setting anywhere');
  assert.is(await visibleRows(page).count(), 0);
  assert.ok(await page.locator('#no-match').isVisible());
  await page.locator('#filter').fill('');
  assert.is(await visibleRows(page).count(), 9);

  await page.locator('#status-filter').selectOption('drift');
  assert.equal((await visibleNames(page)).sort(), [...DRIFTED].sort());
  assert.equal(new Set(await page.locator('#settings tbody tr:visible').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')))), new Set(['drift']));
  await page.locator('#filter').fill('smb');
  assert.equal((await visibleNames(page)).sort(), ['SMB client signing (if server agrees)', 'SMBv1 server off'], 'text and status filters combine');
  await page.locator('#status-filter').selectOption('');
  await page.locator('#filter').fill('');
  await page.locator('#severity-filter').selectOption('medium');
  assert.equal(await visibleNames(page), ['SMB client signing (if server agrees)']);
  await page.locator('#severity-filter').selectOption('');

  assert.equal(errors, [], 'no script errors or CSP violations');
  assert.equal(requests, [page.url()], 'nothing but the page itself was requested');
  assert.ok(page.url().startsWith('file://'));
  await page.close();
});

test('sorting: clicking a header sorts by it, clicking again reverses; aria-sort follows', async () => {
  const { page, errors } = await open(await report('test'));
  const header = page.locator('th[data-key="name"]');
  await header.locator('button').click();
  const ascending = await visibleNames(page);
  assert.equal(ascending, [...ascending].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
  assert.is(ascending[0], 'LAN Manager authentication level');
  assert.is(await header.getAttribute('aria-sort'), 'ascending');
  assert.is(await page.locator('th[data-key="status"]').getAttribute('aria-sort'), 'none');
  await header.locator('button').click();
  assert.equal(await visibleNames(page), [...ascending].reverse());
  assert.is(await header.getAttribute('aria-sort'), 'descending');
  // Severity sorts by rank, not by the word: medium (the catalog setting) before unrated.
  await page.locator('th[data-key="severity"] button').click();
  assert.is((await visibleNames(page))[0], 'SMB client signing (if server agrees)');
  assert.equal(errors, []);
  await page.close();
});

test('the page reads well: summary, charts and table rendered; screenshots saved to test-artifacts/', async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const { page, errors } = await open(await report('test'));
  assert.is(await page.locator('.card').count(), 4, 'settings, in desired state, drift, errors');
  assert.is(await page.locator('.card-value').first().textContent(), '9');
  assert.is(await page.locator('svg.chart').count(), 2);
  assert.ok((await page.locator('svg.chart rect').count()) >= 4, 'bars drawn');
  const box = await page.locator('#settings').boundingBox();
  assert.ok(box && box.width > 900, 'the table uses the width of the page');
  const fit = await page.locator('.table-wrap').last().evaluate((wrap) => [wrap.scrollWidth, wrap.clientWidth]);
  assert.ok(fit[0]! <= fit[1]!, `the table fits a 1360 px window without scrolling sideways: ${fit.join(' > ')}`);
  await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
  assert.ok(statSync(join(ARTIFACTS, 'report.png')).size > 20_000);
  assert.equal(errors, []);
  await page.close();

  const applied = await open(await report('apply'));
  assert.is(await applied.page.locator('.changes-table tbody tr').count(), 5, 'one row per change');
  assert.is(await applied.page.locator('h1 .verdict').textContent(), 'Converged');
  await applied.page.screenshot({ path: join(ARTIFACTS, 'report-apply.png'), fullPage: true });
  assert.equal(applied.errors, []);
  await applied.page.close();
});

test.run();
