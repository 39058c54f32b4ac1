#!/usr/bin/env node
// Thin shim: the CLI is a plain function in src/cli.
import { main } from '../dist/src/cli/cli.js';

process.exitCode = await main(process.argv.slice(2));
