/* SPDX-License-Identifier: Apache-2.0 */
/* Choosing the one token a URI names, matching objects against the URI,
 * and the URIs that messages and listings show. */
#include "pkcs11/tok_sess.h"
#include "util/util_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copy a space-padded PKCS#11 string field from a C string. */
static void pad_copy(unsigned char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	memset(dst, ' ', size);
	memcpy(dst, src, n < size ? n : size);
}

static void token_info_from(const PKCS11_TOKEN *t, CK_TOKEN_INFO *ti)
{
	memset(ti, 0, sizeof *ti);
	pad_copy(ti->label, sizeof ti->label, t->label);
	pad_copy(ti->manufacturerID, sizeof ti->manufacturerID, t->manufacturer);
	pad_copy(ti->model, sizeof ti->model, t->model);
	pad_copy(ti->serialNumber, sizeof ti->serialNumber, t->serialnr);
}

/* A URI for a token, and optionally an object on it.  full: label,
 * manufacturer, model, serial; otherwise label and serial only (lists in
 * error messages).  NULL on allocation failure. */
char *make_uri(const PKCS11_TOKEN *t, int full, unsigned long cls, const char *label,
	const unsigned char *id, size_t id_len)
{
	P11KitUri *u = p11_kit_uri_new();
	CK_TOKEN_INFO ti;
	char *s = NULL;
	if (!u)
		return NULL;
	token_info_from(t, &ti);
	if (!full) {
		memset(ti.manufacturerID, 0, sizeof ti.manufacturerID);
		memset(ti.model, 0, sizeof ti.model);
	}
	memcpy(p11_kit_uri_get_token_info(u), &ti, sizeof ti);
	if (cls != (unsigned long)-1) {
		CK_OBJECT_CLASS c = cls;
		CK_ATTRIBUTE a = {CKA_CLASS, &c, sizeof c};
		if (label && *label) {
			CK_ATTRIBUTE l = {CKA_LABEL, (void *)label, strlen(label)};
			p11_kit_uri_set_attribute(u, &l);
		}
		if (id && id_len) {
			CK_ATTRIBUTE i = {CKA_ID, (void *)id, id_len};
			p11_kit_uri_set_attribute(u, &i);
		}
		p11_kit_uri_set_attribute(u, &a);
	}
	if (p11_kit_uri_format(u, cls != (unsigned long)-1 ? P11_KIT_URI_FOR_OBJECT_ON_TOKEN : P11_KIT_URI_FOR_TOKEN,
		    &s) != P11_KIT_URI_OK)
		s = NULL;
	p11_kit_uri_free(u);
	return s;
}

static int slot_matches(struct tok_sess *s, PKCS11_SLOT *slot)
{
	CK_TOKEN_INFO ti;
	CK_SLOT_INFO si;
	CK_SLOT_ID want = p11_kit_uri_get_slot_id(s->uri);
	/* A token without CKF_TOKEN_INITIALIZED (SoftHSM's spare empty slot, a
	 * blank card) has no PIN, keys or certificates to offer: never a
	 * candidate, so "pkcs11:" alone names the one initialised token. */
	if (!slot->token || !slot->token->initialized)
		return 0;
	token_info_from(slot->token, &ti);
	if (!p11_kit_uri_match_token_info(s->uri, &ti))
		return 0;
	memset(&si, 0, sizeof si);
	pad_copy(si.slotDescription, sizeof si.slotDescription, slot->description);
	pad_copy(si.manufacturerID, sizeof si.manufacturerID, slot->manufacturer);
	if (!p11_kit_uri_match_slot_info(s->uri, &si))
		return 0;
	if (want != (CK_SLOT_ID)-1 && PKCS11_get_slotid_from_slot(slot) != want)
		return 0;
	return 1;
}

/* Append ", u" (just "u" for the first entry; "?" for a NULL u) to a
 * message buffer holding used bytes, and free u.  Returns 0 once the buffer
 * is full. */
int list_add(char *buf, size_t size, size_t *used, int *first, char *u)
{
	int w = snprintf(buf + *used, size > *used ? size - *used : 0, "%s%s", *first ? "" : ", ", u ? u : "?");
	if (w > 0)
		*used += (size_t)w;
	free(u);
	*first = 0;
	return *used < size;
}

/* Close a list that list_add never added to. */
void list_end(char *buf, size_t size, size_t used, int first)
{
	if (first && used < size)
		snprintf(buf + used, size - used, "none");
}

/* Append the short URIs of the initialised tokens in slots (only those in
 * match, if match is given) to a message buffer. */
static void list_tokens(struct tok_sess *s, const unsigned char *match, char *buf, size_t size)
{
	size_t used = strlen(buf);
	int first = 1;
	for (unsigned int i = 0; i < s->nslots; i++) {
		if (!s->slots[i].token || !s->slots[i].token->initialized || (match && !match[i]))
			continue;
		if (!list_add(buf, size, &used, &first, make_uri(s->slots[i].token, 0, (unsigned long)-1, NULL, NULL, 0)))
			break;
	}
	list_end(buf, size, used, first);
}

/* Choose the one token the URI names. */
int sess_pick_token(struct tok_sess *s, struct sisign_error *err)
{
	unsigned char *match = NULL;
	unsigned int count = 0, which = 0;
	char msg[sizeof(((struct sisign_error *)0)->message)];
	int r;

	if (s->nslots && !(match = calloc(s->nslots, 1)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	for (unsigned int i = 0; i < s->nslots; i++)
		if (slot_matches(s, &s->slots[i])) {
			match[i] = 1;
			count++;
			which = i;
		}
	if (count == 1) {
		s->slot = &s->slots[which];
		free(match);
		return SISIGN_OK;
	}
	if (count == 0) {
		snprintf(msg, sizeof msg, "no token matches the URI in %s; tokens present: ", s->module);
		list_tokens(s, NULL, msg, sizeof msg);
		r = err_set(err, SISIGN_ERR_TOKEN_NOT_FOUND, -1, "%s", msg);
	} else {
		snprintf(msg, sizeof msg, "%u tokens match the URI; name one of: ", count);
		list_tokens(s, match, msg, sizeof msg);
		r = err_set(err, SISIGN_ERR_AMBIGUOUS, -1, "%s", msg);
	}
	free(match);
	return r;
}

int id_eq(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* Does key k match the URI's object attributes? */
int key_matches(P11KitUri *uri, const PKCS11_KEY *k)
{
	CK_ATTRIBUTE *lab = p11_kit_uri_get_attribute(uri, CKA_LABEL);
	CK_ATTRIBUTE *id = p11_kit_uri_get_attribute(uri, CKA_ID);
	if (lab) {
		size_t n = k->label ? strlen(k->label) : 0;
		if (n != lab->ulValueLen || (n && memcmp(k->label, lab->pValue, n) != 0))
			return 0;
	}
	if (id && !id_eq(k->id, k->id_len, id->pValue, id->ulValueLen))
		return 0;
	return 1;
}
