/**
 * An in-memory network of SliceServices for the allocation tests: every request goes through the
 * byte encoding and the receiver's validation, as over the transport, with real (short) timers.
 * Nodes can be taken down (unreachable), requests counted by kind, and a hook sees every request
 * after it was handled (to take a candidate down right after its offer, say).
 */
import { randomBytes } from 'node:crypto';
import { OPEN_POLICY } from '../../src/auth/policy.js';
import { signObject } from '../../src/auth/signed-object.js';
import { type UserIdentity, generateUser } from '../../src/auth/user-identity.js';
import type { NodeAttributes } from '../../src/node/attributes.js';
import { generateIdentity } from '../../src/node/identity.js';
import { silentLogger } from '../../src/node/logger.js';
import { FREE, type Membership, SliceMembership } from '../../src/slices/membership.js';
import { GRANT_PURPOSE, type SliceAddress, type SliceMessage, decodeSliceMessage } from '../../src/slices/messages.js';
import { type OwnedSlice, grantPayload } from '../../src/slices/owner.js';
import { SliceService, type SliceServiceOptions } from '../../src/slices/slice-service.js';
import { type SliceSpecInput, parseSliceSpec } from '../../src/slices/spec.js';
import { specToWire } from '../../src/slices/spec-wire.js';
import { sampleNode } from './query-fixtures.js';

export interface TestNode {
  readonly index: number;
  readonly address: SliceAddress;
  service: SliceService;
  membership: SliceMembership;
  down: boolean;
  attributes: NodeAttributes;
}

export interface TestNetwork {
  readonly nodes: TestNode[];
  /** Requests sent so far, by message kind. */
  readonly sent: Map<SliceMessage['kind'], number>;
  /** Called after each request was handled by a live node. */
  onRequest: ((from: TestNode, to: TestNode, message: SliceMessage) => void) | undefined;
  /** Milliseconds a request takes to arrive (default: none). */
  delay: ((from: TestNode, to: TestNode, message: SliceMessage) => number) | undefined;
  /** A new service for node `i` (its old one stopped), as a restarted daemon would build it. */
  restart(i: number, extra?: Partial<SliceServiceOptions>): SliceService;
  stop(): void;
}

export const timers = {
  schedule: (fn: () => void, ms: number) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export interface NetworkOptions {
  readonly attributes?: (i: number) => NodeAttributes;
  /** Node i's capacity rank estimate (default 0.5 for all). */
  readonly rank?: (i: number) => number;
  readonly leaseMs?: number;
  readonly windowMs?: number;
  readonly extra?: (i: number) => Partial<SliceServiceOptions>;
}

export function slicesNetwork(n: number, options: NetworkOptions = {}): TestNetwork {
  const nodes: TestNode[] = [];
  const byId = new Map<string, TestNode>();
  const sent = new Map<SliceMessage['kind'], number>();
  const net: TestNetwork = {
    nodes,
    sent,
    onRequest: undefined,
    delay: undefined,
    restart(i, extra = {}) {
      const node = nodes[i];
      node.service.stop();
      node.service = build(node, extra);
      return node.service;
    },
    stop() {
      for (const node of nodes) node.service.stop();
    },
  };
  const build = (node: TestNode, extra: Partial<SliceServiceOptions>): SliceService =>
    new SliceService({
      self: node.address,
      membership: node.membership,
      attributes: () => node.attributes,
      rank: () => options.rank?.(node.index) ?? 0.5,
      policy: () => OPEN_POLICY,
      now: () => Date.now(),
      timers,
      randomPeers: (k) => nodes.filter((m) => m !== node && !m.down).sort(() => Math.random() - 0.5).slice(0, k).map((m) => m.address),
      networkSize: () => n,
      request: async (to, bytes) => {
        await Promise.resolve();
        if (node.down) throw new Error(`${node.address.nodeId} is down`);
        const target = byId.get(to.nodeId);
        const message = decodeSliceMessage(bytes);
        sent.set(message.kind, (sent.get(message.kind) ?? 0) + 1);
        if (target === undefined || target.down) throw new Error(`${to.nodeId} unreachable`);
        const ms = net.delay?.(node, target, message) ?? 0;
        if (ms > 0) await new Promise((r) => setTimeout(r, ms));
        if (target.down) throw new Error(`${to.nodeId} unreachable`);
        const answer = await target.service.handle(node.address.nodeId, Uint8Array.from(bytes));
        net.onRequest?.(node, target, message);
        return answer;
      },
      logger: silentLogger(),
      leaseMs: options.leaseMs ?? 3_000,
      windowMs: options.windowMs ?? 300,
      holdMs: 2_000,
      ...options.extra?.(node.index),
      ...extra,
    });
  for (let i = 0; i < n; i++) {
    const address = { nodeId: generateIdentity().nodeId, host: '127.0.0.1', port: 10_000 + i };
    const node: TestNode = {
      index: i,
      address,
      membership: new SliceMembership(() => Date.now(), FREE),
      down: false,
      attributes: options.attributes?.(i) ?? sampleNode({ cores: 4, cpuScore: 1000 }),
      service: undefined as unknown as SliceService,
    };
    nodes.push(node);
    byId.set(address.nodeId, node);
  }
  for (const node of nodes) {
    node.service = build(node, {});
    node.service.start();
  }
  return net;
}

/** Asks `owner` to create a slice for `user` (a grant signed as the CLI signs it). */
export function createSlice(owner: TestNode, input: SliceSpecInput, user: UserIdentity = generateUser('alice')): Promise<OwnedSlice> {
  const spec = parseSliceSpec(input);
  const sliceId = randomBytes(16).toString('hex');
  const grant = signObject(user, GRANT_PURPOSE, grantPayload(sliceId, spec, owner.address.nodeId, specToWire(spec)));
  return owner.service.owner.create(sliceId, spec, grant, user.userId);
}

export async function waitUntil(what: string, timeoutMs: number, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const state = (node: TestNode): Membership['state'] => node.membership.current().state;
