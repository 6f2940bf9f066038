/** `ods-sd verify`: Phase 2's pre-shrink checklist, offline, with evidence. */
import { checklistFailed } from '../../core/phases/checklist-failed.js';
import { verify } from '../../core/phases/verify.js';
import { defineCommand } from '../command.js';
import { CARD } from './card-write-options.js';
import { verifyText } from './verify-text.js';

export const CHECKLIST_OPTION = {
  type: 'string',
  arg: 'FILE',
  help: 'the checklist to verify against (default: the one that comes with Atlas Imager)',
} as const;

export const verifyCommand = defineCommand({
  name: 'verify',
  summary: 'Phase 2: the pre-shrink checklist, offline, with evidence',
  positionals: [CARD],
  options: { checklist: CHECKLIST_OPTION },
  run: async ({ args, options, env, job }) =>
    verify(
      await env(),
      { card: args.card, ...(options.checklist ? { checklist: options.checklist } : {}) },
      job,
    ),
  human: verifyText,
  failure: (x) => (x.ok ? undefined : checklistFailed(x, `${x.failed} of ${x.checks.length} checks failed`)),
});
