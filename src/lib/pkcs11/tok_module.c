/* Loading and initialising a PKCS#11 module through libp11 (tok_sess), and
 * the CK_RV error helpers the backend shares.
 *
 * Each public call loads the module afresh (PKCS11_CTX_load) and releases
 * everything before returning; a signer keeps its context until freed.
 * libp11 keeps its own heap copy of the login PIN (for re-login after fork)
 * until the slots are released; sess_close releases them. */
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
#include <unistd.h>

#include <openssl/err.h>

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

/* Set a token error carrying rv; the code is chosen from rv where it has a
 * specific meaning, else fallback. */
int err_ckr(struct sisign_error *err, int fallback, unsigned long rv, const char *what)
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

void sess_close(struct tok_sess *s)
{
	if (s->ctx) {
		if (s->slots)
			PKCS11_release_all_slots(s->ctx, s->slots, s->nslots);
		if (s->loaded)
			PKCS11_CTX_unload(s->ctx);
		PKCS11_CTX_free(s->ctx);
	}
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

/* Load and initialise s->module, with a diagnosis when that fails. */
int sess_load(struct tok_sess *s, struct sisign_error *err)
{
	unsigned long rv;
	int r;

	if ((r = load_checked(s, err)) != 0)
		return r;

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
