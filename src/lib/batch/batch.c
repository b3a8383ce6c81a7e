/* SPDX-License-Identifier: Apache-2.0 */
/* The batch engine: N worker threads each take the next job and do the
 * local work (open, parse, hash check, write, output digest); the signer
 * call goes through one queue (with more than one worker, a signing thread
 * of its own that takes the workers' digests in turn) unless parallel_sign
 * (pkcs11.md "serialise token operations and parallelise only local
 * hashing") or token_sessions
 * (N signer calls at once: N slots, taken and given back around the call;
 * N - 1 extra workers keep the local work going meanwhile).  Per-job results
 * never stop the batch, with one exception: a token that is gone or broken
 * (SISIGN_ERR_TOKEN_FAILED) stops it, since every later signature would
 * fail the same way. */
#include "batch/batch_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <sisign/check.h>

#include "format/format_private.h"
#include "sign/sign_private.h"

/* A failed job's error beyond its code: allocated for failed jobs only. */
struct job_err {
	int sys_errno;
	unsigned long ckr;
	long long offset;
	char text[];             /* message, NUL, ossl_reason, NUL */
};

/* What the batch keeps per job: a struct sisign_batch_result is built from
 * it when asked for (job_result), so a batch of many jobs holds about 80
 * bytes each plus its paths, and more only for jobs that failed or have
 * warnings of their own. */
struct job {
	char *input;
	char *output;            /* NULL: in place (or verify) */
	char *dir_pending;       /* the path renamed into place, whose directory is not synced yet */
	struct job_err *err;     /* FAILED: the rest of the error (NULL if there was no memory for it) */
	const char *warnings;    /* interned, one per line; NULL if none */
	const struct sisign_finding *findings; /* interned (texts and array); NULL if none */
	uint64_t input_size;
	int err_code;            /* FAILED: enum sisign_err; else 0 */
	uint32_t nchains;
	uint32_t nwarnings;
	uint32_t nfindings;
	int8_t check_worst;      /* -1: not checked; else the report's worst */
	int8_t status;           /* enum sisign_job_status */
	int8_t verdict;          /* VERIFY: enum sisign_verdict; else -1 */
	uint8_t has_sha;         /* b->sha[index] holds the output's SHA-256 */
};

/* Directory fsyncs are batched: a worker keeps its finished jobs (up to
 * GROUP_MAX, or GROUP_MS milliseconds' worth) unreported, then syncs each
 * directory they renamed an output into once, and only then reports them
 * (on_result: the audit log's "done" record, JSON, progress).  Nothing is
 * reported as written before its rename is durable; a failed directory
 * sync makes every job of that directory in the group FAILED.  With a
 * slow signer (a smartcard's seconds per signature) each group is one
 * job, as before. */
#define GROUP_MAX 32
#define GROUP_MS 100

#define BATCH_CHECK_CHAINS 64 /* distinct chains whose check facts a batch keeps */

/* The signing queue with more than one worker: one thread makes every
 * signature, taking the workers' digests in the order they are handed in.
 * A worker hands its digest in and sleeps until its signature is back;
 * the signing thread goes straight on to the next digest, if one is
 * waiting, without sleeping.  (With the queue as a mutex, the worker
 * that wanted it next slept on it and had to be woken and scheduled after
 * each signature before the token got its next call; on a busy 2-core VM
 * that doubled a batch's time: bench/performance.md.in, "The signing
 * thread".) */
struct sign_req {
	struct sign_req *next;
	struct sisign_signer *signer;
	const unsigned char *digest;
	unsigned char **sig;
	size_t *siglen;
	struct sisign_error *err;
	int r, done;
	pthread_cond_t done_cond;
};

struct sign_thread {
	pthread_t tid;
	pthread_mutex_t lock;
	pthread_cond_t cond;     /* a request came, or quit */
	struct sign_req *head, **tail;
	int quit;
};

struct sisign_batch {
	struct sisign_batch_opts opts;
	struct sisign_parse_opts parse;
	struct sisign_verify_opts verify;
	int has_parse, has_verify;
	struct job *jobs;
	size_t njobs, cap;
	struct intern texts;     /* warning texts and findings, shared by the jobs that have the same */
	struct sisign_check_cache *check_cache; /* opts.check: chains, policy and roots read once per batch */
	uint8_t (*sha)[32];      /* per job, when opts.output_sha256 or on_commit: the output's SHA-256 */

	atomic_int cancel;
	atomic_int stop;         /* the token failed: no further signatures */
	atomic_int stop_claimed; /* the first stop has written stop_err */
	struct sisign_error stop_err; /* that failure: written once, by the first to set stop */
	int stop_token;          /* ... and it was the token's */
	atomic_size_t next;
	int running;
	pthread_mutex_t lock;    /* results bookkeeping and callbacks */
	pthread_mutex_t queue;   /* the signing queue */
	/* token_sessions > 1: free signer slots, under slot_lock */
	pthread_mutex_t slot_lock;
	pthread_cond_t slot_cond;
	int slots_free;
	struct sisign_batch_progress prog;
	struct sign_thread *st;  /* the signing thread, while one runs */
};

const char *sisign_job_status_name(enum sisign_job_status s)
{
	switch (s) {
	case SISIGN_JOB_PENDING: return "not_started";
	case SISIGN_JOB_DONE: return "done";
	case SISIGN_JOB_SKIPPED: return "skipped";
	case SISIGN_JOB_FAILED: return "error";
	case SISIGN_JOB_CHECKED: return "checked";
	}
	return "unknown";
}

int sisign_batch_new(const struct sisign_batch_opts *opts, struct sisign_batch **out, struct sisign_error *err)
{
	struct sisign_batch *b;

	if (out)
		*out = NULL;
	if (!opts || !out)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_batch_new: NULL argument");
	if (opts->op != SISIGN_BATCH_SIGN && opts->op != SISIGN_BATCH_UNSIGN && opts->op != SISIGN_BATCH_VERIFY)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "unknown batch operation %d", (int)opts->op);
	if (opts->op == SISIGN_BATCH_SIGN && (!opts->identity || !opts->signer))
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "signing needs an identity and its signer");
	if (opts->skip_signed && opts->resign)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "skip-signed and resign exclude each other");
	if (opts->token_sessions < 0 || opts->token_sessions > SISIGN_TOKEN_SESSIONS_MAX)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "token_sessions must be 0 to %d, not %d",
			SISIGN_TOKEN_SESSIONS_MAX, opts->token_sessions);
	if (!(b = calloc(1, sizeof *b)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	/* Every package gets the same chain and most carry the same earlier
	 * ones: each distinct chain (up to 64) is decoded once per batch. */
	if (opts->op == SISIGN_BATCH_SIGN && opts->check) {
		int r = sisign_check_cache_new(BATCH_CHECK_CHAINS, &b->check_cache, err);
		if (r != SISIGN_OK) {
			free(b);
			return r;
		}
	}
	b->opts = *opts;
	if (opts->parse) {
		b->parse = *opts->parse;
		b->opts.parse = &b->parse;
	}
	if (opts->verify) {
		b->verify = *opts->verify;
		b->opts.verify = &b->verify;
	}
	atomic_init(&b->cancel, 0);
	atomic_init(&b->stop, 0);
	atomic_init(&b->stop_claimed, 0);
	atomic_init(&b->next, 0);
	intern_init(&b->texts);
	pthread_mutex_init(&b->lock, NULL);
	pthread_mutex_init(&b->queue, NULL);
	pthread_mutex_init(&b->slot_lock, NULL);
	pthread_cond_init(&b->slot_cond, NULL);
	*out = b;
	return SISIGN_OK;
}

void sisign_batch_free(struct sisign_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->njobs; i++) {
		free(b->jobs[i].input);
		free(b->jobs[i].output);
		free(b->jobs[i].dir_pending);
		free(b->jobs[i].err);
	}
	free(b->jobs);
	free(b->sha);
	intern_free(&b->texts);
	sisign_check_cache_free(b->check_cache);
	pthread_mutex_destroy(&b->lock);
	pthread_mutex_destroy(&b->queue);
	pthread_mutex_destroy(&b->slot_lock);
	pthread_cond_destroy(&b->slot_cond);
	free(b);
}

int sisign_batch_add(struct sisign_batch *b, const char *input, const char *output, struct sisign_error *err)
{
	struct job *j;

	if (!b || !input)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_batch_add: NULL argument");
	if (b->running)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "the batch is running");
	if (b->opts.op == SISIGN_BATCH_VERIFY)
		output = NULL;
	if (b->njobs == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 64;
		struct job *nj = realloc(b->jobs, nc * sizeof *nj);
		if (!nj)
			return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		b->jobs = nj;
		b->cap = nc;
	}
	j = &b->jobs[b->njobs];
	memset(j, 0, sizeof *j);
	j->input = strdup(input);
	j->output = output ? strdup(output) : NULL;
	if (!j->input || (output && !j->output)) {
		free(j->input);
		free(j->output);
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	}
	j->verdict = -1;
	j->check_worst = -1;
	j->status = SISIGN_JOB_PENDING;
	b->njobs++;
	return SISIGN_OK;
}

void sisign_batch_stop(struct sisign_batch *b, const struct sisign_error *why)
{
	if (!b || !why)
		return;
	atomic_store(&b->stop, 1);
	if (atomic_exchange(&b->stop_claimed, 1) == 0) {
		b->stop_err = *why;
		if (!b->stop_err.code)
			b->stop_err.code = SISIGN_ERR_INTERNAL;
	}
}

void sisign_batch_cancel(struct sisign_batch *b)
{
	if (b)
		atomic_store(&b->cancel, 1);
}

size_t sisign_batch_count(const struct sisign_batch *b)
{
	return b ? b->njobs : 0;
}

/* Keep a failed job's error: the code in the job, the rest allocated. */
static void job_set_err(struct job *j, const struct sisign_error *e)
{
	size_t ml = strlen(e->message), ol = strlen(e->ossl_reason);
	free(j->err);
	j->err_code = e->code ? e->code : SISIGN_ERR_INTERNAL;
	if ((j->err = malloc(sizeof *j->err + ml + ol + 2)) != NULL) {
		j->err->sys_errno = e->sys_errno;
		j->err->ckr = e->ckr;
		j->err->offset = e->offset;
		memcpy(j->err->text, e->message, ml + 1);
		memcpy(j->err->text + ml + 1, e->ossl_reason, ol + 1);
	}
}

/* Lower-case hex of the output's SHA-256, or "". */
static void job_sha_hex(const struct sisign_batch *b, const struct job *j, char hex[65])
{
	hex[0] = '\0';
	if (j->has_sha && b->sha)
		(void)sisign_hex(b->sha[j - b->jobs], 32, hex, 65);
}

static unsigned hex_digit(char c)
{
	return (unsigned)(c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0');
}

/* Keep the output's SHA-256, given in hex (as pkg_write_checked and
 * sha256_file give it). */
static void job_set_sha(struct sisign_batch *b, struct job *j, const char *hex)
{
	uint8_t *d;
	if (!b->sha || strlen(hex) != 64)
		return;
	d = b->sha[j - b->jobs];
	for (size_t k = 0; k < 32; k++)
		d[k] = (uint8_t)(hex_digit(hex[2 * k]) << 4 | hex_digit(hex[2 * k + 1]));
	j->has_sha = 1;
}

/* The result of job j, built from what the batch keeps of it. */
static void job_result(const struct sisign_batch *b, const struct job *j, struct sisign_batch_result *r)
{
	memset(r, 0, sizeof *r);
	r->input = j->input;
	r->output = j->output ? j->output : (b->opts.op == SISIGN_BATCH_VERIFY ? NULL : j->input);
	r->status = (enum sisign_job_status)j->status;
	sisign_error_clear(&r->err);
	if (j->err_code) {
		r->err.code = j->err_code;
		if (j->err) {
			size_t ml = strlen(j->err->text);
			r->err.sys_errno = j->err->sys_errno;
			r->err.ckr = j->err->ckr;
			r->err.offset = j->err->offset;
			snprintf(r->err.message, sizeof r->err.message, "%s", j->err->text);
			snprintf(r->err.ossl_reason, sizeof r->err.ossl_reason, "%s", j->err->text + ml + 1);
		}
	}
	r->input_size = j->input_size;
	job_sha_hex(b, j, r->output_sha256);
	r->nchains = j->nchains;
	r->verdict = j->verdict;
	r->warnings = j->warnings ? j->warnings : "";
	r->nwarnings = j->nwarnings;
	r->check_worst = j->check_worst;
	r->nfindings = j->nfindings;
	r->findings = j->findings;
}

int sisign_batch_result(const struct sisign_batch *b, size_t i, struct sisign_batch_result *out)
{
	if (!out)
		return SISIGN_ERR_INVALID_ARG;
	if (!b || i >= b->njobs) {
		memset(out, 0, sizeof *out);
		out->verdict = -1;
		out->check_worst = -1;
		out->warnings = "";
		sisign_error_clear(&out->err);
		return SISIGN_ERR_INVALID_ARG;
	}
	job_result(b, &b->jobs[i], out);
	return SISIGN_OK;
}

void sisign_batch_summary(const struct sisign_batch *b, struct sisign_batch_progress *p, size_t *done,
	size_t *skipped, size_t *checked, size_t *pending)
{
	size_t d = 0, s = 0, c = 0, n = 0, f = 0;
	uint64_t bytes = 0, total = 0;
	for (size_t i = 0; b && i < b->njobs; i++) {
		const struct job *r = &b->jobs[i];
		total += r->input_size;
		switch ((enum sisign_job_status)r->status) {
		case SISIGN_JOB_DONE: d++; break;
		case SISIGN_JOB_SKIPPED: s++; break;
		case SISIGN_JOB_CHECKED: c++; break;
		case SISIGN_JOB_FAILED: f++; break;
		case SISIGN_JOB_PENDING: n++; break;
		}
		if (r->status != SISIGN_JOB_PENDING)
			bytes += r->input_size;
	}
	if (p) {
		p->files_total = b ? b->njobs : 0;
		p->files_done = d + s + c + f;
		p->failed = f;
		p->bytes_done = bytes;
		p->bytes_total = total;
	}
	if (done)
		*done = d;
	if (skipped)
		*skipped = s;
	if (checked)
		*checked = c;
	if (pending)
		*pending = n;
}

/* ---- one job ---------------------------------------------------------------- */

/* The job's warnings: the identity's (weak key, no code-signing EKU: they
 * hold for every package it signs) and then the package's, one per line. */
static void job_warnings(struct sisign_batch *b, struct job *j, const struct sisign_pkg *pkg)
{
	const struct sisign_identity *id = b->opts.op == SISIGN_BATCH_SIGN ? b->opts.identity : NULL;
	size_t nid = id ? sisign_identity_nwarnings(id) : 0;
	size_t n = pkg ? sisign_pkg_nwarnings(pkg) : 0, len = 0;
	char *s;
	if (n + nid == 0)
		return;
	for (size_t i = 0; i < nid; i++)
		len += strlen(sisign_identity_warning(id, i)) + 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(sisign_pkg_warning(pkg, i)) + 1;
	if (!(s = malloc(len + 1)))
		return;
	len = 0;
	for (size_t i = 0; i < nid + n; i++) {
		const char *w = i < nid ? sisign_identity_warning(id, i) : sisign_pkg_warning(pkg, i - nid);
		size_t k = strlen(w);
		memcpy(s + len, w, k);
		len += k;
		s[len++] = i + 1 < nid + n ? '\n' : '\0';
	}
	/* Most packages of a batch share their warnings (the identity's):
	 * kept once. */
	j->warnings = intern_str(&b->texts, s);
	j->nwarnings = j->warnings ? (uint32_t)(nid + n) : 0;
	free(s);
}

static int sha256_file(const char *path, char hex[65], struct sisign_error *err)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char md[32];
	unsigned int mdlen = 0;
	uint8_t *buf = NULL;
	size_t bufsize = (size_t)1 << 20;
	int fd = -1, r = SISIGN_ERR_INTERNAL;
	off_t off = 0;

	hex[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_sys(err, errno, "%s", path);
	if (!(buf = malloc(bufsize)) || !(ctx = EVP_MD_CTX_new())) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-256 unavailable");
		goto out;
	}
	for (;;) {
		ssize_t n = pread_full(fd, buf, bufsize, off);
		if (n < 0) {
			r = err_sys(err, errno, "%s", path);
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			r = err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-256 failed");
			goto out;
		}
		off += n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-256 failed");
		goto out;
	}
	(void)sisign_hex(md, 32, hex, 65);
	r = SISIGN_OK;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	close(fd);
	return r;
}

/* The file to write: the job's output, or the input itself in place. */
static const char *job_dest(const struct job *j)
{
	return j->output ? j->output : j->input;
}

struct commit_ctx {
	struct sisign_batch *b;
	struct job *j;
};

/* The output is complete but not yet renamed into place: the front end's
 * on_commit sees it (and its digest) first. */
static int before_rename(void *ud, const char *sha256, struct sisign_error *err)
{
	struct commit_ctx *c = ud;
	struct sisign_batch *b = c->b;
	struct sisign_batch_result res;
	int r;
	job_result(b, c->j, &res);
	snprintf(res.output_sha256, sizeof res.output_sha256, "%s", sha256);
	pthread_mutex_lock(&b->lock);
	r = b->opts.on_commit(b->opts.userdata, (size_t)(c->j - b->jobs), &res, err);
	pthread_mutex_unlock(&b->lock);
	if (r != SISIGN_OK) {
		if (err && !err->code)
			err->code = r;
		sisign_batch_stop(b, err && err->code ? err : &(struct sisign_error){ .code = r, .offset = -1 });
	}
	return r;
}

static int write_out(struct sisign_batch *b, struct job *j, struct sisign_pkg *pkg, int mode,
	struct sisign_error *err)
{
	struct commit_ctx c = { b, j };
	int want = b->opts.output_sha256 || b->opts.on_commit;
	/* In place: over the locked file (a symlink's target), keeping its
	 * mode; else a new file with opts.mode or the input's bits. */
	const char *dest = j->output ? j->output : pkg->lock_path;
	int m = j->output ? (b->opts.mode ? b->opts.mode : mode) : pkg->lock_mode;
	char sha[65] = "";
	int r;
	if (!dest)
		return err_set(err, SISIGN_ERR_INTERNAL, -1, "%s: replaced in place without its lock", j->input);
	free(j->dir_pending);
	if (!(j->dir_pending = strdup(dest)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	/* the worker syncs the directory, for a group of jobs (flush_group) */
	pkg->defer_dir_sync = 1;
	r = pkg_write_checked(pkg, dest, m, want ? sha : NULL, b->opts.on_commit ? before_rename : NULL, &c, err);
	pkg->defer_dir_sync = 0;
	if (r != SISIGN_OK) {
		/* nothing was renamed */
		free(j->dir_pending);
		j->dir_pending = NULL;
	} else if (want) {
		job_set_sha(b, j, sha);
	}
	return r;
}

/* --skip-signed with a separate output that exists: is it what this job
 * would write?  added = 1: the input plus one last chain by this identity
 * that verifies (a finished earlier run); added = 0: the input unchanged
 * (an input this identity had signed already, copied).  Anything else (a
 * leftover from an older input, a chain by another key, a corrupt last
 * signature, a file that does not parse) is not: the job is done again and
 * the output replaced.  On yes the job's result describes that output. */
static int output_done_before(struct sisign_batch *b, struct job *j, const struct sisign_pkg *in, int added)
{
	struct sisign_pkg *out = NULL;
	struct stat st;
	int done = 0;

	if (!j->output || stat(j->output, &st) != 0)
		return 0;
	if (sisign_pkg_open(j->output, b->opts.parse, &out, NULL) != SISIGN_OK)
		return 0;
	if (sign_output_matches(in, out, b->opts.identity, added, NULL) == 1) {
		done = 1;
		j->nchains = (uint32_t)sisign_pkg_controller(out)->nchains;
	}
	sisign_pkg_free(out);
	if (done && (b->opts.output_sha256 || b->opts.on_commit)) {
		char hex[65];
		if (sha256_file(j->output, hex, NULL) == SISIGN_OK)
			job_set_sha(b, j, hex);
	}
	return done;
}

static void *sign_thread_main(void *arg)
{
	struct sisign_batch *b = arg;
	struct sign_thread *st = b->st;
	pthread_mutex_lock(&st->lock);
	for (;;) {
		struct sign_req *q;
		int r;
		while (!st->head && !st->quit)
			pthread_cond_wait(&st->cond, &st->lock);
		if (!(q = st->head))
			break; /* quit, and nothing is waiting */
		if (!(st->head = q->next))
			st->tail = &st->head;
		pthread_mutex_unlock(&st->lock);
		if (atomic_load(&b->stop)) {
			r = SIGN_STOPPED;
		} else {
			r = sisign_signer_sign_sha1(q->signer, q->digest, q->sig, q->siglen, q->err);
			/* A token that is gone or broken stops the batch before
			 * the next request is taken, so no other job's signature
			 * reaches it after this one. */
			if (r != SISIGN_OK &&
			    (r == SISIGN_ERR_TOKEN_FAILED || (q->err && q->err->code == SISIGN_ERR_TOKEN_FAILED)))
				atomic_store(&b->stop, 1);
		}
		pthread_mutex_lock(&st->lock);
		/* Under the lock: the request lives on its worker's stack and
		 * is gone as soon as that worker sees done. */
		q->r = r;
		q->done = 1;
		pthread_cond_signal(&q->done_cond);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

/* sign_gate_fn of the signing thread: hand the digest in, wait for the
 * signature. */
static int sign_thread_gate(void *ud, struct sisign_signer *signer, const unsigned char digest[20],
	unsigned char **sig, size_t *siglen, struct sisign_error *err)
{
	struct sign_thread *st = ud;
	struct sign_req q;
	int r;
	memset(&q, 0, sizeof q);
	q.signer = signer;
	q.digest = digest;
	q.sig = sig;
	q.siglen = siglen;
	q.err = err;
	pthread_cond_init(&q.done_cond, NULL);
	pthread_mutex_lock(&st->lock);
	*st->tail = &q;
	st->tail = &q.next;
	pthread_cond_signal(&st->cond);
	while (!q.done)
		pthread_cond_wait(&q.done_cond, &st->lock);
	r = q.r;
	pthread_mutex_unlock(&st->lock);
	pthread_cond_destroy(&q.done_cond);
	return r;
}

/* Start the signing thread (b->st set) when the batch signs through the
 * one queue with more than one worker; without it (one worker, a failed
 * start) the queue is the mutex, as before. */
static void sign_thread_start(struct sisign_batch *b, size_t nthreads)
{
	struct sign_thread *st;
	b->st = NULL;
	if (b->opts.op != SISIGN_BATCH_SIGN || b->opts.dry_run || nthreads < 2 || b->opts.token_sessions > 1 ||
	    (b->opts.parallel_sign && b->opts.token_sessions == 0))
		return;
	if (!(st = calloc(1, sizeof *st)))
		return;
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->cond, NULL);
	st->tail = &st->head;
	b->st = st;
	if (pthread_create(&st->tid, NULL, sign_thread_main, b) != 0) {
		b->st = NULL;
		pthread_cond_destroy(&st->cond);
		pthread_mutex_destroy(&st->lock);
		free(st);
	}
}

/* After the workers are joined: nothing is waiting any more. */
static void sign_thread_stop(struct sisign_batch *b)
{
	struct sign_thread *st = b->st;
	if (!st)
		return;
	pthread_mutex_lock(&st->lock);
	st->quit = 1;
	pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->lock);
	pthread_join(st->tid, NULL);
	pthread_cond_destroy(&st->cond);
	pthread_mutex_destroy(&st->lock);
	free(st);
	b->st = NULL;
}

/* The signature: through the one queue, or in one of token_sessions
 * slots (the wait for a slot is outside any lock the signer holds), or
 * unbounded (parallel_sign). */
static int sign_job(struct sisign_batch *b, struct sisign_pkg *pkg, struct sisign_error *err)
{
	int r;
	if (b->opts.token_sessions > 1) {
		pthread_mutex_lock(&b->slot_lock);
		while (b->slots_free == 0)
			pthread_cond_wait(&b->slot_cond, &b->slot_lock);
		b->slots_free--;
		pthread_mutex_unlock(&b->slot_lock);
		r = sign_pkg_queued(pkg, b->opts.identity, NULL, &b->stop, err);
		pthread_mutex_lock(&b->slot_lock);
		b->slots_free++;
		pthread_cond_signal(&b->slot_cond);
		pthread_mutex_unlock(&b->slot_lock);
		return r;
	}
	if (b->st)
		return sign_pkg_gated(pkg, b->opts.identity, sign_thread_gate, b->st, err);
	return sign_pkg_queued(pkg, b->opts.identity,
		b->opts.parallel_sign && b->opts.token_sessions == 0 ? NULL : &b->queue, &b->stop, err);
}

/* Keep a check report's findings in the job: their texts and then the
 * array itself interned, so the jobs whose findings are the same (a batch
 * of like packages) share one copy. */
static int job_set_findings(struct sisign_batch *b, struct job *j, const struct sisign_check_report *rep,
	struct sisign_error *err)
{
	struct sisign_finding *v;
	size_t n = rep->nfindings;

	j->check_worst = (int8_t)rep->worst;
	j->findings = NULL;
	j->nfindings = 0;
	if (n == 0)
		return SISIGN_OK;
	/* calloc: the padding is zero too, so equal findings are equal bytes */
	if (!(v = calloc(n, sizeof *v)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct sisign_finding *f = &rep->findings[i];
		v[i].rule = f->rule; /* static, like fix and needs */
		v[i].severity = f->severity;
		v[i].depth = f->depth;
		v[i].uid = f->uid;
		v[i].fix = f->fix;
		v[i].needs = f->needs;
		v[i].file = (char *)intern_str(&b->texts, f->file);
		v[i].message = (char *)intern_str(&b->texts, f->message);
		if ((f->file && !v[i].file) || (f->message && !v[i].message)) {
			free(v);
			return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		}
	}
	j->findings = intern_blob(&b->texts, v, n * sizeof *v);
	free(v);
	if (!j->findings)
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	j->nfindings = (uint32_t)n;
	return SISIGN_OK;
}

/* opts.check: the install rules on the package as signed (as_signed), or
 * for a dry run as it would be signed (this identity's chain added), with
 * sisign_pkg_check_install's defaults, as a one-package `sisign sign`.
 * With check_strict a package the installer would refuse fails the job. */
static int check_job(struct sisign_batch *b, struct job *j, struct sisign_pkg *pkg, int as_signed,
	struct sisign_error *err)
{
	struct sisign_check_opts o;
	struct sisign_check_report *rep = NULL;
	int r;

	memset(&o, 0, sizeof o);
	o.skip_data = 1; /* writing the signed package checks every hash (or the check before signing did) */
	o.cache = b->check_cache;
	if (!as_signed) {
		o.certs = sisign_identity_chain(b->opts.identity, &o.certs_len);
		o.keep_chains = 1;
	}
	if ((r = sisign_pkg_check_install(pkg, &o, &rep, err)) != SISIGN_OK)
		return r;
	if ((r = job_set_findings(b, j, rep, err)) != SISIGN_OK)
		goto out;
	if (b->opts.check_strict && rep->worst >= SISIGN_CHECK_ERROR) {
		const struct sisign_finding *first = NULL;
		size_t nerr = 0;
		for (size_t i = 0; i < rep->nfindings; i++) {
			if (rep->findings[i].severity < SISIGN_CHECK_ERROR)
				continue;
			if (!nerr++)
				first = &rep->findings[i];
		}
		r = err_set(err, SISIGN_ERR_WOULD_NOT_INSTALL, -1, as_signed ?
			"the installer would refuse the signed package (%s%s): nothing written" :
			"the installer would refuse this package once signed (%s%s)",
			first ? first->rule : "?", nerr > 1 ? " and more" : "");
		goto out;
	}
	r = SISIGN_OK;
out:
	sisign_check_report_free(rep);
	return r;
}

static int run_sign(struct sisign_batch *b, struct job *j, struct sisign_pkg *pkg, int mode,
	struct sisign_error *err)
{
	int r, ours = sisign_pkg_last_chain_is(pkg, b->opts.identity);

	/* --resign replaces our last chain, whatever state it is in. */
	if (ours && b->opts.resign && (r = sisign_pkg_unsign(pkg, 0, err)) != SISIGN_OK)
		return r;
	/* Skipping and a dry run decide before anything is written, so they
	 * check the file hashes first (a package the device refuses is never
	 * reported as done or checked, its output never copied), and the
	 * writer then copies SISData without reading it.  Otherwise only the
	 * checks that need no file data come before the signature, and the
	 * writer's one pass over SISData (write_out) copies, inflates and
	 * hashes it on this worker, outside the queue: a hash mismatch fails
	 * the job there, before on_commit, and nothing is written. */
	if ((r = b->opts.skip_signed || b->opts.dry_run ? sign_check_signable(pkg, err) : sign_check_nodata(pkg, err)) !=
		SISIGN_OK)
		return r;
	if (ours && b->opts.skip_signed) {
		/* Already ours, and every chain verifies (checked above). */
		j->status = SISIGN_JOB_SKIPPED;
		j->nchains = (uint32_t)pkg->top.nchains;
		/* A separate output gets the package unchanged, so the output
		 * tree is complete; one that holds exactly that is kept. */
		if (!b->opts.dry_run && j->output && !output_done_before(b, j, pkg, 0)) {
			if ((r = write_out(b, j, pkg, mode, err)) != SISIGN_OK)
				return r;
		}
		return SISIGN_OK;
	}
	if (b->opts.skip_signed && output_done_before(b, j, pkg, 1)) {
		j->status = SISIGN_JOB_SKIPPED;
		return SISIGN_OK;
	}
	if (b->opts.dry_run) {
		j->status = SISIGN_JOB_CHECKED;
		j->nchains = (uint32_t)pkg->top.nchains;
		return b->opts.check ? check_job(b, j, pkg, 0, err) : SISIGN_OK;
	}
	if ((r = sign_job(b, pkg, err)) != SISIGN_OK)
		return r;
	j->nchains = (uint32_t)pkg->top.nchains; /* for on_commit's record too */
	if (b->opts.check && (r = check_job(b, j, pkg, 1, err)) != SISIGN_OK)
		return r;
	if ((r = write_out(b, j, pkg, mode, err)) != SISIGN_OK)
		return r;
	j->status = SISIGN_JOB_DONE;
	return SISIGN_OK;
}

static int run_unsign(struct sisign_batch *b, struct job *j, struct sisign_pkg *pkg, int mode,
	struct sisign_error *err)
{
	int r;
	if ((r = sisign_pkg_unsign(pkg, b->opts.unsign_all, err)) != SISIGN_OK)
		return r;
	if (b->opts.dry_run) {
		j->status = SISIGN_JOB_CHECKED;
	} else {
		j->nchains = (uint32_t)pkg->top.nchains;
		if ((r = write_out(b, j, pkg, mode, err)) != SISIGN_OK)
			return r;
		j->status = SISIGN_JOB_DONE;
	}
	j->nchains = (uint32_t)pkg->top.nchains;
	return SISIGN_OK;
}

static int run_verify(struct sisign_batch *b, struct job *j, struct sisign_pkg *pkg, struct sisign_error *err)
{
	struct sisign_verify_report *rep = NULL;
	int r = sisign_pkg_verify(pkg, b->opts.verify, &rep, err);
	if (r != SISIGN_OK)
		return r;
	j->verdict = (int8_t)rep->verdict;
	j->nchains = (uint32_t)pkg->top.nchains;
	j->status = SISIGN_JOB_DONE;
	sisign_verify_report_free(rep);
	return SISIGN_OK;
}

static void run_job(struct sisign_batch *b, struct job *j)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_error e;
	struct stat st;
	int r, mode = 0644;

	sisign_error_clear(&e);
	if (stat(j->input, &st) == 0)
		mode = (int)(st.st_mode & 0777) & ~b->opts.mode_clear;
	/* A file replaced in place stays locked from before it is read until
	 * its replacement is renamed over it (sisign_pkg_free unlocks). */
	if (!j->output && b->opts.op != SISIGN_BATCH_VERIFY && !b->opts.dry_run)
		r = sisign_pkg_open_exclusive(j->input, b->opts.parse, b->opts.no_wait, &pkg, &e);
	else
		r = sisign_pkg_open(j->input, b->opts.parse, &pkg, &e);
	if (r == SISIGN_OK) {
		switch (b->opts.op) {
		case SISIGN_BATCH_SIGN: r = run_sign(b, j, pkg, mode, &e); break;
		case SISIGN_BATCH_UNSIGN: r = run_unsign(b, j, pkg, mode, &e); break;
		case SISIGN_BATCH_VERIFY: r = run_verify(b, j, pkg, &e); break;
		}
	}
	job_warnings(b, j, pkg);
	sisign_pkg_free(pkg);
	if (r == SISIGN_ERR_TOKEN_FAILED || (r != SISIGN_OK && e.code == SISIGN_ERR_TOKEN_FAILED)) {
		/* The first such failure is the batch's one error; a job whose
		 * signature failed alongside it (parallel signing) counts as not
		 * started, as nothing of it was written either. */
		/* (sign_pkg_queued, or the signing thread, has already set
		 * stop inside the token queue, so no signature went to the
		 * token after this one.) */
		atomic_store(&b->stop, 1);
		if (atomic_exchange(&b->stop_claimed, 1) != 0) {
			r = SIGN_STOPPED;
		} else {
			/* Only the first stop writes stop_err (read after the
			 * workers are joined). */
			b->stop_err = e;
			if (!b->stop_err.code)
				b->stop_err.code = SISIGN_ERR_TOKEN_FAILED;
			b->stop_token = 1;
		}
	}
	if (r == SIGN_STOPPED) {
		j->status = SISIGN_JOB_PENDING;
		return;
	}
	if (r != SISIGN_OK) {
		if (e.code == 0)
			e.code = r;
		job_set_err(j, &e);
		j->status = SISIGN_JOB_FAILED;
		j->has_sha = 0;
		j->nchains = 0;
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Length of path's directory part ("" for a bare name: the current one). */
static size_t dir_part_len(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? (size_t)(slash - path) + 1 : 0;
}

static void report(struct sisign_batch *b, size_t i)
{
	struct job *j = &b->jobs[i];
	struct sisign_batch_result res;
	pthread_mutex_lock(&b->lock);
	b->prog.files_done++;
	b->prog.bytes_done += j->input_size;
	if (j->status == SISIGN_JOB_FAILED)
		b->prog.failed++;
	if (b->opts.on_result) {
		job_result(b, j, &res);
		b->opts.on_result(b->opts.userdata, i, &res);
	}
	if (b->opts.on_progress)
		b->opts.on_progress(b->opts.userdata, &b->prog);
	pthread_mutex_unlock(&b->lock);
}

struct group {
	size_t idx[GROUP_MAX];
	size_t n;
	uint64_t since;          /* when its first job finished */
};

/* Sync each directory the group's jobs renamed an output into, once, then
 * report every job of the group in the order they finished. */
static void flush_group(struct sisign_batch *b, struct group *g)
{
	for (size_t k = 0; k < g->n; k++) {
		struct job *j = &b->jobs[g->idx[k]];
		struct sisign_error e;
		size_t dl;
		int r;
		if (!j->dir_pending)
			continue;
		sisign_error_clear(&e);
		r = fsync_dir_of(AT_FDCWD, j->dir_pending, &e);
		dl = dir_part_len(j->dir_pending);
		for (size_t m = g->n; m-- > k;) {
			struct job *o = &b->jobs[g->idx[m]];
			if (!o->dir_pending || dir_part_len(o->dir_pending) != dl ||
			    memcmp(o->dir_pending, j->dir_pending, dl) != 0)
				continue;
			if (r != SISIGN_OK) {
				/* In place, but not known to be on disk: not done.
				 * (Each job names its own output.) */
				struct sisign_error oe = e;
				if (o != j)
					(void)err_sys(&oe, e.sys_errno ? e.sys_errno : EIO,
						"%s: renamed into place, but syncing its directory failed", o->dir_pending);
				if (!oe.code)
					oe.code = r;
				job_set_err(o, &oe);
				o->status = SISIGN_JOB_FAILED;
				o->has_sha = 0;
				o->nchains = 0;
			}
			free(o->dir_pending);
			o->dir_pending = NULL;
		}
	}
	for (size_t k = 0; k < g->n; k++)
		report(b, g->idx[k]);
	g->n = 0;
}

static void *worker(void *arg)
{
	struct sisign_batch *b = arg;
	struct group g;
	g.n = 0;
	g.since = 0;
	for (;;) {
		size_t i;
		struct job *j;
		if (atomic_load(&b->cancel) || atomic_load(&b->stop))
			break;
		i = atomic_fetch_add(&b->next, 1);
		if (i >= b->njobs)
			break;
		j = &b->jobs[i];
		if (b->opts.on_start) {
			pthread_mutex_lock(&b->lock);
			b->opts.on_start(b->opts.userdata, i);
			pthread_mutex_unlock(&b->lock);
		}
		run_job(b, j);
		if (j->status == SISIGN_JOB_PENDING)
			continue; /* stopped before its signature: reported as not started */
		if (g.n == 0)
			g.since = now_ms();
		g.idx[g.n++] = i;
		if (g.n == GROUP_MAX || now_ms() - g.since >= GROUP_MS)
			flush_group(b, &g);
	}
	flush_group(b, &g);
	return NULL;
}

int sisign_batch_run(struct sisign_batch *b, struct sisign_error *err)
{
	pthread_t *tids = NULL;
	size_t nthreads, started = 0;
	int r = SISIGN_ERR_INTERNAL;

	if (!b)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_batch_run: NULL argument");
	if (b->running)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "the batch is running");
	b->running = 1;
	memset(&b->prog, 0, sizeof b->prog);
	atomic_store(&b->stop, 0);
	atomic_store(&b->stop_claimed, 0);
	sisign_error_clear(&b->stop_err);
	b->stop_token = 0;
	b->prog.files_total = b->njobs;
	for (size_t i = 0; i < b->njobs; i++) {
		struct stat st;
		if (stat(b->jobs[i].input, &st) == 0)
			b->jobs[i].input_size = (uint64_t)st.st_size;
		b->prog.bytes_total += b->jobs[i].input_size;
	}
	/* The outputs' digests: 32 bytes a job, only when they are wanted. */
	if ((b->opts.output_sha256 || b->opts.on_commit) && b->njobs) {
		uint8_t (*sha)[32] = realloc(b->sha, b->njobs * sizeof *sha);
		if (!sha) {
			r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			goto out;
		}
		b->sha = sha;
	}
	if (b->opts.clean_stale_temps && !b->opts.dry_run && b->opts.op != SISIGN_BATCH_VERIFY && b->njobs) {
		const char **outs = malloc(b->njobs * sizeof *outs);
		if (!outs) {
			r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < b->njobs; i++)
			outs[i] = job_dest(&b->jobs[i]);
		(void)batch_clean_stale_temps(outs, b->njobs);
		free(outs);
	}
	if (b->opts.threads > 0) {
		nthreads = (size_t)b->opts.threads;
	} else {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = n > 0 ? (size_t)n : 1;
	}
	/* N signatures in flight need N workers waiting on the token, and
	 * the local work goes on beside them. */
	if (b->opts.op == SISIGN_BATCH_SIGN && b->opts.token_sessions > 1)
		nthreads += (size_t)b->opts.token_sessions - 1;
	b->slots_free = b->opts.token_sessions;
	if (nthreads > b->njobs)
		nthreads = b->njobs ? b->njobs : 1;
	if (!(tids = calloc(nthreads, sizeof *tids))) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	atomic_store(&b->next, 0);
	if (nthreads == 1) {
		/* One worker: the calling thread does the jobs itself (a
		 * single-threaded process is simpler to trace and to inject
		 * faults into). */
		(void)worker(b);
		started = 0;
		goto joined;
	}
	sign_thread_start(b, nthreads);
	for (; started < nthreads; started++) {
		int e = pthread_create(&tids[started], NULL, worker, b);
		if (e != 0) {
			if (started == 0) {
				sign_thread_stop(b);
				r = err_sys(err, e, "cannot start a worker thread");
				goto out;
			}
			break; /* fewer workers is fine */
		}
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	sign_thread_stop(b);
joined:
	r = SISIGN_OK;
	if (atomic_load(&b->stop)) {
		if (err)
			*err = b->stop_err;
		r = b->stop_token ? SISIGN_ERR_TOKEN_FAILED : b->stop_err.code;
	} else if (atomic_load(&b->cancel)) {
		for (size_t i = 0; i < b->njobs; i++)
			if (b->jobs[i].status == SISIGN_JOB_PENDING) {
				r = err_set(err, SISIGN_ERR_CANCELLED, -1, "batch cancelled");
				break;
			}
	}
out:
	free(tids);
	b->running = 0;
	return r;
}
