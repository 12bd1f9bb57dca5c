#!/usr/bin/env bash
# Debian's OpenSSH server (sshd) and client tools (ssh-keygen, ssh-agent), for
# test/integration/engine-ssh.test.ts, which runs its own sshd on a free port with its own config
# and keys. The package's own ssh service is left stopped and disabled: the test never uses it.
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null 2>&1 || ! command -v ssh-agent >/dev/null 2>&1; then
  echo "ensure-sshd: installing openssh-server from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Keep the package's scripts from starting its own sshd on port 22.
  policy=/usr/sbin/policy-rc.d
  created=no
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod +x "$policy"
    created=yes
  fi
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends openssh-server openssh-client >/dev/null
  [ "$created" = no ] || as_root rm -f "$policy"
fi
if [ -e /etc/systemd/system/multi-user.target.wants/ssh.service ]; then
  as_root systemctl disable ssh.service >/dev/null 2>&1 || as_root rm -f /etc/systemd/system/multi-user.target.wants/ssh.service
fi
# sshd refuses to start without its privilege separation directory.
as_root mkdir -p /run/sshd
