/* SPDX-License-Identifier: Apache-2.0 */
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
 * The user PIN, in this order (the first that applies is the only one
 * used; a wrong PIN is never retried):
 *   1. none at all on a PIN-pad token (CKF_PROTECTED_AUTHENTICATION_PATH);
 *   2. opts->pin_cb when opts->pin_cb_explicit is set (the front end's
 *      --pin-fd, --pin-file or $SISIGN_PIN);
 *   3. the URI's pin-source (a file, refused unless only its owner may
 *      access it);
 *   4. the URI's pin-value, only with opts->allow_pin_in_uri (without it a
 *      URI holding pin-value is refused whatever the other sources);
 *   5. opts->pin_cb as a prompt.
 * Every PIN passes sisign_secret_check (signer.h) before any C_Login: an
 * empty PIN, one with a NUL byte or with more than one line is refused with
 * SISIGN_ERR_BAD_PIN and costs no try.
 *
 * Memory: the PIN is read into the secure heap (sisign_secret_alloc) and
 * wiped as soon as C_Login returns.  C_Login goes through the module's own
 * function list on a session the library keeps open until the call (or the
 * signer) ends, not through libp11, whose PKCS11_login (0.4.12) would keep
 * a plain-heap copy of the PIN (for a re-login after fork) until its slots
 * are released.  Exception: a module other than p11-kit's proxy that gives
 * each caller its own instance (p11-kit-client.so) would not share that
 * login with libp11's instance, so there libp11 makes the login
 * (PKCS11_login), and its copy (wiped on release) lives as long as the call
 * or the signer; the library's own raw list is then logged in as well, as a
 * best effort, so key generation, import and the other raw-list work run
 * through p11-kit server too.  The one copy
 * that outlives the login is a signer's for a CKA_ALWAYS_AUTHENTICATE key
 * (see ask_pin_per_signature), kept in the secure heap and wiped when the
 * signer is freed; libp11 copies it into a stack buffer for each
 * context-specific C_Login and wipes that right after.  What the module
 * itself keeps is up to the module.
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

/* One user login attempt, reported through sisign_token_opts.on_login. */
struct sisign_login_event {
	const char *token_label;   /* as the token reports it (trailing blanks trimmed by libp11) */
	const char *token_serial;
	int pin_pad;               /* the PIN was entered on the token's PIN pad */
	int called;                /* a C_Login reached the token (0: refused before it) */
	int result;                /* SISIGN_OK, or the login's error code */
	const struct sisign_error *err; /* the failure; NULL when result is SISIGN_OK */
};
typedef void (*sisign_login_cb)(void *userdata, const struct sisign_login_event *ev);

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
	 * it with SISIGN_ERR_BAD_PIN before any login, since URIs end up in
	 * shell history, project files and logs. */
	int allow_pin_in_uri;
	/* Non-zero: log in even when the token says the next wrong PIN locks
	 * it (CKF_USER_PIN_FINAL_TRY).  Default stops with
	 * SISIGN_ERR_PIN_FINAL_TRY before any C_Login. */
	int force_final_try;
	/* Asked for the user PIN (kind "pin", what = token label) when the
	 * token needs a login and has no PIN pad: before the URI's PIN
	 * sources if pin_cb_explicit is set, else only when the URI brings no
	 * pin-source/pin-value (order above).  May be NULL: a login that
	 * needs a PIN then fails with SISIGN_ERR_CANCELLED (listing just
	 * shows public objects).  Called at most once per call; a wrong PIN
	 * is never retried.  Its answer passes sisign_secret_check. */
	sisign_secret_cb pin_cb;
	void *pin_cb_data;
	/* For keys with CKA_ALWAYS_AUTHENTICATE only (PIV slot 9C, "user
	 * consent" keys), which need C_Login(CKU_CONTEXT_SPECIFIC) right
	 * before each C_Sign — libp11 0.4.12 does that login itself and asks
	 * the signer for the PIN: non-zero asks pin_cb again (kind "pin",
	 * what = key label) before every signature, so pin_cb and pin_cb_data
	 * must stay valid as long as the signer.  Zero (default) re-uses the
	 * login PIN, which the signer then keeps in OpenSSL's secure heap
	 * (wiped when freed) — otherwise a batch would prompt per file.
	 * Ignored for PIN-pad tokens (the context login goes to the pad) and
	 * ordinary keys, whose PIN is wiped right after login.  The key
	 * functions of keygen.h (cert, csr, keygen with a certificate) do the
	 * same context login with the login PIN, which they keep only while
	 * the call runs and only for such a key; without one they ask pin_cb. */
	int ask_pin_per_signature;
	/* Non-zero: the token takes concurrent sessions (SoftHSM, network
	 * HSMs), so signatures from several threads are not serialised here
	 * and libp11 spreads them over its session pool: each signature in
	 * flight gets a session of its own (opened when first needed, at most
	 * 16 per slot), all sharing the one login.  How many run at once is
	 * the caller's choice (a batch: sisign_batch_opts.token_sessions), and
	 * the value says how many to prepare for (1 to 16; more counts as
	 * 16).  Zero (default): one C_Sign at a time, since many smartcard
	 * drivers break on concurrent use.  Ignored for CKA_ALWAYS_AUTHENTICATE
	 * keys, whose context-specific login must come right before its
	 * C_Sign.
	 * A module that hands every C_GetFunctionList caller an instance of
	 * its own, which the first login does not reach (p11-kit-client.so:
	 * each instance is a connection to `p11-kit server`, which runs each
	 * connection in a process of its own, one call at a time), gets up to
	 * parallel_sessions connections instead, each with one session and its
	 * own C_Login, made with the PIN of the first login only after that
	 * login succeeded; a refused one fails this call (never retried, the
	 * PIN never asked again), and on_login hears of each.  The PIN copy is
	 * wiped once they are all made.  Not on a PIN-pad token. */
	int parallel_sessions;
	/* Non-zero: pin_cb answers with a PIN the user gave explicitly for
	 * this run (a descriptor, a file, the environment), which outranks the
	 * URI's pin-source and pin-value.  Zero: pin_cb would prompt, and is
	 * the last resort. */
	int pin_cb_explicit;
	/* Told about every user login this library attempts on the token and
	 * its result, right after it (so a front end can keep an audit trail
	 * of failed logins too): a C_Login, with the PIN or on the PIN pad,
	 * and a login refused before any C_Login (PIN locked, final try not
	 * forced, no PIN, a PIN source that could not be read or was bad).  A
	 * token that needs no login, and a listing that quietly skips the
	 * login for want of a PIN, report nothing.  The event never holds
	 * the PIN.  May be NULL. */
	sisign_login_cb on_login;
	void *on_login_data;
};

/* Open the private key that uri names and make a signer of it.
 *   uri:  "pkcs11:..." naming one token (label, serial, manufacturer,
 *         model; slot-id only narrows) and one private key (object = label
 *         and/or id = CKA_ID).  type=, if given, must be "private".
 *   opts: may be NULL (all defaults).
 * The certificate with the key's CKA_ID, if the token has one, is attached
 * to the signer (it must match the key: SISIGN_ERR_KEY_MISMATCH otherwise);
 * none is fine — the caller may supply a certificate file.  The key's
 * public part comes from the private key object (CKA_MODULUS and
 * CKA_PUBLIC_EXPONENT), else from the public key object with its id, else
 * from that certificate; in the last case the match is checked with one
 * test signature over a random digest at open (on a
 * CKA_ALWAYS_AUTHENTICATE key that is one more context-specific login, and
 * with ask_pin_per_signature one more PIN request).  libp11 0.4.12 cannot
 * sign with a key object that has no CKA_MODULUS unless the module
 * ignores the output length it is given; strict modules answer
 * CKR_BUFFER_TOO_SMALL, reported as SISIGN_ERR_TOKEN at open.
 * Every signature the signer makes is verified before it is returned
 * (signer.h).
 * Errors: SISIGN_ERR_BAD_URI (syntax, unknown attribute, disallowed
 * module-path), SISIGN_ERR_BAD_PIN (pin-value not allowed; pin-source file
 * unsafe, unreadable or not a file; a PIN that is empty, has a NUL byte or
 * several lines: all before any login), SISIGN_ERR_MODULE,
 * SISIGN_ERR_TOKEN_NOT_FOUND / SISIGN_ERR_KEY_NOT_FOUND (the message lists
 * what exists, as URIs), SISIGN_ERR_AMBIGUOUS (lists the candidates; a
 * token without CKF_TOKEN_INITIALIZED is never one, so "pkcs11:" names the
 * only initialised token),
 * SISIGN_ERR_PIN_LOCKED, SISIGN_ERR_PIN_FINAL_TRY, SISIGN_ERR_PIN_INCORRECT
 * (err->ckr holds the CK_RV: CKR_PIN_INCORRECT, or CKR_GENERAL_ERROR, which
 * some cards — OpenSC's CAC driver — give for a wrong PIN; never retried),
 * SISIGN_ERR_CANCELLED, SISIGN_ERR_TOKEN, SISIGN_ERR_TOKEN_FAILED (token
 * removed or failing), SISIGN_ERR_BAD_KEY (not RSA).
 * Signing errors (sisign_signer_sign_sha1): SISIGN_ERR_TOKEN_FAILED for
 * CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT, CKR_SESSION_HANDLE_INVALID,
 * CKR_SESSION_CLOSED, CKR_DEVICE_ERROR, CKR_GENERAL_ERROR (from C_Sign or,
 * indistinguishably through libp11, from the context-specific login) and
 * for a signature that does not verify; SISIGN_ERR_PIN_INCORRECT /
 * SISIGN_ERR_PIN_LOCKED for a refused context-specific login; else
 * SISIGN_ERR_TOKEN.
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

/* A copy of uri fit for a message, JSON, a log or a window: every pin-value
 * and pin-source attribute (path or query part; the name compared in any
 * case and after percent-decoding) is left out, the rest kept byte for
 * byte.  Works on any string, parsable or not; one that does not start with
 * "pkcs11:" (a key file name) is copied unchanged.  Every URI the user gave
 * that sisign shows goes through this; URIs the library makes (listings,
 * sisign_signer_describe, error messages) never hold a PIN.  malloc'd; NULL
 * if uri is NULL or out of memory. */
SISIGN_API char *sisign_token_uri_redact(const char *uri);

/* The module loaded when nothing else is named (the p11-kit proxy), and the
 * system module directory a URI module-path may always point into. */
SISIGN_API const char *sisign_token_default_module(void);
SISIGN_API const char *sisign_token_module_dir(void);

#ifdef __cplusplus
}
#endif
#endif
