/**
 * Helpers for the LAN discovery tests: a probe that says whether this machine can loop IPv4
 * multicast back over 127.0.0.1 (independent of the code under test, so a bug there fails the tests
 * instead of skipping them), random groups so test files running at once do not hear each other,
 * timers that count what is pending, and polling.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Timers, realTimers } from '../../../src/node/attributes-system.js';

/** A random group in 239.255.0.0/16 (administratively scoped; TTL 1 on lo keeps it on this machine). */
export function randomGroup(): string {
  return `239.255.${randomInt(1, 255)}.${randomInt(1, 255)}`;
}

function bind(socket: Socket, port: number, address?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, address }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/** Closes `socket`; resolves once its handle has left the active list (the tick after the close callback). */
export function close(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => void setImmediate(resolve);
    try {
      socket.close(done);
    } catch {
      done();
    }
  });
}

/** Null if multicast sent to 127.0.0.1 comes back to a member socket, else why not. */
export async function loopbackMulticastProblem(): Promise<string | null> {
  const group = randomGroup();
  const rx = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const tx = dgram.createSocket('udp4');
  rx.on('error', () => {});
  tx.on('error', () => {});
  try {
    await bind(rx, 0);
    rx.addMembership(group, '127.0.0.1');
    await bind(tx, 0);
    tx.setMulticastInterface('127.0.0.1');
    tx.setMulticastTTL(1);
    let received = false;
    rx.on('message', () => (received = true));
    const port = rx.address().port;
    for (let i = 0; i < 20 && !received; i++) {
      tx.send('probe', port, group);
      await sleep(100);
    }
    return received ? null : `IPv4 multicast to ${group} on 127.0.0.1 was sent but never looped back`;
  } catch (err) {
    return `IPv4 multicast on 127.0.0.1 is not available: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    await Promise.all([close(rx), close(tx)]);
  }
}

/** A socket that multicasts raw datagrams to `group` over 127.0.0.1. */
export async function rawSender(): Promise<{ send(bytes: Uint8Array, group: string, port: number): Promise<void>; close(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  await bind(socket, 0);
  socket.setMulticastInterface('127.0.0.1');
  socket.setMulticastTTL(1);
  return {
    send: (bytes, group, port) =>
      new Promise((resolve, reject) => socket.send(bytes, port, group, (err) => (err ? reject(err) : resolve()))),
    close: () => close(socket),
  };
}

/** Real (unref'd) timers that know how many callbacks are still scheduled. */
export function countingTimers(): Timers & { readonly pending: number } {
  let pending = 0;
  return {
    get pending() {
      return pending;
    },
    schedule(callback, delayMs) {
      pending++;
      let done = false;
      const settle = (): void => {
        if (!done) {
          done = true;
          pending--;
        }
      };
      const cancel = realTimers.schedule(() => {
        settle();
        callback();
      }, delayMs);
      return () => {
        settle();
        cancel();
      };
    },
  };
}

/** Polls `condition` until it holds; fails naming `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * How many UDP handles this process has open. A closed socket stays in the list until the tick
 * after its close callback, so take baselines after other sockets are fully closed (see `close`).
 */
export function udpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
}

/** `udpHandles()` once sockets closed just before have left the active list. */
export async function settledUdpHandles(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  return udpHandles();
}
