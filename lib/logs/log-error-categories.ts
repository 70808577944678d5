/**
 * One rule of the `logErrors.categories` list: the first rule that matches a counted log call
 * gives its `category` label. A rule matches when any of its words is found in the field it is
 * listed under; a rule that lists no words matches every call (a catch-all, put it last).
 *
 * Words match whole words only, ignoring case and whether the words are written apart, joined or
 * in camelCase: `api` matches "api.example.com" and "ExternalApiError" but never "rapid";
 * `typeorm` matches "TypeOrmModule"; `timed out` matches "TimedOut"; `EAI_AGAIN` matches
 * "getaddrinfo EAI_AGAIN db".
 */
export interface CategoryRule {
  /** The `category` label value of the calls this rule matches. */
  readonly category: string;
  /** Words of the logger's name (the Nest context, e.g. `OrdersService`). */
  readonly logger?: readonly string[];
  /** Words of the message (the logged text, or the logged error's message). */
  readonly message?: readonly string[];
  /** Words of the exception type (`QueryFailedError`, `TypeError`, ...). */
  readonly exceptionType?: readonly string[];
  /** Words of the logged error's `code` (or of its `cause`'s): `ECONNREFUSED`, `ER_DUP_ENTRY`, ... */
  readonly code?: readonly string[];
}

/** The fields of a log call the rules look at. */
export interface CategoryInput {
  readonly logger: string;
  readonly message: string;
  readonly exceptionType: string;
  readonly code: string;
}

/** The category of a call no rule matched. */
export const FALLBACK_CATEGORY = 'general';

/**
 * The default rules, for a web service, tried in this order. Calls no rule matches are `general`.
 * Pass your own list to `logErrors.categories`, e.g. `[myRule, ...DEFAULT_LOG_ERROR_CATEGORIES]`.
 */
export const DEFAULT_LOG_ERROR_CATEGORIES: readonly CategoryRule[] =
  Object.freeze([
    {
      category: 'database',
      logger: [
        'database',
        'TypeORM',
        'Prisma',
        'Mongoose',
        'Sequelize',
        'MikroORM',
        'Knex',
        'Drizzle',
        'Redis',
      ],
      exceptionType: [
        'QueryFailed',
        'EntityNotFound',
        'Mongo',
        'Prisma',
        'Sequelize',
        'Redis',
        'Database',
      ],
      message: [
        'database',
        'sql',
        'deadlock',
        'postgres',
        'PostgreSQL',
        'MySQL',
        'MariaDB',
        'SQLite',
        'MongoDB',
        'Redis',
      ],
    },
    {
      category: 'network',
      code: [
        'ECONNREFUSED',
        'ECONNRESET',
        'ETIMEDOUT',
        'EAI_AGAIN',
        'ENOTFOUND',
        'EHOSTUNREACH',
        'ENETUNREACH',
        'ENETDOWN',
        'EPIPE',
        'ECONNABORTED',
        'UND_ERR_SOCKET',
      ],
      message: [
        'ECONNREFUSED',
        'ECONNRESET',
        'ETIMEDOUT',
        'EAI_AGAIN',
        'ENOTFOUND',
        'EHOSTUNREACH',
        'ENETUNREACH',
        'socket hang up',
      ],
    },
    {
      category: 'timeout',
      exceptionType: ['timeout'],
      code: [
        'UND_ERR_CONNECT_TIMEOUT',
        'UND_ERR_HEADERS_TIMEOUT',
        'UND_ERR_BODY_TIMEOUT',
      ],
      message: ['timeout', 'timed out', 'deadline exceeded'],
    },
    {
      category: 'memory',
      code: ['ERR_BUFFER_TOO_LARGE', 'ERR_STRING_TOO_LONG'],
      message: ['out of memory', 'heap', 'OOM', 'memory'],
    },
    {
      category: 'validation',
      exceptionType: ['validation', 'BadRequestException', 'Zod'],
      message: ['validation', 'validate'],
    },
    {
      category: 'auth',
      exceptionType: [
        'UnauthorizedException',
        'ForbiddenException',
        'JsonWebToken',
        'TokenExpired',
      ],
      message: [
        'unauthorized',
        'unauthenticated',
        'forbidden',
        'authentication',
        'authorization',
        'JWT',
        'access denied',
      ],
    },
    {
      category: 'external_api',
      exceptionType: ['Axios', 'Fetch', 'HTTPError'],
      message: ['api', 'upstream', 'fetch failed', 'status code'],
    },
  ]);

/** A rule with its words compiled to one test per field. */
export interface CompiledCategoryRule {
  readonly category: string;
  readonly tests: readonly {
    readonly field: keyof CategoryInput;
    readonly pattern: RegExp;
  }[];
}

const FIELDS = ['logger', 'message', 'exceptionType', 'code'] as const;

/** The text a word or a field is compared in: lower case words, camelCase split, one space apart. */
export function normalizeWords(text: string): string {
  const words = text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
  return words === '' ? '' : ` ${words} `;
}

/**
 * The regular expression that finds any of `words` as whole words of a normalized text: the
 * letters of a word in order, each pair optionally split by the text's word boundary.
 */
export function wordsPattern(words: readonly string[]): RegExp {
  const alternatives = words.map((word) =>
    [...normalizeWords(word).replace(/ /g, '')].join(' ?'),
  );
  return new RegExp(`(?<= )(?:${alternatives.join('|')})(?= )`);
}

/** Whether `word` has a letter or digit to match (checked at start-up). */
export function isMatchableWord(word: string): boolean {
  return normalizeWords(word) !== '';
}

export function compileCategoryRules(
  rules: readonly CategoryRule[],
): CompiledCategoryRule[] {
  return rules.map((rule) => ({
    category: rule.category,
    tests: FIELDS.flatMap((field) => {
      const words = rule[field];
      return words === undefined || words.length === 0
        ? []
        : [{ field, pattern: wordsPattern(words) }];
    }),
  }));
}

/** The category of the first rule that matches `input`, else `general`. */
export function categorize(
  rules: readonly CompiledCategoryRule[],
  input: CategoryInput,
): string {
  const normalized: Partial<Record<keyof CategoryInput, string>> = {};
  for (const rule of rules) {
    if (rule.tests.length === 0) return rule.category;
    for (const { field, pattern } of rule.tests) {
      const text = (normalized[field] ??= normalizeWords(input[field]));
      if (text !== '' && pattern.test(text)) return rule.category;
    }
  }
  return FALLBACK_CATEGORY;
}
