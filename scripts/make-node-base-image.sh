#!/usr/bin/env bash
# Makes a local Node.js base image for building the Dockerfile where nothing can be pulled: a root
# file system holding this machine's node binary, the libraries `ldd` lists for it, npm, and the
# host's static busybox as /bin/sh and friends (the build stage runs shell commands), imported with
# `docker import` (or `podman import` with ENGINE=podman). Idempotent: rebuilt only when missing or
# made from another Node version. Prints the image name.
#
#   bash scripts/make-node-base-image.sh            # → dstb-node-base:latest
#   docker build --build-arg NODE_IMAGE=dstb-node-base:latest …
set -euo pipefail

IMAGE=${DSTB_NODE_BASE_IMAGE:-dstb-node-base:latest}
ENGINE=${ENGINE:-docker}
say() { printf 'make-node-base-image: %s\n' "$*" >&2; }

node=$(readlink -f "$(command -v node)")
version=$("$node" --version)
current=$("$ENGINE" image inspect -f '{{index .Config.Labels "dstb.node"}}' "$IMAGE" 2>/dev/null || true)
if [ "$current" = "$version" ]; then
  say "$IMAGE ($ENGINE) already holds node $version"
  echo "$IMAGE"
  exit 0
fi
command -v busybox >/dev/null 2>&1 || { say "busybox is missing (scripts/ensure-docker.sh installs busybox-static)"; exit 1; }
npm_dir=$(npm root -g 2>/dev/null)/npm
[ -f "$npm_dir/bin/npm-cli.js" ] || { say "npm not found at $npm_dir"; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/usr/bin" "$root/usr/lib/node_modules" "$root/etc" "$root/root" "$root/tmp" "$root/home/node"
chmod 1777 "$root/tmp"
cp "$node" "$root/usr/bin/node"
# The shared libraries and the loader, at the paths ldd names.
for lib in $(ldd "$node" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp -a "$npm_dir" "$root/usr/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
cp "$(command -v busybox)" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
ln -s /bin/busybox "$root/usr/bin/env" # npm's `#!/usr/bin/env node`
# Like the official images: root, and a `node` user 1000.
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"
chown 1000:1000 "$root/home/node"
echo 'hosts: files dns' >"$root/etc/nsswitch.conf"

say "importing $IMAGE into $ENGINE (node $version, npm $("$node" "$npm_dir/bin/npm-cli.js" --version 2>/dev/null))"
tar -C "$root" -c . | "$ENGINE" import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change "LABEL dstb.node=$version" \
  --change 'CMD ["node"]' - "$IMAGE" >/dev/null
echo "$IMAGE"
