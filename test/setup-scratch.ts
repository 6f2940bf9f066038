// Removes the scratch folders a test file made, once the file is done: a full run makes tens of GB
// of card images, which must not pile up on a CI machine.
import { afterAll } from 'vitest';
import { removeScratch } from './helpers/fixtures.js';

afterAll(() => removeScratch());
