/* SPDX-License-Identifier: Apache-2.0 */
/* Batch front end shared by `sisign sign`, `unsign` and `verify`: input
 * expansion (files, -r directories: symlinked directories only with
 * --follow-symlinks, never one directory twice; --files-from, capped),
 * output mapping (--out-dir mirroring the input tree, --suffix, --in-place;
 * an output that is its own input file is refused), one identity
 * (one token login) for the batch, progress on a terminal, JSON lines, an
 * audit log that fails closed (login records, a "writing" record before
 * each rename, one write + fsync per record, exit 3 when one cannot be
 * written), SIGINT/SIGTERM handling and --dry-run. */
#ifndef SISIGN_CLI_BATCH_CLI_H
#define SISIGN_CLI_BATCH_CLI_H

#include <getopt.h>
#include <stdint.h>

#include <sisign/batch.h>
#include <sisign/verify.h>

#include "keyopts.h"

/* getopt_long values (above keyopts' range). */
enum batch_opt_id {
	BO_FILES_FROM = 0x2000,
	BO_OUT_DIR,
	BO_SUFFIX,
	BO_SKIP_SIGNED,
	BO_RESIGN,
	BO_PARALLEL_TOKEN,
	BO_JSON,
	BO_AUDIT_LOG,
	BO_DRY_RUN,
	BO_PROGRESS,
	BO_JOBS,
	BO_FOLLOW_SYMLINKS,
	BO_NO_WAIT,
	BO_TOKEN_SESSIONS,
};

/* Caps on what a batch reads: a --files-from line (a path) is at most
 * BATCH_LINE_MAX bytes, and a batch (files named, found by -r and listed)
 * has at most BATCH_INPUTS_MAX inputs; --files-from reads at most that
 * many lines.  More is a usage error, before anything is signed. */
#define BATCH_LINE_MAX 4095
#define BATCH_INPUTS_MAX 1000000

struct batch_cli {
	int recursive;          /* -r, --recursive */
	int follow_symlinks;    /* --follow-symlinks: -r enters symlinked directories (each directory once) */
	int no_wait;            /* --no-wait: in place, fail at once on a file another process has locked */
	const char *files_from; /* --files-from FILE, "-" = stdin */
	const char *out_dir;    /* --out-dir DIR */
	const char *suffix;     /* --suffix SUF */
	const char *output;     /* -o OUT: one input, batch options wanted (set by the command) */
	int in_place;           /* --in-place (set by the command) */
	int skip_signed;        /* --skip-signed */
	int resign;             /* --resign */
	int jobs;               /* -j N; 0 = all cores */
	int parallel_token;     /* --parallel-token (deprecated: --token-sessions as many as workers) */
	int token_sessions;     /* --token-sessions N; 0 = not given */
	int json;               /* --json */
	const char *audit_log;  /* --audit-log FILE */
	int quiet;              /* -q (the last of -q/-v given) */
	int progress;           /* --progress: a bar even when stderr is not a terminal */
	int dry_run;            /* --dry-run */
	int unsign_all;         /* unsign --all (set by the command) */
	int strict;             /* sign --strict: a package the installer would refuse is an error (set by the command) */
	int any;                /* a batch-only option was given */
};

void batch_cli_init(struct batch_cli *bc);

/* The batch long options, ending in a zero entry; short options are
 * "rj:qv" (add them to the command's optstring).  -q, -v and --no-wait
 * also apply to a single file and do not by themselves ask for a batch;
 * -q/-v also set cli_quiet/cli_verbose. */
extern const struct option batch_cli_longopts[];

/* Handle one getopt_long result: 1 if it was a batch option, 0 if not, -1
 * after printing a usage error (return EXIT_USAGE). */
int batch_cli_handle(struct batch_cli *bc, const char *cmd, int c, const char *arg);

/* True when the command line asks for the batch path: more than one input,
 * a directory, or any batch-only option (with -o and one input too: the
 * command sets bc->output, and batch_cli_run refuses -o for several
 * inputs and '-' as an input or output). */
int batch_cli_wanted(const struct batch_cli *bc, int ninputs, char **inputs);

/* Run the batch; prints everything and returns the exit code:
 *   0 all done (verify: all trusted, else the worst verdict's code),
 *   3 the audit log could not be written (signing stopped there),
 *   12 some failed and some did not (EXIT_PARTIAL),
 *   13 --dry-run (EXIT_DRY_RUN; 12 if some input failed its checks),
 *   130 interrupted, else the code of the error that stopped everything
 *   (usage, key, token, PIN) or of the failure shared by every input.
 * ko: key options for sign (NULL for unsign/verify); vo: verify options. */
int batch_cli_run(struct batch_cli *bc, const char *cmd, enum sisign_batch_op op, struct keyopts *ko,
	const struct sisign_verify_opts *vo, int ninputs, char **inputs);

/* ---- progress.c ---------------------------------------------------------- */

struct progress {
	int enabled;
	double start, last;
	int drawn;      /* a bar is on the screen */
};
void progress_init(struct progress *p, int enabled);
/* Redraw in place (at most ~10 times a second, always for the last file),
 * fitted to the terminal's width (TIOCGWINSZ, else $COLUMNS, else 80). */
void progress_update(struct progress *p, const struct sisign_batch_progress *bp);
/* Erase the bar before printing a message line. */
void progress_clear(struct progress *p);
double progress_now(void);

#endif
