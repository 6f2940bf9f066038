#!/usr/bin/env bash
# A clone set made elsewhere (tools/ods-sd, another machine), checked before it is offered: each
# partclone image must decompress and pass partclone.chkimg. Reads only; writes nothing.
# usage: check_set.sh SET_DIR
source "$(dirname "${BASH_SOURCE[0]}")/atlas-common.sh"

[ $# -eq 1 ] || atlas_fail usage "usage: check_set.sh SET_DIR"
set_dir=$1
atlas_check_path "clone set" "$set_dir"
[ -d "$set_dir" ] || atlas_fail not-found "no clone set at $set_dir"
atlas_require_tools pigz partclone.chkimg

for part in sdc1-boot sdc2-root; do
  img="$set_dir/$part.partclone.gz"
  [ -s "$img" ] || atlas_fail bad-input "the clone set is incomplete: $part.partclone.gz is missing in $set_dir"
  atlas_step "check-$part" "$(stat -c %s "$img")" "Checking $part.partclone.gz (partclone.chkimg)"
  pigz -dc -- "$img" | partclone.chkimg -s - >&2 || atlas_fail verify "$part.partclone.gz failed partclone.chkimg"
  atlas_result checked "$part"
done
