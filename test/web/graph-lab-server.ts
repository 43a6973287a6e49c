/**
 * The graph lab page (src/web/graph/graph-lab.tsx) bundled with esbuild into a temporary
 * directory and served on 127.0.0.1, for the graph's browser tests and `npm run bench --
 * dashboard`. Built from source each time, so neither depends on the state of dist/web (the
 * dashboard's own build) nor puts the lab into what the daemon serves.
 *
 * `node dist/test/web/graph-lab-server.js [port]` serves it for a look in a browser.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const graphSrc = join(root, 'src/web/graph');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

export interface GraphLabServer {
  /** The lab page's URL (add ?nodes=… or ?wait). */
  readonly url: string;
  readonly dir: string;
  close(): Promise<void>;
}

/** Bundles the lab page and its worker into `dir` (assets/graph-lab.js, layout-worker.js, graph-lab.css). */
export async function bundleGraphLab(dir: string): Promise<void> {
  mkdirSync(join(dir, 'assets'), { recursive: true });
  await build({
    entryPoints: { 'graph-lab': join(graphSrc, 'graph-lab.tsx'), 'layout-worker': join(graphSrc, 'layout-worker.ts') },
    outdir: join(dir, 'assets'),
    bundle: true,
    format: 'esm',
    target: ['chrome110'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: true,
    logLevel: 'error',
  });
  copyFileSync(join(graphSrc, 'graph.css'), join(dir, 'assets/graph-lab.css'));
  copyFileSync(join(graphSrc, 'graph-lab.html'), join(dir, 'graph-lab.html'));
}

export async function startGraphLab(port = 0): Promise<GraphLabServer> {
  const dir = mkdtempSync(join(tmpdir(), 'peercloud-graph-lab-'));
  try {
    await bundleGraphLab(dir);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^[/\\]+/, '');
    const file = join(dir, path || 'graph-lab.html');
    if (!file.startsWith(dir + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/graph-lab.html`,
    dir,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Run directly (`node dist/test/web/graph-lab-server.js`) it serves the lab until Ctrl-C. `node --test`
// also runs every file under test/ as a test file: NODE_TEST_CONTEXT tells it apart, so the suite
// does not hang on a server that never exits.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.env.NODE_TEST_CONTEXT === undefined) {
  const lab = await startGraphLab(Number(process.argv[2] ?? 0));
  process.stdout.write(`graph lab at ${lab.url}?nodes=1000 (Ctrl-C stops)\n`);
  process.once('SIGINT', () => void lab.close().then(() => process.exit(0)));
}
