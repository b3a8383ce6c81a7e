/* The PIN and C_Login: where the PIN comes from, the lockout checks made
 * before any login, and the errors a failed login gives.  A wrong PIN is
 * never retried.  PIN counters: PKCS#11 has only flags, no counts;
 * COUNT_LOW is passed to the callback as SISIGN_TRIES_LOW, FINAL_TRY as 1. */
#include "pkcs11/tok_sess.h"
#include "util/util_private.h"

#include <string.h>

#include <openssl/crypto.h>

int tok_login_error(struct sisign_error *err, unsigned long rv, const char *kind, const char *label)
{
	int code;

	switch (rv) {
	case CKR_PIN_INCORRECT:
		code = err_set(err, SISIGN_ERR_PIN_INCORRECT, -1, "wrong PIN for %s \"%s\" (not retrying)", kind, label);
		break;
	case CKR_PIN_LOCKED:
		code = err_set(err, SISIGN_ERR_PIN_LOCKED, -1, "the user PIN of %s \"%s\" is now locked", kind, label);
		break;
	case CKR_GENERAL_ERROR:
		/* OpenSC's CAC driver answers a wrong PIN this way.  Read as a
		 * PIN error, so nobody is invited to try the same PIN again,
		 * but said as what the card did. */
		code = err_set(err, SISIGN_ERR_PIN_INCORRECT, -1,
			"%s \"%s\": the card refused the login (CKR_GENERAL_ERROR); some cards report a wrong PIN "
			"this way — check the PIN before trying again (not retrying)", kind, label);
		break;
	default:
		return err_ckr(err, SISIGN_ERR_TOKEN, rv, "login");
	}
	if (err)
		err->ckr = rv;
	return code;
}

/* Where the PIN comes from, before any C_Login: NULL PIN for a PIN pad;
 * else URI pin-source, URI pin-value (if allowed), then the callback.
 * need_pin=0 means "only if a source is available" (listing): returns
 * SISIGN_ERR_CANCELLED quietly when there is none.  Never retries. */
int sess_login(struct tok_sess *s, const struct sisign_token_opts *opts, int need_pin, char **keep,
	struct sisign_error *err)
{
	PKCS11_TOKEN *t = s->slot->token;
	const char *src = p11_kit_uri_get_pin_source(s->uri);
	const char *val = p11_kit_uri_get_pin_value(s->uri);
	char pin[TOK_PIN_MAX + 1];
	size_t len = 0;
	int tries = -1, r = SISIGN_ERR_INTERNAL, have = 0;

	if (keep)
		*keep = NULL;
	if (!t->loginRequired)
		return SISIGN_OK;
	if (t->userPinLocked)
		return err_set(err, SISIGN_ERR_PIN_LOCKED, -1,
			"the user PIN of token \"%s\" is locked; unlock it with the SO PIN (not attempting a login)",
			t->label);
	if (t->userPinFinalTry && !(opts && opts->force_final_try))
		return err_set(err, SISIGN_ERR_PIN_FINAL_TRY, -1,
			"token \"%s\": one more wrong PIN locks it; not logging in (force to try anyway)", t->label);
	if (t->userPinFinalTry)
		tries = 1;
	else if (t->userPinCountLow)
		tries = SISIGN_TRIES_LOW;

	if (val && !(opts && opts->allow_pin_in_uri))
		return err_set(err, SISIGN_ERR_BAD_URI, -1,
			"the URI contains pin-value: a PIN in a URI leaks into shell history, logs and project "
			"files; use pin-source=file:..., a PIN file or fd, or allow it explicitly");

	if (t->secureLogin) {
		/* PIN pad: the token collects the PIN itself. */
		err_ossl_clear();
		if (PKCS11_login(s->slot, 0, NULL) != 0)
			return tok_login_error(err, last_ckr(), "token", t->label);
		return SISIGN_OK;
	}

	if (src && *src) {
		if ((r = tok_read_pin_source(src, pin, sizeof pin, &len, err)) != 0)
			return r;
		have = 1;
	} else if (val) {
		len = strlen(val);
		if (len > TOK_PIN_MAX)
			return err_set(err, SISIGN_ERR_BAD_URI, -1, "pin-value too long");
		memcpy(pin, val, len + 1);
		have = 1;
	} else if (opts && opts->pin_cb) {
		int n = opts->pin_cb(opts->pin_cb_data, "pin", t->label, tries, pin, sizeof pin);
		if (n < 0) {
			OPENSSL_cleanse(pin, sizeof pin);
			return err_set(err, n, -1, "no PIN for token \"%s\"", t->label);
		}
		pin[(size_t)n < sizeof pin ? (size_t)n : sizeof pin - 1] = '\0';
		len = strlen(pin);
		have = 1;
	}
	if (!have) {
		if (!need_pin)
			return SISIGN_ERR_CANCELLED;
		return err_set(err, SISIGN_ERR_CANCELLED, -1, "token \"%s\" needs a PIN and none was given",
			t->label);
	}

	err_ossl_clear();
	if (PKCS11_login(s->slot, 0, pin) != 0) {
		unsigned long rv = last_ckr();
		OPENSSL_cleanse(pin, sizeof pin);
		return tok_login_error(err, rv, "token", t->label);
	}
	if (keep) {
		*keep = OPENSSL_secure_malloc(len + 1);
		if (*keep)
			memcpy(*keep, pin, len + 1);
	}
	OPENSSL_cleanse(pin, sizeof pin);
	(void)len;
	return SISIGN_OK;
}
