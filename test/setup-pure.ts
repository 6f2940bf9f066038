// The pure unit lane (`npm run test:unit`, which runs on a Mac too): no root, no Linux disk tools.
// Its tests run with a PATH that holds only what macOS itself ships and Node, so a test that starts
// sfdisk, losetup, mkfs, partclone, the limactl double (which needs Linux namespaces) or any other
// Linux tool fails here with ENOENT: it belongs in the tools lane (vitest.config.ts, TOOLS).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MACOS_COMMANDS, pathOf } from './helpers/macos-path.js';

process.env.PATH = pathOf(join(tmpdir(), 'atlas-stock-mac-path', 'bin'), MACOS_COMMANDS);
