/* SPDX-License-Identifier: Apache-2.0 */
/* Error records and messages. */
#include "util/util_private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

const char *sisign_version(void)
{
	return SISIGN_VERSION_STRING;
}

const char *sisign_strerror(int code)
{
	switch (code) {
	case SISIGN_OK: return "success";
	case SISIGN_ERR_INTERNAL: return "internal error";
	case SISIGN_ERR_NOMEM: return "out of memory";
	case SISIGN_ERR_INVALID_ARG: return "invalid argument";
	case SISIGN_ERR_SYSTEM: return "system error";
	case SISIGN_ERR_CANCELLED: return "cancelled";
	case SISIGN_ERR_TRUNCATED: return "file is truncated";
	case SISIGN_ERR_MALFORMED: return "malformed SIS structure";
	case SISIGN_ERR_TOO_LARGE: return "declared size too large";
	case SISIGN_ERR_TRAILING_DATA: return "unexpected trailing data";
	case SISIGN_ERR_UNSUPPORTED_VERSION: return "pre-v9 (legacy) SIS file";
	case SISIGN_ERR_NOT_SIS: return "not a SIS file";
	case SISIGN_ERR_UNSUPPORTED: return "unsupported feature";
	case SISIGN_ERR_TOO_DEEP: return "embedded packages nested too deeply";
	case SISIGN_ERR_HASH_MISMATCH: return "file hash does not match its data";
	case SISIGN_ERR_CORRUPT_DATA: return "corrupt compressed data";
	case SISIGN_ERR_SIG_INVALID: return "signature does not verify";
	case SISIGN_ERR_CERT_UNTRUSTED: return "certificate not trusted";
	case SISIGN_ERR_CERT_EXPIRED: return "certificate outside its validity period";
	case SISIGN_ERR_KEY_MISMATCH: return "private key does not match the certificate";
	case SISIGN_ERR_NOT_SIGNED: return "package is not signed";
	case SISIGN_ERR_BAD_KEY: return "unusable private key";
	case SISIGN_ERR_BAD_PASSPHRASE: return "wrong or missing passphrase";
	case SISIGN_ERR_BAD_CERT: return "unusable certificate";
	case SISIGN_ERR_SIG_UNSUPPORTED: return "unsupported signature algorithm";
	case SISIGN_ERR_TOKEN_NOT_FOUND: return "token not found";
	case SISIGN_ERR_KEY_NOT_FOUND: return "key not found";
	case SISIGN_ERR_PIN_INCORRECT: return "PIN incorrect";
	case SISIGN_ERR_PIN_LOCKED: return "PIN locked";
	case SISIGN_ERR_PIN_FINAL_TRY: return "PIN on its final try";
	case SISIGN_ERR_AMBIGUOUS: return "ambiguous: more than one match";
	case SISIGN_ERR_MODULE: return "PKCS#11 module failure";
	case SISIGN_ERR_TOKEN: return "token operation failed";
	case SISIGN_ERR_BAD_URI: return "bad PKCS#11 URI";
	case SISIGN_ERR_EXISTS: return "already exists";
	case SISIGN_ERR_CRYPTO: return "cryptographic library error";
	case SISIGN_ERR_BAD_PIN: return "unusable PIN or PIN source";
	case SISIGN_ERR_TOKEN_FAILED: return "token removed or failing";
	case SISIGN_ERR_WOULD_NOT_INSTALL: return "the installer would refuse the package";
	default: return "unknown error";
	}
}

void sisign_error_clear(struct sisign_error *err)
{
	if (!err)
		return;
	memset(err, 0, sizeof *err);
	err->offset = -1;
}

void sisign_memzero(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

void sisign_freezero(void *p, size_t n)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, n);
	free(p);
}

/* Format (4, 0): callers pass their own checked format and va_list. */
static void vfill(struct sisign_error *err, int code, long long offset, const char *fmt, va_list ap)
	SISIGN_PRINTF(4, 0);

static void vfill(struct sisign_error *err, int code, long long offset, const char *fmt, va_list ap)
{
	err->code = code;
	err->offset = offset;
	vsnprintf(err->message, sizeof err->message, fmt, ap);
}

int err_set(struct sisign_error *err, int code, long long offset, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return code;
	sisign_error_clear(err);
	va_start(ap, fmt);
	vfill(err, code, offset, fmt, ap);
	va_end(ap);
	return code;
}

int err_sys(struct sisign_error *err, int saved_errno, const char *fmt, ...)
{
	va_list ap;
	size_t n;
	if (!err)
		return SISIGN_ERR_SYSTEM;
	sisign_error_clear(err);
	va_start(ap, fmt);
	vfill(err, SISIGN_ERR_SYSTEM, -1, fmt, ap);
	va_end(ap);
	err->sys_errno = saved_errno;
	n = strlen(err->message);
	if (n < sizeof err->message)
		snprintf(err->message + n, sizeof err->message - n, ": %s", strerror(saved_errno));
	return SISIGN_ERR_SYSTEM;
}

static void drain_ossl(char *buf, size_t size)
{
	unsigned long e;
	size_t used = 0;
	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		char one[256];
		ERR_error_string_n(e, one, sizeof one);
		if (used < size) {
			int w = snprintf(buf + used, size - used, "%s%s", used ? "; " : "", one);
			if (w > 0)
				used += (size_t)w;
		}
	}
}

int err_ossl(struct sisign_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	if (!err) {
		ERR_clear_error();
		return code;
	}
	sisign_error_clear(err);
	va_start(ap, fmt);
	vfill(err, code, -1, fmt, ap);
	va_end(ap);
	drain_ossl(err->ossl_reason, sizeof err->ossl_reason);
	return code;
}

void err_ossl_clear(void)
{
	ERR_clear_error();
}
