import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants.js';
import { METRICS_RESOLVED_OPTIONS } from '../metrics.constants.js';
import { RequestMetrics } from '../recorder/request-metrics.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { patternRoute } from './pattern-route.js';
import {
  TRANSPORT_INTERCEPTOR_MARK,
  TransportInterceptor,
  type MeasuredHandler,
} from './transport-interceptor.js';

// Metadata keys of @nestjs/microservices and @nestjs/websockets, spelled out so that neither
// optional package is loaded by apps that do not use it.
const PATTERN_METADATA = 'microservices:pattern';
const PATTERN_HANDLER_METADATA = 'microservices:handler_type';
const EVENT_HANDLER = 2;
const GATEWAY_METADATA = 'websockets:is_gateway';
const MESSAGE_MAPPING_METADATA = 'websockets:message_mapping';
const MESSAGE_METADATA = 'message';

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
      const metatype = wrapper.metatype;
      if (
        typeof metatype === 'function' &&
        !wrapper.inject &&
        Reflect.getMetadata(GATEWAY_METADATA, metatype)
      )
        gateways.add(metatype as Class);
    }
    for (const controller of controllers)
      this.bind(controller, 'rpc', options.enabled);
    for (const gateway of gateways) this.bind(gateway, 'ws', options.enabled);
  }

  /** Takes the interceptor off the classes, so an app created later in this process starts clean. */
  onModuleDestroy(): void {
    for (const target of this.boundClasses) {
      const current = interceptorsOf(target);
      if (current.includes(this.interceptor))
        setInterceptors(
          target,
          current.filter((interceptor) => interceptor !== this.interceptor),
        );
    }
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
    // Replaces the interceptor another app of this process put there: one count per message.
    const others = withoutTransportInterceptors(target);
    if (!enabled) {
      setInterceptors(target, others);
      return;
    }
    setInterceptors(target, [this.interceptor, ...others]);
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

function interceptorsOf(target: Class): unknown[] {
  const current: unknown = Reflect.getMetadata(INTERCEPTORS_METADATA, target);
  return Array.isArray(current) ? current : [];
}

function withoutTransportInterceptors(target: Class): unknown[] {
  return interceptorsOf(target).filter(
    (interceptor) =>
      !(
        interceptor !== null &&
        typeof interceptor === 'object' &&
        TRANSPORT_INTERCEPTOR_MARK in interceptor
      ),
  );
}

function setInterceptors(target: Class, interceptors: unknown[]): void {
  Reflect.defineMetadata(INTERCEPTORS_METADATA, interceptors, target);
}
