/**
 * The seed document's own commands, run as written, for comparison:
 *   clone:   dd the whole card into the work dir, then partclone.fat32/ext4 -c | pigz on it
 *   restore: restore_golden.sh into a card-sized image, then dd the whole image onto the card
 *   shrink:  e2fsck, resize2fs -M, partition 2 to file system + 5%, e2fsck, dd bs=512 count=TOTAL
 *   flash:   dd bs=4M
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const sh = (script: string, ...args: string[]) =>
  execFileSync('bash', ['-euo', 'pipefail', '-c', script, 'seed', ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });

/**
 * The seed's clone of a dd'd card image, `$raw`, into the folder `$set`: sfdisk's dump, then
 * partclone | pigz of boot and root (the loop devices are detached when the shell exits).
 */
export const SEED_CLONE_OF_RAW = `sfdisk --dump "$raw" > "$set/partition-table.dump"
  geo() { partx -g -r -o NR,START,SECTORS "$raw" | awk -v n=$1 '$1==n {printf "%.0f %.0f\\n", $2*512, $3*512}'; }
  read o1 s1 < <(geo 1); read o2 s2 < <(geo 2)
  l1=$(losetup -f --show -r -o $o1 --sizelimit $s1 "$raw"); l2=$(losetup -f --show -r -o $o2 --sizelimit $s2 "$raw")
  trap 'losetup -d $l1 $l2' EXIT
  partclone.fat32 -c -s $l1 2>/dev/null | pigz > "$set/sdc1-boot.partclone.gz"
  partclone.ext4 -c -s $l2 2>/dev/null | pigz > "$set/sdc2-root.partclone.gz"`;

export function seedClone(card: string, work: string, setDir: string): void {
  mkdirSync(setDir, { recursive: true });
  sh(
    `card=$1 raw=$2/raw.img set=$3
     dd if="$card" of="$raw" bs=4M status=none
     ${SEED_CLONE_OF_RAW}
     rm -f "$raw"`,
    card,
    work,
    setDir,
  );
}

export function seedRestore(
  card: string,
  cardBytes: number,
  work: string,
  setDir: string,
  restoreScript: string,
): void {
  sh(
    `card=$1 bytes=$2 raw=$3/restore.img set=$4 script=$5
     rm -f "$raw"; truncate -s "$bytes" "$raw"
     bash "$script" "$raw" --set-dir "$set" >/dev/null 2>&1
     dd if="$raw" of="$card" bs=4M conv=fsync status=none
     rm -f "$raw"`,
    card,
    String(cardBytes),
    work,
    setDir,
    restoreScript,
  );
}

/** Shrinks the card in place (as on jdl-mini-box) and copies the used sectors out. */
export function seedShrink(card: string, out: string): void {
  sh(
    `card=$1 out=$2
     read start size < <(partx -g -r -o NR,START,SECTORS "$card" | awk '$1==2 {print $2, $3}')
     l=$(losetup -f --show -o $((start*512)) --sizelimit $((size*512)) "$card")
     e2fsck -f -y $l >/dev/null 2>&1 || true
     resize2fs -M $l >/dev/null 2>&1
     BLOCK_COUNT=$(dumpe2fs -h $l 2>/dev/null | grep "Block count" | awk '{print $3}')
     BLOCK_SIZE=$(dumpe2fs -h $l 2>/dev/null | grep "Block size" | awk '{print $3}')
     losetup -d $l
     FS_SECTORS=$((BLOCK_COUNT * BLOCK_SIZE / 512))
     BUFFER=$((FS_SECTORS * 5 / 100))
     NEW_SECTORS=$(( (FS_SECTORS + BUFFER + 7) / 8 * 8 ))
     P2_END=$((start + NEW_SECTORS - 1))
     TOTAL=$((P2_END + 1))
     # The seed rewrites partition 2 with an fdisk script; sfdisk writes the same one sector.
     echo "start=$start, size=$NEW_SECTORS" | sfdisk -q -N 2 --no-reread "$card" >/dev/null
     l=$(losetup -f --show -o $((start*512)) --sizelimit $((NEW_SECTORS*512)) "$card")
     e2fsck -f -y $l >/dev/null 2>&1 || true
     losetup -d $l
     dd if="$card" of="$out" bs=512 count=\${TOTAL} status=none`,
    card,
    out,
  );
}

export function seedFlash(image: string, card: string): void {
  sh(`dd if="$1" of="$2" bs=4M conv=fsync status=none`, image, card);
}

export const seedPaths = (work: string) => ({
  set: join(work, 'seed-clone'),
  shrunk: join(work, 'seed-shrunk.img'),
});
