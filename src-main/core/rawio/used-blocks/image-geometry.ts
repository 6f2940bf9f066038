/**
 * Whether an image holds everything its partition table describes. A truncated image (a download
 * cut short, a copy stopped early) or one whose table points past its end would be written to a
 * card "successfully" and leave a partition with a missing tail. Writers call this before
 * writing anything; a table that cannot be read at all is refused too.
 */
import { AtlasError } from '../../errors.js';
import { windowReader, type ByteReader } from './byte-reader.js';
import { UsedMapError } from './map-error.js';
import { readPartitionTable, type PartitionTable } from './partition-table.js';

const HINT =
  'the image is truncated or its partition table is wrong: download or copy it again, or check it with sfdisk -l';

/**
 * Reads the partition table of an image of `size` bytes (default: the reader's size) and throws
 * AtlasError 'bad-input' when a partition, or the extended partition holding logical ones,
 * ends past the image's end, or when a GPT is damaged beyond use. Returns the table otherwise.
 */
export async function checkImageGeometry(
  reader: ByteReader,
  size: number = reader.size,
): Promise<PartitionTable> {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid image size ${size}`);
  let table: PartitionTable;
  try {
    table = await readPartitionTable(size < reader.size ? windowReader(reader, 0, size) : reader);
  } catch (err) {
    if (!(err instanceof UsedMapError)) throw err;
    throw new AtlasError('bad-input', `the image's partition table cannot be used: ${err.message}`, HINT, {
      cause: err,
    });
  }
  const areas = [
    ...(table.extended
      ? [{ what: `the extended partition (type ${table.extended.type})`, ...table.extended }]
      : []),
    ...table.partitions.map((p) => ({ what: `partition ${p.index}`, ...p })),
  ];
  for (const a of areas) {
    const end = a.start + a.length;
    if (end > size) {
      throw new AtlasError(
        'bad-input',
        `${a.what} ends at byte ${end}, ${end - size} bytes past the end of the image (${size} bytes)`,
        HINT,
      );
    }
  }
  const broken = table.notes.find((n) => /chain of logical partitions is broken|has no signature/.test(n));
  if (broken) throw new AtlasError('bad-input', `the image's partition table is damaged: ${broken}`, HINT);
  return table;
}
