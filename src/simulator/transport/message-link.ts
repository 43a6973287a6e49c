/**
 * The message-connection parts of SimulatedTransport: a connection is a pair of `LinkEnd`s, one
 * per node, and a request is a `PendingCall` that settles exactly once (answer, error, timeout,
 * abort, or the connection or transport going away) and then lets go of its timer, its abort
 * listener and whatever connection or set-up holds it.
 */
import type { Timers } from '../../node/attributes-system.js';
import { type PeerAddress, type RemotePeer, TransportError } from '../../network/transport.js';
import type { Lane } from './simulated-network.js';
import type { SimulatedTransport } from './simulated-transport.js';

/** What travels back for a request: a payload or an ERROR frame's payload. */
export type Answer = { readonly ok: true; readonly payload: Uint8Array } | { readonly ok: false; readonly error: Uint8Array };

/** One side of a message connection. */
export interface LinkEnd {
  readonly transport: SimulatedTransport;
  /** Who is at the other side, as authenticated by the set-up. */
  readonly peer: RemotePeer;
  readonly direction: 'inbound' | 'outbound';
  other: LinkEnd;
  open: boolean;
  /** Messages towards this end, in order. */
  readonly lane: Lane;
  /** Our requests waiting for an answer on this connection. */
  readonly calls: Set<PendingCall>;
  /** The peer's requests being served here. */
  serving: number;
}

/** A connection being set up, with the requests waiting for it. */
export interface Dial {
  readonly waiting: Set<PendingCall>;
}

/** One outgoing request until it settles (exactly once). */
export class PendingCall {
  settled = false;
  end: LinkEnd | undefined;
  dial: Dial | undefined;
  private cancelTimer: () => void = () => {};
  private readonly onAbort = (): void => this.fail(new TransportError('ABORTED', `request ${this.type} to ${this.peer.nodeId} aborted`, { peer: this.peer.nodeId, cause: this.signal?.reason }));

  constructor(
    readonly peer: PeerAddress,
    readonly type: number,
    readonly payload: Uint8Array,
    private readonly signal: AbortSignal | undefined,
    private readonly done: (err: TransportError | undefined, payload: Uint8Array | undefined) => void,
  ) {}

  start(timers: Timers, timeoutMs: number): void {
    if (this.signal?.aborted) {
      this.onAbort();
      return;
    }
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.cancelTimer = timers.schedule(
      () => this.fail(new TransportError('TIMEOUT', `request ${this.type} to ${this.peer.nodeId} timed out after ${timeoutMs} ms`, { peer: this.peer.nodeId })),
      timeoutMs,
    );
  }

  succeed(payload: Uint8Array): void {
    if (this.finish()) this.done(undefined, payload);
  }

  fail(err: TransportError): void {
    if (this.finish()) this.done(err, undefined);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.cancelTimer();
    this.signal?.removeEventListener('abort', this.onAbort);
    this.end?.calls.delete(this);
    this.dial?.waiting.delete(this);
    return true;
  }
}
