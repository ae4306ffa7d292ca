/**
 * `npm run build:console`: bundles the reviewer console's page (console/page/app.ts) with esbuild and copies its style
 * sheet, into console/bundle/ (served from the source tree) and, with `--out <dir>`, there too (dist/console/bundle
 * for the package). The console serves these files itself: no CDN, nothing fetched at run time.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export async function buildConsole(outDirs: readonly string[] = [join(root, 'console/bundle')]): Promise<void> {
  for (const out of outDirs) {
    await mkdir(out, { recursive: true });
    await build({
      entryPoints: [join(root, 'console/page/app.ts')],
      outfile: join(out, 'app.js'),
      bundle: true,
      format: 'esm',
      target: 'es2022',
      minify: true,
      sourcemap: false,
      logLevel: 'warning',
    });
    await copyFile(join(root, 'console/page/console.css'), join(out, 'console.css'));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string', multiple: true } } });
  await buildConsole([join(root, 'console/bundle'), ...(values.out ?? []).map((o) => resolve(o))]);
}
