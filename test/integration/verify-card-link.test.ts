// A card given as a symlink to an image file is the image it leads to, for verify as for inspect
// and shrink: its size is the image's, not the link's (run for real as root on a provisioned card).
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { fixture, removeScratch, scratch } from '../helpers/fixtures.js';

afterAll(() => removeScratch());

describe('a card given as a symlink', () => {
  it('verify reads the image the link leads to, as inspect does', async () => {
    const link = join(scratch('verify-link'), 'card.img');
    symlinkSync(fixture('provisioned'), link);
    const inspect = await odsSd(['inspect', link]);
    expect(inspect.code, inspect.stderr).toBe(0);
    const r = await odsSd(['verify', link]);
    expect(r.json.error?.message ?? '').not.toContain('truncated');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
  });
});
