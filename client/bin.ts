#!/usr/bin/env node
import { main, runAsMain } from './cli.js';

await runAsMain(() => main(process.argv));
