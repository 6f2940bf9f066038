#!/usr/bin/env bash
# Compress: a shrunk clone image into its distributable, IMAGE to OUT (.img.xz or .img.zst), as a
# Linux step in the builder: a Mac ships neither xz nor zstd. OUT is an empty file the app made
# (so it stays the user's); the sizes are recorded in the output (xz always; zstd through
# --stream-size), so a flash knows the image's size before it decompresses it.
# Results: image-bytes, image-sha256, out-bytes, out-sha256.
# usage: compress_image.sh IMAGE OUT xz|zst
# shellcheck disable=SC2154 # the scratch files: assigned by name (atlas_tmpfile)
source "$(dirname "${BASH_SOURCE[0]}")/atlas-common.sh"

[ $# -eq 3 ] || atlas_fail usage "usage: compress_image.sh IMAGE OUT xz|zst"
img=$1
out=$2
kind=$3
atlas_check_path image "$img"
atlas_check_path output "$out"
[ -f "$img" ] && [ ! -L "$img" ] || atlas_fail not-found "no image at $img"
[ -f "$out" ] && [ ! -L "$out" ] && [ ! -s "$out" ] || atlas_fail bad-input "$out must be an empty file"
bytes=$(stat -c %s -- "$img")
case "$kind" in
  xz) cmd=(xz -c -T0 -6) ;;
  zst) cmd=(zstd -c -q -T0 -9 "--stream-size=$bytes") ;;
  *) atlas_fail bad-input "the compression must be xz or zst: $kind" ;;
esac
atlas_require_tools "${cmd[0]}"

# The image is read once: tee hands it to the compressor and to a hash, and the compressed stream
# is hashed on its way into OUT, so no checksum reads a file again afterwards. The hashes share the
# CPU with the compressor: OpenSSL's SHA-256 (the CPU's SHA instructions) takes about a third of
# sha256sum's time; sha256sum where a VM of the user's own has no openssl.
sha256_of_stdin() {
  if command -v openssl >/dev/null; then openssl dgst -sha256 -r; else sha256sum; fi
}
# Both files are opened here first: a job that cannot open its own would leave the others waiting
# on their pipes for ever.
exec {img_fd}<"$img" || atlas_fail permission "cannot read $img"
exec {out_fd}>"$out" || atlas_fail permission "cannot write $out"
scratch=$(mktemp -d /tmp/atlas-compress.XXXXXX) || atlas_fail io "could not create a scratch folder in /tmp"
ATLAS_TMPDIRS+=("$scratch")
raw_fifo=$scratch/raw in_fifo=$scratch/in out_fifo=$scratch/out
in_sum=$scratch/in.sum out_sum=$scratch/out.sum errs=$scratch/errs
ATLAS_TMPFILES+=("$raw_fifo" "$in_fifo" "$out_fifo" "$in_sum" "$out_sum" "$errs")
mkfifo -m 0600 "$raw_fifo" "$in_fifo" "$out_fifo" || atlas_fail io "could not create pipes in $scratch"

atlas_step compress 0 "Compressing the clone image ($kind)"
# Each job is stopped, if the script fails meanwhile, before the scratch files go.
sha256_of_stdin <"$in_fifo" >"$in_sum" &
in_job=$!
ATLAS_JOBS+=("$in_job")
sha256_of_stdin <"$out_fifo" >"$out_sum" &
out_job=$!
ATLAS_JOBS+=("$out_job")
tee -- "$in_fifo" <&"$img_fd" >"$raw_fifo" &
reader=$!
ATLAS_JOBS+=("$reader")
# Progress: how far the image has been read (tee's stdin shares the descriptor's offset).
(
  while kill -0 "$reader" 2>/dev/null; do
    pos=$(awk '/^pos:/ { print $2 }' "/proc/$reader/fdinfo/0" 2>/dev/null || true)
    [ -n "$pos" ] && atlas_event progress "$pos" "$bytes"
    sleep 1
  done
) &
ticker=$!
ATLAS_JOBS+=("$ticker")
set +e
"${cmd[@]}" <"$raw_fifo" 2>"$errs" | tee -- "$out_fifo" >&"$out_fd"
st=("${PIPESTATUS[@]}")
read_st=0 in_st=0 out_st=0
wait "$reader" || read_st=$?
wait "$in_job" || in_st=$?
wait "$out_job" || out_st=$?
wait "$ticker"
set -e
ATLAS_JOBS=()
exec {img_fd}<&- {out_fd}>&-
# The first cause: the image's read (141: the compressor had stopped reading, its own failure
# follows), the hashes, the compressor, the write of OUT.
if [ "$read_st" -ne 0 ] && [ "$read_st" -ne 141 ]; then
  atlas_fail io "could not read $img (tee exit $read_st): is the disk it is on failing?"
fi
[ "$in_st" -eq 0 ] && [ "$out_st" -eq 0 ] || atlas_fail io "could not hash the image or $out"
if [ "${st[0]}" -ne 0 ]; then
  cat "$errs" >&2
  atlas_fail tool-failed "${cmd[0]} could not compress $img (exit ${st[0]}): $(tail -n 1 "$errs")"
fi
if [ "${st[1]}" -ne 0 ]; then
  # Less than 1 MiB left there: the disk is full.
  if [ "$(df -Pk "$(dirname "$out")" | awk 'NR == 2 { print $4 }')" -lt 1024 ]; then
    atlas_fail no-space "the compressed image does not fit in $(dirname "$out"): free some space and shrink again"
  fi
  atlas_fail io "could not write $out (exit ${st[1]})"
fi
[ "$read_st" -eq 0 ] || atlas_fail io "could not read $img whole (tee exit $read_st)"
atlas_event progress "$bytes" "$bytes"

atlas_result image-bytes "$bytes"
atlas_result image-sha256 "$(cut -d' ' -f1 "$in_sum")"
atlas_result out-bytes "$(stat -c %s -- "$out")"
atlas_result out-sha256 "$(cut -d' ' -f1 "$out_sum")"
