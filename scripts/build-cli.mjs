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
// with identifiers minified too (`keepNames` would cost 1.1 MiB of that back). So stack traces in
// the logs name minified functions: the linked source maps (dist/cli/*.map) turn them back into
// TypeScript names and lines for anyone who runs with NODE_OPTIONS=--enable-source-maps. Error
// classes set their `name` explicitly, so error types in logs stay readable.
//
// Tests import dist/src directly; everything that spawns `bin/peercloud.js` runs this bundle.
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Node built-ins that dependencies require() when they load but use only on paths the daemon never
 * takes: fastify's server module requires node:https and node:http2 for its `https` and `http2`
 * options. Loading them costs each daemon ~0.5 MiB (their code in the heap and the node binary's
 * pages holding it), so such a require() gets a stand-in that loads the real module on first use.
 */
const LAZY_BUILTINS = /^(node:)?(http2|https)$/;

/** The stand-in: any use of the module (reading or setting a property, a call, `new`, `in`) loads it first. */
const lazyBuiltinSource = (name) => `
let loaded;
const load = () => (loaded ??= require(${JSON.stringify(name)}));
module.exports = new Proxy(function () {}, {
  get: (_, key) => load()[key],
  set: (_, key, value) => Reflect.set(load(), key, value),
  has: (_, key) => key in load(),
  apply: (_, self, args) => Reflect.apply(load(), self, args),
  construct: (_, args, target) => Reflect.construct(load(), args, target),
  getPrototypeOf: () => Reflect.getPrototypeOf(load()),
});
`;

const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: LAZY_BUILTINS }, (args) => {
      // The stand-in's own require() is the real module, left to Node at run time.
      if (args.namespace === 'lazy-builtin') return { path: args.path, external: true };
      return args.kind === 'require-call' ? { path: args.path, namespace: 'lazy-builtin' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({ contents: lazyBuiltinSource(args.path), loader: 'js' }));
  },
};
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
  plugins: [lazyBuiltins],
  logLevel: 'warning',
});
// Which modules went into which chunk (paths relative to the package root): for `esbuild --analyze`
// style inspection, and for the test that checks what a daemon loads (test/cli/daemon-modules).
writeFileSync(join(out, 'metafile.json'), JSON.stringify(result.metafile));
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'));
const kib = outputs.reduce((sum, [, o]) => sum + o.bytes, 0) / 1024;
console.log(`CLI bundled into dist/cli in ${Date.now() - started} ms: ${outputs.length} chunks, ${kib.toFixed(0)} KiB`);
