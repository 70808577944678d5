import type { LoggerService } from '@nestjs/common';
import {
  invalid,
  resolveBoolean,
  resolveObject,
} from '../options/option-checks.js';
import {
  compileCategoryRules,
  DEFAULT_LOG_ERROR_CATEGORIES,
  isMatchableWord,
  type CategoryRule,
  type CompiledCategoryRules,
} from './log-error-categories.js';

/** The `logErrors` option: how log calls are counted in `log_errors_total`. */
export interface LogErrorsOptions {
  /** Count `warn` calls too (`level="warn"`). Default `false`. */
  warn?: boolean;
  /**
   * The ordered category rules; the first that matches gives the `category` label, `general`
   * when none does. Default `DEFAULT_LOG_ERROR_CATEGORIES`.
   */
  categories?: readonly CategoryRule[];
  /**
   * A logger for the module to wrap and install as the app's logger when the module starts
   * (as `app.useLogger()` would). Default none: install the wrapper yourself with
   * `app.useLogger(app.get(LogErrorMetrics).wrap(logger))`.
   */
  logger?: LoggerService;
}

export interface ResolvedLogErrorsOptions {
  readonly warn: boolean;
  readonly rules: CompiledCategoryRules;
  readonly logger: LoggerService | undefined;
}

const KEYS: ReadonlySet<string> = new Set(['warn', 'categories', 'logger']);
const RULE_KEYS: ReadonlySet<string> = new Set([
  'category',
  'logger',
  'message',
  'exceptionType',
  'code',
]);
const WORD_FIELDS = ['logger', 'message', 'exceptionType', 'code'] as const;

const DEFAULT_RULES = compileCategoryRules(DEFAULT_LOG_ERROR_CATEGORIES);

/** Checks the `logErrors` option. */
export function resolveLogErrors(value: unknown): ResolvedLogErrorsOptions {
  if (value === undefined)
    return { warn: false, rules: DEFAULT_RULES, logger: undefined };
  const options = resolveObject(
    value,
    'logErrors',
    KEYS,
    'an object { warn?, categories?, logger? }',
  );
  return {
    warn: resolveBoolean(options.warn, 'logErrors.warn', false),
    rules:
      options.categories === undefined
        ? DEFAULT_RULES
        : compileCategoryRules(resolveRules(options.categories)),
    logger: resolveLogger(options.logger),
  };
}

function resolveRules(value: unknown): CategoryRule[] {
  if (!Array.isArray(value)) {
    throw invalid(
      'logErrors.categories',
      'an array of rules { category, logger?, message?, exceptionType?, code? }',
      value,
    );
  }
  return value.map((rule: unknown, index) => {
    const path = `logErrors.categories[${index}]`;
    const checked = resolveObject(
      rule,
      path,
      RULE_KEYS,
      'a rule { category, logger?, message?, exceptionType?, code? }',
    );
    const category = checked.category;
    if (typeof category !== 'string' || category.trim() === '') {
      throw invalid(`${path}.category`, 'a non-empty string', category);
    }
    for (const field of WORD_FIELDS) {
      const words = checked[field];
      if (words === undefined) continue;
      if (!Array.isArray(words)) {
        throw invalid(`${path}.${field}`, 'an array of words', words);
      }
      words.forEach((word: unknown, at) => {
        if (typeof word !== 'string' || !isMatchableWord(word)) {
          throw invalid(
            `${path}.${field}[${at}]`,
            'a word with a letter or digit',
            word,
          );
        }
      });
    }
    return checked as unknown as CategoryRule;
  });
}

function resolveLogger(value: unknown): LoggerService | undefined {
  if (value === undefined) return undefined;
  const logger = value as Partial<Record<string, unknown>> | null;
  if (
    logger === null ||
    typeof logger !== 'object' ||
    typeof logger.log !== 'function' ||
    typeof logger.error !== 'function' ||
    typeof logger.warn !== 'function'
  ) {
    throw invalid(
      'logErrors.logger',
      'a LoggerService (an object with log, error and warn methods)',
      value,
    );
  }
  return value as LoggerService;
}
