import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import {
  DEFAULT_COUNTED_NAME,
  DEFAULT_TIMED_NAME,
  METRICS_RESOLVED_OPTIONS,
} from './metrics.constants.js';
import { invalidDecoratorMessage } from './metrics.messages.js';
import { resolveBuckets } from './metrics.options.js';
import { MetricsService } from './metrics.service.js';
import { MetricsMetadataAccessor } from './metrics-metadata.accessor.js';
import { HandlerInstruments } from './handler-instruments.js';
import { measureCall, MethodInstrument } from './method-instrument.js';
import type { ResolvedMetricsOptions } from './interfaces/metrics-module-options.interface.js';
import type { TimedMetadata } from './decorators/timed.decorator.js';
import type { CountedMetadata } from './decorators/counted.decorator.js';

const WRAPPED = Symbol('nestjs-metrics:wrapped');
const BASE_LABELS = ['class', 'method', 'result', 'exception'];

/**
 * Finds @Timed and @Counted methods at bootstrap. Provider methods are wrapped on their instance;
 * controller methods are left alone (Nest has already bound them to routes) and measured by the
 * interceptor through `HandlerInstruments`.
 */
@Injectable()
export class MetricsExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: MetricsMetadataAccessor,
    private readonly metrics: MetricsService,
    private readonly handlers: HandlerInstruments,
    @Inject(METRICS_RESOLVED_OPTIONS)
    private readonly options: ResolvedMetricsOptions,
  ) {}

  onModuleInit(): void {
    if (!this.options.enabled) return;
    for (const wrapper of this.discovery.getControllers())
      this.explore(wrapper, true);
    for (const wrapper of this.discovery.getProviders())
      this.explore(wrapper, false);
  }

  private explore(wrapper: InstanceWrapper, isController: boolean): void {
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
    const prototype = Object.getPrototypeOf(instance) as Record<
      string,
      unknown
    >;
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = prototype[methodName];
      if (typeof method !== 'function' || methodName === 'constructor')
        continue;
      const timed = this.accessor.getTimed(metatype, method);
      const counted = this.accessor.getCounted(metatype, method);
      if (!timed && !counted) continue;
      const instrument = this.createInstrument(
        metatype.name,
        methodName,
        timed,
        counted,
      );
      if (isController) this.handlers.set(method, instrument);
      else
        wrapMethod(instance as Record<string, unknown>, methodName, instrument);
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
