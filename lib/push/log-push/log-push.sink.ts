import { markLiveState } from '../../read/registry-state.js';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import type WebSocket from 'ws';
import type { ClientOptions } from 'ws';
import { runAsLibraryCall } from '../../client/library-calls.js';
import type { ResolvedMetricsOptions } from '../../interfaces/metrics-module-options.interface.js';
import { finishWithin, formatMs } from '../../lifecycle/bounded-shutdown.js';
import {
  LogErrorEvents,
  type LogErrorRecord,
} from '../../logs/log-error-events.js';
import {
  METRICS_REGISTRY,
  METRICS_RESOLVED_OPTIONS,
} from '../../metrics.constants.js';
import { pushMessage } from './log-push-message.js';
import { RecordQueue } from './log-push-queue.js';
import { LOG_PUSH_FAMILIES } from './log-push.families.js';
import type { ResolvedLogPushOptions } from './log-push.options.js';

/** Wait before the first reconnection; doubled for each further failed attempt, up to `maxBackoffSeconds`. */
export const FIRST_BACKOFF_MS = 500;
/** Close codes (and upgrade statuses) that mean "your credentials were refused". */
const REFUSED_CLOSE_CODES = new Set([1008, 4001, 4003, 4401, 4403]);
const REFUSED_STATUSES = new Set([401, 403]);

/** Messages that may wait for their pong at once: enough to keep a busy loop's records moving. */
export const MESSAGES_IN_FLIGHT = 4;

type WebSocketClass = typeof WebSocket;

/** A batch written to the socket, with the ping that follows it (none until it is written). */
interface InFlightBatch {
  readonly records: LogErrorRecord[];
  ping: number | undefined;
}

/** Why the last connection ended, for the one log line of a failure streak. */
interface Failure {
  reason: string;
  refused: boolean;
}

/**
 * Pushes every counted log error (`LogErrorEvents`) as one record over a WebSocket, in batches.
 *
 * The log call only enqueues (O(1)); all socket work runs later, off the caller's stack. At most
 * `maxQueue` records wait, the messages on the wire included; when full, the oldest waiting record
 * is dropped (the newest errors are the ones an operator looks at; a message already on the wire
 * is never dropped, since it may arrive). Each message is followed by a WebSocket ping: the
 * server's pong (RFC 6455 answers pings in order, after the frames before them) acknowledges it,
 * and only then do its records leave the queue and count as sent. At most `MESSAGES_IN_FLIGHT`
 * messages wait for their pong. A message not acknowledged (connection lost, no pong within
 * `timeoutSeconds`) goes out again on the next connection: delivery is at least once; a batch the
 * server read just before the connection broke can arrive twice. Since nothing more is written
 * while those messages wait, a server that stops reading costs a few messages of socket buffer,
 * never more.
 */
@Injectable()
export class LogPushSink implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('MetricsModule');
  private readonly options: ResolvedLogPushOptions | undefined;
  private readonly shownUrl: string = '';
  private readonly queue = new RecordQueue<LogErrorRecord>();
  /** The batches on the wire, oldest first (unsent again after a lost connection). */
  private readonly inFlight: InFlightBatch[] = [];
  private inFlightRecords = 0;
  private WebSocketClass: WebSocketClass | undefined;
  private socket: WebSocket | undefined;
  private open = false;
  /** The ping that probes a new connection; nothing is sent before its pong. */
  private probe: number | undefined;
  private pingCount = 0;
  private healthy = false;
  private ackTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  private attempts = 0;
  private failedAttempts = 0;
  private lastFailure: Failure | undefined;
  private streakLogged = false;
  private refusalLogged = false;
  private droppedInStreak = 0;
  /** Set while the sink itself logs: records its own lines cause are not queued (no loop). */
  private logging = false;
  private closing = false;
  private stopped = false;
  private onDrained: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly sent: Counter | undefined;
  private readonly dropped: Counter | undefined;
  private readonly reconnects: Counter | undefined;
  private readonly connected: Gauge | undefined;

  constructor(
    @Inject(METRICS_RESOLVED_OPTIONS) options: ResolvedMetricsOptions,
    @Inject(METRICS_REGISTRY) registry: Registry,
    private readonly events: LogErrorEvents,
  ) {
    this.options = options.enabled ? options.logPush : undefined;
    if (this.options === undefined) return;
    this.shownUrl = shownUrl(this.options.url);
    const name = (family: { name: string }) =>
      `${options.prefix}${family.name}`;
    const registers = [registry];
    const { sent, dropped, reconnects, connected, queued } = LOG_PUSH_FAMILIES;
    this.sent = new Counter({ name: name(sent), help: sent.help, registers });
    this.dropped = new Counter({
      name: name(dropped),
      help: dropped.help,
      registers,
    });
    this.reconnects = new Counter({
      name: name(reconnects),
      help: reconnects.help,
      registers,
    });
    this.connected = markLiveState(
      new Gauge({
        name: name(connected),
        help: connected.help,
        registers,
      }),
    );
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const sink = this;
    markLiveState(
      new Gauge({
        name: name(queued),
        help: queued.help,
        registers,
        collect() {
          this.set(sink.waiting);
        },
      }),
    );
  }

  /** Records waiting to be acknowledged, the batches on the wire included. */
  get waiting(): number {
    return this.queue.length + this.inFlightRecords;
  }

  async onModuleInit(): Promise<void> {
    if (this.options === undefined) return;
    this.WebSocketClass = await importWs();
    this.unsubscribe = this.events.subscribe((record) => this.enqueue(record));
    this.connect();
  }

  /**
   * Sends what waits (whatever the batch size and interval), then closes the socket; all of it
   * within `timeoutSeconds`. What is left at the deadline counts as dropped, and one warning says
   * how many. Never rejects; afterwards nothing of the sink is left running.
   */
  async onApplicationShutdown(): Promise<void> {
    if (this.options === undefined || this.closing) return;
    this.closing = true;
    const budgetMs = this.options.timeoutSeconds * 1000;
    const inTime = await finishWithin(budgetMs, (signal) =>
      this.drainAndClose(signal),
    );
    this.stopped = true;
    this.unsubscribe?.();
    this.clearTimers();
    const socket = this.socket;
    this.socket = undefined;
    this.open = false;
    socket?.terminate();
    const left = this.waiting;
    if (!inTime || left > 0) {
      this.queue.take(this.queue.length);
      this.inFlight.length = 0;
      this.inFlightRecords = 0;
      this.dropped!.inc(left);
      if (left > 0) {
        this.note(
          'warn',
          `Log push to ${this.shownUrl}: ${left} record(s) not acknowledged within ${formatMs(budgetMs)} of the shutdown (logPush.timeoutSeconds) were dropped${this.lastFailure ? ` (${this.lastFailure.reason})` : ''}`,
        );
      }
    }
    this.connected!.set(0);
  }

  /** The listener of `LogErrorEvents`: O(1), never throws, never touches the socket. */
  private enqueue(record: LogErrorRecord): void {
    if (this.logging || this.stopped) return;
    const options = this.options!;
    if (this.waiting >= options.maxQueue) {
      // The oldest waiting record goes; the batches on the wire stay (they may already arrive).
      this.dropped!.inc();
      this.droppedInStreak += 1;
      if (!this.queue.dropOldest()) return;
    }
    this.queue.push(record, performance.now());
    if (this.queue.length === 1 || this.queue.length >= options.batchSize) {
      this.schedulePump();
    }
  }

  private schedulePump(): void {
    // Without an open socket, the next connection pumps once it is proven.
    if (this.pumpScheduled || !this.open) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    }).unref();
  }

  /**
   * Sends what is due while fewer than `MESSAGES_IN_FLIGHT` messages wait for their pong: first
   * the batches a lost connection left unacknowledged, then new ones. Arms the flush timer when
   * records wait that are not due yet.
   */
  private pump(): void {
    if (this.stopped || !this.open || this.probe !== undefined) return;
    const options = this.options!;
    const socket = this.socket!;
    try {
      for (const batch of this.inFlight) {
        if (batch.ping === undefined) this.send(socket, batch);
      }
      while (this.inFlight.length < MESSAGES_IN_FLIGHT) {
        const oldest = this.queue.oldestQueuedAt;
        if (oldest === undefined) break;
        const dueIn =
          oldest + options.flushIntervalSeconds * 1000 - performance.now();
        if (
          this.queue.length < options.batchSize &&
          dueIn > 0 &&
          !this.closing
        ) {
          if (this.flushTimer === undefined) {
            this.flushTimer = setTimeout(() => {
              this.flushTimer = undefined;
              this.pump();
            }, dueIn);
            this.flushTimer.unref();
          }
          return;
        }
        const records = this.queue.take(options.batchSize);
        const batch: InFlightBatch = { records, ping: undefined };
        this.inFlight.push(batch);
        this.inFlightRecords += records.length;
        this.send(socket, batch);
      }
    } catch (error) {
      this.lastFailure = { reason: describe(error), refused: false };
      socket.terminate();
      return;
    }
    if (this.queue.length === 0) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      if (this.closing && this.inFlight.length === 0) this.onDrained?.();
    }
  }

  /** Writes one batch, then a ping whose pong acknowledges it. */
  private send(socket: WebSocket, batch: InFlightBatch): void {
    socket.send(pushMessage(batch.records, this.options!), (error) => {
      // A failed write ends the connection; 'close' keeps the batch for the next one.
      if (error && socket === this.socket) socket.terminate();
    });
    batch.ping = this.ping(socket);
  }

  /**
   * Sends a ping; when no pong has come `timeoutSeconds` after the oldest unanswered one, the
   * connection is given up.
   */
  private ping(socket: WebSocket): number {
    const id = ++this.pingCount;
    socket.ping(String(id));
    if (this.ackTimer === undefined) this.armAckTimer(socket);
    return id;
  }

  private armAckTimer(socket: WebSocket): void {
    const timeoutMs = this.options!.timeoutSeconds * 1000;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      if (socket !== this.socket) return;
      this.lastFailure = {
        reason: `no acknowledgement (pong) within ${formatMs(timeoutMs)}`,
        refused: false,
      };
      socket.terminate();
    }, timeoutMs);
    this.ackTimer.unref();
  }

  private onPong(socket: WebSocket, data: Buffer): void {
    if (socket !== this.socket) return;
    const id = Number(data.toString());
    if (!Number.isSafeInteger(id)) return;
    // Pongs come in order: this one answers every ping up to `id`.
    let acknowledged = 0;
    while (
      this.inFlight.length > 0 &&
      this.inFlight[0].ping !== undefined &&
      this.inFlight[0].ping <= id
    ) {
      acknowledged += this.inFlight.shift()!.records.length;
    }
    const probed = this.probe !== undefined && this.probe <= id;
    if (probed) this.probe = undefined;
    if (acknowledged === 0 && !probed) return;
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.inFlight.some((batch) => batch.ping !== undefined)) {
      this.armAckTimer(socket);
    }
    if (acknowledged > 0) {
      this.inFlightRecords -= acknowledged;
      this.sent!.inc(acknowledged);
    }
    // Proven by an acknowledged batch (a server that checks the token in the payload closes
    // before it answers one), or by the probe while nothing waits; only then the backoff resets.
    if (!this.healthy && (acknowledged > 0 || this.waiting === 0)) {
      this.healthy = true;
      this.recovered();
    }
    this.pump();
  }

  private connect(): void {
    if (this.stopped || this.socket !== undefined) return;
    const options = this.options!;
    this.attempts += 1;
    if (this.attempts > 1) this.reconnects!.inc();
    const headers: Record<string, string> = {};
    if (options.authHeader !== undefined) {
      headers[options.authHeader] =
        options.authHeader === 'authorization'
          ? `Bearer ${options.authToken}`
          : options.authToken;
    }
    const settings: ClientOptions = {
      handshakeTimeout: options.timeoutSeconds * 1000,
      perMessageDeflate: false,
      followRedirects: false,
      // The server has nothing to say but pongs: a message from it is bounded and ignored.
      maxPayload: 64 * 1024,
      headers,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    };
    let socket: WebSocket;
    try {
      // The library's own connection: the outbound HTTP metrics leave it out.
      socket = runAsLibraryCall(
        () => new this.WebSocketClass!(options.url, settings),
      );
    } catch (error) {
      this.lastFailure = { reason: describe(error), refused: false };
      this.failed();
      return;
    }
    this.socket = socket;
    this.lastFailure = undefined;
    socket.on('open', () => {
      if (socket !== this.socket) return;
      this.open = true;
      this.connected!.set(1);
      // Probe first: a server that refuses after the upgrade closes before it answers.
      this.probe = this.ping(socket);
    });
    socket.on('pong', (data) => this.onPong(socket, data));
    socket.on('message', () => undefined);
    socket.on('error', (error) => {
      if (socket !== this.socket || this.lastFailure !== undefined) return;
      const status = /Unexpected server response: (\d+)/.exec(error.message);
      this.lastFailure = {
        reason: describe(error),
        refused: status !== null && REFUSED_STATUSES.has(Number(status[1])),
      };
    });
    socket.on('close', (code) => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      this.open = false;
      this.probe = undefined;
      for (const batch of this.inFlight) batch.ping = undefined;
      clearTimeout(this.ackTimer);
      this.ackTimer = undefined;
      this.connected!.set(0);
      if (this.lastFailure === undefined) {
        this.lastFailure = {
          reason: `closed by the server (code ${code})`,
          refused: REFUSED_CLOSE_CODES.has(code),
        };
      }
      if (this.closing && this.waiting === 0) return this.onDrained?.();
      this.healthy = false;
      this.failed();
    });
  }

  /** One failed attempt or lost connection: log once per streak, then reconnect after a backoff. */
  private failed(): void {
    const options = this.options!;
    this.failedAttempts += 1;
    const failure = this.lastFailure!;
    if (failure.refused && !this.refusalLogged) {
      this.refusalLogged = true;
      this.streakLogged = true;
      this.note(
        'warn',
        `Log push to ${this.shownUrl} was refused by the server (${failure.reason}): check logPush.authToken; records wait in the queue (at most ${options.maxQueue}) and attempts go on with backoff up to ${options.maxBackoffSeconds} s`,
      );
    } else if (!this.streakLogged) {
      this.streakLogged = true;
      this.note(
        'debug',
        `Log push to ${this.shownUrl} is not connected (${failure.reason}); records wait in the queue (at most ${options.maxQueue}, then the oldest are dropped) and attempts go on with backoff up to ${options.maxBackoffSeconds} s`,
      );
    }
    if (this.stopped) return;
    this.reconnectTimer = setTimeout(
      () => {
        this.reconnectTimer = undefined;
        this.connect();
      },
      backoffMs(this.attempts, options.maxBackoffSeconds),
    );
    this.reconnectTimer.unref();
  }

  private recovered(): void {
    const failedAttempts = this.failedAttempts;
    this.attempts = 1;
    this.failedAttempts = 0;
    if (this.streakLogged) {
      this.note(
        'debug',
        `Log push to ${this.shownUrl} connected again after ${failedAttempts} failed attempt(s); ${this.droppedInStreak} record(s) were dropped meanwhile`,
      );
    }
    this.streakLogged = false;
    this.refusalLogged = false;
    this.droppedInStreak = 0;
  }

  /** Sends what waits and closes the socket; on `signal` (the deadline) it gives up at once. */
  private drainAndClose(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      const close = () => {
        const socket = this.socket;
        this.onDrained = resolve;
        this.open = false;
        if (socket === undefined || socket.readyState !== socket.OPEN) {
          this.socket = undefined;
          socket?.terminate();
          return resolve();
        }
        socket.close(1000, 'shutdown');
      };
      this.onDrained = close;
      if (this.waiting === 0 && this.socket === undefined) return resolve();
      if (this.socket === undefined) {
        // Waiting for a backoff: try now (then with the backoff, until the deadline).
        clearTimeout(this.reconnectTimer);
        this.reconnectTimer = undefined;
        this.connect();
      } else if (this.waiting === 0 && this.probe === undefined) {
        close();
      } else {
        this.pump();
      }
    });
  }

  private clearTimers(): void {
    clearTimeout(this.ackTimer);
    clearTimeout(this.flushTimer);
    clearTimeout(this.reconnectTimer);
  }

  /**
   * Logs through Nest's logger (the app's, so it lands where the app's lines do) with the token
   * blanked out. While it runs, records the line itself causes (a counting logger emits them
   * synchronously) are not queued: the sink never feeds itself.
   */
  private note(level: 'debug' | 'warn', message: string): void {
    const token = this.options!.authToken;
    this.logging = true;
    try {
      this.logger[level](message.split(token).join('***'));
    } catch {
      // A failing logger is not the sink's to fix.
    } finally {
      this.logging = false;
    }
  }
}

/**
 * The wait before attempt `attempt + 1`: 500 ms doubled per failed attempt, capped at
 * `maxBackoffSeconds`, with "equal jitter" (between half of it and all of it), so many instances
 * that lost the same server do not come back in step.
 */
export function backoffMs(
  attempt: number,
  maxBackoffSeconds: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(
    FIRST_BACKOFF_MS * 2 ** Math.max(0, attempt - 1),
    maxBackoffSeconds * 1000,
  );
  return base / 2 + random() * (base / 2);
}

async function importWs(): Promise<WebSocketClass> {
  try {
    const ws = await import('ws');
    return (ws.WebSocket ?? ws.default) as WebSocketClass;
  } catch (error) {
    throw new Error(
      `nestjs-metrics: option "logPush" needs the "ws" package (npm install ws): ${describe(error)}`,
      { cause: error },
    );
  }
}

/** The URL as log lines show it: no credentials, no query (either may carry a secret). */
function shownUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}
