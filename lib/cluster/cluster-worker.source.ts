import cluster from 'node:cluster';
import {
  type BeforeApplicationShutdown,
  Logger,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import type { ResolvedClusterOptions } from '../interfaces/cluster-options.interface.js';
import {
  type MetricsSource,
  MetricsUnavailableError,
} from '../scrape/metrics-source.js';
import {
  AGGREGATE_REQUEST,
  AGGREGATE_RESPONSE,
  type AggregateRequest,
  type AggregateResponse,
  COLLECT_REQUEST,
  COLLECT_RESPONSE,
  type CollectRequest,
  type CollectResponse,
  isMessage,
} from './cluster-messages.js';

/** How much longer than the primary's own timeout a worker waits for the primary's answer. */
const PRIMARY_GRACE_MS = 1000;

interface Pending {
  resolve: (text: string) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** True in a process forked by `node:cluster`. */
export function isClusterWorker(): boolean {
  return cluster.isWorker && typeof process.send === 'function';
}

/**
 * The scrape source of a `node:cluster` worker: asks the primary (see `setupClusterPrimary`) for the
 * totals of all workers, and answers the primary's collection requests with the module's registry
 * (never prom-client's global one).
 *
 * When the app begins to close (`beforeApplicationShutdown`, before Nest closes the HTTP server),
 * every scrape still waiting for the primary is answered 503 at once and later ones are refused,
 * so no scrape holds the HTTP server open; its `message` listener is removed and no timer of its
 * own is left: nothing it holds keeps the worker alive after `close()`.
 */
export class ClusterWorkerSource
  implements MetricsSource, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('MetricsModule');
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closing = false;

  constructor(
    private readonly registry: Registry,
    private readonly options: ResolvedClusterOptions,
  ) {
    process.on('message', this.onMessage);
  }

  metrics(): Promise<string> {
    if (this.closing)
      return Promise.reject(
        new MetricsUnavailableError('the app is shutting down'),
      );
    const timeoutMs = this.options.timeoutSeconds * 1000;
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new MetricsUnavailableError(
            'no answer from the cluster primary; is setupClusterPrimary() called in the primary process?',
          ),
        );
      }, timeoutMs + PRIMARY_GRACE_MS);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      const request: AggregateRequest = {
        type: AGGREGATE_REQUEST,
        id,
        workerLabel: this.options.workerLabel,
        timeoutMs,
      };
      try {
        process.send!(request);
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(
          new MetricsUnavailableError(
            `the cluster primary cannot be reached (${(error as Error).message})`,
          ),
        );
      }
    });
  }

  /**
   * Before Nest drains the HTTP server: scrapes waiting for the primary are answered 503 at once
   * (so none holds the drain), later ones too. Collections the primary asks for are still
   * answered, so the other workers' scrapes keep their totals while this one drains.
   */
  beforeApplicationShutdown(): void {
    this.refuseScrapes();
  }

  /** After the drain: stops answering the primary (a no-op for a second call). */
  onApplicationShutdown(): void {
    this.refuseScrapes();
    process.off('message', this.onMessage);
  }

  private refuseScrapes(): void {
    if (this.closing) return;
    this.closing = true;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new MetricsUnavailableError('the app is shutting down'));
      this.pending.delete(id);
    }
  }

  private readonly onMessage = (message: unknown): void => {
    if (isMessage<CollectRequest>(message, COLLECT_REQUEST)) {
      void this.collect(message.id);
    } else if (isMessage<AggregateResponse>(message, AGGREGATE_RESPONSE)) {
      const pending = this.pending.get(message.id);
      if (pending === undefined) return;
      this.pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.error !== undefined || message.metrics === undefined) {
        pending.reject(
          new MetricsUnavailableError(message.error ?? 'empty answer'),
        );
      } else {
        pending.resolve(message.metrics);
      }
    }
  };

  private async collect(id: number): Promise<void> {
    let response: CollectResponse;
    try {
      response = {
        type: COLLECT_RESPONSE,
        id,
        metrics: await this.registry.getMetricsAsJSON(),
      };
    } catch (error) {
      this.logger.error(
        'Collecting the metrics for the cluster primary failed',
        error instanceof Error ? error.stack : String(error),
      );
      response = {
        type: COLLECT_RESPONSE,
        id,
        error: error instanceof Error ? error.message : String(error),
      };
    }
    try {
      process.send?.(response);
    } catch {
      // The primary went away; nothing to answer.
    }
  }
}
