/* SPDX-License-Identifier: Apache-2.0 */
/* CRC-16, UTF-16 conversion, hex. */
#include "util/util_private.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* CRC-16/XMODEM: poly 0x1021, init 0, no reflection, no final XOR
 * (sis-format.md §6; check value CRC("123456789") = 0x31C3).
 *
 * Slicing-by-8: crc_table[k][i] is the CRC contribution of byte i followed
 * by k zero bytes, so eight input bytes cost eight independent lookups
 * instead of a chain of eight dependent ones.  Checking the data CRC runs
 * over all of SISData (gigabytes for big packages); bytewise it was slower
 * than the SHA-1 of the same data.  Same results as the bytewise loop
 * (test_batch.c compares them). */
static uint16_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (unsigned i = 0; i < 256; i++) {
		uint16_t c = (uint16_t)(i << 8);
		for (int k = 0; k < 8; k++)
			c = (uint16_t)((c & 0x8000) ? (c << 1) ^ 0x1021 : c << 1);
		crc_table[0][i] = c;
	}
	for (unsigned k = 1; k < 8; k++)
		for (unsigned i = 0; i < 256; i++) {
			uint16_t c = crc_table[k - 1][i];
			crc_table[k][i] = (uint16_t)((c << 8) ^ crc_table[0][c >> 8]);
		}
}

uint16_t crc16_update(uint16_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;
	pthread_once(&crc_once, crc_init);
	while (n >= 8) {
		crc = (uint16_t)(crc_table[7][((crc >> 8) ^ b[0]) & 0xff] ^ crc_table[6][(crc ^ b[1]) & 0xff] ^
			crc_table[5][b[2]] ^ crc_table[4][b[3]] ^ crc_table[3][b[4]] ^ crc_table[2][b[5]] ^
			crc_table[1][b[6]] ^ crc_table[0][b[7]]);
		b += 8;
		n -= 8;
	}
	while (n--)
		crc = (uint16_t)((crc << 8) ^ crc_table[0][((crc >> 8) ^ *b++) & 0xff]);
	return crc;
}

/* a * b modulo the CRC polynomial x^16 + x^12 + x^5 + 1, in GF(2). */
static uint16_t gf2_mulmod(uint16_t a, uint16_t b)
{
	uint16_t p = 0;
	for (int i = 15; i >= 0; i--) {
		p = (uint16_t)((p & 0x8000) ? (p << 1) ^ 0x1021 : p << 1);
		if (b & (1u << i))
			p ^= a;
	}
	return p;
}

uint16_t crc16_combine(uint16_t crca, uint16_t crcb, uint64_t lenb)
{
	/* With initial value 0, crc(M) = M(x) * x^16 mod P, so crc(A B) =
	 * crc(A) * x^(8 lenb) + crc(B) mod P. */
	uint16_t f = 1, sq = 0x100; /* x^0, x^8 */
	for (; lenb; lenb >>= 1) {
		if (lenb & 1)
			f = gf2_mulmod(f, sq);
		sq = gf2_mulmod(sq, sq);
	}
	return (uint16_t)(gf2_mulmod(crca, f) ^ crcb);
}

char *utf16le_to_utf8(const uint8_t *p, size_t n)
{
	/* Worst case: each 2-byte unit becomes 3 bytes of UTF-8. */
	size_t units = n / 2, o = 0;
	char *out = malloc(units * 3 + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < units; i++) {
		uint32_t c = le16(p + 2 * i);
		if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units) {
			uint32_t d = le16(p + 2 * (i + 1));
			if (d >= 0xDC00 && d <= 0xDFFF) {
				c = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
				i++;
			} else {
				c = 0xFFFD;
			}
		} else if (c >= 0xD800 && c <= 0xDFFF) {
			c = 0xFFFD;
		}
		if (c < 0x80) {
			out[o++] = (char)c;
		} else if (c < 0x800) {
			out[o++] = (char)(0xC0 | (c >> 6));
			out[o++] = (char)(0x80 | (c & 0x3F));
		} else if (c < 0x10000) {
			out[o++] = (char)(0xE0 | (c >> 12));
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (c & 0x3F));
		} else { /* a surrogate pair: 4 bytes of UTF-8 from 4 bytes of input */
			out[o++] = (char)(0xF0 | (c >> 18));
			out[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (c & 0x3F));
		}
	}
	out[o] = '\0';
	return out;
}

int utf8_to_utf16le(const char *s, uint8_t **out, size_t *outlen)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t n = strlen(s), o = 0;
	uint8_t *buf = malloc(n * 4 + 2);
	*out = NULL;
	*outlen = 0;
	if (!buf)
		return SISIGN_ERR_NOMEM;
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t extra;
		if (u[i] < 0x80) {
			c = u[i];
			extra = 0;
		} else if ((u[i] & 0xE0) == 0xC0) {
			c = u[i] & 0x1F;
			extra = 1;
		} else if ((u[i] & 0xF0) == 0xE0) {
			c = u[i] & 0x0F;
			extra = 2;
		} else if ((u[i] & 0xF8) == 0xF0) {
			c = u[i] & 0x07;
			extra = 3;
		} else {
			goto bad;
		}
		if (extra > n - i - 1)
			goto bad;
		for (size_t k = 1; k <= extra; k++) {
			if ((u[i + k] & 0xC0) != 0x80)
				goto bad;
			c = (c << 6) | (u[i + k] & 0x3F);
		}
		if ((extra == 1 && c < 0x80) || (extra == 2 && c < 0x800) || (extra == 3 && c < 0x10000) ||
			c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			goto bad;
		i += extra + 1;
		if (c >= 0x10000) {
			c -= 0x10000;
			uint16_t hi = (uint16_t)(0xD800 + (c >> 10)), lo = (uint16_t)(0xDC00 + (c & 0x3FF));
			buf[o++] = (uint8_t)hi;
			buf[o++] = (uint8_t)(hi >> 8);
			buf[o++] = (uint8_t)lo;
			buf[o++] = (uint8_t)(lo >> 8);
		} else {
			buf[o++] = (uint8_t)c;
			buf[o++] = (uint8_t)(c >> 8);
		}
	}
	*out = buf;
	*outlen = o;
	return SISIGN_OK;
bad:
	free(buf);
	return SISIGN_ERR_INVALID_ARG;
}

size_t sisign_hex(const void *p, size_t n, char *out, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = p;
	size_t i;

	if (size == 0)
		return 0;
	if (n > (size - 1) / 2)
		n = (size - 1) / 2;
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
	return 2 * n;
}

char *util_hex_dup(const void *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (s)
		(void)sisign_hex(p, n, s, 2 * n + 1);
	return s;
}
