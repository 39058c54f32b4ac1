// One rule, two languages: the order in which a run takes its locks, through TypeScript's
// lockPathsFor and the runtime's Get-WsLockPathList, against the same cases.
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { projectPath } from '../../src/paths.js';
import { lockPathsFor } from '../../src/engine/state.js';
import { psJoin, ps } from '../../src/compile/quote.js';
import { KindsShell } from '../kinds-helpers.js';

// Set before the shell starts: PowerShell reads it from its environment.
process.env.ProgramData = mkdtempSync(join(tmpdir(), 'winstate-programdata-'));
const shell = new KindsShell();
test.after(() => shell.close());

interface LockCase { files: string[]; locks: string[] }
const cases = (JSON.parse(readFileSync(projectPath('test', 'fixtures', 'kinds', 'lock-path-cases.json'), 'utf8')) as { cases: LockCase[] }).cases;
const expected = (c: LockCase) => c.locks.map((l) => l.replace('<ProgramData>', process.env.ProgramData!));

test('the cases hold a case where the order of the files and of their locks differ', () => {
  const c = cases.find((x) => x.files.length > 1 && [...x.files].sort().map((f) => `${f}.lock`).join() !== x.locks.join());
  assert.ok(c, 'no case tells sorting the files from sorting the locks');
});

test('lockPathsFor gives every shared case', () => {
  for (const c of cases) assert.equal(lockPathsFor(c.files), expected(c), JSON.stringify(c.files));
});

test('Get-WsLockPathList gives every shared case', async () => {
  // One line per case, the locks joined by a character no case uses.
  const code = psJoin(
    cases.map((c) => ps`(Get-WsLockPathList -Files ([string[]]@(${psJoin(c.files.map((f) => ps`${f}`), ', ')}))) -join [string][char]9`),
    '\n',
  );
  const answers = (await shell.text(code)).split('\n').map((line) => line.split('\t'));
  assert.equal(answers.length, cases.length);
  cases.forEach((c, i) => assert.equal(answers[i], expected(c), JSON.stringify(c.files)));
});

test.run();
