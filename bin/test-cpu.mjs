// Loaded with --import by run-tests.mjs: when the test file's process exits, writes the CPU seconds
// it used itself to $WINSTATE_TEST_CPU_FILE (its child processes are sampled by the runner).
import { writeFileSync } from 'node:fs';

const file = process.env.WINSTATE_TEST_CPU_FILE;
if (file) {
  process.on('exit', () => {
    try {
      const own = process.cpuUsage();
      writeFileSync(file, String((own.user + own.system) / 1e6));
    } catch {
      // a measurement only
    }
  });
}
