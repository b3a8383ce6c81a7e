/* SPDX-License-Identifier: Apache-2.0 */
/* Logged-in handles for key generation, import and export (keygen.c;
 * declared in token_private.h), and the raw function list of a module
 * libp11 has loaded.  The same module resolution, token choice and PIN
 * rules as signing, but the caller then works on the module's raw function
 * list (libp11 0.4.12 cannot set CKA_EXTRACTABLE or leave out
 * CKA_DECRYPT/CKA_UNWRAP when it generates or stores a key). */
#include "pkcs11/tok_sess.h"
#include "util/util_private.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* libp11 0.4.12 hides its function list: take the one of the module it
 * already loaded (RTLD_NOLOAD).  module must be the session's canonical
 * path (tok_sess.module): sess_load keeps the object loaded under that
 * name, so the lookup finds it without opening the path again. */
int tok_raw_open(const char *module, struct tok_raw *raw)
{
	CK_C_GetFunctionList gfl;
	CK_INFO info;
	CK_RV rv;

	memset(raw, 0, sizeof *raw);
	raw->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
	if (!raw->dl)
		return -1;
	*(void **)&gfl = dlsym(raw->dl, "C_GetFunctionList");
	if (!gfl || gfl(&raw->f) != CKR_OK || !raw->f) {
		tok_raw_close(raw);
		return -1;
	}
	rv = raw->f->C_GetInfo(&info);
	if (rv == CKR_CRYPTOKI_NOT_INITIALIZED) {
		CK_C_INITIALIZE_ARGS args;
		memset(&args, 0, sizeof args);
		args.flags = CKF_OS_LOCKING_OK;
		rv = raw->f->C_Initialize(&args);
		if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			tok_raw_close(raw);
			return -1;
		}
		raw->initialised_here = rv == CKR_OK;
	}
	return 0;
}

void tok_raw_close(struct tok_raw *raw)
{
	if (raw->f && raw->initialised_here)
		raw->f->C_Finalize(NULL);
	if (raw->dl)
		dlclose(raw->dl);
	memset(raw, 0, sizeof *raw);
}


struct tok_handle {
	struct tok_sess s;
	const struct sisign_token_opts *opts; /* the caller's, for a context-login PIN */
	char *pin;              /* login PIN kept for context logins (keep_pin), secure heap */
};

int tok_handle_open(const char *uri, const struct sisign_token_opts *opts, int need_login, int keep_pin,
	struct tok_handle **out, struct sisign_error *err)
{
	struct tok_handle *h = NULL;
	int r = SISIGN_ERR_INTERNAL;

	*out = NULL;
	if (!(h = calloc(1, sizeof *h)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	h->opts = opts;
	if ((r = sess_open(&h->s, uri, opts, err)) != 0)
		goto out;
	if ((r = sess_pick_token(&h->s, err)) != 0)
		goto out;
	r = sess_login(&h->s, opts, need_login, keep_pin ? &h->pin : NULL, err);
	if (r == SISIGN_ERR_CANCELLED && !need_login)
		r = SISIGN_OK; /* no PIN source: public objects only */
	if (r != 0)
		goto out;
	/* success */
	*out = h;
	h = NULL; /* transferred */
	r = SISIGN_OK;
out:
	tok_handle_free(h);
	return r;
}

void tok_handle_forget_pin(struct tok_handle *h)
{
	if (h && h->pin) {
		OPENSSL_secure_clear_free(h->pin, strlen(h->pin) + 1);
		h->pin = NULL;
	}
}

void tok_handle_free(struct tok_handle *h)
{
	if (!h)
		return;
	tok_handle_forget_pin(h);
	sess_close(&h->s);
	free(h);
}

int tok_handle_context_login(struct tok_handle *h, CK_FUNCTION_LIST *f, CK_SESSION_HANDLE sh, const char *label,
	struct sisign_error *err)
{
	char *pin = NULL;
	size_t len = 0;
	int r;
	CK_RV rv;

	if (h->s.slot->token->secureLogin) {
		/* PIN pad: the token asks for it itself. */
		rv = f->C_Login(sh, CKU_CONTEXT_SPECIFIC, NULL, 0);
	} else if (h->pin) {
		rv = f->C_Login(sh, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR *)h->pin, (CK_ULONG)strlen(h->pin));
	} else if (h->opts && h->opts->pin_cb) {
		/* Asked now: the same rule as every PIN (sisign_secret_check),
		 * in the secure heap, wiped right after. */
		if (!(pin = sisign_secret_alloc(TOK_PIN_MAX + 1)))
			return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		r = util_secret_ask(h->opts->pin_cb, h->opts->pin_cb_data, "pin", label, -1, pin, TOK_PIN_MAX + 1,
			&len, err);
		if (r != SISIGN_OK) {
			sisign_secret_free(pin, TOK_PIN_MAX + 1);
			return r;
		}
		rv = f->C_Login(sh, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR *)pin, (CK_ULONG)len);
		sisign_secret_free(pin, TOK_PIN_MAX + 1);
	} else {
		return err_set(err, SISIGN_ERR_CANCELLED, -1,
			"key \"%s\" asks for the PIN before each signature (CKA_ALWAYS_AUTHENTICATE) and none was "
			"given", label);
	}
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		return SISIGN_OK;
	return tok_login_error(err, rv, "key", label);
}

P11KitUri *tok_handle_uri(struct tok_handle *h)
{
	return h->s.uri;
}

CK_FUNCTION_LIST *sess_raw(struct tok_sess *s, struct tok_raw *own)
{
	memset(own, 0, sizeof *own);
	if (s->login_open)
		return s->login_raw.f;
	return tok_raw_open(s->module, own) == 0 ? own->f : NULL;
}

CK_FUNCTION_LIST *tok_handle_raw(struct tok_handle *h, struct tok_raw *own)
{
	return sess_raw(&h->s, own);
}

const char *tok_handle_module(const struct tok_handle *h)
{
	return h->s.module;
}

unsigned long tok_handle_slot_id(const struct tok_handle *h)
{
	return PKCS11_get_slotid_from_slot(h->s.slot);
}

const char *tok_handle_label(const struct tok_handle *h)
{
	return h->s.slot->token->label;
}

int tok_handle_read_only(const struct tok_handle *h)
{
	return h->s.slot->token->readOnly != 0;
}

char *tok_handle_object_uri(const struct tok_handle *h, unsigned long cls, const char *label,
	const unsigned char *id, size_t id_len)
{
	return make_uri(h->s.slot->token, 0, cls, label, id, id_len);
}

int tok_handle_ckr_error(struct sisign_error *err, int fallback, unsigned long rv, const char *what)
{
	return err_ckr(err, fallback, rv, what);
}
