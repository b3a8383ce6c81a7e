/* SPDX-License-Identifier: Apache-2.0 */
/* Root stores and PKIX path validation of SIS signature chains at a chosen
 * time (sis-format.md §7.9, §7.10). */
#include "crypto/crypto_private.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "util/util_private.h"

struct crypto_trust {
	STACK_OF(X509) *roots;
};

int crypto_trust_new(struct crypto_trust **out, struct sisign_error *err)
{
	struct crypto_trust *t;

	if (out == NULL)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "crypto_trust_new: bad arguments");
	*out = NULL;
	if ((t = calloc(1, sizeof *t)) == NULL)
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	if ((t->roots = sk_X509_new_null()) == NULL) {
		free(t);
		return err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
	}
	*out = t;
	return SISIGN_OK;
}

void crypto_trust_free(struct crypto_trust *t)
{
	if (t == NULL)
		return;
	crypto_certs_free(t->roots);
	free(t);
}

size_t crypto_trust_count(const struct crypto_trust *t)
{
	int n;

	if (t == NULL)
		return 0;
	n = sk_X509_num(t->roots);
	return n > 0 ? (size_t)n : 0;
}

int crypto_trust_add_cert(struct crypto_trust *t, X509 *cert, struct sisign_error *err)
{
	if (t == NULL || cert == NULL)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "crypto_trust_add_cert: bad arguments");
	if (!X509_up_ref(cert))
		return err_ossl(err, SISIGN_ERR_CRYPTO, "X509_up_ref failed");
	if (!sk_X509_push(t->roots, cert)) {
		X509_free(cert);
		return err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
	}
	return SISIGN_OK;
}

/* Move every certificate of certs into t (certs is emptied and freed). */
static int trust_take(struct crypto_trust *t, STACK_OF(X509) *certs, struct sisign_error *err)
{
	int r = SISIGN_OK;
	X509 *x;

	while (r == SISIGN_OK && (x = sk_X509_shift(certs)) != NULL) {
		if (!sk_X509_push(t->roots, x)) {
			X509_free(x);
			r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
		}
	}
	crypto_certs_free(certs);
	return r;
}

static int has_cert_ext(const char *name)
{
	static const char *const exts[] = { ".pem", ".cer", ".crt", ".der" };
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
		if (n > 4 && strcasecmp(name + n - 4, exts[i]) == 0)
			return 1;
	return 0;
}

static int trust_add_dir(struct crypto_trust *t, const char *dir, struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	struct dirent **ents = NULL;
	STACK_OF(X509) *certs = NULL;
	char *path = NULL;
	size_t before = crypto_trust_count(t);
	int n, i;

	/* Sorted, so the store (and any message about it) does not depend on
	 * directory order. */
	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return err_sys(err, errno, "%s", dir);
	for (i = 0; i < n; i++) {
		struct stat st;
		const char *name = ents[i]->d_name;
		size_t plen;

		if (name[0] == '.' || !has_cert_ext(name))
			continue;
		plen = strlen(dir) + strlen(name) + 2;
		free(path);
		if ((path = malloc(plen)) == NULL) {
			r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			goto out;
		}
		snprintf(path, plen, "%s/%s", dir, name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		/* Root folders often hold the CA key next to its certificate
		 * (ca.key.pem): a PEM file without certificates is skipped. */
		if ((r = crypto_certs_load_file_ex(path, 1, &certs, err)) != SISIGN_OK)
			goto out;
		if (certs == NULL)
			continue;
		r = trust_take(t, certs, err);
		certs = NULL; /* consumed */
		if (r != SISIGN_OK)
			goto out;
	}
	if (crypto_trust_count(t) == before) {
		r = err_set(err, SISIGN_ERR_BAD_CERT, -1, "%s: no certificate files (*.pem, *.cer, *.crt, *.der)", dir);
		goto out;
	}
	r = SISIGN_OK;
out:
	free(path);
	crypto_certs_free(certs);
	if (ents != NULL) {
		for (i = 0; i < n; i++)
			free(ents[i]);
		free(ents);
	}
	return r;
}

int crypto_trust_add_file(struct crypto_trust *t, const char *path, struct sisign_error *err)
{
	STACK_OF(X509) *certs = NULL;
	struct stat st;
	int r;

	if (t == NULL || path == NULL)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "crypto_trust_add_file: bad arguments");
	if (stat(path, &st) != 0)
		return err_sys(err, errno, "%s", path);
	if (S_ISDIR(st.st_mode))
		return trust_add_dir(t, path, err);
	if ((r = crypto_certs_load_file(path, &certs, err)) != SISIGN_OK)
		return r;
	return trust_take(t, certs, err);
}

/* ---- validation ------------------------------------------------------------------- */

/* Rank of an X509_V_ERR_* for choosing the verdict when several apply: the
 * absence of a path outranks a broken signature, which outranks time. */
static enum crypto_chain_verdict classify(int e)
{
	switch (e) {
	case X509_V_OK:
		return CHAIN_TRUSTED;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return CHAIN_SELF_SIGNED;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
		return CHAIN_UNTRUSTED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return CHAIN_EXPIRED;
	default:
		return CHAIN_INVALID;
	}
}

static int verdict_rank(enum crypto_chain_verdict v)
{
	switch (v) {
	case CHAIN_SELF_SIGNED:
	case CHAIN_UNTRUSTED:
		return 3;
	case CHAIN_INVALID:
		return 2;
	case CHAIN_EXPIRED:
		return 1;
	default:
		return 0;
	}
}

struct vctx {
	int error;   /* worst error seen */
	int depth;
	int rank;
};

/* The callback finds its struct vctx through the store context's app data
 * (ex_data index 0, which OpenSSL reserves for the application, so no index
 * is allocated).  There is no shared state: each run_verify call, in any
 * thread, owns its context and its vctx.  (A static index allocated on
 * first use was read and written by parallel verify threads without
 * synchronisation, a data race.) */

/* Record every problem and let OpenSSL go on, so that e.g. an expired chain
 * with a broken signature is reported as broken, not merely expired. */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	struct vctx *v;
	int e;

	if (ok)
		return 1;
	v = X509_STORE_CTX_get_app_data(ctx);
	e = X509_STORE_CTX_get_error(ctx);
	if (v != NULL) {
		int rank = verdict_rank(classify(e));
		if (v->error == X509_V_OK || rank > v->rank) {
			v->error = e;
			v->depth = X509_STORE_CTX_get_error_depth(ctx);
			v->rank = rank;
		}
	}
	return 1;
}

/* One validation run: leaf against the given anchors with the rest of the
 * chain as untrusted helpers.  Fills *worst (X509_V_OK if clean), *depth,
 * and, if path/root are not NULL, the path length and root subject. */
static int run_verify(STACK_OF(X509) *anchors, STACK_OF(X509) *chain, time_t at, int *worst, int *depth,
	int *path_len, char *root_subject, size_t rs_cap, struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *sctx = NULL;
	X509_VERIFY_PARAM *param = NULL;
	STACK_OF(X509) *untrusted = NULL;
	struct vctx v = { X509_V_OK, -1, 0 };
	int i, ret;

	*worst = X509_V_OK;
	*depth = -1;
	if ((store = X509_STORE_new()) == NULL || (sctx = X509_STORE_CTX_new()) == NULL ||
		(untrusted = sk_X509_new_null()) == NULL) {
		r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; anchors != NULL && i < sk_X509_num(anchors); i++) {
		if (!X509_STORE_add_cert(store, sk_X509_value(anchors, i))) {
			r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot add a root to the store");
			goto out;
		}
	}
	for (i = 1; i < sk_X509_num(chain); i++) {
		if (!sk_X509_push(untrusted, sk_X509_value(chain, i))) {
			r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (!X509_STORE_CTX_init(sctx, store, sk_X509_value(chain, 0), untrusted)) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot initialise chain verification");
		goto out;
	}
	param = X509_STORE_CTX_get0_param(sctx);
	/* set_time also sets X509_V_FLAG_USE_CHECK_TIME.  Purpose stays unset
	 * (0): OpenSSL checks no EKU/purpose, we check codeSigning ourselves.
	 * Security level 0: Symbian roots are RSA-512/1024 signed with MD5 or
	 * SHA-1, which levels >= 1 reject.  No X509_V_FLAG_PARTIAL_CHAIN: the
	 * path must end at one of the anchors. */
	X509_VERIFY_PARAM_set_time(param, at);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_USE_CHECK_TIME);
	X509_VERIFY_PARAM_set_auth_level(param, 0);
	X509_VERIFY_PARAM_set_depth(param, 16);
	X509_STORE_CTX_set_verify_cb(sctx, verify_cb);
	if (!X509_STORE_CTX_set_app_data(sctx, &v)) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot attach verification data");
		goto out;
	}
	ret = X509_verify_cert(sctx);
	if (ret < 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "chain verification failed to run");
		goto out;
	}
	if (ret == 0 && v.error == X509_V_OK) {
		/* Failed without going through the callback. */
		v.error = X509_STORE_CTX_get_error(sctx);
		v.depth = X509_STORE_CTX_get_error_depth(sctx);
		if (v.error == X509_V_OK)
			v.error = X509_V_ERR_UNSPECIFIED;
	}
	*worst = v.error;
	*depth = v.depth;
	if (path_len != NULL) {
		STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(sctx);
		int bn = built != NULL ? sk_X509_num(built) : 0;
		*path_len = 0;
		if (root_subject != NULL && rs_cap > 0)
			root_subject[0] = '\0';
		if (v.error == X509_V_OK || (classify(v.error) != CHAIN_UNTRUSTED &&
			classify(v.error) != CHAIN_SELF_SIGNED)) {
			*path_len = bn;
			if (bn > 0 && root_subject != NULL) {
				struct crypto_cert_info info;
				if (crypto_cert_describe(sk_X509_value(built, bn - 1), &info, NULL) == SISIGN_OK)
					snprintf(root_subject, rs_cap, "%s", info.subject);
			}
		}
	}
	r = SISIGN_OK;
out:
	err_ossl_clear();
	sk_X509_free(untrusted); /* the certificates belong to chain */
	X509_STORE_CTX_free(sctx);
	X509_STORE_free(store);
	return r;
}

int crypto_chain_validate(struct crypto_trust *t, STACK_OF(X509) *chain, time_t at,
	struct crypto_chain_result *res, struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	STACK_OF(X509) *self_anchor = NULL;
	X509 *leaf, *top;
	int worst = X509_V_OK, depth = -1;

	if (res != NULL) {
		memset(res, 0, sizeof *res);
		res->verdict = CHAIN_INVALID;
		res->self_signed_verdict = CHAIN_INVALID;
		res->error_depth = -1;
	}
	if (chain == NULL || res == NULL || sk_X509_num(chain) < 1)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "crypto_chain_validate: empty chain");
	leaf = sk_X509_value(chain, 0);

	/* §7.9 2c: an EKU extension on the signer must list codeSigning. */
	res->has_eku = (X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) != 0;
	res->eku_ok = !res->has_eku || (X509_get_extended_key_usage(leaf) & XKU_CODE_SIGN) != 0;

	if ((r = run_verify(t != NULL ? t->roots : NULL, chain, at, &worst, &depth, &res->path_len,
		     res->root_subject, sizeof res->root_subject, err)) != SISIGN_OK)
		goto out;
	res->verdict = classify(worst);
	res->ossl_error = worst;
	res->error_depth = depth;
	snprintf(res->error_str, sizeof res->error_str, "%s", X509_verify_cert_error_string(worst));

	if (res->verdict == CHAIN_SELF_SIGNED) {
		/* Like the device with an "untrusted root" (§7.9 2a): validate
		 * the chain against its own self-signed top certificate, so a
		 * broken or expired self-signed chain can be told apart. */
		int w2 = X509_V_OK, d2 = -1;
		/* The self-signed certificate OpenSSL stopped at: the last
		 * one in the chain that is its own issuer. */
		top = NULL;
		for (int i = sk_X509_num(chain) - 1; i >= 0 && top == NULL; i--)
			if (X509_self_signed(sk_X509_value(chain, i), 0) == 1)
				top = sk_X509_value(chain, i);
		err_ossl_clear();
		if (top != NULL) {
			if ((self_anchor = sk_X509_new_null()) == NULL || !sk_X509_push(self_anchor, top)) {
				r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
				goto out;
			}
			if ((r = run_verify(self_anchor, chain, at, &w2, &d2, NULL, NULL, 0, err)) != SISIGN_OK)
				goto out;
			res->self_signed_verdict = classify(w2);
			if (res->self_signed_verdict == CHAIN_SELF_SIGNED || res->self_signed_verdict == CHAIN_UNTRUSTED)
				res->self_signed_verdict = CHAIN_INVALID;
		}
	}
	r = SISIGN_OK;
out:
	sk_X509_free(self_anchor); /* does not own top */
	return r;
}
