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

/**
 * The rules compiled for matching: per field, each word written without separators
 * (`timed out` → `timedout`) mapped to the first rule that lists it there.
 */
export interface CompiledCategoryRules {
  /** The category of each rule, by its place in the list. */
  readonly categories: readonly string[];
  /** The place of the first rule without words (it matches every call), or -1. */
  readonly catchAll: number;
  readonly fields: readonly {
    readonly field: keyof CategoryInput;
    readonly words: ReadonlyMap<string, number>;
    /** The longest word, in characters: longer runs of the text's words cannot match. */
    readonly longest: number;
  }[];
}

const FIELDS = ['logger', 'message', 'exceptionType', 'code'] as const;

/** Characters of a field that are looked at: a huge message costs no more than this. */
export const MATCHED_LENGTH = 1024;

/**
 * The words of `text`, lower case: split at every character that is not an ASCII letter or
 * digit, and inside camelCase (`ExternalApiError` → external, api, error; `HTTPError` → http,
 * error). Only the first `MATCHED_LENGTH` characters are read.
 */
export function wordsOf(text: string): string[] {
  const words: string[] = [];
  const end = Math.min(text.length, MATCHED_LENGTH);
  let start = -1;
  let previous = 0; // 0 none, 1 lower or digit, 2 upper
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const kind =
      c >= 65 && c <= 90
        ? 2
        : (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
          ? 1
          : 0;
    if (kind === 0) {
      if (start !== -1) words.push(text.slice(start, i).toLowerCase());
      start = -1;
    } else if (start === -1) {
      start = i;
    } else if (kind === 2) {
      const next = i + 1 < end ? text.charCodeAt(i + 1) : 0;
      // fooBar, foo1Bar: a new word; HTTPError: the E starts one (an upper case run, then lower).
      if (previous === 1 || (next >= 97 && next <= 122)) {
        words.push(text.slice(start, i).toLowerCase());
        start = i;
      }
    }
    previous = kind;
  }
  if (start !== -1) words.push(text.slice(start, end).toLowerCase());
  return words;
}

/** A word of a rule as it is looked up: its words joined (`EAI_AGAIN` → `eaiagain`). */
export function compactWord(word: string): string {
  return wordsOf(word).join('');
}

/** Whether `word` has a letter or digit to match (checked at start-up). */
export function isMatchableWord(word: string): boolean {
  return compactWord(word) !== '';
}

export function compileCategoryRules(
  rules: readonly CategoryRule[],
): CompiledCategoryRules {
  const fields = FIELDS.map((field) => {
    const words = new Map<string, number>();
    rules.forEach((rule, index) => {
      for (const word of rule[field] ?? []) {
        const compact = compactWord(word);
        if (compact !== '' && !words.has(compact)) words.set(compact, index);
      }
    });
    let longest = 0;
    for (const word of words.keys()) longest = Math.max(longest, word.length);
    return { field, words, longest };
  }).filter(({ words }) => words.size > 0);
  return {
    categories: rules.map((rule) => rule.category),
    catchAll: rules.findIndex((rule) =>
      FIELDS.every((field) => (rule[field]?.length ?? 0) === 0),
    ),
    fields,
  };
}

/**
 * The category of the first rule that matches `input`, else `general`. A word matches a run of
 * whole words of its field, written together: `timedout` matches "timed out" and "TimedOut",
 * never part of a word.
 */
export function categorize(
  rules: CompiledCategoryRules,
  input: CategoryInput,
): string {
  let best = rules.catchAll === -1 ? Infinity : rules.catchAll;
  for (const { field, words, longest } of rules.fields) {
    if (best === 0) break;
    const text = input[field];
    if (text === '') continue;
    const tokens = wordsOf(text);
    for (let i = 0; i < tokens.length; i++) {
      let run = '';
      for (let j = i; j < tokens.length; j++) {
        run += tokens[j];
        if (run.length > longest) break;
        const rule = words.get(run);
        if (rule !== undefined && rule < best) best = rule;
      }
    }
  }
  return best === Infinity ? FALLBACK_CATEGORY : rules.categories[best]!;
}
