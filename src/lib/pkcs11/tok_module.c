/* SPDX-License-Identifier: Apache-2.0 */
/* Loading and initialising a PKCS#11 module through libp11 (tok_sess), and
 * the CK_RV error helpers the backend shares.
 *
 * Each public call loads the module afresh (PKCS11_CTX_load) and releases
 * everything before returning; a signer keeps its context until freed.
 * The login itself bypasses libp11 where it can (tok_login.c), so libp11
 * holds no copy of the PIN; sess_close ends our login session before
 * releasing libp11's slots.
 *
 * Start-up retry: SoftHSM 2.6 rewrites its token.object on every C_Login
 * and lets go of the file lock before its buffered data reach the file, so
 * another process that reads the token in that moment sees an empty file
 * and keeps the token invalid until C_Finalize.  That instance then
 * answers C_GetTokenInfo with CKR_GENERAL_ERROR, or (behind p11-kit server,
 * whose token filter no longer sees the token) shows no slot at all.  Only
 * a new initialisation (a new connection to p11-kit server) reads the
 * token again, so sess_load starts over, a bounded number of times, when
 * the slot listing fails in exactly those two ways.  Nothing before the
 * slot listing holds a PIN or a session, so no PIN try can be spent;
 * C_Login itself is never repeated (tok_login.c).  See docs/performance.md
 * "Remote token under load". */
#include "pkcs11/tok_sess.h"
#include "util/util_private.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>

/* Attempts at loading and listing slots, and the first pause between
 * them (doubled each time, plus up to half again at random so that clients
 * started together do not come back together): at most about 1.2 s. */
#define LOAD_TRIES 6
#define LOAD_PAUSE_MS 20

const char *sisign_token_default_module(void)
{
	return SISIGN_P11KIT_PROXY;
}

const char *sisign_token_module_dir(void)
{
	return SISIGN_P11_MODULE_DIR;
}

/* The last CK_RV libp11 put on the OpenSSL error queue (0 if none). */
unsigned long last_ckr(void)
{
	unsigned long e, rv = 0;
	int lib = ERR_get_CKR_code();
	while ((e = ERR_get_error()) != 0)
		if (ERR_GET_LIB(e) == lib)
			rv = (unsigned long)ERR_GET_REASON(e);
	return rv;
}

/* Is rv one of the answers that mean the token is gone or broken, so
 * that no later operation on it can succeed? */
int tok_ckr_fatal(unsigned long rv)
{
	switch (rv) {
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_DEVICE_ERROR:
	case CKR_GENERAL_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* Set a token error carrying rv; the code is chosen from rv where it has a
 * specific meaning, else fallback.  The answers tok_ckr_fatal names give
 * SISIGN_ERR_TOKEN_FAILED.  (A login's CKR_GENERAL_ERROR never gets here:
 * tok_login_error reads it as a refused PIN.) */
int err_ckr(struct sisign_error *err, int fallback, unsigned long rv, const char *what)
{
	char buf[32];
	const char *name = tok_ckr_name(rv, buf, sizeof buf);
	int code = fallback;

	what = what ? what : "token operation";
	switch (rv) {
	case CKR_PIN_INCORRECT: code = SISIGN_ERR_PIN_INCORRECT; break;
	case CKR_PIN_LOCKED: code = SISIGN_ERR_PIN_LOCKED; break;
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
		code = SISIGN_ERR_TOKEN_FAILED;
		err_set(err, code, -1, "%s failed: the token was removed (%s)", what, name);
		if (err)
			err->ckr = rv;
		return code;
	default:
		if (tok_ckr_fatal(rv)) {
			code = SISIGN_ERR_TOKEN_FAILED;
			err_set(err, code, -1, "%s failed: the token stopped working (%s); check that it is "
				"plugged in and its driver runs, then start again", what, name);
			if (err)
				err->ckr = rv;
			return code;
		}
		break;
	}
	if (rv)
		err_set(err, code, -1, "%s failed: %s", what, name);
	else
		err_set(err, code, -1, "%s failed", what);
	if (err)
		err->ckr = rv;
	return code;
}

/* Release the slots and finalise and unload the module; s->module and
 * s->uri stay. */
static void sess_unload(struct tok_sess *s)
{
	sess_logout(s);
	if (s->ctx) {
		if (s->slots)
			PKCS11_release_all_slots(s->ctx, s->slots, s->nslots);
		if (s->loaded)
			PKCS11_CTX_unload(s->ctx);
		PKCS11_CTX_free(s->ctx);
	}
	s->ctx = NULL;
	s->loaded = 0;
	s->slots = NULL;
	s->nslots = 0;
	s->slot = NULL;
}

void sess_close(struct tok_sess *s)
{
	sess_unload(s);
	if (s->dl)
		dlclose(s->dl);
	if (s->uri)
		p11_kit_uri_free(s->uri);
	free(s->module);
	memset(s, 0, sizeof *s);
}

static int is_softhsm(const char *path)
{
	return strstr(path, "softhsm") != NULL;
}

/* Is the module p11-kit's RPC client (a token served by p11-kit server)? */
static int is_p11kit_client(const char *path)
{
	return strstr(path, "p11-kit-client") != NULL;
}

/* The error for a module that shows no slot. */
static int err_no_slots(const struct tok_sess *s, struct sisign_error *err)
{
	const char *addr = getenv("P11_KIT_SERVER_ADDRESS");
	if (is_p11kit_client(s->module))
		return err_set(err, SISIGN_ERR_TOKEN_NOT_FOUND, -1,
			"p11-kit server (%s) showed no token, %d times: the server exports no token that matches "
			"its own token URI, or its module cannot read the token (SoftHSM: see \"Remote token "
			"under load\" in docs/performance.md)", addr && *addr ? addr : "P11_KIT_SERVER_ADDRESS unset",
			LOAD_TRIES);
	return err_set(err, SISIGN_ERR_TOKEN_NOT_FOUND, -1, "PKCS#11 module %s shows no slot (%d tries)", s->module,
		LOAD_TRIES);
}

/* One PKCS11_CTX_load and slot listing.  *again is set when the failure is
 * one that a new initialisation can cure (see the top of this file). */
static int load_once(struct tok_sess *s, int *again, struct sisign_error *err)
{
	unsigned int n = 0;
	unsigned long rv;

	*again = 0;
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
	/* Count first: libp11 0.4.12 fails a listing of zero slots with no
	 * CK_RV at all (its OPENSSL_malloc(0) returns NULL). */
	if (PKCS11_enumerate_slots(s->ctx, NULL, &n) != 0) {
		rv = last_ckr();
		*again = rv == CKR_GENERAL_ERROR;
		return err_ckr(err, SISIGN_ERR_MODULE, rv, "listing the module's slots");
	}
	if (n == 0) {
		*again = 1;
		return err_no_slots(s, err);
	}
	if (PKCS11_enumerate_slots(s->ctx, &s->slots, &s->nslots) != 0) {
		s->slots = NULL;
		s->nslots = 0;
		rv = last_ckr();
		*again = rv == CKR_GENERAL_ERROR;
		return err_ckr(err, SISIGN_ERR_MODULE, rv, "listing the module's slots");
	}
	return SISIGN_OK;
}

/* Sleep before attempt try + 1 of load_once (or of another connection,
 * tok_conn.c). */
void sess_load_pause(int try)
{
	unsigned char j = 0;
	long ms = (long)LOAD_PAUSE_MS << (try - 1);
	struct timespec ts;
	if (RAND_bytes(&j, 1) == 1)
		ms += ms * j / 510;
	err_ossl_clear();
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* dlopen s->module, the file tok_resolve_module checked, and make sure
 * that is what got loaded:
 *  - before: the file at the path, opened with O_PATH | O_NOFOLLOW, is
 *    still the one that was checked (the descriptor also keeps its inode
 *    number from being reused while we look);
 *  - after: the path still names that same file, and C_GetFunctionList
 *    comes from the loaded object itself, not from a library it pulls in.
 * A swap between the two looks needs two renames inside the module's
 * directory, which only its writers (root, or whoever the user trusted
 * with --allow-module) can make.  The handle stays open in s->dl, so the
 * later dlopen calls on the same path (libp11's, RTLD_NOLOAD) are answered
 * from the loaded object by name and never open the path again.  The
 * probe also gives the dynamic loader's reason for a failure, where
 * libp11 only says "load module error". */
static int load_checked(struct tok_sess *s, struct sisign_error *err)
{
	struct stat before, after;
	struct link_map *obj = NULL, *owner = NULL;
	Dl_info info;
	void *h = NULL, *gfl;
	int fd, r = SISIGN_ERR_INTERNAL;

	memset(&info, 0, sizeof info);
	fd = open(s->module, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &before) != 0) {
		int e = errno;
		r = err_set(err, SISIGN_ERR_MODULE, -1, "PKCS#11 module %s: %s", s->module, strerror(e));
		if (err)
			err->sys_errno = e;
		goto out;
	}
	if (!same_file(&before, &s->module_st)) {
		r = err_set(err, SISIGN_ERR_MODULE, -1, "PKCS#11 module %s was replaced after it was checked",
			s->module);
		goto out;
	}
	if (!(h = dlopen(s->module, RTLD_NOW | RTLD_LOCAL))) {
		const char *m = dlerror();
		r = err_set(err, SISIGN_ERR_MODULE, -1, "cannot load PKCS#11 module %s: %s", s->module,
			m ? m : "dlopen failed");
		goto out;
	}
	if (fstatat(AT_FDCWD, s->module, &after, AT_SYMLINK_NOFOLLOW) != 0 || !same_file(&after, &before)) {
		r = err_set(err, SISIGN_ERR_MODULE, -1, "PKCS#11 module %s was replaced while it was being loaded",
			s->module);
		goto out;
	}
	if (!(gfl = dlsym(h, "C_GetFunctionList"))) {
		r = err_set(err, SISIGN_ERR_MODULE, -1, "%s is not a PKCS#11 module (no C_GetFunctionList)",
			s->module);
		goto out;
	}
	if (dlinfo(h, RTLD_DI_LINKMAP, &obj) != 0 || !dladdr1(gfl, &info, (void **)&owner, RTLD_DL_LINKMAP) ||
	    owner != obj) {
		r = err_set(err, SISIGN_ERR_MODULE, -1,
			"%s is not a PKCS#11 module (its C_GetFunctionList comes from %s)", s->module,
			info.dli_fname ? info.dli_fname : "another library");
		goto out;
	}
	/* success */
	s->dl = h;
	h = NULL; /* transferred */
	r = SISIGN_OK;
out:
	if (h)
		dlclose(h);
	if (fd >= 0)
		close(fd);
	return r;
}

/* Load and initialise s->module, with a diagnosis when that fails; start
 * over (a new initialisation) when the slot listing fails in the ways the
 * top of this file describes.  The checked dlopen is made once: its handle
 * keeps the same object loaded across the retries. */
int sess_load(struct tok_sess *s, struct sisign_error *err)
{
	int again = 0;
	int r;

	if ((r = load_checked(s, err)) != 0)
		return r;
	for (int try = 1; try <= LOAD_TRIES; try++) {
		if (try > 1) {
			sess_unload(s);
			sess_load_pause(try - 1);
		}
		r = load_once(s, &again, err);
		if (r == SISIGN_OK || !again)
			break;
	}
	return r;
}

/* Open uri's module (opts may be NULL). */
int sess_open(struct tok_sess *s, const char *uri, const struct sisign_token_opts *opts,
	struct sisign_error *err)
{
	int r;
	memset(s, 0, sizeof *s);
	if ((r = tok_uri_parse(uri, &s->uri, err)) != 0)
		return r;
	if ((r = tok_resolve_module(s->uri, opts, &s->module, &s->module_st, err)) != 0)
		return r;
	return sess_load(s, err);
}
