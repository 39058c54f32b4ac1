// Loaded with --import by run-tests.mjs: when the test file's process exits, writes the CPU seconds
// it used (its own, plus the children it waited for: PowerShell, the CLI, sshd...) to
// $WINSTATE_TEST_CPU_FILE. Unlike wall time, a busy machine barely changes it. Linux only.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.env.WINSTATE_TEST_CPU_FILE;
if (file && process.platform === 'linux') {
  process.on('exit', () => {
    try {
      const own = process.cpuUsage();
      const stat = readFileSync('/proc/self/stat', 'utf8');
      // Fields after the command name: state is the 3rd field; cutime and cstime the 16th and 17th, in 1/100 s.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const children = (Number(fields[13]) + Number(fields[14])) / 100;
      writeFileSync(file, String((own.user + own.system) / 1e6 + children));
    } catch {
      // a measurement only
    }
  });
}
