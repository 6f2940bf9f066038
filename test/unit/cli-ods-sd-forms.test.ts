// The forms the user's own tools/ods-sd takes (`insert BASE OUT`, `clone CARD` without a name,
// `restore CARD NAME` of one of their sets) are accepted where they are unambiguous, checked as ours
// are, and the help says which form is theirs and which is ours.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { insertPayload, insertTarget } from '../../src-main/cli/commands/insert-target.js';
import { dateCloneName } from '../../src-main/core/library/ods-sd-layout.js';
import { odsSdInProcess as odsSd } from '../helpers/cli-in-process.js';

const tmp = mkdtempSync(join(tmpdir(), 'ods-sd-forms-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('insert BASE OUT (tools/ods-sd) beside insert BASE --version --tag (ours)', () => {
  it('takes the version, tag and folder from OUT when it is named as a golden image', () => {
    expect(insertTarget('/work/out/ods-atlas-golden-v9-1-7-FEATURE.img', {})).toEqual({
      version: '9.1.7',
      tag: 'FEATURE',
      outDir: '/work/out',
    });
    // Ours, unchanged.
    expect(insertTarget(undefined, { version: '1.2.3', tag: 'T' })).toEqual({ version: '1.2.3', tag: 'T' });
  });

  it('refuses an OUT whose name says no version, and mixed forms that disagree', () => {
    expect(() => insertTarget('out.img', {})).toThrow(/out.img is not a golden image's name/);
    expect(() => insertTarget('/o/ods-atlas-golden-v9-1-7-FEATURE.img', { version: '9.1.8' })).toThrow(
      /--version 9.1.8 disagrees with OUT's name \(9.1.7\)/,
    );
    expect(() => insertTarget('/o/ods-atlas-golden-v9-1-7-FEATURE.img', { outDir: '/elsewhere' })).toThrow(
      /--out-dir \/elsewhere disagrees with OUT's folder \/o/,
    );
    expect(() =>
      insertTarget('/o/ods-atlas-golden-v9-1-7-FEATURE.img', { version: '9.1.7', tag: 'FEATURE' }),
    ).not.toThrow();
    expect(() => insertTarget(undefined, { version: '1.0.0' })).toThrow(
      /needs --version and --tag, or the output image OUT/,
    );
  });

  it('without --payload, uses the checkout tools/ods-sd runs from, when it is there', () => {
    const home = join(tmp, 'home');
    expect(() => insertPayload(undefined, home)).toThrow(/insert needs --payload/);
    mkdirSync(join(home, 'Documents', 'GitHub', 'ods-player-os-atlas'), { recursive: true });
    expect(insertPayload(undefined, home)).toBe(join(home, 'Documents', 'GitHub', 'ods-player-os-atlas'));
    expect(insertPayload('/mine', home)).toBe('/mine');
  });

  it('is a usage error from the CLI, before anything is read', async () => {
    const r = await odsSd(['insert', 'base.img', 'golden.img', '--payload', tmp, '--json']);
    expect(r.code).toBe(2);
    expect(r.json.error.message).toBe(
      "insert: golden.img is not a golden image's name, so its version and tag are unknown",
    );
    expect(r.json.error.hint).toContain('ods-atlas-golden-v9-1-7-FEATURE.img');
  });
});

describe('clone CARD without a NAME', () => {
  it('names the set from the date, as tools/ods-sd does (clone-YYYYMMDD_HHMMSS)', () => {
    expect(dateCloneName(new Date(2026, 2, 5, 9, 4, 7))).toBe('clone-20260305_090407');
  });

  it('is no longer a usage error', async () => {
    const r = await odsSd(['clone', join(tmp, 'no-such-card.img'), '--json']);
    expect(r.json.error.code).not.toBe('usage');
  });
});

describe('--help says which form is theirs and which is ours', () => {
  it.each([
    ['insert', 'insert BASE OUT'],
    ['clone', 'clone CARD   (no NAME'],
    ['restore', 'restore CARD NAME   (NAME may be one of their sets'],
  ])('%s --help', async (name, theirs) => {
    const r = await odsSd([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\n {2}ours: {10}ods-sd /);
    expect(r.stdout).toContain(`  tools/ods-sd:  ods-sd ${theirs}`);
    const all = await odsSd(['--help']);
    expect(all.stdout).toContain(`tools/ods-sd's form, accepted too: ods-sd ${theirs}`);
  });
});
