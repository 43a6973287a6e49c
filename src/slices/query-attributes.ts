/**
 * The attributes a slice query can test and rank by, mapped onto NodeAttributes (what each node
 * measures about itself, src/node/attributes.ts). Names are case-insensitive when typed and have a
 * few aliases (`memory`, `free-cores`); the wire carries only the canonical names.
 */
import type { NodeAttributes } from '../node/attributes.js';
import { LABEL_KEY_PATTERN } from '../node/config-values.js';
import { showText } from './query-errors.js';
import type { ValueKind } from './query-units.js';

export type NumericAttribute =
  | 'cores'
  | 'freeCores'
  | 'cpu'
  | 'capacity'
  | 'mem'
  | 'freeMem'
  | 'disk'
  | 'freeDisk'
  | 'load'
  | 'uptime'
  | 'availability'
  | 'availability.day';

export type RankOrder = 'asc' | 'desc';

export interface NumericAttributeInfo {
  readonly name: NumericAttribute;
  readonly kind: ValueKind;
  /** Other accepted spellings (matched case-insensitively, like the name). */
  readonly aliases: readonly string[];
  /** One line for docs and help. */
  readonly description: string;
  /** Which end a ranking starts from when the user gives no order: the better one. */
  readonly defaultOrder: RankOrder;
  readonly read: (attributes: NodeAttributes) => number;
}

export const NUMERIC_ATTRIBUTES: readonly NumericAttributeInfo[] = Object.freeze([
  { name: 'cores', kind: 'number', aliases: [], description: 'logical CPUs', defaultOrder: 'desc', read: (a) => a.cores },
  {
    name: 'freeCores',
    kind: 'number',
    aliases: ['free-cores'],
    description: 'cores minus the 1-minute load average (at least 0)',
    defaultOrder: 'desc',
    read: (a) => a.freeCores,
  },
  { name: 'cpu', kind: 'number', aliases: [], description: 'single-core CPU score (~1000 on the reference machine)', defaultOrder: 'desc', read: (a) => a.cpuScore },
  { name: 'capacity', kind: 'number', aliases: [], description: 'cores × cpu', defaultOrder: 'desc', read: (a) => a.cores * a.cpuScore },
  { name: 'mem', kind: 'size', aliases: ['memory'], description: 'total memory', defaultOrder: 'desc', read: (a) => a.memoryTotalBytes },
  {
    name: 'freeMem',
    kind: 'size',
    aliases: ['free-mem', 'freeMemory', 'free-memory'],
    description: 'free memory',
    defaultOrder: 'desc',
    read: (a) => a.memoryFreeBytes,
  },
  { name: 'disk', kind: 'size', aliases: [], description: 'size of the file system holding the data directory', defaultOrder: 'desc', read: (a) => a.diskTotalBytes },
  { name: 'freeDisk', kind: 'size', aliases: ['free-disk'], description: 'free space on that file system', defaultOrder: 'desc', read: (a) => a.diskFreeBytes },
  { name: 'load', kind: 'number', aliases: [], description: '1-minute load average', defaultOrder: 'asc', read: (a) => a.loadAverage },
  { name: 'uptime', kind: 'duration', aliases: [], description: 'time since the daemon started', defaultOrder: 'desc', read: (a) => a.uptimeMs },
  {
    name: 'availability',
    kind: 'fraction',
    aliases: ['availability.week'],
    description: 'share of the last 7 days the node was up',
    defaultOrder: 'desc',
    read: (a) => a.availability.week,
  },
  {
    name: 'availability.day',
    kind: 'fraction',
    aliases: [],
    description: 'share of the last 24 hours the node was up',
    defaultOrder: 'desc',
    read: (a) => a.availability.day,
  },
] satisfies NumericAttributeInfo[]);

export const LABEL_PREFIX = 'label.';

/** A typed or received attribute name, resolved. */
export type AttributeRef =
  | { readonly kind: 'numeric'; readonly info: NumericAttributeInfo }
  | { readonly kind: 'label'; readonly key: string };

export type AttributeLookup =
  | AttributeRef
  | { readonly kind: 'unknown'; readonly problem: string; readonly hint?: string; /** A close known name. */ readonly suggestion?: string };

const BY_NAME: ReadonlyMap<NumericAttribute, NumericAttributeInfo> = new Map(NUMERIC_ATTRIBUTES.map((info) => [info.name, info]));
const BY_SPELLING: ReadonlyMap<string, NumericAttributeInfo> = new Map(
  NUMERIC_ATTRIBUTES.flatMap((info) => [info.name, ...info.aliases].map((spelling) => [spelling.toLowerCase(), info] as const)),
);

export const KNOWN_ATTRIBUTES_HINT = `known: ${NUMERIC_ATTRIBUTES.map((info) => info.name).join(', ')}, label.KEY`;

export function numericAttribute(name: NumericAttribute): NumericAttributeInfo {
  const info = BY_NAME.get(name);
  if (!info) throw new RangeError(`not a numeric attribute: ${name}`);
  return info;
}

/** The canonical name: `cores`, `label.zone`. */
export function attributeName(ref: AttributeRef): string {
  return ref.kind === 'label' ? `${LABEL_PREFIX}${ref.key}` : ref.info.name;
}

/** Resolves typed text: case-insensitive, aliases allowed, with a suggestion when it is close to a name. */
export function resolveAttribute(text: string): AttributeLookup {
  const lower = text.toLowerCase();
  const info = BY_SPELLING.get(lower);
  if (info) return { kind: 'numeric', info };
  if (lower.startsWith(LABEL_PREFIX)) return labelRef(lower.slice(LABEL_PREFIX.length));
  return unknown(text, lower);
}

/** Resolves a name received from a peer: canonical names only. */
export function resolveCanonicalAttribute(text: string): AttributeLookup {
  const info = BY_NAME.get(text as NumericAttribute);
  if (info) return { kind: 'numeric', info };
  if (text.startsWith(LABEL_PREFIX)) return labelRef(text.slice(LABEL_PREFIX.length));
  return { kind: 'unknown', problem: `unknown attribute ${showText(text)}`, hint: KNOWN_ATTRIBUTES_HINT };
}

function labelRef(key: string): AttributeLookup {
  if (key === '') return { kind: 'unknown', problem: 'label needs a key', hint: 'e.g. label.zone' };
  if (!LABEL_KEY_PATTERN.test(key)) {
    return {
      kind: 'unknown',
      problem: `label key ${showText(key)} is not valid`,
      hint: "1..63 lowercase letters, digits, '.', '_' or '-', starting and ending with a letter or digit",
    };
  }
  return { kind: 'label', key };
}

function unknown(text: string, lower: string): AttributeLookup {
  const problem = `unknown attribute ${showText(text)}`;
  const dot = lower.indexOf('.');
  // "labels.zone", "tag.zone": the user meant a label.
  if (dot > 0 && LABEL_KEY_PATTERN.test(lower.slice(dot + 1)) && closeTo(lower.slice(0, dot), ['label', 'labels', 'tag', 'tags'])) {
    const suggestion = `${LABEL_PREFIX}${lower.slice(dot + 1)}`;
    return { kind: 'unknown', problem, suggestion, hint: `did you mean ${suggestion}? ${KNOWN_ATTRIBUTES_HINT}` };
  }
  // Short words are within distance 2 of too much ("ram" of "cpu"): suggest only for longer ones.
  const spelling = lower.length > 3 ? [...BY_SPELLING.keys()].find((known) => editDistance(lower, known) <= 2) : undefined;
  const suggestion = spelling === undefined ? undefined : BY_SPELLING.get(spelling)?.name;
  if (suggestion === undefined) return { kind: 'unknown', problem, hint: KNOWN_ATTRIBUTES_HINT };
  return { kind: 'unknown', problem, suggestion, hint: `did you mean ${suggestion}? ${KNOWN_ATTRIBUTES_HINT}` };
}

function closeTo(word: string, candidates: readonly string[]): boolean {
  return candidates.some((c) => editDistance(word, c) <= 1);
}

/** Levenshtein distance, reported as 3 when the lengths alone differ by more than 2 (all callers need is "≤ 2?"). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
