#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Patch one file of a package made by `sisign pack --store`, without
changing any length, for the install-rules tests
(tests/integration/test_check.sh).  The file is named by the LOCAL file it
was packed from: its bytes are found in the package's stored data, its
SHA-1 in the controller (each file's SISHash value is followed by its
Operation word).

  sispatch.py fn IN OUT LOCAL            make it a delete-on-uninstall (FN,
                                         operation 8) file
  sispatch.py data IN OUT LOCAL OFF HEX  overwrite its data at OFF with HEX,
                                         its SHA-1 kept (IR-EXE-9)
  sispatch.py data+hash IN OUT LOCAL OFF HEX
                                         the same with the SHA-1 updated (a
                                         binary patched after packaging)

The CRC fields go stale, which the device ignores.
"""
import hashlib
import struct
import sys


def main(argv):
    mode, src, dst, local = argv[1], argv[2], argv[3], argv[4]
    data = bytearray(open(src, 'rb').read())
    content = open(local, 'rb').read()
    old = hashlib.sha1(content).digest()
    hpos = bytes(data).find(old)
    pos = bytes(data).find(content, hpos + 20)
    plen = len(content)
    assert hpos >= 0 and pos > hpos, 'file %s not found stored in %s' % (local, src)
    if mode == 'fn':
        struct.pack_into('<I', data, hpos + 20, 8)
    elif mode in ('data', 'data+hash'):
        off, new = int(argv[5], 0), bytes.fromhex(argv[6])
        data[pos + off:pos + off + len(new)] = new
        if mode == 'data+hash':
            data[hpos:hpos + 20] = hashlib.sha1(bytes(data[pos:pos + plen])).digest()
    else:
        sys.exit('unknown mode ' + mode)
    open(dst, 'wb').write(bytes(data))


if __name__ == '__main__':
    main(sys.argv)
