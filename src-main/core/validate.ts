/**
 * Validation of every user-supplied value that ends up in a file name or a tool's argument list.
 * Values are never spliced into shell strings, but they still name files: a tag such as `../x`
 * or `a;b` is refused here, with a message that says what is allowed.
 */
import { AtlasError } from './errors.js';
import { RESERVED_SUFFIXES, reservedSuffixOf } from '../common/reserved-names.js';

const TAG = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
const VERSION = /^\d{1,3}(\.\d{1,3}){0,2}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

export function validateTag(tag: string): string {
  if (!TAG.test(tag)) {
    throw new AtlasError(
      'bad-input',
      `invalid tag ${JSON.stringify(tag)}`,
      'a tag is 1-32 letters, digits or underscores, starting with a letter (for example FEATURE or OPENBOX)',
    );
  }
  return tag;
}

export function validateVersion(version: string): string {
  if (!VERSION.test(version)) {
    throw new AtlasError(
      'bad-input',
      `invalid version ${JSON.stringify(version)}`,
      'a version is one to three numbers separated by dots, for example 9.1.7',
    );
  }
  return version;
}

export function validateName(name: string): string {
  if (!NAME.test(name) || name.includes('..')) {
    throw new AtlasError(
      'bad-input',
      `invalid name ${JSON.stringify(name)}`,
      'a name is 1-80 letters, digits, dots, dashes or underscores (no spaces, quotes, slashes or ".."), for example v8-1-0-FEATURE',
    );
  }
  return validateNotReserved(name);
}

/** Refuses a name the library keeps for itself (unfinished output, sidecars, locks). */
export function validateNotReserved(name: string): string {
  const suffix = reservedSuffixOf(name);
  if (suffix) {
    throw new AtlasError(
      'bad-input',
      `invalid name ${JSON.stringify(name)}: it ends in ${JSON.stringify(suffix)}, which the library keeps for itself`,
      `a name must not end in ${RESERVED_SUFFIXES.join(', ')} (unfinished output, block maps, manifests and job locks): choose another name, for example v8-1-0-FEATURE`,
    );
  }
  return name;
}

/** A path given on the command line: must be non-empty, without control characters. */
export function validatePathArg(what: string, p: string): string {
  // eslint-disable-next-line no-control-regex
  if (p.length === 0 || /[\u0000-\u001f]/.test(p) || p.startsWith('-')) {
    throw new AtlasError(
      'bad-input',
      `invalid ${what} path ${JSON.stringify(p)}`,
      'give a plain file or device path',
    );
  }
  return p;
}
