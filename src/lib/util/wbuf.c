/* SPDX-License-Identifier: Apache-2.0 */
/* Growable output buffer with a sticky failure flag (checked once by the
 * caller before the bytes are used). */
#include "util/util_private.h"

#include <stdlib.h>
#include <string.h>

#define WBUF_DEFAULT_MAX ((size_t)1 << 30)

void wbuf_init(struct wbuf *w)
{
	memset(w, 0, sizeof *w);
}

void wbuf_free(struct wbuf *w)
{
	free(w->data);
	wbuf_init(w);
}

static int grow(struct wbuf *w, size_t n)
{
	size_t max = w->max ? w->max : WBUF_DEFAULT_MAX;
	size_t ncap;
	uint8_t *p;
	if (w->failed)
		return -1;
	if (n > max - w->len) {
		w->failed = 1;
		return -1;
	}
	if (w->len + n <= w->cap)
		return 0;
	ncap = w->cap ? w->cap : 256;
	while (ncap < w->len + n)
		ncap = ncap > max / 2 ? max : ncap * 2;
	p = realloc(w->data, ncap);
	if (!p) {
		w->failed = 1;
		return -1;
	}
	w->data = p;
	w->cap = ncap;
	return 0;
}

void wbuf_put(struct wbuf *w, const void *p, size_t n)
{
	if (n == 0 || grow(w, n))
		return;
	memcpy(w->data + w->len, p, n);
	w->len += n;
}

void wbuf_put_u8(struct wbuf *w, uint8_t v)
{
	wbuf_put(w, &v, 1);
}

void wbuf_put_u16le(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	wbuf_put(w, b, 2);
}

void wbuf_put_u32le(struct wbuf *w, uint32_t v)
{
	uint8_t b[4];
	put_le32(b, v);
	wbuf_put(w, b, 4);
}

void wbuf_put_u64le(struct wbuf *w, uint64_t v)
{
	wbuf_put_u32le(w, (uint32_t)v);
	wbuf_put_u32le(w, (uint32_t)(v >> 32));
}

void wbuf_put_zeros(struct wbuf *w, size_t n)
{
	if (n == 0 || grow(w, n))
		return;
	memset(w->data + w->len, 0, n);
	w->len += n;
}

size_t wbuf_reserve(struct wbuf *w, size_t n)
{
	size_t at = w->len;
	wbuf_put_zeros(w, n);
	return at;
}

uint8_t *wbuf_steal(struct wbuf *w, size_t *len)
{
	uint8_t *p = w->data;
	if (len)
		*len = w->len;
	wbuf_init(w);
	return p;
}
