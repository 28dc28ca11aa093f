#!/usr/bin/env node
// The CLI runs the TypeScript sources directly through tsx's loader, so `npm ci` is all it needs.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../main/cli/ofa-ve.ts');
process.exitCode = await main(process.argv.slice(2));
