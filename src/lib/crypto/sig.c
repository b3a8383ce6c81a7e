/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-1 signatures as Symbian makes and checks them (sis-format.md §7.2). */
#include "crypto/crypto_private.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dsa.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "util/util_private.h"

enum sisign_key_type crypto_pkey_type(const EVP_PKEY *pkey)
{
	if (pkey == NULL)
		return SISIGN_KEY_UNKNOWN;
	/* EVP_PKEY_is_a, not the legacy id: it also works for provider keys.
	 * RSA-PSS keys are deliberately not "RSA". */
	if (EVP_PKEY_is_a(pkey, "RSA"))
		return SISIGN_KEY_RSA;
	if (EVP_PKEY_is_a(pkey, "DSA"))
		return SISIGN_KEY_DSA;
	return SISIGN_KEY_UNKNOWN;
}

int crypto_pkey_has_private(const EVP_PKEY *pkey)
{
	BIGNUM *bn = NULL;
	int ok;

	ok = EVP_PKEY_get_bn_param(pkey,
		     crypto_pkey_type(pkey) == SISIGN_KEY_RSA ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY, &bn) == 1 &&
		bn != NULL;
	BN_clear_free(bn);
	err_ossl_clear();
	return ok;
}

const char *crypto_sig_oid_for_pkey(const EVP_PKEY *pkey)
{
	switch (crypto_pkey_type(pkey)) {
	case SISIGN_KEY_RSA:
		return CRYPTO_OID_RSA_SHA1;
	case SISIGN_KEY_DSA:
		return CRYPTO_OID_DSA_SHA1;
	default:
		return NULL;
	}
}

/* Compare the DSA public values.  A DSA certificate may leave the domain
 * parameters to be inherited from its issuer; EVP_PKEY_eq then says "no"
 * although the key is the same. */
static int dsa_pub_equal(const EVP_PKEY *a, const EVP_PKEY *b)
{
	BIGNUM *ya = NULL, *yb = NULL;
	int eq = 0;

	if (EVP_PKEY_get_bn_param(a, OSSL_PKEY_PARAM_PUB_KEY, &ya) == 1 &&
		EVP_PKEY_get_bn_param(b, OSSL_PKEY_PARAM_PUB_KEY, &yb) == 1)
		eq = BN_cmp(ya, yb) == 0;
	BN_free(ya);
	BN_free(yb);
	return eq;
}

int crypto_key_matches_cert(EVP_PKEY *key, X509 *cert)
{
	EVP_PKEY *ck;
	enum sisign_key_type kt;
	int r = SISIGN_ERR_KEY_MISMATCH;

	if (key == NULL || cert == NULL)
		return SISIGN_ERR_KEY_MISMATCH;
	if ((ck = X509_get0_pubkey(cert)) == NULL)
		goto out;
	kt = crypto_pkey_type(key);
	if (kt == SISIGN_KEY_UNKNOWN || kt != crypto_pkey_type(ck))
		goto out;
	/* EVP_PKEY_eq compares public parts (and parameters) only. */
	if (EVP_PKEY_eq(key, ck) == 1)
		r = SISIGN_OK;
	else if (kt == SISIGN_KEY_DSA && dsa_pub_equal(key, ck))
		r = SISIGN_OK;
out:
	err_ossl_clear();
	return r;
}

EVP_PKEY *crypto_pkey_public_copy(EVP_PKEY *pkey)
{
	unsigned char *der = NULL;
	const unsigned char *q;
	EVP_PKEY *pub = NULL;
	int n;

	if ((n = i2d_PUBKEY(pkey, &der)) <= 0)
		return NULL;
	q = der;
	pub = d2i_PUBKEY(NULL, &q, n);
	OPENSSL_free(der);
	return pub;
}

int crypto_pw_cb(char *pass, size_t pass_size, size_t *pass_len, const OSSL_PARAM params[], void *arg)
{
	struct crypto_pw *st = arg;
	char *buf;
	size_t len = 0;
	int r;

	(void)params;
	*pass_len = 0;
	st->asked = 1;
	if (st->cb == NULL || st->cb_err != 0)
		return 0;
	if (!(buf = sisign_secret_alloc(CRYPTO_PASSPHRASE_MAX))) {
		st->cb_err = SISIGN_ERR_NOMEM;
		return 0;
	}
	/* The front end's answer passes sisign_secret_check (empty, NUL,
	 * several lines are refused before any decryption). */
	r = util_secret_ask(st->cb, st->userdata, "passphrase", st->path, -1, buf, CRYPTO_PASSPHRASE_MAX, &len,
		NULL);
	if (r == SISIGN_OK && len > pass_size)
		r = SISIGN_ERR_INVALID_ARG;
	if (r != SISIGN_OK) {
		st->cb_err = r;
		sisign_secret_free(buf, CRYPTO_PASSPHRASE_MAX);
		return 0;
	}
	memcpy(pass, buf, len);
	*pass_len = len;
	sisign_secret_free(buf, CRYPTO_PASSPHRASE_MAX);
	return 1;
}

/* A signing (verify = 0) or verification context for SHA-1 digests with
 * pkey, as Symbian makes and checks them.  RSA: block type 1 over DER
 * DigestInfo{sha1, digest}, what RSA_sign(NID_sha1) produces.  DSA: the md
 * only tells the provider the digest size. */
static int sha1_pkey_ctx(EVP_PKEY *pkey, enum sisign_key_type kt, int verify, EVP_PKEY_CTX **out,
	struct sisign_error *err)
{
	EVP_PKEY_CTX *ctx = NULL;
	int r = SISIGN_ERR_INTERNAL;

	*out = NULL;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot create a %s context", verify ? "verification" : "signing");
		goto out;
	}
	if ((verify ? EVP_PKEY_verify_init(ctx) : EVP_PKEY_sign_init(ctx)) <= 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot initialise %s", verify ? "verification" : "signing");
		goto out;
	}
	if (kt == SISIGN_KEY_RSA && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot select PKCS#1 v1.5 padding");
		goto out;
	}
	if (EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha1()) <= 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot select SHA-1");
		goto out;
	}
	/* success */
	*out = ctx;
	ctx = NULL; /* transferred */
	r = SISIGN_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

int crypto_sign_sha1_with_pkey(EVP_PKEY *pkey, const uint8_t digest[20], uint8_t **sig, size_t *siglen,
	struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	enum sisign_key_type kt;

	if (sig != NULL)
		*sig = NULL;
	if (siglen != NULL)
		*siglen = 0;
	if (pkey == NULL || digest == NULL || sig == NULL || siglen == NULL)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "crypto_sign_sha1_with_pkey: bad arguments");
	kt = crypto_pkey_type(pkey);
	if (kt == SISIGN_KEY_UNKNOWN)
		return err_set(err, SISIGN_ERR_BAD_KEY, -1, "key type %s cannot sign SIS files (only RSA and DSA)",
			EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "?");

	if ((r = sha1_pkey_ctx(pkey, kt, 0, &ctx, err)) != SISIGN_OK)
		goto out;
	if (EVP_PKEY_sign(ctx, NULL, &len, digest, 20) <= 0 || len == 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot size the signature");
		goto out;
	}
	if ((buf = malloc(len)) == NULL) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	if (EVP_PKEY_sign(ctx, buf, &len, digest, 20) <= 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "signing failed");
		goto out;
	}
	if (kt == SISIGN_KEY_RSA && len != (size_t)EVP_PKEY_get_size(pkey)) {
		r = err_set(err, SISIGN_ERR_INTERNAL, -1, "RSA signature is %zu bytes, not the modulus length", len);
		goto out;
	}
	/* success */
	*sig = buf;
	*siglen = len;
	buf = NULL; /* transferred */
	r = SISIGN_OK;
out:
	free(buf);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* Length of the DSA-Sig-Value (DER SEQUENCE{r,s}) at the start of sig, as
 * OpenSSL's decoder reads it, or 0 if it does not start with one.  The
 * verification then takes exactly these bytes, and OpenSSL refuses any
 * encoding that is not the canonical DER of the values it decoded. */
static size_t dsa_sig_der_len(const uint8_t *sig, size_t siglen)
{
	const unsigned char *q = sig;
	DSA_SIG *ds;

	if (siglen > LONG_MAX || (ds = d2i_DSA_SIG(NULL, &q, (long)siglen)) == NULL) {
		err_ossl_clear();
		return 0;
	}
	DSA_SIG_free(ds);
	return (size_t)(q - sig);
}

int crypto_verify_sha1_sig(X509 *signer, const char *oid, const uint8_t digest[20], const uint8_t *sig,
	size_t siglen, struct sisign_error *err)
{
	EVP_PKEY *pk;

	if (signer == NULL || oid == NULL || digest == NULL || (sig == NULL && siglen > 0))
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "crypto_verify_sha1_sig: bad arguments");
	/* The device accepts only these two strings (signatureverifier.cpp);
	 * the primitive then comes from the certificate's key, not the OID. */
	if (strcmp(oid, CRYPTO_OID_RSA_SHA1) != 0 && strcmp(oid, CRYPTO_OID_DSA_SHA1) != 0)
		return err_set(err, SISIGN_ERR_SIG_UNSUPPORTED, -1,
			"signature algorithm %.64s is not supported (only SHA-1 with RSA or DSA)", oid);
	if ((pk = X509_get0_pubkey(signer)) == NULL)
		return err_ossl(err, SISIGN_ERR_BAD_CERT, "cannot decode the signer certificate's public key");
	return crypto_verify_sha1_pkey(pk, digest, sig, siglen, err);
}

int crypto_verify_sha1_pkey(EVP_PKEY *pk, const uint8_t digest[20], const uint8_t *sig, size_t siglen,
	struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *padded = NULL;
	const uint8_t *vsig = sig;
	size_t vlen = siglen;
	enum sisign_key_type kt;
	int ok;

	if (pk == NULL || digest == NULL || (sig == NULL && siglen > 0))
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "crypto_verify_sha1_pkey: bad arguments");
	kt = crypto_pkey_type(pk);
	if (kt == SISIGN_KEY_UNKNOWN)
		return err_set(err, SISIGN_ERR_SIG_UNSUPPORTED, -1, "signer key type %s is not RSA or DSA",
			EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "?");
	if (siglen == 0)
		return err_set(err, SISIGN_ERR_SIG_INVALID, -1, "signature is empty");

	if (kt == SISIGN_KEY_RSA) {
		int msize = EVP_PKEY_get_size(pk);
		if (msize <= 0) {
			r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot read the RSA modulus size");
			goto out;
		}
		if (siglen > (size_t)msize) {
			r = err_set(err, SISIGN_ERR_SIG_INVALID, -1, "RSA signature is %zu bytes, longer than the %d-byte modulus",
				siglen, msize);
			goto out;
		}
		if (siglen < (size_t)msize) {
			/* XXX signsis always writes modulus-length blobs; the device
			 * reads the blob as a big-endian integer, so a shorter one
			 * is taken as left-padded with zeros. */
			if ((padded = calloc(1, (size_t)msize)) == NULL) {
				r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
				goto out;
			}
			memcpy(padded + ((size_t)msize - siglen), sig, siglen);
			vsig = padded;
			vlen = (size_t)msize;
		}
	} else {
		/* signsis leaves the blob at DSA_size and pads a short DER with
		 * zeros: verify the DER by its own length, refuse anything else. */
		size_t dl = dsa_sig_der_len(sig, siglen);
		if (dl == 0) {
			r = err_set(err, SISIGN_ERR_SIG_INVALID, -1, "DSA signature is not a DER SEQUENCE");
			goto out;
		}
		for (size_t i = dl; i < siglen; i++) {
			if (sig[i] != 0) {
				r = err_set(err, SISIGN_ERR_SIG_INVALID, -1,
					"DSA signature has non-zero bytes after its DER encoding");
				goto out;
			}
		}
		vlen = dl;
	}

	if ((r = sha1_pkey_ctx(pk, kt, 1, &ctx, err)) != SISIGN_OK)
		goto out;
	ok = EVP_PKEY_verify(ctx, vsig, vlen, digest, 20);
	if (ok != 1) {
		/* 0 is "does not verify"; a negative value is a malformed
		 * signature, which for the installer is the same outcome. */
		r = err_ossl(err, SISIGN_ERR_SIG_INVALID, "%s signature does not verify",
			kt == SISIGN_KEY_RSA ? "RSA" : "DSA");
		goto out;
	}
	r = SISIGN_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	free(padded);
	return r;
}
