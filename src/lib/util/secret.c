/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets (PINs and passphrases): the one validity rule every source
 * passes, OpenSSL's secure heap for the buffers that hold them, and the
 * one way the library asks a front end's callback.
 *
 * The secure heap is set up on first use (pthread_once) unless the
 * application already did: 64 KiB, mmap'd with guard pages, mlock'd (when
 * RLIMIT_MEMLOCK allows) and marked MADV_DONTDUMP, so its contents stay out
 * of swap and core dumps; OPENSSL_secure_clear_free wipes on free.  If it
 * cannot be set up, OPENSSL_secure_malloc falls back to plain malloc and the
 * buffers are still wiped. */
#include "util/util_private.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sisign/signer.h>

#define SECURE_HEAP_SIZE 65536
#define SECURE_HEAP_MIN 16

static pthread_once_t heap_once = PTHREAD_ONCE_INIT;

static void heap_init(void)
{
	if (!CRYPTO_secure_malloc_initialized())
		(void)CRYPTO_secure_malloc_init(SECURE_HEAP_SIZE, SECURE_HEAP_MIN);
}

void *sisign_secret_alloc(size_t n)
{
	(void)pthread_once(&heap_once, heap_init);
	return OPENSSL_secure_zalloc(n ? n : 1);
}

void sisign_secret_free(void *p, size_t n)
{
	if (p)
		OPENSSL_secure_clear_free(p, n ? n : 1);
}

static int is_pin(const char *kind)
{
	return kind && strcmp(kind, "pin") == 0;
}

int sisign_secret_check(const char *kind, char *buf, size_t len, size_t *out_len, struct sisign_error *err)
{
	int code = is_pin(kind) ? SISIGN_ERR_BAD_PIN : SISIGN_ERR_BAD_PASSPHRASE;
	const char *name = is_pin(kind) ? "PIN" : "passphrase";

	if (out_len)
		*out_len = 0;
	if (!buf)
		return err_set(err, code, -1, "no %s", name);
	/* Exactly one line end goes: "\n", or "\r\n" as Windows editors
	 * write it. */
	if (len > 0 && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	if (len == 0)
		return err_set(err, code, -1, "the %s is empty; refusing it before any login or decryption", name);
	if (memchr(buf, '\0', len))
		return err_set(err, code, -1, "the %s contains a NUL byte; refusing it", name);
	if (memchr(buf, '\n', len) || memchr(buf, '\r', len))
		return err_set(err, code, -1, "the %s has more than one line; refusing it", name);
	buf[len] = '\0';
	if (out_len)
		*out_len = len;
	return SISIGN_OK;
}

int util_secret_ask(sisign_secret_cb cb, void *data, const char *kind, const char *what, int tries_left,
	char *buf, size_t size, size_t *len, struct sisign_error *err)
{
	int n, r;

	*len = 0;
	memset(buf, 0, size);
	n = cb(data, kind, what, tries_left, buf, size);
	if (n < 0) {
		OPENSSL_cleanse(buf, size);
		if (is_pin(kind))
			return err_set(err, n, -1, "no PIN for token \"%s\"", what ? what : "");
		return err_set(err, n, -1, "%s: no passphrase given", what ? what : "");
	}
	if ((size_t)n >= size) {
		OPENSSL_cleanse(buf, size);
		return err_set(err, is_pin(kind) ? SISIGN_ERR_BAD_PIN : SISIGN_ERR_BAD_PASSPHRASE, -1,
			"the %s is too long (at most %zu bytes)", is_pin(kind) ? "PIN" : "passphrase", size - 1);
	}
	if ((r = sisign_secret_check(kind, buf, (size_t)n, len, err)) != SISIGN_OK)
		OPENSSL_cleanse(buf, size);
	return r;
}
