/**
 * Configuration errors. Every problem names the setting, where the bad value came from (file and
 * key, environment variable, or flag) and what was expected, and all problems of one load are
 * reported together so a user fixes them in one go.
 */

/** Where a setting's value came from. */
export type ConfigSource =
  | { readonly kind: 'default' }
  | { readonly kind: 'file'; readonly path: string; readonly key: string }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'flag'; readonly name: string };

export function describeSource(source: ConfigSource): string {
  switch (source.kind) {
    case 'default':
      return 'the default';
    case 'file':
      return `config file ${source.path}, key ${source.key}`;
    case 'env':
      return `environment variable ${source.name}`;
    case 'flag':
      return `flag --${source.name}`;
  }
}

export interface ConfigIssue {
  /** The setting's key (dotted path), or the unknown key as written. */
  readonly setting: string;
  readonly source: ConfigSource;
  /** What is wrong, e.g. `"abc" is not a decimal integer`. */
  readonly problem: string;
  /** What would be right, e.g. `an integer from 2 to 255`; empty when there is nothing to add. */
  readonly expected: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const expected = issue.expected ? `; expected ${issue.expected}` : '';
  return `${issue.setting} (from ${describeSource(issue.source)}): ${issue.problem}${expected}`;
}

export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map(formatIssue);
    super(lines.length === 1 ? `invalid configuration: ${lines[0]}` : `invalid configuration:\n  ${lines.join('\n  ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Edit distance, for "did you mean" suggestions on unknown keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The closest known name, if it is close enough to be a likely typo (or a snake_case spelling). */
export function suggest(unknown: string, known: Iterable<string>): string | undefined {
  const squash = (s: string): string => s.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const d = squash(name) === squash(unknown) ? 0 : distance(unknown.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(unknown.length / 4)) ? best : undefined;
}
