/* SPDX-License-Identifier: Apache-2.0 */
/* Internal side of struct sisign_signer: a small vtable so key files and
 * token keys plug into the same signing path. */
#ifndef SISIGN_SIGNER_PRIVATE_H
#define SISIGN_SIGNER_PRIVATE_H

#if !defined(SISIGN_BUILD) && !defined(SISIGN_TEST)
#error "signer_private.h is internal to libsisign"
#endif

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sisign/signer.h>

struct signer_ops {
	/* Sign a SHA-1 digest; *sig malloc'd. */
	int (*sign_sha1)(void *ctx, const unsigned char digest[20], unsigned char **sig, size_t *siglen,
		struct sisign_error *err);
	/* Release ctx (wipe whatever secret it holds). */
	void (*destroy)(void *ctx);
	/* Non-zero: the signatures come from a device (a token), so one that
	 * does not verify is SISIGN_ERR_TOKEN_FAILED; else SISIGN_ERR_CRYPTO. */
	int device;
};

struct sisign_signer {
	const struct signer_ops *ops;
	void *ctx;
	EVP_PKEY *pub;          /* public half: matched against the certificate, checks every signature */
	X509 *cert;             /* certificate found with the key (token), or NULL */
	STACK_OF(X509) *extra;  /* further certificates offered with the key, or NULL */
	char *desc;
};

/* Takes ownership of ctx (destroyed on failure too) and a reference to pub
 * (EVP_PKEY_up_ref is done here).  desc is copied. */
int signer_new(const struct signer_ops *ops, void *ctx, EVP_PKEY *pub, const char *desc,
	struct sisign_signer **out, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Give the signer a certificate that came with the key (reference taken). */
int signer_set_cert(struct sisign_signer *s, X509 *cert, struct sisign_error *err) SISIGN_WARN_UNUSED;

#endif
