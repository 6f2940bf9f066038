// filefrag -e's table read as byte ranges: the output below is e2fsprogs 1.47.0's, recorded on an
// ext4 file system (a written file, and the same file before write-back: ext4 reports dirty data
// as a delalloc extent with no physical place yet).
import { describe, expect, it } from 'vitest';
import { parseFilefrag } from '../../src-main/core/tools/file-extents.js';

const MiB = 1024 * 1024;
const HEADER = ' ext:     logical_offset:        physical_offset: length:   expected: flags:';

describe('parseFilefrag', () => {
  it('reads the extents in the unit its header names, merging ones that touch', () => {
    const text = [
      'Filesystem type is: ef53',
      'File size of /lib/x.img is 3883880448 (948213 blocks of 4096 bytes)',
      HEADER,
      '   0:        0..     255:   14551040..  14551295:    256:            ',
      '   1:      256..    2079:   14551296..  14553119:   1824:            ',
      '   2:   132096..  133375:   14556160..  14557439:   1280:   14683136: last',
      // Rows 0 and 1 lie one after the other on the disk too: filefrag counts them as one.
      '/lib/x.img: 2 extents found',
    ].join('\n');
    expect(parseFilefrag(text, 3883880448)).toEqual([
      { start: 0, end: 2080 * 4096 },
      { start: 132096 * 4096, end: 133376 * 4096 },
    ]);
  });

  it('takes a delalloc extent (dirty data) as data', () => {
    const text = [
      'Filesystem type is: ef53',
      'File size of ff.img is 67108864 (16384 blocks of 4096 bytes)',
      HEADER,
      '   0:     2560..    3327:          0..         0:      0:             last,unknown_loc,delalloc',
      'ff.img: 1 extent found',
    ].join('\n');
    expect(parseFilefrag(text, 64 * MiB)).toEqual([{ start: 10 * MiB, end: 13 * MiB }]);
  });

  it('clamps the last block to the file size', () => {
    const text = [
      'File size of t.img is 10485860 (2561 blocks of 4096 bytes)',
      HEADER,
      '   0:     2560..    2560:   900..    900:      1:             last,eof',
      't.img: 1 extent found',
    ].join('\n');
    expect(parseFilefrag(text, 10 * MiB + 100)).toEqual([{ start: 10 * MiB, end: 10 * MiB + 100 }]);
  });

  it('refuses what it does not understand: another size, rows missing, rows out of order', () => {
    const rows = [
      '   0:       10..      11:   1..   2:      2:',
      '   1:        0..       1:   3..   4:      2:',
    ];
    const text = (size: number, found: number, body: string[]) =>
      [
        `File size of f is ${size} (16 blocks of 4096 bytes)`,
        HEADER,
        ...body,
        `f: ${found} extents found`,
      ].join('\n');
    expect(parseFilefrag(text(65536, 1, rows.slice(0, 1)), 65537)).toBeUndefined();
    expect(parseFilefrag(text(65536, 2, rows.slice(0, 1)), 65536)).toBeUndefined();
    expect(
      parseFilefrag(text(65536, 1, rows.slice(0, 1)).replace(/\nf: 1 extents found$/, ''), 65536),
    ).toBeUndefined();
    expect(parseFilefrag(text(65536, 2, rows), 65536)).toBeUndefined();
    expect(parseFilefrag('FIBMAP: Inappropriate ioctl for device', 65536)).toBeUndefined();
  });
});
