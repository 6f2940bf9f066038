// Every argument the renderer sends is checked in main before a handler, and so the core, sees it.
import { describe, expect, it } from 'vitest';
import { AtlasError } from '../../src-main/core/errors.js';
import { INVOKE, INVOKE_CHANNELS } from '../../src-main/common/contract.js';
import { validateRequest } from '../../src-main/ipc/validate.js';

const card = { path: '/dev/sdc', kind: 'device', bytes: 32e9, node: 2080 };

function refused(channel: unknown, args: unknown, pattern: RegExp): void {
  try {
    validateRequest(channel, args);
  } catch (e) {
    expect(e).toBeInstanceOf(AtlasError);
    expect((e as AtlasError).code).toBe('bad-input');
    expect((e as AtlasError).message).toMatch(pattern);
    return;
  }
  throw new Error(`${String(channel)} ${JSON.stringify(args)} was accepted`);
}

describe('IPC argument validation', () => {
  it('checks the arguments of every request channel of the contract against its schema', () => {
    expect(INVOKE_CHANNELS).toHaveLength(30);
    for (const channel of INVOKE_CHANNELS) {
      const count = INVOKE[channel].args.items.length;
      refused(
        channel,
        Array.from({ length: count + 1 }, () => null),
        new RegExp(`expected ${count} argument`),
      );
      if (count > 0)
        refused(
          channel,
          Array.from({ length: count }, () => null),
          new RegExp(`${channel}#1`),
        );
    }
  });

  it('accepts well-formed requests and returns them as typed arguments', () => {
    expect(
      validateRequest('jobs:start', [
        { kind: 'insert', base: '/img/base.img', payload: '/src/atlas', version: '9.1.7', tag: 'ORIGIN' },
      ]),
    ).toEqual([
      { kind: 'insert', base: '/img/base.img', payload: '/src/atlas', version: '9.1.7', tag: 'ORIGIN' },
    ]);
    expect(
      validateRequest('jobs:start', [{ kind: 'flash', image: '/a.img', cards: [card], verify: true }]),
    ).toEqual([{ kind: 'flash', image: '/a.img', cards: [card], verify: true }]);
    expect(validateRequest('library:delete', ['/lib/x.img', 'abc123'])).toEqual(['/lib/x.img', 'abc123']);
    expect(validateRequest('settings:set', [{ payloadDir: null }])).toEqual([{ payloadDir: null }]);
    expect(validateRequest('app:info', [])).toEqual([]);
    expect(validateRequest('checklist:set-threshold', [{ id: 'plymouth-theme', min: 1 }])).toEqual([
      { id: 'plymouth-theme', min: 1 },
    ]);
    refused('checklist:set-threshold', [{ id: 'plymouth-theme', min: -1 }], /checklist:set-threshold#1/);
    refused('checklist:set-threshold', [{ id: '../x', min: 1 }], /checklist:set-threshold#1/);
    refused('checklist:set-threshold', [{ id: 'x', min: 1.5 }], /checklist:set-threshold#1/);
  });

  it('drops optional keys that are undefined', () => {
    const [req] = validateRequest('jobs:start', [
      {
        kind: 'flash',
        image: '/a.img',
        cards: [{ path: '/dev/disk4', kind: 'device', bytes: 1, node: 1, serial: undefined }],
        verify: true,
      },
    ]);
    expect(Object.keys((req as { cards: object[] }).cards[0]!)).not.toContain('serial');
  });

  it('refuses unknown channels and wrong argument counts', () => {
    refused('fs:readFile', ['/etc/shadow'], /unknown request channel/);
    refused(42, [], /unknown request channel/);
    refused('jobs:cancel', [], /expected 1 argument/);
    refused('jobs:cancel', ['a', 'b'], /expected 1 argument/);
    refused('app:info', 'not a list', /argument list/);
  });

  it('refuses paths that are relative, not normalized, contain "..", control characters or look like options', () => {
    refused('payload:check', ['relative/dir'], /absolute path/);
    refused('payload:check', ['/a/../etc'], /normalized|\.\./);
    refused('payload:check', ['/a//b'], /normalized/);
    refused('payload:check', ['/a\nb'], /control characters/);
    refused('payload:check', [''], /expected a path/);
    refused('payload:check', [42], /expected a path/);
    refused('cards:identify', ['/dev/sdc\u0000'], /control characters/);
  });

  it('carries the names the user typed to confirm unusual disks, as paths only', () => {
    const flash = (confirmed: unknown) => [
      { kind: 'flash', image: '/a.img', cards: [card], verify: true, confirmed },
    ];
    expect(validateRequest('jobs:start', flash(['/dev/disk4']))).toEqual(flash(['/dev/disk4']));
    refused('jobs:start', flash(true), /confirmed: expected a list/);
    refused('jobs:start', flash(['disk4']), /confirmed\[0\]: expected an absolute path/);
    const restore = (confirmed: unknown) => [{ kind: 'restore', card, set: 'v1-A', confirmed }];
    expect(validateRequest('jobs:start', restore(true))).toEqual(restore(true));
    refused('jobs:start', restore('yes'), /true or false/);
  });

  it('a VM recreate says whether the secrets inside the VM are imported, as true or false', () => {
    const recreate = (importSecrets: unknown) => [{ kind: 'vm-recreate', importSecrets }];
    expect(validateRequest('jobs:start', recreate(false))).toEqual(recreate(false));
    refused('jobs:start', recreate('yes'), /true or false/);
    refused('jobs:start', [{ kind: 'vm-recreate' }], /importSecrets/);
    refused(
      'jobs:start',
      [{ kind: 'vm-recreate', importSecrets: true, library: '/tmp' }],
      /library: unknown key/,
    );
  });

  it('refuses objects with unknown keys, a wrong kind or a wrong shape', () => {
    refused('jobs:start', [{ kind: 'format-disk', path: '/dev/sda' }], /kind: expected one of/);
    refused('jobs:start', [{ kind: 'inspect', path: '/a.img', shell: 'rm -rf /' }], /shell: unknown key/);
    const flash = (cards: unknown) => [{ kind: 'flash', image: '/a.img', cards, verify: true }];
    refused('jobs:start', flash([{ ...card, node: -1 }]), /cards\[0\]\.node/);
    refused('jobs:start', flash([{ path: '/dev/sdc' }]), /cards\[0\]\.kind/);
    refused('jobs:start', flash([]), /number of items/);
    refused(
      'jobs:start',
      [{ kind: 'flash', image: '/a.img', card, verify: true }],
      /card: unknown key|cards/,
    );
    refused(
      'jobs:start',
      [{ kind: 'shrink', card: '/c.img', version: '1', tag: 'T', force: 'yes' }],
      /true or false/,
    );
    refused('jobs:start', [[]], /kind/);
    refused('settings:set', [['/a']], /expected an object/);
    refused('names:plan', [{ kind: 'clone-set', name: 'x', constructor: 1 }], /unknown key/);
    refused('jobs:start', [Object.create({ kind: 'inspect' })], /plain object/);
    refused('settings:set', [{ archiveDir: null }], /expected a path/);
  });

  it('bounds strings, numbers and lists', () => {
    refused('jobs:start', [{ kind: 'clone', card, name: 'x'.repeat(81) }], /1-80 characters/);
    refused('terminal:resize', ['id-1', 0, 24], /out of range/);
    refused('terminal:resize', ['id-1', 80.5, 24], /integer/);
    refused('terminal:input', ['id-1', 'x'.repeat(70_000)], /characters/);
    refused('flash:check', ['/a.img', []], /number of items/);
    refused('jobs:cancel', ['../../x'], /does not match/);
  });
});
