#!/usr/bin/env node
// Bundles the `peercloud` CLI, the daemon included, from tsc's output (dist/src/cli/main.js) into
// dist/cli with esbuild: what bin/peercloud.js runs. Each command group main.ts imports lazily
// becomes its own chunk, so `peercloud node start` still loads only the daemon's code.
//
// Why bundle: a daemon runs for days on someone else's machine and issue 3 budgets 60 MiB of
// resident memory for it. Node keeps every loaded module's source text and module record for the
// life of the process, and most of our dependencies ship comments, whitespace and code we never
// call. Measured on the idle nodes of a 10-node local cloud (median VmRSS, 50 s after start):
// 65.9 MiB from dist/src, 64.3 MiB bundled, 62.2 MiB bundled with whitespace removed, 61.4 MiB
// with identifiers minified too. Identifiers are kept (stack traces in logs stay readable, and
// `keepNames` is not needed); a linked source map maps positions back to the TypeScript for
// anyone who runs with NODE_OPTIONS=--enable-source-maps.
//
// Tests import dist/src directly; everything that spawns `bin/peercloud.js` runs this bundle.
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/cli');

rmSync(out, { recursive: true, force: true });
const started = Date.now();
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: join(root, 'dist/src/cli/main.js') },
  outdir: out,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: true,
  sourcemap: 'linked',
  metafile: true,
  legalComments: 'linked',
  // CommonJS dependencies bundled into ES modules still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __peercloudCreateRequire } from 'node:module'; const require = __peercloudCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
// Which modules went into which chunk (paths relative to the package root): for `esbuild --analyze`
// style inspection, and for the test that checks what a daemon loads (test/cli/daemon-modules).
writeFileSync(join(out, 'metafile.json'), JSON.stringify(result.metafile));
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'));
const kib = outputs.reduce((sum, [, o]) => sum + o.bytes, 0) / 1024;
console.log(`CLI bundled into dist/cli in ${Date.now() - started} ms: ${outputs.length} chunks, ${kib.toFixed(0)} KiB`);
