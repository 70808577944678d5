import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import {
  checkTransportKeys,
  onFactoryResult,
  onInstanceCreated,
  transportPackagesOf,
} from './compat/nest.js';
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
import { isDispatchedByNest, isGateway } from './nest-handler-metadata.js';
import { HandlerInstruments } from './decorators/handler-instruments.js';
import {
  bindInstrument,
  isMeasuredMethod,
  unbindInstance,
} from './decorators/measured-method.js';
import { MethodInstrument } from './method-instrument.js';
import { RequestMetrics } from './recorder/request-metrics.js';
import { takesExemplars } from './compat/prom-client.js';
import type { ResolvedMetricsOptions } from './interfaces/metrics-module-options.interface.js';
import type { TimedMetadata } from './decorators/timed.decorator.js';
import type { CountedMetadata } from './decorators/counted.decorator.js';

/** Resolved once the metadata keys of the transport packages the app uses were checked. */
export const NEST_METADATA_CHECKED = 'METRICS:NEST_METADATA_CHECKED';

/** One measured method of a class: the function, its name, and this app's instrument. */
interface BoundMethod {
  readonly method: object;
  readonly instrument: MethodInstrument;
  readonly dispatched: boolean;
}

const BASE_LABELS = DECORATOR_LABELS;

/**
 * Binds @Timed and @Counted methods to this app's metrics at start-up. The decorators replaced
 * each method once, when the class was declared, with a measured one that finds its instrument
 * through `this`; here each instance of this app gets its instruments (request-scoped and
 * transient instances as Nest creates them). Routes and message handlers of controllers and
 * gateways are measured instead by `HandlerMetricsInterceptor`, which the decorators name in the
 * method's interceptor metadata and which reads this app's `HandlerInstruments`. Nothing shared by
 * two apps is written, so apps created in any order each count their own calls.
 */
@Injectable()
export class MetricsExplorer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('MetricsModule');
  private readonly boundInstances = new Set<object>();
  private readonly byClass = new Map<object, BoundMethod[]>();
  private readonly failedFactories = new Set<unknown>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: MetricsMetadataAccessor,
    private readonly metrics: MetricsService,
    private readonly handlers: HandlerInstruments,
    private readonly requests: RequestMetrics,
    @Inject(METRICS_RESOLVED_OPTIONS)
    private readonly options: ResolvedMetricsOptions,
    @Inject(NEST_METADATA_CHECKED) _checked: true,
  ) {}

  onModuleInit(): void {
    if (!this.options.enabled) return;
    for (const wrapper of this.discovery.getControllers())
      this.explore(wrapper, true);
    for (const wrapper of this.discovery.getProviders())
      this.explore(wrapper, isGateway(wrapper));
  }

  /**
   * Stops recording into this app's registry once it has closed: after Nest drained the HTTP
   * server, so calls made by requests still in flight at `close()` are measured.
   */
  onApplicationShutdown(): void {
    for (const instance of this.boundInstances) unbindInstance(instance);
    this.boundInstances.clear();
  }

  private explore(wrapper: InstanceWrapper, dispatches: boolean): void {
    if (wrapper.isAlias) return;
    const { instance } = wrapper;
    // The instance's class, not `wrapper.metatype`: for a factory provider that is the factory, and
    // for a value provider it is null, so class-level decorators and the class name would be lost.
    const metatype =
      instance !== null && typeof instance === 'object'
        ? (instance as object).constructor
        : !wrapper.inject
          ? wrapper.metatype
          : undefined;
    if (typeof metatype !== 'function') {
      // A request-scoped factory: its class is known once it has made an instance.
      if (wrapper.inject && !wrapper.isDependencyTreeStatic())
        onFactoryResult(wrapper, (value) => this.bindMade(value));
      return;
    }
    const methods = this.methodsOf(metatype as never, dispatches);
    if (methods.length === 0) return;
    for (const { method, instrument, dispatched } of methods)
      if (dispatched) this.handlers.set(metatype, method, instrument);
    if (!methods.some((m) => !m.dispatched)) return;
    // Instances made later (per request, job or consumer) are bound through the module-local
    // WeakMap only: remembering them here would keep each one, and its request, alive until close.
    const bind = (target: object, remember = true) => {
      for (const { method, instrument, dispatched } of methods)
        if (!dispatched) bindInstrument(target, method, instrument);
      if (remember) this.boundInstances.add(target);
    };
    const isStatic = wrapper.isDependencyTreeStatic() && !wrapper.isTransient;
    if (isStatic) {
      if (instance !== null && typeof instance === 'object') bind(instance);
      return;
    }
    for (const host of wrapper.getStaticTransientInstances?.() ?? [])
      if (host?.instance) bind(host.instance as object);
    if (!onInstanceCreated(wrapper, (made) => bind(made, false)))
      this.logger.warn(
        `@Timed/@Counted methods of ${metatype.name} (${wrapper.isTransient ? 'transient' : 'request-scoped'}) are not measured: it is not a class provider.`,
      );
  }

  /** Binds an instance a request-scoped factory made (a provider: Nest dispatches none of it). */
  private bindMade(value: unknown): void {
    if (value === null || typeof value !== 'object') return;
    try {
      const methods = this.methodsOf(value.constructor as never, false);
      for (const { method, instrument } of methods)
        bindInstrument(value, method, instrument);
    } catch (error) {
      // Found only now, per request: an invalid declaration is logged, never thrown at the request.
      if (!this.failedFactories.has(value.constructor)) {
        this.failedFactories.add(value.constructor);
        this.logger.error((error as Error).message);
      }
    }
  }

  /** This app's instruments of the measured methods of a class, made once per class. */
  private methodsOf(
    metatype: abstract new (...args: never[]) => unknown,
    dispatches: boolean,
  ): BoundMethod[] {
    let methods = this.byClass.get(metatype);
    if (methods !== undefined) return methods;
    methods = [];
    const prototype = metatype.prototype as Record<string, unknown>;
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = prototype[methodName];
      if (methodName === 'constructor' || !isMeasuredMethod(method)) continue;
      const timed = this.accessor.getTimed(metatype, method as object);
      const counted = this.accessor.getCounted(metatype, method as object);
      if (!timed && !counted) continue;
      methods.push({
        method: method as object,
        instrument: this.createInstrument(
          metatype.name,
          methodName,
          timed,
          counted,
        ),
        dispatched: dispatches && isDispatchedByNest(method as object),
      });
    }
    this.byClass.set(metatype, methods);
    return methods;
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
            handlerLabels: timed.options.handlerLabels === true,
            buckets: [
              ...(resolveBuckets(timed.options.buckets, 'buckets') ??
                this.options.buckets.http),
            ],
            ...(this.requests.exemplars === undefined
              ? {}
              : { enableExemplars: true }),
          })
        : undefined;
      const counter = counted
        ? this.metrics.counter(counted.name ?? DEFAULT_COUNTED_NAME, {
            help: counted.options.help ?? 'Calls of decorated methods.',
            labelNames: [...BASE_LABELS, ...Object.keys(countedLabels)],
            handlerLabels: counted.options.handlerLabels === true,
          })
        : undefined;
      return new MethodInstrument(
        { class: className, method: methodName },
        histogram,
        counter,
        counted?.options.failuresOnly === true,
        timedLabels,
        countedLabels,
        histogram !== undefined && takesExemplars(histogram)
          ? this.requests.exemplars
          : undefined,
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

/**
 * Checks, before the explorer and the transport binder are made, the metadata keys of the
 * transport packages whose keys appear on the app's classes (so a package the app does not use
 * is never loaded).
 */
async function checkNestMetadata(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
): Promise<true> {
  const seen = { microservices: false, websockets: false };
  for (const wrapper of [
    ...discovery.getControllers(),
    ...discovery.getProviders(),
  ]) {
    const metatype = wrapper.metatype;
    if (typeof metatype !== 'function' || wrapper.inject) continue;
    const names = scanner.getAllMethodNames(
      metatype.prototype as Record<string, unknown>,
    );
    const found = transportPackagesOf(metatype as never, names);
    seen.microservices ||= found.microservices;
    seen.websockets ||= found.websockets;
  }
  await checkTransportKeys(seen);
  return true;
}

/** The providers @Timed/@Counted need besides the explorer, for the metrics module. */
export const DECORATOR_PROVIDERS: Provider[] = [
  HandlerInstruments,
  {
    provide: NEST_METADATA_CHECKED,
    useFactory: checkNestMetadata,
    inject: [DiscoveryService, MetadataScanner],
  },
];
