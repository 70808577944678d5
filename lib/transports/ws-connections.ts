import { markLiveState } from '../read/registry-state.js';
import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Counter, Gauge } from 'prom-client';
import { reportDegraded } from '../compat/degraded.js';
import { withStaticInstance } from '../compat/nest.js';
import { METRICS_RESOLVED_OPTIONS } from '../metrics.constants.js';
import { MetricsService } from '../metrics.service.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { isGateway } from '../nest-handler-metadata.js';
import { RecordingFailureLog } from '../recorder/recording-failure-log.js';
import { TransportHandlersBinder } from './transport-handlers.binder.js';
import { WS_CONNECTION_FAMILIES } from './ws-connections.families.js';

export { WS_CONNECTION_FAMILIES } from './ws-connections.families.js';

const MEASURED = Symbol('nestjs-metrics:measured-connections');

type Hook = (this: unknown, client: unknown, ...rest: unknown[]) => unknown;

/**
 * `ws_connections{gateway}` and `ws_connections_total{gateway}` for every `@WebSocketGateway()`
 * (on any adapter: `@nestjs/platform-ws`, `@nestjs/platform-socket.io`), with no code in the
 * gateway. Nest calls a gateway's `handleConnection` for each client that connects and its
 * `handleDisconnect` when the adapter sees the client go (a close, a dropped TCP connection, a
 * Socket.IO ping timeout); each gateway instance gets both, calling the gateway's own after
 * counting. It runs while Nest instantiates the app, before the gateways are bound, and after
 * the transport binder (which reads the gateways' classes).
 */
@Injectable()
export class WsConnections {
  private current: Gauge<'gateway'> | undefined;
  private opened: Counter<'gateway'> | undefined;
  private readonly failures = new RecordingFailureLog();

  constructor(
    discovery: DiscoveryService,
    private readonly service: MetricsService,
    @Inject(METRICS_RESOLVED_OPTIONS) options: ResolvedMetricsOptions,
    // Injected for its order: it reads `wrapper.metatype`, which a creation hook replaces.
    _binder: TransportHandlersBinder,
  ) {
    if (!options.enabled) return;
    const seen = new Set<unknown>();
    for (const wrapper of discovery.getProviders()) {
      if (wrapper.isAlias || !isGateway(wrapper) || seen.has(wrapper.metatype))
        continue;
      seen.add(wrapper.metatype);
      const gateway = (wrapper.metatype as { name: string }).name;
      if (!wrapper.isDependencyTreeStatic()) continue;
      const families = this.families();
      families.current.set({ gateway }, 0);
      families.opened.inc({ gateway }, 0);
      const hooked = withStaticInstance(wrapper, (instance) =>
        this.measure(instance, gateway),
      );
      if (!hooked)
        reportDegraded({
          internal: '@nestjs/core: InstanceWrapper (gateway instances)',
          loss: `connections of gateway ${gateway} are not counted (ws_connections)`,
        });
    }
  }

  private families(): {
    current: Gauge<'gateway'>;
    opened: Counter<'gateway'>;
  } {
    const { current, opened } = WS_CONNECTION_FAMILIES;
    this.current ??= markLiveState(
      this.service.gauge(current.name, {
        help: current.help,
        labelNames: current.labels,
      }),
    );
    this.opened ??= this.service.counter(opened.name, {
      help: opened.help,
      labelNames: opened.labels,
    });
    return { current: this.current, opened: this.opened };
  }

  /** Gives the gateway instance counting `handleConnection`/`handleDisconnect` hooks. */
  private measure(instance: object, gateway: string): void {
    const target = instance as Record<string | symbol, unknown>;
    if (target[MEASURED] === true) return;
    const { current, opened } = this.families();
    const failures = this.failures;
    const connected = new WeakSet<object>();
    const ownConnect = target.handleConnection;
    const ownDisconnect = target.handleDisconnect;
    const handleConnection: Hook = function (client, ...rest) {
      try {
        if (isObject(client) && !connected.has(client)) {
          connected.add(client);
          current.inc({ gateway });
          opened.inc({ gateway });
        }
      } catch (error) {
        failures.report(error);
      }
      return typeof ownConnect === 'function'
        ? (ownConnect as Hook).call(this, client, ...rest)
        : undefined;
    };
    const handleDisconnect: Hook = function (client, ...rest) {
      try {
        if (isObject(client) && connected.delete(client))
          current.dec({ gateway });
      } catch (error) {
        failures.report(error);
      }
      return typeof ownDisconnect === 'function'
        ? (ownDisconnect as Hook).call(this, client, ...rest)
        : undefined;
    };
    define(target, 'handleConnection', handleConnection, ownConnect);
    define(target, 'handleDisconnect', handleDisconnect, ownDisconnect);
    Object.defineProperty(target, MEASURED, { value: true });
  }
}

function isObject(value: unknown): value is object {
  return (
    (typeof value === 'object' || typeof value === 'function') && value !== null
  );
}

/** An own, non-enumerable method that keeps the name and length of the gateway's own. */
function define(target: object, name: string, hook: Hook, own: unknown): void {
  Object.defineProperty(hook, 'name', { value: name });
  if (typeof own === 'function')
    Object.defineProperty(hook, 'length', { value: own.length });
  Object.defineProperty(target, name, {
    value: hook,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
