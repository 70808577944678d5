import { describe, expect, it } from '@jest/globals';
import { Counter, Gauge, Registry } from 'prom-client';
import { markLiveState, registryResetAt } from '../read/registry-state.js';
import { zeroRegistry } from './registry-reset.js';

describe('zeroRegistry', () => {
  it('zeroes counters and gauges, leaves live-state gauges alone, and notes the reset', async () => {
    const registry = new Registry();
    const done = new Counter({
      name: 'done_total',
      help: 'h',
      labelNames: ['k'],
      registers: [registry],
    });
    const depth = new Gauge({
      name: 'depth',
      help: 'h',
      registers: [registry],
    });
    const open = markLiveState(
      new Gauge({
        name: 'open_connections',
        help: 'h',
        labelNames: ['gateway'],
        registers: [registry],
      }),
    );
    done.inc({ k: 'a' }, 4);
    depth.set(5);
    open.set({ gateway: 'Chat' }, 3);
    const before = Date.now();
    await zeroRegistry(registry, undefined, false);
    const value = async (name: string) =>
      (await registry.getSingleMetric(name)!.get()).values.map((v) => v.value);
    expect(await value('done_total')).toEqual([0]);
    expect(await value('depth')).toEqual([0]);
    expect(await value('open_connections')).toEqual([3]);
    expect(registryResetAt(registry)).toBeGreaterThanOrEqual(before);
  });
});
