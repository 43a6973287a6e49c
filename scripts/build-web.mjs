#!/usr/bin/env node
// Bundles the web dashboard (src/web) into dist/web with esbuild: one ES module for the page, one
// for the layout worker, the CSS and index.html. Everything the page needs is in dist/web: the
// daemon serves it as is, and nothing is fetched from a CDN at run time.
// Type-checking is tsc's job (`tsc -p src/web`, run by `npm run build` just before this).
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src/web');
const out = join(root, 'dist/web');
const watch = process.argv.includes('--watch');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(join(src, 'index.html'), join(out, 'index.html'));
const started = Date.now();
const result = await build({
  entryPoints: { app: join(src, 'main.tsx'), 'layout-worker': join(src, 'graph/layout-worker.ts'), styles: join(src, 'styles.css') },
  outdir: join(out, 'assets'),
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: !watch,
  sourcemap: true,
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
const bytes = Object.entries(result.metafile.outputs)
  .filter(([file]) => !file.endsWith('.map') && !file.endsWith('.LEGAL.txt'))
  .map(([file, o]) => `${file.split('/').pop()} ${(o.bytes / 1024).toFixed(0)} KiB`);
console.log(`dashboard bundled into dist/web in ${Date.now() - started} ms: ${bytes.join(', ')}`);
