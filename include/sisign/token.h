/* sisign — keys on smartcards and HSMs (PKCS#11), named by RFC 7512
 * "pkcs11:" URIs.
 *
 * Every call loads and initialises the PKCS#11 module afresh and holds no
 * global state, so a caller (the GUI's "refresh") sees hot-plugged tokens by
 * simply calling again.  A signer keeps its module loaded until it is freed.
 *
 * Module resolution, in order:
 *   1. the URI's module-path (absolute), only if the file it leads to, with
 *      every symlink resolved, is a regular file inside an allowed
 *      directory: the system PKCS#11 module directory
 *      (sisign_token_module_dir()), the SoftHSM directory
 *      (/usr/lib/x86_64-linux-gnu/softhsm) or one of
 *      opts->allowed_module_dirs.  Exception: a symlink directly in one of
 *      the first two, while that directory is owned by root and writable by
 *      nobody else, is followed wherever it points (the system's own links,
 *      such as Debian's pkcs11/opensc-pkcs11.so -> ../opensc-pkcs11.so).
 *      Anything else is SISIGN_ERR_BAD_URI;
 *   2. the URI's module-name, looked up in p11-kit's module registry;
 *   3. opts->module (the front end's --module), trusted as given;
 *   4. the p11-kit proxy (sisign_token_default_module()), which offers every
 *      module registered with p11-kit.
 * Whichever applies, the name is resolved once to its canonical path (a
 * missing file is SISIGN_ERR_MODULE), and that path is the only one ever
 * opened: it is loaded once per call and kept loaded, so the library's own
 * lookups find the same object.  Before loading, the file there must still
 * be the one that was checked; after, the path must still name it, and
 * C_GetFunctionList must come from that object.  A symlink on the way that
 * changes during the call cannot redirect the load.  What stays trusted:
 * the directories of the resolved path themselves; replacing the file
 * there needs write access to an allowed directory (root's for the system
 * ones; a directory given in allowed_module_dirs is trusted as given).
 *
 * Token keys are RSA only: libp11 0.4.12 has no DSA.  DSA stays with key
 * files. */
#ifndef SISIGN_TOKEN_H
#define SISIGN_TOKEN_H

#include <stddef.h>
#include <time.h>
#include <sisign/error.h>
#include <sisign/signer.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Passed to sisign_secret_cb as tries_left when the token sets
 * CKF_USER_PIN_COUNT_LOW: PKCS#11 (and so libp11) gives no count, only "an
 * incorrect PIN has been entered at least once".  CKF_USER_PIN_FINAL_TRY
 * (with force_final_try) is reported as 1; otherwise -1 (unknown). */
#define SISIGN_TRIES_LOW (-2)

struct sisign_token_opts {
	/* Module to load when the URI names none (the front end's --module
	 * PATH), or NULL for the p11-kit proxy.  Trusted as given: the user
	 * typed it, unlike a module-path inside a URI that may come from a
	 * project file. */
	const char *module;
	/* Extra directories a URI's module-path may point into (--allow-module
	 * DIR), NULL-terminated; or NULL for none. */
	const char *const *allowed_module_dirs;
	/* Non-zero: accept a PIN inside the URI (pin-value=).  Default refuses
	 * it with SISIGN_ERR_BAD_URI, since URIs end up in shell history,
	 * project files and logs. */
	int allow_pin_in_uri;
	/* Non-zero: log in even when the token says the next wrong PIN locks
	 * it (CKF_USER_PIN_FINAL_TRY).  Default stops with
	 * SISIGN_ERR_PIN_FINAL_TRY before any C_Login. */
	int force_final_try;
	/* Asked for the user PIN (kind "pin", what = token label) when the
	 * token needs a login, has no PIN pad and the URI brings no
	 * pin-source/pin-value.  May be NULL: a login that needs a PIN then
	 * fails with SISIGN_ERR_CANCELLED (listing just shows public
	 * objects).  Called at most once per call; a wrong PIN is never
	 * retried. */
	sisign_secret_cb pin_cb;
	void *pin_cb_data;
	/* For keys with CKA_ALWAYS_AUTHENTICATE only: non-zero asks pin_cb
	 * again (kind "pin", what = key label) before every signature, so
	 * pin_cb and pin_cb_data must stay valid as long as the signer.
	 * Zero (default) re-uses the login PIN, which the signer then keeps
	 * in memory (wiped when freed) — otherwise a batch would prompt per
	 * file.  Ignored for PIN-pad tokens and ordinary keys, whose PIN is
	 * wiped right after login. */
	int ask_pin_per_signature;
	/* Non-zero: the token takes concurrent sessions (SoftHSM, network
	 * HSMs), so signatures from several threads are not serialised here
	 * and libp11 spreads them over its session pool.  Zero (default):
	 * one C_Sign at a time, since many smartcard drivers break on
	 * concurrent use.  Ignored for CKA_ALWAYS_AUTHENTICATE keys, whose
	 * context-specific login must come right before its C_Sign. */
	int parallel_sessions;
};

/* Open the private key that uri names and make a signer of it.
 *   uri:  "pkcs11:..." naming one token (label, serial, manufacturer,
 *         model; slot-id only narrows) and one private key (object = label
 *         and/or id = CKA_ID).  type=, if given, must be "private".
 *   opts: may be NULL (all defaults).
 * The certificate with the key's CKA_ID, if the token has one, is attached
 * to the signer (it must match the key: SISIGN_ERR_KEY_MISMATCH otherwise);
 * none is fine — the caller may supply a certificate file.
 * Errors: SISIGN_ERR_BAD_URI (syntax, unknown attribute, disallowed
 * module-path or pin-value, unsafe pin-source file), SISIGN_ERR_MODULE,
 * SISIGN_ERR_TOKEN_NOT_FOUND / SISIGN_ERR_KEY_NOT_FOUND (the message lists
 * what exists, as URIs), SISIGN_ERR_AMBIGUOUS (lists the candidates),
 * SISIGN_ERR_PIN_LOCKED, SISIGN_ERR_PIN_FINAL_TRY, SISIGN_ERR_PIN_INCORRECT
 * (err->ckr holds the CK_RV), SISIGN_ERR_CANCELLED, SISIGN_ERR_TOKEN,
 * SISIGN_ERR_BAD_KEY (not RSA).
 * The signer serialises its token operations, so it may be shared between
 * threads.  Caller frees *out with sisign_signer_free(). */
SISIGN_API int sisign_signer_from_pkcs11(const char *uri, const struct sisign_token_opts *opts,
	struct sisign_signer **out, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Token flags (from CK_TOKEN_INFO). */
enum sisign_token_flag {
	SISIGN_TOKEN_INITIALIZED = 1 << 0,
	SISIGN_TOKEN_LOGIN_REQUIRED = 1 << 1,
	SISIGN_TOKEN_PIN_PAD = 1 << 2,            /* CKF_PROTECTED_AUTHENTICATION_PATH */
	SISIGN_TOKEN_USER_PIN_COUNT_LOW = 1 << 3,
	SISIGN_TOKEN_USER_PIN_FINAL_TRY = 1 << 4,
	SISIGN_TOKEN_USER_PIN_LOCKED = 1 << 5,
	SISIGN_TOKEN_USER_PIN_TO_BE_CHANGED = 1 << 6,
	SISIGN_TOKEN_READ_ONLY = 1 << 7,
};

struct sisign_token_info {
	char *module_path;    /* the module file that was loaded (canonical path:
	                       * the p11-kit proxy shows as libp11-kit.so.N) */
	unsigned long slot_id; /* informative only: not stable across re-plugs */
	char *label;
	char *serial;
	char *manufacturer;
	char *model;
	unsigned int flags;   /* enum sisign_token_flag bits */
	char *uri;            /* canonical token URI (p11_kit_uri_format) */
};

/* List the tokens present in the module opts selects (opts->module, else
 * the p11-kit proxy); opts may be NULL.  No login.  *arr is malloc'd (NULL
 * when *n is 0); free with sisign_token_info_free(). */
SISIGN_API int sisign_token_list(const struct sisign_token_opts *opts, struct sisign_token_info **arr,
	size_t *n, struct sisign_error *err) SISIGN_WARN_UNUSED;
/* Accepts NULL. */
SISIGN_API void sisign_token_info_free(struct sisign_token_info *arr, size_t n);

enum sisign_token_object_kind {
	SISIGN_TOKEN_OBJ_PRIVATE_KEY = 1,
	SISIGN_TOKEN_OBJ_PUBLIC_KEY = 2,
	SISIGN_TOKEN_OBJ_CERT = 3,
};

struct sisign_token_object {
	enum sisign_token_object_kind kind;
	char *label;               /* CKA_LABEL, "" if none */
	char *id_hex;              /* CKA_ID as lowercase hex, "" if none */
	char *uri;                 /* copy-ready object URI (token, object, id, type) */
	enum sisign_key_type key_type; /* keys; for a cert, its public key's type */
	int key_bits;              /* keys and certs; 0 if unknown */
	/* Index in the same array of the object paired by CKA_ID: for a
	 * private key its certificate, for a certificate its private key (for
	 * a public key: the private key).  -1 if none. */
	long paired;
	char *subject;             /* certificates: one-line subject DN; else NULL */
	time_t not_after;          /* certificates: end of validity; else 0 */
};

/* List the keys and certificates on the one token uri names (token
 * attributes as for sisign_signer_from_pkcs11; object, id and type, if
 * present, filter the list).  Private objects need a login: if the token
 * requires one and opts->pin_cb (or a URI PIN) is given, it logs in once
 * (same PIN rules and errors as signing); without a PIN source only public
 * objects (public keys, certificates) are listed.  A private key's id may
 * then still be seen through its certificate.  Caller frees *arr with
 * sisign_token_objects_free(). */
SISIGN_API int sisign_token_objects(const char *uri, const struct sisign_token_opts *opts,
	struct sisign_token_object **arr, size_t *n, struct sisign_error *err) SISIGN_WARN_UNUSED;
/* Accepts NULL. */
SISIGN_API void sisign_token_objects_free(struct sisign_token_object *arr, size_t n);

/* The module loaded when nothing else is named (the p11-kit proxy), and the
 * system module directory a URI module-path may always point into. */
SISIGN_API const char *sisign_token_default_module(void);
SISIGN_API const char *sisign_token_module_dir(void);

#ifdef __cplusplus
}
#endif
#endif
