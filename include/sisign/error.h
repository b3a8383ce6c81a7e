/* SPDX-License-Identifier: Apache-2.0 */
/* sisign — error codes and the error record every fallible call may fill. */
#ifndef SISIGN_ERROR_H
#define SISIGN_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SISIGN_WARN_UNUSED __attribute__((warn_unused_result))
#define SISIGN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SISIGN_WARN_UNUSED
#define SISIGN_PRINTF(a, b)
#endif

#if defined(SISIGN_BUILD) && defined(__GNUC__)
#define SISIGN_API __attribute__((visibility("default")))
#else
#define SISIGN_API
#endif

/* 0 is success; every failure is negative.  The values are part of the ABI:
 * never renumber, only append. */
enum sisign_err {
	SISIGN_OK = 0,
	SISIGN_ERR_INTERNAL = -1,
	SISIGN_ERR_NOMEM = -2,
	SISIGN_ERR_INVALID_ARG = -3,
	SISIGN_ERR_SYSTEM = -4,        /* I/O or OS call failed; errno in sisign_error.sys_errno */
	SISIGN_ERR_CANCELLED = -5,

	/* parsing */
	SISIGN_ERR_TRUNCATED = -10,    /* input ends inside a field */
	SISIGN_ERR_MALFORMED = -11,    /* structure breaks the SIS rules (including a compressed
	                                * controller that does not inflate to its declared size) */
	SISIGN_ERR_TOO_LARGE = -12,    /* a declared length or size is over a cap */
	SISIGN_ERR_TRAILING_DATA = -13,
	SISIGN_ERR_UNSUPPORTED_VERSION = -14, /* pre-v9 ("legacy") SIS file */
	SISIGN_ERR_NOT_SIS = -15,      /* not a SIS file at all */
	SISIGN_ERR_UNSUPPORTED = -16,  /* valid but not supported (e.g. compression algorithm) */
	SISIGN_ERR_TOO_DEEP = -17,     /* embedded packages nested too deeply */
	SISIGN_ERR_HASH_MISMATCH = -18,/* a file's SHA-1 does not match its data */
	SISIGN_ERR_CORRUPT_DATA = -19, /* compressed file data does not inflate to its declared size
	                                * (a compressed controller that does not is MALFORMED) */

	/* signing and verification */
	SISIGN_ERR_SIG_INVALID = -20,
	SISIGN_ERR_CERT_UNTRUSTED = -21,
	SISIGN_ERR_CERT_EXPIRED = -22, /* outside its validity period */
	SISIGN_ERR_KEY_MISMATCH = -23, /* private key does not belong to the certificate */
	SISIGN_ERR_NOT_SIGNED = -24,
	SISIGN_ERR_BAD_KEY = -25,      /* key file unreadable or of an unsupported type */
	SISIGN_ERR_BAD_PASSPHRASE = -26,
	SISIGN_ERR_BAD_CERT = -27,
	SISIGN_ERR_SIG_UNSUPPORTED = -28, /* algorithm OID not one of the two Symbian accepts */

	/* tokens */
	SISIGN_ERR_TOKEN_NOT_FOUND = -30,
	SISIGN_ERR_KEY_NOT_FOUND = -31,
	SISIGN_ERR_PIN_INCORRECT = -32,
	SISIGN_ERR_PIN_LOCKED = -33,
	SISIGN_ERR_PIN_FINAL_TRY = -34,
	SISIGN_ERR_AMBIGUOUS = -35,    /* a URI matches more than one token or object */
	SISIGN_ERR_MODULE = -36,       /* a PKCS#11 module could not be found, loaded or initialised */
	SISIGN_ERR_TOKEN = -37,        /* the token failed an operation */
	SISIGN_ERR_BAD_URI = -38,
	SISIGN_ERR_EXISTS = -39,       /* refusing to overwrite */

	SISIGN_ERR_CRYPTO = -40,       /* OpenSSL failed; reason in sisign_error.ossl_reason */
	SISIGN_ERR_BAD_PIN = -41,      /* a PIN refused before any login: empty, NUL byte, several
	                                * lines, pin-value not allowed, unsafe pin-source file */

	/* The token is gone or broken: removed (CKR_DEVICE_REMOVED,
	 * CKR_TOKEN_NOT_PRESENT), its session lost (CKR_SESSION_HANDLE_INVALID,
	 * CKR_SESSION_CLOSED), or failing (CKR_DEVICE_ERROR, CKR_GENERAL_ERROR
	 * from a signing call), or it returned a signature that does not
	 * verify.  Further operations on it are pointless: a batch stops at the
	 * first one.  sisign_error.ckr holds the CK_RV (0 for a bad signature). */
	SISIGN_ERR_TOKEN_FAILED = -42,

	/* The device's installer would refuse the package as signed (an
	 * error-severity finding of sisign_pkg_check_install); a batch with
	 * check_strict fails such a job with it and writes nothing. */
	SISIGN_ERR_WOULD_NOT_INSTALL = -43,
};

/* Filled where a failure happens.  Callers may pass NULL where they only want
 * the code.  Plain data: no allocation, nothing to free. */
struct sisign_error {
	int code;                      /* enum sisign_err */
	int sys_errno;                 /* errno for SISIGN_ERR_SYSTEM, else 0 */
	unsigned long ckr;             /* PKCS#11 CK_RV where one is involved, else 0 */
	long long offset;              /* byte offset in the input where relevant, else -1 */
	char message[512];             /* one line, no trailing newline */
	char ossl_reason[256];         /* drained OpenSSL error queue, may be empty */
};

/* Static English text for a code; never NULL. */
SISIGN_API const char *sisign_strerror(int code);

/* Reset to "no error" (code 0, offset -1, empty strings). */
SISIGN_API void sisign_error_clear(struct sisign_error *err);

/* Version string of the library, e.g. "0.1.0". */
SISIGN_API const char *sisign_version(void);

/* Lower-case hex of the n bytes at p into out, NUL-terminated: as many
 * whole bytes as fit in size (2 * n + 1 holds them all; size 0 writes
 * nothing).  Returns the number of hex digits written.  The one hex encoder
 * of the library and its front ends. */
SISIGN_API size_t sisign_hex(const void *p, size_t n, char *out, size_t size);

/* Wipe memory that held a secret (OPENSSL_cleanse), and wipe-then-free. */
SISIGN_API void sisign_memzero(void *p, size_t n);
SISIGN_API void sisign_freezero(void *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif
