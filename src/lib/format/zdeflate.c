/* SPDX-License-Identifier: Apache-2.0 */
/* Deflating a controller without setting zlib up each time.  A deflate
 * stream owns about 270 KiB of state; making and freeing it for every
 * package of a batch costs more than deflating a few hundred bytes of
 * controller (fresh pages to fault in, then unmapped again, which flushes
 * every core's TLB).  Streams are kept in a small pool and reset between
 * uses: deflateReset gives a stream exactly the state deflateInit gives, so
 * the bytes are those compress2() would write. */
#include "format/format_private.h"

#include <pthread.h>
#include <stdlib.h>
#include <zlib.h>

#define POOL_MAX 16

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static z_stream *pool[POOL_MAX];
static size_t npool;

static z_stream *stream_get(void)
{
	z_stream *zs = NULL;
	pthread_mutex_lock(&pool_lock);
	if (npool)
		zs = pool[--npool];
	pthread_mutex_unlock(&pool_lock);
	if (zs) {
		if (deflateReset(zs) == Z_OK)
			return zs;
		deflateEnd(zs);
		free(zs);
	}
	if (!(zs = calloc(1, sizeof *zs)))
		return NULL;
	if (deflateInit(zs, Z_DEFAULT_COMPRESSION) != Z_OK) {
		free(zs);
		return NULL;
	}
	return zs;
}

static void stream_put(z_stream *zs)
{
	pthread_mutex_lock(&pool_lock);
	if (npool < POOL_MAX) {
		pool[npool++] = zs;
		zs = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	if (zs) {
		deflateEnd(zs);
		free(zs);
	}
}

int sis_deflate_default(const uint8_t *in, size_t n, uint8_t *out, size_t *outlen)
{
	z_stream *zs = stream_get();
	int zr;
	if (!zs)
		return -1;
	zs->next_in = (Bytef *)(uintptr_t)in;
	zs->next_out = out;
	/* one call does it all when the output has compressBound's room */
	if (n > 0xFFFFFFFFu || *outlen > 0xFFFFFFFFu) {
		stream_put(zs);
		return -1;
	}
	zs->avail_in = (uInt)n;
	zs->avail_out = (uInt)*outlen;
	zr = deflate(zs, Z_FINISH);
	*outlen = (size_t)zs->total_out;
	stream_put(zs);
	return zr == Z_STREAM_END ? 0 : -1;
}
