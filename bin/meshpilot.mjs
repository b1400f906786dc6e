#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: no build step between a clone and a run. Both of tsx's hooks:
// ESM for our modules, and CommonJS for what the Temporal SDK loads with require() (the codec's failure
// converter, by path, when payload encryption is on).
import { register } from 'tsx/esm/api';
import { register as registerCjs } from 'tsx/cjs/api';
register();
registerCjs();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
