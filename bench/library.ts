import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The public API of the library, as built to `dist/`. */
export type Library = typeof import('../lib/index.js');
/** The recorder module, as built to `dist/recorder/request-metrics.js`. */
export type RecorderModule =
  typeof import('../lib/recorder/request-metrics.js');

/** The repository root: the closest directory above this file whose package.json is the library's. */
export const ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  let dir = from;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name ===
        'nestjs-metrics'
    ) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error(`no nestjs-metrics package.json above ${from}`);
    dir = parent;
  }
}

/**
 * Imports a module of the built library (`dist/`), never its sources: the bench measures what
 * users install. Types come from the sources, which `dist/` is built from.
 */
export async function loadDist<T>(relative: string): Promise<T> {
  const file = path.join(ROOT, 'dist', relative);
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: run \`npm run build\` first`);
  }
  return (await import(pathToFileURL(file).href)) as T;
}

/** The version of an installed package (read from its package.json). */
export function packageVersion(name: string): string {
  const manifest = path.join(ROOT, 'node_modules', name, 'package.json');
  if (!existsSync(manifest)) return 'not installed';
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string })
    .version;
}
