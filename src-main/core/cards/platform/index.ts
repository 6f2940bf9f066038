/**
 * The card platform for a system: macOS (`darwin`) or Linux. Any other system gets the Linux
 * rules, as it always did (every difference was "macOS, or else the Linux tools"); Atlas Imager
 * ships for macOS and Linux only.
 */
import type { CardPlatform } from './card-platform.js';
import { darwin } from './darwin.js';
import { linux } from './linux.js';

export type { CardPlatform, HelperGuard, HelperTarget, RawAccess } from './card-platform.js';

export function cardPlatform(platform: NodeJS.Platform = process.platform): CardPlatform {
  return platform === 'darwin' ? darwin : linux;
}
