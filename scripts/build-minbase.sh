#!/usr/bin/env bash
# Builds the Debian 12 minbase test image: debootstrap --variant=minbase
# bookworm into DEST/rootfs, packed with umoci into the OCI layout DEST/oci
# (tag "bookworm"). Needs root, debootstrap, umoci and Debian's mirror.
# Usage: scripts/build-minbase.sh DEST
set -euo pipefail
dest=${1:?usage: build-minbase.sh DEST}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$dest"
if [ ! -x "$dest/rootfs/usr/bin/ls" ]; then
  rm -rf "$dest/rootfs.tmp"
  debootstrap --variant=minbase bookworm "$dest/rootfs.tmp" "$mirror" >"$dest/debootstrap.log" 2>&1 ||
    { tail -20 "$dest/debootstrap.log" >&2; exit 1; }
  rm -rf "$dest/rootfs"
  mv "$dest/rootfs.tmp" "$dest/rootfs"
fi
rm -rf "$dest/oci" "$dest/bundle"
umoci init --layout "$dest/oci"
umoci new --image "$dest/oci:bookworm"
umoci unpack --image "$dest/oci:bookworm" "$dest/bundle" >/dev/null
cp -a "$dest/rootfs/." "$dest/bundle/rootfs/"
umoci repack --image "$dest/oci:bookworm" "$dest/bundle" >/dev/null
rm -rf "$dest/bundle"
echo "minbase image: oci:$dest/oci:bookworm"
