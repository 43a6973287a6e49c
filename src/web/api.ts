/**
 * The daemon's API as the dashboard uses it: same-origin fetches with a timeout, JSON errors turned
 * into ApiRequestError with the daemon's message, and signed requests for the user's actions.
 */
import type { HistoryReport } from '../monitoring/aggregate-history.js';
import type { OverlayReport } from '../monitoring/overlay-crawler.js';
import { grantPayloadOf } from '../slices/grant.js';
import { type BrowserUser, signObject, signRequestHeaders } from './signing.js';

export type { HistoryReport, OverlayReport };

export class ApiRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function request<T>(method: string, path: string, options: { body?: unknown; user?: BrowserUser; timeoutMs?: number } = {}): Promise<T> {
  const url = new URL(path, location.href);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (options.user) Object.assign(headers, signRequestHeaders(options.user, method, url, body));
  let response: Response;
  try {
    response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
  } catch (err) {
    throw new ApiRequestError(`the node did not answer ${method} ${url.pathname}: ${(err as Error).message}`, 0);
  }
  const text = await response.text();
  let json: unknown = undefined;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    /* not JSON: reported below */
  }
  if (!response.ok) {
    const message = (json as { error?: { message?: string } } | undefined)?.error?.message ?? `HTTP ${response.status}`;
    throw new ApiRequestError(message, response.status);
  }
  return json as T;
}

export interface NodeInfo {
  readonly id: string;
  readonly name: string;
  readonly version: string;
}

export interface SliceView {
  readonly name: string;
  readonly sliceId: string;
  readonly ownerUser: string;
  readonly size: number;
  readonly target: number;
  readonly spec: { readonly text: string; readonly keepSize?: boolean };
  readonly members: readonly { readonly nodeId: string }[];
}

export const api = {
  node: () => request<NodeInfo>('GET', '/v1/node'),
  overlay: () => request<OverlayReport>('GET', '/v1/overlay'),
  history: (since?: number) => request<HistoryReport>('GET', since === undefined ? '/v1/history' : `/v1/history?since=${since}`),
  slices: () => request<{ slices: SliceView[] }>('GET', '/v1/slices'),

  /** Checks the request on the node, signs the grant here, then sends the signed create. */
  async createSlice(user: BrowserUser, form: { name: string; nodes?: string; fraction?: string; where?: string; rank?: string; keepSize: boolean }): Promise<SliceView> {
    const q = new URLSearchParams({ name: form.name });
    if (form.nodes) q.set('nodes', form.nodes);
    if (form.fraction) q.set('fraction', form.fraction);
    if (form.where) q.set('where', form.where);
    if (form.rank) q.set('rank', form.rank);
    if (form.keepSize) q.set('keepSize', 'true');
    const draft = await request<{ sliceId: string; ownerNode: string; spec: unknown }>('GET', `/v1/slice-draft?${q}`);
    const grant = signObject(user, 'slice-grant', grantPayloadOf({ sliceId: draft.sliceId, name: form.name, ownerNode: draft.ownerNode, spec: draft.spec }));
    return request<SliceView>('POST', '/v1/slices', { body: { sliceId: draft.sliceId, spec: draft.spec, grant }, user, timeoutMs: 60_000 });
  },
  growSlice: (user: BrowserUser, name: string, nodes: number) =>
    request<{ added: number }>('POST', `/v1/slices/${encodeURIComponent(name)}/grow`, { body: { nodes }, user, timeoutMs: 60_000 }),
  shrinkSlice: (user: BrowserUser, name: string, nodes: number) =>
    request<unknown>('POST', `/v1/slices/${encodeURIComponent(name)}/shrink`, { body: { nodes }, user, timeoutMs: 30_000 }),
  deleteSlice: (user: BrowserUser, name: string) => request<unknown>('DELETE', `/v1/slices/${encodeURIComponent(name)}`, { user, timeoutMs: 30_000 }),
};
