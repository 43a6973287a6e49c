/**
 * The one error class of slice requests: a bad `--where` expression, `--rank`, count, name, or a
 * malformed request from a peer. The CLI and the HTTP API turn it into a one-line message; `field`
 * says which part of the request was wrong (so the CLI can name the flag) and `column` (1-based)
 * where in the typed text, when there is typed text.
 */
export type QueryField = 'where' | 'rank' | 'name' | 'count' | 'keepSize' | 'wire';

export interface QueryErrorInit {
  readonly field: QueryField;
  /** What is wrong, e.g. `unknown attribute "ram"`. */
  readonly problem: string;
  /** 1-based position in `input`. */
  readonly column?: number;
  /** The text the column refers to. */
  readonly input?: string;
  /** What would be right, e.g. `known: cores, cpu, …`; shown in parentheses after the position. */
  readonly hint?: string;
}

export class QueryError extends Error {
  readonly field: QueryField;
  readonly problem: string;
  readonly column: number | undefined;
  readonly input: string | undefined;
  readonly hint: string | undefined;

  constructor(init: QueryErrorInit) {
    const at = init.column === undefined ? '' : ` at column ${init.column}`;
    const hint = init.hint === undefined ? '' : ` (${init.hint})`;
    super(`${init.problem}${at}${hint}`);
    this.name = 'QueryError';
    this.field = init.field;
    this.problem = init.problem;
    this.column = init.column;
    this.input = init.input;
    this.hint = init.hint;
  }

  /**
   * The input with a caret under the column, for terminals:
   *     cores>=4, ram>=8GiB
   *               ^
   * Null when there is no typed text to point into.
   */
  excerpt(): string | null {
    if (this.input === undefined || this.column === undefined) return null;
    const pad = ' '.repeat(Math.max(0, Math.min(this.column - 1, this.input.length)));
    return `${this.input}\n${pad}^`;
  }
}

/** Shows a raw value in a message: strings quoted (and cut when long), other things by type. */
export function showText(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return String(value);
  return `a ${typeof value}`;
}
