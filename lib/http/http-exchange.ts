import type { IncomingMessage, ServerResponse } from 'node:http';

export const EXCHANGE = Symbol('nestjs-metrics:exchange');

/** Whoever records the exchange once its response has ended. */
export interface ExchangeOwner {
  complete(res: ServerResponse, aborted: boolean): void;
}

/** The state of one HTTP request while it is in flight. */
export class HttpExchange {
  requestBytes = 0;
  responseBytes = 0;
  /** The exception seen by the interceptor or the error middleware, if any. */
  error: unknown = undefined;
  streamFailed = false;
  ended = false;
  /** The route template the framework reported while routing (Fastify), if it did. */
  route: string | undefined = undefined;

  constructor(
    readonly owner: ExchangeOwner,
    readonly startedAt: number,
    readonly pathname: string,
    readonly push: IncomingMessage['push'],
    readonly write: ServerResponse['write'],
    readonly end: ServerResponse['end'],
  ) {}
}

type WithExchange<T> = T & { [EXCHANGE]?: HttpExchange };

/** The exchange of a response; accepts the raw response or a framework reply wrapping it (`.raw`). */
export function exchangeOf(response: unknown): HttpExchange | undefined {
  if (response === null || typeof response !== 'object') return undefined;
  const direct = (response as WithExchange<object>)[EXCHANGE];
  if (direct !== undefined) return direct;
  const raw = (response as { raw?: unknown }).raw;
  return raw !== null && typeof raw === 'object'
    ? (raw as WithExchange<object>)[EXCHANGE]
    : undefined;
}

/**
 * Puts the exchange on the response, where every hook finds it, and on the request only when the
 * request has a body to count: a property added to every request costs measurably per request.
 */
export function attachExchange(
  req: IncomingMessage,
  res: ServerResponse,
  exchange: HttpExchange,
  onRequestToo: boolean,
): void {
  (res as WithExchange<ServerResponse>)[EXCHANGE] = exchange;
  if (onRequestToo) (req as WithExchange<IncomingMessage>)[EXCHANGE] = exchange;
}

export function exchangeOfResponse(
  res: ServerResponse,
): HttpExchange | undefined {
  return (res as WithExchange<ServerResponse>)[EXCHANGE];
}

export function exchangeOfRequest(
  req: IncomingMessage,
): HttpExchange | undefined {
  return (req as WithExchange<IncomingMessage>)[EXCHANGE];
}
