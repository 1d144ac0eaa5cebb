// Bundles src/main.js with TON Connect's UI library into src/chainfluence/pages/static/pages.js.
// `node build.mjs --check` builds to memory and fails when the committed bundle differs.
// The build is deterministic: pinned tools (package-lock.json), no timestamps, no hashes in names.
import { readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const OUT = new URL('../../src/chainfluence/pages/static/pages.js', import.meta.url);
const check = process.argv.includes('--check');

const result = await build({
  entryPoints: [new URL('./src/main.js', import.meta.url).pathname],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020', 'chrome100', 'safari15'],
  legalComments: 'eof',
  charset: 'utf8',
  write: false,
  logLevel: 'warning',
});
const bundle = result.outputFiles[0].contents;
if (check) {
  let committed;
  try {
    committed = readFileSync(OUT);
  } catch {
    committed = Buffer.alloc(0);
  }
  if (!Buffer.from(bundle).equals(committed)) {
    console.error('src/chainfluence/pages/static/pages.js is out of date: run `make pages` and commit it');
    process.exit(1);
  }
  console.log(`pages.js up to date (${bundle.length} bytes)`);
} else {
  writeFileSync(OUT, bundle);
  console.log(`pages.js: ${bundle.length} bytes`);
}
