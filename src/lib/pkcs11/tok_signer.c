/* SPDX-License-Identifier: Apache-2.0 */
/* The signer on a token key.
 *
 * - Signing is PKCS11_private_encrypt(RSA_PKCS1_PADDING) over the 35-byte
 *   SHA-1 DigestInfo: libp11 turns that into exactly one C_SignInit
 *   (CKM_RSA_PKCS) and one C_Sign, so only the digest reaches the token.
 * - CKA_ALWAYS_AUTHENTICATE: libp11 0.4.12 reads the attribute itself and,
 *   between C_SignInit and C_Sign, does C_Login(CKU_CONTEXT_SPECIFIC) — with
 *   a NULL PIN on PIN-pad tokens, otherwise with a PIN it asks for through
 *   the UI_METHOD set by PKCS11_set_ui_method.  We install a UI_METHOD whose
 *   reader answers from the signer (kept login PIN, or opts->pin_cb), so no
 *   raw function list is needed.  libp11 asks with min length 4, so a
 *   shorter PIN cannot be used for a context-specific login.
 * - Signatures in flight at once (opts->parallel_sessions N > 1): libp11's
 *   session pool where the module shares one instance; where it gives
 *   each caller an instance of its own (p11-kit-client.so: one server
 *   connection each, answered one call at a time), N - 1 more connections
 *   (tok_conn.c), and each signature takes a free one. */
#include "pkcs11/tok_sess.h"
#include "crypto/crypto_private.h"
#include "crypto/x509build_private.h"
#include "sign/signer_private.h"
#include "util/util_private.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ui.h>
#include <openssl/x509.h>

struct tok_signer {
	pthread_mutex_t lock;
	int parallel;           /* no lock around C_Sign (opts->parallel_sessions) */
	/* Connections beyond libp11's (tok_conn.c).  With any, every
	 * connection, libp11's too, takes one signature at a time: busy
	 * flags under lock, conn_free signalled when one is given back. */
	struct tok_conn *conns;
	int nconns;
	int lib_busy;
	pthread_cond_t conn_free;
	struct tok_sess s;
	PKCS11_KEY *key;
	UI_METHOD *ui;
	char *pin;              /* kept for context-specific logins, secure heap (sisign_secret_alloc) */
	size_t siglen;
	sisign_secret_cb cb;    /* only with ask_pin_per_signature */
	void *cb_data;
};

static void tsig_destroy(void *vctx)
{
	struct tok_signer *ts = vctx;
	if (!ts)
		return;
	if (ts->conns) {
		conn_close_all(ts->conns, ts->nconns);
		free(ts->conns);
	}
	sess_close(&ts->s);
	if (ts->ui)
		UI_destroy_method(ts->ui);
	if (ts->pin)
		OPENSSL_secure_clear_free(ts->pin, strlen(ts->pin) + 1);
	pthread_cond_destroy(&ts->conn_free);
	pthread_mutex_destroy(&ts->lock);
	free(ts);
}

/* libp11 asks for the context-specific PIN through this UI reader. */
static int tsig_ui_read(UI *ui, UI_STRING *uis)
{
	struct tok_signer *ts = UI_get0_user_data(ui);
	enum UI_string_types type = UI_get_string_type(uis);
	char *pin;
	size_t len;
	int ok = 0;

	if (type != UIT_PROMPT && type != UIT_VERIFY)
		return 1;
	if (!ts)
		return 0;
	if (ts->cb) {
		if (!(pin = sisign_secret_alloc(TOK_PIN_MAX + 1)))
			return 0;
		if (util_secret_ask(ts->cb, ts->cb_data, "pin", ts->key && ts->key->label ? ts->key->label : "key",
			    -1, pin, TOK_PIN_MAX + 1, &len, NULL) == SISIGN_OK)
			ok = UI_set_result(ui, uis, pin) == 0;
		sisign_secret_free(pin, TOK_PIN_MAX + 1);
	} else if (ts->pin) {
		ok = UI_set_result(ui, uis, ts->pin) == 0;
	}
	return ok ? 1 : 0;
}

/* A free connection for one signature, waiting for one if need be: -1
 * for libp11's, else an index into ts->conns. */
static int conn_take(struct tok_signer *ts)
{
	int i;
	pthread_mutex_lock(&ts->lock);
	for (;;) {
		if (!ts->lib_busy) {
			ts->lib_busy = 1;
			i = -1;
			break;
		}
		for (i = 0; i < ts->nconns; i++)
			if (!ts->conns[i].busy && !ts->conns[i].dead)
				break;
		if (i < ts->nconns) {
			ts->conns[i].busy = 1;
			break;
		}
		pthread_cond_wait(&ts->conn_free, &ts->lock);
	}
	pthread_mutex_unlock(&ts->lock);
	return i;
}

/* Give connection i back after a signature that ended with rv.  One that
 * is gone or broken, or whose C_Sign is still active (it asked for a
 * larger buffer), is not used again. */
static void conn_give(struct tok_signer *ts, int i, unsigned long rv)
{
	pthread_mutex_lock(&ts->lock);
	if (i < 0) {
		ts->lib_busy = 0;
	} else {
		ts->conns[i].busy = 0;
		if (tok_ckr_fatal(rv) || rv == CKR_BUFFER_TOO_SMALL)
			ts->conns[i].dead = 1;
	}
	pthread_cond_signal(&ts->conn_free);
	pthread_mutex_unlock(&ts->lock);
}

static int tsig_sign_sha1(void *vctx, const unsigned char digest[20], unsigned char **sig, size_t *siglen,
	struct sisign_error *err)
{
	struct tok_signer *ts = vctx;
	unsigned char di[XB_DI_MAX];
	unsigned char *buf = NULL;
	size_t dilen = 0, len;
	unsigned long rv;
	int n, c = -1;

	*sig = NULL;
	*siglen = 0;
	if (xb_digestinfo(NID_sha1, digest, 20, di, &dilen) != SISIGN_OK)
		return err_set(err, SISIGN_ERR_INTERNAL, -1, "no SHA-1 DigestInfo");
	if (!(buf = malloc(ts->siglen)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	if (ts->nconns)
		c = conn_take(ts);
	else if (!ts->parallel)
		pthread_mutex_lock(&ts->lock);
	if (c >= 0) {
		len = ts->siglen;
		n = conn_sign(&ts->conns[c], di, dilen, buf, &len, &rv) == 0 && len > 0 ? (int)len : -1;
	} else {
		err_ossl_clear();
		n = PKCS11_private_encrypt((int)dilen, di, buf, ts->key, RSA_PKCS1_PADDING);
		rv = n > 0 ? 0 : last_ckr();
	}
	if (ts->nconns)
		conn_give(ts, c, rv);
	else if (!ts->parallel)
		pthread_mutex_unlock(&ts->lock);
	if (n <= 0 || (size_t)n > ts->siglen) {
		free(buf);
		return err_ckr(err, SISIGN_ERR_TOKEN, rv, "signing on the token");
	}
	*sig = buf;
	*siglen = (size_t)n;
	return SISIGN_OK;
}

static const struct signer_ops tok_signer_ops = {
	.sign_sha1 = tsig_sign_sha1,
	.destroy = tsig_destroy,
	.device = 1,
};

/* The public key object with key's id, or NULL.  Not
 * PKCS11_get_public_key(key): libp11 0.4.12 dereferences NULL there when
 * the token has no such object. */
static EVP_PKEY *public_key_object(struct tok_sess *s, const PKCS11_KEY *key)
{
	PKCS11_KEY *pubs = NULL;
	unsigned int n = 0;

	if (!key->id_len || PKCS11_enumerate_public_keys(s->slot->token, &pubs, &n) != 0)
		return NULL;
	for (unsigned int i = 0; i < n; i++)
		if (id_eq(pubs[i].id, pubs[i].id_len, key->id, key->id_len))
			return PKCS11_get_public_key(&pubs[i]);
	return NULL;
}

/* The key object shows no public part, so the signer's public key is the
 * certificate's own and the match check compared the certificate with
 * itself.  One test signature over a random digest, checked against the
 * certificate, tells whether the key really is the certificate's.  (On an
 * always-authenticate key this costs one more context-specific login.) */
static int test_signature(struct sisign_signer *signer, const PKCS11_KEY *key, EVP_PKEY *pub,
	struct sisign_error *err)
{
	unsigned char digest[20], *sig = NULL;
	size_t siglen = 0;
	const char *label = key->label ? key->label : "";
	int r;

	if (RAND_bytes(digest, sizeof digest) != 1)
		return err_ossl(err, SISIGN_ERR_CRYPTO, "no random bytes for a test signature");
	if ((r = tok_signer_ops.sign_sha1(signer->ctx, digest, &sig, &siglen, err)) != SISIGN_OK) {
		/* libp11 0.4.12 sizes the output from CKA_MODULUS of the key
		 * object; without one it passes a zero length. */
		if (err && err->ckr == CKR_BUFFER_TOO_SMALL) {
			unsigned long rv = err->ckr;
			r = err_set(err, SISIGN_ERR_TOKEN, -1,
				"key \"%s\" shows no public part (no CKA_MODULUS), and libp11 0.4.12 cannot sign with "
				"such a key: the token answered CKR_BUFFER_TOO_SMALL", label);
			err->ckr = rv;
		}
		return r;
	}
	r = crypto_verify_sha1_pkey(pub, digest, sig, siglen, NULL);
	free(sig);
	err_ossl_clear();
	if (r != SISIGN_OK)
		return err_set(err, SISIGN_ERR_KEY_MISMATCH, -1,
			"key \"%s\" shows no public part, and a test signature with it does not verify against the "
			"certificate with its id: the certificate does not belong to the key (or the token is faulty)",
			label);
	return SISIGN_OK;
}

static void list_keys(struct tok_sess *s, PKCS11_KEY *keys, unsigned int n, const unsigned char *match,
	char *buf, size_t size)
{
	size_t used = strlen(buf);
	int first = 1;
	for (unsigned int i = 0; i < n; i++) {
		if (match && !match[i])
			continue;
		if (!list_add(buf, size, &used, &first,
			    make_uri(s->slot->token, 0, CKO_PRIVATE_KEY, keys[i].label, keys[i].id, keys[i].id_len)))
			break;
	}
	list_end(buf, size, used, first);
}

/* CKA_ALWAYS_AUTHENTICATE of key: 1, 0, or -1 if it cannot be read.
 * libp11 0.4.12 reads this attribute but does not expose it, so ask the
 * module directly, in a short session of our own. */
static int key_always_auth(struct tok_sess *s, const PKCS11_KEY *key)
{
	struct tok_raw raw;
	CK_FUNCTION_LIST *f;
	CK_SESSION_HANDLE sh;
	CK_OBJECT_HANDLE objs[2];
	CK_ULONG found = 0;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_BBOOL aa = CK_FALSE;
	CK_ATTRIBUTE tmpl[3];
	CK_ATTRIBUTE get = {CKA_ALWAYS_AUTHENTICATE, &aa, sizeof aa};
	CK_ULONG nt = 0;
	int r = -1;

	/* The logged-in list, which sees the private key. */
	if (!(f = sess_raw(s, &raw)))
		return -1;
	if (f->C_OpenSession(PKCS11_get_slotid_from_slot(s->slot), CKF_SERIAL_SESSION, NULL, NULL, &sh) != CKR_OK)
		goto out;
	tmpl[nt++] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof cls};
	if (key->id_len)
		tmpl[nt++] = (CK_ATTRIBUTE){CKA_ID, key->id, key->id_len};
	if (key->label)
		tmpl[nt++] = (CK_ATTRIBUTE){CKA_LABEL, key->label, strlen(key->label)};
	if (f->C_FindObjectsInit(sh, tmpl, nt) == CKR_OK) {
		if (f->C_FindObjects(sh, objs, 2, &found) != CKR_OK)
			found = 0;
		f->C_FindObjectsFinal(sh);
	}
	if (found == 1)
		r = f->C_GetAttributeValue(sh, objs[0], &get, 1) == CKR_OK ? (aa == CK_TRUE) : 0;
	f->C_CloseSession(sh);
out:
	tok_raw_close(&raw);
	return r;
}

/* Connections wanted beyond libp11's: parallel_sessions - 1, with
 * parallel_sessions counted as at most TOK_SESSIONS_MAX. */
static int extra_conns(const struct sisign_token_opts *opts)
{
	int n = opts->parallel_sessions > TOK_SESSIONS_MAX ? TOK_SESSIONS_MAX : opts->parallel_sessions;
	return n - 1;
}

int sisign_signer_from_pkcs11(const char *uri, const struct sisign_token_opts *opts,
	struct sisign_signer **out, struct sisign_error *err)
{
	struct tok_signer *ts = NULL;
	PKCS11_KEY *keys = NULL, *key = NULL;
	PKCS11_CERT *certs = NULL;
	unsigned int nkeys = 0, ncerts = 0, count = 0;
	unsigned char *match = NULL;
	EVP_PKEY *priv = NULL, *pub = NULL, *tmp = NULL;
	X509 *cert = NULL;
	int pub_from_cert = 0;
	CK_ATTRIBUTE *cls;
	struct sisign_signer *signer = NULL;
	char *desc = NULL;
	int aa;
	char msg[sizeof(((struct sisign_error *)0)->message)];
	int r = SISIGN_ERR_INTERNAL;

	if (out)
		*out = NULL;
	if (!uri || !out)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_signer_from_pkcs11: NULL argument");
	if (!(ts = calloc(1, sizeof *ts)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	pthread_mutex_init(&ts->lock, NULL);
	pthread_cond_init(&ts->conn_free, NULL);

	if ((r = tok_uri_parse(uri, &ts->s.uri, err)) != 0)
		goto out;
	if ((cls = p11_kit_uri_get_attribute(ts->s.uri, CKA_CLASS)) != NULL &&
	    (cls->ulValueLen != sizeof(CK_OBJECT_CLASS) || *(CK_OBJECT_CLASS *)cls->pValue != CKO_PRIVATE_KEY)) {
		r = err_set(err, SISIGN_ERR_BAD_URI, -1, "signing needs a private key: the URI's type must be \"private\"");
		goto out;
	}
	if (!p11_kit_uri_get_attribute(ts->s.uri, CKA_LABEL) && !p11_kit_uri_get_attribute(ts->s.uri, CKA_ID)) {
		/* Allowed: a token with exactly one private key.  Several are
		 * reported as ambiguous below. */
	}
	if ((r = tok_resolve_module(ts->s.uri, opts, &ts->s.module, &ts->s.module_st, err)) != 0)
		goto out;
	if ((r = sess_load(&ts->s, err)) != 0)
		goto out;
	if ((r = sess_pick_token(&ts->s, err)) != 0)
		goto out;
	if ((r = sess_login(&ts->s, opts, 1, &ts->pin, err)) != 0)
		goto out;

	err_ossl_clear();
	if (PKCS11_enumerate_keys(ts->s.slot->token, &keys, &nkeys) != 0) {
		r = err_ckr(err, SISIGN_ERR_TOKEN, last_ckr(), "listing the token's private keys");
		goto out;
	}
	if (nkeys && !(match = calloc(nkeys, 1))) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	for (unsigned int i = 0; i < nkeys; i++)
		if (key_matches(ts->s.uri, &keys[i])) {
			match[i] = 1;
			count++;
			key = &keys[i];
		}
	if (count != 1) {
		if (count == 0)
			snprintf(msg, sizeof msg, "no private key on token \"%s\" matches the URI; private keys: ",
				ts->s.slot->token->label);
		else
			snprintf(msg, sizeof msg, "%u private keys match the URI; name one of: ", count);
		list_keys(&ts->s, keys, nkeys, count ? match : NULL, msg, sizeof msg);
		r = err_set(err, count ? SISIGN_ERR_AMBIGUOUS : SISIGN_ERR_KEY_NOT_FOUND, -1, "%s", msg);
		goto out;
	}
	if (PKCS11_get_key_type(key) != EVP_PKEY_RSA) {
		r = err_set(err, SISIGN_ERR_BAD_KEY, -1,
			"key \"%s\" is not an RSA key: token keys must be RSA (libp11 0.4.12 has no DSA)",
			key->label ? key->label : "");
		goto out;
	}
	ts->key = key;
	/* One look at CKA_ALWAYS_AUTHENTICATE (a session of its own): parallel
	 * sessions only where each C_Sign stands alone, and the login PIN kept
	 * only for a key that will ask for it again. */
	aa = key_always_auth(&ts->s, key);
	ts->parallel = opts && opts->parallel_sessions && aa == 0;

	/* The certificate with the same CKA_ID, if any. */
	if (PKCS11_enumerate_certs(ts->s.slot->token, &certs, &ncerts) != 0) {
		certs = NULL;
		ncerts = 0;
		err_ossl_clear();
	}
	for (unsigned int i = 0; i < ncerts; i++)
		if (certs[i].x509 && key->id_len && id_eq(certs[i].id, certs[i].id_len, key->id, key->id_len)) {
			cert = certs[i].x509;
			break;
		}

	/* Public half: from the key object (n, e), else the certificate. */
	if ((priv = PKCS11_get_private_key(key)) != NULL)
		pub = crypto_pkey_public_copy(priv);
	if (!pub)
		tmp = public_key_object(&ts->s, key);
	if (!pub && tmp)
		pub = crypto_pkey_public_copy(tmp);
	if (!pub && cert && (pub = X509_get_pubkey(cert)) != NULL)
		pub_from_cert = 1;
	err_ossl_clear();
	if (!pub) {
		r = err_set(err, SISIGN_ERR_TOKEN, -1, "cannot read the public part of key \"%s\"",
			key->label ? key->label : "");
		goto out;
	}
	if (cert) {
		EVP_PKEY *cpub = X509_get0_pubkey(cert);
		if (!cpub || EVP_PKEY_eq(cpub, pub) != 1) {
			r = err_set(err, SISIGN_ERR_KEY_MISMATCH, -1,
				"the certificate on the token with the key's id does not belong to key \"%s\"",
				key->label ? key->label : "");
			err_ossl_clear();
			goto out;
		}
	}
	ts->siglen = (size_t)EVP_PKEY_get_size(pub);

	/* N signatures in flight through a module that gives each caller an
	 * instance of its own: N - 1 more connections, each logged in with
	 * the PIN the first login kept.  Then the PIN copy goes, unless the
	 * key asks for it before every signature. */
	if (ts->parallel && opts->parallel_sessions > 1 &&
	    (r = conn_open_extra(&ts->s, key, pub, ts->pin, opts, extra_conns(opts), &ts->conns, &ts->nconns,
		     err)) != SISIGN_OK)
		goto out;
	if (ts->pin && aa != 1) {
		OPENSSL_secure_clear_free(ts->pin, strlen(ts->pin) + 1);
		ts->pin = NULL;
	}

	/* Context-specific logins (CKA_ALWAYS_AUTHENTICATE) go through
	 * libp11's UI hook.  Installed for every key so libp11 never falls
	 * back to OpenSSL's console UI. */
	if (!(ts->ui = UI_create_method("sisign-pkcs11")) || UI_method_set_reader(ts->ui, tsig_ui_read) != 0) {
		r = err_ossl(err, SISIGN_ERR_NOMEM, "cannot create a UI method");
		goto out;
	}
	if (opts && opts->ask_pin_per_signature && opts->pin_cb) {
		ts->cb = opts->pin_cb;
		ts->cb_data = opts->pin_cb_data;
		if (ts->pin) {
			OPENSSL_secure_clear_free(ts->pin, strlen(ts->pin) + 1);
			ts->pin = NULL;
		}
	}
	PKCS11_set_ui_method(ts->s.ctx, ts->ui, ts);

	if (!(desc = make_uri(ts->s.slot->token, 1, CKO_PRIVATE_KEY, key->label, key->id, key->id_len))) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	r = signer_new(&tok_signer_ops, ts, pub, desc, &signer, err);
	ts = NULL; /* transferred (destroyed by signer_new on failure) */
	if (r != 0)
		goto out;
	if (cert && (r = signer_set_cert(signer, cert, err)) != 0)
		goto out;
	if (pub_from_cert && (r = test_signature(signer, key, pub, err)) != 0)
		goto out;
	/* success */
	*out = signer;
	signer = NULL; /* transferred */
	r = SISIGN_OK;
out:
	free(match);
	free(desc);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(tmp);
	EVP_PKEY_free(pub);
	if (signer)
		sisign_signer_free(signer);
	if (ts) {
		/* The PIN copy is not needed when the key never asks again. */
		tsig_destroy(ts);
	}
	return r;
}

