import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { panelQueries } from './helpers/grafana-dashboard.js';
import { findSystemBinary } from './helpers/system-binary.js';

const OBSERVABILITY = resolve(process.cwd(), 'observability');
const promtool = findSystemBinary(
  'promtool',
  'prometheus',
  'the checks of the alert rules are',
);

function runPromtool(...args: string[]): {
  status: number | null;
  output: string;
} {
  const result = spawnSync(promtool!, args, { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

(promtool ? describe : describe.skip)('Alert rules (observability/)', () => {
  it('pass promtool check rules', () => {
    const { status, output } = runPromtool(
      'check',
      'rules',
      join(OBSERVABILITY, 'alerts.rules.yml'),
    );
    expect({ status, output }).toEqual({
      status: 0,
      output: expect.stringContaining('SUCCESS: 11 rules found'),
    });
  });

  it('pass their unit tests (promtool test rules)', () => {
    const { status, output } = runPromtool(
      'test',
      'rules',
      join(OBSERVABILITY, 'alerts.test.yml'),
    );
    expect({ status, output }).toEqual({
      status: 0,
      output: expect.stringContaining('SUCCESS'),
    });
  });

  it('are loaded by observability/prometheus.yml, which passes promtool check config', () => {
    const { status, output } = runPromtool(
      'check',
      'config',
      join(OBSERVABILITY, 'prometheus.yml'),
    );
    expect({ status, output }).toEqual({
      status: 0,
      output: expect.stringMatching(
        /SUCCESS: 1 rule files found[\s\S]*SUCCESS: 11 rules found/,
      ),
    });
  });

  // Each alert's unit tests must notice when its rule is broken.
  it.each([
    ['HighErrorRatio', '> 0.05', '> 0.5'],
    ['HighLatencyP95', 'transport!="queue"', 'transport!="none"'],
    ['RequestsStuckInFlight', 'unless on', 'and on'],
    ['QueueWaitTooLong', ') > 30', ') > 90'],
    ['TargetDown', 'up == 0', 'up == 1'],
    ['QueueWithoutWorkers', 'unless on (job, queue)', 'and on (job, queue)'],
    ['QueueBacklogGrowing', '[15m])) > 0', '[15m])) < 0'],
    ['QueueFailedJobsRising', '[10m])) > 10', '[10m])) > 100'],
    ['WebSocketConnectionsDropped', '< 0.5 *', '< 0.1 *'],
    [
      'DependencyHighLatencyP95',
      'client_request_duration_seconds_bucket{transport="http_client"}',
      'client_request_duration_seconds_bucket{transport="http"}',
    ],
    [
      'DependencyHighErrorRatio',
      'error_type=~"timeout|connection|internal"',
      'error_type=~"timeout|connection"',
    ],
  ])('fail their unit tests when %s is broken', (alert, from, to) => {
    const directory = mkdtempSync(join(tmpdir(), 'nestjs-metrics-rules-'));
    try {
      const rules = readFileSync(
        join(OBSERVABILITY, 'alerts.rules.yml'),
        'utf8',
      );
      expect(rules).toContain(from);
      writeFileSync(
        join(directory, 'alerts.rules.yml'),
        rules.replace(from, to),
      );
      writeFileSync(
        join(directory, 'alerts.test.yml'),
        readFileSync(join(OBSERVABILITY, 'alerts.test.yml'), 'utf8'),
      );
      const { status, output } = runPromtool(
        'test',
        'rules',
        join(directory, 'alerts.test.yml'),
      );
      expect(status).toBe(1);
      expect(output).toContain(`alertname: ${alert}`);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('Grafana dashboard (observability/grafana-dashboard.json)', () => {
  const dashboard = JSON.parse(
    readFileSync(join(OBSERVABILITY, 'grafana-dashboard.json'), 'utf8'),
  );
  const panels: any[] = dashboard.panels.flatMap((panel: any) => [
    panel,
    ...(panel.panels ?? []),
  ]);

  it('is a current Grafana dashboard with a Prometheus data source variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.uid).toBe('nestjs-metrics');
    expect(dashboard.templating.list[0]).toMatchObject({
      type: 'datasource',
      name: 'datasource',
      query: 'prometheus',
    });
  });

  it('queries the data source variable from every panel and target', () => {
    const datasource = { type: 'prometheus', uid: '${datasource}' };
    const queryPanels = panels.filter((panel) => panel.type !== 'row');
    for (const panel of queryPanels) {
      expect({ panel: panel.title, datasource: panel.datasource }).toEqual({
        panel: panel.title,
        datasource,
      });
      for (const target of panel.targets) {
        expect({ panel: panel.title, datasource: target.datasource }).toEqual({
          panel: panel.title,
          datasource,
        });
      }
    }
    expect(panelQueries(dashboard).length).toBeGreaterThanOrEqual(
      queryPanels.length,
    );
  });

  it('has the promised panels, with unique ids', () => {
    expect(panels.map((panel) => panel.title)).toEqual(
      expect.arrayContaining([
        'Request rate',
        'Error ratio by error_type',
        'Latency by route (p50, p95, p99)',
        'Concurrent requests',
        'Bytes in / out',
        'Queue wait (p50, p95)',
        'Queue jobs by state',
        'Failed jobs',
        'Queue workers',
        'WebSocket connections',
        'WebSocket connections opened',
        'Outbound call rate by host',
        'Outbound latency by host (p95)',
        'Outbound errors by error_type',
        'CPU',
        'Resident memory',
        'Event loop lag',
        'Heap used',
      ]),
    );
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
