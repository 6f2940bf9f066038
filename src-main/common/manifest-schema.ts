/**
 * manifest.json as it must be to be read: a manifest comes with a clone set or an image, perhaps
 * from someone else, so its every value is checked for its type and size before any of it is used
 * or shown. Keys this version does not know are dropped (a newer app may write more).
 */
import { MANIFEST_SCHEMA, type Manifest } from './artifacts.js';
import { check, dotPath, int, list, oneOf, text, v } from './schema.js';

const short = (max = 256) => text({ max });
const sha256 = () => text({ max: 64, pattern: /^[0-9a-f]{64}$/ });

export const MANIFEST_CHECK = v.object({
  schema: v.literal(MANIFEST_SCHEMA, `expected "${MANIFEST_SCHEMA}"`),
  kind: oneOf(['golden-image', 'clone-set', 'clone-image']),
  phase: v.picklist([0, 1, 2], 'expected 0, 1 or 2'),
  name: short(),
  version: v.optional(short(64)),
  tag: v.optional(short(64)),
  createdAt: short(64),
  createdBy: v.object({
    app: v.literal('atlas-imager', 'expected "atlas-imager"'),
    appVersion: short(64),
    host: short(),
    builder: short(),
  }),
  source: v.object({
    path: text({ max: 4096 }),
    kind: oneOf(['image', 'card', 'clone-set']),
    bytes: int(),
    sha256: v.optional(sha256()),
    description: v.optional(short(1024)),
  }),
  files: list(v.object({ name: short(), bytes: int(), sha256: sha256() }), { max: 256 }),
  injected: v.optional(list(v.object({ path: text({ max: 4096 }), what: short(1024) }), { max: 256 })),
  layout: v.optional(v.record(short(64), v.union([int(), short(1024)], 'expected a number or a string'))),
  sourceState: v.optional(short(64)),
  tools: v.record(short(64), short(1024)),
  notes: v.optional(list(text({ max: 4096 }), { max: 256 })),
});

// The schema describes the Manifest type exactly: a change to one is a compile error until the
// other follows.
type Checked = v.InferOutput<typeof MANIFEST_CHECK>;
const sameShape: [Checked] extends [Manifest] ? ([Manifest] extends [Checked] ? true : false) : false = true;
void sameShape;

/** The manifest, or why it is not one (the first problem, with where it is). */
export function checkManifest(value: unknown): { ok: true; manifest: Manifest } | { ok: false; why: string } {
  const r = check(MANIFEST_CHECK, value);
  if (r.ok) return { ok: true, manifest: r.value };
  const where = dotPath(r.problem.path);
  return { ok: false, why: where ? `${where}: ${r.problem.message}` : r.problem.message };
}
