#!/usr/bin/env node
// ods-sd: the Atlas Imager command line (built from src-main/cli by `npm run build`).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const entry = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src-main', 'cli', 'ods-sd.js');
if (!existsSync(entry)) {
  process.stderr.write('ods-sd is not built yet: run `npm run build` in the atlas-imager checkout\n');
  process.exit(1);
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
