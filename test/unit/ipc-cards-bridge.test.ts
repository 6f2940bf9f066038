// Cards as the renderer sees them (drive-list candidates identified the way the phases identify a
// card, every refusal with its reason), and the window.atlas bridge shared by preload and e2e.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Drive } from 'drivelist';
import { describe, expect, it, vi } from 'vitest';
import { listCardCandidates, toCardCandidate } from '../../src-main/app/card-list.js';
import { identifyCandidate, pickedCard } from '../../src-main/app/card-checks.js';
import { createAtlasApi, type BridgeTransport } from '../../src-main/ipc/bridge.js';
import type { DriveCandidate } from '../../src-main/core/cards/drive-list.js';
import { ROOT, scratch } from '../helpers/fixtures.js';

const recorded = (name: string): Drive[] =>
  (JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'recorded', name), 'utf8')) as { drives: Drive[] })
    .drives;

describe('card candidates', () => {
  it('leaves out virtual disks and keeps the system disk with its reason, never usable', async () => {
    const list = await listCardCandidates({
      list: async () => recorded('drivelist-linux.json'),
      platform: 'linux',
    });
    expect(list.map((c) => c.ref.path)).toEqual(['/dev/vda']);
    expect(list[0]!.usable).toBe(false);
    expect(list[0]!.reasons.join(' ')).toMatch(/system disk/);
  });

  it('identifies a drive as the phases will, keeping the host layer reasons', async () => {
    const file = join(scratch('ipc-cards'), 'card.img');
    writeFileSync(file, Buffer.alloc(4096));
    const drive: DriveCandidate = {
      device: file,
      rawDevice: file,
      description: 'USB reader',
      size: 4096,
      model: 'SD Reader',
      busType: 'USB',
      removable: true,
      readOnly: true,
      isSystem: false,
      isVirtual: false,
      mountpoints: [],
      usable: false,
      reasons: ["read-only: slide the card's lock switch to unlocked and insert it again"],
    };
    const c = await toCardCandidate(drive);
    expect(c.ref).toMatchObject({ path: file, kind: 'file', bytes: 4096 });
    expect(c.description).toBe(`${file} SD Reader (0.0 GB)`);
    expect(c).toMatchObject({ usable: false, readOnly: true, reasons: drive.reasons });
    const gone = await toCardCandidate({ ...drive, device: '/dev/no-such-card', reasons: [] });
    expect(gone.usable).toBe(false);
    expect(gone.reasons.join(' ')).toMatch(/no such card/);
  });

  it('refuses a picked card that changed since it was picked', async () => {
    const file = join(scratch('ipc-cards'), 'card.img');
    writeFileSync(file, Buffer.alloc(8192));
    const picked = (await identifyCandidate(file)).ref;
    expect((await pickedCard(picked)).bytes).toBe(8192);
    writeFileSync(file, Buffer.alloc(16384));
    await expect(pickedCard(picked)).rejects.toMatchObject({ code: 'card-changed' });
  });
});

describe('the window.atlas bridge', () => {
  function transport(): BridgeTransport & {
    invoke: ReturnType<typeof vi.fn>;
    subscribe: ReturnType<typeof vi.fn>;
  } {
    return {
      invoke: vi.fn(async () => ({ ok: true, value: 'v' })),
      subscribe: vi.fn(() => () => undefined),
      pathForFile: (f) => `/dropped/${f.name}`,
    };
  }

  it('forwards known requests with their arguments, and nothing else', async () => {
    const t = transport();
    const api = createAtlasApi(t);
    expect(await api.invoke('library:reveal', '/lib/a.img')).toEqual({ ok: true, value: 'v' });
    expect(t.invoke).toHaveBeenCalledWith('library:reveal', ['/lib/a.img']);
    const refused = await (api.invoke as (c: string, ...a: unknown[]) => Promise<unknown>)('fs:rm', '/');
    expect(refused).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(t.invoke).toHaveBeenCalledTimes(1);
  });

  it('subscribes to known event channels only, and gives a dropped file its path', () => {
    const t = transport();
    const api = createAtlasApi(t);
    const listener = vi.fn();
    api.on('jobs:event', listener);
    const forward = t.subscribe.mock.calls[0]![1] as (p: unknown) => void;
    forward({ type: 'log', jobId: 'j', line: 'x' });
    expect(listener).toHaveBeenCalledWith({ type: 'log', jobId: 'j', line: 'x' });
    expect(() => (api.on as (c: string, l: () => void) => void)('ipc:raw', () => undefined)).toThrow(
      /unknown event/,
    );
    expect(api.pathForFile({ name: 'base.img' })).toBe('/dropped/base.img');
    expect(Object.isFrozen(api)).toBe(true);
  });
});
