/**
 * Experiment `slices`: slices allocated by the daemon's protocol (calls spread like a rumor over the
 * peer sampling view, in waves sized to the count or flooded; offers with spares, confirmations,
 * retries after contention, at most one slice per node; slices-model.ts) and their
 * T-Man rings (one per slice; slices-rings.ts), at 10^3..10^5 nodes. Measures, per slice, the
 * cycles (message hops) until the owner has every member confirmed, the messages it took, and the
 * cycles until every member's ring successor and predecessor are live members of its slice; checks
 * every cycle that no node is in two slices (several owners ask at the same time); with --kill or
 * --churn, how fast the rings repair. SLICES.md describes the model and the measurements.
 */
import type { PeerHandle } from '../../core/handles.js';
import { type Random, SeededRandom } from '../../core/random.js';
import type { TManConfig } from '../../protocols/tman/config.js';
import { TMan } from '../../protocols/tman/tman.js';
import { type CycleRow, runCycles } from '../engine/engine.js';
import { EventDrivenEngine } from '../engine/event-driven.js';
import { killRandom } from '../scenarios/dynamics.js';
import type { Control, Simulation } from '../simulation.js';
import { createWorld, startWorld, validateWorld } from '../world.js';
import { type Experiment, type ExperimentParams, type ExperimentResult, type Progress, describeParams, numberOption } from './experiment.js';
import { registerExperiment } from './index.js';
import { AttributeTable } from './slicing.js';
import { AllocationModel, type AllocationSettings, type SimSlice, defaultAllocationSettings } from './slices-model.js';
import { type RingSeeding, SLICE_RING_TMAN, SliceObserver, SliceRingProtocol } from './slices-rings.js';
import { RingProfiles } from './tman.js';

export interface SlicesOptions {
  /** Sizes of the slices asked for, one owner each. */
  sizes: number[];
  /** Cycle at which the first request is made, and cycles between successive requests (0: all at once). */
  at: number;
  stagger: number;
  /** Fraction of the nodes that match the slices' query. */
  match: number;
  allocation: AllocationSettings;
  /** Let kills and churn hit the owners' nodes too (default: owners stay, as the users' entry points). */
  killOwners: boolean;
  /** First cycle of --churn (default 0). */
  churnFrom: number;
  seeding: RingSeeding;
  tman: Partial<TManConfig>;
}

const isInteger = (lo: number, hi: number) => (v: number) => Number.isInteger(v) && v >= lo && v <= hi;
const isFlag = (v: number) => v === 0 || v === 1;

function reachOption(value: string | undefined): AllocationSettings['reach'] {
  if (value === undefined) return defaultAllocationSettings.reach;
  if (value !== 'waves' && value !== 'flood') throw new RangeError(`option reach=${value} is not valid: use waves or flood`);
  return value;
}

/** Reads and validates the experiment's --opt options. */
export function slicesOptions(params: ExperimentParams): SlicesOptions {
  const raw = params.options.slices ?? '10,100,1000';
  const sizes = raw.split(',').map((t) => Number(t.trim()));
  if (sizes.length === 0 || sizes.length > 64 || sizes.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new RangeError(`option slices=${raw} is not valid: give 1..64 positive integer sizes, e.g. slices=10,100,1000`);
  }
  if (sizes.length > params.nodes) throw new RangeError(`option slices=${raw} asks for more owners than there are nodes (${params.nodes})`);
  const seeding = (params.options.ringSeed ?? 'daemon') as RingSeeding;
  if (!['daemon', 'reset', 'ranked'].includes(seeding)) throw new RangeError(`option ringSeed=${seeding} is not valid: use daemon, reset or ranked`);
  const window = params.options.window;
  const t = SLICE_RING_TMAN;
  const viewSize = numberOption(params, 'tview', t.viewSize!, isInteger(2, 255));
  const maxAge = numberOption(params, 'maxAge', t.maxAge!, isInteger(1, 0xfffe));
  return {
    sizes,
    at: numberOption(params, 'at', 0, isInteger(0, params.cycles)),
    stagger: numberOption(params, 'stagger', 0, isInteger(0, 100_000)),
    match: numberOption(params, 'match', 1, (v) => v > 0 && v <= 1),
    allocation: {
      fanout: numberOption(params, 'fanout', defaultAllocationSettings.fanout, isInteger(1, 64)),
      holdCycles: params.options.hold === undefined ? null : numberOption(params, 'hold', 0, (v) => v > 0 && v <= 1e6),
      leaseCycles: numberOption(params, 'lease', defaultAllocationSettings.leaseCycles, (v) => v >= 3 && v <= 1e6),
      hopsPerCycle: numberOption(params, 'hops', defaultAllocationSettings.hopsPerCycle, isInteger(1, 1000)),
      windowHops: window === undefined ? null : numberOption(params, 'window', 0, isInteger(1, 1_000_000)),
      keepSize: numberOption(params, 'keepSize', 0, isFlag) === 1,
      reach: reachOption(params.options.reach),
      spares: numberOption(params, 'spares', 1, isFlag) === 1,
      attempts: numberOption(params, 'attempts', defaultAllocationSettings.attempts, isInteger(1, 100)),
    },
    killOwners: numberOption(params, 'killOwners', 0, isFlag) === 1,
    churnFrom: numberOption(params, 'churnFrom', 0, isInteger(0, 1_000_000)),
    seeding,
    tman: {
      ...t,
      viewSize,
      messageSize: numberOption(params, 'm', t.messageSize!, isInteger(1, 255)),
      psi: numberOption(params, 'psi', t.psi!, isInteger(1, viewSize)),
      randomSample: numberOption(params, 'sample', t.randomSample!, isInteger(0, 255)),
      failureMemory: numberOption(params, 'failureMemory', t.failureMemory!, isInteger(0, 255)),
      maxAge,
      sampleAge: numberOption(params, 'sampleAge', Math.min(t.sampleAge!, maxAge), isInteger(0, maxAge)),
    },
  };
}

export interface SlicesWorld {
  model: AllocationModel;
  rings: SliceRingProtocol;
  observer: SliceObserver;
  /** The owners' nodes, in request order (filled as requests are made). */
  owners: PeerHandle[];
  /** Live nodes when each request was made (for the call's coverage). */
  liveAtRequest: number[];
}

/** Kills `count` random live nodes, sparing `spared` (the owners' nodes). */
function killSparing(sim: Simulation, count: number, spared: ReadonlySet<PeerHandle>): void {
  let sparedAlive = 0;
  for (const h of spared) if (sim.population.isAlive(h)) sparedAlive++;
  const k = Math.min(count, sim.population.size - sparedAlive);
  for (let i = 0; i < k; i++) {
    let h: PeerHandle;
    do h = sim.population.randomLive(sim.rng);
    while (spared.has(h));
    sim.kill(h);
  }
}

/** --kill and --churn of the world, with the owners' nodes spared unless killOwners (dynamics.ts otherwise). */
function dynamicsControls(params: ExperimentParams, spared: ReadonlySet<PeerHandle>, killOwners: boolean, churnFrom: number): Control[] {
  const kill = (sim: Simulation, n: number) => (killOwners ? killRandom(sim, n) : killSparing(sim, n, spared));
  const controls: Control[] = params.kills.map((k) => ({
    name: 'sudden-death',
    beforeCycle(sim: Simulation, cycle: number): void {
      if (cycle === k.cycle) kill(sim, Math.round(sim.population.size * k.fraction));
    },
  }));
  if (params.churn > 0) {
    let debt = 0;
    controls.push({
      name: 'churn',
      beforeCycle(sim: Simulation, cycle: number): void {
        if (cycle < churnFrom) return;
        // As scenarios/dynamics.ts Churn: fractional nodes carry over.
        debt += sim.population.size * params.churn;
        const k = Math.floor(debt);
        debt -= k;
        kill(sim, k);
        for (let i = 0; i < k; i++) sim.spawn();
      },
    });
  }
  return controls;
}

/**
 * The world: peer sampling, attributes, T-Man rings per slice, the allocation model driven by a
 * control (requests when due, then `hops` message hops, then the ring groups) before every cycle.
 */
export function createSlicesWorld(params: ExperimentParams, options: SlicesOptions): { world: ReturnType<typeof createWorld>; slices: SlicesWorld } {
  validateWorld(params);
  // Kills and churn are ours (they spare the owners), so the world gets none.
  const world = createWorld({ ...params, kills: [], churn: 0 });
  const sim = world.sim;
  const profiles = new RingProfiles(params.seed, 1);
  const tman = new TMan(world.peers, profiles, sim.rng.fork(), options.tman);
  const rings = sim.addProtocol(new SliceRingProtocol(tman, profiles, options.seeding));
  const attributes = new AttributeTable(params.seed, 'uniform');
  const threshold = 1 - options.match;
  const model = new AllocationModel({
    population: sim.population,
    peers: world.peers,
    rng: sim.rng.fork(),
    matches: (node) => attributes.valueOf(node) >= threshold,
    // joinRing greets members it holds no descriptor of; dead ones do not answer and are left out
    // (and the daemon's failure rumors have dropped the descriptors of those that crashed).
    onMembers: (node, slice, members) => rings.seed(node, slice, members.filter((m) => sim.population.isAlive(m))),
    settings: options.allocation,
  });
  const observer = new SliceObserver(model, rings, profiles, options.sizes.length);
  const ownerRng: Random = new SeededRandom(`slice-owners:${params.seed}`);
  const owners: PeerHandle[] = [];
  const spared = new Set<PeerHandle>();
  const liveAtRequest: number[] = [];
  sim.controls.push(...dynamicsControls(params, spared, options.killOwners, options.churnFrom));
  sim.controls.push({
    name: 'slices',
    beforeCycle(s: Simulation, cycle: number): void {
      options.sizes.forEach((k, i) => {
        if (cycle !== options.at + i * options.stagger) return;
        let owner: PeerHandle;
        do owner = s.population.randomLive(ownerRng);
        while (spared.has(owner) && spared.size < s.population.size);
        owners.push(owner);
        spared.add(owner);
        liveAtRequest.push(s.population.size);
        model.request(owner, k);
      });
      for (let h = 0; h < options.allocation.hopsPerCycle; h++) model.runHop();
      observer.refreshGroups();
    },
  });
  sim.observers.push(observer);
  return { world, slices: { model, rings, observer, owners, liveAtRequest } };
}

export const slicesExperiment: Experiment = {
  name: 'slices',
  description: 'slice allocation (calls, offers, confirmations) and per-slice T-Man rings: cycles and messages to allocate, ring repair after kills / under churn',
  defaults: { cycles: 60 },
  optionHelp: {
    slices: 'sizes of the slices asked for at once by different owners, e.g. 10,100,1000 (default)',
    at: 'cycle of the first request; default 0',
    stagger: 'cycles between successive requests; default 0 (concurrent)',
    match: 'fraction of the nodes matching the query; default 1',
    fanout: `peers a call is sent or forwarded to; default ${defaultAllocationSettings.fanout}`,
    hops: 'message hops per gossip cycle; default 1',
    window: 'hops the owner collects offers at most; default ttl + 3',
    hold: 'cycles a node holds itself for a request it offered itself to; default 10, or window + 3 hops if longer',
    lease: `membership lease in cycles, renewed every third; default ${defaultAllocationSettings.leaseCycles}`,
    keepSize: '1: owners replace members that left after each renewal; default 0',
    reach: 'waves (unranked calls go out in waves sized to the count, the daemon\'s way) or flood (every call floods the network, as before); default waves',
    spares: '1: owners keep spare offers beyond the count (the daemon); 0: exactly the count (as before); default 1',
    attempts: `attempts of an allocation short because of contention (1: no retry, as before); default ${defaultAllocationSettings.attempts}`,
    killOwners: '1: --kill and --churn may hit the owners\' nodes; default 0',
    churnFrom: 'first cycle of --churn (e.g. once the slices exist); default 0',
    ringSeed: 'daemon (GossipNode.joinRing as is), reset (T-Man state reset on joining) or ranked (reset, closest members first); default daemon',
    tview: `T-Man view size; default ${SLICE_RING_TMAN.viewSize} (the daemon's)`,
    m: `T-Man message size; default ${SLICE_RING_TMAN.messageSize}`,
    psi: `T-Man ψ; default ${SLICE_RING_TMAN.psi}`,
    sample: `T-Man random sample size; default ${SLICE_RING_TMAN.randomSample}`,
    maxAge: `T-Man descriptor max age; default ${SLICE_RING_TMAN.maxAge}`,
    sampleAge: `T-Man age of sampled descriptors; default ${SLICE_RING_TMAN.sampleAge}`,
    failureMemory: `T-Man failed peers remembered; default ${SLICE_RING_TMAN.failureMemory}`,
  },
  run(params: ExperimentParams, progress?: Progress): ExperimentResult {
    const options = slicesOptions(params);
    const { world, slices } = createSlicesWorld(params, options);
    const engine = startWorld(world);
    const rows = runCycles(engine, params.cycles, (row) => progress?.(row.cycle, params.cycles, row));
    const summary: ExperimentResult['summary'] = slicesSummary(rows, params, options, slices);
    if (engine instanceof EventDrivenEngine) {
      summary.requests = engine.stats.requests;
      summary.messagesLost = engine.stats.lost;
      summary.timeouts = engine.stats.timeouts;
    }
    return { experiment: 'slices', parameters: describeParams(params), cycles: rows, summary };
  },
};

/**
 * Per slice i (s{i}…): size wanted and found, matching nodes, cycles until the owner had every
 * member confirmed (allocCycles; hops / hops per cycle), cycles from the request until every member's
 * ring neighbours are live members of its slice (ringCycles) and until they are its true neighbours
 * (ringExactCycles), the requests the allocation sent, and the share of the live nodes the call
 * reached. Overall: the worst doubleAllocated / listedNotMember seen (both must be 0), and after the
 * last kill the cycles until every ring is good again (ringRepairCycles, ringExactRepairCycles) and
 * until 99% of the members have good neighbours (ringRepair99Cycles);
 * under churn the mean share of members with a bad neighbour over the second half.
 */
export function slicesSummary(rows: CycleRow[], params: ExperimentParams, options: SlicesOptions, w: SlicesWorld): Record<string, number | string | boolean | null> {
  const hpc = options.allocation.hopsPerCycle;
  const kills = params.kills.filter((k) => k.fraction > 0 && k.cycle < params.cycles);
  const firstKill = kills.length > 0 ? Math.min(...kills.map((k) => k.cycle)) : Infinity;
  const summary: Record<string, number | string | boolean | null> = {
    slicesRequested: options.sizes.length,
    ttl: w.model.slices[0]?.create?.ttl ?? null,
    doubleAllocatedMax: Math.max(...rows.map((r) => r.doubleAllocated)),
    listedNotMemberMax: Math.max(...rows.map((r) => r.listedNotMember)),
  };
  // From the request (made before cycle `start` ran, so row start + t is t cycles later) to the
  // first row, once the owner had its members, where the slice's ring check passes.
  const ringTimes = (s: SimSlice, metric: 'RingBad' | 'RingWrong'): number | null => {
    const start = options.at + s.index * options.stagger;
    const allocated = start + Math.ceil(s.create!.hops / hpc);
    const good = rows.find((r) => r.cycle >= allocated && r.cycle > start && r.cycle <= firstKill && r[`s${s.index}Members`] > 0 && r[`s${s.index}${metric}`] === 0);
    return good ? good.cycle - start : null;
  };
  let allocated = 0;
  for (const s of w.model.slices) {
    const a = s.create!;
    const p = `s${s.index}`;
    summary[`${p}Want`] = s.want;
    summary[`${p}Status`] = s.status;
    summary[`${p}Found`] = a.state === 'closed' ? a.confirmed.length : null;
    summary[`${p}Attempts`] = a.attempts;
    summary[`${p}Waves`] = a.stats.waves;
    summary[`${p}SparesUsed`] = a.stats.sparesUsed;
    summary[`${p}Matched`] = a.state === 'closed' ? a.matched : null;
    summary[`${p}AllocCycles`] = a.hops >= 0 ? a.hops / hpc : null;
    summary[`${p}RingCycles`] = s.status === 'active' ? ringTimes(s, 'RingBad') : null;
    summary[`${p}RingExactCycles`] = s.status === 'active' ? ringTimes(s, 'RingWrong') : null;
    summary[`${p}Messages`] = a.messages;
    summary[`${p}Calls`] = a.stats.calls;
    summary[`${p}Offers`] = a.stats.offers + a.stats.busyOffers;
    summary[`${p}BusyOffers`] = a.stats.busyOffers;
    summary[`${p}Confirms`] = a.stats.confirms;
    summary[`${p}Cancels`] = a.stats.cancels;
    summary[`${p}Coverage`] = a.stats.reached / w.liveAtRequest[s.index];
    summary[`${p}Dropped`] = s.dropped;
    if (options.allocation.keepSize) {
      summary[`${p}Replacements`] = s.replacements;
      summary[`${p}Replaced`] = s.replaced;
      summary[`${p}ReplacementMessages`] = s.replacementMessages;
    }
    if (s.status === 'active') allocated++;
  }
  summary.slicesAllocated = allocated;
  const last = rows[rows.length - 1];
  summary.finalMembers = last.members;
  summary.finalRingBad = last.ringBad;
  summary.finalRingWrong = last.ringWrong;
  if (kills.length > 0) {
    const killCycle = Math.max(...kills.map((k) => k.cycle));
    const after = rows.filter((r) => r.cycle > killCycle);
    const good = after.find((r) => r.ringBad === 0);
    const exact = after.find((r) => r.ringWrong === 0);
    summary.ringRepairCycles = good ? good.cycle - killCycle : null;
    // The tail is a handful of members whose dead neighbours fade out only with T-Man's maxAge.
    const most = after.find((r) => r.ringBad <= 0.01 * r.members);
    summary.ringRepair99Cycles = most ? most.cycle - killCycle : null;
    summary.ringExactRepairCycles = exact ? exact.cycle - killCycle : null;
    summary.worstRingBadFractionAfterKill = after.length > 0 ? Math.max(...after.map((r) => r.ringBadFraction)) : null;
    summary.membersBeforeKill = rows.find((r) => r.cycle === killCycle)?.members ?? null;
    summary.membersAfterKill = after[0]?.members ?? null;
  }
  if (params.churn > 0) {
    const tail = rows.slice(Math.max(1, Math.floor(rows.length / 2)));
    summary.meanRingBadFractionSecondHalf = tail.reduce((s, r) => s + r.ringBadFraction, 0) / Math.max(1, tail.length);
    summary.maxRingBadFractionSecondHalf = Math.max(...tail.map((r) => r.ringBadFraction));
    summary.cyclesAllRingsGoodSecondHalf = tail.filter((r) => r.ringBad === 0).length;
  }
  summary.messagesTotal = last.messages;
  return summary;
}

registerExperiment(slicesExperiment);
