#!/usr/bin/env node
// Runs every uvu test file and ends with `N passed, N failed`; fails when no test ran.
// uvu itself prints totals in another shape and exits 0 when nothing ran.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// --windows runs only the live-registry tests (Windows runners); otherwise everything else.
const windows = process.argv.includes('--windows');
const args = windows ? ['dist/test/windows', '\\.test\\.js$'] : ['dist/test', '\\.test\\.js$', '--ignore', 'windows'];
const child = spawn(process.execPath, [fileURLToPath(new URL('../node_modules/uvu/bin.js', import.meta.url)), ...args], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, NO_COLOR: '1' },
});
let out = '';
child.stdout.on('data', (chunk) => {
  out += chunk;
  process.stdout.write(chunk);
});
child.on('close', (code) => {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const number = (label) => Number((plain.match(new RegExp(`${label}:\\s+(\\d+)`)) ?? [])[1] ?? 0);
  const total = number('Total');
  const passed = number('Passed');
  const skipped = number('Skipped');
  // uvu counts skipped tests outside Total.
  const failed = total - passed;
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (total === 0) {
    console.error('no tests ran');
    process.exit(1);
  }
  process.exit(failed > 0 || code !== 0 ? 1 : 0);
});
