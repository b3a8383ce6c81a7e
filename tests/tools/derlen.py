#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
import sys
# derlen.py IN OUT: copy only the DER SEQUENCE at the start of IN (drops the
# zero padding signsis leaves after a DSA signature, sis-format.md §7.2).
d = open(sys.argv[1], 'rb').read()
assert d[0] == 0x30
if d[1] < 0x80:
    n = 2 + d[1]
else:
    k = d[1] & 0x7f
    n = 2 + k + int.from_bytes(d[2:2 + k], 'big')
open(sys.argv[2], 'wb').write(d[:n])
