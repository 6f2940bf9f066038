import { describe, expect, it } from 'vitest';
import { AtlasError } from '../../src-main/core/errors.js';
import { cloneSetDirName } from '../../src-main/core/naming.js';
import { cloneSetPath } from '../../src-main/core/phases/clone.js';
import { isUnfinished, reservedSuffixOf } from '../../src-main/common/reserved-names.js';
import { validateName } from '../../src-main/core/validate.js';
import { validateRequest } from '../../src-main/ipc/validate.js';
import { planOutput } from '../../src-main/app/names.js';

const card = { path: '/dev/sdc', kind: 'device', bytes: 32e9, node: 2080 };
const reserved = ['keep.partial', 'keep.Partial', 'a.bmap', 'b.img.manifest.json', 'c.lock'];

describe('names the library keeps for itself', () => {
  it.each(reserved)('the core refuses %j with a hint', (n) => {
    expect(() => validateName(n)).toThrow(/keeps for itself/);
    expect(() => cloneSetDirName(n)).toThrow(AtlasError);
    expect(() => cloneSetPath('/lib', n)).toThrow(/keeps for itself/);
  });

  it('a set given by path must not be unfinished output', () => {
    expect(() => cloneSetPath('/lib', '/vault/golden-clone-x.partial')).toThrow(/keeps for itself/);
    expect(cloneSetPath('/lib', '/vault/golden-clone-x')).toBe('/vault/golden-clone-x');
  });

  it('ordinary names with dots are still accepted', () => {
    expect(validateName('keep.partially')).toBe('keep.partially');
    expect(validateName('v8.1.0-FEATURE')).toBe('v8.1.0-FEATURE');
    expect(reservedSuffixOf('golden-clone-keep')).toBeUndefined();
  });

  it('unfinished output is told in any letter case', () => {
    expect(isUnfinished('golden-clone-keep.PARTIAL')).toBe(true);
    expect(isUnfinished('golden-clone-keep')).toBe(false);
  });

  it.each(['clone', 'restore'] as const)('IPC refuses a %s job on a reserved set name', (kind) => {
    const req = kind === 'clone' ? { kind, card, name: 'keep.partial' } : { kind, card, set: 'keep.partial' };
    expect(() => validateRequest('jobs:start', [req])).toThrow(/keeps for itself/);
    const ok = kind === 'clone' ? { kind, card, name: 'keep' } : { kind, card, set: 'keep' };
    expect(validateRequest('jobs:start', [ok])).toEqual([ok]);
  });

  it('the output plan shows the refusal before a job is started', async () => {
    const plan = await planOutput('/nonexistent-lib', { kind: 'clone-set', name: 'keep.partial' });
    expect(plan.error?.message).toMatch(/keeps for itself/);
  });
});
