#!/usr/bin/env node
// Thin shim: the CLI is a plain function in src/cli.
import { main } from '../dist/src/cli/cli.js';

// A reader that stops early (`winstate catalog list | head`) is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv.slice(2));
