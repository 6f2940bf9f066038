// @vitest-environment jsdom
// The library shows values from a manifest with their control characters escaped, and says which
// set is damaged (its manifest could not be trusted).
import { render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { LibraryScreen } from '../../src-renderer/components/library-screen';
import type { LibraryView } from '../../src-main/common/contract';
import { EMPTY_LIBRARY, installFakeAtlas } from './fake-atlas';
import { connect } from './setup';

const VIEW: LibraryView = {
  ...EMPTY_LIBRARY,
  items: [
    {
      name: 'golden-clone-escapes',
      path: '/Users/me/atlas-build/golden-clone-escapes',
      kind: 'clone-set',
      phase: 1,
      bytes: 1,
      modifiedAt: '2026-03-01T12:30:00.000Z',
      hasManifest: true,
      archived: false,
      staged: false,
      version: '\u001b[2J',
      tag: 'x\nFAKE LINE\u202e',
    },
    {
      name: 'golden-clone-types',
      path: '/Users/me/atlas-build/golden-clone-types',
      kind: 'clone-set',
      phase: 1,
      bytes: 1,
      modifiedAt: '2026-03-01T12:30:00.000Z',
      hasManifest: false,
      archived: false,
      staged: false,
      damaged: 'manifest.json: version: expected a string',
    },
  ],
};

describe('LibraryScreen with values from a received manifest', () => {
  it('escapes control characters and marks a damaged set', async () => {
    installFakeAtlas({ 'library:list': () => VIEW });
    connect();
    render(<LibraryScreen />);
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(3));
    const [escapes, types] = screen.getAllByRole('row').slice(1);
    expect(escapes!.textContent).toContain('\\x1b[2J');
    expect(escapes!.textContent).toContain('x\\nFAKE LINE\\u{202e}');
    // eslint-disable-next-line no-control-regex
    expect(escapes!.textContent).not.toMatch(/[\u0000-\u001f\u202e]/);
    expect(types!.textContent).toContain('damaged: manifest.json: version: expected a string');
  });
});
