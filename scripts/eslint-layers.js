/**
 * The layer rule (`atlas/layers` in eslint.config.js), after VS Code's `code-layering`: every
 * source folder has a rank, and a file may import from its own folder or from a folder of a lower
 * rank, never from a higher one or from a peer of the same rank. So no folder cycle can exist, and
 * the layout says the architecture:
 *
 *   common                   plain data, formats and schemas shared by every side, the IPC
 *                            contract among them (common/contract: the shapes the app's services
 *                            return and the transport carries); imports only itself and valibot
 *                            (the schema library: no Node, no I/O)
 *   core/*.ts                errors, paths, names
 *   core/<folder>            in the order of CORE below (tools … phases)
 *   app                      the app's services (library view, archive, jobs, VM, terminals…),
 *                            below the transport: they take the contract from common, never ipc
 *   privileged ipc cli bench the raw-disk helper, the app's transport, the CLI, the benchmark
 *   electron                 the Electron glue
 *   src-renderer             the UI: src-main/common only, the IPC contract included (it has no
 *                            Node access)
 *
 * The app's services are the desktop app's: the CLI, the helper and the benchmark do not import
 * them (APART); what the CLI shares with the app belongs in the core.
 *
 * Inside one folder (a layer: core/cards with its platform/ is one) the files may import each
 * other, but not in a circle: a file whose value import leads, through the folder's other files,
 * back to itself is refused. `import type` and `export type` (and imports whose every name is a
 * type) do not count: they are gone when the code runs. So a folder keeps a shape like Raspberry
 * Pi Imager's: a leaf of types and constants, what builds on it, and what asks that.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
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

/** What the renderer may import from outside its folder: src-main/common, the IPC contract included. */
const RENDERER_MAY_IMPORT = ['src-main/common/'];

/** The folder a file belongs to for the circle check: its layer's, or the renderer's. */
function circleFolderOf(file) {
  if (file.startsWith('src-renderer/')) return 'src-renderer';
  const f = folderOf(file);
  return f && !Number.isNaN(f.rank) ? f.folder : undefined;
}

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

// --- import circles inside one folder ---------------------------------------------------------------

/** Whether an import or export declaration loads its module when the code runs. */
function isValueImport(node) {
  if (node.type === 'ImportExpression') return true;
  if (node.importKind === 'type' || node.exportKind === 'type') return false;
  const names = node.specifiers ?? [];
  // `import { type A, type B } from`: every name a type, the import is gone when compiled.
  const typeOnly = (s) => s.importKind === 'type' || s.exportKind === 'type';
  return names.length === 0 || !names.every(typeOnly);
}

/** The source file a relative specifier names: `./x.js` is x.ts (or .tsx), `./x` x.ts or x/index.ts. */
function resolveSource(fromFile, spec) {
  const base = resolve(dirname(fromFile), spec);
  const stem = base.replace(/\.(m?js|jsx)$/, '');
  for (const candidate of [`${stem}.ts`, `${stem}.tsx`, `${stem}/index.ts`, `${stem}/index.tsx`, base]) {
    if (/\.[mc]?[jt]sx?$/.test(candidate) && existsSync(candidate) && statSync(candidate).isFile())
      return candidate;
  }
  return undefined;
}

/** Every node of an ESTree tree below `node`, depth first. */
function* nodesOf(node) {
  if (!node || typeof node.type !== 'string') return;
  yield node;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'parent' || key === 'loc' || key === 'range') continue;
    if (Array.isArray(value)) for (const v of value) yield* nodesOf(v);
    else if (value && typeof value === 'object') yield* nodesOf(value);
  }
}

/** The relative specifiers of a program's value imports (static, re-exports and import()). */
function valueSpecifiers(program) {
  const out = [];
  for (const node of nodesOf(program)) {
    const isImport =
      node.type === 'ImportDeclaration' ||
      node.type === 'ExportAllDeclaration' ||
      (node.type === 'ExportNamedDeclaration' && node.source) ||
      node.type === 'ImportExpression';
    const spec = isImport && node.source?.type === 'Literal' ? node.source.value : undefined;
    if (typeof spec === 'string' && spec.startsWith('.') && isValueImport(node)) out.push(spec);
  }
  return out;
}

/** A file's value imports as read from disk, parsed once per version of the file. */
const onDisk = new Map();

function importsOnDisk(file, parser) {
  let st;
  try {
    st = statSync(file);
  } catch {
    return [];
  }
  const known = onDisk.get(file);
  if (known && known.mtimeMs === st.mtimeMs && known.size === st.size) return known.targets;
  let targets = [];
  try {
    const options = { ecmaVersion: 'latest', sourceType: 'module', filePath: file };
    const text = readFileSync(file, 'utf8');
    const ast = parser.parseForESLint
      ? parser.parseForESLint(text, options).ast
      : parser.parse(text, options);
    targets = valueSpecifiers(ast)
      .map((spec) => resolveSource(file, spec))
      .filter((t) => t !== undefined);
  } catch {
    // A file that does not parse is reported by the parser itself when it is linted.
  }
  onDisk.set(file, { mtimeMs: st.mtimeMs, size: st.size, targets });
  return targets;
}

/**
 * The files on the way from `start` back to `home` through value imports inside `folder` (absolute
 * paths, `start` first), or undefined when there is none.
 */
function wayBack(start, home, folder, root, parser) {
  const inFolder = (file) => circleFolderOf(relative(root, file).split(sep).join('/')) === folder;
  const cameFrom = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift();
    for (const next of importsOnDisk(file, parser)) {
      if (next === home) {
        const way = [file];
        for (let f = cameFrom.get(file); f !== undefined; f = cameFrom.get(f)) way.unshift(f);
        return way;
      }
      if (cameFrom.has(next) || !inFolder(next)) continue;
      cameFrom.set(next, file);
      queue.push(next);
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
      renderer: 'the renderer imports only src-main/common (the IPC contract included), not {{to}}',
      circle:
        'import circle inside {{folder}}: {{circle}}; move the shared part down (a leaf of types and constants) or pass it in; a type alone is `import type`',
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

    // This file's value imports inside its folder, checked for a way back once all are seen.
    const folder = circleFolderOf(here);
    const parser = context.languageOptions?.parser;
    const home = resolve(context.filename);
    const sameFolder = [];
    function noteForCircle(node, spec) {
      if (!folder || !parser || typeof spec !== 'string' || !spec.startsWith('.')) return;
      if (!isValueImport(node)) return;
      const target = resolveSource(home, spec);
      if (!target || target === home) return;
      if (circleFolderOf(relative(root, target).split(sep).join('/')) === folder)
        sameFolder.push({ node, target });
    }
    function reportCircles() {
      const name = (f) => relative(resolve(root, folder), f).split(sep).join('/');
      const reported = new Set();
      for (const { node, target } of sameFolder) {
        if (reported.has(target)) continue;
        const way = wayBack(target, home, folder, root, parser);
        if (!way) continue;
        reported.add(target);
        const circle = [home, ...way, home].map(name).join(' → ');
        context.report({ node, messageId: 'circle', data: { folder, circle } });
      }
    }

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

    const visit = (node, spec) => {
      check(node, spec);
      noteForCircle(node, spec);
    };
    return {
      ImportDeclaration: (n) => visit(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && visit(n, n.source.value),
      ExportAllDeclaration: (n) => visit(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && visit(n, n.source.value),
      'Program:exit': reportCircles,
    };
  },
};

export default { rules: { layers: rule } };
