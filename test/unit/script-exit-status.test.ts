import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, SCRIPT_CODES, errorCodeOfScript } from '../../src-main/common/error-codes.js';
import { exitStatusBlock, SCRIPTS, withBlock } from '../../scripts/sh-blocks.mjs';
import { ROOT } from '../helpers/fixtures.js';

/** Every code a script may fail with, and one no table knows. */
const CODES = [...Object.keys(ERROR_CODES), ...Object.keys(SCRIPT_CODES), 'restore'];

describe('the builder scripts exit status, from ERROR_CODES', () => {
  const block = exitStatusBlock(ERROR_CODES, SCRIPT_CODES);

  it.each(SCRIPTS)('%s carries the block written from the table (npm run build writes it)', (rel) => {
    const text = readFileSync(join(ROOT, rel), 'utf8');
    expect(withBlock(text, block, rel)).toBe(text);
  });

  it('exits 2 exactly for the codes whose error is the input fault', () => {
    const script = `${block}\nfor c in "$@"; do printf '%s=%s\\n' "$c" "$(atlas_exit_status "$c")"; done`;
    const r = spawnSync('bash', ['-euc', script, 'bash', ...CODES], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const expected = CODES.map((c) => `${c}=${ERROR_CODES[errorCodeOfScript(c)].input ? 2 : 1}`);
    expect(r.stdout.trim().split('\n')).toEqual(expected);
    expect(expected).toContain('not-found=2');
    expect(expected).toContain('tool-failed=1');
  });

  it('withBlock refuses a script without the block', () => {
    expect(() => withBlock('#!/bin/bash\n', block, 'x.sh')).toThrow(/no atlas_exit_status block/);
  });
});
