import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A compiled copy of the library outside the working tree, loadable by a plain Node process. */
export interface BuiltLibrary {
  /** The package folder: `package.json`, `dist/` and a `node_modules` link to the project's. */
  readonly dir: string;
  /** `dist/index.js`, to `import()` from a child process or a fixture. */
  readonly entry: string;
}

/**
 * Compiles `lib/` into a new temporary folder (never into the working tree) with the project's
 * `package.json`, and links the project's `node_modules` beside it so its imports resolve.
 * `version` replaces the package version, to tell two copies apart.
 */
export function buildLibrary(version?: string): BuiltLibrary {
  const dir = mkdtempSync(join(tmpdir(), 'nestjs-metrics-build-'));
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(root, 'tsconfig.build.json'),
      '--outDir',
      join(dir, 'dist'),
    ],
    { cwd: root, stdio: 'inherit' },
  );
  const manifest = JSON.parse(
    readFileSync(join(root, 'package.json'), 'utf8'),
  ) as Record<string, unknown>;
  if (version !== undefined) manifest.version = version;
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, entry: join(dir, 'dist/index.js') };
}
