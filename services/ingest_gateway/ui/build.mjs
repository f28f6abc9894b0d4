// Builds the console into dist/ (checked in and embedded in the gateway by
// include_bytes!): esbuild bundles src/app.js (with uPlot and the CSS) into
// dist/app.js + dist/app.css; index.html and the icon are copied.
// `node build.mjs --check` builds into a temporary directory and fails if
// dist/ differs from it, i.e. if the checked-in bundle is stale.

import * as esbuild from 'esbuild';
import { mkdtempSync, readFileSync, readdirSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const check = process.argv.includes('--check');
const out = check ? mkdtempSync(join(tmpdir(), 'logops-ui-')) : join(here, 'dist');
mkdirSync(out, { recursive: true });

await esbuild.build({
  entryPoints: { app: join(here, 'src/app.js') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  outdir: out,
  legalComments: 'eof',
  logLevel: 'warning',
});
for (const f of ['index.html', 'favicon.svg']) copyFileSync(join(here, 'src', f), join(out, f));

if (check) {
  const dist = join(here, 'dist');
  const stale = readdirSync(out).filter((f) => {
    try {
      return !readFileSync(join(out, f)).equals(readFileSync(join(dist, f)));
    } catch {
      return true;
    }
  });
  rmSync(out, { recursive: true, force: true });
  if (stale.length) {
    console.error(`ui/dist is stale (${stale.join(', ')} differ from a build of ui/src): run \`npm run build\` in services/ingest_gateway/ui and commit dist/`);
    process.exit(1);
  }
  console.log('ui/dist matches its sources');
}
