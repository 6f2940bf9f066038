/**
 * `ods-sd list`: the library's golden images, clone sets and clone images, then the clone sets found
 * elsewhere (tools/ods-sd's clones folder, the lab's ~/atlas-build, places added with `places add`),
 * each with where it lives and whether it was checked.
 */
import { listLibrary } from '../../core/library/library.js';
import { allSets } from '../../core/library/set-places.js';
import { setRecord } from '../../core/phases/set-elsewhere.js';
import { defineCommand } from '../command.js';
import { bytes, shown, table } from '../format.js';

const PLACE_TEXT = {
  library: 'the library',
  added: 'added place',
  'ods-sd': 'tools/ods-sd clones',
  lab: 'lab (~/atlas-build)',
};

export const listCommand = defineCommand({
  name: 'list',
  summary: 'golden images, clone sets and clone images in the library, and clone sets found elsewhere',
  odsSdForm: 'list   (their clones/ folder is listed too, under "Clone sets elsewhere")',
  positionals: [],
  options: {},
  run: async ({ env }) => {
    const library = (await env()).library;
    const own = await listLibrary(library);
    const elsewhere = [];
    for (const s of await allSets(library)) {
      if (s.place.kind === 'library') continue;
      elsewhere.push({ ...s, checked: (await setRecord(library, s)) !== undefined });
    }
    return { ...own, elsewhere };
  },
  human: (x) => {
    const parts: string[] = [];
    if (x.entries.length === 0) parts.push('The library is empty.');
    else {
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
      parts.push(table(rows));
    }
    const damaged = x.entries
      .filter((e) => e.damaged)
      .map((e) => `\n  ${shown(e.name)}: damaged: ${shown(e.damaged!)}`)
      .join('');
    if (damaged) parts.push(`Damaged (not to be trusted as they are):${damaged}`);
    if (x.unfinished.length) parts.push(`Unfinished (not artifacts): ${x.unfinished.map(shown).join(', ')}`);
    if (x.elsewhere.length) {
      const rows = [['name', 'size', 'date', 'state', 'where']];
      for (const s of x.elsewhere) {
        rows.push([
          s.name,
          bytes(s.bytes),
          s.modifiedAt.slice(0, 16).replace('T', ' '),
          s.missing.length
            ? `incomplete (${s.missing.join(', ')} missing)`
            : s.checked
              ? 'checked'
              : 'not checked yet',
          `${s.path} (${PLACE_TEXT[s.place.kind]})`,
        ]);
      }
      parts.push(
        `Clone sets elsewhere (restore them by name or path; 'ods-sd adopt' copies one into the library):\n${table(rows)}`,
      );
    }
    return parts.join('\n');
  },
});
