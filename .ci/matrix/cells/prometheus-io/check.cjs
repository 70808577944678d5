// The prometheus-io cell's check, shared by main.cjs and main.mjs: on the cell's Node (22, which
// @prometheus-io/client requires), a Registry of @prometheus-io/client passed as `registry` fails
// start-up with the message naming the option and the package, and a prom-client 15 Registry in
// the same app setup serves the request it counted.
'use strict';
/* global module, fetch */

const EXPECTED =
  'nestjs-metrics: option "registry" must be a prom-client 15 Registry; got a Registry of @prometheus-io/client';

module.exports = async function check(
  { common, core, platformFastify, promClient, prometheusIo, metrics },
  { adapter },
) {
  const { Controller, Get, Module } = common;
  class ItemsController {
    list() {
      return ['pen'];
    }
  }
  Get()(
    ItemsController.prototype,
    'list',
    Object.getOwnPropertyDescriptor(ItemsController.prototype, 'list'),
  );
  Controller('items')(ItemsController);

  async function boot(registry) {
    class AppModule {}
    Module({
      imports: [
        metrics.MetricsModule.forRoot({ registry, defaultMetrics: false }),
      ],
      controllers: [ItemsController],
    })(AppModule);
    const options = { logger: false, abortOnError: false };
    return adapter === 'fastify'
      ? core.NestFactory.create(
          AppModule,
          new platformFastify.FastifyAdapter(),
          options,
        )
      : core.NestFactory.create(AppModule, options);
  }

  for (const [what, registry] of [
    ['new Registry()', new prometheusIo.Registry()],
    ['register', prometheusIo.register],
    ['new ClusterRegistry()', new prometheusIo.ClusterRegistry()],
  ]) {
    let started;
    try {
      started = await boot(registry);
    } catch (error) {
      if (!String(error && error.message).startsWith(EXPECTED)) {
        throw new Error(`@prometheus-io/client ${what}: unexpected error`, {
          cause: error,
        });
      }
      continue;
    }
    await started.close();
    throw new Error(`@prometheus-io/client ${what}: the app started`);
  }

  const app = await boot(new promClient.Registry());
  try {
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    const items = await fetch(`${base.replace('[::1]', '127.0.0.1')}/items`);
    if (items.status !== 200) throw new Error(`GET /items: ${items.status}`);
    const text = await (
      await fetch(`${base.replace('[::1]', '127.0.0.1')}/metrics`)
    ).text();
    const line = text
      .split('\n')
      .find(
        (l) => l.startsWith('requests_total{') && l.includes('route="/items"'),
      );
    if (!line || !line.endsWith(' 1')) {
      throw new Error(
        `prom-client 15 Registry: expected one /items request, got ${line}`,
      );
    }
  } finally {
    await app.close();
  }
};
