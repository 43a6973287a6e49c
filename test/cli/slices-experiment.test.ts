/**
 * The design report's slice experiment on real daemon processes: a 40-daemon `peercloud cluster`,
 * three slices of different sizes coordinated by three different nodes (the largest with
 * --keep-size), their T-Man rings complete, then kill -9 of half of all nodes (never a
 * coordinator). Afterwards:
 *  - every surviving member's ring neighbours are live members of its own slice (the time this
 *    took is reported as a diagnostic, in cycles; the wait allows a few times the 10 cycles of the
 *    report, as two busy cores run the forty daemons);
 *  - `slice describe` on each coordinator lists only live members once the lease renewals noticed;
 *  - the --keep-size slice is back to its size (enough free live nodes are left by construction),
 *    and its ring closes over the old and the new members.
 *
 * Fast settings: 250 ms cycles; a 3 s lease (renewed every second), passed to every daemon with
 * `cluster up --daemon-arg`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PeerView } from '../../src/api/schemas.js';
import type { ClusterNode, ClusterState } from '../../src/cli/cluster/cluster-state.js';
import { shuffled } from '../../src/cli/cluster/random-pick.js';
import type { MembershipView, SliceView } from '../../src/slices/slice-api.js';
import { clusterUp, killLeftovers } from './cluster-helpers.js';
import { getJson, runCli, waitFor } from './node-helpers.js';

const N = 40;
const CYCLE_MS = 250;
const LEASE_MS = 3_000;
/** The report's bound, and the factor our wall-clock wait allows on top (two busy cores, 40 daemons). */
const REPAIR_CYCLES = 10;
const SLACK = 4;
/** name, size, coordinator (index into the cluster), keep-size */
const SLICES = [
  { name: 'small', nodes: 4, coordinator: 0, keepSize: false },
  { name: 'medium', nodes: 8, coordinator: 1, keepSize: false },
  { name: 'large', nodes: 12, coordinator: 2, keepSize: true },
] as const;

let root: string;
let users: string;
let nodes: ClusterNode[] = [];
const setup: string[] = [];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'peercloud-slices-exp-'));
  users = join(root, 'users');
  const started = Date.now();
  const { result } = await clusterUp(join(root, 'cluster'), N, ['--cycle-period-ms', String(CYCLE_MS), '--epoch-length', '10', `--daemon-arg=--slice-lease-ms=${LEASE_MS}`, '--ready-timeout-ms', '90000']);
  assert.equal(result.code, 0, result.stderr);
  nodes = (JSON.parse(result.stdout) as ClusterState).nodes;
  setup.push(`cluster up ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.equal((await runCli(['user', 'create', 'alice', '--user-dir', users])).code, 0);
  // Calls spread through the peer sampling views: wait until every view is full.
  await waitFor('full peer sampling views', 60_000, async () => {
    const views = await Promise.all(nodes.map((n) => getJson<PeerView>(n.api, '/v1/peers')));
    return views.every((v) => v.count >= Math.min(v.viewSize, N - 1)) ? true : undefined;
  });
  setup.push(`full views ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

after(async () => {
  if (!root) return;
  await runCli(['cluster', 'down', '--data-root', join(root, 'cluster'), '--grace-ms', '2000'], {}, 60_000);
  await killLeftovers(join(root, 'cluster'));
  rmSync(root, { recursive: true, force: true });
});

const as = (api: string, ...args: string[]) => runCli([...args, '--api', api, '--user', 'alice', '--user-dir', users, '--json'], {}, 60_000);

/** The membership of each node named, read from its own API (nodes that do not answer are left out). */
async function memberships(of: readonly ClusterNode[]): Promise<Map<string, MembershipView>> {
  const out = new Map<string, MembershipView>();
  await Promise.all(
    of.map(async (n) => {
      try {
        out.set(n.nodeId, await getJson<MembershipView>(n.api, '/v1/membership'));
      } catch {
        // not answering: counted as not a member by the callers
      }
    }),
  );
  return out;
}

/**
 * What is wrong with the rings of the live nodes: for each member (by its own word) of a slice,
 * its predecessor and successor must be live members of that same slice; with `closed`, following
 * successors must also visit every member of the slice once (one ring). Empty: all good.
 */
function ringProblems(views: Map<string, MembershipView>, only: ReadonlySet<string> | null, closed: boolean): string[] {
  const bySlice = new Map<string, string[]>();
  for (const [id, v] of views) if (v.state === 'member' && v.slice) bySlice.set(v.slice.sliceId, [...(bySlice.get(v.slice.sliceId) ?? []), id]);
  const problems: string[] = [];
  for (const [sliceId, members] of bySlice) {
    const inSlice = new Set(members);
    for (const id of members) {
      if (only && !only.has(id)) continue;
      const { predecessor, successor } = views.get(id)!.ring;
      for (const [side, n] of [['predecessor', predecessor], ['successor', successor]] as const) {
        if (n === null || !inSlice.has(n)) problems.push(`${id.slice(0, 8)} (${sliceId.slice(0, 6)}): ${side} ${n === null ? 'none' : `${n.slice(0, 8)} is not a live member`}`);
      }
    }
    if (closed && problems.length === 0 && members.length > 1) {
      const seen = new Set<string>();
      let at = members[0];
      do {
        seen.add(at);
        at = views.get(at)!.ring.successor!;
      } while (!seen.has(at));
      if (at !== members[0] || seen.size !== members.length) problems.push(`slice ${sliceId.slice(0, 6)}: successors form no single ring over its ${members.length} members (a cycle of ${seen.size})`);
    }
  }
  return problems;
}

test('kill -9 of half the nodes: rings repair, describe follows, --keep-size refills', async (t) => {
  t.diagnostic(`setup: ${setup.join(', ')}`);
  // Three slices, each through its own coordinator.
  const created = new Map<string, SliceView>();
  for (const s of SLICES) {
    const asked = Date.now();
    const r = await as(nodes[s.coordinator].api, 'slice', 'create', s.name, '--nodes', String(s.nodes), ...(s.keepSize ? ['--keep-size'] : []));
    assert.equal(r.code, 0, `create ${s.name}: ${r.stderr}`);
    const view = JSON.parse(r.stdout) as SliceView;
    assert.equal(view.size, s.nodes);
    created.set(s.name, view);
    t.diagnostic(`created ${s.name} (${s.nodes} nodes${s.keepSize ? ', keep-size' : ''}) in ${((Date.now() - asked) / 1000).toFixed(1)} s (CLI included)`);
  }
  const memberOf = new Map<string, string>();
  for (const [name, v] of created) for (const m of v.members) {
    assert.equal(memberOf.get(m.nodeId), undefined, `${m.nodeId} is in ${memberOf.get(m.nodeId)} and ${name}`);
    memberOf.set(m.nodeId, name);
  }

  let last: string[] = [];
  const ringsStart = Date.now();
  await waitFor('every slice ring to be complete', 60_000, async () => {
    const views = await memberships(nodes);
    last = ringProblems(views, null, true);
    const members = [...views.values()].filter((v) => v.state === 'member').length;
    if (members !== memberOf.size) last.push(`${members} nodes say they are members, ${memberOf.size} expected`);
    return last.length === 0 ? true : undefined;
  }, () => last.slice(0, 10).join('; '));
  t.diagnostic(`rings complete ${((Date.now() - ringsStart) / 1000).toFixed(1)} s after the last create`);

  // Kill half of all nodes, never a coordinator; half of each slice's other members and half of the
  // free nodes, so that every slice keeps at least two members and enough free nodes are left for
  // --keep-size to refill.
  const coordinators = new Set(SLICES.map((s) => nodes[s.coordinator].nodeId));
  const groups = new Map<string, ClusterNode[]>();
  for (const n of nodes) {
    const g = memberOf.get(n.nodeId) ?? 'free';
    groups.set(g, [...(groups.get(g) ?? []), n]);
  }
  const victims: ClusterNode[] = [];
  for (const members of groups.values()) victims.push(...shuffled(members.filter((n) => !coordinators.has(n.nodeId))).slice(0, Math.floor(members.length / 2)));
  for (const n of shuffled(nodes.filter((n) => !coordinators.has(n.nodeId) && !victims.includes(n)))) if (victims.length < N / 2) victims.push(n);
  const dead = new Set(victims.map((n) => n.nodeId));
  const live = nodes.filter((n) => !dead.has(n.nodeId));
  const survivors = new Set([...memberOf.keys()].filter((id) => !dead.has(id)));
  for (const s of SLICES) assert.ok([...survivors].filter((id) => memberOf.get(id) === s.name).length >= 2, `${s.name} keeps two members`);
  const killedAt = Date.now();
  for (const n of victims) process.kill(n.pid!, 'SIGKILL');
  t.diagnostic(`killed ${victims.length} of ${N}: ${[...groups].map(([g, ns]) => `${g} ${ns.filter((n) => dead.has(n.nodeId)).length}/${ns.length}`).join(', ')}`);

  // 1. Every surviving member's neighbours are live members of its own slice.
  const bound = REPAIR_CYCLES * CYCLE_MS * SLACK;
  await waitFor(`surviving members' ring neighbours to be live members of their slice (within ${SLACK} × ${REPAIR_CYCLES} cycles)`, bound, async () => {
    last = ringProblems(await memberships(live), survivors, false);
    return last.length === 0 ? true : undefined;
  }, () => last.slice(0, 10).join('; '));
  const repairMs = Date.now() - killedAt;
  t.diagnostic(`ring neighbours of all survivors live members of their slice after ${(repairMs / 1000).toFixed(2)} s = ${(repairMs / CYCLE_MS).toFixed(1)} cycles`);

  // 2. Each coordinator's describe lists only live members once its renewals noticed the deaths
  //    (two failed renewals, a third of a lease apart); 3. the --keep-size slice is refilled.
  const describeAll = () => Promise.all(SLICES.map((s) => getJson<SliceView>(nodes[s.coordinator].api, `/v1/slices/${s.name}`)));
  let described: SliceView[] = [];
  await waitFor('describe to list only live members, and the keep-size slice its full size', 4 * LEASE_MS + 10_000, async () => {
    described = await describeAll();
    const stale = described.flatMap((v) => v.members.filter((m) => dead.has(m.nodeId)).map((m) => `${v.name}: ${m.nodeId.slice(0, 8)}`));
    const large = described.find((v) => v.name === 'large')!;
    return stale.length === 0 && large.size === large.target ? true : undefined;
  }, () => described.map((v) => `${v.name} ${v.size}/${v.target}: ${v.members.map((m) => `${m.nodeId.slice(0, 8)}${dead.has(m.nodeId) ? '†' : ''}`).join(' ')}`).join('; '));
  t.diagnostic(`describe live-only and keep-size refilled ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
  for (const v of described) {
    const s = SLICES.find((x) => x.name === v.name)!;
    const before = created.get(v.name)!.members.map((m) => m.nodeId);
    const left = before.filter((id) => !dead.has(id));
    if (s.keepSize) {
      assert.equal(v.size, s.nodes, `${v.name} is back to ${s.nodes} members`);
      assert.ok(left.every((id) => v.members.some((m) => m.nodeId === id)), `${v.name} kept its surviving members`);
    } else {
      assert.deepEqual(v.members.map((m) => m.nodeId).sort(), left.sort(), `${v.name} lists exactly its surviving members`);
    }
  }
  // The CLI shows the same.
  const cli = await runCli(['slice', 'describe', 'large', '--api', nodes[SLICES[2].coordinator].api]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, new RegExp(`slice large .*${SLICES[2].nodes} of ${SLICES[2].nodes} members`));

  // The members agree with their coordinators, and every ring (new members included) is one ring
  // of live members again.
  await waitFor('every slice, refilled, to form one ring of live members', 30_000, async () => {
    const views = await memberships(live);
    last = ringProblems(views, null, true);
    for (const v of await describeAll()) {
      const own = [...views].filter(([, m]) => m.slice?.name === v.name).map(([id]) => id).sort();
      const listed = v.members.map((m) => m.nodeId).sort();
      if (JSON.stringify(own) !== JSON.stringify(listed)) last.push(`${v.name}: members say ${own.length}, coordinator lists ${listed.length}`);
    }
    return last.length === 0 ? true : undefined;
  }, () => last.slice(0, 10).join('; '));
  t.diagnostic(`all rings whole again ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
});
