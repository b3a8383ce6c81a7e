/* SPDX-License-Identifier: Apache-2.0 */
/* Listing: the tokens a module shows, and the keys and certificates on one
 * token (paired by CKA_ID), with copy-ready URIs. */
#include "pkcs11/tok_sess.h"
#include "crypto/crypto_private.h"
#include "util/util_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

static char *dupstr(const char *s)
{
	return strdup(s ? s : "");
}

void sisign_token_info_free(struct sisign_token_info *arr, size_t n)
{
	if (!arr)
		return;
	for (size_t i = 0; i < n; i++) {
		free(arr[i].module_path);
		free(arr[i].label);
		free(arr[i].serial);
		free(arr[i].manufacturer);
		free(arr[i].model);
		free(arr[i].uri);
	}
	free(arr);
}

static unsigned int flags_of(const PKCS11_TOKEN *t)
{
	unsigned int f = 0;
	if (t->initialized) f |= SISIGN_TOKEN_INITIALIZED;
	if (t->loginRequired) f |= SISIGN_TOKEN_LOGIN_REQUIRED;
	if (t->secureLogin) f |= SISIGN_TOKEN_PIN_PAD;
	if (t->userPinCountLow) f |= SISIGN_TOKEN_USER_PIN_COUNT_LOW;
	if (t->userPinFinalTry) f |= SISIGN_TOKEN_USER_PIN_FINAL_TRY;
	if (t->userPinLocked) f |= SISIGN_TOKEN_USER_PIN_LOCKED;
	if (t->userPinToBeChanged) f |= SISIGN_TOKEN_USER_PIN_TO_BE_CHANGED;
	if (t->readOnly) f |= SISIGN_TOKEN_READ_ONLY;
	return f;
}

int sisign_token_list(const struct sisign_token_opts *opts, struct sisign_token_info **arr, size_t *n,
	struct sisign_error *err)
{
	struct tok_sess s;
	struct sisign_token_info *v = NULL;
	size_t cnt = 0;
	int r = SISIGN_ERR_INTERNAL;

	if (arr)
		*arr = NULL;
	if (n)
		*n = 0;
	if (!arr || !n)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_token_list: NULL argument");
	if ((r = sess_open(&s, NULL, opts, err)) != 0)
		goto out;
	if (s.nslots && !(v = calloc(s.nslots, sizeof *v))) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	for (unsigned int i = 0; i < s.nslots; i++) {
		PKCS11_TOKEN *t = s.slots[i].token;
		struct sisign_token_info *ti;
		if (!t)
			continue;
		ti = &v[cnt++];
		ti->module_path = dupstr(s.module);
		ti->slot_id = PKCS11_get_slotid_from_slot(&s.slots[i]);
		ti->label = dupstr(t->label);
		ti->serial = dupstr(t->serialnr);
		ti->manufacturer = dupstr(t->manufacturer);
		ti->model = dupstr(t->model);
		ti->flags = flags_of(t);
		ti->uri = make_uri(t, 1, (unsigned long)-1, NULL, NULL, 0);
		if (!ti->module_path || !ti->label || !ti->serial || !ti->manufacturer || !ti->model || !ti->uri) {
			r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			goto out;
		}
	}
	/* success */
	*arr = v;
	*n = cnt;
	v = NULL; /* transferred */
	r = SISIGN_OK;
out:
	sisign_token_info_free(v, cnt);
	sess_close(&s);
	return r;
}

void sisign_token_objects_free(struct sisign_token_object *arr, size_t n)
{
	if (!arr)
		return;
	for (size_t i = 0; i < n; i++) {
		free(arr[i].label);
		free(arr[i].id_hex);
		free(arr[i].uri);
		free(arr[i].subject);
	}
	free(arr);
}

struct objrec {
	unsigned char *id;
	size_t id_len;
};

static enum sisign_key_type key_type_of(int evp_type)
{
	switch (evp_type) {
	case EVP_PKEY_RSA: return SISIGN_KEY_RSA;
	case EVP_PKEY_DSA: return SISIGN_KEY_DSA;
	default: return SISIGN_KEY_UNKNOWN;
	}
}

static int fill_obj(struct tok_sess *s, struct sisign_token_object *o, enum sisign_token_object_kind kind,
	const char *label, const unsigned char *id, size_t id_len)
{
	unsigned long cls = kind == SISIGN_TOKEN_OBJ_PRIVATE_KEY ? CKO_PRIVATE_KEY
		: kind == SISIGN_TOKEN_OBJ_PUBLIC_KEY ? CKO_PUBLIC_KEY : CKO_CERTIFICATE;
	o->kind = kind;
	o->paired = -1;
	o->label = dupstr(label);
	o->id_hex = util_hex_dup(id, id_len);
	o->uri = make_uri(s->slot->token, 0, cls, label, id, id_len);
	return o->label && o->id_hex && o->uri ? SISIGN_OK : SISIGN_ERR_NOMEM;
}

/* Does the object match the URI's object filters (label, id, type)? */
static int obj_filter(P11KitUri *uri, unsigned long cls, const char *label, const unsigned char *id, size_t id_len)
{
	CK_ATTRIBUTE *c = p11_kit_uri_get_attribute(uri, CKA_CLASS);
	PKCS11_KEY k;
	if (c && c->ulValueLen == sizeof(CK_OBJECT_CLASS) && *(CK_OBJECT_CLASS *)c->pValue != cls)
		return 0;
	memset(&k, 0, sizeof k);
	k.label = (char *)label;
	k.id = (unsigned char *)id;
	k.id_len = id_len;
	return key_matches(uri, &k);
}

int sisign_token_objects(const char *uri, const struct sisign_token_opts *opts, struct sisign_token_object **arr,
	size_t *n, struct sisign_error *err)
{
	struct tok_sess s;
	PKCS11_KEY *keys = NULL, *pubs = NULL;
	PKCS11_CERT *certs = NULL;
	unsigned int nkeys = 0, npubs = 0, ncerts = 0;
	struct sisign_token_object *v = NULL;
	struct objrec *rec = NULL;
	size_t cnt = 0, cap;
	int r = SISIGN_ERR_INTERNAL;

	if (arr)
		*arr = NULL;
	if (n)
		*n = 0;
	if (!arr || !n)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_token_objects: NULL argument");
	if ((r = sess_open(&s, uri, opts, err)) != 0)
		goto out;
	if ((r = sess_pick_token(&s, err)) != 0)
		goto out;
	/* Log in when a PIN source exists; otherwise list what is public. */
	r = sess_login(&s, opts, 0, NULL, err);
	if (r != SISIGN_OK && r != SISIGN_ERR_CANCELLED)
		goto out;
	if (r == SISIGN_ERR_CANCELLED && opts && opts->pin_cb)
		goto out; /* the user cancelled the prompt */
	err_ossl_clear();
	if (PKCS11_enumerate_keys(s.slot->token, &keys, &nkeys) != 0) {
		keys = NULL;
		nkeys = 0;
	}
	if (PKCS11_enumerate_public_keys(s.slot->token, &pubs, &npubs) != 0) {
		pubs = NULL;
		npubs = 0;
	}
	if (PKCS11_enumerate_certs(s.slot->token, &certs, &ncerts) != 0) {
		certs = NULL;
		ncerts = 0;
	}
	err_ossl_clear();
	cap = (size_t)nkeys + npubs + ncerts;
	if (cap && (!(v = calloc(cap, sizeof *v)) || !(rec = calloc(cap, sizeof *rec)))) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	for (unsigned int i = 0; i < nkeys + npubs; i++) {
		int priv = i < nkeys;
		PKCS11_KEY *k = priv ? &keys[i] : &pubs[i - nkeys];
		EVP_PKEY *pk;
		if (!obj_filter(s.uri, priv ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY, k->label, k->id, k->id_len))
			continue;
		if (fill_obj(&s, &v[cnt], priv ? SISIGN_TOKEN_OBJ_PRIVATE_KEY : SISIGN_TOKEN_OBJ_PUBLIC_KEY, k->label,
			    k->id, k->id_len) != 0) {
			cnt++;
			r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			goto out;
		}
		v[cnt].key_type = key_type_of(PKCS11_get_key_type(k));
		pk = priv ? PKCS11_get_private_key(k) : PKCS11_get_public_key(k);
		if (pk)
			v[cnt].key_bits = EVP_PKEY_get_bits(pk);
		EVP_PKEY_free(pk);
		rec[cnt].id = k->id;
		rec[cnt].id_len = k->id_len;
		cnt++;
	}
	for (unsigned int i = 0; i < ncerts; i++) {
		PKCS11_CERT *c = &certs[i];
		EVP_PKEY *pk;
		if (!obj_filter(s.uri, CKO_CERTIFICATE, c->label, c->id, c->id_len))
			continue;
		if (fill_obj(&s, &v[cnt], SISIGN_TOKEN_OBJ_CERT, c->label, c->id, c->id_len) != 0) {
			cnt++;
			r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			goto out;
		}
		if (c->x509) {
			const ASN1_TIME *na = X509_get0_notAfter(c->x509);
			struct tm tm;
			char sub[512];
			if (crypto_dn_oneline(X509_get_subject_name(c->x509), sub, sizeof sub, NULL) == SISIGN_OK)
				v[cnt].subject = strdup(sub);
			if (na && ASN1_TIME_to_tm(na, &tm) == 1)
				v[cnt].not_after = timegm(&tm);
			if ((pk = X509_get0_pubkey(c->x509)) != NULL) {
				v[cnt].key_type = key_type_of(EVP_PKEY_get_base_id(pk));
				v[cnt].key_bits = EVP_PKEY_get_bits(pk);
			}
		}
		rec[cnt].id = c->id;
		rec[cnt].id_len = c->id_len;
		cnt++;
	}
	err_ossl_clear();
	/* Pair by CKA_ID: private key <-> certificate; public key -> private. */
	for (size_t i = 0; i < cnt; i++) {
		enum sisign_token_object_kind want = v[i].kind == SISIGN_TOKEN_OBJ_PRIVATE_KEY ? SISIGN_TOKEN_OBJ_CERT
			: SISIGN_TOKEN_OBJ_PRIVATE_KEY;
		if (!rec[i].id_len)
			continue;
		for (size_t j = 0; j < cnt; j++)
			if (j != i && v[j].kind == want && id_eq(rec[i].id, rec[i].id_len, rec[j].id, rec[j].id_len)) {
				v[i].paired = (long)j;
				break;
			}
	}
	/* success */
	*arr = v;
	*n = cnt;
	v = NULL; /* transferred */
	r = SISIGN_OK;
out:
	sisign_token_objects_free(v, cnt);
	free(rec);
	sess_close(&s);
	return r;
}
