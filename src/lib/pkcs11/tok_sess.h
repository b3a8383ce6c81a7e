/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to the libp11 half of the token backend: the loaded-module
 * session every public call works through, and the helpers the files that
 * use libp11 share.  One room per concern:
 *   tok_module.c  loading and initialising a module (tok_sess)
 *   tok_select.c  choosing the one token a URI names; URIs for messages
 *   tok_login.c   the PIN and C_Login
 *   tok_signer.c  the signer on a token key
 *   tok_conn.c    more connections for signatures in flight at once, where
 *                 the module gives each caller an instance of its own
 *   tok_list.c    listing tokens and objects
 *   tok_handle.c  logged-in handles and raw function lists for keygen.c
 * tok_uri.c holds what needs no libp11 (URI parsing, module resolution,
 * PIN files). */
#ifndef SISIGN_TOK_SESS_H
#define SISIGN_TOK_SESS_H

#include "pkcs11/token_private.h"

#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>

/* libp11 0.4.12 marks PKCS11_private_encrypt and friends deprecated (they
 * go in 0.5.0); the token backend is the one place that uses them. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <libp11.h>

struct tok_sess {
	PKCS11_CTX *ctx;
	int loaded;
	PKCS11_SLOT *slots;
	unsigned int nslots;
	PKCS11_SLOT *slot;   /* the chosen token's slot */
	/* The module's canonical path (tok_resolve_module): every dlopen of
	 * the module uses this one string, and the identity of the file that
	 * was checked there. */
	char *module;
	struct stat module_st;
	/* sess_load's own handle on the module, held until sess_close so that
	 * libp11's dlopen and tok_raw_open's RTLD_NOLOAD find this object by
	 * its name instead of opening the path again. */
	void *dl;
	P11KitUri *uri;
	/* The user login (tok_login.c): our own session on the module's raw
	 * function list, kept open so the login lasts until sess_close. */
	struct tok_raw login_raw;
	CK_SESSION_HANDLE login_sh;
	int login_open;
	/* The login session's instance is another application than libp11's
	 * (its C_Login, made after libp11's, was answered CKR_OK), so it is
	 * one more connection to sign on (tok_conn.c). */
	int login_separate;
};

/* tok_module.c */
int sess_load(struct tok_sess *s, struct sisign_error *err);
/* Sleep before attempt try + 1 (try = 1, 2, ...) at something that a new
 * initialisation may cure: 20 ms doubled each time, plus up to half again
 * at random. */
void sess_load_pause(int try);
int sess_open(struct tok_sess *s, const char *uri, const struct sisign_token_opts *opts, struct sisign_error *err);
void sess_close(struct tok_sess *s);

/* tok_handle.c: the module's raw function list to work on: the one the
 * user login was made on (s->login_raw) if there is one, else a new one
 * in *own (not logged in: public objects only; tok_raw_close(own) when
 * done, harmless when unused).  Through p11-kit-client.so a list of one's
 * own is a new server connection without the login.  NULL if the module
 * cannot be reached. */
CK_FUNCTION_LIST *sess_raw(struct tok_sess *s, struct tok_raw *own);

/* tok_select.c */
int sess_pick_token(struct tok_sess *s, struct sisign_error *err);
/* Does a key (or any object's label and id) match the URI's object
 * attributes? */
int key_matches(P11KitUri *uri, const PKCS11_KEY *k);
int id_eq(const unsigned char *a, size_t an, const unsigned char *b, size_t bn);
/* A URI for a token, and optionally an object on it (cls (unsigned long)-1
 * for none).  full: label, manufacturer, model, serial; otherwise label and
 * serial only (lists in error messages).  NULL on allocation failure. */
char *make_uri(const PKCS11_TOKEN *t, int full, unsigned long cls, const char *label, const unsigned char *id,
	size_t id_len);
/* Message lists: append ", u" (u is freed; "?" for NULL); 0 once full. */
int list_add(char *buf, size_t size, size_t *used, int *first, char *u);
void list_end(char *buf, size_t size, size_t used, int first);

/* tok_login.c: log in on s->slot (rules in the file).  keep: if not NULL,
 * receives a copy of the PIN in the secure heap (sisign_secret_alloc). */
int sess_login(struct tok_sess *s, const struct sisign_token_opts *opts, int need_pin, char **keep,
	struct sisign_error *err);
/* Close the login session (ends the login if it was the last session);
 * sess_close calls it. */
void sess_logout(struct tok_sess *s);
/* Tell opts->on_login (if any) about a login on s's token: called (a
 * C_Login was made), its result r and error e (unused when r is
 * SISIGN_OK; its code is set to r if it has none). */
void login_report(struct tok_sess *s, const struct sisign_token_opts *opts, int called, int r,
	struct sisign_error *e);

/* tok_conn.c: signing connections beyond libp11's (rules at the top of
 * the file).  Each has one session, logged in, and the key found on it;
 * one signature at a time. */
struct tok_conn {
	struct tok_raw raw;
	CK_SESSION_HANDLE sh;
	CK_OBJECT_HANDLE key;
	int open;               /* sh is open */
	int borrowed;           /* raw and sh are s->login_raw's: closed by sess_close */
	int busy;               /* a signature is on it (the signer's lock) */
	int dead;               /* it failed in a way that leaves it unusable */
};
/* Up to want more connections to s's token, each logged in with pin (the
 * copy the first login kept; NULL if there was none) and showing key,
 * whose public part is pub.  *out (free with conn_close_all, then free())
 * and *nout: none when the module shares one instance, for a PIN pad, or
 * when the token needs a login and pin is NULL.  On an error (a refused
 * login, another token or key, a connection that cannot be made) no
 * connection is left open. */
int conn_open_extra(struct tok_sess *s, const PKCS11_KEY *key, EVP_PKEY *pub, const char *pin,
	const struct sisign_token_opts *opts, int want, struct tok_conn **out, int *nout, struct sisign_error *err);
void conn_close_all(struct tok_conn *c, int n);
/* C_SignInit(CKM_RSA_PKCS) and C_Sign of di on c: 0, or -1 with *rv the
 * CK_RV.  *siglen: the buffer's size in, the signature's out. */
int conn_sign(struct tok_conn *c, const unsigned char *di, size_t dilen, unsigned char *sig, size_t *siglen,
	unsigned long *rv);

/* tok_module.c: CK_RV helpers. */
/* The last CK_RV libp11 put on the OpenSSL error queue (0 if none). */
unsigned long last_ckr(void);
/* Set a token error carrying rv; the code is chosen from rv where it has a
 * specific meaning, else fallback (gone or broken tokens:
 * SISIGN_ERR_TOKEN_FAILED, see tok_ckr_fatal in token_private.h). */
int err_ckr(struct sisign_error *err, int fallback, unsigned long rv, const char *what);

#endif
