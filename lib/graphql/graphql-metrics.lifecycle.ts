import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, ModulesContainer } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import {
  beforeDriverStart,
  driverKind,
  graphqlDriverWrappers,
} from '../compat/graphql.js';
import { reportDegraded } from '../compat/degraded.js';
import { runHooksFirst } from '../compat/nest.js';
import { METRICS_RESOLVED_OPTIONS } from '../metrics.constants.js';
import { RequestMetrics } from '../recorder/request-metrics.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { apolloMetricsPlugin } from './apollo-metrics.plugin.js';
import {
  GraphqlInstrumentation,
  type OperationDocument,
} from './graphql-instrumentation.js';
import { runResolversInOperationContext } from './graphql-resolvers-context.js';
import {
  handlerContextSwitch,
  type HandlerContextSwitch,
} from '../context/handler-context.js';
import {
  withGraphqlWsMetrics,
  type GraphqlWsHooks,
} from './graphql-ws-metrics.hooks.js';
import {
  MercuriusMetricsHooks,
  type MercuriusErrorFormatter,
} from './mercurius-metrics.hooks.js';

type Options = Record<string, unknown>;

/**
 * Measures the operations of every `GraphQLModule` of the app, with no code in the app: before
 * `GraphQLModule` starts its driver, the driver's options get this app's Apollo Server plugin and
 * graphql-ws hooks (`@nestjs/apollo`) or Mercurius hooks and error formatter
 * (`@nestjs/mercurius`). The metrics module's lifecycle hooks are moved before `GraphQLModule`'s
 * so that this happens first whatever the order of the imports. Neither package is loaded unless
 * the app has a GraphQL driver.
 */
@Injectable()
export class GraphqlMetricsLifecycle implements OnModuleInit {
  private readonly drivers: InstanceWrapper[] = [];
  private instrumentation: GraphqlInstrumentation | undefined;
  /** On once a metric of this app asks for `handlerLabels`. */
  private readonly handlerContext: HandlerContextSwitch;

  constructor(
    discovery: DiscoveryService,
    private readonly metrics: RequestMetrics,
    @Inject(METRICS_RESOLVED_OPTIONS) options: ResolvedMetricsOptions,
    modules: ModulesContainer,
  ) {
    this.handlerContext = handlerContextSwitch(options);
    if (!options.enabled) return;
    this.drivers = graphqlDriverWrappers(discovery.getProviders());
    if (this.drivers.length === 0) return;
    if (!runHooksFirst(modules.values(), GraphqlMetricsLifecycle))
      reportDegraded({
        internal: '@nestjs/core: Module.distance (lifecycle hook order)',
        loss: 'when GraphQLModule starts before the metrics module, its GraphQL operations are not measured',
      });
  }

  async onModuleInit(): Promise<void> {
    for (const wrapper of this.drivers) {
      const driver: unknown = wrapper.instance;
      const kind = driverKind(driver);
      if (kind === undefined) continue;
      const instrumentation = (this.instrumentation ??=
        new GraphqlInstrumentation(this.metrics));
      const packages = await driverPackages(kind);
      const handlerContext = this.handlerContext;
      beforeDriverStart(driver, (options) => {
        if (kind === 'apollo')
          prepareApollo(instrumentation, options, packages.parse);
        else prepareMercurius(instrumentation, options, packages);
        // Last: around the resolvers as the app's other wrappers left them.
        runResolversInOperationContext(
          options.schema,
          instrumentation,
          handlerContext,
        );
      });
    }
  }
}

/** Adds the plugin, and the graphql-ws hooks when the driver serves subscriptions. */
function prepareApollo(
  instrumentation: GraphqlInstrumentation,
  options: Options,
  parse: DriverPackages['parse'],
): void {
  const plugins = Array.isArray(options.plugins) ? options.plugins : [];
  options.plugins = [...plugins, apolloMetricsPlugin(instrumentation)];
  const subscriptions = options.subscriptions;
  if (subscriptions !== null && typeof subscriptions === 'object') {
    if (!('graphql-ws' in subscriptions)) return;
    const given = (subscriptions as Options)['graphql-ws'];
    options.subscriptions = {
      ...subscriptions,
      'graphql-ws': withGraphqlWsMetrics(
        instrumentation,
        given !== null && typeof given === 'object'
          ? (given as GraphqlWsHooks)
          : {},
        parse,
      ),
    };
  } else if (options.installSubscriptionHandlers === true) {
    // The driver's default: graphql-ws with no options.
    options.subscriptions = {
      'graphql-ws': withGraphqlWsMetrics(instrumentation, {}, parse),
    };
  }
}

interface DriverPackages {
  readonly defaultErrorFormatter: MercuriusErrorFormatter | undefined;
  readonly parse: ((source: string) => OperationDocument) | undefined;
}

/** graphql-js' `parse`, and for Mercurius its default error formatter, from the app's packages. */
async function driverPackages(
  kind: 'apollo' | 'mercurius',
): Promise<DriverPackages> {
  let defaultErrorFormatter: MercuriusErrorFormatter | undefined;
  let parse: DriverPackages['parse'];
  if (kind === 'mercurius')
    try {
      const mercurius = (await import('mercurius')) as unknown as {
        default?: { defaultErrorFormatter?: MercuriusErrorFormatter };
        defaultErrorFormatter?: MercuriusErrorFormatter;
      };
      defaultErrorFormatter =
        mercurius.defaultErrorFormatter ??
        mercurius.default?.defaultErrorFormatter;
    } catch {
      defaultErrorFormatter = undefined;
    }
  try {
    const graphql = await import('graphql');
    parse = (source) =>
      graphql.parse(source, { noLocation: true }) as OperationDocument;
  } catch {
    parse = undefined;
  }
  return { defaultErrorFormatter, parse };
}

/** Adds the hooks (before the app's own) and wraps the error formatter. */
function prepareMercurius(
  instrumentation: GraphqlInstrumentation,
  options: Options,
  packages: DriverPackages,
): void {
  const measuring = new MercuriusMetricsHooks(instrumentation, packages.parse);
  const hooks: Options = { ...(options.hooks as Options | undefined) };
  for (const [name, hook] of Object.entries(measuring.hooks())) {
    const given = hooks[name];
    hooks[name] =
      given === undefined || given === null
        ? hook
        : [hook, ...(Array.isArray(given) ? given : [given])];
  }
  options.hooks = hooks;
  measuring.measureSubscriptions(options.schema);
  const format =
    typeof options.errorFormatter === 'function'
      ? (options.errorFormatter as MercuriusErrorFormatter)
      : packages.defaultErrorFormatter;
  if (format !== undefined)
    options.errorFormatter = measuring.wrapErrorFormatter(format);
}
