import {
  Inject,
  Injectable,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import {
  DECORATOR_LABELS,
  DEFAULT_COUNTED_NAME,
  DEFAULT_TIMED_NAME,
  METRICS_RESOLVED_OPTIONS,
} from './metrics.constants.js';
import { invalidDecoratorMessage } from './metrics.messages.js';
import { resolveBuckets } from './metrics.options.js';
import { MetricsService } from './metrics.service.js';
import { MetricsMetadataAccessor } from './metrics-metadata.accessor.js';
import {
  isDispatchedByNest,
  isGateway,
  removeInterceptor,
  replaceMarkedInterceptor,
} from './nest-handler-metadata.js';
import {
  HANDLER_METRICS_INTERCEPTOR,
  HandlerMetricsInterceptor,
} from './interceptors/handler-metrics.interceptor.js';
import { measureCall, MethodInstrument } from './method-instrument.js';
import type { ResolvedMetricsOptions } from './interfaces/metrics-module-options.interface.js';
import type { TimedMetadata } from './decorators/timed.decorator.js';
import type { CountedMetadata } from './decorators/counted.decorator.js';

interface DecoratedMethod {
  method: object;
  methodName: string;
  timed: TimedMetadata | undefined;
  counted: CountedMetadata | undefined;
}

const WRAPPED = Symbol('nestjs-metrics:wrapped');
const BASE_LABELS = DECORATOR_LABELS;

/**
 * Finds @Timed and @Counted methods. Routes and message handlers of controllers and gateways get
 * a `HandlerMetricsInterceptor` as method metadata while Nest instantiates the app, before it binds
 * them (it reads interceptor metadata then, and calls them from the prototype); every other
 * decorated method, of any provider or controller, is wrapped on its instance at bootstrap.
 */
@Injectable()
export class MetricsExplorer implements OnModuleInit, OnModuleDestroy {
  private readonly handlerInterceptor = new HandlerMetricsInterceptor();
  private readonly decoratedHandlers = new Set<object>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: MetricsMetadataAccessor,
    private readonly metrics: MetricsService,
    @Inject(METRICS_RESOLVED_OPTIONS)
    private readonly options: ResolvedMetricsOptions,
  ) {
    for (const wrapper of this.discovery.getControllers())
      this.bindController(wrapper);
    for (const wrapper of this.discovery.getProviders())
      if (isGateway(wrapper)) this.bindController(wrapper);
  }

  onModuleInit(): void {
    if (!this.options.enabled) return;
    for (const wrapper of this.discovery.getControllers())
      this.explore(wrapper);
    for (const wrapper of this.discovery.getProviders()) this.explore(wrapper);
  }

  /** Takes this app's interceptor off the handlers, so an app created later starts clean. */
  onModuleDestroy(): void {
    for (const handler of this.decoratedHandlers)
      removeInterceptor(handler, this.handlerInterceptor);
    this.decoratedHandlers.clear();
  }

  /** Controllers and gateways: Nest calls their methods from the prototype, so they get metadata. */
  private bindController(wrapper: InstanceWrapper): void {
    const metatype = wrapper.metatype;
    if (typeof metatype !== 'function' || wrapper.isAlias) return;
    for (const { method, methodName, timed, counted } of this.decoratedMethods(
      metatype,
      metatype.prototype as Record<string, unknown>,
    )) {
      if (!isDispatchedByNest(method)) continue;
      if (!this.options.enabled) {
        replaceMarkedInterceptor(
          method,
          HANDLER_METRICS_INTERCEPTOR,
          undefined,
        );
        continue;
      }
      this.handlerInterceptor.measure(
        metatype,
        method,
        this.createInstrument(metatype.name, methodName, timed, counted),
      );
      replaceMarkedInterceptor(
        method,
        HANDLER_METRICS_INTERCEPTOR,
        this.handlerInterceptor,
      );
      this.decoratedHandlers.add(method);
    }
  }

  private explore(wrapper: InstanceWrapper): void {
    const { instance } = wrapper;
    if (
      !instance ||
      typeof instance !== 'object' ||
      wrapper.isAlias ||
      !wrapper.isDependencyTreeStatic()
    )
      return;
    // The instance's class, not `wrapper.metatype`: for a factory provider that is the factory, and
    // for a value provider it is null, so class-level decorators and the class name would be lost.
    const metatype = (instance as object).constructor;
    if (typeof metatype !== 'function') return;
    for (const { method, methodName, timed, counted } of this.decoratedMethods(
      metatype,
      Object.getPrototypeOf(instance) as Record<string, unknown>,
    )) {
      // Routes and message handlers are measured by the method interceptor (see bindController).
      if (isDispatchedByNest(method)) continue;
      const instrument = this.createInstrument(
        metatype.name,
        methodName,
        timed,
        counted,
      );
      wrapMethod(instance as Record<string, unknown>, methodName, instrument);
    }
  }

  /** The methods of a class that carry @Timed or @Counted, with their metadata. */
  private *decoratedMethods(
    metatype: object,
    prototype: Record<string, unknown>,
  ): Generator<DecoratedMethod> {
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = prototype[methodName];
      if (typeof method !== 'function' || methodName === 'constructor')
        continue;
      const timed = this.accessor.getTimed(metatype, method);
      const counted = this.accessor.getCounted(metatype, method);
      if (timed || counted) yield { method, methodName, timed, counted };
    }
  }

  private createInstrument(
    className: string,
    methodName: string,
    timed: TimedMetadata | undefined,
    counted: CountedMetadata | undefined,
  ): MethodInstrument {
    const target = `${className}.${methodName}()`;
    try {
      const timedLabels = { ...timed?.options.labels };
      const countedLabels = { ...counted?.options.labels };
      const histogram = timed
        ? this.metrics.histogram(timed.name ?? DEFAULT_TIMED_NAME, {
            help:
              timed.options.help ??
              'Duration of decorated method calls, in seconds.',
            labelNames: [...BASE_LABELS, ...Object.keys(timedLabels)],
            buckets: [
              ...(resolveBuckets(timed.options.buckets, 'buckets') ??
                this.options.buckets),
            ],
          })
        : undefined;
      const counter = counted
        ? this.metrics.counter(counted.name ?? DEFAULT_COUNTED_NAME, {
            help: counted.options.help ?? 'Calls of decorated methods.',
            labelNames: [...BASE_LABELS, ...Object.keys(countedLabels)],
          })
        : undefined;
      return new MethodInstrument(
        { class: className, method: methodName },
        histogram,
        counter,
        counted?.options.failuresOnly === true,
        timedLabels,
        countedLabels,
      );
    } catch (error) {
      const decorator =
        timed && counted ? 'Timed/@Counted' : timed ? 'Timed' : 'Counted';
      throw new Error(
        invalidDecoratorMessage(decorator, target, (error as Error).message),
        { cause: error },
      );
    }
  }
}

/** Replaces the instance's method with a measured one that keeps its name and metadata. */
function wrapMethod(
  instance: Record<string, unknown>,
  methodName: string,
  instrument: MethodInstrument,
): void {
  const current = instance[methodName] as ((...args: unknown[]) => unknown) & {
    [WRAPPED]?: true;
  };
  if (current[WRAPPED]) return;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    return measureCall(instrument, () => current.apply(this, args));
  };
  Object.defineProperty(wrapped, 'name', {
    value: current.name,
    configurable: true,
  });
  Object.defineProperty(wrapped, WRAPPED, { value: true });
  for (const key of Reflect.getOwnMetadataKeys(current)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, current), wrapped);
  }
  instance[methodName] = wrapped;
}
