/* SPDX-License-Identifier: Apache-2.0 */
/* sisign — batch signing, unsigning and verification: one identity (one
 * token login) for many packages, local work (reading, parsing, hashing,
 * writing) on worker threads, signatures through one queue (or up to
 * token_sessions at once).
 *
 * Usage: sisign_batch_new(), sisign_batch_add() per package,
 * sisign_batch_run(), then read each job's result; sisign_batch_free().
 * The library never prints: front ends get a per-job callback (for JSON
 * lines, audit logs), a callback before each output is renamed into place
 * (an audit log's intent record; it can refuse the output) and a progress
 * callback.
 *
 * SIGN reads each package's file data once, after its signature (as
 * sisign_pkg_sign + sisign_pkg_write do): a file whose SHA-1 does not
 * match its data makes that job FAILED when its output is written, its
 * signature made and thrown away, nothing written and on_commit not
 * called.  skip_signed and dry_run check the file hashes before any
 * signature (sisign_pkg_check_signable).
 *
 * Outputs are written atomically as by sisign_pkg_write() (an unnamed
 * O_TMPFILE in OUT's directory, fsync, then linked as "OUT.tmpXXXXXX" and
 * renamed over OUT, directory fsync — the batch syncs each directory once
 * for a group of renames, before it reports any of them; a failed directory
 * fsync makes those jobs FAILED although their outputs are in place): an
 * interrupted batch — even by
 * SIGKILL — leaves every output either complete or absent, and inputs are
 * never modified (an in-place job replaces the input by rename only after
 * the new file is complete, holding the input's lock all the while: see
 * sisign_pkg_open_exclusive; a symlink's target is replaced and the link
 * kept).  Only a SIGKILL between that link and the
 * rename (or on a filesystem without O_TMPFILE) can leave a named temp
 * file; the next run over the same outputs removes such leftovers (see
 * clean_stale_temps). */
#ifndef SISIGN_BATCH_H
#define SISIGN_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sisign/check.h>
#include <sisign/error.h>
#include <sisign/package.h>
#include <sisign/sign.h>
#include <sisign/signer.h>
#include <sisign/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sisign_batch;

enum sisign_batch_op {
	SISIGN_BATCH_SIGN = 1,   /* append a chain (see skip_signed / resign) */
	SISIGN_BATCH_UNSIGN = 2, /* remove the last chain (or all: unsign_all) */
	SISIGN_BATCH_VERIFY = 3, /* verify; nothing is written */
};

enum sisign_job_status {
	SISIGN_JOB_PENDING = 0,   /* not started: the batch was cancelled, or stopped by a token failure,
	                           * before this job's signature; nothing was written for it */
	SISIGN_JOB_DONE = 1,      /* output written (verify: report produced) */
	SISIGN_JOB_SKIPPED = 2,   /* --skip-signed: the output already is what signing would write */
	SISIGN_JOB_FAILED = 3,    /* see err; no output was written for it (with check_strict, a package the
	                           * installer would refuse: SISIGN_ERR_WOULD_NOT_INSTALL, findings filled) */
	SISIGN_JOB_CHECKED = 4,   /* dry run: parsed and checked, nothing written */
};

/* A job's result, as front ends see it.  The batch does not store this
 * struct per job: it keeps a few bytes of state per job (status, sizes,
 * counts; an error's text only for a job that failed; warning texts once
 * for all the jobs that share them) and fills a sisign_batch_result from
 * them for each callback and for sisign_batch_result(), so its memory stays
 * flat in the number of jobs.  (ABI change, SOVERSION still 0:
 * sisign_batch_result() used to return a pointer to a stored struct.)  The
 * strings it points to are the batch's, valid until sisign_batch_free(). */
struct sisign_batch_result {
	const char *input;
	const char *output;            /* NULL for verify and dry runs */
	enum sisign_job_status status;
	struct sisign_error err;       /* code 0 unless FAILED */
	uint64_t input_size;
	char output_sha256[65];        /* lower-case hex; "" unless opts.output_sha256 and an output was written */
	size_t nchains;                /* top-level chains in the output (verify: in the input) */
	int verdict;                   /* VERIFY only: enum sisign_verdict; else -1 */
	/* Package and identity warnings, one per line ("" if none).  Owned by
	 * the batch. */
	const char *warnings;
	size_t nwarnings;
	/* SIGN with opts.check: what the install rules (sisign_pkg_check_install,
	 * docs/check.md) say about the package as signed — or, in a dry run,
	 * as it would be signed.  check_worst: -1 not checked (check off, a
	 * skipped job, one that failed before its check), 0 no finding, else
	 * the highest enum sisign_check_severity.  The findings (controller
	 * order, then rule order) are the batch's, shared by the jobs whose
	 * findings are the same; a FAILED job keeps the findings of its check. */
	int check_worst;
	size_t nfindings;
	const struct sisign_finding *findings;
};

struct sisign_batch_progress {
	size_t files_done;             /* finished, whatever their status */
	size_t files_total;
	uint64_t bytes_done;           /* input bytes of finished jobs */
	uint64_t bytes_total;
	size_t failed;
};

/* Called once per finished job, once its output is durable (so a log
 * written from it survives an interruption, and never claims an output a
 * crash could still lose): each worker reports its finished jobs in
 * groups, after syncing the directories their outputs were renamed into —
 * a group is at most 32 jobs or 100 ms of work, a single job with a slow
 * signer.  Calls are serialised (never two at once) but come from worker
 * threads (or the calling thread, see threads). */
typedef void (*sisign_batch_result_cb)(void *userdata, size_t index, const struct sisign_batch_result *res);
/* Called for each output file after all its bytes are written and before
 * it is renamed into place (so before anything exists under OUT's name),
 * serialised likewise; res has input, output and output_sha256 (the
 * bytes about to be renamed in) filled.  A front end writes the intent
 * record of an audit log here.  Return SISIGN_OK to go on; anything else
 * (with err filled) discards that output — the job becomes FAILED with
 * err — and stops the batch as sisign_batch_stop() does. */
typedef int (*sisign_batch_commit_cb)(void *userdata, size_t index, const struct sisign_batch_result *res,
	struct sisign_error *err);
/* Called after each finished job, serialised likewise. */
typedef void (*sisign_batch_progress_cb)(void *userdata, const struct sisign_batch_progress *p);
/* Called when a worker starts a job (before any of its work), serialised
 * likewise; lets a front end show which packages are in progress. */
typedef void (*sisign_batch_start_cb)(void *userdata, size_t index);

struct sisign_batch_opts {
	enum sisign_batch_op op;
	/* SIGN (and skip/resign checks): the identity and the signer it was
	 * made from.  Make ONE signer for the whole batch: for a token that is
	 * one login.  Neither is owned; both must outlive the batch. */
	struct sisign_identity *identity;
	struct sisign_signer *signer;
	int skip_signed;     /* SIGN: skip a package when its output already is what this job would
	                      * write.  The input is first checked as for signing (sisign_pkg_check_signable,
	                      * file hashes included): one that fails is FAILED, never skipped or copied.
	                      * Then: an input whose last chain is this identity's (same signer certificate
	                      * DER; it verifies, as the check passed) is SKIPPED, and a separate output gets
	                      * the input unchanged unless it holds exactly that already.  Else a separate
	                      * output that exists is SKIPPED only if it is exactly the input plus one last
	                      * chain whose signer certificate is this identity's and whose signature
	                      * verifies: its controller without that chain equals the input's byte for byte
	                      * (decompressed), and so do UID2, the data CRC field and every byte from SISData
	                      * on.  Anything else (a leftover of an older input, another key's chain, a
	                      * corrupt signature) is signed again and the output replaced atomically. */
	int resign;          /* SIGN: a package whose last chain is this identity's has that chain replaced
	                      * (even one whose signature no longer verifies: it is removed before the
	                      * package is checked) */
	int unsign_all;      /* UNSIGN: remove every chain, not only the last */
	int dry_run;         /* parse and check every input (file hashes, skip/resign decisions), sign and write
	                      * nothing; status CHECKED.  See also sisign_batch_preflight(). */
	int threads;         /* worker threads; 0 = number of online CPUs; with 1 (or a single job) the
	                      * jobs run on the thread that calls sisign_batch_run.  With more than one
	                      * and the one queue (parallel_sign 0, token_sessions 0 or 1) a signing
	                      * thread besides them makes every signature (and so calls the signer's
	                      * PIN callback for a context-specific login) while the workers prepare
	                      * the next packages */
	/* 0 (default): signatures go through ONE queue, one at a time, in
	 * whatever order workers reach it — many tokens break on concurrent use.
	 * 1: workers call the signer concurrently (as many as there are
	 * workers; token_sessions, below, sets the number instead).  A file-key signer then
	 * signs on all cores; a token signer does so only if it was opened
	 * with sisign_token_opts.parallel_sessions (else it still serialises
	 * its own calls). */
	int parallel_sign;
	int output_sha256;   /* compute each output's SHA-256 (from the bytes as they are written, or, for a
	                      * signed or unsigned package whose file data the writer copied in its one pass,
	                      * read back from the finished temp file before the rename: that pass writes out
	                      * of order; an output that --skip-signed found finished is read once more) */
	int mode;            /* permission bits of an output that is another file than its input; 0 = the
	                      * input's less mode_clear.  Only the 0777 bits: setuid, setgid and sticky are
	                      * never set.  An input replaced in place keeps its own bits (& 0777) */
	int mode_clear;      /* with mode 0: bits cleared from the input's (a front end's umask) */
	int clean_stale_temps; /* before starting, remove "OUT.tmpXXXXXX" files (".sisign-HHHHHHHH.tmpXXXXXX"
	                        * for an OUT whose name is too long for that) left by a killed run for
	                        * this batch's outputs; one another sisign is still writing (it
	                        * holds a flock on it) or that changed in the last 2 s is kept */
	const struct sisign_parse_opts *parse;   /* may be NULL */
	const struct sisign_verify_opts *verify; /* VERIFY; may be NULL */
	sisign_batch_result_cb on_result;
	sisign_batch_progress_cb on_progress;
	void *userdata;
	sisign_batch_start_cb on_start;  /* may be NULL */
	/* In place, each input is opened with sisign_pkg_open_exclusive(): a
	 * file another writer holds locked is waited for (0), or fails at once
	 * with SISIGN_ERR_SYSTEM, sys_errno EWOULDBLOCK (1). */
	int no_wait;
	sisign_batch_commit_cb on_commit; /* may be NULL; when set, output_sha256 is filled as if asked */
	/* SIGN: how many signatures may be in flight at once, 0 to
	 * SISIGN_TOKEN_SESSIONS_MAX; more is SISIGN_ERR_INVALID_ARG.  0: as
	 * parallel_sign says.  1: one queue (parallel_sign is ignored).  N > 1:
	 * up to N workers are in the signer at the same time, and the batch
	 * runs N - 1 workers more than threads says, so that while N wait on
	 * the token the others go on reading, hashing and writing (with
	 * threads 1 the jobs then run on N worker threads).  For a network HSM,
	 * where a signature is mostly a round trip, N signatures take about the
	 * time of one.  A token signer must have been opened with
	 * sisign_token_opts.parallel_sessions = N (else it serialises its own
	 * calls and N only adds waiting workers); libp11 then gives each
	 * concurrent signature a session of its own, all under the one login
	 * (through p11-kit-client.so: a connection and a login each).
	 * When one fails because the token is gone or broken, the others
	 * already in flight still finish. */
	int token_sessions;
	/* SIGN: run the install rules of `sisign check` (sisign_pkg_check_install
	 * with its defaults: the package's own chains, the new one included;
	 * Symbian's default policy; now) on each package once it is signed and
	 * before its output is written (a dry run: as it would be signed, with
	 * the identity's chain); file data is not hashed again.  Each job's
	 * result carries the findings (check_worst, findings).  A check that
	 * cannot run (unreadable data, no memory) fails the job, as it fails
	 * a one-package `sisign sign`.  Skipped jobs (skip_signed) are not
	 * checked. */
	int check;
	/* With check: a package the installer would refuse (an error-severity
	 * finding) is FAILED with SISIGN_ERR_WOULD_NOT_INSTALL and nothing is
	 * written for it (in a dry run it is FAILED likewise); the other jobs go
	 * on. */
	int check_strict;
};

/* The most signatures a batch keeps in flight (token_sessions): libp11
 * 0.4.12 opens at most 16 sessions per slot and makes further callers
 * wait for one. */
#define SISIGN_TOKEN_SESSIONS_MAX 16

/* Copies opts.  Caller frees *out with sisign_batch_free(). */
SISIGN_API int sisign_batch_new(const struct sisign_batch_opts *opts, struct sisign_batch **out,
	struct sisign_error *err) SISIGN_WARN_UNUSED;
SISIGN_API void sisign_batch_free(struct sisign_batch *b);

/* Add a job.  output: the file to write, or NULL to replace input in place
 * (ignored for VERIFY).  Both strings are copied.  SISIGN_ERR_INVALID_ARG
 * when the batch is running.  Two jobs must not share an output, and an
 * output must not be its own input file (neither is checked here; the CLI
 * refuses such command lines by path and by device and inode). */
SISIGN_API int sisign_batch_add(struct sisign_batch *b, const char *input, const char *output,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Run every job.  One bad package does not stop the batch: each job gets
 * its own status and error.  A token that is gone or broken does: at the
 * first signature that fails with SISIGN_ERR_TOKEN_FAILED (removed,
 * session lost, CKR_DEVICE_ERROR, CKR_GENERAL_ERROR, or a signature that
 * does not verify) no further signature is asked for; that job is FAILED,
 * and every job that has not reached its signature stays PENDING and gets
 * no result callback.  Jobs past their signature finish normally.  An
 * on_commit refusal or sisign_batch_stop() stops it the same way.
 * Returns SISIGN_OK when every job ran (whatever their statuses),
 * SISIGN_ERR_TOKEN_FAILED when a token failure stopped it (err gets that
 * failure, as the FAILED job has it), the stop's own code (err gets it)
 * after an on_commit refusal or sisign_batch_stop(), SISIGN_ERR_CANCELLED when
 * sisign_batch_cancel() stopped it (jobs in flight finish; the rest stay
 * PENDING), or another error when the batch could not run at all (threads,
 * memory). */
SISIGN_API int sisign_batch_run(struct sisign_batch *b, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Ask a running batch to stop after the jobs in flight.  Async-signal-safe
 * (a lock-free atomic store): may be called from a SIGINT handler. */
SISIGN_API void sisign_batch_cancel(struct sisign_batch *b);

/* Stop a running batch before its next signature, as a token failure
 * does (see sisign_batch_run): no further signature is asked for, jobs
 * that have not reached theirs stay PENDING, jobs past it finish (and
 * still pass on_commit).  why (copied; not NULL, code non-zero) is what
 * sisign_batch_run returns; the first stop wins.  Lock-free: may be called
 * from the batch's own callbacks (not from a signal handler). */
SISIGN_API void sisign_batch_stop(struct sisign_batch *b, const struct sisign_error *why);

SISIGN_API size_t sisign_batch_count(const struct sisign_batch *b);
/* Fill *out with the result of job i (in the order added): SISIGN_OK, or
 * SISIGN_ERR_INVALID_ARG (*out cleared: status PENDING) when i is out of
 * range.  Its strings are the batch's, valid until sisign_batch_free(). */
SISIGN_API int sisign_batch_result(const struct sisign_batch *b, size_t i, struct sisign_batch_result *out);
/* Counts per status after (or during) a run. */
SISIGN_API void sisign_batch_summary(const struct sisign_batch *b, struct sisign_batch_progress *p,
	size_t *done, size_t *skipped, size_t *checked, size_t *pending);

/* Dry-run preflight for a signer and the identity made from it (which
 * already checked that key and certificate match): sign a random SHA-1
 * digest with the signer — on a token, a real C_Sign — and verify that
 * signature with the identity's certificate.  SISIGN_OK, or the signing
 * error, or SISIGN_ERR_KEY_MISMATCH / SISIGN_ERR_SIG_INVALID. */
SISIGN_API int sisign_batch_preflight(struct sisign_signer *signer, const struct sisign_identity *id,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

/* "done", "skipped", "error", "checked", "not_started" (PENDING). */
SISIGN_API const char *sisign_job_status_name(enum sisign_job_status s);

#ifdef __cplusplus
}
#endif
#endif
