#!/usr/bin/env bash
# Writes to stdout a tar of a minimal root filesystem made from the host's static busybox
# (bin/busybox and its applet links, /etc/passwd and /etc/group for root), for `docker import -`
# and `podman import -`: the local busybox image, since no registry can be reached.
set -euo pipefail
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/etc"
cp "$(command -v busybox)" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
tar -C "$root" -c .
