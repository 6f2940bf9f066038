/** `ods-sd places`: where clone sets are looked for besides the library. */
import { addPlace, removePlace, setPlaces } from '../../core/library/set-places.js';
import { defineCommand } from '../command.js';

export const placesCommand = defineCommand({
  name: 'places',
  summary:
    "where clone sets are looked for: the library, tools/ods-sd's clones folder and ~/atlas-build when they exist, and folders added with --add",
  positionals: [],
  options: {
    add: { type: 'string', arg: 'DIR', help: 'look for clone sets in DIR too' },
    remove: { type: 'string', arg: 'DIR', help: 'stop looking in DIR' },
  },
  run: async ({ options, library }) => {
    if (options.add) await addPlace(library, options.add);
    if (options.remove) await removePlace(library, options.remove);
    return { places: await setPlaces(library) };
  },
  human: (x) => x.places.map((p) => `  ${p.path}  (${p.kind})`).join('\n'),
});
