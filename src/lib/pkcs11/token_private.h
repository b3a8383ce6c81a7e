/* SPDX-License-Identifier: Apache-2.0 */
/* Internal helpers of the PKCS#11 backend (tok_ prefix), exposed for unit
 * tests.  The libp11 work lives in the tok_*.c files (map in tok_sess.h). */
#ifndef SISIGN_TOKEN_PRIVATE_H
#define SISIGN_TOKEN_PRIVATE_H

#if !defined(SISIGN_BUILD) && !defined(SISIGN_TEST)
#error "token_private.h is internal to libsisign"
#endif

#include <stddef.h>
#include <sys/stat.h>
#include <p11-kit/uri.h>
#include <sisign/error.h>
#include <sisign/token.h>

/* SoftHSM's Debian module directory: allowed for URI module-path because
 * the project's own tests, docs and users' CI use SoftHSM. */
#define TOK_SOFTHSM_DIR "/usr/lib/x86_64-linux-gnu/softhsm"

/* Longest PIN we accept (bytes, without the NUL). */
#define TOK_PIN_MAX 255

/* The most signatures in flight a signer prepares for
 * (sisign_token_opts.parallel_sessions; the batch's
 * SISIGN_TOKEN_SESSIONS_MAX). */
#define TOK_SESSIONS_MAX 16

/* Parse a pkcs11: URI with p11-kit (P11_KIT_URI_FOR_ANY).  Syntax errors and
 * unrecognised attributes give SISIGN_ERR_BAD_URI, naming the attribute.
 * NULL or "" parses as "pkcs11:". */
int tok_uri_parse(const char *s, P11KitUri **out, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* May a URI's module-path name load?  path must be absolute.  Resolved
 * once: its directory (realpath), the entry in it, then the file that
 * entry leads to (realpath again).  That file must lie in the system
 * module dir, TOK_SOFTHSM_DIR or one of extra (NULL-terminated, may be
 * NULL), or the entry must sit directly in one of the first two while it
 * is owned by root and writable by nobody else (the system's own links,
 * such as Debian's pkcs11/opensc-pkcs11.so -> ../opensc-pkcs11.so).  It
 * must be a regular file.  On SISIGN_OK *resolved is that file's canonical
 * path (malloc'd; load this, never path) and *st its identity, read with
 * O_PATH | O_NOFOLLOW.  SISIGN_ERR_BAD_URI when refused,
 * SISIGN_ERR_MODULE when the file is missing. */
int tok_module_path_allowed(const char *path, const char *const *extra, char **resolved, struct stat *st,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Pick the module for uri and opts (order in token.h) and resolve it once,
 * whatever named it: *path is its canonical path (malloc'd), the one string
 * every later dlopen uses, and *st the identity (st_dev, st_ino) of the
 * regular file found there.  A URI's module-path goes through
 * tok_module_path_allowed. */
int tok_resolve_module(P11KitUri *uri, const struct sisign_token_opts *opts, char **path, struct stat *st,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Read a PIN from a pin-source value ("file:/path" or "/path").  Refuses
 * other schemes, what is not a regular file (a FIFO is not waited for)
 * and files with any group/other permission bit (SISIGN_ERR_BAD_PIN).
 * Strips one trailing newline.  buf gets a NUL-
 * terminated PIN; *len its length. */
int tok_read_pin_source(const char *source, char *buf, size_t size, size_t *len, struct sisign_error *err)
	SISIGN_WARN_UNUSED;

/* 1 if rv says the token is gone or broken (removed, session lost,
 * CKR_DEVICE_ERROR, CKR_GENERAL_ERROR): errors with it are
 * SISIGN_ERR_TOKEN_FAILED, and a batch stops.  tok_module.c. */
int tok_ckr_fatal(unsigned long rv);

/* Set err for a failed C_Login (user or context-specific) with rv, for
 * kind ("token" or "key") called label: CKR_PIN_INCORRECT and CKR_GENERAL_ERROR (which
 * some cards, OpenSC's CAC driver among them, give for a wrong PIN) are
 * SISIGN_ERR_PIN_INCORRECT, CKR_PIN_LOCKED SISIGN_ERR_PIN_LOCKED, the rest
 * as err_ckr.  err->ckr keeps rv.  Never retries anything.  tok_login.c. */
int tok_login_error(struct sisign_error *err, unsigned long rv, const char *kind, const char *label);

/* Symbolic name of a CK_RV ("CKR_PIN_INCORRECT"), or "CKR_0x..." in buf. */
const char *tok_ckr_name(unsigned long rv, char *buf, size_t size);

/* ---- logged-in token sessions (tok_handle.c, used by keygen.c) -----------------
 * tok_handle_open: load the module uri/opts select, pick the one token the
 * URI names and log in as for signing (same PIN sources and errors as
 * sisign_signer_from_pkcs11).  need_login 0: log in only if a PIN source
 * exists (URI or opts->pin_cb), else carry on without (public objects).
 * keep_pin: keep a copy of the login PIN in the secure heap for
 * tok_handle_context_login, until tok_handle_forget_pin or _free; opts
 * must then outlive the handle.
 * Object attributes in the URI are ignored here; tok_handle_uri gives the
 * parsed URI for the caller's own use.
 * Caller frees *out with tok_handle_free (accepts NULL). */
struct tok_handle;

/* Direct access to the module libp11 has already loaded (libp11 0.4.12
 * hides its function list).  Some modules, p11-kit's proxy among them, hand
 * each C_GetFunctionList caller its own uninitialised instance: then this
 * initialises that instance, and tok_raw_close finalises it.  The login is
 * per process, so private objects stay visible.  Returns 0 or -1. */
struct tok_raw {
	void *dl;
	CK_FUNCTION_LIST *f;
	int initialised_here;
};
int tok_raw_open(const char *module, struct tok_raw *raw);
void tok_raw_close(struct tok_raw *raw);
int tok_handle_open(const char *uri, const struct sisign_token_opts *opts, int need_login, int keep_pin,
	struct tok_handle **out, struct sisign_error *err) SISIGN_WARN_UNUSED;
/* Wipes a kept PIN.  Accepts NULL. */
void tok_handle_free(struct tok_handle *h);
/* Wipe the kept login PIN now (once it is known the key never asks again). */
void tok_handle_forget_pin(struct tok_handle *h);
/* C_Login(CKU_CONTEXT_SPECIFIC) on the raw session sh of f, for a key with
 * CKA_ALWAYS_AUTHENTICATE, between its C_SignInit and C_Sign: a NULL PIN on
 * a PIN-pad token, else the login PIN kept by tok_handle_open(keep_pin),
 * else opts->pin_cb (kind "pin", what = the key's label), else
 * SISIGN_ERR_CANCELLED.  A refused login: see tok_login_error. */
int tok_handle_context_login(struct tok_handle *h, CK_FUNCTION_LIST *f, CK_SESSION_HANDLE sh, const char *label,
	struct sisign_error *err) SISIGN_WARN_UNUSED;
P11KitUri *tok_handle_uri(struct tok_handle *h);
/* The module file loaded (for its raw function list via dlopen RTLD_NOLOAD). */
const char *tok_handle_module(const struct tok_handle *h);
/* The module's raw function list to work on: the one the handle's user
 * login was made on, else a new one in *own (not logged in; the caller
 * tok_raw_close()s own, which is harmless when it went unused).  Use this
 * rather than a tok_raw_open of one's own, which for a module that gives
 * each caller a new instance (p11-kit-client.so) would not be logged in.
 * NULL if the module cannot be reached. */
CK_FUNCTION_LIST *tok_handle_raw(struct tok_handle *h, struct tok_raw *own);
unsigned long tok_handle_slot_id(const struct tok_handle *h);
const char *tok_handle_label(const struct tok_handle *h);
int tok_handle_read_only(const struct tok_handle *h);
/* Copy-ready object URI (token label and serial, object, id, type);
 * malloc'd, NULL on allocation failure.  cls is a CKO_* value. */
char *tok_handle_object_uri(const struct tok_handle *h, unsigned long cls, const char *label,
	const unsigned char *id, size_t id_len);
/* Set err from a CK_RV as the backend does (PIN codes mapped); returns the code. */
int tok_handle_ckr_error(struct sisign_error *err, int fallback, unsigned long rv, const char *what);

#endif
