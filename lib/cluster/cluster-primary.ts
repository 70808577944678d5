import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
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
  type RegistryJson,
} from './cluster-messages.js';

/** Stops answering the workers' aggregation requests. */
export type StopClusterPrimary = () => void;

interface Collection {
  asker: Worker;
  askerRequestId: number;
  workerLabel: boolean;
  waitingFor: Set<number>;
  gathered: Array<{ workerId: number; metrics: RegistryJson }>;
  timer: NodeJS.Timeout;
}

let installed: StopClusterPrimary | undefined;

/**
 * Call once in the primary process of a `node:cluster` app whose workers import `MetricsModule` with
 * `cluster: true`. Answers each worker's scrape with the totals of all live workers, aggregated by
 * prom-client's `AggregatorRegistry.aggregate()`. A worker that exits during a collection is left
 * out; if a live worker does not answer within the asking worker's timeout, the scrape fails (503)
 * rather than serve totals that went down. Idempotent; returns a function that stops it.
 */
export function setupClusterPrimary(): StopClusterPrimary {
  if (!cluster.isPrimary) {
    throw new Error(
      'nestjs-metrics: setupClusterPrimary() must be called in the cluster primary process',
    );
  }
  if (installed) return installed;
  const collections = new Map<number, Collection>();
  let nextId = 0;

  const answer = (collection: Collection, response: AggregateResponse) => {
    clearTimeout(collection.timer);
    for (const [id, other] of collections)
      if (other === collection) collections.delete(id);
    if (!collection.asker.isConnected()) return;
    try {
      collection.asker.send(response);
    } catch {
      // The asking worker went away.
    }
  };

  const finishIfComplete = async (id: number, collection: Collection) => {
    if (collection.waitingFor.size > 0) return;
    collections.delete(id);
    let response: AggregateResponse;
    try {
      const perWorker = collection.gathered.map(({ workerId, metrics }) =>
        collection.workerLabel ? withWorkerLabel(metrics, workerId) : metrics,
      );
      response = {
        type: AGGREGATE_RESPONSE,
        id: collection.askerRequestId,
        metrics: await AggregatorRegistry.aggregate(perWorker).metrics(),
      };
    } catch (error) {
      response = {
        type: AGGREGATE_RESPONSE,
        id: collection.askerRequestId,
        error: `aggregating the workers' metrics failed: ${(error as Error).message}`,
      };
    }
    answer(collection, response);
  };

  const onMessage = (worker: Worker, message: unknown) => {
    if (isMessage<AggregateRequest>(message, AGGREGATE_REQUEST)) {
      const id = nextId++;
      const live = Object.values(cluster.workers ?? {}).filter(
        (w): w is Worker => w !== undefined && w.isConnected(),
      );
      const collection: Collection = {
        asker: worker,
        askerRequestId: message.id,
        workerLabel: message.workerLabel === true,
        waitingFor: new Set(live.map((w) => w.id)),
        gathered: [],
        timer: setTimeout(() => {
          collections.delete(id);
          answer(collection, {
            type: AGGREGATE_RESPONSE,
            id: collection.askerRequestId,
            error: `worker(s) ${[...collection.waitingFor].join(', ')} did not answer within ${message.timeoutMs} ms`,
          });
        }, message.timeoutMs),
      };
      collection.timer.unref();
      collections.set(id, collection);
      const request: CollectRequest = { type: COLLECT_REQUEST, id };
      for (const target of live) {
        // A worker that died before the primary saw its exit fails here; it is not waited for.
        target.send(request, undefined, undefined, (error) => {
          if (error && collection.waitingFor.delete(target.id))
            void finishIfComplete(id, collection);
        });
      }
      void finishIfComplete(id, collection);
    } else if (isMessage<CollectResponse>(message, COLLECT_RESPONSE)) {
      const collection = collections.get(message.id);
      if (collection === undefined || !collection.waitingFor.has(worker.id))
        return;
      if (message.error !== undefined || message.metrics === undefined) {
        collections.delete(message.id);
        answer(collection, {
          type: AGGREGATE_RESPONSE,
          id: collection.askerRequestId,
          error: `worker ${worker.id} could not collect its metrics: ${message.error ?? 'empty answer'}`,
        });
        return;
      }
      collection.waitingFor.delete(worker.id);
      collection.gathered.push({
        workerId: worker.id,
        metrics: message.metrics,
      });
      void finishIfComplete(message.id, collection);
    }
  };

  // A worker that exits takes its numbers with it: it is no longer waited for.
  const onExit = (worker: Worker) => {
    for (const [id, collection] of collections) {
      if (collection.waitingFor.delete(worker.id))
        void finishIfComplete(id, collection);
    }
  };

  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  installed = () => {
    cluster.off('message', onMessage);
    cluster.off('exit', onExit);
    for (const collection of collections.values())
      clearTimeout(collection.timer);
    collections.clear();
    installed = undefined;
  };
  return installed;
}

function withWorkerLabel(
  metrics: RegistryJson,
  workerId: number,
): RegistryJson {
  const worker = String(workerId);
  return metrics.map((metric) => ({
    ...metric,
    values: metric.values.map((value) => ({
      ...value,
      labels: { ...value.labels, worker },
    })),
  }));
}
