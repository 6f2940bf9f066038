// @vitest-environment jsdom
// Errors where they belong: a field's error under that field, tied to it for a screen reader, the
// same on every screen; no "already exists" for the file the screen's job has just made; a
// disabled button says what it waits for.
import { act, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { CloneScreen } from '../../src-renderer/components/clone-screen';
import { InsertScreen } from '../../src-renderer/components/insert-screen';
import { ShrinkScreen } from '../../src-renderer/components/shrink-screen';
import { FlashScreen } from '../../src-renderer/components/flash-screen';
import { useStore } from '../../src-renderer/store/store';
import type { OutputPlan } from '../../src-main/common/contract';
import { installFakeAtlas } from './fake-atlas';
import { connect } from './setup';

const BAD_TAG = {
  code: 'bad-input',
  message: 'invalid tag "my tag"',
  hint: 'a tag is letters, digits and dashes, for example FLASH',
};

/** The error the field with this accessible name is described by, or null when it is valid. */
function fieldError(name: string): string | null {
  const input = screen.getByRole('textbox', { name });
  if (input.getAttribute('aria-invalid') !== 'true') return null;
  const id = input.getAttribute('aria-describedby');
  return id ? (document.getElementById(id)?.textContent ?? '') : '';
}

describe('field errors', () => {
  it('Clone: a tag with spaces is an error under the tag field, not "Something went wrong"', async () => {
    installFakeAtlas({
      'names:next-set': (tag) => {
        if (/\s/.test(tag)) throw BAD_TAG;
        return { previous: null, next: `v1-0-0-${tag}` };
      },
    });
    connect();
    render(<CloneScreen />);
    await act(async () => useStore.getState().setCloneTag('my tag'));
    expect(fieldError('Clone tag')).toBe(`${BAD_TAG.message} — ${BAD_TAG.hint}`);
    expect(screen.queryByText('Something went wrong')).toBeNull();
    expect(fieldError('Clone set name')).toBeNull();
    await act(async () => useStore.getState().setCloneTag('FLASH'));
    expect(fieldError('Clone tag')).toBeNull();
  });

  it('Insert and Shrink: a wrong version is shown under the version field', async () => {
    const bad: OutputPlan = {
      name: '',
      path: '',
      exists: false,
      field: 'version',
      error: { code: 'bad-input', message: 'invalid version "9.x"' },
    };
    installFakeAtlas({ 'names:plan': () => bad });
    connect();
    const insert = render(<InsertScreen />);
    await act(async () => useStore.getState().setInsertName('version', '9.x'));
    expect(fieldError('Version')).toBe('invalid version "9.x"');
    expect(fieldError('Tag')).toBeNull();
    insert.unmount();
    render(<ShrinkScreen />);
    await act(async () => useStore.getState().setShrinkName('version', '9.x'));
    expect(fieldError('Clone image version')).toBe('invalid version "9.x"');
  });

  it('Shrink: the image its own job has just made is not "already exists"', async () => {
    const path = '/Users/me/atlas-build/ods-atlas-clone-v9-1-8-FLASH.img';
    let exists = false;
    const fake = installFakeAtlas({
      'names:plan': () => ({ name: 'ods-atlas-clone-v9-1-8-FLASH.img', path, exists }),
    });
    connect();
    render(<ShrinkScreen />);
    await act(async () => useStore.getState().loadShrinkDefaults());
    useStore.setState((s) => ({
      shrink: { ...s.shrink, shrinkJobId: 'job-shrink', card: null },
      jobs: {
        'job-shrink': {
          id: 'job-shrink',
          kind: 'shrink',
          title: 'Shrink',
          request: { kind: 'shrink', card: '/dev/disk4', version: '9.1.8', tag: 'FLASH', force: false },
          state: 'running',
          startedAt: new Date().toISOString(),
          endedAt: null,
          steps: [],
          progress: null,
          log: [],
          outcome: null,
          error: null,
        },
      },
    }));
    exists = true;
    act(() =>
      fake.job({
        type: 'done',
        jobId: 'job-shrink',
        endedAt: new Date().toISOString(),
        outcome: {
          kind: 'shrink',
          result: {
            image: path,
            bytes: 3e9,
            bmap: `${path.slice(0, -4)}.bmap`,
            sha256: 'ab'.repeat(32),
            passes: [],
            rootStart: 532480,
            rootSectors: 5e6,
            resizeService: 'enabled',
            compression: 'none',
          } as never,
        },
      }),
    );
    await act(async () => useStore.getState().planShrink());
    await waitFor(() => expect(screen.getByText(/Made by the job below/)).toBeTruthy());
    expect(screen.queryByText(/already exists/)).toBeNull();
  });

  it('a disabled button says what it waits for', async () => {
    installFakeAtlas();
    connect();
    render(<FlashScreen />);
    const button = screen.getByRole('button', { name: /^Flash/ });
    expect(button.hasAttribute('disabled')).toBe(true);
    const why = document.getElementById(button.getAttribute('aria-describedby') ?? '');
    expect(why?.textContent).toBe('Waiting for an image, a card ticked.');
  });
});
