/**
 * The persisted view: `<dataDir>/peers.json`, the node ids and addresses of the view's peers,
 * rewritten periodically, so that a restarted node rejoins through them (pinned to their ids, no
 * trust on first use). Written to a temporary file and renamed, so a kill -9 mid-write leaves the
 * previous file; an unreadable file is reported and ignored, never fatal.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isValidNodeId } from '../identity.js';

export const PEERS_FILE = 'peers.json';
const MAX_PERSISTED = 255;

export interface PersistedPeer {
  readonly nodeId: string;
  readonly host: string;
  readonly port: number;
}

export function peersPath(dataDir: string): string {
  return join(dataDir, PEERS_FILE);
}

export async function savePeers(dataDir: string, peers: readonly PersistedPeer[]): Promise<void> {
  const path = peersPath(dataDir);
  const tmp = `${path}.${process.pid}.tmp`;
  const body = { version: 1, savedAt: new Date().toISOString(), peers: peers.slice(0, MAX_PERSISTED).map(({ nodeId, host, port }) => ({ nodeId, host, port })) };
  await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/** The persisted peers; [] if there is no file. Entries that are not well-formed are skipped. */
export async function loadPeers(dataDir: string, onWarning: (message: string) => void = () => {}): Promise<PersistedPeer[]> {
  let text: string;
  try {
    text = await readFile(peersPath(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    onWarning(`cannot read ${peersPath(dataDir)}: ${(err as Error).message}`);
    return [];
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    onWarning(`ignoring ${peersPath(dataDir)}: not JSON (${(err as Error).message})`);
    return [];
  }
  const list = (doc as { peers?: unknown } | null)?.peers;
  if (!Array.isArray(list)) {
    onWarning(`ignoring ${peersPath(dataDir)}: no "peers" list`);
    return [];
  }
  const out: PersistedPeer[] = [];
  for (const p of list.slice(0, MAX_PERSISTED)) {
    const { nodeId, host, port } = (p ?? {}) as Record<string, unknown>;
    if (isValidNodeId(nodeId) && typeof host === 'string' && host.length > 0 && host.length <= 253 && Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536) {
      out.push({ nodeId, host, port: port as number });
    }
  }
  return out;
}
