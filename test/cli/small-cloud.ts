/**
 * A small cloud of real daemons for the slice tests: N data dirs made by `peercloud init`, the
 * first daemon started, the others joining it, users created, and every view full before the
 * tests begin. `killAll` (node-helpers.ts) and removing `root` clean it up.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerView } from '../../src/api/schemas.js';
import { type Daemon, getJson, runCli, startDaemon, waitFor } from './node-helpers.js';

export interface SmallCloud {
  readonly root: string;
  /** The user key directory (`--user-dir`). */
  readonly users: string;
  readonly daemons: Daemon[];
}

export interface SmallCloudOptions {
  readonly nodes: number;
  /** Prefix of the temporary directory's name. */
  readonly name: string;
  /** `node start` arguments of every daemon. */
  readonly args: readonly string[];
  /** More arguments for daemon i (0 is the first, which the others join). */
  readonly argsOf?: (i: number) => readonly string[];
  readonly users: readonly string[];
}

export async function startSmallCloud(o: SmallCloudOptions): Promise<SmallCloud> {
  const root = mkdtempSync(join(tmpdir(), `${o.name}-`));
  const users = join(root, 'users');
  const inits = await Promise.all(Array.from({ length: o.nodes }, (_, i) => runCli(['init', '--data-dir', join(root, `n${i}`)])));
  for (const r of inits) assert.equal(r.code, 0, r.stderr);
  const argsOf = (i: number) => [...o.args, ...(o.argsOf?.(i) ?? [])];
  const daemons: Daemon[] = [await startDaemon(join(root, 'n0'), argsOf(0))];
  daemons.push(...(await Promise.all(Array.from({ length: o.nodes - 1 }, (_, i) => startDaemon(join(root, `n${i + 1}`), [...argsOf(i + 1), '--join', daemons[0].listen])))));
  for (const name of o.users) assert.equal((await runCli(['user', 'create', name, '--user-dir', users])).code, 0);
  await waitFor('full views', 20_000, async () => {
    const views = await Promise.all(daemons.map((d) => getJson<PeerView>(d.api, '/v1/peers')));
    return views.every((v) => v.count === o.nodes - 1) ? true : undefined;
  });
  return { root, users, daemons };
}
