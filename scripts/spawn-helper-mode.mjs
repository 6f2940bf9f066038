#!/usr/bin/env node
// node-pty 1.1.0 publishes its macOS helper, prebuilds/darwin-<arch>/spawn-helper, without the
// execute bit (microsoft/node-pty#850): every terminal then fails with "posix_spawnp failed".
// Run after every install (package.json postinstall, scripts/setup.sh): sets it to 0755, so the
// VM terminal works under `npm start` and the packaged app carries an executable helper.
// Usage: node scripts/spawn-helper-mode.mjs [NODE_PTY_DIR]
import { chmodSync, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root =
  process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'node-pty');
const prebuilds = join(root, 'prebuilds');
for (const dir of existsSync(prebuilds) ? readdirSync(prebuilds) : []) {
  const helper = join(prebuilds, dir, 'spawn-helper');
  if (!dir.startsWith('darwin-') || !existsSync(helper)) continue;
  if ((statSync(helper).mode & 0o111) !== 0o111) {
    chmodSync(helper, 0o755);
    console.log(`made ${helper} executable (microsoft/node-pty#850)`);
  }
}
