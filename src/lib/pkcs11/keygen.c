/* SPDX-License-Identifier: Apache-2.0 */
/* Keys and certificates (keygen.h): generation on a token or in a file,
 * self-signed certificates, requests, import and export.
 *
 * Token objects are made through the module's raw function list, not
 * libp11: libp11 0.4.12's PKCS11_generate_key and PKCS11_store_private_key
 * set CKA_SENSITIVE but never CKA_EXTRACTABLE=FALSE, and add CKA_DECRYPT and
 * CKA_UNWRAP to a key that should only sign.  libp11 (through tok_handle.c's
 * tok_handle) still does module loading, token choice and the login; the
 * login state is per application, so our own R/W session is logged in too.
 * The function list is taken from the module libp11 already loaded
 * (dlopen RTLD_NOLOAD), as tok_signer.c does for CKA_ALWAYS_AUTHENTICATE.
 *
 * Token keys sign certificates with CKM_RSA_PKCS over a DigestInfo that is
 * built here (SHA-1 or SHA-256), so only the digest reaches the token. */
#include "pkcs11/token_private.h"
#include "crypto/crypto_private.h"
#include "crypto/x509build_private.h"
#include "util/util_private.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>

#include <sisign/keygen.h>

#define RANDOM_ID_LEN 8
#define PASS_MAX 1024
#define MAX_FOUND 16

void sisign_keygen_result_free(struct sisign_keygen_result *r)
{
	if (!r)
		return;
	free(r->key_uri);
	free(r->id_hex);
	free(r->cert_der);
	free(r);
}

static int x509_to_der(X509 *x, unsigned char **der, size_t *len, struct sisign_error *err)
{
	unsigned char *p = NULL;
	int n = i2d_X509(x, &p);
	if (n <= 0)
		return err_ossl(err, SISIGN_ERR_CRYPTO, "cannot encode the certificate");
	/* Hand out malloc'd memory, as the header promises. */
	if (!(*der = malloc((size_t)n))) {
		OPENSSL_free(p);
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	}
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(p);
	return SISIGN_OK;
}

/* ---- writing files ---------------------------------------------------------- */

static int refuse_existing(const char *path, struct sisign_error *err)
{
	struct stat st;
	if (lstat(path, &st) == 0)
		return err_set(err, SISIGN_ERR_EXISTS, -1, "%s already exists (not overwriting)", path);
	if (errno != ENOENT)
		return err_sys(err, errno, "%s", path);
	return SISIGN_OK;
}

/* XXX: the existence check and the final rename are not one atomic step; a
 * file created in between is replaced.  renameat2(RENAME_NOREPLACE) inside
 * util's atomic_commit would close that. */
static int write_bytes(const char *path, const void *p, size_t n, int mode, int overwrite, struct sisign_error *err)
{
	struct atomic_file af;
	int r;

	if (!overwrite && (r = refuse_existing(path, err)) != 0)
		return r;
	if ((r = atomic_open(&af, path, mode, err)) != 0)
		return r;
	if ((r = atomic_write(&af, p, n, err)) != 0 || (r = atomic_commit(&af, err)) != 0) {
		atomic_abort(&af);
		return r;
	}
	return SISIGN_OK;
}

int sisign_der_write_file(const char *path, const unsigned char *der, size_t der_len, const char *pem_type,
	int overwrite, struct sisign_error *err)
{
	BIO *b = NULL;
	char *data;
	long n;
	int r;

	if (!path || !der || !der_len || der_len > INT32_MAX)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_der_write_file: bad arguments");
	if (!pem_type)
		return write_bytes(path, der, der_len, 0644, overwrite, err);
	if (!(b = BIO_new(BIO_s_mem())) || PEM_write_bio(b, pem_type, "", der, (long)der_len) <= 0) {
		BIO_free(b);
		return err_ossl(err, SISIGN_ERR_NOMEM, "cannot make PEM");
	}
	n = BIO_get_mem_data(b, &data);
	r = n > 0 ? write_bytes(path, data, (size_t)n, 0644, overwrite, err)
		  : err_set(err, SISIGN_ERR_INTERNAL, -1, "empty PEM");
	BIO_free(b);
	return r;
}

int sisign_certs_write_pem_at(int dirfd, const char *name, const unsigned char *certs, size_t certs_len,
	struct sisign_error *err)
{
	STACK_OF(X509) *sk = NULL;
	struct atomic_file af;
	struct stat st;
	BIO *b = NULL;
	char *data;
	long n;
	int r = SISIGN_ERR_INTERNAL;

	if (!name || !*name || strchr(name, '/') || !certs || !certs_len)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_certs_write_pem_at: bad arguments");
	/* Only a regular file (or nothing) is replaced: a symlink planted at
	 * the name is refused, not followed nor silently swapped.  Should one
	 * appear after this check, the rename still replaces the link itself. */
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
		return err_set(err, SISIGN_ERR_EXISTS, -1, "%s is %s, not a regular file; not replacing it", name,
			S_ISLNK(st.st_mode) ? "a symbolic link" : "something else");
	if ((r = crypto_certs_from_der_blob(certs, certs_len, &sk, err)) != SISIGN_OK)
		return r;
	if (!(b = BIO_new(BIO_s_mem()))) {
		r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(sk); i++)
		if (!PEM_write_bio_X509(b, sk_X509_value(sk, i))) {
			r = err_ossl(err, SISIGN_ERR_NOMEM, "cannot make PEM");
			goto out;
		}
	n = BIO_get_mem_data(b, &data);
	if (n <= 0) {
		r = err_set(err, SISIGN_ERR_INTERNAL, -1, "empty PEM");
		goto out;
	}
	if ((r = atomic_openat(&af, dirfd, name, 0644, err)) != SISIGN_OK)
		goto out;
	if ((r = atomic_write(&af, data, (size_t)n, err)) != SISIGN_OK || (r = atomic_commit(&af, err)) != SISIGN_OK)
		atomic_abort(&af);
out:
	BIO_free(b);
	crypto_certs_free(sk);
	return r;
}

/* ---- raw token access ------------------------------------------------------- */

struct rawtok {
	struct tok_handle *h;
	struct tok_raw raw;
	CK_FUNCTION_LIST *f;
	CK_SESSION_HANDLE sh;
	int have_sh;
};

static void rawtok_close(struct rawtok *t)
{
	if (t->have_sh)
		t->f->C_CloseSession(t->sh);
	tok_raw_close(&t->raw);
	tok_handle_free(t->h);
	memset(t, 0, sizeof *t);
}

static int ckr_fail(struct sisign_error *err, CK_RV rv, const char *what)
{
	return tok_handle_ckr_error(err, SISIGN_ERR_TOKEN, rv, what);
}

/* keep_pin: the login PIN stays with the handle for context-specific
 * logins (see tokkey); wiped by tok_handle_forget_pin or rawtok_close. */
static int rawtok_open(struct rawtok *t, const char *uri, const struct sisign_token_opts *opts, int need_login,
	int rw, int keep_pin, struct sisign_error *err)
{
	CK_RV rv;
	int r;

	memset(t, 0, sizeof *t);
	if ((r = tok_handle_open(uri, opts, need_login, keep_pin, &t->h, err)) != 0)
		return r;
	if (rw && tok_handle_read_only(t->h))
		return err_set(err, SISIGN_ERR_TOKEN, -1, "token \"%s\" is write-protected", tok_handle_label(t->h));
	if (!(t->f = tok_handle_raw(t->h, &t->raw)))
		return err_set(err, SISIGN_ERR_MODULE, -1, "%s: cannot reach the loaded module", tok_handle_module(t->h));
	rv = t->f->C_OpenSession(tok_handle_slot_id(t->h), CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0), NULL, NULL,
		&t->sh);
	if (rv != CKR_OK)
		return ckr_fail(err, rv, "opening a session");
	t->have_sh = 1;
	return SISIGN_OK;
}

/* Handles of up to max objects matching tmpl; *n the number found (capped). */
static int find_objs(struct rawtok *t, CK_ATTRIBUTE *tmpl, CK_ULONG nt, CK_OBJECT_HANDLE *objs, CK_ULONG max,
	CK_ULONG *n, struct sisign_error *err)
{
	CK_RV rv;

	*n = 0;
	if ((rv = t->f->C_FindObjectsInit(t->sh, tmpl, nt)) != CKR_OK)
		return ckr_fail(err, rv, "searching the token");
	rv = t->f->C_FindObjects(t->sh, objs, max, n);
	t->f->C_FindObjectsFinal(t->sh);
	if (rv != CKR_OK)
		return ckr_fail(err, rv, "searching the token");
	return SISIGN_OK;
}

/* A variable-length attribute, malloc'd (*len may be 0). */
static int get_attr(struct rawtok *t, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type, unsigned char **val, size_t *len,
	struct sisign_error *err)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_RV rv;

	*val = NULL;
	*len = 0;
	if ((rv = t->f->C_GetAttributeValue(t->sh, o, &a, 1)) != CKR_OK)
		return ckr_fail(err, rv, "reading an attribute");
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return err_set(err, SISIGN_ERR_TOKEN, -1, "attribute 0x%lx is unavailable", (unsigned long)type);
	if (!(a.pValue = malloc(a.ulValueLen + 1)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	if ((rv = t->f->C_GetAttributeValue(t->sh, o, &a, 1)) != CKR_OK) {
		free(a.pValue);
		return ckr_fail(err, rv, "reading an attribute");
	}
	((unsigned char *)a.pValue)[a.ulValueLen] = '\0'; /* labels become C strings */
	*val = a.pValue;
	*len = a.ulValueLen;
	return SISIGN_OK;
}

/* An RSA public key from an object's CKA_MODULUS and CKA_PUBLIC_EXPONENT. */
static int read_rsa_pub(struct rawtok *t, CK_OBJECT_HANDLE o, EVP_PKEY **out, struct sisign_error *err)
{
	unsigned char *n = NULL, *e = NULL;
	size_t nl = 0, el = 0;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = NULL;
	int r;

	*out = NULL;
	if ((r = get_attr(t, o, CKA_MODULUS, &n, &nl, err)) != 0 ||
	    (r = get_attr(t, o, CKA_PUBLIC_EXPONENT, &e, &el, err)) != 0)
		goto out;
	r = SISIGN_ERR_CRYPTO;
	if (!nl || !el || nl > INT32_MAX || el > INT32_MAX || !(bn = BN_bin2bn(n, (int)nl, NULL)) ||
	    !(be = BN_bin2bn(e, (int)el, NULL)) || !(bld = OSSL_PARAM_BLD_new()) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) || !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) || EVP_PKEY_fromdata_init(pc) <= 0 ||
	    EVP_PKEY_fromdata(pc, out, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		r = err_ossl(err, SISIGN_ERR_TOKEN, "cannot read the public key from the token");
		goto out;
	}
	r = SISIGN_OK;
out:
	free(n);
	free(e);
	BN_free(bn);
	BN_free(be);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pc);
	return r;
}

struct tokkey {
	struct rawtok *t;
	CK_OBJECT_HANDLE priv;
	int always_auth;        /* CKA_ALWAYS_AUTHENTICATE: a context login before each C_Sign */
	const char *label;
};

/* CKA_ALWAYS_AUTHENTICATE of object o: 1 if set; 0 if not, or unreadable. */
static int key_always_auth(struct rawtok *t, CK_OBJECT_HANDLE o)
{
	CK_BBOOL aa = CK_FALSE;
	CK_ATTRIBUTE a = { CKA_ALWAYS_AUTHENTICATE, &aa, sizeof aa };
	return t->f->C_GetAttributeValue(t->sh, o, &a, 1) == CKR_OK && aa == CK_TRUE;
}

/* xb_sign_fn for a token key: CKM_RSA_PKCS over the DigestInfo. */
static int tokkey_sign(void *ctx, int md_nid, const uint8_t *dgst, size_t dlen, uint8_t **sig, size_t *siglen,
	struct sisign_error *err)
{
	struct tokkey *k = ctx;
	CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
	uint8_t di[XB_DI_MAX];
	size_t dilen = 0;
	CK_ULONG n = 0;
	uint8_t *buf = NULL;
	CK_RV rv;

	*sig = NULL;
	*siglen = 0;
	if (xb_digestinfo(md_nid, dgst, dlen, di, &dilen) != SISIGN_OK)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "unsupported digest");
	if ((rv = k->t->f->C_SignInit(k->t->sh, &mech, k->priv)) != CKR_OK)
		return ckr_fail(err, rv, "signing on the token (C_SignInit)");
	/* A user-consent key (PIV 9C) wants its PIN again right here, for
	 * this one signature. */
	if (k->always_auth) {
		int r = tok_handle_context_login(k->t->h, k->t->f, k->t->sh, k->label ? k->label : "", err);
		if (r != SISIGN_OK)
			return r;
	}
	if ((rv = k->t->f->C_Sign(k->t->sh, di, dilen, NULL, &n)) != CKR_OK)
		return ckr_fail(err, rv, "signing on the token");
	if (!n || !(buf = malloc(n))) {
		/* End the active operation (PKCS#11: a C_Sign that fails ends it). */
		(void)k->t->f->C_Sign(k->t->sh, di, dilen, NULL, NULL);
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	}
	if ((rv = k->t->f->C_Sign(k->t->sh, di, dilen, buf, &n)) != CKR_OK) {
		free(buf);
		return ckr_fail(err, rv, "signing on the token");
	}
	*sig = buf;
	*siglen = n;
	return SISIGN_OK;
}

/* Refuse when any object with this label or id exists (any class). */
static int check_free(struct rawtok *t, const char *label, const unsigned char *id, size_t id_len,
	struct sisign_error *err)
{
	CK_OBJECT_HANDLE objs[1];
	CK_ULONG n = 0;
	CK_ATTRIBUTE a;
	int r;

	if (label) {
		a = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, strlen(label) };
		if ((r = find_objs(t, &a, 1, objs, 1, &n, err)) != 0)
			return r;
		if (n)
			return err_set(err, SISIGN_ERR_EXISTS, -1,
				"token \"%s\" already has an object labelled \"%s\" (not overwriting; pick another label)",
				tok_handle_label(t->h), label);
	}
	if (id && id_len) {
		char *hex = util_hex_dup(id, id_len);
		a = (CK_ATTRIBUTE){ CKA_ID, (void *)id, id_len };
		if ((r = find_objs(t, &a, 1, objs, 1, &n, err)) != 0) {
			free(hex);
			return r;
		}
		if (n) {
			r = err_set(err, SISIGN_ERR_EXISTS, -1,
				"token \"%s\" already has an object with id %s (not overwriting; pick another id)",
				tok_handle_label(t->h), hex ? hex : "?");
			free(hex);
			return r;
		}
		free(hex);
	}
	return SISIGN_OK;
}

/* Label and id for a new object: explicit, else the URI's, else (id only)
 * random.  *label and *id are malloc'd. */
static int pick_label_id(struct rawtok *t, const char *label_in, const unsigned char *id_in, size_t id_len_in,
	const char *fallback_label, char **label, unsigned char **id, size_t *id_len, struct sisign_error *err)
{
	P11KitUri *u = tok_handle_uri(t->h);
	CK_ATTRIBUTE *a;

	*label = NULL;
	*id = NULL;
	*id_len = 0;
	if (label_in) {
		*label = strdup(label_in);
	} else if ((a = p11_kit_uri_get_attribute(u, CKA_LABEL)) != NULL && a->ulValueLen) {
		if ((*label = malloc(a->ulValueLen + 1)) != NULL) {
			memcpy(*label, a->pValue, a->ulValueLen);
			(*label)[a->ulValueLen] = '\0';
		}
	} else if (fallback_label) {
		*label = strdup(fallback_label);
	} else {
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1,
			"the new key needs a label: give one, or object=LABEL in the URI");
	}
	if (!*label)
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	if (!**label || strlen(*label) > 255)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "a label must be 1 to 255 bytes");
	if (id_in && id_len_in) {
		*id_len = id_len_in;
	} else if ((a = p11_kit_uri_get_attribute(u, CKA_ID)) != NULL && a->ulValueLen) {
		id_in = a->pValue;
		*id_len = a->ulValueLen;
	} else {
		*id_len = RANDOM_ID_LEN;
		id_in = NULL;
	}
	if (*id_len > 64)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "an id must be at most 64 bytes");
	if (!(*id = malloc(*id_len)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	if (id_in)
		memcpy(*id, id_in, *id_len);
	else if (RAND_bytes(*id, (int)*id_len) != 1)
		return err_ossl(err, SISIGN_ERR_CRYPTO, "no random id");
	return SISIGN_OK;
}

/* Open the token read-write and logged in, pick the label and id of a new
 * object (see pick_label_id) and make sure nothing uses them yet. */
static int open_for_new(struct rawtok *t, const char *uri, const struct sisign_token_opts *opts, int keep_pin,
	const char *label_in, const unsigned char *id_in, size_t id_len_in, const char *fallback_label, char **label,
	unsigned char **id, size_t *id_len, struct sisign_error *err)
{
	int r;

	if ((r = rawtok_open(t, uri, opts, 1, 1, keep_pin, err)) != 0)
		return r;
	if ((r = pick_label_id(t, label_in, id_in, id_len_in, fallback_label, label, id, id_len, err)) != 0)
		return r;
	return check_free(t, *label, *id, *id_len, err);
}

/* Destroy what a failed creation left behind, in the order given; invalid
 * handles (objects never made) are skipped. */
static void destroy_objs(struct rawtok *t, const CK_OBJECT_HANDLE *objs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (objs[i] != CK_INVALID_HANDLE)
			(void)t->f->C_DestroyObject(t->sh, objs[i]);
}

static int store_cert(struct rawtok *t, X509 *x, const char *label, const unsigned char *id, size_t id_len,
	CK_OBJECT_HANDLE *out, struct sisign_error *err)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	unsigned char *value = NULL, *subj = NULL, *iss = NULL, *ser = NULL;
	int vl, sl, il, nl;
	CK_RV rv;
	int r = SISIGN_ERR_INTERNAL;

	*out = CK_INVALID_HANDLE;
	vl = i2d_X509(x, &value);
	sl = i2d_X509_NAME(X509_get_subject_name(x), &subj);
	il = i2d_X509_NAME(X509_get_issuer_name(x), &iss);
	nl = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &ser);
	if (vl <= 0 || sl <= 0 || il <= 0 || nl <= 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot encode the certificate");
		goto out;
	}
	{
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_CERTIFICATE_TYPE, &ct, sizeof ct },
			{ CKA_TOKEN, &yes, sizeof yes },
			{ CKA_PRIVATE, &no, sizeof no },
			{ CKA_LABEL, (void *)label, strlen(label) },
			{ CKA_ID, (void *)id, id_len },
			{ CKA_SUBJECT, subj, (CK_ULONG)sl },
			{ CKA_ISSUER, iss, (CK_ULONG)il },
			{ CKA_SERIAL_NUMBER, ser, (CK_ULONG)nl },
			{ CKA_VALUE, value, (CK_ULONG)vl },
		};
		if ((rv = t->f->C_CreateObject(t->sh, tmpl, sizeof tmpl / sizeof tmpl[0], out)) != CKR_OK) {
			r = ckr_fail(err, rv, "storing the certificate on the token");
			goto out;
		}
	}
	r = SISIGN_OK;
out:
	OPENSSL_free(value);
	OPENSSL_free(subj);
	OPENSSL_free(iss);
	OPENSSL_free(ser);
	return r;
}

/* ---- keygen on a token ------------------------------------------------------ */

static int check_cert_params(const struct sisign_cert_params *cp, struct sisign_error *err)
{
	time_t nb, na;
	int r;
	if (!cp)
		return SISIGN_OK;
	if ((r = sisign_subject_check(cp->subject, NULL, err)) != 0)
		return r;
	if (cp->digest != SISIGN_DIGEST_SHA1 && cp->digest != SISIGN_DIGEST_SHA256)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "unknown digest");
	return xb_validity(cp, time(NULL), &nb, &na, err);
}

int sisign_keygen_token(const char *token_uri, const struct sisign_token_opts *opts,
	const struct sisign_keygen_params *kp, const struct sisign_cert_params *cp, struct sisign_keygen_result **out,
	struct sisign_error *err)
{
	struct rawtok t;
	struct sisign_keygen_result *res = NULL;
	char *label = NULL;
	unsigned char *id = NULL;
	size_t id_len = 0;
	CK_OBJECT_HANDLE pubh = CK_INVALID_HANDLE, privh = CK_INVALID_HANDLE, certh = CK_INVALID_HANDLE;
	EVP_PKEY *pub = NULL;
	X509 *x = NULL;
	int bits, r = SISIGN_ERR_INTERNAL, created = 0;

	memset(&t, 0, sizeof t);
	if (out)
		*out = NULL;
	if (!token_uri || !kp || !out)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_keygen_token: NULL argument");
	if (kp->type == SISIGN_KEY_DSA)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1,
			"token keys are RSA (libp11 and the tokens it drives sign with CKM_RSA_PKCS); "
			"DSA keys go in files");
	if (kp->type != SISIGN_KEY_RSA && kp->type != SISIGN_KEY_UNKNOWN)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "unknown key type");
	bits = kp->bits ? kp->bits : 2048;
	if (bits != 1024 && bits != 2048 && bits != 3072 && bits != 4096)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "RSA keys are 1024, 2048, 3072 or 4096 bits, not %d", bits);
	/* Everything that can be checked offline is, before the login. */
	if ((r = check_cert_params(cp, err)) != 0)
		return r;

	/* With a certificate to sign, the login PIN is kept until it is known
	 * whether the new key asks for it again (a token may make every key
	 * CKA_ALWAYS_AUTHENTICATE). */
	if ((r = open_for_new(&t, token_uri, opts, cp != NULL, kp->label, kp->id, kp->id_len, NULL, &label, &id,
		     &id_len, err)) != 0)
		goto out;
	{
		CK_MECHANISM mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
		CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
		CK_ULONG mbits = (CK_ULONG)bits;
		CK_BYTE e65537[] = { 0x01, 0x00, 0x01 };
		CK_KEY_TYPE kt = CKK_RSA;
		CK_ATTRIBUTE pubt[] = {
			{ CKA_KEY_TYPE, &kt, sizeof kt },
			{ CKA_TOKEN, &yes, sizeof yes },
			{ CKA_PRIVATE, &no, sizeof no },
			{ CKA_VERIFY, &yes, sizeof yes },
			{ CKA_ENCRYPT, &no, sizeof no },
			{ CKA_WRAP, &no, sizeof no },
			{ CKA_MODULUS_BITS, &mbits, sizeof mbits },
			{ CKA_PUBLIC_EXPONENT, e65537, sizeof e65537 },
			{ CKA_LABEL, label, strlen(label) },
			{ CKA_ID, id, id_len },
		};
		CK_ATTRIBUTE privt[] = {
			{ CKA_KEY_TYPE, &kt, sizeof kt },
			{ CKA_TOKEN, &yes, sizeof yes },
			{ CKA_PRIVATE, &yes, sizeof yes },
			{ CKA_SENSITIVE, &yes, sizeof yes },
			{ CKA_EXTRACTABLE, &no, sizeof no },
			{ CKA_SIGN, &yes, sizeof yes },
			{ CKA_DECRYPT, &no, sizeof no },
			{ CKA_UNWRAP, &no, sizeof no },
			{ CKA_LABEL, label, strlen(label) },
			{ CKA_ID, id, id_len },
		};
		CK_RV rv = t.f->C_GenerateKeyPair(t.sh, &mech, pubt, sizeof pubt / sizeof pubt[0], privt,
			sizeof privt / sizeof privt[0], &pubh, &privh);
		if (rv != CKR_OK) {
			r = ckr_fail(err, rv, "generating the key pair on the token");
			goto out;
		}
		created = 1;
	}
	if ((r = read_rsa_pub(&t, pubh, &pub, err)) != 0)
		goto out;
	if (!(res = calloc(1, sizeof *res)) || !(res->id_hex = util_hex_dup(id, id_len)) ||
	    !(res->key_uri = tok_handle_object_uri(t.h, CKO_PRIVATE_KEY, label, id, id_len))) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	if (cp) {
		struct tokkey k = { &t, privh, key_always_auth(&t, privh), label };
		struct xb_signer s = { pub, tokkey_sign, &k };
		if (!k.always_auth)
			tok_handle_forget_pin(t.h);
		if ((r = xb_cert_build(&s, cp, &x, err)) != 0)
			goto out;
		if ((r = store_cert(&t, x, label, id, id_len, &certh, err)) != 0)
			goto out;
		if ((r = x509_to_der(x, &res->cert_der, &res->cert_der_len, err)) != 0)
			goto out;
	}
	/* success */
	created = 0;
	*out = res;
	res = NULL; /* transferred */
	r = SISIGN_OK;
out:
	if (created) {
		/* No half-made identity left behind: the caller will retry with
		 * the same label, which check_free would then refuse. */
		destroy_objs(&t, (CK_OBJECT_HANDLE[]){ certh, privh, pubh }, 3);
	}
	X509_free(x);
	EVP_PKEY_free(pub);
	sisign_keygen_result_free(res);
	free(label);
	free(id);
	rawtok_close(&t);
	return r;
}

/* ---- file keys ---------------------------------------------------------------- */

int sisign_keygen_file(const struct sisign_keygen_params *kp, const char *path, unsigned flags,
	sisign_secret_cb pass_cb, void *pass_cb_data, const struct sisign_cert_params *cp,
	struct sisign_keygen_result **out, struct sisign_error *err)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	BIO *b = NULL;
	struct sisign_keygen_result *res = NULL;
	char *pass = NULL;
	size_t pl = 0;
	int plen = 0, ok, r = SISIGN_ERR_INTERNAL;
	char *data;
	long n;

	if (out)
		*out = NULL;
	if (!kp || !path)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_keygen_file: NULL argument");
	if ((r = check_cert_params(cp, err)) != 0)
		return r;
	if (!(flags & SISIGN_KEYFILE_OVERWRITE) && (r = refuse_existing(path, err)) != 0)
		return r;
	if (pass_cb) {
		if (!(pass = sisign_secret_alloc(PASS_MAX))) {
			r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			goto out;
		}
		if ((r = util_secret_ask(pass_cb, pass_cb_data, "passphrase", path, -1, pass, PASS_MAX, &pl, err)) != 0)
			goto out;
		plen = (int)pl;
		if (plen < 4) {
			r = err_set(err, SISIGN_ERR_BAD_PASSPHRASE, -1,
				"%s: the passphrase must be at least 4 characters", path);
			goto out;
		}
	}
	if ((r = xb_generate(kp->type, kp->bits, &key, err)) != 0)
		goto out;
	if (cp) {
		struct xb_signer s = { key, xb_pkey_sign, key };
		if (!(res = calloc(1, sizeof *res))) {
			r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			goto out;
		}
		if ((r = xb_cert_build(&s, cp, &x, err)) != 0 ||
		    (r = x509_to_der(x, &res->cert_der, &res->cert_der_len, err)) != 0)
			goto out;
	}
	if (!(b = BIO_new(BIO_s_secmem())) && !(b = BIO_new(BIO_s_mem()))) {
		r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (flags & SISIGN_KEYFILE_TRADITIONAL)
		/* "RSA PRIVATE KEY" / "DSA PRIVATE KEY" with Proc-Type
		 * encryption, as makekeys wrote (sis-format.md §8.2). */
		ok = PEM_write_bio_PrivateKey_traditional(b, key, plen ? EVP_des_ede3_cbc() : NULL,
			plen ? (unsigned char *)pass : NULL, plen, NULL, NULL);
	else
		ok = PEM_write_bio_PKCS8PrivateKey(b, key, plen ? EVP_aes_256_cbc() : NULL, plen ? pass : NULL, plen,
			NULL, NULL);
	if (!ok) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "%s: cannot encode the key", path);
		goto out;
	}
	n = BIO_get_mem_data(b, &data);
	if (n <= 0) {
		r = err_set(err, SISIGN_ERR_INTERNAL, -1, "empty key encoding");
		goto out;
	}
	if ((r = write_bytes(path, data, (size_t)n, 0600, (flags & SISIGN_KEYFILE_OVERWRITE) != 0, err)) != 0)
		goto out;
	/* success */
	if (out) {
		if (!res && !(res = calloc(1, sizeof *res))) {
			r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			goto out;
		}
		*out = res;
		res = NULL; /* transferred */
	}
	r = SISIGN_OK;
out:
	sisign_secret_free(pass, PASS_MAX);
	if (b) {
		/* The mem BIO held the (maybe unencrypted) key: wipe it. */
		n = BIO_get_mem_data(b, &data);
		if (n > 0)
			OPENSSL_cleanse(data, (size_t)n);
		BIO_free(b);
	}
	X509_free(x);
	EVP_PKEY_free(key);
	sisign_keygen_result_free(res);
	return r;
}

/* ---- existing keys ---------------------------------------------------------------- */

/* An opened key: a file key (priv) or a token key (t, h). */
struct openkey {
	EVP_PKEY *priv;         /* file key */
	EVP_PKEY *pub;
	struct rawtok t;
	int is_token;
	CK_OBJECT_HANDLE h;
	char *label;
	unsigned char *id;
	size_t id_len;
	struct tokkey tk;
};

static void openkey_close(struct openkey *k)
{
	EVP_PKEY_free(k->priv);
	EVP_PKEY_free(k->pub);
	if (k->is_token)
		rawtok_close(&k->t);
	free(k->label);
	free(k->id);
	memset(k, 0, sizeof *k);
}

static int openkey_open(struct openkey *k, const struct sisign_key_ref *ref, int rw, struct sisign_error *err)
{
	P11KitUri *u;
	CK_ATTRIBUTE tmpl[3];
	CK_ULONG nt = 0, n = 0;
	CK_OBJECT_HANDLE objs[MAX_FOUND];
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY, pcls = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE *a;
	unsigned char *kt = NULL;
	size_t ktl = 0;
	int r;

	memset(k, 0, sizeof *k);
	if (!ref || (!ref->key_file == !ref->uri))
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "name either a key file or a token key URI");
	if (ref->key_file) {
		if ((r = xb_load_key_file(ref->key_file, ref->pass_cb, ref->pass_cb_data, &k->priv, NULL, err)) != 0)
			return r;
		if (!EVP_PKEY_up_ref(k->priv))
			return err_ossl(err, SISIGN_ERR_CRYPTO, "EVP_PKEY_up_ref failed");
		k->pub = k->priv;
		return SISIGN_OK;
	}
	k->is_token = 1;
	if ((r = rawtok_open(&k->t, ref->uri, ref->token_opts, 1, rw, 1, err)) != 0)
		return r;
	u = tok_handle_uri(k->t.h);
	if ((a = p11_kit_uri_get_attribute(u, CKA_CLASS)) != NULL &&
	    (a->ulValueLen != sizeof(CK_OBJECT_CLASS) || *(CK_OBJECT_CLASS *)a->pValue != CKO_PRIVATE_KEY))
		return err_set(err, SISIGN_ERR_BAD_URI, -1, "the URI must name a private key (type=private)");
	tmpl[nt++] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof cls };
	if ((a = p11_kit_uri_get_attribute(u, CKA_LABEL)) != NULL)
		tmpl[nt++] = *a;
	if ((a = p11_kit_uri_get_attribute(u, CKA_ID)) != NULL)
		tmpl[nt++] = *a;
	if ((r = find_objs(&k->t, tmpl, nt, objs, MAX_FOUND, &n, err)) != 0)
		return r;
	if (n > 1)
		return err_set(err, SISIGN_ERR_AMBIGUOUS, -1,
			"%lu private keys on token \"%s\" match the URI; add object= or id= (see `sisign keys`)",
			(unsigned long)n, tok_handle_label(k->t.h));
	if (n == 0)
		return err_set(err, SISIGN_ERR_KEY_NOT_FOUND, -1,
			"no private key on token \"%s\" matches the URI (see `sisign keys`)", tok_handle_label(k->t.h));
	k->h = objs[0];
	if ((r = get_attr(&k->t, k->h, CKA_KEY_TYPE, &kt, &ktl, err)) != 0)
		return r;
	if (ktl != sizeof(CK_KEY_TYPE) || *(CK_KEY_TYPE *)kt != CKK_RSA) {
		free(kt);
		return err_set(err, SISIGN_ERR_BAD_KEY, -1, "the token key is not an RSA key");
	}
	free(kt);
	if ((r = get_attr(&k->t, k->h, CKA_LABEL, (unsigned char **)&k->label, &ktl, err)) != 0 ||
	    (r = get_attr(&k->t, k->h, CKA_ID, &k->id, &k->id_len, err)) != 0)
		return r;
	/* The public half: from the private key object (modulus and public
	 * exponent are not sensitive), else its public key object. */
	if (read_rsa_pub(&k->t, k->h, &k->pub, err) != SISIGN_OK) {
		CK_ATTRIBUTE pt[2] = { { CKA_CLASS, &pcls, sizeof pcls }, { CKA_ID, k->id, k->id_len } };
		err_ossl_clear();
		if ((r = find_objs(&k->t, pt, 2, objs, 1, &n, err)) != 0)
			return r;
		if (n != 1 || (r = read_rsa_pub(&k->t, objs[0], &k->pub, err)) != 0)
			return err_set(err, SISIGN_ERR_TOKEN, -1, "cannot read the public part of key \"%s\"", k->label);
	}
	k->tk.t = &k->t;
	k->tk.priv = k->h;
	k->tk.label = k->label;
	k->tk.always_auth = key_always_auth(&k->t, k->h);
	if (!k->tk.always_auth)
		tok_handle_forget_pin(k->t.h);
	return SISIGN_OK;
}

static void openkey_signer(struct openkey *k, struct xb_signer *s)
{
	s->pub = k->pub;
	if (k->is_token) {
		s->sign = tokkey_sign;
		s->ctx = &k->tk;
	} else {
		s->sign = xb_pkey_sign;
		s->ctx = k->priv;
	}
}

int sisign_cert_selfsign(const struct sisign_key_ref *key, const struct sisign_cert_params *cp, unsigned flags,
	unsigned char **der, size_t *der_len, struct sisign_error *err)
{
	struct openkey k;
	struct xb_signer s;
	X509 *x = NULL;
	CK_OBJECT_HANDLE certh;
	int r = SISIGN_ERR_INTERNAL;

	memset(&k, 0, sizeof k);
	if (der)
		*der = NULL;
	if (der_len)
		*der_len = 0;
	if (!key || !cp || !der || !der_len)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_cert_selfsign: NULL argument");
	if ((flags & SISIGN_CERT_STORE) && !key->uri)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "only a token key's certificate can be stored on the token");
	if ((r = check_cert_params(cp, err)) != 0)
		return r;
	if ((r = openkey_open(&k, key, (flags & SISIGN_CERT_STORE) != 0, err)) != 0)
		goto out;
	if (flags & SISIGN_CERT_STORE) {
		CK_OBJECT_CLASS cc = CKO_CERTIFICATE;
		CK_ATTRIBUTE ct[2] = { { CKA_CLASS, &cc, sizeof cc }, { CKA_ID, k.id, k.id_len } };
		CK_OBJECT_HANDLE o;
		CK_ULONG n = 0;
		if (!k.id_len) {
			r = err_set(err, SISIGN_ERR_INVALID_ARG, -1,
				"key \"%s\" has no CKA_ID to pair a certificate with", k.label);
			goto out;
		}
		if ((r = find_objs(&k.t, ct, 2, &o, 1, &n, err)) != 0)
			goto out;
		if (n) {
			r = err_set(err, SISIGN_ERR_EXISTS, -1,
				"key \"%s\" already has a certificate on the token (not overwriting)", k.label);
			goto out;
		}
	}
	openkey_signer(&k, &s);
	if ((r = xb_cert_build(&s, cp, &x, err)) != 0)
		goto out;
	if ((flags & SISIGN_CERT_STORE) && (r = store_cert(&k.t, x, k.label, k.id, k.id_len, &certh, err)) != 0)
		goto out;
	r = x509_to_der(x, der, der_len, err);
out:
	X509_free(x);
	openkey_close(&k);
	return r;
}

int sisign_csr_make(const struct sisign_key_ref *key, const char *subject, enum sisign_digest digest,
	unsigned char **der, size_t *der_len, struct sisign_error *err)
{
	struct openkey k;
	struct xb_signer s;
	X509_REQ *req = NULL;
	unsigned char *p = NULL;
	int n, r = SISIGN_ERR_INTERNAL;

	memset(&k, 0, sizeof k);
	if (der)
		*der = NULL;
	if (der_len)
		*der_len = 0;
	if (!key || !der || !der_len)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_csr_make: NULL argument");
	if ((r = sisign_subject_check(subject, NULL, err)) != 0)
		return r;
	if ((r = openkey_open(&k, key, 0, err)) != 0)
		goto out;
	openkey_signer(&k, &s);
	if ((r = xb_req_build(&s, subject, digest, &req, err)) != 0)
		goto out;
	if ((n = i2d_X509_REQ(req, &p)) <= 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot encode the request");
		goto out;
	}
	if (!(*der = malloc((size_t)n))) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	memcpy(*der, p, (size_t)n);
	*der_len = (size_t)n;
	r = SISIGN_OK;
out:
	OPENSSL_free(p);
	X509_REQ_free(req);
	openkey_close(&k);
	return r;
}

/* ---- import and export ------------------------------------------------------------ */

/* Big-endian bytes of one RSA parameter, malloc'd (wiped by the caller). */
static int rsa_param(EVP_PKEY *pk, const char *name, unsigned char **out, size_t *len)
{
	BIGNUM *bn = NULL;
	int n;
	*out = NULL;
	*len = 0;
	if (EVP_PKEY_get_bn_param(pk, name, &bn) != 1 || !bn)
		return -1;
	n = BN_num_bytes(bn);
	if (n <= 0 || !(*out = malloc((size_t)n))) {
		BN_clear_free(bn);
		return -1;
	}
	BN_bn2bin(bn, *out);
	*len = (size_t)n;
	BN_clear_free(bn);
	return 0;
}

static char *cert_cn(X509 *x)
{
	X509_NAME *nm = x ? X509_get_subject_name(x) : NULL;
	int i = nm ? X509_NAME_get_index_by_NID(nm, NID_commonName, -1) : -1;
	unsigned char *u = NULL;
	char *s;
	if (i < 0 || ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i))) < 0)
		return NULL;
	s = strdup((char *)u);
	OPENSSL_free(u);
	return s;
}

int sisign_token_import(const char *token_uri, const struct sisign_token_opts *opts, const char *key_file,
	const char *cert_file, sisign_secret_cb pass_cb, void *pass_cb_data, const char *label_in,
	const unsigned char *id_in, size_t id_len_in, char **key_uri, struct sisign_error *err)
{
	static const char *const names[] = { OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
		OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1 };
	static const CK_ATTRIBUTE_TYPE types[] = { CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT,
		CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT };
	unsigned char *val[8] = { 0 };
	size_t len[8] = { 0 };
	struct rawtok t;
	EVP_PKEY *pk = NULL;
	X509 *cert = NULL, *p12cert = NULL;
	STACK_OF(X509) *certs = NULL;
	char *label = NULL, *cn = NULL, *uri = NULL;
	unsigned char *id = NULL;
	size_t id_len = 0;
	CK_OBJECT_HANDLE privh = CK_INVALID_HANDLE, pubh = CK_INVALID_HANDLE, certh = CK_INVALID_HANDLE;
	int r = SISIGN_ERR_INTERNAL, created = 0;

	memset(&t, 0, sizeof t);
	if (key_uri)
		*key_uri = NULL;
	if (!token_uri || !key_file || !key_uri)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_token_import: NULL argument");
	/* Files first: a wrong passphrase or a mismatch costs no login. */
	if ((r = xb_load_key_file(key_file, pass_cb, pass_cb_data, &pk, &p12cert, err)) != 0)
		goto out;
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
		r = err_set(err, SISIGN_ERR_BAD_KEY, -1, "%s: token keys must be RSA (keep DSA keys in files)", key_file);
		goto out;
	}
	if (cert_file) {
		if ((r = crypto_certs_load_file(cert_file, &certs, err)) != 0)
			goto out;
		cert = sk_X509_value(certs, 0);
	} else {
		cert = p12cert;
	}
	if (cert && crypto_key_matches_cert(pk, cert) != SISIGN_OK) {
		r = err_set(err, SISIGN_ERR_KEY_MISMATCH, -1, "%s: the certificate does not belong to the key in %s",
			cert_file ? cert_file : key_file, key_file);
		goto out;
	}
	for (size_t i = 0; i < 8; i++) {
		int missing = rsa_param(pk, names[i], &val[i], &len[i]) != 0;
		if (missing && i < 3) { /* n, e, d are required; the CRT values are optional */
			r = err_ossl(err, SISIGN_ERR_BAD_KEY, "%s: incomplete RSA private key", key_file);
			goto out;
		}
	}
	err_ossl_clear();

	cn = cert_cn(cert);
	if ((r = open_for_new(&t, token_uri, opts, 0, label_in, id_in, id_len_in, cn, &label, &id, &id_len, err)) != 0)
		goto out;
	{
		CK_OBJECT_CLASS pc = CKO_PRIVATE_KEY, uc = CKO_PUBLIC_KEY;
		CK_KEY_TYPE kt = CKK_RSA;
		CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
		CK_ATTRIBUTE pt[11 + 8];
		CK_ATTRIBUTE ut[] = {
			{ CKA_CLASS, &uc, sizeof uc },
			{ CKA_KEY_TYPE, &kt, sizeof kt },
			{ CKA_TOKEN, &yes, sizeof yes },
			{ CKA_PRIVATE, &no, sizeof no },
			{ CKA_VERIFY, &yes, sizeof yes },
			{ CKA_ENCRYPT, &no, sizeof no },
			{ CKA_WRAP, &no, sizeof no },
			{ CKA_LABEL, label, strlen(label) },
			{ CKA_ID, id, id_len },
			{ CKA_MODULUS, val[0], len[0] },
			{ CKA_PUBLIC_EXPONENT, val[1], len[1] },
		};
		CK_ULONG np = 0;
		CK_RV rv;
		pt[np++] = (CK_ATTRIBUTE){ CKA_CLASS, &pc, sizeof pc };
		pt[np++] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, &kt, sizeof kt };
		pt[np++] = (CK_ATTRIBUTE){ CKA_TOKEN, &yes, sizeof yes };
		pt[np++] = (CK_ATTRIBUTE){ CKA_PRIVATE, &yes, sizeof yes };
		pt[np++] = (CK_ATTRIBUTE){ CKA_SENSITIVE, &yes, sizeof yes };
		pt[np++] = (CK_ATTRIBUTE){ CKA_EXTRACTABLE, &no, sizeof no };
		pt[np++] = (CK_ATTRIBUTE){ CKA_SIGN, &yes, sizeof yes };
		pt[np++] = (CK_ATTRIBUTE){ CKA_DECRYPT, &no, sizeof no };
		pt[np++] = (CK_ATTRIBUTE){ CKA_UNWRAP, &no, sizeof no };
		pt[np++] = (CK_ATTRIBUTE){ CKA_LABEL, label, strlen(label) };
		pt[np++] = (CK_ATTRIBUTE){ CKA_ID, id, id_len };
		for (size_t i = 0; i < 8; i++)
			if (val[i])
				pt[np++] = (CK_ATTRIBUTE){ types[i], val[i], len[i] };
		if ((rv = t.f->C_CreateObject(t.sh, pt, np, &privh)) != CKR_OK) {
			r = ckr_fail(err, rv, "importing the private key");
			goto out;
		}
		created = 1;
		if ((rv = t.f->C_CreateObject(t.sh, ut, sizeof ut / sizeof ut[0], &pubh)) != CKR_OK) {
			r = ckr_fail(err, rv, "importing the public key");
			goto out;
		}
	}
	if (cert && (r = store_cert(&t, cert, label, id, id_len, &certh, err)) != 0)
		goto out;
	if (!(uri = tok_handle_object_uri(t.h, CKO_PRIVATE_KEY, label, id, id_len))) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	/* success */
	created = 0;
	*key_uri = uri;
	uri = NULL; /* transferred */
	r = SISIGN_OK;
out:
	if (created) {
		destroy_objs(&t, (CK_OBJECT_HANDLE[]){ certh, pubh, privh }, 3);
	}
	for (size_t i = 0; i < 8; i++)
		if (val[i])
			sisign_freezero(val[i], len[i]);
	free(uri);
	free(cn);
	free(label);
	free(id);
	crypto_certs_free(certs);
	X509_free(p12cert);
	EVP_PKEY_free(pk);
	rawtok_close(&t);
	return r;
}

int sisign_token_export_cert(const char *uri, const struct sisign_token_opts *opts, unsigned char **der,
	size_t *der_len, struct sisign_error *err)
{
	struct rawtok t;
	P11KitUri *u;
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE tmpl[3], *a;
	CK_ULONG nt = 0, n = 0;
	CK_OBJECT_HANDLE objs[MAX_FOUND];
	int r;

	memset(&t, 0, sizeof t);
	if (der)
		*der = NULL;
	if (der_len)
		*der_len = 0;
	if (!uri || !der || !der_len)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_token_export_cert: NULL argument");
	if ((r = rawtok_open(&t, uri, opts, 0, 0, 0, err)) != 0)
		goto out;
	u = tok_handle_uri(t.h);
	/* The URI's type= is not used: a key URI (type=private) copied from
	 * `sisign keygen` names its certificate by the same label and id. */
	tmpl[nt++] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof cls };
	if ((a = p11_kit_uri_get_attribute(u, CKA_LABEL)) != NULL)
		tmpl[nt++] = *a;
	if ((a = p11_kit_uri_get_attribute(u, CKA_ID)) != NULL)
		tmpl[nt++] = *a;
	if ((r = find_objs(&t, tmpl, nt, objs, MAX_FOUND, &n, err)) != 0)
		goto out;
	if (n > 1) {
		r = err_set(err, SISIGN_ERR_AMBIGUOUS, -1,
			"%lu certificates on token \"%s\" match the URI; add object= or id=", (unsigned long)n,
			tok_handle_label(t.h));
		goto out;
	}
	if (n == 0) {
		r = err_set(err, SISIGN_ERR_KEY_NOT_FOUND, -1, "no certificate on token \"%s\" matches the URI",
			tok_handle_label(t.h));
		goto out;
	}
	r = get_attr(&t, objs[0], CKA_VALUE, der, der_len, err);
	if (r == SISIGN_OK && *der_len == 0) {
		free(*der);
		*der = NULL;
		r = err_set(err, SISIGN_ERR_BAD_CERT, -1, "the certificate object is empty");
	}
out:
	rawtok_close(&t);
	return r;
}
