import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildLibrary, type BuiltLibrary } from './helpers/built-library.js';

/**
 * Every TypeScript block of the README compiles where a user pastes it: in an app made by
 * `nest new` (NestJS 12, `@nestjs/schematics` 12 `ts-esm` template), with `nestjs-metrics` being
 * the compiled library. A block may be preceded by an HTML comment, which readers don't see:
 *
 * - `<!-- snippet: prelude NAME -->` compiles it after the prelude NAME below;
 * - `<!-- snippet: fragment -->` does not compile it (a part of a file that cannot stand alone);
 *   fragments are counted and listed.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');

/**
 * `tsconfig.json` of `nest new` 12 (`ts-esm` template, `strict: true` by default), without emit.
 * `target` ES2023 leaves `useDefineForClassFields` at its default, true. Its `types` list
 * `vitest/globals` too, for the generated specs; no snippet is a spec.
 */
export const NEST_NEW_COMPILER_OPTIONS = {
  module: 'nodenext',
  moduleResolution: 'nodenext',
  resolvePackageJsonExports: true,
  esModuleInterop: true,
  isolatedModules: true,
  declaration: true,
  removeComments: true,
  emitDecoratorMetadata: true,
  experimentalDecorators: true,
  allowSyntheticDefaultImports: true,
  target: 'ES2023',
  sourceMap: true,
  skipLibCheck: true,
  strict: true,
  strictPropertyInitialization: false,
  types: ['node'],
  noEmit: true,
} as const;

interface Prelude {
  /** What the user's app has that the snippet uses without showing it. */
  readonly doc: string;
  /** Prepended to the snippet, in the same file. */
  readonly head: string;
  /** Other files of the user's app, beside the snippet. */
  readonly files?: Readonly<Record<string, string>>;
}

const METRICS_IMPORTS = `import { Module } from '@nestjs/common';
import { MetricsModule } from 'nestjs-metrics';`;

const APP_MODULE = `@Module({ imports: [MetricsModule.forRoot()] })
class AppModule {}`;

/** The preludes the README names; each declares only what the user's own files would have. */
export const PRELUDES: Readonly<Record<string, Prelude>> = {
  'module-file': {
    doc: 'The imports of a module file.',
    head: METRICS_IMPORTS,
  },
  'config-module': {
    doc: "The imports of a module file, and @nestjs/config's ConfigModule and ConfigService (not a dependency here), with ConfigService.get's signature.",
    head: `${METRICS_IMPORTS}
declare class ConfigService {
  get<T = any>(propertyPath: string, defaultValue: NoInfer<T>): T;
}
@Module({ providers: [ConfigService], exports: [ConfigService] })
class ConfigModule {}`,
  },
  'orders-app': {
    doc: "The app's own types: the DTO, the entity and its repository.",
    head: `interface CreateOrderDto {
  product: string;
  quantity: number;
}
interface Order extends CreateOrderDto {
  id: number;
}
abstract class OrdersRepository {
  abstract save(dto: CreateOrderDto): Promise<Order>;
}`,
  },
  'fastify-main': {
    doc: 'The imports of main.ts and an AppModule.',
    head: `import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
${METRICS_IMPORTS}
${APP_MODULE}`,
  },
  'worker-main': {
    doc: "The imports of the worker's main.ts and its JobsModule.",
    head: `import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import { MetricsModule, MetricsServer } from 'nestjs-metrics';
@Module({})
class JobsModule {}`,
  },
  'importer-main': {
    doc: 'The imports of main.ts, an AppModule and its Importer provider.',
    head: `import { Injectable } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
${METRICS_IMPORTS}
@Injectable()
class Importer {
  async run(): Promise<void> {}
}
@Module({
  imports: [MetricsModule.forRoot({ pushgateway: { url: 'http://localhost:9091', jobName: 'import' } })],
  providers: [Importer],
})
class AppModule {}`,
  },
  'cluster-main': {
    doc: 'The app.module.ts that the snippet imports.',
    head: '',
    files: {
      'app.module.ts': `${METRICS_IMPORTS}
@Module({ imports: [MetricsModule.forRoot({ cluster: true })] })
export class AppModule {}
`,
    },
  },
};

/** One fenced TypeScript block of a markdown file. */
export interface Snippet {
  /** The line of the opening fence, 1-based. */
  readonly line: number;
  readonly code: string;
  /** `fragment`, `prelude NAME`, or undefined when the block has no marker. */
  readonly marker: string | undefined;
}

const FENCE = /^```(ts|typescript)\s*$/;
const MARKER = /^<!--\s*snippet:\s*(.*?)\s*-->$/;

/** The nearest line before `index` that is not blank (prettier puts a blank line after a comment). */
function previousLine(
  lines: readonly string[],
  index: number,
): string | undefined {
  for (let i = index - 1; i >= 0; i--)
    if (lines[i]!.trim() !== '') return lines[i];
  return undefined;
}

/** Every ```ts (or ```typescript) block of `markdown`, with the marker on the line before it. */
export function extractSnippets(markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE.test(lines[i]!)) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++)
      body.push(lines[i]!);
    const previous = MARKER.exec(previousLine(lines, start)?.trim() ?? '');
    snippets.push({
      line: start + 1,
      code: body.join('\n') + '\n',
      marker: previous?.[1],
    });
  }
  return snippets;
}

/** A folder outside the working tree whose node_modules is the project's plus `nestjs-metrics`. */
function appFolder(library: BuiltLibrary): string {
  const dir = mkdtempSync(join(tmpdir(), 'nestjs-metrics-snippets-'));
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  for (const entry of readdirSync(join(root, 'node_modules')))
    if (entry !== '.bin')
      symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
  symlinkSync(library.dir, join(modules, 'nestjs-metrics'), 'dir');
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'snippets', private: true, type: 'module' }),
  );
  return dir;
}

/**
 * Writes each snippet (with its prelude) to its own folder under a new app folder, runs tsc once
 * and returns the errors as `README.md:LINE: message`, LINE being the snippet's line in the
 * markdown (an error in a prelude names the snippet's fence and says so).
 */
export function compileSnippets(
  library: BuiltLibrary,
  snippets: readonly Snippet[],
  source = 'README.md',
): string[] {
  const dir = appFolder(library);
  const offsets = new Map<string, { snippet: Snippet; headLines: number }>();
  const problems: string[] = [];
  for (const snippet of snippets) {
    const name = /^prelude (\S+)$/.exec(snippet.marker ?? '')?.[1];
    const prelude = name === undefined ? undefined : PRELUDES[name];
    if (name !== undefined && prelude === undefined) {
      problems.push(`${source}:${snippet.line}: no prelude named "${name}"`);
      continue;
    }
    const folder = `snippets/line-${snippet.line}`;
    mkdirSync(join(dir, folder), { recursive: true });
    const head = prelude?.head ? `${prelude.head}\n` : '';
    writeFileSync(join(dir, folder, 'snippet.ts'), head + snippet.code);
    for (const [file, text] of Object.entries(prelude?.files ?? {})) {
      mkdirSync(dirname(join(dir, folder, file)), { recursive: true });
      writeFileSync(join(dir, folder, file), text);
    }
    offsets.set(`${folder}/snippet.ts`, {
      snippet,
      headLines: head === '' ? 0 : head.split('\n').length - 1,
    });
  }
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: NEST_NEW_COMPILER_OPTIONS,
      include: ['snippets'],
    }),
  );
  let output = '';
  try {
    execFileSync(
      process.execPath,
      [tsc, '-p', 'tsconfig.json', '--pretty', 'false'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
  } catch (error) {
    output = String((error as { stdout?: unknown }).stdout ?? error);
  }
  for (const diagnostic of output.split('\n')) {
    if (diagnostic.trim() === '') continue;
    const at = /^(snippets\/[^(]+)\((\d+),(\d+)\): (.*)$/.exec(diagnostic);
    const entry = at ? offsets.get(at[1]!) : undefined;
    if (at === null || entry === undefined) {
      // A continuation line of the previous message, or an error in a prelude's extra file.
      if (problems.length > 0 && at === null)
        problems[problems.length - 1] += ` ${diagnostic.trim()}`;
      else problems.push(`${source}: ${diagnostic}`);
      continue;
    }
    const fileLine = Number(at[2]);
    const { snippet, headLines } = entry;
    problems.push(
      fileLine > headLines
        ? `${source}:${snippet.line + fileLine - headLines}:${at[3]}: ${at[4]}`
        : `${source}:${snippet.line}: in prelude "${snippet.marker}" line ${fileLine}: ${at[4]}`,
    );
  }
  return problems;
}

describe('README TypeScript snippets', () => {
  let library: BuiltLibrary;
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const snippets = extractSnippets(readme);
  const fragments = snippets.filter(({ marker }) => marker === 'fragment');
  const compiled = snippets.filter(({ marker }) => marker !== 'fragment');

  beforeAll(() => {
    library = buildLibrary();
  });

  afterAll(() => {
    if (fragments.length > 0)
      console.info(
        `README fragments not compiled (${fragments.length}): ${fragments
          .map(({ line }) => `README.md:${line}`)
          .join(', ')}`,
      );
  });

  it('finds every ts block and reads every marker', () => {
    const fences = readme.split('\n').filter((line) => FENCE.test(line)).length;
    expect(snippets).toHaveLength(fences);
    expect(compiled.length).toBeGreaterThanOrEqual(10);
    const unknown = snippets
      .filter(
        ({ marker }) =>
          marker !== undefined &&
          marker !== 'fragment' &&
          !/^prelude \S+$/.test(marker),
      )
      .map(({ line, marker }) => `README.md:${line}: ${marker}`);
    expect(unknown).toEqual([]);
    // A marker must be followed by a block (blank lines between them allowed).
    const lines = readme.split('\n');
    const stray = lines.flatMap((line, i) => {
      if (!MARKER.test(line.trim())) return [];
      const next = lines.slice(i + 1).find((after) => after.trim() !== '');
      return FENCE.test(next ?? '') ? [] : [`README.md:${i + 1}`];
    });
    expect(stray).toEqual([]);
  });

  it(`compiles the ${compiled.length} blocks that are not fragments under nest new's tsconfig`, () => {
    expect(compileSnippets(library, compiled)).toEqual([]);
  });

  it('names the README line of a block that does not compile', () => {
    const markdown = [
      '# Example',
      '',
      '<!-- snippet: prelude orders-app -->',
      '```ts',
      "import { Injectable } from '@nestjs/common';",
      "import { MetricsService } from 'nestjs-metrics';",
      '',
      '@Injectable()',
      'export class OrdersService {',
      "  private readonly itemsSold = this.metrics.counter('order_items_total', {",
      "    help: 'Items sold, by product.',",
      '  });',
      '',
      '  constructor(private readonly metrics: MetricsService) {}',
      '}',
      '```',
      '',
      '<!-- snippet: fragment -->',
      '',
      '```ts',
      'this is not TypeScript',
      '```',
    ].join('\n');
    const [orders, fragment] = extractSnippets(markdown);
    expect(fragment?.marker).toBe('fragment');
    expect(compileSnippets(library, [orders!], 'EXAMPLE.md')).toEqual([
      "EXAMPLE.md:10:37: error TS2729: Property 'metrics' is used before its initialization.",
    ]);
  });
});
