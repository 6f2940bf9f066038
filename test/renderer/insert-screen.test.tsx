// @vitest-environment jsdom
// Insert (Phase 0): a dropped image is inspected; only a base Armbian image, a ready payload and a
// new name let the build start, and the build gets exactly those inputs.
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { InsertScreen } from '../../src-renderer/components/insert-screen';
import { useStore } from '../../src-renderer/store/store';
import type { InspectionDto, PayloadStatus } from '../../src-main/common/contract';
import { installFakeAtlas, NO_SECRETS, type FakeAtlas, type FakeHandlers } from './fake-atlas';
import { connect } from './setup';

const PAYLOAD: PayloadStatus = {
  dir: '/Users/me/src/ods-player-os-atlas',
  payloadDir: '/Users/me/src/ods-player-os-atlas/scripts',
  layout: 'checkout',
  files: [
    {
      name: 'atlas_firstboot.sh',
      found: true,
      path: '/Users/me/src/ods-player-os-atlas/scripts/atlas_firstboot.sh',
    },
    {
      name: 'atlas-firstboot.service',
      found: true,
      path: '/Users/me/src/ods-player-os-atlas/scripts/atlas-firstboot.service',
    },
  ],
  secrets: {
    found: true,
    path: '/Users/me/atlas-build/scripts/atlas_secrets.conf',
    where: 'in the library',
    keys: ['ROOT_PASSWORD'],
    hasRootPassword: true,
  },
  ready: true,
  problems: [],
};

function inspection(state: InspectionDto['state'], stateText: string): InspectionDto {
  return {
    path: '/Users/me/Downloads/Armbian.img',
    kind: 'file',
    compression: 'none',
    bytes: 2_000_000_000,
    table: 'dos',
    partitions: [
      {
        number: 1,
        start: 8192,
        sectors: 1048576,
        bytes: 536870912,
        type: 'c',
        fs: 'vfat',
        label: 'RPICFG',
        usedBytes: 40e6,
      },
      {
        number: 2,
        start: 1056768,
        sectors: 2000000,
        bytes: 1024000000,
        type: '83',
        fs: 'ext4',
        label: 'armbi_root',
        usedBytes: 9e8,
      },
    ],
    state,
    stateText,
    payloadPresent: state !== 'base',
    armbianLayout: true,
    truncated: false,
  };
}

async function setup(more: FakeHandlers = {}): Promise<FakeAtlas> {
  const fake = installFakeAtlas({
    ...more,
    'settings:get': () => ({
      payloadDir: PAYLOAD.dir,
      archiveDir: '/Volumes/NVME_VAULT/golden-atlas-img',
    }),
    'payload:check': more['payload:check'] ?? (() => PAYLOAD),
  });
  connect();
  await act(async () => useStore.getState().loadApp());
  render(<InsertScreen />);
  await screen.findByText('atlas-firstboot.service');
  return fake;
}

async function drop(name: string) {
  const file = new File(['x'], name);
  await act(async () => fireEvent.drop(screen.getByTestId('drop-zone'), { dataTransfer: { files: [file] } }));
}

function finishInspection(fake: FakeAtlas, result: InspectionDto) {
  act(() =>
    fake.job({
      type: 'done',
      jobId: 'job-inspect',
      outcome: { kind: 'inspect', result },
      endedAt: new Date().toISOString(),
    }),
  );
}

describe('InsertScreen', () => {
  it('inspects a dropped base image, shows what it is, and builds with the shown inputs', async () => {
    const fake = await setup();
    await drop('Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal.img');
    expect(fake.callsOf('jobs:start')).toEqual([
      [
        {
          kind: 'inspect',
          path: '/Users/me/Downloads/Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal.img',
        },
      ],
    ]);
    const build = screen.getByRole('button', { name: 'Build golden image' }) as HTMLButtonElement;
    expect(build.disabled).toBe(true);
    finishInspection(
      fake,
      inspection('base', 'base Armbian image (no Atlas payload): input of Phase 0 Insert'),
    );
    expect(screen.getByTestId('inspection-state').textContent).toMatch(/base Armbian image/);
    expect(screen.getByText('armbi_root')).toBeTruthy();

    fireEvent.change(screen.getByLabelText('Version'), { target: { value: '9.1.7' } });
    fireEvent.change(screen.getByLabelText('Tag'), { target: { value: 'ORIGIN' } });
    await waitFor(() =>
      expect(screen.getByTestId('output-name').textContent).toBe('ods-atlas-golden-v9-1-7-ORIGIN.img'),
    );
    await waitFor(() => expect(build.disabled).toBe(false));
    await act(async () => fireEvent.click(build));
    expect(fake.callsOf('jobs:start').at(-1)).toEqual([
      {
        kind: 'insert',
        base: '/Users/me/Downloads/Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal.img',
        payload: PAYLOAD.payloadDir,
        version: '9.1.7',
        tag: 'ORIGIN',
      },
    ]);
  });

  it('refuses to build from an image that is not a base Armbian image, and says why', async () => {
    const fake = await setup();
    await drop('ods-card-backup.img');
    finishInspection(fake, inspection('provisioned', 'provisioned card (Phase 1 first boot complete)'));
    expect(screen.getByRole('alert').textContent).toMatch(
      /Not a base Armbian image.*clone or shrink a provisioned card/s,
    );
    expect((screen.getByRole('button', { name: 'Build golden image' }) as HTMLButtonElement).disabled).toBe(
      true,
    );
    expect(screen.getByText(/Waiting for .*a base Armbian image \(this one is not\)/)).toBeTruthy();
  });

  it('takes only images: .img, .img.xz, .img.gz and .img.zst', async () => {
    const fake = await setup();
    await drop('photo.jpg');
    expect(screen.getByRole('alert').textContent).toMatch(
      /photo.jpg is not an .img, .img.xz, .img.gz or .img.zst file/,
    );
    expect(fake.callsOf('jobs:start')).toEqual([]);
    await drop('Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal.img.zst');
    expect(fake.callsOf('jobs:start')).toEqual([
      [
        {
          kind: 'inspect',
          path: '/Users/me/Downloads/Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal.img.zst',
        },
      ],
    ]);
  });

  it('imports atlas_secrets.conf into the encrypted store, shows only its setting names, and can forget it', async () => {
    let stored = false;
    const imported = {
      ...NO_SECRETS,
      stored: true,
      keys: ['ROOT_PASSWORD', 'WIFI_PSK'],
      hasRootPassword: true,
      importedAt: '2026-11-26T10:00:00.000Z',
      importedFrom: '/Users/me/Downloads/atlas_secrets.conf',
    };
    const fake = await setup({
      'dialog:open-file': (purpose) =>
        purpose === 'secrets' ? '/Users/me/Downloads/atlas_secrets.conf' : null,
      'secrets:status': () => (stored ? imported : NO_SECRETS),
      'secrets:import': () => {
        stored = true;
        return imported;
      },
      'secrets:forget': () => {
        stored = false;
        return NO_SECRETS;
      },
      'payload:check': () =>
        stored
          ? {
              ...PAYLOAD,
              secrets: { ...PAYLOAD.secrets, path: null, where: 'imported (encrypted)', keys: imported.keys },
            }
          : PAYLOAD,
    });
    const panel = await screen.findByTestId('secrets-panel');
    expect(panel.textContent).toMatch(/none imported.*in clear/);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Import secrets…' })));
    expect(fake.callsOf('dialog:open-file')).toEqual([['secrets']]);
    expect(fake.callsOf('secrets:import')).toEqual([['/Users/me/Downloads/atlas_secrets.conf']]);
    await waitFor(() => expect(panel.textContent).toMatch(/encrypted with the macOS Keychain/));
    expect(panel.textContent).toMatch(/settings ROOT_PASSWORD, WIFI_PSK \(values never shown\)/);
    expect(panel.textContent).toMatch(/plain copy at \/Users\/me\/Downloads\/atlas_secrets.conf/);
    const list = screen.getByRole('list', { name: 'Payload files' });
    await waitFor(() => expect(list.textContent).toMatch(/imported \(encrypted\) — settings ROOT_PASSWORD/));

    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Forget secrets' })));
    expect(fake.callsOf('secrets:forget')).toEqual([[]]);
    await waitFor(() => expect(panel.textContent).toMatch(/none imported/));
    await waitFor(() => expect(list.textContent).toMatch(/in the library/));
  });

  it('says so when the system cannot encrypt, and keeps Import disabled', async () => {
    await setup({
      'secrets:status': () => ({
        ...NO_SECRETS,
        encryptionAvailable: false,
        protectedBy: 'the basic_text keyring',
      }),
    });
    const panel = await screen.findByTestId('secrets-panel');
    expect(panel.textContent).toMatch(/offers no encryption/);
    expect((screen.getByRole('button', { name: 'Import secrets…' }) as HTMLButtonElement).disabled).toBe(
      true,
    );
  });
});
