// The whole backend in memory, without Electron: requests through the router (validated, errors
// as data), events out, on a real library. The builder is a stand-in that fails with a reason,
// so nothing here needs root or the disk tools.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../src-main/ipc/backend.js';
import type { Envelope, EventChannel, JobEventDto, JobSummary } from '../../src-main/common/contract.js';
import type { Host } from '../../src-main/app/host.js';
import { builderProvider, unavailableBuilder } from '../../src-main/app/builders.js';
import { CLONE_IMAGE, GOLDEN, makeLibrary, SET, type TestLibrary } from './ipc-library-fixture.js';
import { SecretVault } from '../../src-main/core/secrets/secret-vault.js';
import { safeStorageCipher } from '../../src-main/electron/secret-cipher.js';
import { SafeStorageDouble } from '../doubles/safe-storage.js';

const NO_TOOLS = {
  code: 'unsupported',
  message: 'no disk tools in this test',
  hint: 'run the integration tests',
};

let lib: TestLibrary;
let backend: Backend;
let revealed: string[];
let events: Array<{ channel: EventChannel; payload: unknown }>;

const keychain = new SafeStorageDouble();

function makeBackend(): Backend {
  const host: Host = {
    openFile: async (purpose) => (purpose === 'card-image' ? lib.golden : null),
    openFolder: async () => null,
    reveal: (p) => revealed.push(p),
  };
  const b = createBackend({
    env: { builder: unavailableBuilder(NO_TOOLS), library: lib.library },
    host,
    settingsFile: join(lib.root, 'settings.json'),
    stagingDir: lib.desktop,
    vault: new SecretVault(join(lib.root, 'atlas_secrets.vault'), safeStorageCipher(keychain, 'darwin'), {
      tempRoot: join(lib.root, 'tmp'),
    }),
    platform: 'darwin',
    listCards: async () => [],
  });
  b.subscribe((channel, payload) => events.push({ channel, payload }));
  return b;
}

async function ok<T>(channel: string, ...args: unknown[]): Promise<T> {
  const r = (await backend.dispatch(channel, args)) as Envelope<T>;
  if (!r.ok) throw new Error(`${channel}: ${r.error.message}`);
  return r.value;
}

async function refused(channel: string, ...args: unknown[]) {
  const r = await backend.dispatch(channel, args);
  expect(r.ok).toBe(false);
  return (r as { ok: false; error: { code: string; message: string; hint?: string } }).error;
}

async function untilEnded(id: string): Promise<JobSummary> {
  await backend.jobs.settled(id);
  return (await ok<JobSummary[]>('jobs:list')).find((j) => j.id === id)!;
}

beforeEach(async () => {
  lib = await makeLibrary('ipc-backend');
  revealed = [];
  events = [];
  backend = makeBackend();
  await ok('settings:set', { archiveDir: lib.archive });
});

describe('the backend over the in-memory router', () => {
  it('answers app:info with where things are', async () => {
    expect(await ok('app:info')).toMatchObject({
      library: lib.library,
      platform: 'darwin',
      stagingDir: lib.desktop,
      builder: expect.stringContaining('no builder'),
    });
  });

  it('returns errors as data: unknown channels, bad arguments, failures with their hint', async () => {
    expect((await refused('shell:exec', 'rm -rf /')).message).toMatch(/unknown request channel/);
    expect((await refused('library:reveal', 'relative/path')).message).toMatch(/absolute path/);
    const e = await refused('library:reveal', '/etc/passwd');
    expect(e.message).toMatch(/not in the library/);
    expect(revealed).toEqual([]);
    expect((await refused('jobs:cancel', 'no-such-job')).code).toBe('not-found');
  });

  it('remembers the settings (the payload folder is picked once)', async () => {
    await ok('settings:set', { payloadDir: '/src/ods-player-os-atlas' });
    const again = makeBackend();
    const r = await again.dispatch('settings:get', []);
    expect(r).toEqual({
      ok: true,
      value: { payloadDir: '/src/ods-player-os-atlas', archiveDir: lib.archive },
    });
    expect(JSON.parse(readFileSync(join(lib.root, 'settings.json'), 'utf8')).payloadDir).toBe(
      '/src/ods-player-os-atlas',
    );
  });

  it('checks the payload checkout and the secrets without showing their values', async () => {
    const checkout = join(lib.root, 'ods-player-os-atlas');
    mkdirSync(join(checkout, 'scripts'), { recursive: true });
    writeFileSync(join(checkout, 'scripts', 'atlas_firstboot.sh'), '#!/bin/bash\n');
    writeFileSync(join(checkout, 'scripts', 'atlas-firstboot.service'), '[Service]\n');
    mkdirSync(join(lib.library, 'scripts'));
    writeFileSync(
      join(lib.library, 'scripts', 'atlas_secrets.conf'),
      'ROOT_PASSWORD="hunter2"\nexport WIFI_PSK=x\n',
    );
    const status = await ok<{ layout: string; ready: boolean; secrets: object; payloadDir: string }>(
      'payload:check',
      checkout,
    );
    expect(status.layout).toBe('checkout');
    expect(status.payloadDir).toBe(join(checkout, 'scripts'));
    expect(status.ready).toBe(true);
    expect(status.secrets).toMatchObject({
      found: true,
      where: 'in the library',
      keys: ['ROOT_PASSWORD', 'WIFI_PSK'],
    });
    expect(JSON.stringify(status)).not.toContain('hunter2');
  });

  it('imports the secrets once, encrypted, and Insert then uses them instead of the plain file', async () => {
    const checkout = join(lib.root, 'ods-player-os-atlas');
    mkdirSync(join(checkout, 'scripts'), { recursive: true });
    writeFileSync(join(checkout, 'scripts', 'atlas_firstboot.sh'), '#!/bin/bash\n');
    writeFileSync(join(checkout, 'scripts', 'atlas-firstboot.service'), '[Service]\n');
    const plain = join(lib.root, 'Downloads-atlas_secrets.conf');
    writeFileSync(plain, 'ROOT_PASSWORD="s3cret-import"\nAPI_TOKEN=t0k\n');

    expect(await ok('secrets:status')).toMatchObject({ stored: false, encryptionAvailable: true });
    expect((await ok<{ secrets: object }>('payload:check', checkout)).secrets).toMatchObject({
      found: false,
    });
    const imported = await ok<{ stored: boolean; keys: string[] }>('secrets:import', plain);
    expect(imported).toMatchObject({ stored: true, keys: ['API_TOKEN', 'ROOT_PASSWORD'] });
    expect(readFileSync(join(lib.root, 'atlas_secrets.vault'), 'utf8')).not.toContain('s3cret-import');
    const status = await ok<{ ready: boolean; secrets: object }>('payload:check', checkout);
    expect(status.secrets).toEqual({
      found: true,
      path: null,
      where: 'imported (encrypted)',
      keys: ['API_TOKEN', 'ROOT_PASSWORD'],
      hasRootPassword: true,
    });
    expect(status.ready).toBe(true);
    expect(JSON.stringify(events)).not.toContain('s3cret-import');

    // The renderer can name a file to import, never a secrets file for a job to use.
    const e = await refused('jobs:start', {
      kind: 'insert',
      base: lib.golden,
      payload: checkout,
      version: '1.0.0',
      tag: 'T',
      secrets: plain,
    });
    expect(e.message).toMatch(/secrets.*unknown key/);
    expect((await refused('secrets:import', 'relative/path.conf')).code).toBe('bad-input');

    expect(await ok('secrets:forget')).toMatchObject({ stored: false, keys: [] });
    expect(existsSync(join(lib.root, 'atlas_secrets.vault'))).toBe(false);
  });

  it('suggests names from the library and shows the output before a job runs', async () => {
    expect(await ok('names:suggest')).toEqual({
      golden: { version: '9.1.8', tag: 'ORIGIN' },
      cloneImage: { version: '9.1.8', tag: 'FLASH' },
      lastSet: 'v8-0-6-FLASH',
      lastSetTag: 'FLASH',
    });
    expect(await ok('names:next-set', 'FEATURE')).toEqual({
      previous: 'v8-0-6-FLASH',
      next: 'v8-0-7-FEATURE',
    });
    expect(await ok('names:plan', { kind: 'golden-image', version: '9.1.7', tag: 'ORIGIN' })).toEqual({
      name: GOLDEN,
      path: join(lib.library, GOLDEN),
      exists: true,
    });
    const bad = await ok<{ error: { message: string; hint: string } }>('names:plan', {
      kind: 'clone-image',
      version: '9.1',
      tag: 'no spaces',
    });
    expect(bad.error.message).toMatch(/invalid tag/);
    expect(bad.error.hint).toMatch(/letters, digits or underscores/);
  });

  it('lists the library and reveals its items', async () => {
    const view = await ok<{ items: Array<{ name: string }>; archive: { available: boolean } }>(
      'library:list',
    );
    expect(view.items.map((i) => i.name)).toEqual([SET, CLONE_IMAGE, GOLDEN]);
    expect(view.archive.available).toBe(true);
    await ok('library:reveal', lib.golden);
    expect(revealed).toEqual([lib.golden]);
  });

  it('deletes only after the confirmation ticket, then says the library changed', async () => {
    expect((await refused('library:delete', lib.cloneImage, 'made-up-token')).message).toMatch(
      /not confirmed/,
    );
    expect(existsSync(lib.cloneImage)).toBe(true);
    const ticket = await ok<{ token: string; question: string }>('library:delete-request', lib.cloneImage);
    expect(ticket.question).toMatch(/cannot be undone/);
    await ok('library:delete', lib.cloneImage, ticket.token);
    expect(existsSync(lib.cloneImage)).toBe(false);
    expect(events).toContainEqual({
      channel: 'library:changed',
      payload: { reason: `deleted ${CLONE_IMAGE}` },
    });
  });

  it('runs a job: start returns at once, events stream, the library is told', async () => {
    const started = await ok<JobSummary>('jobs:start', { kind: 'archive', path: lib.set });
    expect(started.state).toBe('running');
    const end = await untilEnded(started.id);
    expect(end.state).toBe('done');
    expect(end.outcome).toMatchObject({
      kind: 'archive',
      result: { dest: join(lib.archive, SET), alreadyArchived: false },
    });
    const jobEvents = events.filter((e) => e.channel === 'jobs:event').map((e) => e.payload as JobEventDto);
    expect(jobEvents[0]).toMatchObject({ type: 'started', job: { id: started.id, kind: 'archive' } });
    expect(jobEvents.some((e) => e.type === 'progress')).toBe(true);
    expect(jobEvents.at(-1)).toMatchObject({ type: 'done', jobId: started.id });
    expect(events.at(-1)).toMatchObject({ channel: 'library:changed' });
    // Everything that crossed the boundary is plain data.
    expect(JSON.parse(JSON.stringify(events))).toEqual(events);
  });

  it('a job that needs the disk tools fails with the builder reason and its hint', async () => {
    const started = await ok<JobSummary>('jobs:start', { kind: 'verify', card: lib.golden });
    const end = await untilEnded(started.id);
    expect(end.state).toBe('failed');
    expect(end.error).toEqual(NO_TOOLS);
  });

  it('refuses to start a job on a library item that does not exist', async () => {
    const e = await refused('jobs:start', { kind: 'stage', path: join(lib.library, 'nothing.img') });
    expect(e.code).toBe('not-found');
    expect(e.hint).toMatch(/refresh the library/);
  });

  it('identifies an image file as a card and explains why a card cannot be flashed', async () => {
    const small = join(lib.root, 'small-card.img');
    writeFileSync(small, Buffer.alloc(1024 * 1024));
    const card = await ok<{ ref: { path: string; kind: string; bytes: number }; usable: boolean }>(
      'cards:identify',
      small,
    );
    expect(card.ref).toMatchObject({ path: small, kind: 'file', bytes: 1024 * 1024 });
    expect(card.usable).toBe(true);
    const [check] = await ok<Array<{ usable: boolean; reasons: string[] }>>('flash:check', lib.golden, [
      card.ref,
    ]);
    expect(check!.usable).toBe(false);
    expect(check!.reasons.join(' ')).toMatch(/too small.*use a larger card/);
    const [same] = await ok<Array<{ reasons: string[] }>>('flash:check', lib.golden, [
      (await ok<{ ref: object }>('cards:identify', lib.golden)).ref,
    ]);
    expect(same!.reasons.join(' ')).toMatch(/same file/);
  });

  it('dispose cancels running jobs and their partial output is removed', async () => {
    const started = await ok<JobSummary>('jobs:start', { kind: 'archive', path: lib.golden });
    await backend.dispose();
    const end = await untilEnded(started.id);
    expect(end.state).toBe('cancelled');
    expect(existsSync(join(lib.archive, `${GOLDEN}.partial`))).toBe(false);
    expect(existsSync(join(lib.archive, GOLDEN))).toBe(false);
  });

  it('a job keeps the builder it started with when the app replaces it', async () => {
    const first = unavailableBuilder({ ...NO_TOOLS, message: 'the first builder' });
    const builders = builderProvider(first);
    const b = createBackend({
      env: { builder: first, library: lib.library },
      builders,
      host: { openFile: async () => null, openFolder: async () => null, reveal: () => undefined },
      settingsFile: join(lib.root, 'settings.json'),
      stagingDir: lib.desktop,
      vault: new SecretVault(join(lib.root, 'atlas_secrets.vault'), safeStorageCipher(keychain, 'darwin')),
      listCards: async () => [],
    });
    const call = async <T>(channel: string, ...args: unknown[]): Promise<T> => {
      const r = (await b.dispatch(channel, args)) as Envelope<T>;
      if (!r.ok) throw new Error(`${channel}: ${r.error.message}`);
      return r.value;
    };
    const before = await call<JobSummary>('jobs:start', { kind: 'inspect', path: lib.golden });
    builders.replace(unavailableBuilder({ ...NO_TOOLS, message: 'the second builder' }));
    const after = await call<JobSummary>('jobs:start', { kind: 'inspect', path: lib.golden });
    await Promise.all([b.jobs.settled(before.id), b.jobs.settled(after.id)]);
    const ended = await call<JobSummary[]>('jobs:list');
    expect(ended.find((j) => j.id === before.id)!.error?.message).toBe('the first builder');
    expect(ended.find((j) => j.id === after.id)!.error?.message).toBe('the second builder');
    expect((await call<{ builder: string }>('app:info')).builder).toBe('no builder (the second builder)');
    await b.dispose();
  });
});
