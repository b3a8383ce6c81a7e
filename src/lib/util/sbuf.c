/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded little-endian reader.  Every check is by subtraction (n > len - off)
 * so no addition can wrap, and a failed read leaves the cursor where it was. */
#include "util/util_private.h"

void sbuf_init(struct sbuf *b, const void *data, size_t len, uint64_t base)
{
	b->data = data;
	b->len = data ? len : 0;
	b->off = 0;
	b->base = base;
}

static int need(const struct sbuf *b, size_t n)
{
	return n > b->len - b->off ? SISIGN_ERR_TRUNCATED : SISIGN_OK;
}

int sbuf_get_u8(struct sbuf *b, uint8_t *v)
{
	if (need(b, 1))
		return SISIGN_ERR_TRUNCATED;
	*v = b->data[b->off++];
	return SISIGN_OK;
}

int sbuf_get_u16le(struct sbuf *b, uint16_t *v)
{
	if (need(b, 2))
		return SISIGN_ERR_TRUNCATED;
	*v = le16(b->data + b->off);
	b->off += 2;
	return SISIGN_OK;
}

int sbuf_get_u32le(struct sbuf *b, uint32_t *v)
{
	if (need(b, 4))
		return SISIGN_ERR_TRUNCATED;
	*v = le32(b->data + b->off);
	b->off += 4;
	return SISIGN_OK;
}

int sbuf_peek_u32le(const struct sbuf *b, uint32_t *v)
{
	if (need(b, 4))
		return SISIGN_ERR_TRUNCATED;
	*v = le32(b->data + b->off);
	return SISIGN_OK;
}

int sbuf_get_u64le(struct sbuf *b, uint64_t *v)
{
	if (need(b, 8))
		return SISIGN_ERR_TRUNCATED;
	*v = le64(b->data + b->off);
	b->off += 8;
	return SISIGN_OK;
}

int sbuf_get_direct(struct sbuf *b, size_t n, const uint8_t **p)
{
	if (need(b, n))
		return SISIGN_ERR_TRUNCATED;
	*p = b->data + b->off;
	b->off += n;
	return SISIGN_OK;
}

int sbuf_sub(struct sbuf *b, size_t n, struct sbuf *child)
{
	if (need(b, n))
		return SISIGN_ERR_TRUNCATED;
	sbuf_init(child, b->data + b->off, n, b->base + b->off);
	b->off += n;
	return SISIGN_OK;
}

int sbuf_skip(struct sbuf *b, size_t n)
{
	if (need(b, n))
		return SISIGN_ERR_TRUNCATED;
	b->off += n;
	return SISIGN_OK;
}
