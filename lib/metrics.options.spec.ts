import { Registry } from 'prom-client';
import {
  DEFAULT_MAX_SERIES,
  DEFAULT_TRANSPORT_BUCKETS,
  DEFAULT_QUEUE_WAIT_BUCKETS,
} from './metrics.constants.js';
import { environmentOptions } from './metrics.environment.js';
import { resolveOptions } from './metrics.options.js';
import { resolveLogErrors } from './logs/log-errors.options.js';

describe('resolveOptions', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(process.env))
      if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('fills in the defaults', () => {
    delete process.env.METRICS_PATH;
    delete process.env.METRICS_PREFIX;
    delete process.env.METRICS_PORT;
    delete process.env.METRICS_ENABLED;
    delete process.env.METRICS_CLIENT_METRICS;
    expect(resolveOptions()).toEqual({
      path: '/metrics',
      prefix: '',
      defaultLabels: {},
      buckets: DEFAULT_TRANSPORT_BUCKETS,
      defaultMetrics: { prefix: '' },
      registry: undefined,
      // The summary path is not measured, like the metrics path.
      excludePaths: new Set(['/metrics/summary']),
      enabled: true,
      maxSeries: DEFAULT_MAX_SERIES,
      auth: undefined,
      pushgateway: undefined,
      cluster: undefined,
      queueWaitBuckets: DEFAULT_QUEUE_WAIT_BUCKETS,
      queueDepth: { cacheSeconds: 1, timeoutSeconds: 0.5 },
      port: undefined,
      host: undefined,
      summary: { path: '/metrics/summary', windowSeconds: 300 },
      hostMetrics: false,
      gpuMetrics: undefined,
      exemplars: undefined,
      otlp: undefined,
      clientMetrics: false,
      logErrors: resolveLogErrors(undefined),
    });
  });

  it('merges code over environment over defaults', () => {
    process.env.METRICS_PATH = '/from-env';
    process.env.METRICS_PREFIX = 'env_';
    process.env.METRICS_PORT = '9464';
    const resolved = resolveOptions({ prefix: 'code_', port: undefined });
    expect(resolved.path).toBe('/from-env');
    expect(resolved.prefix).toBe('code_');
    // `undefined` in code (an unset config key) leaves the environment's value.
    expect(resolved.port).toBe(9464);
    expect(resolveOptions({ path: '/from-code/' }).path).toBe('/from-code');
  });

  it('completes the nested options', () => {
    const resolved = resolveOptions({
      pushgateway: { url: 'http://gw:9091', jobName: 'batch' },
      maxSeries: 10,
      excludePaths: ['/health'],
      port: 0,
      host: '127.0.0.1',
      defaultLabels: { service: 'api' },
    });
    expect(resolved.pushgateway).toEqual({
      url: new URL('http://gw:9091'),
      jobName: 'batch',
      groupings: {},
      intervalSeconds: 15,
      timeoutSeconds: 5,
    });
    expect(resolveOptions({ cluster: true }).cluster).toEqual({
      workerLabel: false,
      timeoutSeconds: 3,
    });
    expect(resolved.excludePaths).toEqual(new Set(['/health']));
    expect(resolved.defaultLabels).toEqual({ service: 'api' });
    const registry = new Registry();
    expect(resolveOptions({ registry }).registry).toBe(registry);
  });

  it.each<[string, unknown, string]>([
    ['options', 'x', 'option "options" must be an object; got "x".'],
    [
      'unknown',
      { colour: 'red' },
      'option "colour" must be one of path, prefix, defaultLabels, buckets, defaultMetrics, registry, excludePaths, enabled, maxSeries, auth, pushgateway, cluster, queueWaitBuckets, queueDepth, port, host, summary, logPush, hostMetrics, gpuMetrics, otlp, clientMetrics, logErrors, exemplars (unknown option); got "colour".',
    ],
    [
      'path',
      { path: 'metrics' },
      'option "path" must be a path that starts with "/", is not "/" and has no spaces, "?" or "#"; got "metrics".',
    ],
    [
      'prefix',
      { prefix: '1a' },
      'option "prefix" must be a string of [a-zA-Z0-9_:] that does not start with a digit; got "1a".',
    ],
    [
      'defaultLabels',
      { defaultLabels: ['a'] },
      'option "defaultLabels" must be an object of label names to strings; got an array (["a"]).',
    ],
    [
      'defaultLabels name',
      { defaultLabels: { 'a-b': 'x' } },
      'option "defaultLabels.a-b" must be a valid label name ([a-zA-Z_][a-zA-Z0-9_]*); got "a-b".',
    ],
    [
      'defaultLabels value',
      { defaultLabels: { a: 1 } },
      'option "defaultLabels.a" must be a string; got number 1.',
    ],
    [
      'buckets',
      { buckets: [1, 1] },
      'option "buckets" must be a non-empty array of finite, positive, strictly increasing numbers; got an array ([1,1]).',
    ],
    [
      'queueWaitBuckets',
      { queueWaitBuckets: [] },
      'option "queueWaitBuckets" must be a non-empty array of finite, positive, strictly increasing numbers; got an array ([]).',
    ],
    [
      'defaultMetrics',
      { defaultMetrics: 'yes' },
      'option "defaultMetrics" must be true, false or an object of prom-client default metrics settings { prefix, eventLoopMonitoringPrecision, gcDurationBuckets, labels }; got "yes".',
    ],
    [
      'enabled',
      { enabled: 1 },
      'option "enabled" must be true or false; got number 1.',
    ],
    [
      'registry',
      { registry: {} },
      'option "registry" must be a prom-client Registry; got an object of class Object.',
    ],
    [
      'excludePaths',
      { excludePaths: ['health'] },
      'option "excludePaths" must be an array of route templates that start with "/"; got an array (["health"]).',
    ],
    [
      'maxSeries',
      { maxSeries: 0 },
      'option "maxSeries" must be a positive integer; got number 0.',
    ],
    [
      'auth',
      { auth: { bearer: '' } },
      'option "auth.bearer" must be a non-empty string without spaces; got an empty string (value not shown).',
    ],
    [
      'pushgateway.url',
      { pushgateway: { url: 'ftp://gw', jobName: 'j' } },
      'option "pushgateway.url" must be an http:// or https:// URL; got "ftp://gw".',
    ],
    [
      'pushgateway.jobName',
      { pushgateway: { url: 'http://gw' } },
      'option "pushgateway.jobName" must be a non-empty string; got undefined.',
    ],
    [
      'pushgateway key',
      { pushgateway: { url: 'http://gw', jobName: 'j', every: 1 } },
      'option "pushgateway.every" must be one of url, jobName, groupings, intervalSeconds, timeoutSeconds (unknown option); got "every".',
    ],
    [
      'pushgateway.groupings',
      {
        pushgateway: {
          url: 'http://gw',
          jobName: 'j',
          groupings: { job: 'x' },
        },
      },
      'option "pushgateway.groupings.job" must be a valid label name other than "job" ([a-zA-Z_][a-zA-Z0-9_]*); got "job".',
    ],
    [
      'pushgateway.timeoutSeconds',
      { pushgateway: { url: 'http://gw', jobName: 'j', timeoutSeconds: 0 } },
      'option "pushgateway.timeoutSeconds" must be a finite number of seconds above 0; got number 0.',
    ],
    [
      'cluster',
      { cluster: 'on' },
      'option "cluster" must be true, false or an object; got "on".',
    ],
    [
      'cluster.workerLabel',
      { cluster: { workerLabel: 'yes' } },
      'option "cluster.workerLabel" must be true or false; got "yes".',
    ],
    [
      'pushgateway with cluster',
      { cluster: true, pushgateway: { url: 'http://gw', jobName: 'j' } },
      'option "pushgateway" must be left out when "cluster" is on',
    ],
    [
      'port',
      { port: 65536 },
      'option "port" must be an integer from 0 to 65535 (0 picks a free port); got number 65536.',
    ],
    [
      'host',
      { host: '127.0.0.1' },
      'option "host" must be given together with "port" (it is the interface of the metrics port); got "127.0.0.1".',
    ],
    [
      'host value',
      { port: 0, host: 'a b' },
      'option "host" must be a host name or IP address without spaces (e.g. "127.0.0.1"); got "a b".',
    ],
  ])('rejects an invalid %s, naming it', (_, options, message) => {
    const thrown = (() => {
      try {
        resolveOptions(options as never);
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(TypeError);
    if (message.endsWith('.'))
      expect((thrown as Error).message).toBe(`nestjs-metrics: ${message}`);
    else expect((thrown as Error).message).toContain(message);
  });

  it.each<[string, string]>([
    ['le', 'Prometheus reserves it for histogram buckets'],
    ['quantile', 'Prometheus reserves it for summary quantiles'],
    [
      'route',
      'a label of requests_total, request_bytes_total, response_bytes_total, request_duration_seconds, errors_total',
    ],
    [
      'transport',
      'a label of requests_total, request_bytes_total, response_bytes_total, request_duration_seconds, concurrent_requests, errors_total',
    ],
    ['error_type', 'a label of errors_total'],
    [
      'method',
      'a label of requests_total, request_bytes_total, response_bytes_total, request_duration_seconds, errors_total; a label of the @Timed and @Counted metrics (method_duration_seconds, method_calls_total)',
    ],
    [
      'result',
      'a label of the @Timed and @Counted metrics (method_duration_seconds, method_calls_total)',
    ],
    ['job_name', 'a label of queue_wait_seconds'],
  ])('refuses the default label %s, saying why', (label, reason) => {
    expect(() => resolveOptions({ defaultLabels: { [label]: 'x' } })).toThrow(
      new TypeError(
        `nestjs-metrics: option "defaultLabels" must not use the label name "${label}" (${reason}); give that default label another name.`,
      ),
    );
  });

  it('refuses the default label worker only when cluster adds it', () => {
    expect(
      resolveOptions({ defaultLabels: { worker: 'a' } }).defaultLabels,
    ).toEqual({ worker: 'a' });
    expect(() =>
      resolveOptions({
        defaultLabels: { worker: 'a' },
        cluster: { workerLabel: true },
      }),
    ).toThrow('"worker" (the label "cluster.workerLabel" adds)');
  });
});

describe('environmentOptions', () => {
  it('checks each variable with the check of its option, naming the variable', () => {
    expect(() => environmentOptions({ METRICS_PATH: '/a b' })).toThrow(
      'nestjs-metrics: environment variable METRICS_PATH must be a path that starts with "/", is not "/" and has no spaces, "?" or "#"; got "/a b".',
    );
    expect(() => environmentOptions({ METRICS_PREFIX: '9' })).toThrow(
      'nestjs-metrics: environment variable METRICS_PREFIX must be a string of [a-zA-Z0-9_:] that does not start with a digit; got "9".',
    );
    expect(() => environmentOptions({ METRICS_PORT: '65536' })).toThrow(
      'nestjs-metrics: environment variable METRICS_PORT must be an integer from 0 to 65535; got "65536".',
    );
    expect(() => environmentOptions({ METRICS_ENABLED: 'on' })).toThrow(
      'nestjs-metrics: environment variable METRICS_ENABLED must be true, false, 1 or 0; got "on".',
    );
  });

  it('reads the values as their options', () => {
    expect(
      environmentOptions({
        METRICS_ENABLED: 'FALSE',
        METRICS_PATH: ' /m/ ',
        METRICS_PREFIX: 'a_',
        METRICS_PORT: '0',
        METRICS_OTHER: 'x',
      }),
    ).toEqual({ enabled: false, path: '/m', prefix: 'a_', port: 0 });
    expect(environmentOptions({ METRICS_PATH: '  ' })).toEqual({});
  });
});

describe('defaultLabels and the labels of the optional families', () => {
  it('takes "host" only while outbound calls are measured, and the log error labels always', () => {
    expect(
      resolveOptions({ defaultLabels: { host: 'web-1' } }).defaultLabels,
    ).toEqual({
      host: 'web-1',
    });
    expect(() =>
      resolveOptions({ clientMetrics: true, defaultLabels: { host: 'web-1' } }),
    ).toThrow(
      'option "defaultLabels" must not use the label name "host" (a label of client_requests_total',
    );
    expect(() => resolveOptions({ defaultLabels: { category: 'x' } })).toThrow(
      'must not use the label name "category" (a label of log_errors_total)',
    );
  });
});
