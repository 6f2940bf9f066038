/**
 * Test-only backend for the end-to-end run: the app's own services (createAppBackend, as Electron
 * main wires them, on the real core) carried over plain HTTP instead of Electron IPC. In `local`
 * mode the builder is this host (LocalBuilder, as root), as on the lab's Linux box; in `mac` mode
 * it is the atlas-build Lima VM, as on a Mac (the limactl test double, named by ATLAS_LIMACTL). It serves the
 * built renderer with the app's CSP, takes requests as POST /__atlas/invoke and streams events
 * as Server-Sent Events on /__atlas/events. It listens on 127.0.0.1 only, and every API call
 * must carry a random token that only the test knows.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Backend } from '../../src-main/ipc/backend.js';
import { createAppBackend } from '../../src-main/ipc/app-backend.js';
import type { Env } from '../../src-main/core/phases/env.js';
import type { CardCandidate, FilePurpose, FolderPurpose } from '../../src-main/common/contract.js';
import type { Host } from '../../src-main/app/host.js';
import { CSP } from '../../src-main/electron/csp.js';
import { SecretVault } from '../../src-main/core/secrets/secret-vault.js';
import { safeStorageCipher } from '../../src-main/electron/secret-cipher.js';
import { SafeStorageDouble } from '../doubles/safe-storage.js';

/** Native dialogs, answered with the paths the test queued, in order. */
export class TestHost implements Host {
  readonly files: Array<{ purpose: FilePurpose; path: string }> = [];
  readonly folders: Array<{ purpose: FolderPurpose; path: string }> = [];
  readonly revealed: string[] = [];

  answerFile(purpose: FilePurpose, path: string): void {
    this.files.push({ purpose, path });
  }

  answerFolder(purpose: FolderPurpose, path: string): void {
    this.folders.push({ purpose, path });
  }

  async openFile(purpose: FilePurpose): Promise<string | null> {
    const i = this.files.findIndex((f) => f.purpose === purpose);
    return i < 0 ? null : this.files.splice(i, 1)[0]!.path;
  }

  async openFolder(purpose: FolderPurpose): Promise<string | null> {
    const i = this.folders.findIndex((f) => f.purpose === purpose);
    return i < 0 ? null : this.folders.splice(i, 1)[0]!.path;
  }

  reveal(path: string): void {
    this.revealed.push(path);
  }
}

export interface TestServer {
  url: string;
  token: string;
  backend: Backend;
  /** The env every handler shares (its builder is the one the app picked). */
  env: Env;
  host: TestHost;
  vault: SecretVault;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

async function body(req: IncomingMessage, max = 1 << 20): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new Error('request too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startTestServer(opts: {
  rendererDir: string;
  library: string;
  stagingDir: string;
  settingsFile: string;
  /** Where decrypted secrets may live while an Insert runs. */
  secretsTempRoot: string;
  listCards?: () => Promise<CardCandidate[]>;
  /** `local`: the Linux build host (default); `mac`: the builder is the atlas-build Lima VM. */
  mode?: 'local' | 'mac';
}): Promise<TestServer> {
  const token = randomBytes(24).toString('hex');
  const host = new TestHost();
  const mac = opts.mode === 'mac';
  // The app's vault as in Electron main, with safeStorage's double standing in for the Mac's
  // Keychain or the Linux keyring: the app names the one of the platform it runs on.
  const vault = new SecretVault(
    join(dirname(opts.settingsFile), 'atlas_secrets.vault'),
    safeStorageCipher(new SafeStorageDouble(), mac ? 'darwin' : 'linux'),
    { tempRoot: opts.secretsTempRoot },
  );
  const { backend, env } = await createAppBackend({
    library: opts.library,
    platform: mac ? 'darwin' : 'linux',
    preference: mac ? 'lima' : 'local',
    host,
    vault,
    settingsFile: opts.settingsFile,
    stagingDir: opts.stagingDir,
    listCards: opts.listCards ?? (async () => []),
  });
  const streams = new Set<ServerResponse>();
  backend.subscribe((channel, payload) => {
    const line = `data: ${JSON.stringify({ channel, payload })}\n\n`;
    for (const s of streams) s.write(line);
  });

  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(e));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/__atlas/invoke') {
      if (req.method !== 'POST' || req.headers['x-atlas-token'] !== token) {
        res.writeHead(403).end();
        return;
      }
      const { channel, args } = JSON.parse(await body(req)) as { channel: unknown; args: unknown };
      const envelope = await backend.dispatch(channel, args);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(envelope));
      return;
    }
    if (url.pathname === '/__atlas/events') {
      if (url.searchParams.get('token') !== token) {
        res.writeHead(403).end();
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(': connected\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    const file = resolve(opts.rendererDir, `.${url.pathname === '/' ? '/index.html' : url.pathname}`);
    const rel = relative(opts.rendererDir, file);
    if (rel.startsWith('..')) {
      res.writeHead(403).end();
      return;
    }
    try {
      const content = await readFile(file);
      res
        .writeHead(200, {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
          'content-security-policy': CSP,
          'x-content-type-options': 'nosniff',
        })
        .end(content);
    } catch {
      res.writeHead(404).end();
    }
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    backend,
    env,
    host,
    vault,
    async close() {
      await backend.dispose();
      for (const s of streams) s.end();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
