/** `ods-sd list`: the library's golden images, clone sets and clone images. */
import { listLibrary } from '../../core/library/library.js';
import { defineCommand } from '../command.js';
import { bytes, shown, table } from '../format.js';

export const listCommand = defineCommand({
  name: 'list',
  summary: 'golden images, clone sets and clone images in the library',
  positionals: [],
  options: {},
  run: async ({ env }) => listLibrary((await env()).library),
  human: (x) => {
    if (x.entries.length === 0) return 'The library is empty.';
    const rows = [['phase', 'kind', 'name', 'version', 'tag', 'size', 'date']];
    for (const e of x.entries) {
      rows.push([
        String(e.phase),
        e.kind,
        e.name,
        e.version ?? '',
        e.tag ?? '',
        bytes(e.bytes),
        e.modifiedAt.slice(0, 16).replace('T', ' '),
      ]);
    }
    const damaged = x.entries
      .filter((e) => e.damaged)
      .map((e) => `\n  ${shown(e.name)}: damaged: ${shown(e.damaged!)}`)
      .join('');
    const extra = x.unfinished.length
      ? `\nUnfinished (not artifacts): ${x.unfinished.map(shown).join(', ')}`
      : '';
    return table(rows) + (damaged ? `\nDamaged (not to be trusted as they are):${damaged}` : '') + extra;
  },
});
