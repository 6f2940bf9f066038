import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePartcloneProgress, parseScriptLine } from '../../src-main/core/builder/script-events.js';
import { ROOT } from '../helpers/fixtures.js';

describe('builder script protocol', () => {
  it('parses steps, progress, results, facts and failures', () => {
    expect(
      parseScriptLine('@@ATLAS step clone-root 167772160 Cloning the root partition (partclone.ext4)'),
    ).toEqual({
      kind: 'step',
      id: 'clone-root',
      totalBytes: 167772160,
      label: 'Cloning the root partition (partclone.ext4)',
    });
    expect(parseScriptLine('@@ATLAS progress 10 20')).toEqual({ kind: 'progress', done: 10, total: 20 });
    expect(parseScriptLine('@@ATLAS result injected /usr/local/bin/atlas_firstboot.sh 0755')).toEqual({
      kind: 'result',
      key: 'injected',
      value: '/usr/local/bin/atlas_firstboot.sh 0755',
    });
    expect(parseScriptLine('@@ATLAS fact p3 exists=1 type=file content=Mgo=')).toEqual({
      kind: 'fact',
      id: 'p3',
      fields: { exists: '1', type: 'file', content: 'Mgo=' },
    });
    expect(parseScriptLine('@@ATLAS fail too-small the card is too small')).toEqual({
      kind: 'fail',
      code: 'too-small',
      message: 'the card is too small',
    });
    expect(parseScriptLine('@@ATLAS part 1 8192 1048576 0xc vfat 4296704 RPICFG')).toEqual({
      kind: 'record',
      name: 'part',
      fields: ['1', '8192', '1048576', '0xc', 'vfat', '4296704', 'RPICFG'],
    });
    expect(parseScriptLine('plain log text')).toBeUndefined();
    expect(parseScriptLine('xx @@ATLAS step a 0 b')).toBeUndefined();
  });

  it('reads partclone progress from its real stderr (recorded), ignoring the bitmap pass', () => {
    const text = readFileSync(
      join(ROOT, 'test', 'fixtures', 'recorded', 'partclone-fat32-clone.stderr'),
      'utf8',
    );
    const fractions = text
      .split(/[\r\n]+/)
      .map(parsePartcloneProgress)
      .filter((f): f is number => f !== undefined);
    expect(fractions.length).toBeGreaterThanOrEqual(2);
    expect(fractions[fractions.length - 1]).toBe(1);
    // The bitmap pass says "Completed: 100.00%" without a Rate: it must not count as done.
    expect(
      parsePartcloneProgress('Elapsed: 00:00:01, Remaining: 00:00:00, Completed: 100.00%'),
    ).toBeUndefined();
    expect(
      parsePartcloneProgress('Elapsed: 00:00:09, Remaining: 00:00:03, Completed:  42.50%, Rate: 1.20GB/min,'),
    ).toBeCloseTo(0.425);
  });
});
