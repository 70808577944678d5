/** A family the log push adds to the module's registry (names get the module's `prefix`). */
export interface LogPushFamily {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
}

/** The log push's own families, described once: the registry, the README table and tests use them. */
export const LOG_PUSH_FAMILIES = {
  sent: {
    name: 'log_push_sent_total',
    type: 'counter',
    help: 'Log error records the log push server acknowledged (WebSocket pong after the message).',
  },
  dropped: {
    name: 'log_push_dropped_total',
    type: 'counter',
    help: 'Log error records dropped: the oldest waiting one when the queue was full, and those left at shutdown.',
  },
  reconnects: {
    name: 'log_push_reconnects_total',
    type: 'counter',
    help: 'Connection attempts of the log push after the first one.',
  },
  connected: {
    name: 'log_push_connected',
    type: 'gauge',
    help: '1 while the log push has an open WebSocket, else 0.',
  },
  queued: {
    name: 'log_push_queued',
    type: 'gauge',
    help: 'Log error records waiting to be acknowledged (the messages on the wire included).',
  },
} as const satisfies Record<string, LogPushFamily>;
