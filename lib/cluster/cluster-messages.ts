import type { Registry } from 'prom-client';

/** One registry as `getMetricsAsJSON()` returns it. */
export type RegistryJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** A worker asks the primary for the totals of all workers. */
export const AGGREGATE_REQUEST = 'nestjs-metrics:aggregate-request';
/** The primary answers the asking worker with the rendered totals or an error. */
export const AGGREGATE_RESPONSE = 'nestjs-metrics:aggregate-response';
/** The primary asks every worker for its registry as JSON. */
export const COLLECT_REQUEST = 'nestjs-metrics:collect-request';
/** A worker answers with its registry as JSON. */
export const COLLECT_RESPONSE = 'nestjs-metrics:collect-response';

export interface AggregateRequest {
  type: typeof AGGREGATE_REQUEST;
  id: number;
  workerLabel: boolean;
  timeoutMs: number;
}

export interface AggregateResponse {
  type: typeof AGGREGATE_RESPONSE;
  id: number;
  metrics?: string;
  error?: string;
}

export interface CollectRequest {
  type: typeof COLLECT_REQUEST;
  id: number;
}

export interface CollectResponse {
  type: typeof COLLECT_RESPONSE;
  id: number;
  metrics?: RegistryJson;
  error?: string;
}

/** True when `message` is an object whose `type` is `type`. */
export function isMessage<T extends { type: string }>(
  message: unknown,
  type: T['type'],
): message is T {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === type
  );
}
