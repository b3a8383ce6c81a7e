/* SPDX-License-Identifier: Apache-2.0 */
/* Signers: the common object behind file keys and token keys, and the
 * file-key implementation (sis-format.md §7.2, §7.5 "Key loading"). */
#include "sign/signer_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "crypto/crypto_private.h"
#include "util/util_private.h"

/* Key files are small; this only guards against reading a huge file. */
#define KEY_FILE_MAX ((size_t)1024 * 1024)

int signer_new(const struct signer_ops *ops, void *ctx, EVP_PKEY *pub, const char *desc,
	struct sisign_signer **out, struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	struct sisign_signer *s = NULL;

	if (out != NULL)
		*out = NULL;
	if (ops == NULL || ops->sign_sha1 == NULL || out == NULL) {
		r = err_set(err, SISIGN_ERR_INVALID_ARG, -1, "signer_new: bad arguments");
		goto out;
	}
	if ((s = calloc(1, sizeof *s)) == NULL) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	if ((s->desc = strdup(desc != NULL ? desc : "")) == NULL) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	if (pub != NULL) {
		if (!EVP_PKEY_up_ref(pub)) {
			r = err_ossl(err, SISIGN_ERR_CRYPTO, "EVP_PKEY_up_ref failed");
			goto out;
		}
		s->pub = pub;
	}
	s->ops = ops;
	s->ctx = ctx;
	ctx = NULL; /* transferred */
	/* success */
	*out = s;
	s = NULL; /* transferred */
	r = SISIGN_OK;
out:
	if (ctx != NULL && ops != NULL && ops->destroy != NULL)
		ops->destroy(ctx);
	sisign_signer_free(s);
	return r;
}

int signer_set_cert(struct sisign_signer *s, X509 *cert, struct sisign_error *err)
{
	if (s == NULL || cert == NULL)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "signer_set_cert: bad arguments");
	if (!X509_up_ref(cert))
		return err_ossl(err, SISIGN_ERR_CRYPTO, "X509_up_ref failed");
	X509_free(s->cert);
	s->cert = cert;
	return SISIGN_OK;
}

void sisign_signer_free(struct sisign_signer *s)
{
	if (s == NULL)
		return;
	if (s->ctx != NULL && s->ops != NULL && s->ops->destroy != NULL)
		s->ops->destroy(s->ctx);
	EVP_PKEY_free(s->pub);
	X509_free(s->cert);
	sk_X509_pop_free(s->extra, X509_free);
	free(s->desc);
	free(s);
}

enum sisign_key_type sisign_signer_key_type(const struct sisign_signer *s)
{
	if (s == NULL)
		return SISIGN_KEY_UNKNOWN;
	return crypto_pkey_type(s->pub);
}

int sisign_signer_key_bits(const struct sisign_signer *s)
{
	int bits;

	if (s == NULL || s->pub == NULL)
		return 0;
	bits = EVP_PKEY_get_bits(s->pub);
	return bits > 0 ? bits : 0;
}

const char *sisign_signer_describe(const struct sisign_signer *s)
{
	if (s == NULL || s->desc == NULL)
		return "";
	return s->desc;
}

/* What a signature is checked against, for messages. */
static void check_target(const struct sisign_signer *s, char *buf, size_t size)
{
	const X509_NAME *nm = s->cert != NULL ? X509_get_subject_name(s->cert) : NULL;
	char subj[256];

	if (nm != NULL && crypto_dn_oneline(nm, subj, sizeof subj, NULL) == SISIGN_OK)
		snprintf(buf, size, "certificate \"%s\"", subj);
	else
		snprintf(buf, size, "the public key of %s", s->desc);
}

/* Sign with ops->sign_sha1 and check the signature against s->pub before
 * handing it out.  No check when the signer has no public key (signer_new
 * allows that; both real signers always set one). */
static int signer_sign_checked(struct sisign_signer *s, const unsigned char digest[20], unsigned char **sig,
	size_t *siglen, struct sisign_error *err)
{
	char target[300];
	int r;

	if ((r = s->ops->sign_sha1(s->ctx, digest, sig, siglen, err)) != SISIGN_OK)
		return r;
	if (s->pub == NULL)
		return SISIGN_OK;
	/* Every signature is checked before anyone can write it: a faulty
	 * token or driver, a fault in an RSA-CRT computation (whose output
	 * gives the key away), or a key that is not the certificate's would
	 * otherwise leave a package the phone refuses.  s->pub is the key the
	 * certificate was matched against (sisign_identity_new). */
	if (crypto_verify_sha1_pkey(s->pub, digest, *sig, *siglen, NULL) == SISIGN_OK)
		return SISIGN_OK;
	free(*sig);
	*sig = NULL;
	*siglen = 0;
	check_target(s, target, sizeof target);
	err_ossl_clear();
	if (s->ops->device)
		return err_set(err, SISIGN_ERR_TOKEN_FAILED, -1,
			"the token returned a signature that does not verify against %s; nothing was written "
			"(a faulty token or driver, or a key that is not the certificate's)", target);
	return err_set(err, SISIGN_ERR_CRYPTO, -1,
		"%s: the signature just made does not verify against %s; nothing was written", s->desc, target);
}

int sisign_signer_sign_sha1(struct sisign_signer *s, const unsigned char digest[20], unsigned char **sig,
	size_t *siglen, struct sisign_error *err)
{
	if (sig != NULL)
		*sig = NULL;
	if (siglen != NULL)
		*siglen = 0;
	if (s == NULL || s->ops == NULL || digest == NULL || sig == NULL || siglen == NULL)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_signer_sign_sha1: bad arguments");
	return signer_sign_checked(s, digest, sig, siglen, err);
}

/* ---- file keys ------------------------------------------------------------------ */

struct file_key {
	EVP_PKEY *pkey;
	char *path;
};

static int file_key_sign(void *ctx, const unsigned char digest[20], unsigned char **sig, size_t *siglen,
	struct sisign_error *err)
{
	struct file_key *fk = ctx;
	int r;

	if ((r = crypto_sign_sha1_with_pkey(fk->pkey, digest, sig, siglen, err)) != SISIGN_OK)
		crypto_err_prefix(err, fk->path);
	return r;
}

static void file_key_destroy(void *ctx)
{
	struct file_key *fk = ctx;

	if (fk == NULL)
		return;
	EVP_PKEY_free(fk->pkey); /* OpenSSL wipes the private key material */
	free(fk->path);
	free(fk);
}

static const struct signer_ops file_key_ops = {
	.sign_sha1 = file_key_sign,
	.destroy = file_key_destroy,
};

/* A PEM or DER private key, through OpenSSL's decoders.  Input type,
 * structure and key type all left open: the decoder chain takes PEM or DER,
 * PKCS#1 / traditional DSA ("type-specific"), PKCS#8 and encrypted PKCS#8,
 * and PEM with Proc-Type encryption. */
static int decode_key(const uint8_t *data, size_t len, struct crypto_pw *st, EVP_PKEY **out,
	struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	OSSL_DECODER_CTX *dctx = NULL;
	EVP_PKEY *pkey = NULL;
	const unsigned char *p = data;
	size_t plen = len;

	*out = NULL;
	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, NULL, NULL, NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
	if (dctx == NULL || !OSSL_DECODER_CTX_set_passphrase_cb(dctx, crypto_pw_cb, st)) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "%s: cannot set up key decoding", st->path);
		goto out;
	}
	if (!OSSL_DECODER_from_data(dctx, &p, &plen) || pkey == NULL) {
		if (st->cb_err != 0) {
			r = err_set(err, st->cb_err, -1, "%s: no passphrase given (%s)", st->path,
				sisign_strerror(st->cb_err));
			err_ossl_clear();
		} else if (st->asked && st->cb == NULL) {
			r = err_set(err, SISIGN_ERR_BAD_PASSPHRASE, -1, "%s: key is encrypted and no passphrase was given",
				st->path);
			err_ossl_clear();
		} else if (st->asked) {
			r = err_ossl(err, SISIGN_ERR_BAD_PASSPHRASE, "%s: wrong passphrase", st->path);
		} else {
			r = err_ossl(err, SISIGN_ERR_BAD_KEY,
				"%s: not a private key (expected PEM or DER: PKCS#1 RSA, PKCS#8, traditional DSA, "
				"or a PKCS#12 .p12/.pfx file)", st->path);
		}
		goto out;
	}
	err_ossl_clear(); /* decoders that did not match leave errors behind */
	/* success */
	*out = pkey;
	pkey = NULL; /* transferred */
	r = SISIGN_OK;
out:
	EVP_PKEY_free(pkey);
	OSSL_DECODER_CTX_free(dctx);
	return r;
}

int sisign_key_file_is_pkcs12(const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int is;

	if (path == NULL || file_read_all(path, KEY_FILE_MAX, &data, &len, NULL) != SISIGN_OK)
		return 0;
	is = crypto_p12_is(data, len);
	sisign_freezero(data, len);
	return is;
}

int sisign_signer_from_key_file(const char *path, sisign_secret_cb cb, void *userdata, struct sisign_signer **out,
	struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	uint8_t *data = NULL;
	size_t len = 0;
	EVP_PKEY *pkey = NULL, *pub = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	struct file_key *fk = NULL;
	struct crypto_pw st;
	enum sisign_key_type kt;

	if (out != NULL)
		*out = NULL;
	if (path == NULL || out == NULL)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_signer_from_key_file: bad arguments");
	memset(&st, 0, sizeof st);
	st.cb = cb;
	st.userdata = userdata;
	st.path = path;

	if ((r = file_read_all(path, KEY_FILE_MAX, &data, &len, err)) != SISIGN_OK)
		goto out;
	if (len == 0) {
		r = err_set(err, SISIGN_ERR_BAD_KEY, -1, "%s: empty key file", path);
		goto out;
	}
	/* PKCS#12 is told by its content, not its name. */
	if (crypto_p12_is(data, len))
		r = crypto_p12_load(data, len, &st, &pkey, &cert, &ca, err);
	else
		r = decode_key(data, len, &st, &pkey, err);
	if (r != SISIGN_OK)
		goto out;

	kt = crypto_pkey_type(pkey);
	if (kt == SISIGN_KEY_UNKNOWN) {
		r = err_set(err, SISIGN_ERR_BAD_KEY, -1, "%s: %s key; only RSA and DSA keys can sign SIS files", path,
			EVP_PKEY_get0_type_name(pkey) != NULL ? EVP_PKEY_get0_type_name(pkey) : "unsupported");
		goto out;
	}
	if (!crypto_pkey_has_private(pkey)) {
		r = err_set(err, SISIGN_ERR_BAD_KEY, -1, "%s: holds a public key only, not a private key", path);
		goto out;
	}
	/* A public-only copy, so the signer's `pub` carries no secret. */
	if ((pub = crypto_pkey_public_copy(pkey)) == NULL) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "%s: cannot extract the public key", path);
		goto out;
	}
	if ((fk = calloc(1, sizeof *fk)) == NULL || (fk->path = strdup(path)) == NULL) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	fk->pkey = pkey;
	pkey = NULL; /* transferred */
	r = signer_new(&file_key_ops, fk, pub, path, out, err);
	fk = NULL; /* transferred, even on failure */
	if (r != SISIGN_OK)
		goto out;
	/* A PKCS#12 file's certificate and chain come with the key, as a
	 * token's certificate does (sisign_identity_new uses them when no
	 * certificate file is given). */
	if (cert != NULL && (r = signer_set_cert(*out, cert, err)) != SISIGN_OK) {
		sisign_signer_free(*out);
		*out = NULL;
		goto out;
	}
	(*out)->extra = ca;
	ca = NULL; /* transferred */
out:
	file_key_destroy(fk);
	EVP_PKEY_free(pkey);
	EVP_PKEY_free(pub);
	X509_free(cert);
	crypto_certs_free(ca);
	if (data != NULL)
		sisign_freezero(data, len);
	return r;
}
