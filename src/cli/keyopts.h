/* SPDX-License-Identifier: Apache-2.0 */
/* Key, certificate, passphrase and PIN options shared by `sisign sign`,
 * `sisign keys` and the signsis front end.
 *
 * Passphrase precedence (key files): --pass-fd, --pass-file, $SISIGN_PASS
 * (empty = unset), a no-echo prompt on /dev/tty.  PIN precedence (tokens,
 * pkcs11.md rule 6): --pin-fd, --pin-file (refused if group/other may read
 * it), $SISIGN_PIN (empty = unset), the URI's pin-source, its pin-value
 * (only with --allow-pin-in-uri), a no-echo prompt: the first three reach
 * the library as an explicit pin_cb (pin_cb_explicit), which it uses before
 * the URI's sources.  Secrets never come from argv.  Setting up a PIN or
 * passphrase source first calls fe_protect_process (no core dumps, not
 * dumpable) and takes $SISIGN_PIN / $SISIGN_PASS out of the environment
 * (fe_secret_src_take_env).  Every key or URI printed goes through
 * sisign_token_uri_redact. */
#ifndef SISIGN_CLI_KEYOPTS_H
#define SISIGN_CLI_KEYOPTS_H

#include <getopt.h>

#include <sisign/error.h>
#include <sisign/sign.h>
#include <sisign/signer.h>
#include <sisign/token.h>

#include "fe.h"

#define KEYOPTS_MAX_LIST 32

/* getopt_long values for the shared options (above the ASCII range). */
enum keyopt_id {
	KO_KEY = 0x1000,
	KO_CERT,
	KO_CHAIN,
	KO_ALLOW_EXPIRED,
	KO_PASS_FD,
	KO_PASS_FILE,
	KO_MODULE,
	KO_ALLOW_MODULE,
	KO_PIN_FD,
	KO_PIN_FILE,
	KO_ALLOW_PIN_IN_URI,
	KO_FORCE,
};

struct keyopts {
	const char *key;          /* key file or pkcs11: URI */
	const char *cert;         /* NULL: the token's certificate */
	const char *chain[KEYOPTS_MAX_LIST + 1];
	size_t nchain;
	int allow_expired;
	int pass_fd;
	const char *pass_file;
	const char *module;
	const char *allow_module[KEYOPTS_MAX_LIST + 1];
	size_t nallow_module;
	int pin_fd;
	const char *pin_file;
	int allow_pin_in_uri;
	int force_final_try;
	int parallel_sessions;    /* batch --token-sessions N > 1: N (the token takes concurrent sessions) */
	sisign_login_cb on_login; /* told of each token login attempt (batch --audit-log), or NULL */
	void *on_login_data;

	/* state */
	struct fe_secret_src pass_src;
	struct fe_secret_src pin_src;
	/* Why keyopts_load_signer or keyopts_load_identity last failed (code
	 * 0 if neither did): what was printed, for --json records. */
	struct sisign_error failed;
};

void keyopts_init(struct keyopts *ko);

/* Long options for the token part (--module ... --force) and for the key
 * part (--key ... --pass-file) respectively, each ending in a zero entry;
 * keyopts_longopts_merge copies both (as asked) plus `extra` into out. */
#define KEYOPTS_F_KEY 1   /* --key --cert --chain --allow-expired --pass-fd --pass-file */
#define KEYOPTS_F_TOKEN 2 /* --module --allow-module --pin-fd --pin-file --allow-pin-in-uri --force */
size_t keyopts_longopts(int which, const struct option *extra, struct option *out, size_t max);

/* Handle one getopt_long result c with its optarg.  Returns 1 if it was a
 * key option (and was fine), 0 if not a key option, or -1 after printing a
 * usage error for `cmd` (the caller returns EXIT_USAGE). */
int keyopts_handle(struct keyopts *ko, const char *cmd, int c, const char *arg);

/* True if s is a PKCS#11 URI. */
int keyopts_is_uri(const char *s);

/* Token options for the library (pointers into ko; valid while ko is). */
void keyopts_token_opts(struct keyopts *ko, struct sisign_token_opts *to);

/* Load the signer that ko->key names (key file or token).  On failure the
 * error has been printed (prefix `what`, e.g. the key name) and the exit
 * code is returned; EXIT_OK on success.  Caller frees *out. */
int keyopts_load_signer(struct keyopts *ko, struct sisign_signer **out);

/* Signer plus certificate(s) → identity; prints warnings as
 * "PROG: warning: ...".  Returns an exit code; on success caller frees
 * *out with sisign_identity_free (and the signer after it). */
int keyopts_load_identity(struct keyopts *ko, struct sisign_signer *signer,
	struct sisign_identity **out);

/* Print a library error, preferring the secret source's own reason when a
 * passphrase/PIN callback failed.  Returns the exit code. */
int keyopts_report(struct keyopts *ko, const char *what, const struct sisign_error *err);

/* keyopts_report for a library call that returned r: err->code is set to r
 * first when the library left it 0. */
int keyopts_fail(struct keyopts *ko, const char *what, int r, struct sisign_error *err);

/* Set up ko->pass_src for a key file's passphrase: --pass-fd, --pass-file,
 * else $SISIGN_PASS, else a prompt. */
void keyopts_pass_src(struct keyopts *ko);

/* Before any key or PIN is touched: refuse a ROM stub, a damaged package
 * or one with a chain that does not verify, so it fails without a prompt
 * (sisign_pkg_check_signable_nodata; file hashes are checked when the
 * signed package is written).  Prints the error; returns an exit code. */
int keyopts_precheck(struct sisign_pkg *pkg, const char *path);

/* ---- output target: (-o OUT | --in-place) IN ----------------------------- */

struct out_target {
	const char *input;
	const char *output;  /* -o */
	int in_place;        /* --in-place */
	int no_wait;         /* --no-wait: fail if another process holds IN's lock */
	int mode;            /* set by out_target_check: -o's permission bits */
	void *mem;           /* IN "-": standard input's bytes (out_target_free) */
	const char *cmd;     /* for messages (set by out_target_check) */
};

void out_target_init(struct out_target *ot);
/* Exactly one of -o / --in-place; -o naming IN itself (same path or same
 * file) without --in-place is a usage error.  Sets -o's mode: IN's bits
 * & 0777 less the umask (IN "-": 0666 less the umask).  IN "-" is standard
 * input (not with --in-place), OUT "-" standard output; neither may be a
 * terminal (cli_stdio_check).  Returns an exit code. */
int out_target_check(struct out_target *ot, const char *cmd);
/* Open IN: in place with sisign_pkg_open_exclusive (locked until the
 * package is freed; waits for another writer unless no_wait), else
 * cli_pkg_open ("-": standard input).  Returns a sisign code; prints
 * nothing but -v notes.  Call out_target_free after sisign_pkg_free. */
int out_target_open(struct out_target *ot, struct sisign_pkg **pkg, struct sisign_error *err);
void out_target_free(struct out_target *ot);
/* Write the output atomically: sisign_pkg_replace in place (the file, a
 * symlink's target, keeps its permission bits & 0777), else
 * sisign_pkg_write to -o with ot->mode; -o -: the finished package is
 * copied to standard output (cli_spool_*).  Prints errors; exit code. */
int out_target_write(const struct out_target *ot, struct sisign_pkg *pkg);

#endif
