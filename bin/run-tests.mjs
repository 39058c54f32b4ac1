#!/usr/bin/env node
// Runs the uvu test files, several at once, each in its own process (group), and ends with
// `N passed, N failed[, N skipped]`. A file that crashes, fails to import, exits non-zero or
// leaves processes behind counts as a failure under its own name; no test run at all fails.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const HELP = `Usage: node bin/run-tests.mjs [options] [file-pattern ...]

Runs the compiled tests (dist/test/**/*.test.js; build first: npm run build), several files at
once, longest first. Each file's line gives its passed/total tests, wall time and, on Linux, its
CPU time (its own and its child processes'), which a busy machine barely changes. Each file runs
with a temporary folder of its own as TMPDIR, removed when the file passes and kept (and named)
when it fails, so a run leaves nothing behind.

  file-pattern       run only files whose path contains it, e.g. snapshot-store, unit/ or
                     test/unit/cli.test.ts (a source path names its compiled file)
  -t, --test <re>    run only tests whose name matches the regular expression (others count as skipped)
  -j, --jobs <n>     test files run at once (default: ${defaultJobs()})
  --file-timeout <s> a file still running after this many seconds is killed and fails (default 900)
  --dir <path>       look for test files there instead of dist/test
  --windows          run only the live-registry tests (dist/test/windows)
  --all              run the live-registry tests too (npm test: after bin/setup-live.mjs prepared them)
  --bail             stop starting files after the first failing one
  -h, --help         this text

Examples:
  node bin/run-tests.mjs snapshot-store
  node bin/run-tests.mjs unit/catalog -t "STIG"
  npm test -- -t "rollback"           (builds first, then passes the options on)`;

function defaultJobs() {
  return Math.max(2, availableParallelism() + 1);
}

function parseOptions(argv) {
  const options = { patterns: [], name: undefined, jobs: defaultJobs(), windows: false, all: false, bail: false, fileTimeout: 900, dir: undefined };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inline;
    if (arg.startsWith('--') && arg.includes('=')) [arg, inline] = [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)];
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) fail(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '-h': case '--help': console.log(HELP); process.exit(0); break;
      case '-t': case '--test': options.name = value(); break;
      case '-j': case '--jobs': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 64) fail('--jobs takes a whole number from 1 to 64');
        options.jobs = n;
        break;
      }
      case '--file-timeout': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) fail('--file-timeout takes a whole number of seconds');
        options.fileTimeout = n;
        break;
      }
      case '--dir': options.dir = value(); break;
      case '--windows': options.windows = true; break;
      case '--all': options.all = true; break;
      case '--bail': options.bail = true; break;
      default:
        if (arg.startsWith('-')) fail(`unknown option ${arg} (see --help)`);
        options.patterns.push(arg);
    }
  }
  if (options.name !== undefined) {
    try { new RegExp(options.name); } catch (error) { fail(`--test: ${error.message}`); }
  }
  return options;
}

function fail(message) {
  console.error(`run-tests: ${message}`);
  process.exit(2);
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

// Durations of earlier runs, so the longest files start first and the wall time stays short.
const TIMES_FILE = join(root, 'node_modules', '.cache', 'winstate-test-times.json');
function readTimes() {
  try { return JSON.parse(readFileSync(TIMES_FILE, 'utf8')); } catch { return {}; }
}
function writeTimes(times) {
  try {
    mkdirSync(dirname(TIMES_FILE), { recursive: true });
    writeFileSync(TIMES_FILE, JSON.stringify(times, null, 1));
  } catch { /* a cache only */ }
}

/**
 * How long a file is expected to take: its last duration, else a guess by folder (a fresh clone has
 * no durations yet): the live lane under Wine and the PowerShell integration tests take longest.
 */
function expectedMs(name, times) {
  if (times[name] !== undefined) return times[name];
  const guess = [['/windows/', 60_000], ['/integration/', 30_000], ['/fleet/', 20_000], ['/dsc/', 20_000]].find(([folder]) => `/${name}`.includes(folder));
  return guess ? guess[1] : 5_000;
}

/** Processes still alive in a process group (Linux/macOS), as "pid command" lines. */
function survivors(pgid) {
  if (process.platform === 'win32') return [];
  try { process.kill(-pgid, 0); } catch { return []; }
  const ps = spawnSync('ps', ['-o', 'pid=,stat=,args=', '-g', String(pgid)], { encoding: 'utf8' });
  // Zombies are dead already; only an init that does not reap (some containers) keeps them listed.
  return (ps.stdout ?? '').split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 2 && !f[1].startsWith('Z')).map((f) => [f[0], ...f.slice(2)].join(' '));
}

// Each file's process writes its own CPU time in a file of this folder (bin/test-cpu.mjs); made by main.
let cpuDir;
let cpuFiles = 0;
// The run's own temporary folder: each file gets a folder in it as its TMPDIR, removed once the
// file passed, so a run leaves nothing behind in the system's temporary folder (a failing file's is
// kept and named, to look into).
let runTmp;
let tmpFiles = 0;

/**
 * Records, by process id, the CPU seconds each other process of a process group has used so far
 * (Linux /proc). Sampled while the file runs: PowerShell behind a launcher is often not the
 * test's own child, so the test process cannot count it when it exits.
 */
function sampleGroup(pgid, exclude, seen) {
  if (process.platform !== 'linux') return;
  let entries;
  try { entries = readdirSync('/proc'); } catch { return; }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === exclude) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After the command name: state, ppid, pgrp, ..., utime and stime (the 14th and 15th fields, in 1/100 s).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) seen.set(entry, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch { /* ended meanwhile */ }
  }
}

/**
 * The variables that name the temporary folder: TMPDIR for node and .NET on Linux and macOS. TMP
 * and TEMP only on Windows: under Wine a Unix path there breaks the Windows PowerShell (it cannot
 * load its own modules).
 */
function tempEnv(dir) {
  return process.platform === 'win32' ? { TMP: dir, TEMP: dir } : { TMPDIR: dir };
}

function isWindows() {
  return process.platform === 'win32';
}

function runFile(file, options) {
  return new Promise((resolve) => {
    const started = Date.now();
    const args = ['--import', pathToFileURL(join(root, 'bin', 'test-cpu.mjs')).href];
    if (options.name !== undefined) args.push('--import', pathToFileURL(join(root, 'bin', 'test-name-filter.mjs')).href);
    args.push(file);
    const cpuFile = join(cpuDir, `${process.pid}-${++cpuFiles}.txt`);
    // Short names: sshd and PowerShell put Unix sockets in there, whose paths are limited to ~100 bytes.
    const fileTmp = join(runTmp, String(++tmpFiles));
    mkdirSync(fileTmp, { recursive: true });
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      env: { ...process.env, NO_COLOR: '1', WINSTATE_TEST_NAME: options.name ?? '', WINSTATE_TEST_CPU_FILE: cpuFile, ...tempEnv(fileTmp) },
    });
    let output = '';
    let timedOut = false;
    const children = new Map();
    const sampler = child.pid && !isWindows() ? setInterval(() => sampleGroup(child.pid, child.pid, children), 500) : undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(process.platform === 'win32' ? child.pid : -child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, options.fileTimeout * 1000);
    child.stdout.on('data', (chunk) => { output += chunk; });
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.on('error', (error) => { output += `\n${error.message}\n`; });
    child.on('close', async (code, signal) => {
      clearTimeout(timer);
      clearInterval(sampler);
      // Children still on their way out (a console host closing behind a killed PowerShell) get a
      // few seconds; what is left after that was left behind.
      let left = child.pid ? survivors(child.pid) : [];
      for (let waited = 0; left.length && waited < 5000; waited += 100) {
        await new Promise((r) => setTimeout(r, 100));
        left = survivors(child.pid);
      }
      if (left.length) {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
      }
      let cpu;
      try {
        cpu = Number(readFileSync(cpuFile, 'utf8')) + [...children.values()].reduce((a, b) => a + b, 0);
        rmSync(cpuFile);
      } catch { /* not measured (killed) */ }
      resolve({ file, code, signal, output, left, timedOut, ms: Date.now() - started, cpu, tmp: fileTmp });
    });
  });
}

/** uvu's own totals for one file; undefined when the file never got to print them. */
function totals(output) {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const number = (label) => {
    const m = plain.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'));
    return m ? Number(m[1]) : undefined;
  };
  const total = number('Total');
  const passed = number('Passed');
  if (total === undefined || passed === undefined) return undefined;
  return { total, passed, skipped: number('Skipped') ?? 0 };
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const testRoot = options.dir ? resolve(options.dir) : join(root, 'dist', 'test');
  let files = options.windows
    ? listFiles(join(testRoot, 'windows'))
    : listFiles(testRoot).filter((f) => options.all || !relative(testRoot, f).startsWith(`windows${sep}`));
  if (options.patterns.length) {
    // A source path (test/unit/x.test.ts) names its compiled file (unit/x.test.js).
    const patterns = options.patterns.map((p) => p.replace(/\\/g, '/').replace(/^(\.\/)?test\//, '').replace(/\.ts$/, '.js'));
    files = files.filter((f) => patterns.some((p) => relative(testRoot, f).split(sep).join('/').includes(p)));
  }
  if (files.length === 0) {
    console.error(`run-tests: no test file found${options.patterns.length ? ` matching ${options.patterns.join(', ')}` : ` under ${relative(root, testRoot)} (build first: npm run build)`}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  const times = readTimes();
  const key = (f) => relative(options.dir ? testRoot : root, f).split(sep).join('/');
  files.sort((a, b) => expectedMs(key(b), times) - expectedMs(key(a), times) || a.localeCompare(b));

  const started = Date.now();
  runTmp = mkdtempSync(join(tmpdir(), 'ws-run-'));
  cpuDir = join(runTmp, 'cpu');
  mkdirSync(cpuDir);
  let passed = 0, failed = 0, skipped = 0, cpuTotal = 0;
  const broken = [];
  const keptTmp = [];
  const queue = [...files];
  let stop = false;
  const worker = async () => {
    while (queue.length && !stop) {
      const file = queue.shift();
      let r;
      try {
        r = await runFile(file, options);
      } catch (error) {
        // The runner could not even start the file: that file fails, the run goes on.
        r = { file, code: null, signal: null, output: `run-tests could not run this file: ${error?.stack ?? error}\n`, left: [], timedOut: false, ms: 0, cpu: undefined, tmp: undefined };
      }
      const name = key(file);
      times[name] = r.ms;
      const t = totals(r.output);
      const problems = [];
      if (r.timedOut) problems.push(`still running after ${options.fileTimeout} s: killed (see --file-timeout)`);
      else if (!t) problems.push(r.signal ? `killed by ${r.signal}` : `crashed before reporting any result (exit code ${r.code})`);
      else if (t.total === 0 && options.name === undefined) problems.push('ran no test');
      if (t && r.code !== 0 && t.passed === t.total) problems.push(`exited with code ${r.code} although its tests passed`);
      if (r.left.length) problems.push(`left ${r.left.length} process(es) running:\n    ${r.left.join('\n    ')}`);
      if (t) {
        passed += t.passed;
        failed += t.total - t.passed;
        skipped += t.skipped;
      }
      if (problems.length) {
        failed += 1;
        broken.push(name);
      } else if (t && t.total !== t.passed) {
        broken.push(name);
      }
      const status = problems.length || (t && t.total !== t.passed) ? 'FAIL' : 'ok';
      const counts = t ? `${t.passed}/${t.total}${t.skipped ? `, ${t.skipped} skipped` : ''}` : 'no result';
      if (r.cpu !== undefined) cpuTotal += r.cpu;
      const cpu = r.cpu !== undefined ? `, ${r.cpu.toFixed(1)} s CPU` : '';
      process.stdout.write(`\n${status} ${name} (${counts}, ${(r.ms / 1000).toFixed(1)} s${cpu})\n`);
      // A file the runner could not start has no folder of its own.
      if (r.tmp !== undefined && status === 'ok') rmSync(r.tmp, { recursive: true, force: true });
      else if (r.tmp !== undefined) keptTmp.push(r.tmp);
      if (status !== 'ok') {
        process.stdout.write(r.output.replace(/^/gm, '  ') + '\n');
        for (const p of problems) process.stdout.write(`  ${name}: ${p}\n`);
        if (r.tmp !== undefined) process.stdout.write(`  ${name}: its temporary files are kept in ${r.tmp}\n`);
        if (options.bail) stop = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.jobs, files.length) }, worker));
  if (!options.dir) writeTimes(times);

  const wall = ((Date.now() - started) / 1000).toFixed(1);
  rmSync(cpuDir, { recursive: true, force: true });
  if (keptTmp.length === 0) rmSync(runTmp, { recursive: true, force: true });
  const cpuText = cpuTotal > 0 ? `, ${cpuTotal.toFixed(0)} s of CPU` : '';
  console.log(`\n${files.length} test files in ${wall} s wall time (${options.jobs} at once${cpuText})`);
  if (broken.length) console.log(`failing files: ${broken.join(', ')}`);
  if (passed + failed === 0) console.error('no tests ran');
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
