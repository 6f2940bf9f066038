/** The version and tag that name an image (ods-atlas-…-v<version>-<tag>.img), as two fields. */
import type { OutputPlan } from '../../src-main/common/contract';
import { TextField } from './text-field';

export type NamePart = 'version' | 'tag';

export function NameFields({
  version,
  tag,
  onChange,
  labelPrefix = '',
  placeholders,
  plan,
}: {
  version: string;
  tag: string;
  onChange: (part: NamePart, value: string) => void;
  /** Put before "version"/"tag" in the fields' accessible names, e.g. "Clone image". */
  labelPrefix?: string;
  placeholders?: { version: string; tag: string };
  /** The name these fields make: its error is shown under the field it is about. */
  plan?: OutputPlan | null;
}) {
  const field = (part: NamePart, title: string, value: string) => (
    <TextField
      title={title}
      label={labelPrefix ? `${labelPrefix} ${part}` : title}
      value={value}
      onChange={(v) => onChange(part, v)}
      placeholder={placeholders?.[part]}
      error={plan?.field === part ? plan.error : undefined}
    />
  );
  return (
    <div className="row fields">
      {field('version', 'Version', version)}
      {field('tag', 'Tag', tag)}
    </div>
  );
}
