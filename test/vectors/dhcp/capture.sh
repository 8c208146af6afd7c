#!/usr/bin/env bash
# capture.sh NAME FIRMWARE NIC BOOTCONF  — capture DHCP traffic of one QEMU PXE boot attempt
set -u
NAME=$1 FW=$2 NICARG=$3 MODECONF=$4
export NS=dl-dhcp-cap BRIDGE=br0 TAP=tap0 ADDR=10.251.1.1/24 ADDR6=
E=/work/shared/e2e
$E/netns.sh up
cat > dnsmasq.conf <<CONF
port=0
interface=br0
bind-interfaces
dhcp-range=10.251.1.100,10.251.1.150,255.255.255.0,1h
dhcp-leasefile=/tmp/dl-dhcp-cap/dnsmasq.leases
no-ping
enable-tftp
tftp-root=/usr/lib/ipxe
CONF
if [ "$MODECONF" = normal ]; then cat >> dnsmasq.conf <<CONF
dhcp-userclass=set:ipxe,iPXE
dhcp-match=set:efi64,option:client-arch,7
dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi
dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe
dhcp-boot=tag:ipxe,http://10.251.1.1:8199/boot.ipxe
CONF
else cat >> dnsmasq.conf <<CONF
dhcp-boot=undionly.kpxe
CONF
fi
: > dnsmasq.leases
ip netns exec $NS tcpdump -i br0 -w $NAME.pcap -U 'udp port 67 or udp port 68 or udp port 4011' 2>tcpdump-$NAME.log &
TP=$!
ip netns exec $NS dnsmasq --keep-in-foreground --conf-file=/tmp/dl-dhcp-cap/dnsmasq.conf --log-dhcp --log-facility=/tmp/dl-dhcp-cap/dnsmasq-$NAME.log &
DP=$!
sleep 1
$E/qemu-boot.sh -m b -c deadbeef -f $FW -n "$NICARG" -t ${T:-40} -l /tmp/dl-dhcp-cap/serial-$NAME.log
kill $DP; sleep 1; kill $TP; wait
$E/netns.sh down
