/** The version and tag that name an image (ods-atlas-…-v<version>-<tag>.img), as two fields. */
export type NamePart = 'version' | 'tag';

export function NameFields({
  version,
  tag,
  onChange,
  labelPrefix = '',
  placeholders,
}: {
  version: string;
  tag: string;
  onChange: (part: NamePart, value: string) => void;
  /** Put before "version"/"tag" in the fields' accessible names, e.g. "Clone image". */
  labelPrefix?: string;
  placeholders?: { version: string; tag: string };
}) {
  const field = (part: NamePart, title: string, value: string) => (
    <label>
      {title}
      <input
        value={value}
        onChange={(e) => onChange(part, e.target.value)}
        placeholder={placeholders?.[part]}
        aria-label={labelPrefix ? `${labelPrefix} ${part}` : title}
      />
    </label>
  );
  return (
    <div className="row fields">
      {field('version', 'Version', version)}
      {field('tag', 'Tag', tag)}
    </div>
  );
}
