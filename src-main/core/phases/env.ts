/** What every phase needs: where the Linux tools run and where artifacts go. */
import type { Builder } from '../builder/builder.js';

export interface Env {
  builder: Builder;
  /** The library / work directory, shared with the builder (default ~/atlas-build). */
  library: string;
}
