/**
 * One outgoing request from the call to `request()` until it settles: it owns the timeout and the
 * abort listener, settles exactly once, and tells whoever holds it (a connection's queue or its
 * in-flight table) to let go when it settles from outside (timeout, abort, transport close).
 */
import type { PeerAddress } from './transport.js';
import { TransportError } from './transport.js';

export class PendingRequest {
  readonly peer: PeerAddress;
  readonly type: number;
  readonly payload: Uint8Array;
  readonly promise: Promise<Uint8Array>;
  /** Set by the connection that holds the request; called once if it settles from outside. */
  detach: (() => void) | undefined;
  /** How many times it was handed to another connection because its own went away unsent. */
  redispatches = 0;
  private settledFlag = false;
  private resolveFn!: (payload: Uint8Array) => void;
  private rejectFn!: (err: Error) => void;
  private timer: NodeJS.Timeout | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = (): void => {
    this.reject(new TransportError('ABORTED', `request ${this.type} to ${this.peer.nodeId} aborted`, { peer: this.peer.nodeId, cause: this.signal?.reason }));
  };

  constructor(peer: PeerAddress, type: number, payload: Uint8Array, timeoutMs: number, signal: AbortSignal | undefined) {
    this.peer = peer;
    this.type = type;
    this.payload = payload;
    this.signal = signal;
    this.promise = new Promise<Uint8Array>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    if (signal?.aborted) {
      this.onAbort();
      return;
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
    this.timer = setTimeout(() => {
      this.reject(new TransportError('TIMEOUT', `request ${this.type} to ${this.peer.nodeId} timed out after ${timeoutMs} ms`, { peer: this.peer.nodeId }));
    }, timeoutMs);
  }

  get settled(): boolean {
    return this.settledFlag;
  }

  resolve(payload: Uint8Array): void {
    if (!this.settle()) return;
    this.resolveFn(payload);
  }

  reject(err: Error): void {
    if (!this.settle()) return;
    this.rejectFn(err);
  }

  private settle(): boolean {
    if (this.settledFlag) return false;
    this.settledFlag = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    const detach = this.detach;
    this.detach = undefined;
    detach?.();
    return true;
  }
}
