// Loaded with --import by run-tests.mjs for --test <re>: test files that import 'uvu' get a
// wrapper whose test() registers only tests whose name matches; the others count as skipped.
import { register } from 'node:module';

register('./test-name-filter-hooks.mjs', import.meta.url);
