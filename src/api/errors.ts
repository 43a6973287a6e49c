/**
 * Every error the API returns has one shape, `{ "error": { "code", "message" } }`, with a 4xx
 * status for the client's mistakes and 5xx for ours. This module maps what fastify, the HTTP parser
 * and the status source can throw onto that shape. Internal details (stack traces, source
 * exceptions) go to the log, never to the client.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../node/logger.js';
import type { ErrorBody } from './schemas.js';
import { ApiError, type ApiErrorCode } from './source.js';

export function errorBody(code: ApiErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

const CODE_BY_STATUS: Readonly<Record<number, ApiErrorCode>> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  431: 'HEADERS_TOO_LARGE',
  503: 'UNAVAILABLE',
};

/** Shortens text taken from a request before it is echoed in a message. */
export function clip(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** Turns any error into a status and body; logs what the client does not see. */
export function toErrorResponse(err: unknown, request: FastifyRequest | undefined, log: Logger): { status: number; body: ErrorBody } {
  if (err instanceof ApiError) {
    if (err.statusCode >= 500) log.warn({ err, reqId: request?.id }, 'status source unavailable');
    return { status: err.statusCode, body: errorBody(err.code, err.message) };
  }
  const fe = err as Partial<FastifyError> & { validationContext?: string };
  if (Array.isArray(fe.validation)) {
    // Ajv's messages are precise ("must be >= 1"); prefix them with where the value was.
    const first = fe.validation[0];
    const where = `${fe.validationContext ?? 'request'}${first?.instancePath ? first.instancePath.replace(/\//g, '.') : ''}`;
    let message = `${where} ${first?.message ?? 'is invalid'}`;
    const extra = (first?.params as { additionalProperty?: unknown } | undefined)?.additionalProperty;
    if (typeof extra === 'string') message = `unknown ${fe.validationContext === 'querystring' ? 'query parameter' : 'property'} ${JSON.stringify(clip(extra, 60))}`;
    return { status: 400, body: errorBody('BAD_REQUEST', message) };
  }
  const status = typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 600 ? fe.statusCode : 500;
  if (status >= 500) {
    log.error({ err, reqId: request?.id, url: request ? clip(request.url, 200) : undefined }, 'request failed');
    const reference = request ? ` (request ${request.id})` : '';
    return { status: 500, body: errorBody('INTERNAL', `internal error${reference}; see the node's log`) };
  }
  return { status, body: errorBody(CODE_BY_STATUS[status] ?? 'BAD_REQUEST', clientMessage(fe, status)) };
}

/** Fastify's client-error messages, reworded where they would confuse an API user. */
function clientMessage(err: Partial<FastifyError>, status: number): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'request body is larger than this API accepts';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported content type; send application/json';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'content type is application/json but the body is empty';
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'content-length does not match the body';
    case 'FST_ERR_BAD_URL':
      return 'malformed URL (bad percent-encoding)';
    default:
      if (err instanceof SyntaxError || err.name === 'SyntaxError') return `body is not valid JSON: ${clip(err.message ?? '', 100)}`;
      return clip(err.message || `HTTP ${status}`, 200);
  }
}

export function sendError(reply: FastifyReply, status: number, body: ErrorBody): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/**
 * Answers requests the HTTP parser could not even read (garbage bytes, oversized headers) with a
 * JSON 4xx and closes the connection; node's default answer is a bare "400 Bad Request".
 */
export function handleClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify(
    errorBody(tooLarge ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST', tooLarge ? 'request headers are too large' : 'malformed HTTP request'),
  );
  const reason = tooLarge ? 'Request Header Fields Too Large' : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
