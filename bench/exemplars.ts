import type { IncomingMessage, Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { context, trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

// The cost of `exemplars` per request: the library with the option off and on, each serving
// every request inside a sampled span, as OpenTelemetry's HTTP instrumentation runs the server's
// 'request' listeners. The span costs both the same; the difference is the exemplars.

/** The pieces of a bench variant this file needs (see `variants.ts`). */
interface ExemplarVariant {
  readonly id: string;
  readonly label: string;
  readonly diagnostic: boolean;
  create(): Promise<INestApplication>;
}

/** Runs every 'request' listener of `server` inside a new sampled span, ended with the response. */
function serveInSpans(server: Server): void {
  const provider = new NodeTracerProvider();
  provider.register();
  const tracer = trace.getTracer('bench');
  const emit = server.emit;
  server.emit = function (
    this: Server,
    event: string | symbol,
    ...args: unknown[]
  ): boolean {
    if (event !== 'request')
      return Reflect.apply(emit, this, [event, ...args]) as boolean;
    const span = tracer.startSpan('GET');
    const res = args[1] as IncomingMessage;
    res.once('close', () => span.end());
    return context.with(
      trace.setSpan(context.active(), span),
      () => Reflect.apply(emit, this, [event, ...args]) as boolean,
    );
  } as Server['emit'];
}

/** The two variants, built with the bench's own app factory and the built library. */
export function exemplarVariants(
  create: (exemplars: boolean) => Promise<INestApplication>,
): ExemplarVariant[] {
  return [false, true].map((exemplars) => ({
    id: `metrics-span-exemplars-${exemplars ? 'on' : 'off'}`,
    label: `nestjs-metrics in a sampled span, exemplars ${exemplars ? 'on' : 'off'}`,
    diagnostic: true,
    create: async () => {
      const app = await create(exemplars);
      serveInSpans(app.getHttpServer() as Server);
      return app;
    },
  }));
}
