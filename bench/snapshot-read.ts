// Benchmark: reading a 10 MB regedit export (UTF-16LE, CRLF) that holds a 1 MB binary value in
// regedit's wrapped hex layout, plus ordinary values, with the runtime's snapshot reader, beside a
// plain read of the same file (bytes and decoding) in the same PowerShell process. Also times the
// save (render and write). Prints the times and the ratios. Usage: node dist/bench/snapshot-read.js
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PwshSession } from '../src/bridge/session.js';
import { ps } from '../src/compile/quote.js';
import { projectPath } from '../src/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'winstate-bench-read-'));

/** Hex bytes as regedit wraps them: a break once a line reaches 77 characters, two-space indent. */
function wrappedHex(prefix: string, bytes: Buffer): string {
  const parts: string[] = [];
  let line = prefix;
  for (let i = 0; i < bytes.length; i++) {
    line += bytes[i]!.toString(16).padStart(2, '0');
    if (i < bytes.length - 1) {
      line += ',';
      if (line.length >= 76) {
        parts.push(`${line}\\`);
        line = '  ';
      }
    }
  }
  parts.push(line);
  return parts.join('\r\n');
}

function makeExport(file: string): void {
  const lines = ['Windows Registry Editor Version 5.00', ''];
  for (let b = 0; b < 1; b++) {
    lines.push(`[HKEY_LOCAL_MACHINE\\SOFTWARE\\BenchRead\\Blob${b}]`);
    const bytes = Buffer.alloc(1024 * 1024, 0);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + b) & 0xff;
    lines.push(wrappedHex('"Data"=hex:', bytes), '');
  }
  // Ordinary values up to 10 MB (UTF-16LE: two bytes a character).
  let size = lines.join('\r\n').length * 2;
  for (let k = 0; size < 10 * 1024 * 1024; k++) {
    const block = [`[HKEY_LOCAL_MACHINE\\SOFTWARE\\BenchRead\\Area${k}]`];
    for (let v = 0; v < 40; v++) block.push(v % 2 ? `"S${v}"="text value ${k}.${v}"` : `"D${v}"=dword:${((k * 40 + v) >>> 0).toString(16).padStart(8, '0')}`);
    block.push('');
    size += (block.join('\r\n').length + 2) * 2;
    lines.push(...block);
  }
  writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf16le')]));
}

async function main(): Promise<void> {
  const file = join(dir, 'big.reg');
  makeExport(file);
  const mb = statSync(file).size / (1024 * 1024);
  const runtime = [...['core.ps1', 'safety.ps1'].map((f) => projectPath('src', 'compile', 'runtime', f)), projectPath('src', 'kinds', 'registry', 'registry-snapshot.ps1')];
  const session = new PwshSession({ timeoutMs: 600_000 });
  try {
    const r = await session.invoke(ps`foreach ($f in ${runtime}) { . $f }
$file = ${file}
$null = Open-WsSnapshotStore -LiteralPath $file   # warm-up: the reader's code compiled once
$plain = [System.Collections.Generic.List[double]]::new(); $read = [System.Collections.Generic.List[double]]::new(); $save = [System.Collections.Generic.List[double]]::new()
for ($k = 0; $k -lt 3; $k++) {
    $t = [System.Diagnostics.Stopwatch]::StartNew()
    $bytes = [System.IO.File]::ReadAllBytes($file)
    $null = [System.Text.Encoding]::Unicode.GetString($bytes, 2, $bytes.Length - 2)
    $plain.Add($t.Elapsed.TotalMilliseconds)
    $t.Restart()
    $store = Open-WsSnapshotStore -LiteralPath $file
    $read.Add($t.Elapsed.TotalMilliseconds)
    $store.Path = $file + '.out'
    $store.Dirty = $true
    $t.Restart()
    $null = Save-WsSnapshotStore -Store $store
    $save.Add($t.Elapsed.TotalMilliseconds)
}
$same = [System.Linq.Enumerable]::SequenceEqual([byte[]][System.IO.File]::ReadAllBytes($file), [byte[]][System.IO.File]::ReadAllBytes($file + '.out'))
'{0}|{1}|{2}|{3}' -f (($plain | Sort-Object)[1]), (($read | Sort-Object)[1]), (($save | Sort-Object)[1]), $same`);
    if (!r.ok) throw r.error;
    const [plain, read, save, same] = r.output.trim().split('|');
    const p = Number(plain);
    const rd = Number(read);
    const sv = Number(save);
    console.log(`snapshot read: ${mb.toFixed(1)} MB export (UTF-16LE), a 1 MB binary value in regedit's wrapped layout; median of 3`);
    console.log(`  plain read (bytes + decode): ${p.toFixed(0)} ms`);
    console.log(`  snapshot reader:             ${rd.toFixed(0)} ms   ratio ${(rd / p).toFixed(1)}x a plain read`);
    console.log(`  save (render + write):       ${sv.toFixed(0)} ms   ratio ${(sv / p).toFixed(1)}x a plain read`);
    console.log(`  saved file identical to the export: ${same}`);
  } finally {
    await session.close();
  }
}

await main();
