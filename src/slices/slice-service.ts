/**
 * One node's slice service: its agent (candidate and member side) and its owner side, behind one
 * request handler for SLICE_REQUEST_TYPE messages. Transport-agnostic: `request` sends bytes to a
 * node and resolves with its answer (the daemon passes its Transport; tests an in-memory network).
 */
import { SliceAgent, type SliceAgentOptions } from './agent.js';
import { type SliceAddress, type SliceMessage, SliceMessageError, decodeSliceMessage, encodeSliceMessage, okReply, refusal } from './messages.js';
import { type OwnedSlice, SliceOwner } from './owner.js';

/** What the agent needs (minus what the service provides itself), plus the owner side's settings. */
export interface SliceServiceOptions extends Omit<SliceAgentOptions, 'send' | 'localOffer'> {
  readonly timers: { schedule(fn: () => void, ms: number): () => void };
  readonly networkSize: () => number;
  /** Sends bytes to a node (SLICE_REQUEST_TYPE) and resolves with its answer. */
  readonly request: (to: SliceAddress, bytes: Uint8Array) => Promise<Uint8Array>;
  readonly leaseMs?: number;
  readonly windowMs?: number;
  /** How long an allocation's attempts may take (owner.ts; default 4 × windowMs). */
  readonly deadlineMs?: number;
  /** Uniform numbers in [0, 1) for the owner's retry backoff (default Math.random). */
  readonly random?: () => number;
  /** Told every owned slice after each change (owned-store.ts saves them). */
  readonly persist?: (slices: readonly OwnedSlice[]) => void;
}

export class SliceService {
  readonly agent: SliceAgent;
  readonly owner: SliceOwner;

  constructor(private readonly o: SliceServiceOptions) {
    const send = (to: SliceAddress, m: SliceMessage) => this.send(to, m);
    this.agent = new SliceAgent({
      self: o.self,
      membership: o.membership,
      attributes: o.attributes,
      rank: o.rank,
      policy: o.policy,
      now: o.now,
      send,
      randomPeers: o.randomPeers,
      localOffer: (offer) => this.owner.onOffer(o.self.nodeId, offer),
      logger: o.logger,
      holdMs: o.holdMs,
      fanout: o.fanout,
      onMembers: o.onMembers,
      ring: o.ring,
    });
    this.owner = new SliceOwner({
      self: o.self,
      now: o.now,
      send,
      randomPeers: o.randomPeers,
      localCall: (call) => this.agent.onMessage(o.self.nodeId, call),
      localMessage: (m) => this.agent.onMessage(o.self.nodeId, m),
      networkSize: o.networkSize,
      logger: o.logger,
      timers: o.timers,
      leaseMs: o.leaseMs,
      windowMs: o.windowMs,
      deadlineMs: o.deadlineMs,
      fanout: o.fanout,
      random: o.random,
      persist: o.persist,
    });
  }

  start(): void {
    this.owner.start();
  }

  stop(): void {
    this.owner.stop();
  }

  /** Answers one slice request from node `from` (authenticated). Bad input is a refusal, never a throw. */
  async handle(from: string, bytes: Uint8Array): Promise<Uint8Array> {
    let message: SliceMessage;
    try {
      message = decodeSliceMessage(bytes);
    } catch (err) {
      if (err instanceof SliceMessageError) return encodeSliceMessage(refusal(err.message));
      throw err;
    }
    if (message.kind === 'offer') return encodeSliceMessage(this.owner.onOffer(from, message) ? okReply() : refusal('no such request (over, or not ours)'));
    return encodeSliceMessage(await this.agent.onMessage(from, message));
  }

  private async send(to: SliceAddress, message: SliceMessage): Promise<SliceMessage> {
    return decodeSliceMessage(await this.o.request(to, encodeSliceMessage(message)));
  }
}
