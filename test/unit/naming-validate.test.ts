import { describe, expect, it } from 'vitest';
import {
  cloneImageName,
  cloneSetDirName,
  goldenImageName,
  parseArtifactName,
  suggestNextSetName,
} from '../../src-main/core/naming.js';
import { validateName, validateTag, validateVersion } from '../../src-main/core/validate.js';

describe('artifact names', () => {
  it('formats the seed names', () => {
    expect(goldenImageName('9.1.7', 'ORIGIN')).toBe('ods-atlas-golden-v9-1-7-ORIGIN.img');
    expect(goldenImageName('7.11', 'OPENBOX')).toBe('ods-atlas-golden-v7-11-OPENBOX.img');
    expect(cloneImageName('8.0.6', 'FLASH')).toBe('ods-atlas-clone-v8-0-6-FLASH.img');
    expect(cloneSetDirName('v8-1-0-FEATURE')).toBe('golden-clone-v8-1-0-FEATURE');
    expect(cloneSetDirName('golden-clone-my-backup')).toBe('golden-clone-my-backup');
  });

  it('tells the phase from a name', () => {
    expect(parseArtifactName('ods-atlas-golden-v9-1-7-ORIGIN.img')).toEqual({
      kind: 'golden-image',
      phase: 0,
      version: '9.1.7',
      tag: 'ORIGIN',
    });
    expect(parseArtifactName('ods-atlas-clone-v8-0-6-FLASH.img')).toEqual({
      kind: 'clone-image',
      phase: 2,
      version: '8.0.6',
      tag: 'FLASH',
    });
    expect(parseArtifactName('golden-clone-v8-1-0-FEATURE')).toMatchObject({
      kind: 'clone-set',
      phase: 1,
      version: '8.1.0',
      tag: 'FEATURE',
    });
    expect(parseArtifactName('golden-clone-my-backup')).toEqual({
      kind: 'clone-set',
      phase: 1,
      name: 'my-backup',
    });
    expect(parseArtifactName('Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal.img')).toBeUndefined();
    expect(parseArtifactName('ods-atlas-golden-v1-2-3-TAG.img.partial')).toBeUndefined();
  });

  it('suggests the next safety-net name', () => {
    expect(suggestNextSetName('golden-clone-v8-0-6-FLASH', 'FEATURE')).toBe('v8-0-7-FEATURE');
    expect(suggestNextSetName(undefined, 'FIRST')).toBe('v1-0-0-FIRST');
  });
});

describe('validation of values that name files', () => {
  const hostile = ['', 'a b', '"q"', "it's", 'a;b', '$(id)', '`id`', '../x', 'a/b', 'x\ny', '-rf'];
  it.each(hostile)('refuses the tag %j', (t) => expect(() => validateTag(t)).toThrow(/invalid tag/));
  it.each(hostile)('refuses the name %j', (n) => expect(() => validateName(n)).toThrow(/invalid name/));
  it('accepts ordinary values', () => {
    expect(validateTag('FEATURE_2')).toBe('FEATURE_2');
    expect(validateName('v8-1-0-FEATURE')).toBe('v8-1-0-FEATURE');
    expect(validateName('my-backup.2026')).toBe('my-backup.2026');
    expect(validateVersion('9.1.7')).toBe('9.1.7');
  });
  it.each(['', '1.2.3.4', 'v1', '1..2', '1.2.x'])('refuses the version %j', (v) =>
    expect(() => validateVersion(v)).toThrow(/invalid version/),
  );
  it('errors carry a hint and the input exit code', () => {
    try {
      validateTag('a b');
    } catch (e) {
      expect(e).toMatchObject({ code: 'bad-input', exitCode: 2 });
      expect((e as { hint: string }).hint).toMatch(/letters/);
    }
  });
});
