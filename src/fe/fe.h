/* SPDX-License-Identifier: Apache-2.0 */
/* Front-end helpers shared by the sisign CLI and the GTK app: error lines,
 * secret (passphrase / PIN) sources, a small JSON writer, time formatting and
 * parsing, and a few name tables.  Certificates are described by the library
 * (sisign_certs_describe in <sisign/package.h>), in its one DN style.
 *
 * Only <sisign/...h> and OpenSSL are used here: no library internals.  Nothing
 * here exits; only fe_secret_cb may touch the terminal (and only /dev/tty). */
#ifndef SISIGN_FE_H
#define SISIGN_FE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <sisign/error.h>
#include <sisign/package.h>

/* ---- errors ---------------------------------------------------------- */

/* One line: "PROG: FILE: message (at offset N) — OpenSSL reason\n".
 * prog and file may be NULL (then left out); the offset part only when
 * err->offset >= 0; the reason only when err->ossl_reason is non-empty.  An
 * empty message falls back to sisign_strerror(err->code).  Control characters
 * (in file names or messages) are shown as '?' so the line stays one line. */
void fe_print_error(FILE *fp, const char *prog, const char *file, const struct sisign_error *err);

/* fputs with control characters replaced by '?'. */
void fe_fputs_safe(const char *s, FILE *fp);

/* ---- secrets ----------------------------------------------------------- */

/* Where a passphrase or PIN comes from, in this order:
 *   fd        >= 0: one line, read up to and including the first newline (or
 *             EOF); what follows stays unread.  The descriptor is consumed: a
 *             second request fails (never falls through to the next source,
 *             so a wrong secret is not silently retried).
 *   file      the whole file.  Refused if its mode grants any group/other
 *             permission (chmod 600 it).
 *   env       the value fe_secret_src_take_env took out of the environment;
 *             unset or empty = no secret.
 *   allow_prompt  ask on /dev/tty with echo off.
 * Nothing applicable → SISIGN_ERR_BAD_PASSPHRASE without prompting.  Every
 * answer passes sisign_secret_check (one trailing "\n" or "\r\n" removed;
 * empty, NUL byte or several lines refused with SISIGN_ERR_BAD_PIN for kind
 * "pin", SISIGN_ERR_BAD_PASSPHRASE otherwise), so a bad secret never
 * reaches a token or a decryption.
 * Initialise with fe_secret_src_init() and then set the public fields. */
struct fe_secret_src {
	int fd;                   /* -1 = none */
	const char *file;         /* NULL = none */
	const char *env_name;     /* NULL = none; taken on first use if not yet */
	int allow_prompt;
	/* Output: why the last fe_secret_cb call failed (code 0 if it did not).
	 * Never contains the secret. */
	struct sisign_error err;
	/* private */
	int fd_consumed;
	const char *env_value;    /* secure heap, owned by fe_secret.c */
	size_t env_len;
};

void fe_secret_src_init(struct fe_secret_src *src);

/* Take the environment variable name out of the environment for src: its
 * value (if set and non-empty) is copied into the secure heap, the bytes of
 * the original are overwritten in place (unsetenv alone leaves them on the
 * stack and in /proc/PID/environ) and the variable is removed.  Once per
 * name and process: later calls, for any src, get the same copy.  Sets
 * src->env_name. */
void fe_secret_src_take_env(struct fe_secret_src *src, const char *name);
/* Wipe and free every value taken from the environment (before exit). */
void fe_secret_env_wipe(void);
/* Does src hold a secret the user gave explicitly (fd, file, environment),
 * as opposed to only a prompt?  For sisign_token_opts.pin_cb_explicit. */
int fe_secret_src_explicit(const struct fe_secret_src *src);
/* Could a prompt be shown: is there a controlling terminal (/dev/tty)? */
int fe_secret_can_prompt(void);

/* Before a front end holds any secret: no core dumps (RLIMIT_CORE 0) and
 * no longer dumpable (PR_SET_DUMPABLE 0, which also stops ptrace attach
 * and reading /proc/PID/mem or environ by other processes of the same
 * user).  Lasts for the rest of the process.  0, or -1 if a call failed. */
int fe_protect_process(void);

/* A sisign_secret_cb: userdata is a struct fe_secret_src *.  kind is
 * "passphrase" or "pin"; what names the key file or token; tries_left as in
 * signer.h/token.h (-1 unknown, SISIGN_TRIES_LOW (-2) "low").  Writes a
 * NUL-terminated secret to buf and returns its length, or a negative
 * sisign_err (src->err says why):
 *   SISIGN_ERR_BAD_PASSPHRASE  no source / fd already consumed / a
 *                              passphrase that fails sisign_secret_check
 *   SISIGN_ERR_BAD_PIN         a PIN that fails sisign_secret_check
 *   SISIGN_ERR_INVALID_ARG     secret file readable by group or others
 *   SISIGN_ERR_TOO_LARGE       secret does not fit in buf
 *   SISIGN_ERR_SYSTEM          a read failed
 *   SISIGN_ERR_CANCELLED       EOF at the prompt
 * Every intermediate buffer is wiped with sisign_memzero. */
int fe_secret_cb(void *userdata, const char *kind, const char *what, int tries_left, char *buf,
	size_t size);

/* The prompt text fe_secret_cb shows, e.g. "Passphrase for rsa.key: " or
 * "PIN for token \"Dev\" (2 tries left): ".  Exposed for the GUI and tests. */
void fe_secret_prompt_text(const char *kind, const char *what, int tries_left, char *out,
	size_t size);

/* ---- JSON -------------------------------------------------------------- */

/* A streaming writer producing compact JSON (no newlines), handling the
 * commas.  Strings are escaped per RFC 8259: '"', '\\' and control
 * characters (as \n, \t, ... or \u00XX); valid UTF-8 is written as is and an
 * invalid byte becomes \ufffd, so the output is always valid JSON.  Nesting
 * deeper than FE_JSON_MAX_DEPTH, or a key outside an object, sets `failed`. */
#define FE_JSON_MAX_DEPTH 64

struct fe_json {
	FILE *fp;
	int depth;
	int failed;                                /* misuse detected */
	unsigned char first[FE_JSON_MAX_DEPTH + 1]; /* no member written yet at this level */
	unsigned char is_object[FE_JSON_MAX_DEPTH + 1];
	int after_key;
};

void fe_json_init(struct fe_json *j, FILE *fp);
void fe_json_begin_object(struct fe_json *j);
void fe_json_end_object(struct fe_json *j);
void fe_json_begin_array(struct fe_json *j);
void fe_json_end_array(struct fe_json *j);
void fe_json_key(struct fe_json *j, const char *key);
void fe_json_string(struct fe_json *j, const char *s); /* NULL writes null */
void fe_json_string_n(struct fe_json *j, const char *s, size_t n);
void fe_json_int(struct fe_json *j, long long v);
void fe_json_uint64(struct fe_json *j, uint64_t v);
void fe_json_bool(struct fe_json *j, int v);
void fe_json_null(struct fe_json *j);
/* Shorthands for key + value. */
void fe_json_kv_string(struct fe_json *j, const char *key, const char *s);
void fe_json_kv_int(struct fe_json *j, const char *key, long long v);
void fe_json_kv_uint64(struct fe_json *j, const char *key, uint64_t v);
void fe_json_kv_bool(struct fe_json *j, const char *key, int v);
/* 0 if the document is complete (depth 0), well formed and the stream has
 * no error; -1 otherwise. */
int fe_json_finish(struct fe_json *j);

/* ---- certificate constraints ------------------------------------------ */

/* What certificate idx of a chain (0 = the signer) is limited to, as one
 * line without a newline: "signer certificate is limited to device IDs
 * ...; SIDs 0xe0001234, ...; VIDs ...; capabilities A+B" (lists cut after 8
 * entries, with the count), or why its extensions do not decode.  malloc'd;
 * NULL when the certificate carries no constraint (or out of memory). */
char *fe_cert_constraints_text(size_t idx, const struct sisign_cert_constraints *c);
/* The same as a JSON value (docs/json.md): null when there is none, else
 * {"device_ids", "sids", "vids", "capabilities", "error"}, each list null
 * when that extension is absent; c may be NULL. */
void fe_json_cert_constraints(struct fe_json *j, const struct sisign_cert_constraints *c);

/* ---- time -------------------------------------------------------------- */

#define FE_TIME_BUFSIZE 32

/* ISO 8601 UTC, "2008-06-01T00:00:00Z".  Returns 0, or -1 if t is out of
 * range (buf then holds "?"). */
int fe_time_format(time_t t, char *buf, size_t size);
/* A SIS creation time (already UTC as far as the file tells). */
void fe_datetime_format(const struct sisign_datetime *dt, char *buf, size_t size);
/* Parse "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ".  Fields are
 * range-checked (February 30th is refused).  Returns 0 or -1. */
int fe_time_parse(const char *s, time_t *out);

/* ---- names ---------------------------------------------------------------- */

/* "RSA-SHA1", "DSA-SHA1", or "unsupported (md5WithRSA)" / "unsupported (OID)";
 * *supported set to 1 for the two OIDs Symbian accepts.  Returns buf. */
const char *fe_sig_algorithm_name(const char *oid, int *supported, char *buf, size_t size);
/* Well-known platform UIDs (S60 3rd Edition, ...) or NULL. */
const char *fe_platform_name(uint32_t uid);
/* "SA", "SP", "PU", "PA", "PP" (or "?") and the long form ("Installation", ...). */
const char *fe_install_type_code(unsigned t);
const char *fe_install_type_name(unsigned t);
/* -1 if unknown; accepts the codes above case-insensitively. */
int fe_install_type_parse(const char *s);
/* A language argument: decimal code ("1", "09"), a makesis code ("EN", "FI",
 * case-insensitive) or an English name ("English", "Finnish").  Returns the
 * TLanguage code or -1. */
long fe_language_parse(const char *s);
/* The makesis two-letter code for a TLanguage, or NULL. */
const char *fe_language_code(uint32_t lang);
/* "zlib" / "stored" / "unknown". */
const char *fe_compression_name(uint32_t alg);
/* "install", "run", "text", "null", or "unknown". */
const char *fe_file_operation_name(uint32_t op);
/* "ok", "mismatch", "no-data", "missing", "corrupt", "unchecked". */
const char *fe_hash_status_name(int status);

#endif
