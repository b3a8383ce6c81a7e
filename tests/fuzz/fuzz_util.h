/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the small string fuzz targets (fuzz_uri, fuzz_dn,
 * fuzz_date): an assertion that crashes so libFuzzer keeps the input, the
 * error-record check every failing library call must pass, and a
 * NUL-terminated exact-size copy of the input. */
#ifndef SISIGN_FUZZ_UTIL_H
#define SISIGN_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sisign/error.h>

#define FZ_ASSERT(cond)                                                                  \
	do {                                                                                 \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                     \
		}                                                                                \
	} while (0)

/* A failure is negative, matches the record and says something. */
static inline void fz_check_error(int r, const struct sisign_error *err)
{
	FZ_ASSERT(r < 0);
	FZ_ASSERT(err->code == r);
	FZ_ASSERT(memchr(err->message, '\0', sizeof(err->message)) != NULL);
	FZ_ASSERT(err->message[0] != '\0');
}

/* The input as a C string of exactly size + 1 bytes (so ASan sees a read
 * past the NUL), or NULL if it holds a NUL byte: the parsers take C
 * strings, and a string never carries one. */
static inline char *fz_cstr(const uint8_t *data, size_t size)
{
	char *s;

	if (memchr(data, '\0', size))
		return NULL;
	if (!(s = malloc(size + 1)))
		return NULL;
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
