/* SPDX-License-Identifier: Apache-2.0 */
/* More connections to the token, for signatures in flight at once
 * (sisign_token_opts.parallel_sessions N > 1).
 *
 * Most modules hand every C_GetFunctionList caller the same function list:
 * one instance per process, whose sessions share one login, and libp11's
 * session pool spreads concurrent signatures over them (tok_signer.c).  A
 * module that hands each caller an instance of its own, which is another
 * application to the token, needs more: p11-kit-client.so opens a new
 * connection to its server per instance, and `p11-kit server` runs each
 * connection in a process of its own (`p11-kit remote`) that answers one
 * call at a time.  However many sessions one connection has, one
 * signature is in flight.  There N signatures in flight take N
 * connections, each with its own login.
 *
 * How it is told apart, without looking at the module's name: after the
 * first login, a new C_GetFunctionList list (tok_raw_open) that is not yet
 * initialised is another instance than libp11's; a session on it that is
 * not logged in shows that the first login did not reach it, so it is
 * another application (p11-kit's proxy also hands out instances of its
 * own, but they share the real module in this process, and with it the
 * login: its sessions show the user logged in, and nothing more is
 * opened).  The login session tok_login.c keeps is told apart the same
 * way: where its C_Login, made after libp11's, was answered CKR_OK rather
 * than CKR_USER_ALREADY_LOGGED_IN, it is a connection of its own, and the
 * first one used.  Each connection must then show the same token (label,
 * serial, manufacturer, model, and the URI's token attributes) and exactly
 * one private key with the key's CKA_ID and label, whose modulus and
 * exponent, where it shows them, are the signer's public key.
 *
 * PIN: each extra connection logs in with the copy of the PIN the first
 * login kept (sess_login), only after that login succeeded; a refused
 * login stops with its error and is never repeated, and no PIN is asked
 * again.  The caller wipes the copy once every login is done.  PIN-pad
 * tokens get no extra connections (each would need the PIN typed again).
 * Every extra login is told to opts->on_login like the first.
 *
 * Signing on a connection is C_SignInit(CKM_RSA_PKCS) and C_Sign over the
 * DigestInfo on its one session, the same two calls libp11 makes. */
#include "pkcs11/tok_sess.h"
#include "util/util_private.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

/* Connections that show no token are tried again (new connections) up to
 * this many times: SoftHSM behind p11-kit server can miss the token while
 * another client logs in (tok_module.c). */
#define CONN_TRIES 4

/* Does the CK_UTF8CHAR field f (n bytes, blank-padded) hold exactly s? */
static int field_is(const unsigned char *f, size_t n, const char *s)
{
	size_t len = p11_kit_space_strlen(f, n);
	s = s ? s : "";
	return strlen(s) == len && memcmp(f, s, len) == 0;
}

/* Is tinfo the token libp11 chose for s (and one the URI names)? */
static int same_token(const struct tok_sess *s, CK_TOKEN_INFO *tinfo)
{
	const PKCS11_TOKEN *t = s->slot->token;
	return field_is(tinfo->label, sizeof tinfo->label, t->label) &&
		field_is(tinfo->serialNumber, sizeof tinfo->serialNumber, t->serialnr) &&
		field_is(tinfo->manufacturerID, sizeof tinfo->manufacturerID, t->manufacturer) &&
		field_is(tinfo->model, sizeof tinfo->model, t->model) && p11_kit_uri_match_token_info(s->uri, tinfo);
}

/* The slot of s's token on the connection f: 0 and *slot, 1 when the
 * connection shows it on no slot (or fails to list them with
 * CKR_GENERAL_ERROR: worth a new connection), else an error. */
static int find_slot(struct tok_sess *s, CK_FUNCTION_LIST *f, CK_SLOT_ID *slot, struct sisign_error *err)
{
	CK_SLOT_ID *ids = NULL;
	CK_ULONG n = 0, found = 0;
	CK_TOKEN_INFO tinfo;
	CK_RV rv;
	int r = SISIGN_ERR_INTERNAL;

	rv = f->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv == CKR_OK && n && !(ids = calloc(n, sizeof *ids)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	if (rv == CKR_OK && n)
		rv = f->C_GetSlotList(CK_TRUE, ids, &n);
	if (rv == CKR_GENERAL_ERROR) {
		r = 1;
		goto out;
	}
	if (rv != CKR_OK) {
		r = err_ckr(err, SISIGN_ERR_TOKEN, rv, "listing the slots on another connection to the module");
		goto out;
	}
	for (CK_ULONG i = 0; i < n; i++) {
		if (f->C_GetTokenInfo(ids[i], &tinfo) == CKR_OK && same_token(s, &tinfo)) {
			*slot = ids[i];
			found++;
		}
	}
	if (found > 1) {
		r = err_set(err, SISIGN_ERR_AMBIGUOUS, -1,
			"another connection to the module shows %lu tokens like \"%s\"", (unsigned long)found,
			s->slot->token->label);
		goto out;
	}
	r = found ? 0 : 1;
out:
	free(ids);
	return r;
}

/* Read attribute type of obj as a number into *bn (NULL if the token does
 * not show it). */
static int get_bn(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE sh, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
	BIGNUM **bn)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	unsigned char *buf = NULL;

	*bn = NULL;
	if (f->C_GetAttributeValue(sh, obj, &a, 1) != CKR_OK || a.ulValueLen == 0 ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > 4096)
		return 0;
	if (!(buf = malloc(a.ulValueLen)))
		return -1;
	a.pValue = buf;
	if (f->C_GetAttributeValue(sh, obj, &a, 1) == CKR_OK)
		*bn = BN_bin2bn(buf, (int)a.ulValueLen, NULL);
	free(buf);
	return 0;
}

/* Is obj's public part, where it shows one, pub?  1 yes (or not shown),
 * 0 no. */
static int same_public(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE sh, CK_OBJECT_HANDLE obj, EVP_PKEY *pub)
{
	BIGNUM *n = NULL, *e = NULL, *pn = NULL, *pe = NULL;
	int ok = 0;

	if (get_bn(f, sh, obj, CKA_MODULUS, &n) != 0 || get_bn(f, sh, obj, CKA_PUBLIC_EXPONENT, &e) != 0)
		goto out;
	if (!n || !e) {
		ok = 1; /* not shown: the CKA_ID and label matched on the same token */
		goto out;
	}
	if (EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &pn) != 1 ||
	    EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &pe) != 1)
		goto out;
	ok = BN_cmp(n, pn) == 0 && BN_cmp(e, pe) == 0;
out:
	BN_free(n);
	BN_free(e);
	BN_free(pn);
	BN_free(pe);
	err_ossl_clear();
	return ok;
}

/* The key on c's session: exactly one private key with key's CKA_ID and
 * label, with pub as its public part. */
static int find_key(struct tok_conn *c, const PKCS11_KEY *key, EVP_PKEY *pub, struct sisign_error *err)
{
	CK_FUNCTION_LIST *f = c->raw.f;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[3];
	CK_OBJECT_HANDLE objs[2];
	CK_ULONG nt = 0, found = 0;
	const char *label = key->label ? key->label : "";
	CK_RV rv;

	tmpl[nt++] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof cls};
	if (key->id_len)
		tmpl[nt++] = (CK_ATTRIBUTE){CKA_ID, key->id, key->id_len};
	if (key->label)
		tmpl[nt++] = (CK_ATTRIBUTE){CKA_LABEL, key->label, strlen(key->label)};
	if ((rv = f->C_FindObjectsInit(c->sh, tmpl, nt)) != CKR_OK)
		return err_ckr(err, SISIGN_ERR_TOKEN, rv, "looking for the key on another connection");
	rv = f->C_FindObjects(c->sh, objs, 2, &found);
	f->C_FindObjectsFinal(c->sh);
	if (rv != CKR_OK)
		return err_ckr(err, SISIGN_ERR_TOKEN, rv, "looking for the key on another connection");
	if (found != 1)
		return err_set(err, found ? SISIGN_ERR_AMBIGUOUS : SISIGN_ERR_KEY_NOT_FOUND, -1,
			"another connection to the module shows %s private key with the id and label of key \"%s\"",
			found ? "more than one" : "no", label);
	if (!same_public(f, c->sh, objs[0], pub))
		return err_set(err, SISIGN_ERR_KEY_MISMATCH, -1,
			"the key \"%s\" another connection to the module shows is not the same key", label);
	c->key = objs[0];
	return SISIGN_OK;
}

/* One C_Login on c's session, told to opts->on_login. */
static int conn_login(struct tok_sess *s, struct tok_conn *c, const char *pin, const struct sisign_token_opts *opts,
	struct sisign_error *err)
{
	struct sisign_error local;
	struct sisign_error *e;
	CK_RV rv;
	int r = SISIGN_OK;

	sisign_error_clear(&local);
	e = err ? err : &local;
	rv = c->raw.f->C_Login(c->sh, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		r = tok_login_error(e, rv, "token", s->slot->token->label);
	login_report(s, opts, 1, r, e);
	return r;
}

static void conn_close(struct tok_conn *c)
{
	if (!c->borrowed) {
		if (c->open)
			c->raw.f->C_CloseSession(c->sh);
		tok_raw_close(&c->raw);
	}
	memset(c, 0, sizeof *c);
}

/* Open one connection (a new instance of s's module) into c, log it in
 * and find the key.  *shared is set when the new instance is no
 * connection of its own (the top of this file); c is then closed again.
 * 1: the token was not on it (c closed; worth a new try). */
static int conn_open(struct tok_sess *s, const PKCS11_KEY *key, EVP_PKEY *pub, const char *pin,
	const struct sisign_token_opts *opts, struct tok_conn *c, int *shared, struct sisign_error *err)
{
	CK_SLOT_ID slot = 0;
	CK_SESSION_INFO info;
	CK_RV rv;
	int r = SISIGN_ERR_INTERNAL;

	*shared = 0;
	memset(c, 0, sizeof *c);
	if (tok_raw_open(s->module, &c->raw) != 0) {
		r = err_set(err, SISIGN_ERR_TOKEN_FAILED, -1,
			"cannot open another connection to PKCS#11 module %s (C_GetFunctionList or C_Initialize "
			"failed)", s->module);
		goto out;
	}
	if (!c->raw.initialised_here) {
		/* The list libp11 already initialised: the same instance. */
		*shared = 1;
		r = SISIGN_OK;
		goto out;
	}
	if ((r = find_slot(s, c->raw.f, &slot, err)) != 0)
		goto out;
	rv = c->raw.f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &c->sh);
	if (rv != CKR_OK) {
		r = err_ckr(err, SISIGN_ERR_TOKEN, rv, "opening a session on another connection");
		goto out;
	}
	c->open = 1;
	if (s->slot->token->loginRequired) {
		rv = c->raw.f->C_GetSessionInfo(c->sh, &info);
		if (rv != CKR_OK) {
			r = err_ckr(err, SISIGN_ERR_TOKEN, rv, "reading a session on another connection");
			goto out;
		}
		if (info.state == CKS_RO_USER_FUNCTIONS || info.state == CKS_RW_USER_FUNCTIONS) {
			/* The first login reached it: one application. */
			*shared = 1;
			r = SISIGN_OK;
			goto out;
		}
		if ((r = conn_login(s, c, pin, opts, err)) != SISIGN_OK)
			goto out;
	}
	r = find_key(c, key, pub, err);
out:
	if (r != SISIGN_OK || *shared)
		conn_close(c);
	return r;
}

/* The login session tok_login.c keeps (s->login_raw) as a signing
 * connection: where its login was its own (s->login_separate), it is one
 * more connection, already logged in. */
static int conn_borrow_login(struct tok_sess *s, const PKCS11_KEY *key, EVP_PKEY *pub, struct tok_conn *c,
	struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	memset(c, 0, sizeof *c);
	c->raw = s->login_raw;
	c->sh = s->login_sh;
	c->open = 1;
	c->borrowed = 1;
	if ((r = find_key(c, key, pub, err)) != SISIGN_OK)
		conn_close(c);
	return r;
}

int conn_open_extra(struct tok_sess *s, const PKCS11_KEY *key, EVP_PKEY *pub, const char *pin,
	const struct sisign_token_opts *opts, int want, struct tok_conn **out, int *nout, struct sisign_error *err)
{
	struct tok_conn *c = NULL;
	int n = 0, shared = 0, r = SISIGN_ERR_INTERNAL;

	*out = NULL;
	*nout = 0;
	if (want < 1 || s->slot->token->secureLogin || (s->slot->token->loginRequired && !pin))
		return SISIGN_OK;
	if (!(c = calloc((size_t)want, sizeof *c)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	/* The login session, where it is a connection of its own, is the
	 * first one: already open and logged in. */
	if (s->login_open && s->login_separate) {
		if ((r = conn_borrow_login(s, key, pub, &c[0], err)) != SISIGN_OK)
			goto out;
		n++;
	}
	while (n < want) {
		int tries = 0;
		do {
			if (tries)
				sess_load_pause(tries);
			r = conn_open(s, key, pub, pin, opts, &c[n], &shared, err);
		} while (r == 1 && ++tries < CONN_TRIES);
		if (r == 1) {
			r = err_set(err, SISIGN_ERR_TOKEN_NOT_FOUND, -1,
				"connection %d of %d to PKCS#11 module %s showed no token \"%s\" (%d tries)", n + 2,
				want + 1, s->module, s->slot->token->label, CONN_TRIES);
			goto out;
		}
		if (r != SISIGN_OK)
			goto out;
		if (shared)
			break; /* one instance, or one login: nothing more to open */
		n++;
	}
	/* success */
	if (n) {
		*out = c;
		*nout = n;
		c = NULL; /* transferred */
	}
	r = SISIGN_OK;
out:
	if (c) {
		conn_close_all(c, n);
		free(c);
	}
	return r;
}

void conn_close_all(struct tok_conn *c, int n)
{
	for (int i = 0; i < n; i++)
		conn_close(&c[i]);
}

int conn_sign(struct tok_conn *c, const unsigned char *di, size_t dilen, unsigned char *sig, size_t *siglen,
	unsigned long *rv)
{
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	CK_ULONG len = (CK_ULONG)*siglen;
	CK_RV r;

	r = c->raw.f->C_SignInit(c->sh, &mech, c->key);
	if (r == CKR_OK)
		r = c->raw.f->C_Sign(c->sh, (CK_BYTE_PTR)di, (CK_ULONG)dilen, sig, &len);
	*rv = r;
	if (r != CKR_OK)
		return -1;
	*siglen = len;
	return 0;
}
