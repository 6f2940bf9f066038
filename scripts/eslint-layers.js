/**
 * The layer rule (`atlas/layers` in eslint.config.js), after VS Code's `code-layering`: every
 * source folder has a rank, and a file may import from its own folder or from a folder of a lower
 * rank, never from a higher one or from a peer of the same rank. So no folder cycle can exist, and
 * the layout says the architecture:
 *
 *   common                   plain data, formats and schemas shared by every side; imports only
 *                            itself and valibot (the schema library: no Node, no I/O)
 *   core/*.ts                errors, paths, names
 *   core/<folder>            in the order of CORE below (tools … phases)
 *   ipc/contract             the shapes the app's services return and the transport carries
 *   app                      the app's services (library view, archive, jobs, VM, terminals…)
 *   privileged ipc cli bench the raw-disk helper, the app's transport, the CLI, the benchmark
 *   electron                 the Electron glue
 *   src-renderer             the UI: common and the IPC contract only (it has no Node access)
 *
 * The app's services are the desktop app's: the CLI, the helper and the benchmark do not import
 * them (APART); what the CLI shares with the app belongs in the core.
 */
import { dirname, relative, resolve, sep } from 'node:path';

const CORE = [
  'tools',
  'jobs',
  'images',
  'secrets',
  'checklist',
  'library',
  'nbd',
  'cards',
  'rawio/used-blocks',
  'rawio',
  'write',
  'card-io',
  'builder',
  'lima',
  'phases',
];

/** [folder, rank], most specific first. */
const FOLDERS = [
  ['src-main/common', 0],
  ...CORE.map((f, i) => [`src-main/core/${f}`, 2 + i]),
  ['src-main/core', 1],
  ['src-main/ipc/contract', 80],
  ['src-main/app', 90],
  ['src-main/privileged', 100],
  ['src-main/ipc', 100],
  ['src-main/cli', 100],
  ['bench', 100],
  ['src-main/electron', 200],
].sort((a, b) => b[0].length - a[0].length);

/** [folder, folder it may not import although of a lower rank]. */
const APART = [
  ['src-main/cli', 'src-main/app'],
  ['src-main/privileged', 'src-main/app'],
  ['bench', 'src-main/app'],
];

/** The packages src-main/common may import: pure, with no Node or I/O. */
const COMMON_MAY_IMPORT = ['valibot'];

/** What the renderer may import from outside its folder. */
const RENDERER_MAY_IMPORT = ['src-main/common/', 'src-main/ipc/contract'];

function folderOf(file) {
  for (const [folder, rank] of FOLDERS) {
    // A folder, or a single file given its own rank (its name without the extension).
    if (file === folder || file.startsWith(`${folder}/`) || file.startsWith(`${folder}.`)) {
      const rest = file.slice(folder.length + 1);
      // A folder of the core must have its place in CORE.
      if (folder === 'src-main/core' && rest.includes('/'))
        return { folder: `src-main/core/${rest.split('/')[0]}`, rank: NaN };
      return { folder, rank };
    }
  }
  return undefined;
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports follow the layers of the source tree' },
    schema: [],
    messages: {
      up: '{{from}} may not import from {{to}} (a higher layer): move the shared part down',
      peer: '{{from}} may not import from its peer {{to}}: move the shared part down, or to src-main/common',
      common: 'src-main/common imports nothing but itself and valibot (plain data and schemas only)',
      apart:
        "{{from}} may not import from {{to}}: the app's services are the desktop app's; move what both need to the core",
      unlisted: '{{folder}} has no layer: give it its place in CORE (scripts/eslint-layers.js)',
      renderer: 'the renderer imports only src-main/common and src-main/ipc/contract, not {{to}}',
    },
  },
  create(context) {
    const root = context.cwd ?? process.cwd();
    const here = relative(root, context.filename).split(sep).join('/');
    const from = folderOf(here);
    if (from && Number.isNaN(from.rank)) {
      return {
        Program: (node) => context.report({ node, messageId: 'unlisted', data: { folder: from.folder } }),
      };
    }
    const inRenderer = here.startsWith('src-renderer/') && !/\/vite[^/]*\.config\.ts$/.test(here);
    if (!from && !inRenderer) return {};

    function check(node, spec) {
      if (typeof spec !== 'string') return;
      if (!spec.startsWith('.')) {
        if (from?.folder === 'src-main/common' && !COMMON_MAY_IMPORT.includes(spec))
          context.report({ node, messageId: 'common' });
        return;
      }
      const target = relative(root, resolve(dirname(context.filename), spec))
        .split(sep)
        .join('/');
      if (inRenderer) {
        if (target.startsWith('src-renderer/')) return;
        if (RENDERER_MAY_IMPORT.some((p) => target.startsWith(p))) return;
        context.report({ node, messageId: 'renderer', data: { to: target } });
        return;
      }
      const to = folderOf(target);
      if (!to || to.folder === from.folder) return;
      if (from.folder === 'src-main/common') context.report({ node, messageId: 'common' });
      else if (APART.some(([f, t]) => f === from.folder && t === to.folder))
        context.report({ node, messageId: 'apart', data: { from: from.folder, to: to.folder } });
      else if (to.rank > from.rank)
        context.report({ node, messageId: 'up', data: { from: from.folder, to: to.folder } });
      else if (to.rank === from.rank)
        context.report({ node, messageId: 'peer', data: { from: from.folder, to: to.folder } });
    }

    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
    };
  },
};

export default { rules: { layers: rule } };
