// The layer rule (scripts/eslint-layers.js) run by ESLint itself on the import lines the source tree
// once had: each was an upward import, half of a folder cycle or part of an import circle inside
// one folder, and each is refused now.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function problems(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: file });
  return (r?.messages ?? []).filter((m) => m.ruleId === 'atlas/layers').map((m) => m.message);
}

describe('the layer rule', () => {
  it.each([
    [
      'an upward import: the card layer taking the helper protocol from the privileged helper',
      'src-main/core/cards/helper-client.ts',
      "import type { HelperRequest } from '../../privileged/raw-disk-helper.js';",
      /core\/cards may not import from src-main\/privileged/,
    ],
    [
      'the builder↔lima cycle',
      'src-main/core/builder/local-builder.ts',
      "import { LimaBuilder } from '../lima/lima-builder.js';",
      /a higher layer/,
    ],
    [
      'the cards↔rawio cycle',
      'src-main/core/cards/raw-disk.ts',
      "import { readUsedToSparseFile } from '../rawio/used-blocks/read-used.js';",
      /core\/cards may not import from src-main\/core\/rawio\/used-blocks/,
    ],
    [
      'the rawio↔used-blocks cycle',
      'src-main/core/rawio/used-blocks/read-used.ts',
      "import { isZero } from '../block-copy.js';",
      /a higher layer/,
    ],
    [
      'the core reaching into the app',
      'src-main/core/phases/clone.ts',
      "import { CHANNELS } from '../../ipc/contract.js';",
      /a higher layer/,
    ],
    [
      'a peer',
      'src-main/ipc/router.ts',
      "import { main } from '../cli/ods-sd.js';",
      /its peer src-main\/cli/,
    ],
    [
      'a service reaching into the transport',
      'src-main/app/job-specs.ts',
      "import { createRouter } from '../ipc/router.js';",
      /app may not import from src-main\/ipc \(a higher layer\)/,
    ],
    [
      'the CLI taking an app service',
      'src-main/cli/commands.ts',
      "import { suggestNames } from '../app/names.js';",
      /the app's services are the desktop app's/,
    ],
    [
      'the contract importing a service',
      'src-main/common/contract/views.ts',
      "import type { Places } from '../../app/library-view.js';",
      /imports nothing/,
    ],
    [
      'a service taking the contract from the transport (where it was before it moved to common)',
      'src-main/app/names.ts',
      "import type { OutputPlan } from '../ipc/contract.js';",
      /app may not import from src-main\/ipc \(a higher layer\)/,
    ],
    [
      'the renderer importing the transport',
      'src-renderer/api/client.ts',
      "import type { Api } from '../../src-main/ipc/contract';",
      /renderer imports only src-main\/common/,
    ],
    [
      'common importing Node',
      'src-main/common/format-bytes.ts',
      "import { readFileSync } from 'node:fs';",
      /imports nothing/,
    ],
    [
      'an import circle inside a folder: a card platform calling back into the operations that ask it',
      'src-main/core/cards/platform/linux.ts',
      "import { checkTarget } from '../target-guards.js';",
      /import circle inside src-main\/core\/cards: platform\/linux\.ts → target-guards\.ts → platform\/index\.ts → platform\/linux\.ts/,
    ],
    [
      'an import circle through a re-export',
      'src-main/core/cards/card-types.ts',
      "export { checkTarget } from './target-guards.js';",
      /import circle inside src-main\/core\/cards: card-types\.ts → target-guards\.ts → card-types\.ts/,
    ],
    [
      'the renderer importing the core',
      'src-renderer/lib/format.ts',
      "import { AtlasError } from '../../src-main/core/errors';",
      /renderer imports only/,
    ],
  ])('refuses %s', async (_what, file, line, message) => {
    const found = await problems(file, `${line}\nexport const used = 1;\n`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it.each([
    ['a lower layer', 'src-main/core/phases/clone.ts', "import { identifyCard } from '../cards/card.js';"],
    ['the same folder', 'src-main/core/cards/card.ts', "import { info } from './diskutil.js';"],
    [
      'a card platform taking the leaf and the modules below it',
      'src-main/core/cards/platform/linux.ts',
      "import { identifyCard } from '../card.js';\nimport { SYSTEM_MOUNTS } from '../card-types.js';",
    ],
    [
      'a type from the operations above (import type: no circle when the code runs)',
      'src-main/core/cards/platform/linux.ts',
      "import type { TargetContext } from '../target-guards.js';",
    ],
    [
      'a type, named inline, from the operations above',
      'src-main/core/cards/platform/linux.ts',
      "import { type TargetContext } from '../target-guards.js';",
    ],
    [
      'a type re-exported from the operations above (export type)',
      'src-main/core/cards/card-types.ts',
      "export type { TargetContext } from './target-guards.js';",
    ],
    ['common', 'src-main/core/errors.ts', "import { ERROR_CODES } from '../common/error-codes.js';"],
    ['the schema library, in common', 'src-main/common/schema.ts', "import * as v from 'valibot';"],
    [
      'the contract, in common',
      'src-renderer/api/client.ts',
      "import type { Api } from '../../src-main/common/contract';",
    ],
    [
      'a service taking the contract',
      'src-main/app/names.ts',
      "import type { OutputPlan } from '../common/contract.js';",
    ],
    [
      "the contract taking common's building blocks",
      'src-main/common/contract/requests.ts',
      "import { absolutePath, text, v } from '../schema.js';",
    ],
    [
      'the transport taking the contract',
      'src-main/ipc/validate.ts',
      "import { CHANNELS } from '../common/contract.js';",
    ],
    [
      'the transport calling a service',
      'src-main/ipc/handlers.ts',
      "import { suggestNames } from '../app/names.js';",
    ],
    [
      'everything',
      'src-main/electron/app.ts',
      "import { selectBuilder } from '../core/lima/select-builder.js';",
    ],
  ])('allows %s', async (_what, file, line) => {
    expect(await problems(file, `${line}\nexport const used = 1;\n`)).toEqual([]);
  });
});
