import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { METRICS_RESOLVED_OPTIONS } from '../metrics.constants.js';
import { RequestMetrics } from '../recorder/request-metrics.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import {
  EVENT_HANDLER,
  isGateway,
  MESSAGE_MAPPING_METADATA,
  MESSAGE_METADATA,
  PATTERN_HANDLER_METADATA,
  PATTERN_METADATA,
  removeInterceptor,
  replaceMarkedInterceptor,
} from '../nest-handler-metadata.js';
import { patternRoute } from './pattern-route.js';
import {
  TRANSPORT_INTERCEPTOR_MARK,
  TransportInterceptor,
  type MeasuredHandler,
} from './transport-interceptor.js';

type Class = abstract new (...args: never[]) => unknown;

/**
 * Puts a `TransportInterceptor` on every controller with `@MessagePattern`/`@EventPattern`
 * handlers and every gateway with `@SubscribeMessage` handlers. It runs while Nest instantiates
 * the app's providers, before any microservice (standalone or hybrid) registers its listeners and
 * before gateways are bound, because Nest reads interceptor metadata at that registration; the
 * interceptor is class metadata, so it applies whether or not the app config is inherited.
 */
@Injectable()
export class TransportHandlersBinder implements OnModuleDestroy {
  readonly interceptor: TransportInterceptor;
  private readonly boundClasses = new Set<Class>();

  constructor(
    discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly metrics: RequestMetrics,
    @Inject(METRICS_RESOLVED_OPTIONS) options: ResolvedMetricsOptions,
  ) {
    this.interceptor = new TransportInterceptor(metrics);
    const controllers = new Set<Class>();
    for (const wrapper of discovery.getControllers()) {
      if (typeof wrapper.metatype === 'function')
        controllers.add(wrapper.metatype as Class);
    }
    const gateways = new Set<Class>();
    for (const wrapper of discovery.getProviders()) {
      if (isGateway(wrapper)) gateways.add(wrapper.metatype as Class);
    }
    for (const controller of controllers)
      this.bind(controller, 'rpc', options.enabled);
    for (const gateway of gateways) this.bind(gateway, 'ws', options.enabled);
  }

  /** Takes the interceptor off the classes, so an app created later in this process starts clean. */
  onModuleDestroy(): void {
    for (const target of this.boundClasses)
      removeInterceptor(target, this.interceptor);
    this.boundClasses.clear();
  }

  private bind(target: Class, transport: 'rpc' | 'ws', enabled: boolean) {
    let measured = 0;
    const prototype = target.prototype as Record<string, unknown>;
    for (const name of this.scanner.getAllMethodNames(prototype)) {
      const method = prototype[name];
      if (typeof method !== 'function') continue;
      const handler =
        transport === 'rpc' ? this.rpcHandler(method) : this.wsHandler(method);
      if (handler === undefined) continue;
      measured++;
      this.interceptor.measure(method, handler);
    }
    if (measured === 0) return;
    replaceMarkedInterceptor(
      target,
      TRANSPORT_INTERCEPTOR_MARK,
      enabled ? this.interceptor : undefined,
    );
    if (!enabled) return;
    this.boundClasses.add(target);
    this.metrics.declareTransport(transport);
  }

  private rpcHandler(method: object): MeasuredHandler | undefined {
    const patterns = Reflect.getMetadata(PATTERN_METADATA, method) as
      unknown[] | undefined;
    if (!Array.isArray(patterns) || patterns.length === 0) return undefined;
    const isEvent =
      Reflect.getMetadata(PATTERN_HANDLER_METADATA, method) === EVENT_HANDLER;
    const method_ = isEvent ? 'event' : 'message';
    const routes = patterns.map(patternRoute);
    const seriesByRoute =
      routes.length > 1
        ? new Map(routes.map((r) => [r, this.metrics.route('rpc', method_, r)]))
        : undefined;
    return {
      transport: 'rpc',
      countsReplies: !isEvent,
      series: this.metrics.route('rpc', method_, routes[0]),
      seriesByRoute,
    };
  }

  private wsHandler(method: object): MeasuredHandler | undefined {
    if (!Reflect.getMetadata(MESSAGE_MAPPING_METADATA, method))
      return undefined;
    const message: unknown = Reflect.getMetadata(MESSAGE_METADATA, method);
    return {
      transport: 'ws',
      countsReplies: true,
      series: this.metrics.route('ws', 'message', patternRoute(message)),
      seriesByRoute: undefined,
    };
  }
}
