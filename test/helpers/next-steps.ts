// One next step of each kind, for the tests of the CLI's and the app's wording.
import type { NextStep, NextStepKind } from '../../src-main/common/next-steps.js';

/** One step of each kind (the type makes the table exhaustive). */
export const SAMPLE_STEPS: { [K in NextStepKind]: Extract<NextStep, { do: K }> } = {
  'vm-setup': { do: 'vm-setup' },
  'vm-recreate': { do: 'vm-recreate', instance: 'atlas-build', library: '/Users/me/atlas-build' },
  'recreate-secrets': { do: 'recreate-secrets', instance: 'atlas-build' },
  'vm-start': { do: 'vm-start' },
  'vm-restart': { do: 'vm-restart' },
  'vm-doctor': { do: 'vm-doctor' },
  'run-as-root': { do: 'run-as-root' },
  force: { do: 'force' },
  'show-checklist': { do: 'show-checklist' },
  'vm-upgrade': { do: 'vm-upgrade', instance: 'atlas-build' },
  'edit-checklist': {
    do: 'edit-checklist',
    check: 'plymouth-theme',
    file: '/app/resources/verify-checklist.json',
  },
  'confirm-large-disk': { do: 'confirm-large-disk' },
  'give-secrets': { do: 'give-secrets', path: '/lib/scripts/atlas_secrets.conf' },
  'import-secrets': { do: 'import-secrets' },
  'choose-library': { do: 'choose-library' },
  'choose-payload': { do: 'choose-payload' },
  'list-sets': { do: 'list-sets' },
  'inspect-card': { do: 'inspect-card' },
  'copy-whole-card': { do: 'copy-whole-card' },
  'flash-anyway': { do: 'flash-anyway' },
};
