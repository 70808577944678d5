import { Registry } from 'prom-client';
import { FamilyView } from './family-view.js';
import {
  REQUEST_FAMILIES,
  REQUEST_FAMILY_NAMES,
  REQUEST_LABEL_NAMES,
  limitedFamilies,
} from './request-families.js';
import { RequestMetrics } from './request-metrics.js';

describe('the request families table', () => {
  it('is what the recorder registers, in order', () => {
    const registry = new Registry();
    new RequestMetrics('app_', [1]).register(registry);
    const registered = registry.getMetricsAsArray() as unknown as FamilyView[];
    expect(
      registered.map((view) => ({
        name: view.name,
        help: view.help,
        type: view.type,
        labels: view.labelNames,
        aggregator: view.aggregator,
        written: view.writeSamples !== undefined,
      })),
    ).toEqual(
      REQUEST_FAMILIES.map((family) => ({
        name: `app_${family.name}`,
        help: family.help,
        type: family.type,
        labels: family.labels,
        aggregator: family.aggregator,
        written: !['inFlight', 'uptime'].includes(family.source.kind),
      })),
    );
  });

  it('gives the names, labels and limited families', () => {
    expect(REQUEST_FAMILY_NAMES).toEqual([
      'requests_total',
      'request_bytes_total',
      'response_bytes_total',
      'request_duration_seconds',
      'concurrent_requests',
      'errors_total',
      'uptime_seconds',
    ]);
    expect(REQUEST_LABEL_NAMES).toEqual([
      'transport',
      'method',
      'route',
      'status',
      'error_type',
    ]);
    expect(limitedFamilies('p_')).toEqual({
      status: [
        'p_requests_total',
        'p_request_bytes_total',
        'p_response_bytes_total',
        'p_request_duration_seconds',
      ],
      error: ['p_errors_total'],
    });
  });
});
