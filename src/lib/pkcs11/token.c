/* Token backend on the libp11 0.4.12 direct API, with p11-kit for URIs and
 * module lookup (docs/pkcs11.md section 3).
 *
 * Choices worth knowing:
 * - Each public call loads the module afresh (PKCS11_CTX_load) and releases
 *   everything before returning; a signer keeps its context until freed.
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
 * - libp11 keeps its own heap copy of the login PIN (for re-login after
 *   fork) until the slots are released; we release them promptly.
 * - PIN counters: PKCS#11 has only flags, no counts.  COUNT_LOW is passed to
 *   the callback as SISIGN_TRIES_LOW, FINAL_TRY as 1.
 */
#include "pkcs11/token_private.h"
#include "crypto/crypto_private.h"
#include "sign/signer_private.h"
#include "util/util_private.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ui.h>
#include <openssl/x509.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>

/* libp11 0.4.12 marks PKCS11_private_encrypt and friends deprecated (they
 * go in 0.5.0); this translation unit is the one place that uses them. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <libp11.h>

/* ---- small helpers ------------------------------------------------------- */

const char *sisign_token_default_module(void)
{
	return SISIGN_P11KIT_PROXY;
}

const char *sisign_token_module_dir(void)
{
	return SISIGN_P11_MODULE_DIR;
}

/* The last CK_RV libp11 put on the OpenSSL error queue (0 if none). */
static unsigned long last_ckr(void)
{
	unsigned long e, rv = 0;
	int lib = ERR_get_CKR_code();
	while ((e = ERR_get_error()) != 0)
		if (ERR_GET_LIB(e) == lib)
			rv = (unsigned long)ERR_GET_REASON(e);
	return rv;
}

/* Set a token error carrying rv; the code is chosen from rv where it has a
 * specific meaning, else fallback. */
static int err_ckr(struct sisign_error *err, int fallback, unsigned long rv, const char *what)
{
	char buf[32];
	const char *name = tok_ckr_name(rv, buf, sizeof buf);
	int code = fallback;
	switch (rv) {
	case CKR_PIN_INCORRECT: code = SISIGN_ERR_PIN_INCORRECT; break;
	case CKR_PIN_LOCKED: code = SISIGN_ERR_PIN_LOCKED; break;
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
		code = SISIGN_ERR_TOKEN;
		what = what ? what : "token operation";
		err_set(err, code, -1, "%s failed: the token was removed (%s)", what, name);
		if (err)
			err->ckr = rv;
		return code;
	default: break;
	}
	if (rv)
		err_set(err, code, -1, "%s failed: %s", what, name);
	else
		err_set(err, code, -1, "%s failed", what);
	if (err)
		err->ckr = rv;
	return code;
}

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
static char *make_uri(const PKCS11_TOKEN *t, int full, unsigned long cls, const char *label,
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

static char *hex_of(const unsigned char *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	s[2 * n] = '\0';
	return s;
}

/* ---- module loading ------------------------------------------------------ */

struct tok_sess {
	PKCS11_CTX *ctx;
	int loaded;
	PKCS11_SLOT *slots;
	unsigned int nslots;
	PKCS11_SLOT *slot;   /* the chosen token's slot */
	char *module;
	P11KitUri *uri;
};

static void sess_close(struct tok_sess *s)
{
	if (s->ctx) {
		if (s->slots)
			PKCS11_release_all_slots(s->ctx, s->slots, s->nslots);
		if (s->loaded)
			PKCS11_CTX_unload(s->ctx);
		PKCS11_CTX_free(s->ctx);
	}
	if (s->uri)
		p11_kit_uri_free(s->uri);
	free(s->module);
	memset(s, 0, sizeof *s);
}

static int is_softhsm(const char *path)
{
	return strstr(path, "softhsm") != NULL;
}

/* Load and initialise path, with a diagnosis when that fails. */
static int sess_load(struct tok_sess *s, struct sisign_error *err)
{
	struct stat st;
	void *h;
	unsigned long rv;

	if (stat(s->module, &st) != 0) {
		int e = errno;
		err_set(err, SISIGN_ERR_MODULE, -1, "PKCS#11 module %s: %s", s->module, strerror(e));
		if (err)
			err->sys_errno = e;
		return SISIGN_ERR_MODULE;
	}
	/* Probe with dlopen first: libp11 only says "load module error", the
	 * dynamic loader says why (wrong architecture, missing dependency). */
	h = dlopen(s->module, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *m = dlerror();
		return err_set(err, SISIGN_ERR_MODULE, -1, "cannot load PKCS#11 module %s: %s", s->module,
			m ? m : "dlopen failed");
	}
	if (!dlsym(h, "C_GetFunctionList")) {
		dlclose(h);
		return err_set(err, SISIGN_ERR_MODULE, -1, "%s is not a PKCS#11 module (no C_GetFunctionList)",
			s->module);
	}
	dlclose(h);

	if (!(s->ctx = PKCS11_CTX_new()))
		return err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
	err_ossl_clear();
	if (PKCS11_CTX_load(s->ctx, s->module) != 0) {
		char buf[32];
		const char *conf = getenv("SOFTHSM2_CONF");
		rv = last_ckr();
		if (is_softhsm(s->module) && conf && access(conf, R_OK) != 0)
			err_set(err, SISIGN_ERR_MODULE, -1,
				"SoftHSM failed to initialise (%s): SOFTHSM2_CONF=%s is not readable",
				tok_ckr_name(rv, buf, sizeof buf), conf);
		else if (is_softhsm(s->module))
			err_set(err, SISIGN_ERR_MODULE, -1,
				"SoftHSM failed to initialise (%s): check SOFTHSM2_CONF (%s) and that its "
				"directories.tokendir exists and is writable", tok_ckr_name(rv, buf, sizeof buf),
				conf ? conf : "unset: /etc/softhsm/softhsm2.conf");
		else
			err_set(err, SISIGN_ERR_MODULE, -1, "PKCS#11 module %s failed to initialise (C_Initialize: %s)",
				s->module, tok_ckr_name(rv, buf, sizeof buf));
		if (err)
			err->ckr = rv;
		return SISIGN_ERR_MODULE;
	}
	s->loaded = 1;
	if (PKCS11_enumerate_slots(s->ctx, &s->slots, &s->nslots) != 0) {
		s->slots = NULL;
		s->nslots = 0;
		return err_ckr(err, SISIGN_ERR_MODULE, last_ckr(), "listing the module's slots");
	}
	return SISIGN_OK;
}

/* Open uri's module (opts may be NULL). */
static int sess_open(struct tok_sess *s, const char *uri, const struct sisign_token_opts *opts,
	struct sisign_error *err)
{
	int r;
	memset(s, 0, sizeof *s);
	if ((r = tok_uri_parse(uri, &s->uri, err)) != 0)
		return r;
	if ((r = tok_resolve_module(s->uri, opts, &s->module, err)) != 0)
		return r;
	return sess_load(s, err);
}

static int slot_matches(struct tok_sess *s, PKCS11_SLOT *slot)
{
	CK_TOKEN_INFO ti;
	CK_SLOT_INFO si;
	CK_SLOT_ID want = p11_kit_uri_get_slot_id(s->uri);
	if (!slot->token)
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
static int list_add(char *buf, size_t size, size_t *used, int *first, char *u)
{
	int w = snprintf(buf + *used, size > *used ? size - *used : 0, "%s%s", *first ? "" : ", ", u ? u : "?");
	if (w > 0)
		*used += (size_t)w;
	free(u);
	*first = 0;
	return *used < size;
}

/* Close a list that list_add never added to. */
static void list_end(char *buf, size_t size, size_t used, int first)
{
	if (first && used < size)
		snprintf(buf + used, size - used, "none");
}

/* Append the short URIs of the tokens in slots (only those in match, if
 * match is given) to a message buffer. */
static void list_tokens(struct tok_sess *s, const unsigned char *match, char *buf, size_t size)
{
	size_t used = strlen(buf);
	int first = 1;
	for (unsigned int i = 0; i < s->nslots; i++) {
		if (!s->slots[i].token || (match && !match[i]))
			continue;
		if (!list_add(buf, size, &used, &first, make_uri(s->slots[i].token, 0, (unsigned long)-1, NULL, NULL, 0)))
			break;
	}
	list_end(buf, size, used, first);
}

/* Choose the one token the URI names. */
static int sess_pick_token(struct tok_sess *s, struct sisign_error *err)
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

/* ---- login --------------------------------------------------------------- */

/* Where the PIN comes from, before any C_Login: NULL PIN for a PIN pad;
 * else URI pin-source, URI pin-value (if allowed), then the callback.
 * need_pin=0 means "only if a source is available" (listing): returns
 * SISIGN_ERR_CANCELLED quietly when there is none.  Never retries. */
static int sess_login(struct tok_sess *s, const struct sisign_token_opts *opts, int need_pin, char **keep,
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
			return err_ckr(err, SISIGN_ERR_TOKEN, last_ckr(), "login on the PIN pad");
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
		if (rv == CKR_PIN_INCORRECT)
			err_set(err, SISIGN_ERR_PIN_INCORRECT, -1, "wrong PIN for token \"%s\" (not retrying)", t->label);
		else if (rv == CKR_PIN_LOCKED)
			err_set(err, SISIGN_ERR_PIN_LOCKED, -1, "the user PIN of token \"%s\" is now locked", t->label);
		else
			return err_ckr(err, SISIGN_ERR_TOKEN, rv, "login");
		if (err)
			err->ckr = rv;
		return rv == CKR_PIN_INCORRECT ? SISIGN_ERR_PIN_INCORRECT : SISIGN_ERR_PIN_LOCKED;
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

/* ---- the signer ---------------------------------------------------------- */

struct tok_signer {
	pthread_mutex_t lock;
	int parallel;           /* no lock around C_Sign (opts->parallel_sessions) */
	struct tok_sess s;
	PKCS11_KEY *key;
	UI_METHOD *ui;
	char *pin;              /* kept for context-specific logins, secure heap */
	size_t siglen;
	sisign_secret_cb cb;    /* only with ask_pin_per_signature */
	void *cb_data;
};

static void tsig_destroy(void *vctx)
{
	struct tok_signer *ts = vctx;
	if (!ts)
		return;
	sess_close(&ts->s);
	if (ts->ui)
		UI_destroy_method(ts->ui);
	if (ts->pin)
		OPENSSL_secure_clear_free(ts->pin, strlen(ts->pin) + 1);
	pthread_mutex_destroy(&ts->lock);
	free(ts);
}

/* libp11 asks for the context-specific PIN through this UI reader. */
static int tsig_ui_read(UI *ui, UI_STRING *uis)
{
	struct tok_signer *ts = UI_get0_user_data(ui);
	enum UI_string_types type = UI_get_string_type(uis);
	char pin[TOK_PIN_MAX + 1];
	int ok = 0;

	if (type != UIT_PROMPT && type != UIT_VERIFY)
		return 1;
	if (!ts)
		return 0;
	if (ts->cb) {
		int n = ts->cb(ts->cb_data, "pin", ts->key && ts->key->label ? ts->key->label : "key", -1, pin,
			sizeof pin);
		if (n >= 0) {
			pin[(size_t)n < sizeof pin ? (size_t)n : sizeof pin - 1] = '\0';
			ok = UI_set_result(ui, uis, pin) == 0;
		}
		OPENSSL_cleanse(pin, sizeof pin);
	} else if (ts->pin) {
		ok = UI_set_result(ui, uis, ts->pin) == 0;
	}
	return ok ? 1 : 0;
}

static int tsig_sign_sha1(void *vctx, const unsigned char digest[20], unsigned char **sig, size_t *siglen,
	struct sisign_error *err)
{
	struct tok_signer *ts = vctx;
	unsigned char di[TOK_SHA1_DI_LEN];
	unsigned char *buf = NULL;
	unsigned long rv;
	int n;

	*sig = NULL;
	*siglen = 0;
	if (!(buf = malloc(ts->siglen)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	tok_sha1_digestinfo(digest, di);
	if (!ts->parallel)
		pthread_mutex_lock(&ts->lock);
	err_ossl_clear();
	n = PKCS11_private_encrypt(TOK_SHA1_DI_LEN, di, buf, ts->key, RSA_PKCS1_PADDING);
	rv = n > 0 ? 0 : last_ckr();
	if (!ts->parallel)
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
};

static int id_eq(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* Does key k match the URI's object attributes? */
static int key_matches(P11KitUri *uri, const PKCS11_KEY *k)
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
 * module directly: the function list of the module libp11 already loaded
 * (RTLD_NOLOAD), in a short session of our own (the login is per
 * application, so private objects are visible). */
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

	if (tok_raw_open(s->module, &raw) != 0)
		return -1;
	f = raw.f;
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
	if ((r = tok_resolve_module(ts->s.uri, opts, &ts->s.module, err)) != 0)
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
	if (ts->pin && aa != 1) {
		OPENSSL_secure_clear_free(ts->pin, strlen(ts->pin) + 1);
		ts->pin = NULL;
	}

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
	if (!pub && (tmp = PKCS11_get_public_key(key)) != NULL)
		pub = crypto_pkey_public_copy(tmp);
	if (!pub && cert)
		pub = X509_get_pubkey(cert);
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

/* ---- listing ------------------------------------------------------------- */

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
	o->id_hex = hex_of(id, id_len);
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
			char *sub = X509_NAME_oneline(X509_get_subject_name(c->x509), NULL, 0);
			v[cnt].subject = sub ? strdup(sub) : NULL;
			OPENSSL_free(sub);
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

/* ---- logged-in sessions for key generation, import and export ------------
 * (keygen.c; declared in token_private.h).  The same module resolution,
 * token choice and PIN rules as signing, but the caller then works on the
 * module's raw function list (libp11 0.4.12 cannot set CKA_EXTRACTABLE or
 * leave out CKA_DECRYPT/CKA_UNWRAP when it generates or stores a key). */

struct tok_handle {
	struct tok_sess s;
};

int tok_handle_open(const char *uri, const struct sisign_token_opts *opts, int need_login,
	struct tok_handle **out, struct sisign_error *err)
{
	struct tok_handle *h = NULL;
	int r = SISIGN_ERR_INTERNAL;

	*out = NULL;
	if (!(h = calloc(1, sizeof *h)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	if ((r = sess_open(&h->s, uri, opts, err)) != 0)
		goto out;
	if ((r = sess_pick_token(&h->s, err)) != 0)
		goto out;
	r = sess_login(&h->s, opts, need_login, NULL, err);
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

void tok_handle_free(struct tok_handle *h)
{
	if (!h)
		return;
	sess_close(&h->s);
	free(h);
}

P11KitUri *tok_handle_uri(struct tok_handle *h)
{
	return h->s.uri;
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
