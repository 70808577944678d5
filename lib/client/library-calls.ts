import { AsyncLocalStorage } from 'node:async_hooks';

const libraryCall = new AsyncLocalStorage<true>();

/**
 * Runs `call` as one of the library's own outbound calls (a Pushgateway push, an OTLP export, the
 * log push socket): the outbound HTTP metrics leave out every request started inside it, including
 * those started later by timers and callbacks created inside it.
 */
export function runAsLibraryCall<T>(call: () => T): T {
  return libraryCall.run(true, call);
}

/** Whether the code running now was started by `runAsLibraryCall`. */
export function inLibraryCall(): boolean {
  return libraryCall.getStore() === true;
}
