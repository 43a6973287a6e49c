#!/usr/bin/env node
// Entry point of the `peercloud` command: runs the bundled CLI (dist/cli, made by
// scripts/build-cli.mjs from tsc's output; see there why it is bundled).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('peercloud: the CLI is not built yet; run `npm run build` first\n');
  process.exit(1);
}
// Output piped into `head` and the like: a closed pipe is not an error worth a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
