import type { LogErrorRecord } from '../../logs/log-error-events.js';
import type { ResolvedLogPushOptions } from './log-push.options.js';

/** One record of a log push message, in the metrics service's format. */
export interface LogPushRecord {
  timestamp: number;
  service: string;
  metric_name: 'log_error_count';
  metric_type: 'counter';
  value: 1;
  tags: Record<string, string>;
}

/** The message text of one batch: `{"type":"metrics","batch":[…],"auth_token":"…"}`. */
export function pushMessage(
  records: readonly LogErrorRecord[],
  options: ResolvedLogPushOptions,
): string {
  return JSON.stringify({
    type: 'metrics',
    batch: records.map((record) => pushRecord(record, options)),
    auth_token: options.authToken,
  });
}

export function pushRecord(
  record: LogErrorRecord,
  options: ResolvedLogPushOptions,
): LogPushRecord {
  return {
    timestamp: record.timestamp,
    service: options.service,
    metric_name: 'log_error_count',
    metric_type: 'counter',
    value: 1,
    tags: {
      error_level: record.level,
      error_category: record.category,
      logger_name: record.logger,
      app_version: options.version,
      exception_type: record.exceptionType,
      ...options.tags,
    },
  };
}
