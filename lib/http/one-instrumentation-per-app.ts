import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { ModulesContainer } from '@nestjs/core';
import type { Module } from '@nestjs/core/injector/module.js';
import { METRICS_MODULE_OPTIONS } from '../metrics.module-definition.js';

/**
 * Set on an app's `ModulesContainer` by the first `MetricsModule` of any copy of the library that
 * starts in it. Only read to tell a second copy apart; nothing finds its state through it.
 */
const APP_MEASURED_BY = Symbol.for('nestjs-metrics:app-measured-by');

interface AppMark {
  /** One value per copy of the library in the process. */
  readonly copy: symbol;
  /** e.g. `nestjs-metrics 1.0.0 imported by AppModule`. */
  readonly description: string;
}

const THIS_COPY = Symbol('nestjs-metrics:copy');
const VERSION = readVersion();

/**
 * Makes sure one app is measured by one `MetricsModule`. Identical `forRoot()` calls return the
 * same module, which Nest keeps once per app; what reaches here as a second module instance was
 * given other options (or is another copy of the library), and start-up fails naming both
 * importing modules and the first option that differs. Call from each module instance's
 * `onModuleInit`; `own` is a provider class every instance of this copy's module has.
 */
export function claimApp(container: ModulesContainer, own: unknown): void {
  const mine = [...container.values()].filter((module) =>
    module.providers.has(own as never),
  );
  const description = `nestjs-metrics ${VERSION} imported by ${importersOf(container, mine[0])}`;
  const carrier = container as unknown as Record<symbol, AppMark | undefined>;
  const mark = carrier[APP_MEASURED_BY];
  if (mark !== undefined && mark.copy !== THIS_COPY) {
    throw new Error(
      `MetricsModule is imported twice in this app, from two copies of the library: ${mark.description}, and ${description}. One app is measured by one MetricsModule: keep one version installed (npm ls nestjs-metrics) and import it once.`,
    );
  }
  if (mine.length > 1) {
    const [first, second] = mine;
    const difference = firstDifference(optionsOf(first), optionsOf(second), '');
    throw new Error(
      `MetricsModule is imported twice in this app with different options: by ${importersOf(container, first)} and by ${importersOf(container, second)}; ${
        difference === undefined
          ? 'the options are equal but were given as two separate definitions (a second forRootAsync factory, or other isGlobal/interceptor extras)'
          : `option "${difference}" differs`
      }. One app is measured by one MetricsModule: import it once (it is global), or give every import the same options.`,
    );
  }
  if (mark === undefined)
    Object.defineProperty(container, APP_MEASURED_BY, {
      value: { copy: THIS_COPY, description },
      configurable: true,
    });
}

function optionsOf(module: Module): unknown {
  return module.providers.get(METRICS_MODULE_OPTIONS)?.instance;
}

/**
 * The modules that list `target` in their `@Module({ imports })`: a global module is linked into
 * every module's imports, so the links alone do not say who imported it. A listed dynamic module
 * is `target` when its options provider is the one `target` holds.
 */
function importersOf(
  container: ModulesContainer,
  target: Module | undefined,
): string {
  if (target === undefined) return 'an unknown module';
  const wrapper = target.providers.get(METRICS_MODULE_OPTIONS);
  const names = [...container.values()]
    .filter((module) =>
      declaredImports(module).some((entry) => definesOptions(entry, wrapper)),
    )
    .map((module) => module.metatype?.name ?? 'an anonymous module');
  return names.length === 0 ? 'an unknown module' : names.join(', ');
}

function declaredImports(module: Module): unknown[] {
  const metatype = module.metatype as object | undefined;
  if (metatype === undefined || metatype === null) return [];
  const imports = Reflect.getMetadata('imports', metatype) as unknown;
  if (!Array.isArray(imports)) return [];
  return imports.map((entry: unknown) => {
    const forward = (entry as { forwardRef?: unknown } | undefined)?.forwardRef;
    return typeof forward === 'function' ? (forward as () => unknown)() : entry;
  });
}

function definesOptions(
  entry: unknown,
  wrapper: { instance?: unknown; metatype?: unknown } | undefined,
): boolean {
  if (wrapper === undefined || entry === null || typeof entry !== 'object')
    return false;
  const providers = (entry as { providers?: unknown }).providers;
  if (!Array.isArray(providers)) return false;
  return providers.some((provider: unknown) => {
    if (provider === null || typeof provider !== 'object') return false;
    const { provide, useValue, useFactory } = provider as Record<
      string,
      unknown
    >;
    if (provide !== METRICS_MODULE_OPTIONS) return false;
    return 'useValue' in provider
      ? useValue === wrapper.instance
      : useFactory !== undefined && useFactory === wrapper.metatype;
  });
}

/**
 * The dotted name of the first option that differs, or undefined. Plain objects and arrays are
 * compared by content, leaving out undefined values; anything else (functions, classes, a
 * registry) by identity.
 */
export function firstDifference(
  a: unknown,
  b: unknown,
  path: string,
): string | undefined {
  if (a === b) return undefined;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return path || '(options)';
    for (let i = 0; i < a.length; i++) {
      const difference = firstDifference(a[i], b[i], path);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of [...keys].sort()) {
      const difference = firstDifference(
        a[key],
        b[key],
        path === '' ? key : `${path}.${key}`,
      );
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  return path || '(options)';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function readVersion(): string {
  try {
    const manifest = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version?: unknown };
    return typeof manifest.version === 'string'
      ? manifest.version
      : '(unknown version)';
  } catch {
    return '(unknown version)';
  }
}
