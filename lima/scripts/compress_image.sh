#!/usr/bin/env bash
# Compress: a shrunk clone image into its distributable, IMAGE to OUT (.img.xz or .img.zst), as a
# Linux step in the builder: a Mac ships neither xz nor zstd. OUT is an empty file the app made
# (so it stays the user's); the sizes are recorded in the output (xz always; zstd through
# --stream-size), so a flash knows the image's size before it decompresses it.
# Results: image-bytes, image-sha256, out-bytes, out-sha256.
# usage: compress_image.sh IMAGE OUT xz|zst
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

atlas_step compress 0 "Compressing the clone image ($kind)"
"${cmd[@]}" <"$img" >"$out" &
pid=$!
# Progress: how far the compressor has read its input.
while kill -0 "$pid" 2>/dev/null; do
  pos=$(awk '/^pos:/ { print $2 }' "/proc/$pid/fdinfo/0" 2>/dev/null || true)
  [ -n "$pos" ] && atlas_event progress "$pos" "$bytes"
  sleep 1
done
wait "$pid" || atlas_fail io "${cmd[0]} could not compress the image into $out (is the disk full?)"
atlas_event progress "$bytes" "$bytes"

atlas_step checksum 0 "Computing the checksums"
atlas_result image-bytes "$bytes"
atlas_result image-sha256 "$(sha256sum -- "$img" | cut -d' ' -f1)"
atlas_result out-bytes "$(stat -c %s -- "$out")"
atlas_result out-sha256 "$(sha256sum -- "$out" | cut -d' ' -f1)"
