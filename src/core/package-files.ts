/**
 * Files of the installed peercloud package (package.json, bin/peercloud.js, dist/web, ...), found
 * from wherever the calling code runs.
 *
 * Why not `new URL('../../../package.json', import.meta.url)`: the same module runs from two
 * places, dist/src/<folder>/<module>.js (tests, `tsc` output) and a chunk of the bundled CLI in
 * dist/cli/ (what `bin/peercloud.js` runs, see scripts/build-cli.mjs), at different depths. So the
 * root is found by walking up to the package.json that names this package.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'peercloud';

let cachedRoot: string | undefined;

/** The directory holding peercloud's package.json. Throws if this file is not inside the package. */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && readPackageName(candidate) === PACKAGE_NAME) return (cachedRoot = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** An absolute path inside the package, e.g. packageFile('bin', 'peercloud.js'). */
export function packageFile(...segments: string[]): string {
  return join(packageRoot(), ...segments);
}

let cachedVersion: string | undefined;

/** The package's version (package.json `version`). */
export function packageVersion(): string {
  cachedVersion ??= (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }).version;
  return cachedVersion;
}

function readPackageName(path: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown }).name as string | undefined;
  } catch {
    return undefined; // an unreadable or broken package.json of some other project: keep walking
  }
}
