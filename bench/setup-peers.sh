#!/usr/bin/env bash
# The first step of `npm run bench`: installs the peers the benchmarks run against, and their
# clients, from Debian's packages (root; apt-get only when something is missing).
#   tgt (tgtd), kea-dhcp4-server, dnsmasq-base, tftpd-hpa, atftpd: the peer servers
#   libiscsi-bin (iscsi-perf), qemu-utils + qemu-block-extra (qemu-img bench over iscsi://),
#   kea-admin (perfdhcp), curl and atftp (TFTP clients), qemu-system-x86 ipxe-qemu ipxe nasm
#   (the boot-time bench's iPXE in QEMU), iproute2, procps.
# tftpd-hpa and atftpd conflict as packages: atftpd is unpacked into bench/.peers/atftpd/ (not
# installed, nothing starts it), where bench/tftp.ts looks for it first.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }
for pair in tgtd:tgt tgtadm:tgt kea-dhcp4:kea-dhcp4-server dnsmasq:dnsmasq-base in.tftpd:tftpd-hpa \
  iscsi-perf:libiscsi-bin qemu-img:qemu-utils perfdhcp:kea-admin curl:curl atftp:atftp \
  qemu-system-x86_64:qemu-system-x86 nasm:nasm ip:iproute2 ps:procps; do
  have "${pair%%:*}" || need+=("${pair#*:}")
done
[ -e /usr/lib/ipxe/undionly.kpxe ] || need+=(ipxe)
[ -e /usr/lib/ipxe/qemu/efi-e1000.rom ] || need+=(ipxe-qemu)
# qemu-img's iscsi:// driver is a separate module on Debian.
ls /usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so >/dev/null 2>&1 || need+=(qemu-block-extra)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bench/setup-peers.sh: missing ${need[*]}; run as root (apt-get install) or install them" >&2
    exit 1
  fi
  echo "installing the benchmarks' peers and clients: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need[@]}"
  # Debian starts the packaged daemons: the benchmarks start their own, on their own ports.
  for unit in tgt kea-dhcp4-server tftpd-hpa dnsmasq; do
    systemctl disable --now "$unit" >/dev/null 2>&1 || service "$unit" stop >/dev/null 2>&1 || true
  done
fi

peers=bench/.peers
if [ ! -x "$peers/atftpd/usr/sbin/atftpd" ]; then
  echo "unpacking atftpd into $peers/atftpd (it conflicts with tftpd-hpa as a package)"
  rm -rf "$peers/atftpd" "$peers/download"
  mkdir -p "$peers/download"
  (cd "$peers/download" && apt-get download atftpd >/dev/null)
  dpkg-deb -x "$peers"/download/atftpd_*.deb "$peers/atftpd"
  rm -rf "$peers/download"
fi
echo "peers ready"
