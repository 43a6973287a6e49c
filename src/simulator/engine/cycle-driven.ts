import { NO_PEER } from '../../core/handles.js';
import type { Simulation } from '../simulation.js';
import { type CycleRow, type Engine, observeAll } from './engine.js';

/**
 * PeerSim-style cycle-driven engine: in each cycle every live node, in a fresh random order, runs
 * the active step of each protocol, and each exchange (request, reply) happens atomically. Message
 * loss still applies (a lost request or reply makes the initiator `fail`), latency does not.
 */
export class CycleDrivenEngine implements Engine {
  readonly mode = 'cycle' as const;
  private order = new Int32Array(0);

  constructor(readonly sim: Simulation) {}

  observe(): CycleRow {
    return observeAll(this.sim);
  }

  runCycle(): CycleRow {
    const sim = this.sim;
    for (const control of sim.controls) control.beforeCycle(sim, sim.cycle);
    const live = sim.population.live();
    const n = live.length;
    if (this.order.length < n) this.order = new Int32Array(Math.max(n, this.order.length * 2));
    const order = this.order;
    order.set(live);
    const rng = sim.rng;
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    const alive = sim.population.aliveFlags;
    const protocols = sim.protocols;
    const reqLoss = sim.network.requestLoss;
    const resLoss = sim.network.responseLoss;
    const lossy = reqLoss > 0 || resLoss > 0;
    for (let k = 0; k < n; k++) {
      const node = order[k];
      for (let p = 0; p < protocols.length; p++) {
        // A node can die in the middle of a cycle only through a control, which runs between
        // cycles, so `node` is alive here; its peer may not be.
        const proto = protocols[p];
        const peer = proto.selectPeer(node);
        if (peer === NO_PEER) continue;
        const req = proto.initiate(node, peer);
        if (alive[peer] !== 1 || (lossy && reqLoss > 0 && rng.next() < reqLoss)) {
          proto.fail(node, peer, req);
          continue;
        }
        const res = proto.handle(peer, node, req);
        if (res === null) continue;
        if (lossy && resLoss > 0 && rng.next() < resLoss) {
          proto.fail(node, peer, req);
          continue;
        }
        proto.complete(node, peer, req, res);
      }
    }
    sim.cycle++;
    return observeAll(sim);
  }
}
