import { Logger } from '@nestjs/common';
import { recordingFailedMessage } from '../metrics.messages.js';

/**
 * Logs the first failure of a recorder and stays silent after it: a recorder runs for every
 * request, message or job, and must neither fail it nor flood the log.
 */
export class RecordingFailureLog {
  private readonly logger = new Logger('MetricsModule');
  private logged = false;

  report(error: unknown): void {
    if (this.logged) return;
    this.logged = true;
    this.logger.error(
      recordingFailedMessage,
      error instanceof Error ? error.stack : String(error),
    );
  }
}
