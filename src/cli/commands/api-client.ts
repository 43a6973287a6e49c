/**
 * A small HTTP client for the node's user API, for `peercloud status|peers|network`. Errors name
 * the URL and say what to do: a refused connection means no daemon listens there.
 */
import { DEFAULT_API_PORT } from '../../node/config.js';
import { CliError } from './cli-error.js';

export function defaultApiUrl(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const fromEnv = env.PEERCLOUD_API?.trim();
  if (fromEnv) return /^https?:\/\//.test(fromEnv) ? fromEnv : `http://${fromEnv}`;
  return `http://127.0.0.1:${DEFAULT_API_PORT}`;
}

/** GETs `path` from the API at `base` and returns the parsed JSON; throws a CliError. */
export async function getJson(base: string, path: string, timeoutMs = 5_000): Promise<unknown> {
  let url: URL;
  try {
    url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  } catch {
    throw new CliError(`invalid --api URL ${JSON.stringify(base)}; expected e.g. http://127.0.0.1:${DEFAULT_API_PORT}`, 2);
  }
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
    const code = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message;
    const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (code ?? (err as Error).message);
    throw new CliError(`cannot reach the peercloud API at ${url.origin} (${why}); is the node running? Start it with \`peercloud node start\`, or point --api at a running node`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CliError(`${url.href} answered ${response.status} with something that is not JSON; is this a peercloud API?`);
  }
  if (!response.ok) {
    const message = (body as { message?: unknown } | null)?.message;
    throw new CliError(`${url.href} answered ${response.status}: ${typeof message === 'string' ? message : text.slice(0, 200)}`);
  }
  return body;
}
