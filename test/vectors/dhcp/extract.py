import struct, sys, json
def packets(path):
    d=open(path,'rb').read()
    magic=struct.unpack('<I',d[:4])[0]
    assert magic==0xa1b2c3d4, hex(magic)
    off=24
    while off < len(d):
        ts,us,incl,orig=struct.unpack('<IIII',d[off:off+16]); off+=16
        frame=d[off:off+incl]; off+=incl
        eth=frame[12:14]
        if eth!=b'\x08\x00': continue
        ip=frame[14:]; ihl=(ip[0]&15)*4
        src='.'.join(map(str,ip[12:16])); dst='.'.join(map(str,ip[16:20]))
        udp=ip[ihl:]; sp,dp,ln=struct.unpack('>HHH',udp[:6])
        yield dict(ts=ts+us/1e6,src=f'{src}:{sp}',dst=f'{dst}:{dp}',payload=udp[8:ln])
def mtype(p):
    o=240
    while o < len(p):
        c=p[o]
        if c==0: o+=1; continue
        if c==255: break
        l=p[o+1]
        if c==53: return p[o+2]
        o+=2+l
for f in sys.argv[1:]:
    for i,p in enumerate(packets(f)):
        pl=p['payload']
        print(f, i, p['src'], '->', p['dst'], 'type', mtype(pl), 'len', len(pl), 'xid', pl[4:8].hex(), 'flags', pl[10:12].hex())
