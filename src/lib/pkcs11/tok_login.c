/* SPDX-License-Identifier: Apache-2.0 */
/* The PIN and C_Login: where the PIN comes from, the lockout checks made
 * before any login, and the errors a failed login gives.  A wrong PIN is
 * never retried.  PIN counters: PKCS#11 has only flags, no counts;
 * COUNT_LOW is passed to the callback as SISIGN_TRIES_LOW, FINAL_TRY as 1.
 *
 * The user login does not go through libp11: PKCS11_login (0.4.12) keeps
 * an OPENSSL_strdup copy of the PIN in its slot, in the ordinary heap, for
 * a re-login after fork, until the slots are released — for a signer, its
 * whole life.  Instead C_Login goes through the module's own function list
 * (tok_raw_open) on a session of ours that stays open until sess_close: a
 * PKCS#11 login belongs to the application, so every session libp11 opens
 * on the token is logged in too.  libp11 then never sees the PIN.
 *
 * That holds when the raw list is libp11's own instance (an ordinary
 * module) or an instance of p11-kit's proxy, which share the real module
 * in this process.  Other modules that hand each caller a new instance
 * (p11-kit-client.so opens a new connection to its server, a new
 * application there) would not share the login: for those the PIN goes to
 * PKCS11_login first, libp11's copy lives until sess_close, and our own
 * list logs in after it (raw_login). */
#include "pkcs11/tok_sess.h"
#include "util/util_private.h"

#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

/* Is the loaded module p11-kit's proxy?  s->module is the resolved file
 * (p11-kit-proxy.so is a symlink to libp11-kit.so.0 on Debian), so compare
 * files, not names. */
static int is_p11kit_proxy(const struct tok_sess *s)
{
	struct stat st;
	return stat(sisign_token_default_module(), &st) == 0 && st.st_dev == s->module_st.st_dev &&
		st.st_ino == s->module_st.st_ino;
}

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
		/* OpenSC's CAC driver answers a wrong PIN this way; SoftHSM 2.6
		 * (also behind p11-kit server) does when another process's login
		 * rewrites the token file at that moment (tok_module.c).  Read as
		 * a PIN error, so nobody is invited to try the same PIN again,
		 * but said as what the card did.  Never repeated: the module may
		 * have counted the try. */
		code = err_set(err, SISIGN_ERR_PIN_INCORRECT, -1,
			"%s \"%s\": the card refused the login (CKR_GENERAL_ERROR); some cards report a wrong PIN "
			"this way — check the PIN before trying again (not retried; SoftHSM, also behind p11-kit "
			"server, fails this way when another process logs in at the same moment)", kind, label);
		break;
	default:
		return err_ckr(err, SISIGN_ERR_TOKEN, rv, "login");
	}
	if (err)
		err->ckr = rv;
	return code;
}

/* C_Login(CKU_USER) on a session of our own on the module's raw function
 * list, kept open in s (s->login_raw), so its login lasts until
 * sess_close.  Where that list is libp11's own instance or p11-kit's proxy
 * the login is the application's, and libp11's sessions share it: libp11
 * never sees the PIN.  A module that gives each caller a new instance
 * (p11-kit-client.so: a new server connection) shares nothing: there
 * libp11 makes the login that signing needs (and keeps its copy of the
 * PIN, top of the file), and the raw list is logged in afterwards only as
 * a best effort, for the callers that work on it (keygen.c, the
 * CKA_ALWAYS_AUTHENTICATE probe, and tok_conn.c, which signs on it as one
 * more connection when several signatures are to be in flight).  That second connection may not see the
 * token at all (SoftHSM behind p11-kit server under concurrent logins,
 * tok_module.c), which must not fail a signing; the PIN has just been
 * accepted, so that login spends no try.  *state becomes 2 once a C_Login
 * is on its way (login_once). */
static int raw_login(struct tok_sess *s, const char *pin, size_t len, int *state, struct sisign_error *err)
{
	const char *label = s->slot->token->label;
	const char *kind = pin == NULL ? "PIN pad of token" : "token";
	int shared;
	CK_FUNCTION_LIST *f;
	CK_RV rv;

	if (tok_raw_open(s->module, &s->login_raw) != 0) {
		err_ossl_clear();
		*state = 2;
		if (PKCS11_login(s->slot, 0, pin) != 0)
			return tok_login_error(err, last_ckr(), kind, label);
		return SISIGN_OK;
	}
	shared = !s->login_raw.initialised_here || is_p11kit_proxy(s);
	if (!shared) {
		err_ossl_clear();
		*state = 2;
		if (PKCS11_login(s->slot, 0, pin) != 0) {
			tok_raw_close(&s->login_raw);
			return tok_login_error(err, last_ckr(), kind, label);
		}
	}
	f = s->login_raw.f;
	rv = f->C_OpenSession(PKCS11_get_slotid_from_slot(s->slot), CKF_SERIAL_SESSION, NULL, NULL, &s->login_sh);
	if (rv != CKR_OK) {
		tok_raw_close(&s->login_raw);
		return shared ? err_ckr(err, SISIGN_ERR_TOKEN, rv, "opening a session to log in") : SISIGN_OK;
	}
	s->login_open = 1;
	*state = 2;
	rv = f->C_Login(s->login_sh, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)len);
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		sess_logout(s);
		return shared ? tok_login_error(err, rv, kind, label) : SISIGN_OK;
	}
	/* After libp11's login, a CKR_OK (not CKR_USER_ALREADY_LOGGED_IN)
	 * shows that login did not reach this instance: another application,
	 * a connection of its own (tok_conn.c signs on it). */
	s->login_separate = !shared && rv == CKR_OK;
	return SISIGN_OK;
}

void sess_logout(struct tok_sess *s)
{
	if (s->login_open) {
		s->login_raw.f->C_CloseSession(s->login_sh);
		s->login_open = 0;
	}
	s->login_separate = 0;
	tok_raw_close(&s->login_raw);
}

/* One login as sess_login describes it; *state: 0 no login was due (none
 * needed, or a listing without a PIN), 1 refused before C_Login, 2 a
 * C_Login was made. */
static int login_once(struct tok_sess *s, const struct sisign_token_opts *opts, int need_pin, char **keep,
	int *state, struct sisign_error *err)
{
	PKCS11_TOKEN *t = s->slot->token;
	const char *src = p11_kit_uri_get_pin_source(s->uri);
	const char *val = p11_kit_uri_get_pin_value(s->uri);
	int explicit_pin = opts && opts->pin_cb && opts->pin_cb_explicit;
	char *pin = NULL;
	size_t len = 0;
	int tries = -1, r = SISIGN_ERR_INTERNAL;

	if (keep)
		*keep = NULL;
	if (!t->loginRequired)
		return SISIGN_OK;
	*state = 1;
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
		return err_set(err, SISIGN_ERR_BAD_PIN, -1,
			"the URI contains pin-value: a PIN in a URI leaks into shell history, logs and project "
			"files; use pin-source=file:..., a PIN file or fd, or allow it explicitly");

	if (t->secureLogin) /* PIN pad: the token collects the PIN itself. */
		return raw_login(s, NULL, 0, state, err);

	if (!explicit_pin && !(src && *src) && !val && !(opts && opts->pin_cb)) {
		if (!need_pin) {
			*state = 0;
			return SISIGN_ERR_CANCELLED;
		}
		return err_set(err, SISIGN_ERR_CANCELLED, -1, "token \"%s\" needs a PIN and none was given",
			t->label);
	}
	if (!(pin = sisign_secret_alloc(TOK_PIN_MAX + 1)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	if (explicit_pin) {
		r = util_secret_ask(opts->pin_cb, opts->pin_cb_data, "pin", t->label, tries, pin, TOK_PIN_MAX + 1,
			&len, err);
	} else if (src && *src) {
		r = tok_read_pin_source(src, pin, TOK_PIN_MAX + 1, &len, err);
	} else if (val) {
		size_t n = strlen(val);
		if (n > TOK_PIN_MAX)
			r = err_set(err, SISIGN_ERR_BAD_PIN, -1, "pin-value too long (at most %d bytes)", TOK_PIN_MAX);
		else {
			memcpy(pin, val, n);
			r = sisign_secret_check("pin", pin, n, &len, err);
		}
	} else {
		r = util_secret_ask(opts->pin_cb, opts->pin_cb_data, "pin", t->label, tries, pin, TOK_PIN_MAX + 1,
			&len, err);
	}
	if (r != SISIGN_OK)
		goto out;

	if ((r = raw_login(s, pin, len, state, err)) != SISIGN_OK)
		goto out;
	if (keep) {
		if ((*keep = sisign_secret_alloc(len + 1)) != NULL)
			memcpy(*keep, pin, len + 1);
	}
	r = SISIGN_OK;
out:
	sisign_secret_free(pin, TOK_PIN_MAX + 1);
	return r;
}

/* Where the PIN comes from, before any C_Login: NULL PIN for a PIN pad;
 * else the front end's explicit PIN (opts->pin_cb with pin_cb_explicit),
 * the URI's pin-source, its pin-value (if allowed), then the callback as a
 * prompt.  Every PIN passes sisign_secret_check first.  need_pin=0 means
 * "only if a source is available" (listing): returns SISIGN_ERR_CANCELLED
 * quietly when there is none.  Never retries.  Each attempt, and each
 * login refused before C_Login, goes to opts->on_login. */
int sess_login(struct tok_sess *s, const struct sisign_token_opts *opts, int need_pin, char **keep,
	struct sisign_error *err)
{
	struct sisign_error local;
	struct sisign_error *e;
	int state = 0, r;

	sisign_error_clear(&local);
	e = err ? err : &local;
	r = login_once(s, opts, need_pin, keep, &state, e);
	if (state)
		login_report(s, opts, state == 2, r, e);
	return r;
}

void login_report(struct tok_sess *s, const struct sisign_token_opts *opts, int called, int r,
	struct sisign_error *e)
{
	PKCS11_TOKEN *t = s->slot->token;
	struct sisign_login_event ev;

	if (!opts || !opts->on_login)
		return;
	memset(&ev, 0, sizeof ev);
	ev.token_label = t->label;
	ev.token_serial = t->serialnr;
	ev.pin_pad = t->secureLogin != 0;
	ev.called = called;
	ev.result = r;
	ev.err = r == SISIGN_OK ? NULL : e;
	if (r != SISIGN_OK && !e->code)
		e->code = r;
	opts->on_login(opts->on_login_data, &ev);
}
