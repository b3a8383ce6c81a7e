/* SPDX-License-Identifier: Apache-2.0 */
/* The sisign command-line front end: command table and exit codes. */
#ifndef SISIGN_CLI_H
#define SISIGN_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include <sisign/error.h>

/* Exit codes (documented in README.md and `sisign help exit-codes`). */
enum cli_exit {
	EXIT_OK = 0,            /* success; for verify: every package trusted */
	EXIT_ERROR = 1,         /* unexpected/internal error */
	EXIT_USAGE = 2,         /* bad command line */
	EXIT_IO = 3,            /* a file could not be read or written */
	EXIT_BAD_INPUT = 4,     /* an input is not a valid SIS package (corrupt, legacy, truncated) */
	EXIT_KEY = 5,           /* key or certificate problem (unreadable, wrong passphrase, mismatch, expired) */
	EXIT_TOKEN = 6,         /* PKCS#11 module, token or object not found, ambiguous, or failed
	                         * (a token removed or failing mid-batch stops the batch) */
	EXIT_PIN = 7,           /* PIN incorrect, locked, final try, or refused before login; or the
	                         * card refused the login with CKR_GENERAL_ERROR */
	EXIT_INVALID = 8,       /* verify: a signature or file hash is wrong */
	EXIT_UNTRUSTED = 9,     /* verify: signatures good but no chain reaches a trusted root */
	EXIT_SELF_SIGNED = 10,  /* verify: signatures good, only self-signed chains */
	EXIT_UNSIGNED = 11,     /* verify: no signature at all */
	EXIT_PARTIAL = 12,      /* several inputs: some failed, others went through (struct cli_tally) */
	EXIT_DRY_RUN = 13,      /* --dry-run: everything checked, nothing signed */
	EXIT_WOULD_NOT_INSTALL = 14, /* check: the installer would refuse a package (docs/check.md);
	                         * sign --strict: the same, nothing written */
	EXIT_DEPENDS = 15,      /* check: whether it installs depends on device state */
	EXIT_INTERRUPTED = 130, /* SIGINT/SIGTERM */
};

struct cli_command {
	const char *name;
	const char *usage;    /* one line of arguments after the command name */
	const char *summary;  /* one line */
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
	/* Optional: description and option list for `sisign help NAME` and
	 * `sisign NAME --help`, lines ending in "\n".  main.c answers --help
	 * (anywhere before "--") for every command, so run() need not. */
	const char *help;
};

/* Map a library error code to an exit code. */
int cli_exit_for_error(int code);

/* ---- command table (main.c) ------------------------------------------------
 * Each command lives in src/cli/cmd_NAME.c and defines one
 * `const struct cli_command cli_cmd_NAME`; adding it is one declaration here
 * and one line in main.c's table. */
extern const struct cli_command cli_cmd_info;
extern const struct cli_command cli_cmd_pack;
extern const struct cli_command cli_cmd_sign;
extern const struct cli_command cli_cmd_unsign;
extern const struct cli_command cli_cmd_verify;
extern const struct cli_command cli_cmd_check;
extern const struct cli_command cli_cmd_signsis;
extern const struct cli_command cli_cmd_tokens;
extern const struct cli_command cli_cmd_keys;
extern const struct cli_command cli_cmd_keygen;
extern const struct cli_command cli_cmd_cert;
extern const struct cli_command cli_cmd_csr;
extern const struct cli_command cli_cmd_import;
extern const struct cli_command cli_cmd_export_cert;
extern const struct cli_command cli_cmd_makekeys;

/* Name used to prefix messages: "sisign", or "signsis"/"makekeys" when
 * called through a multi-call link. */
extern const char *cli_progname;

/* Print "PROG: CMD: message" and "Try 'sisign help CMD'." to stderr;
 * returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) SISIGN_PRINTF(2, 3);

/* For getopt_long with opterr = 0 and an optstring starting ":" (GNU
 * permutation: options may follow operands): report the '?' or ':' result
 * c for the argument just parsed, with "did you mean '--x'?" when a long
 * option of longopts (may be NULL) is one or two edits away, or the
 * candidates when it is an ambiguous prefix; returns EXIT_USAGE. */
int cli_getopt_error(const char *cmd, int c, char **argv, const struct option *longopts);

/* The candidate closest to word by edit distance (insertions, deletions,
 * substitutions, adjacent swaps), if it is a likely typo (one edit, two for
 * words of six letters or more), else NULL. */
const char *cli_suggest(const char *word, const char *const *cands, size_t n);

/* ---- -q/--quiet and -v/--verbose: every command takes both ---------------
 * -q: no progress bar, summary or notes on stderr (errors and warnings
 * still shown; standard output is unchanged).  -v: notes on stderr about
 * each step (files read and written, the key, certificate and token used,
 * timings).  The last one given wins. */
extern int cli_quiet, cli_verbose;
extern const struct option cli_common_longopts[]; /* quiet, verbose, zero entry */
/* Append the entries of cli_common_longopts that v (zero-terminated, room
 * for max entries) does not have yet; returns the new count. */
size_t cli_longopts_add_common(struct option *v, size_t max);
/* 1 (and the setting made) if c is 'q' or 'v', else 0. */
int cli_common_opt(int c);
/* "PROG: message" on stderr, only under -v. */
void cli_note(const char *fmt, ...) SISIGN_PRINTF(1, 2);

/* "PROG: FILE: message (at offset N) — reason" via fe_print_error; returns
 * cli_exit_for_error(err->code). */
int cli_report(const char *file, const struct sisign_error *err);

/* ---- --json (docs/json.md, docs/json-schema.json) ----------------------------
 * sign, unsign, verify and info write one JSON object per input, one per
 * line (line N belongs to input N), single files and batches alike.  Every
 * record starts with the same envelope:
 *   {"schema": CLI_JSON_SCHEMA, "command", "input", "status", "exit",
 *    "error": null | {"exit", "name", "message", "offset"}, "time", ...}
 * "exit" is this input's own exit status as documented (`sisign help
 * exit-codes`), never the library's negative code; null only for an audit
 * log's "writing" record.  The command's own keys follow. */
#define CLI_JSON_SCHEMA 1
struct fe_json;

/* Open the record on fp and write the envelope (err NULL: "error": null;
 * exit_status < 0: "exit": null); the caller adds its keys and calls
 * cli_json_end. */
void cli_json_begin(struct fe_json *j, FILE *fp, const char *command, const char *input, const char *status,
	int exit_status, const struct sisign_error *err);
/* Close the record and end the line: 0, or -1 if it is not well formed or
 * the stream failed. */
int cli_json_end(struct fe_json *j);
/* The "error" object's value: {"exit", "name" (sisign_strerror), "message"
 * (err->message, else the name), "offset" (null when unknown)}. */
void cli_json_error_value(struct fe_json *j, int exit_status, const struct sisign_error *err);

/* A one-line "PROG: message" on stderr (warnings, notes). */
void cli_msg(const char *fmt, ...) SISIGN_PRINTF(1, 2);

/* ---- "-": standard input and output (cli_stdio.c) --------------------------
 * Every command that reads a package (info, verify, sign, unsign) reads "-"
 * as standard input (at most CLI_STDIN_MAX bytes, into memory); every one
 * that writes one (sign, unsign and pack -o -) writes "-" to standard
 * output.  A package is never written to a terminal, nor read from one.
 * Standard output cannot be replaced atomically: the package is written
 * to a private temporary directory ($TMPDIR, else /tmp) and copied to
 * standard output only once it is complete (signed, checked); on failure
 * nothing reaches standard output. */
#define CLI_STDIN_MAX (1024 << 20)
struct sisign_pkg;
struct cli_spool {
	char dir[4096];
	char path[4096 + 16];
};
int cli_is_stdio(const char *path);
/* Seconds on the monotonic clock (for -v timings). */
double cli_now(void);
/* EXIT_USAGE (message printed) when input is "-" and standard input is a
 * terminal, or output is "-" and standard output is one; either may be
 * NULL. */
int cli_stdio_check(const char *cmd, const char *input, const char *output);
/* sisign_pkg_open, or for "-" sisign_pkg_parse_mem over all of standard
 * input: *mem then holds the bytes, to be freed after sisign_pkg_free(). */
int cli_pkg_open(const char *path, struct sisign_pkg **pkg, void **mem, struct sisign_error *err);
/* A temporary file sp->path for an output bound for standard output
 * (exit code; message printed). */
int cli_spool_begin(struct cli_spool *sp, const char *cmd);
/* ok: copy sp->path to standard output; always remove it.  Exit code. */
int cli_spool_finish(struct cli_spool *sp, const char *cmd, int ok);

/* The higher of two exit codes (used among failures, and while the list of
 * inputs is gathered). */
int cli_worst(int a, int b);

/* ---- several inputs, one status (`sisign help exit-codes`) -------------------
 * Every command that takes several inputs (info, verify, sign, unsign, and
 * the batch engine behind them) counts each input as either failed (it could
 * not be read, parsed, signed or checked; info: also described but with a
 * problem) or gone through (written, skipped, described, or given a verdict),
 * and exits with cli_tally_exit():
 *   - nothing failed: the most severe result, in the order
 *     8 INVALID > 11 UNSIGNED > 9 UNTRUSTED > 10 SELF_SIGNED > 0 OK;
 *   - some failed and some went through: 12 PARTIAL;
 *   - every input failed: the highest of their statuses.
 * Interrupted (130), a token failing mid-batch (6) and --dry-run (13, or 12
 * if something failed) override this in batch_cli_run. */
struct cli_tally {
	unsigned long failed, through;
	int worst_failure; /* highest status of a failed input */
	int worst_result;  /* most severe status of an input that went through */
};

void cli_tally_init(struct cli_tally *t);
/* An input that failed with exit status status. */
void cli_tally_failed(struct cli_tally *t, int status);
/* An input that went through with status EXIT_OK or a verdict (8-11). */
void cli_tally_result(struct cli_tally *t, int status);
/* The exit status for everything added (EXIT_OK when nothing was). */
int cli_tally_exit(const struct cli_tally *t);

/* The process's umask.  Read by setting it, so call it before any thread
 * starts.  New outputs: --out-dir 0644 & ~umask; -o and --suffix the
 * input's bits & 0777 & ~umask (as cp makes a copy). */
int cli_umask(void);

#endif
