/**
 * slices.maxShare: the setting, the capped attributes slice queries see, and on the in-memory
 * network that a node sharing half of itself is judged by half its cores and reports them in its
 * offer (the owner keeps them with the member).
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/node/config.js';
import { AllocationError } from '../../src/slices/owner.js';
import { resourcesOf, shareOf } from '../../src/slices/share.js';
import { SliceApi } from '../../src/slices/slice-api.js';
import { sampleNode } from './query-fixtures.js';
import { type TestNetwork, createSlice, slicesNetwork } from './slice-network.js';

const GiB = 1024 ** 3;
const load = (env: Record<string, string>, flags = {}) => loadConfig({ env, flags, homeDir: '/h', hostname: 'h', cwd: '/w' });

test('slices.maxShare: 1 by default; a fraction from the environment or a flag; 0 and more than 1 refused', async () => {
  assert.equal((await load({})).slices.maxShare, 1);
  assert.equal((await load({ PEERCLOUD_SLICES_MAX_SHARE: '0.5' })).slices.maxShare, 0.5);
  assert.equal((await load({}, { 'slice-max-share': '0.25' })).slices.maxShare, 0.25);
  for (const bad of ['0', '1.5', '-0.5', 'half']) {
    await assert.rejects(async () => load({ PEERCLOUD_SLICES_MAX_SHARE: bad }), (err: unknown) => err instanceof ConfigError && /slices\.maxShare/.test(err.message), bad);
  }
});

test('a share caps cores and memory (floor), and free cores and free memory with them; the rest is as measured', async () => {
  const node = sampleNode({ cores: 16, cpuScore: 1500, memoryTotalBytes: 64 * GiB, memoryFreeBytes: 40 * GiB, freeCores: 12, loadAverage: 4 });
  const half = shareOf(node, 0.5);
  assert.equal(half.cores, 8);
  assert.equal(half.freeCores, 8);
  assert.equal(half.memoryTotalBytes, 32 * GiB);
  assert.equal(half.memoryFreeBytes, 32 * GiB);
  assert.equal(half.cpuScore, 1500);
  assert.equal(half.loadAverage, 4);
  assert.equal(shareOf(node, 0.3).cores, 4, 'floor(0.3 × 16)');
  assert.equal(shareOf(node, 1), node, 'the whole machine: unchanged');
  assert.deepEqual(resourcesOf(half), { cores: 8, memoryBytes: 32 * GiB });
  assert.throws(() => shareOf(node, 0), RangeError);
});

let net: TestNetwork | undefined;
afterEach(() => {
  net?.stop();
  net = undefined;
});

test('a node sharing half of itself is matched on half its cores and reports them in its offer', async () => {
  // Four 8-core nodes; node 3 shares half of itself.
  const full = sampleNode({ cores: 8, cpuScore: 1000, memoryTotalBytes: 16 * GiB, memoryFreeBytes: 16 * GiB, freeCores: 8 });
  net = slicesNetwork(4, { attributes: (i) => (i === 3 ? shareOf(full, 0.5) : full) });
  await assert.rejects(createSlice(net.nodes[0], { name: 'big', nodes: 4, where: 'cores>=8' }), (err: unknown) => err instanceof AllocationError && err.found === 3);
  const slice = await createSlice(net.nodes[0], { name: 'small', nodes: 4, where: 'cores>=4, mem>=8GiB' });
  const shared = slice.members.get(net.nodes[3].address.nodeId);
  assert.deepEqual(shared?.resources, { cores: 4, memoryBytes: 8 * GiB });
  assert.deepEqual(slice.members.get(net.nodes[1].address.nodeId)?.resources, { cores: 8, memoryBytes: 16 * GiB });
  // The API's view of the slice lists them.
  const view = new SliceApi(net.nodes[0].service, net.nodes[0].address.nodeId).describe('small');
  const member = view.members.find((m) => m.nodeId === net!.nodes[3].address.nodeId);
  assert.equal(member?.cores, 4);
  assert.equal(member?.memoryBytes, 8 * GiB);
});
