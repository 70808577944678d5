import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import {
  EVENT_HANDLER,
  nestTransportKeys,
  prependInterceptor,
  provideInterceptor,
  removeInterceptor,
} from '../compat/nest.js';
import { METRICS_RESOLVED_OPTIONS } from '../metrics.constants.js';
import { NEST_METADATA_CHECKED } from '../metrics.explorer.js';
import { RequestMetrics } from '../recorder/request-metrics.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { isGateway } from '../nest-handler-metadata.js';
import { patternRoute } from './pattern-route.js';
import { handlerContextSwitch } from '../context/handler-context.js';
import {
  TransportInterceptor,
  type MeasuredHandler,
} from './transport-interceptor.js';

type Class = abstract new (...args: never[]) => unknown;

/**
 * Measures every controller with `@MessagePattern`/`@EventPattern` handlers and every gateway
 * with `@SubscribeMessage` handlers. It runs while Nest instantiates the app's providers, before
 * any microservice (standalone or hybrid) registers its listeners and before gateways are bound,
 * because Nest reads interceptor metadata at that registration.
 *
 * The classes' interceptor metadata gets the class `TransportInterceptor` (the same reference for
 * every app, so writing it twice changes nothing), and the module of each class is told that this
 * class means this app's interceptor instance: two apps created before either starts each count
 * their own messages. Where Nest's module shape is not as expected, the instance itself goes into
 * the metadata (the app created last counts the messages of classes it shares), with one warning.
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
    @Inject(NEST_METADATA_CHECKED) _checked: true,
  ) {
    this.interceptor = new TransportInterceptor(
      metrics,
      handlerContextSwitch(options),
    );
    if (!options.enabled) return;
    const seen = new Set<Class>();
    for (const wrapper of discovery.getControllers())
      this.bind(wrapper, 'rpc', seen);
    for (const wrapper of discovery.getProviders())
      if (isGateway(wrapper)) this.bind(wrapper, 'ws', seen);
  }

  /** Takes this app's instance off the classes it had to write it on (the fallback only). */
  onModuleDestroy(): void {
    for (const target of this.boundClasses)
      removeInterceptor(target, this.interceptor);
    this.boundClasses.clear();
  }

  private bind(
    wrapper: InstanceWrapper,
    transport: 'rpc' | 'ws',
    seen: Set<Class>,
  ) {
    const target = wrapper.metatype as Class | null;
    if (typeof target !== 'function' || wrapper.isAlias || seen.has(target))
      return;
    seen.add(target);
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
    this.metrics.declareTransport(transport);
    if (
      provideInterceptor(
        wrapper.host,
        wrapper,
        TransportInterceptor,
        this.interceptor,
      )
    ) {
      prependInterceptor(target, TransportInterceptor);
      return;
    }
    removeInterceptor(target, TransportInterceptor);
    prependInterceptor(target, this.interceptor);
    this.boundClasses.add(target);
  }

  private rpcHandler(method: object): MeasuredHandler | undefined {
    const keys = nestTransportKeys();
    const patterns = Reflect.getMetadata(keys.pattern, method) as
      unknown[] | undefined;
    if (!Array.isArray(patterns) || patterns.length === 0) return undefined;
    const isEvent =
      Reflect.getMetadata(keys.patternHandler, method) === EVENT_HANDLER;
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
    const keys = nestTransportKeys();
    if (!Reflect.getMetadata(keys.messageMapping, method)) return undefined;
    const message: unknown = Reflect.getMetadata(keys.message, method);
    return {
      transport: 'ws',
      countsReplies: true,
      series: this.metrics.route('ws', 'message', patternRoute(message)),
      seriesByRoute: undefined,
    };
  }
}
