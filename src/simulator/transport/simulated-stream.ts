/**
 * A bulk stream between two simulated nodes: a pair of Duplex ends whose writes reach the other end
 * one latency later on the virtual clock, in order, never lost (TCP's job; partitions do not cut an
 * open stream either, a simplification).
 *
 * Backpressure: a writer may have up to `windowBytes` not yet consumed by the reading end; beyond
 * that its write callbacks wait, so `write()` returns false and 'drain' comes only once the reader
 * reads. Bytes count as consumed when the reading end's buffer takes them (immediately, or when its
 * `_read` asks for more); the acknowledgement takes no virtual time, so throughput is limited by
 * the window and the reader, not by bandwidth (there is no bandwidth model).
 *
 * Ending follows the Transport contract (not half-closable): each end is a Duplex with
 * allowHalfOpen false, so when one side's end reaches the other, that one ends too, and both close.
 * Destroying an end before both directions finished resets the stream: the other end is destroyed
 * with a CONNECTION_LOST error one latency later.
 */
import { Duplex } from 'node:stream';
import { TransportError } from '../../network/transport.js';
import type { Lane, SimulatedNetwork } from './simulated-network.js';

/** Whose byte counters an end feeds. */
export interface StreamOwner {
  readonly nodeId: string;
  readonly counters: { bytesIn: number; bytesOut: number };
}

export class SimulatedStream extends Duplex {
  /** The other end; set by createStreamPair. */
  private peerEnd!: SimulatedStream;
  /** Bytes written here and not yet consumed at the other end. */
  private inFlight = 0;
  private readonly waitingWrites: (() => void)[] = [];
  /** Bytes that arrived here while the read buffer was full: acknowledged when it drains. */
  private unacknowledged = 0;
  private readonly lane: Lane = { lastArrival: -Infinity };
  /** Its node crashed silently: nothing more from this end reaches the other. */
  private vanished = false;

  constructor(
    private readonly network: SimulatedNetwork,
    readonly owner: StreamOwner,
    private readonly windowBytes: number,
  ) {
    super({ allowHalfOpen: false });
  }

  /** Ends this side as a dead host would: destroyed here, not a word to the other end. */
  vanish(): void {
    this.vanished = true;
    this.destroy();
  }

  static pair(network: SimulatedNetwork, a: StreamOwner, b: StreamOwner, windowBytes: number): [SimulatedStream, SimulatedStream] {
    if (!(Number.isInteger(windowBytes) && windowBytes > 0)) throw new RangeError(`stream window must be a positive integer, got ${windowBytes}`);
    const x = new SimulatedStream(network, a, windowBytes);
    const y = new SimulatedStream(network, b, windowBytes);
    x.peerEnd = y;
    y.peerEnd = x;
    return [x, y];
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const bytes = Buffer.from(chunk); // the writer may reuse its buffer
    this.inFlight += bytes.length;
    this.owner.counters.bytesOut += bytes.length;
    this.send(() => this.peerEnd.arrive(bytes));
    if (this.inFlight <= this.windowBytes) callback();
    else this.waitingWrites.push(callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.send(() => this.peerEnd.arriveEnd());
    callback();
  }

  override _read(): void {
    if (this.unacknowledged === 0) return;
    const n = this.unacknowledged;
    this.unacknowledged = 0;
    this.peerEnd.acknowledge(n);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const finished = this.writableFinished && this.readableEnded;
    if (!finished && !this.vanished) this.send(() => this.peerEnd.reset());
    // Writes that waited for the window: Node reports them as failed once the stream is destroyed.
    for (const release of this.waitingWrites.splice(0)) release();
    callback(error);
  }

  private send(deliver: () => void): void {
    if (this.vanished) return;
    const now = this.network.now();
    const arrival = Math.max(now + this.network.latency(), this.lane.lastArrival);
    this.lane.lastArrival = arrival;
    this.network.counters.sent++;
    this.network.scheduler.schedule(arrival - now, deliver);
  }

  private arrive(bytes: Buffer): void {
    if (this.destroyed) return;
    this.owner.counters.bytesIn += bytes.length;
    if (this.push(bytes)) this.peerEnd.acknowledge(bytes.length);
    else this.unacknowledged += bytes.length;
  }

  private arriveEnd(): void {
    if (!this.destroyed) this.push(null);
  }

  private acknowledge(n: number): void {
    this.inFlight -= n;
    while (this.waitingWrites.length > 0 && this.inFlight <= this.windowBytes) this.waitingWrites.shift()!();
  }

  private reset(): void {
    if (!this.destroyed) this.destroy(new TransportError('CONNECTION_LOST', `stream with ${this.peerEnd.owner.nodeId} was reset by the peer`, { peer: this.peerEnd.owner.nodeId }));
  }
}
