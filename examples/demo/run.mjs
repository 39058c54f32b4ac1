#!/usr/bin/env node
// Demo: apply the seed configuration to a copy of a bundled registry export, then show the change.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { main } from '../../dist/src/cli/cli.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const out = join(here, 'out');
mkdirSync(out, { recursive: true });
const snapshot = join(out, 'server.reg');
copyFileSync(join(here, 'server-before.reg'), snapshot);
process.chdir(root);

const document = 'configurations/smb-client-signing.yaml';
console.log(`== winstate apply ${document} --snapshot ${snapshot}`);
const applied = await main(['apply', document, '--snapshot', snapshot]);
console.log(`exit code ${applied}\n`);
console.log(`== second apply changes nothing`);
const again = await main(['apply', document, '--snapshot', snapshot]);
console.log(`exit code ${again}\n`);
const text = readFileSync(snapshot).toString('utf16le');
console.log(`== ${snapshot} now holds:\n${text.replace(/^\uFEFF/, '')}`);
process.exitCode = applied === 0 && again === 0 ? 0 : 1;
