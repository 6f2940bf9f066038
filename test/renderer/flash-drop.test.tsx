// @vitest-environment jsdom
// Flash takes a dropped image (compressed ones too) and remembers the last image it was given.
import { act, fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { FlashScreen } from '../../src-renderer/components/flash-screen';
import { resetStore, useStore } from '../../src-renderer/store/store';
import { installFakeAtlas } from './fake-atlas';
import { connect } from './setup';

async function drop(name: string) {
  const file = new File(['x'], name);
  await act(async () => fireEvent.drop(screen.getByTestId('drop-zone'), { dataTransfer: { files: [file] } }));
}

describe('Flash image', () => {
  it('takes a dropped .img.gz, refuses a file that is not an image, and remembers the last image', async () => {
    installFakeAtlas();
    connect();
    const first = render(<FlashScreen />);
    await drop('notes.txt');
    expect(screen.getByRole('alert').textContent).toContain(
      'notes.txt is not an .img, .img.xz, .img.gz or .img.zst file',
    );
    expect(useStore.getState().flash.image).toBeNull();
    await drop('raspios-lite.img.gz');
    expect(useStore.getState().flash.image).toBe('/Users/me/Downloads/raspios-lite.img.gz');
    expect(screen.getByTestId('drop-zone').textContent).toContain('/Users/me/Downloads/raspios-lite.img.gz');

    // The app is opened again: the Flash screen starts with the image of last time.
    first.unmount();
    resetStore();
    render(<FlashScreen />);
    await act(async () => undefined);
    expect(useStore.getState().flash.image).toBe('/Users/me/Downloads/raspios-lite.img.gz');
  });
});
