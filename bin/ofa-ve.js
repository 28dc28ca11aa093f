#!/usr/bin/env node
// The CLI runs the TypeScript sources directly through tsx's loader, so `npm ci` is all it needs.
import { register } from 'tsx/esm/api';

// A closed stdout or stderr (`ofa-ve serve | head -1`) must never stop the process, not even while
// modules load, before main/logging/stdio-guard.ts takes over.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

register();
const { main } = await import('../main/cli/ofa-ve.ts');
process.exitCode = await main(process.argv.slice(2));
