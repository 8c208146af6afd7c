import sys
sys.path.insert(0,'.')
from extract import packets
import datetime
OUT='/work/main/test/vectors/dhcp/'
spec = [
 ('ipxe-bios-e1000-discover','bios-e1000.pcap',0,'iPXE 1.21 NIC ROM (Debian ipxe-qemu, e1000) under SeaBIOS: DHCPDISCOVER','qemu-boot.sh -m b -f bios -n e1000'),
 ('dnsmasq-offer-ipxe','bios-e1000.pcap',1,'dnsmasq 2.90 DHCPOFFER to the iPXE ROM (boot file = HTTP script URL, unicast to yiaddr via ARP injection)','qemu-boot.sh -m b -f bios -n e1000'),
 ('ipxe-bios-e1000-request','bios-e1000.pcap',4,'iPXE NIC ROM (e1000, SeaBIOS): DHCPREQUEST after waiting for ProxyDHCP offers','qemu-boot.sh -m b -f bios -n e1000'),
 ('dnsmasq-ack-ipxe','bios-e1000.pcap',5,'dnsmasq 2.90 DHCPACK to the iPXE ROM','qemu-boot.sh -m b -f bios -n e1000'),
 ('ovmf-pxe-x64-discover','uefi-virtio.pcap',0,'OVMF (Debian ovmf) UEFI PXE base code on virtio-net without an iPXE ROM: DHCPDISCOVER, broadcast flag, arch 7','qemu-boot.sh -m b -f uefi -n virtio-net-pci,romfile='),
 ('dnsmasq-offer-ovmf','uefi-virtio.pcap',1,'dnsmasq 2.90 DHCPOFFER to OVMF PXE (boot file ipxe.efi)','qemu-boot.sh -m b -f uefi -n virtio-net-pci,romfile='),
 ('ovmf-pxe-x64-request','uefi-virtio.pcap',2,'OVMF UEFI PXE: DHCPREQUEST','qemu-boot.sh -m b -f uefi -n virtio-net-pci,romfile='),
 ('dnsmasq-ack-ovmf','uefi-virtio.pcap',3,'dnsmasq 2.90 DHCPACK to OVMF PXE','qemu-boot.sh -m b -f uefi -n virtio-net-pci,romfile='),
 ('ipxe-efi-x64-discover','uefi-virtio.pcap',4,'ipxe.efi (Debian ipxe, fetched by OVMF over TFTP) on virtio-net: DHCPDISCOVER','qemu-boot.sh -m b -f uefi -n virtio-net-pci,romfile='),
 ('ipxe-efi-x64-request','uefi-virtio.pcap',8,'ipxe.efi chainloaded by OVMF: DHCPREQUEST','qemu-boot.sh -m b -f uefi -n virtio-net-pci,romfile='),
 ('undionly-bios-discover','bios-chain.pcap',6,'undionly.kpxe chainloaded over TFTP by the e1000 iPXE ROM (server answered every client with undionly.kpxe): DHCPDISCOVER, broadcast flag set','qemu-boot.sh -m b -f bios -n e1000, dnsmasq dhcp-boot=undionly.kpxe'),
 ('undionly-bios-request','bios-chain.pcap',10,'undionly.kpxe chainloaded: DHCPREQUEST','qemu-boot.sh -m b -f bios -n e1000, dnsmasq dhcp-boot=undionly.kpxe'),
]
cache={}
for name,pcap,idx,desc,how in spec:
    pk = cache.setdefault(pcap, list(packets(pcap)))[idx]
    pl = pk['payload']
    with open(OUT+name+'.hex','w') as f:
        f.write(f'# {desc}\n# captured {datetime.date.today()} with tcpdump -i br0 in a netns.sh namespace ({pcap} #{idx}, {pk["src"]} -> {pk["dst"]}); {how}\n# UDP payload, {len(pl)} bytes\n')
        for i in range(0,len(pl),32): f.write(pl[i:i+32].hex()+'\n')
print('ok')
