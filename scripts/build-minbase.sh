#!/usr/bin/env bash
# Builds the Debian 12 minbase test image: debootstrap --variant=minbase
# bookworm into DEST/rootfs, packed with umoci into the OCI layout DEST/oci
# (tag "bookworm"). Needs root, debootstrap, umoci and Debian's mirror.
# Usage: scripts/build-minbase.sh DEST
set -euo pipefail
dest=${1:?usage: build-minbase.sh DEST}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$dest"
# Several test files may ask for the image at once: one builds, the others
# wait for it and use what it built rather than repacking under its feet.
had_layout=$([ -f "$dest/oci/index.json" ] && echo yes || true)
exec 9>"$dest/.build.lock"
flock 9
if [ -z "$had_layout" ] && [ -f "$dest/oci/index.json" ]; then
  echo "minbase image: oci:$dest/oci:bookworm (built by a concurrent run)"
  exit 0
fi
if [ ! -x "$dest/rootfs/usr/bin/ls" ]; then
  rm -rf "$dest/rootfs.tmp"
  debootstrap --variant=minbase bookworm "$dest/rootfs.tmp" "$mirror" >"$dest/debootstrap.log" 2>&1 ||
    { tail -20 "$dest/debootstrap.log" >&2; exit 1; }
  rm -rf "$dest/rootfs"
  mv "$dest/rootfs.tmp" "$dest/rootfs"
fi
# Packed beside, then renamed: oci/index.json appears only once the image is whole.
rm -rf "$dest/oci.tmp" "$dest/bundle"
umoci init --layout "$dest/oci.tmp"
umoci new --image "$dest/oci.tmp:bookworm"
umoci unpack --image "$dest/oci.tmp:bookworm" "$dest/bundle" >/dev/null
cp -a "$dest/rootfs/." "$dest/bundle/rootfs/"
umoci repack --image "$dest/oci.tmp:bookworm" "$dest/bundle" >/dev/null
rm -rf "$dest/bundle" "$dest/oci"
mv "$dest/oci.tmp" "$dest/oci"
echo "minbase image: oci:$dest/oci:bookworm"
