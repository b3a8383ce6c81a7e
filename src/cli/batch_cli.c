/* SPDX-License-Identifier: Apache-2.0 */
/* Batch front end: see batch_cli.h. */
#include "batch_cli.h"

#include "check_cli.h"
#include "cli.h"
#include "fe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include <sisign/batch.h>
#include <sisign/package.h>

const struct option batch_cli_longopts[] = {
	{ "recursive", no_argument, NULL, 'r' },
	{ "files-from", required_argument, NULL, BO_FILES_FROM },
	{ "out-dir", required_argument, NULL, BO_OUT_DIR },
	{ "suffix", required_argument, NULL, BO_SUFFIX },
	{ "skip-signed", no_argument, NULL, BO_SKIP_SIGNED },
	{ "resign", no_argument, NULL, BO_RESIGN },
	{ "jobs", required_argument, NULL, BO_JOBS },
	{ "token-sessions", required_argument, NULL, BO_TOKEN_SESSIONS },
	{ "parallel-token", no_argument, NULL, BO_PARALLEL_TOKEN },
	{ "json", no_argument, NULL, BO_JSON },
	{ "audit-log", required_argument, NULL, BO_AUDIT_LOG },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "progress", no_argument, NULL, BO_PROGRESS },
	{ "dry-run", no_argument, NULL, BO_DRY_RUN },
	{ "follow-symlinks", no_argument, NULL, BO_FOLLOW_SYMLINKS },
	{ "no-wait", no_argument, NULL, BO_NO_WAIT },
	{ NULL, 0, NULL, 0 },
};

void batch_cli_init(struct batch_cli *bc)
{
	memset(bc, 0, sizeof *bc);
}

int batch_cli_handle(struct batch_cli *bc, const char *cmd, int c, const char *arg)
{
	char *end;
	long n;

	switch (c) {
	case 'r': bc->recursive = 1; break;
	case BO_FILES_FROM: bc->files_from = arg; break;
	case BO_OUT_DIR: bc->out_dir = arg; break;
	case BO_SUFFIX:
		if (!*arg || strchr(arg, '/')) {
			(void)cli_usage_error(cmd, "--suffix must be a non-empty name part without '/'");
			return -1;
		}
		bc->suffix = arg;
		break;
	case BO_SKIP_SIGNED: bc->skip_signed = 1; break;
	case BO_RESIGN: bc->resign = 1; break;
	case 'j':
	case BO_JOBS:
		errno = 0;
		n = strtol(arg, &end, 10);
		if (errno || *end || n < 0 || n > 1024) {
			(void)cli_usage_error(cmd, "-j wants a number of threads from 0 (all cores) to 1024, not '%s'", arg);
			return -1;
		}
		bc->jobs = (int)n;
		break;
	case BO_TOKEN_SESSIONS:
		errno = 0;
		n = strtol(arg, &end, 10);
		if (errno || !*arg || *end || n < 1 || n > SISIGN_TOKEN_SESSIONS_MAX) {
			(void)cli_usage_error(cmd, "--token-sessions wants a number of signatures in flight from 1 to %d, "
				"not '%s'", SISIGN_TOKEN_SESSIONS_MAX, arg);
			return -1;
		}
		bc->token_sessions = (int)n;
		break;
	case BO_PARALLEL_TOKEN: bc->parallel_token = 1; break;
	case BO_JSON: bc->json = 1; break;
	case BO_AUDIT_LOG: bc->audit_log = arg; break;
	case 'q':
	case 'v':
		(void)cli_common_opt(c);
		bc->quiet = cli_quiet;
		return 1; /* also fine for single files */
	case BO_NO_WAIT: bc->no_wait = 1; return 1; /* likewise */
	case BO_FOLLOW_SYMLINKS: bc->follow_symlinks = 1; break;
	case BO_PROGRESS: bc->progress = 1; break;
	case BO_DRY_RUN: bc->dry_run = 1; break;
	default: return 0;
	}
	bc->any = 1;
	return 1;
}

/* Signatures in flight: --token-sessions N; the deprecated
 * --parallel-token means one per worker (-j, default all cores, at most
 * SISIGN_TOKEN_SESSIONS_MAX); neither: 1, one queue. */
static int token_sessions(const struct batch_cli *bc)
{
	long n;
	if (bc->token_sessions)
		return bc->token_sessions;
	if (!bc->parallel_token)
		return 1;
	n = bc->jobs ? bc->jobs : sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > SISIGN_TOKEN_SESSIONS_MAX ? SISIGN_TOKEN_SESSIONS_MAX : (int)n;
}

int batch_cli_wanted(const struct batch_cli *bc, int ninputs, char **inputs)
{
	struct stat st;
	if (bc->any || ninputs != 1)
		return 1;
	return stat(inputs[0], &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- inputs ------------------------------------------------------------------ */

struct item {
	char *in;
	char *rel;  /* path below --out-dir */
	char *out;  /* NULL: in place / verify */
};

struct items {
	struct item *v;
	size_t n, cap;
};

/* Add one input; an exit code (a message printed on failure). */
static int items_push(struct items *it, const char *in, const char *rel, const char *cmd)
{
	if (it->n >= BATCH_INPUTS_MAX)
		return cli_usage_error(cmd, "more than %d inputs: split the batch", BATCH_INPUTS_MAX);
	if (it->n == it->cap) {
		size_t nc = it->cap ? it->cap * 2 : 256;
		struct item *nv = realloc(it->v, nc * sizeof *nv);
		if (!nv)
			goto nomem;
		it->v = nv;
		it->cap = nc;
	}
	it->v[it->n].in = strdup(in);
	it->v[it->n].rel = strdup(rel);
	it->v[it->n].out = NULL;
	if (!it->v[it->n].in || !it->v[it->n].rel) {
		free(it->v[it->n].in);
		free(it->v[it->n].rel);
		goto nomem;
	}
	it->n++;
	return EXIT_OK;
nomem:
	cli_msg("%s: out of memory", cmd);
	return EXIT_ERROR;
}

static void items_free(struct items *it)
{
	for (size_t i = 0; i < it->n; i++) {
		free(it->v[i].in);
		free(it->v[i].rel);
		free(it->v[i].out);
	}
	free(it->v);
}

static int is_sis_name(const char *name)
{
	size_t n = strlen(name);
	return (n > 4 && strcasecmp(name + n - 4, ".sis") == 0) || (n > 5 && strcasecmp(name + n - 5, ".sisx") == 0);
}

/* For a file named directly: a relative path without ".." is mirrored as
 * given; anything else by its base name. */
static const char *rel_of(const char *path)
{
	const char *b = strrchr(path, '/');
	if (path[0] == '/' || strstr(path, "..") != NULL)
		return b ? b + 1 : path;
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	return path;
}

/* The directories from the walk's root down to the one being read: a
 * directory met again below itself (a bind mount, or a followed symlink
 * such as "a -> .") would be a cycle. */
struct walk_dir {
	dev_t dev;
	ino_t ino;
	const struct walk_dir *up;
};

static int walk_seen(const struct walk_dir *w, const struct stat *st)
{
	for (; w; w = w->up)
		if (w->dev == st->st_dev && w->ino == st->st_ino)
			return 1;
	return 0;
}

/* Collect the SIS (.sis, .sisx) regular files under dir.  A symlink to a
 * directory is entered only with --follow-symlinks, and no directory is
 * entered below itself; a symlink to a file is taken as that file. */
static int walk(struct items *it, const struct batch_cli *bc, const char *dir, const char *rel,
	const struct walk_dir *up, const struct stat *skip, const char *cmd)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort), rc = EXIT_OK;
	if (n < 0) {
		cli_msg("%s: %s: %s", cmd, dir, strerror(errno));
		return EXIT_IO;
	}
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *p = NULL, *r = NULL;
		struct stat st, lst;
		if (rc == EXIT_USAGE || rc == EXIT_ERROR)
			goto next; /* over a cap, or out of memory: stop adding */
		if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
			goto next;
		if (asprintf(&p, "%s/%s", dir, name) < 0 || asprintf(&r, "%s%s%s", rel, *rel ? "/" : "", name) < 0) {
			p = r = NULL;
			rc = EXIT_ERROR;
			goto next;
		}
		if (lstat(p, &lst) != 0 || stat(p, &st) != 0)
			goto next;
		if (S_ISDIR(st.st_mode)) {
			struct walk_dir here = { st.st_dev, st.st_ino, up };
			/* Never descend into the output tree. */
			if (skip && st.st_dev == skip->st_dev && st.st_ino == skip->st_ino)
				goto next;
			if (S_ISLNK(lst.st_mode) && !bc->follow_symlinks) {
				cli_msg("%s: %s: a symlink to a directory: not followed (see --follow-symlinks)", cmd, p);
				goto next;
			}
			if (walk_seen(up, &st)) {
				cli_msg("%s: %s: a directory already being walked (a cycle): skipped", cmd, p);
				goto next;
			}
			rc = cli_worst(rc, walk(it, bc, p, r, &here, skip, cmd));
		} else if (S_ISREG(st.st_mode) && is_sis_name(name)) {
			rc = cli_worst(rc, items_push(it, p, r, cmd));
		}
next:
		free(p);
		free(r);
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static int add_input(struct items *it, struct batch_cli *bc, const char *path, const struct stat *skip,
	const char *cmd)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* A directory named here is entered even through a symlink. */
		struct walk_dir root = { st.st_dev, st.st_ino, NULL };
		if (!bc->recursive)
			return cli_usage_error(cmd, "'%s' is a directory (use -r to %s the packages in it)", path, cmd);
		return walk(it, bc, path, "", &root, skip, cmd);
	}
	/* A missing or unreadable file (or one that is not a regular file)
	 * still becomes a job: it gets its own error status, as any bad input
	 * does; it is never read from before it is known to be a regular file. */
	return items_push(it, path, rel_of(path), cmd);
}

/* One line of f into buf[BATCH_LINE_MAX + 1] without its line end: 1, or 0
 * at the end, or an exit code after a message: a line longer than
 * BATCH_LINE_MAX bytes or holding a NUL byte (no path has one) is refused
 * rather than read on without bound. */
static int read_line(FILE *f, char *buf, size_t *len, size_t lineno, const char *name, const char *cmd)
{
	size_t n = 0;
	int c;
	while ((c = getc(f)) != EOF && c != '\n') {
		if (c == '\0')
			return -cli_usage_error(cmd, "%s: line %zu: a NUL byte (one path per line, no NULs)", name,
				lineno);
		if (n == BATCH_LINE_MAX)
			return -cli_usage_error(cmd, "%s: line %zu: longer than %d bytes", name, lineno,
				BATCH_LINE_MAX);
		buf[n++] = (char)c;
	}
	if (c == EOF && ferror(f)) {
		cli_msg("%s: %s: %s", cmd, name, strerror(errno));
		return -EXIT_IO;
	}
	while (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return c == EOF && n == 0 ? 0 : 1;
}

static int read_files_from(struct items *it, struct batch_cli *bc, const struct stat *skip, const char *cmd)
{
	FILE *f = strcmp(bc->files_from, "-") == 0 ? stdin : fopen(bc->files_from, "r");
	char *line = malloc(BATCH_LINE_MAX + 1);
	size_t n = 0, lineno = 0;
	int rc = EXIT_OK, got = 0;
	if (!f || !line) {
		cli_msg("%s: %s: %s", cmd, bc->files_from, strerror(errno));
		free(line);
		if (f && f != stdin)
			fclose(f);
		return f ? EXIT_ERROR : EXIT_IO;
	}
	while (rc == EXIT_OK && (got = read_line(f, line, &n, lineno + 1, bc->files_from, cmd)) > 0) {
		if (++lineno > BATCH_INPUTS_MAX) {
			rc = cli_usage_error(cmd, "%s: more than %d lines: split the list", bc->files_from,
				BATCH_INPUTS_MAX);
			break;
		}
		if (n > 0)
			rc = cli_worst(rc, add_input(it, bc, line, skip, cmd));
	}
	if (rc == EXIT_OK && got < 0)
		rc = -got;
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

static int mkdir_p(const char *path)
{
	char *p = strdup(path);
	int rc = 0;
	if (!p)
		return -1;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

static int cmp_out(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	return strcmp(x->out ? x->out : x->in, y->out ? y->out : y->in);
}

struct file_id {
	dev_t dev;
	ino_t ino;
	size_t i;
};

static int cmp_file_id(const void *a, const void *b)
{
	const struct file_id *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

/* In place, two inputs that are one file (a symlink and its target, two
 * hard links, a file reached twice) would each add a chain to it: refused. */
static int check_same_inputs(const struct items *it, const char *cmd)
{
	struct file_id *v = malloc(it->n * sizeof *v + 1);
	size_t n = 0;
	int rc = EXIT_OK;
	if (!v)
		return EXIT_ERROR;
	for (size_t i = 0; i < it->n; i++) {
		struct stat st;
		if (stat(it->v[i].in, &st) == 0 && S_ISREG(st.st_mode)) {
			v[n].dev = st.st_dev;
			v[n].ino = st.st_ino;
			v[n++].i = i;
		}
	}
	qsort(v, n, sizeof *v, cmp_file_id);
	for (size_t k = 1; k < n && rc == EXIT_OK; k++)
		if (cmp_file_id(&v[k - 1], &v[k]) == 0)
			rc = cli_usage_error(cmd, "'%s' and '%s' are the same file: in place it would be changed twice",
				it->v[v[k - 1].i].in, it->v[v[k].i].in);
	free(v);
	return rc;
}

/* An output that is its own input file (--out-dir ., or -r --out-dir T T;
 * also through links): that is --in-place, which must be asked for. */
static int check_not_input(const struct item *x, const char *cmd)
{
	struct stat in, out;
	if (!x->out || stat(x->in, &in) != 0 || stat(x->out, &out) != 0)
		return EXIT_OK;
	if (in.st_dev != out.st_dev || in.st_ino != out.st_ino)
		return EXIT_OK;
	return cli_usage_error(cmd, "output '%s' is the input file '%s'; use --in-place to replace inputs", x->out,
		x->in);
}

/* Map every input to its output (-o: the one input's).  Refuses an output
 * that is its own input and, in place, one file named twice.  Creates
 * nothing: create_out_dirs does, once the key or token is open. */
static int map_outputs(struct items *it, struct batch_cli *bc, const char *cmd)
{
	int rc;
	if (bc->in_place && (rc = check_same_inputs(it, cmd)) != EXIT_OK)
		return rc;
	for (size_t i = 0; i < it->n; i++) {
		struct item *x = &it->v[i];
		if (bc->output) {
			if (!(x->out = strdup(bc->output)))
				return EXIT_ERROR;
		} else if (bc->out_dir) {
			if (asprintf(&x->out, "%s/%s", bc->out_dir, x->rel) < 0)
				return EXIT_ERROR;
		} else if (bc->suffix) {
			const char *base = strrchr(x->in, '/');
			const char *dot = strrchr(base ? base + 1 : x->in, '.');
			size_t stem = dot ? (size_t)(dot - x->in) : strlen(x->in);
			if (asprintf(&x->out, "%.*s%s%s", (int)stem, x->in, bc->suffix, dot ? dot : "") < 0)
				return EXIT_ERROR;
		}
		if ((rc = check_not_input(x, cmd)) != EXIT_OK)
			return rc;
	}
	/* Two inputs must not write one output. */
	{
		struct item *sorted = malloc(it->n * sizeof *sorted + 1);
		rc = EXIT_OK;
		if (!sorted)
			return EXIT_ERROR;
		memcpy(sorted, it->v, it->n * sizeof *sorted);
		qsort(sorted, it->n, sizeof *sorted, cmp_out);
		for (size_t i = 1; i < it->n && rc == EXIT_OK; i++)
			if (cmp_out(&sorted[i - 1], &sorted[i]) == 0)
				rc = cli_usage_error(cmd, "'%s' and '%s' would both write '%s'", sorted[i - 1].in,
					sorted[i].in, sorted[i].out ? sorted[i].out : sorted[i].in);
		free(sorted);
		return rc;
	}
}

/* Create --out-dir and the directories below it that the outputs need.
 * Only after the command line, the inputs and the key or token login have
 * passed, so a usage error or a wrong PIN leaves no new directory. */
static int create_out_dirs(const struct items *it, const struct batch_cli *bc, const char *cmd)
{
	if (!bc->out_dir || bc->dry_run)
		return EXIT_OK;
	if (mkdir_p(bc->out_dir) != 0) {
		cli_msg("%s: %s: cannot create directory: %s", cmd, bc->out_dir, strerror(errno));
		return EXIT_IO;
	}
	for (size_t i = 0; i < it->n; i++) {
		char *slash, *dir = it->v[i].out ? strdup(it->v[i].out) : NULL;
		int bad;
		if (!dir || !(slash = strrchr(dir, '/'))) {
			free(dir);
			continue;
		}
		*slash = '\0';
		bad = mkdir_p(dir) != 0;
		if (bad)
			cli_msg("%s: %s: cannot create directory: %s", cmd, dir, strerror(errno));
		free(dir);
		if (bad)
			return EXIT_IO;
	}
	cli_note("%s: output directory %s ready", cmd, bc->out_dir);
	return EXIT_OK;
}

/* ---- signals ----------------------------------------------------------------- */

static struct sisign_batch *volatile g_batch;
static volatile sig_atomic_t g_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	g_interrupted = 1;
	if (g_batch)
		sisign_batch_cancel(g_batch); /* async-signal-safe */
}

static void install_signals(struct sigaction *old_int, struct sigaction *old_term)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	/* The handler only raises flags; with -j1 (or one job) the jobs run
	 * on this thread, and a token module's I/O must not see EINTR. */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, old_int);
	sigaction(SIGTERM, &sa, old_term);
}

/* ---- reports ----------------------------------------------------------------- */

struct run_ctx {
	struct batch_cli *bc;
	const char *cmd;
	enum sisign_batch_op op;
	const char *fingerprint;   /* signer certificate SHA-256, or NULL */
	char token_serial[64];
	char key_id[130];
	char user[64], host[256];
	int audit_fd;
	struct progress prog;
	int audit_failed;
	int audit_errno;           /* why the first failed audit write failed; -1: the log read short */
	struct sisign_batch *b;    /* while it runs: stopped when the audit log fails */
	int stop_exit;             /* the exit status of "not_started" records */
	int fail_exit;             /* if not 0: the exit status of "error" records */
	struct sisign_error stop_err; /* and their error: why the batch stopped */
};

static const char *verdict_name(int v)
{
	return v < 0 ? NULL : sisign_verdict_name((enum sisign_verdict)v);
}

/* The token serial and the key id (hex) from the signer's URI, read by
 * p11-kit's URI parser as the library reads it (serial= and id= with their
 * percent-encoding); both "" when the signer is a key file. */
static void token_ids(const char *uri, char *serial, size_t sn, char *id, size_t idn)
{
	P11KitUri *u = p11_kit_uri_new();
	CK_TOKEN_INFO *ti;
	CK_ATTRIBUTE *a;

	serial[0] = id[0] = '\0';
	if (!u || strncmp(uri, "pkcs11:", 7) != 0 || p11_kit_uri_parse(uri, P11_KIT_URI_FOR_ANY, u) != P11_KIT_URI_OK)
		goto out;
	/* A blank-padded field; all NULs when the URI has no serial=. */
	ti = p11_kit_uri_get_token_info(u);
	if (ti && ti->serialNumber[0]) {
		size_t n = sizeof ti->serialNumber;
		while (n > 0 && (ti->serialNumber[n - 1] == ' ' || ti->serialNumber[n - 1] == '\0'))
			n--;
		snprintf(serial, sn, "%.*s", (int)n, (const char *)ti->serialNumber);
	}
	if ((a = p11_kit_uri_get_attribute(u, CKA_ID)) != NULL && a->pValue)
		(void)sisign_hex(a->pValue, a->ulValueLen, id, idn);
out:
	p11_kit_uri_free(u);
}

static int verdict_exit(int v)
{
	switch (v) {
	case SISIGN_VERDICT_TRUSTED: return EXIT_OK;
	case SISIGN_VERDICT_SELF_SIGNED: return EXIT_SELF_SIGNED;
	case SISIGN_VERDICT_UNTRUSTED: return EXIT_UNTRUSTED;
	case SISIGN_VERDICT_UNSIGNED: return EXIT_UNSIGNED;
	default: return EXIT_INVALID;
	}
}

/* The exit status a job's record carries (docs/json.md): the same one the
 * run's exit status is tallied from. */
static int record_exit(const struct run_ctx *rc, const struct sisign_batch_result *r)
{
	switch (r->status) {
	case SISIGN_JOB_FAILED: return rc->fail_exit ? rc->fail_exit : cli_exit_for_error(r->err.code);
	case SISIGN_JOB_PENDING: return rc->stop_exit;
	case SISIGN_JOB_CHECKED: return EXIT_DRY_RUN;
	default: return r->verdict >= 0 ? verdict_exit(r->verdict) : EXIT_OK;
	}
}

/* One JSON line for a job's result (docs/json.md); status: NULL for the
 * job's own, or "writing" for the audit log's intent record (written
 * before the output is renamed into place; its exit is null). */
static char *record_json(struct run_ctx *rc, const struct sisign_batch_result *r, const char *status)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct fe_json j;
	const struct sisign_error *err = NULL;
	int ex = -1;
	if (!f)
		return NULL;
	if (!status) {
		ex = record_exit(rc, r);
		if (r->status == SISIGN_JOB_FAILED)
			err = &r->err;
		else if (r->status == SISIGN_JOB_PENDING)
			err = &rc->stop_err;
	}
	cli_json_begin(&j, f, rc->op == SISIGN_BATCH_SIGN ? "sign" : rc->op == SISIGN_BATCH_UNSIGN ? "unsign" : "verify",
		r->input, status ? status : sisign_job_status_name(r->status), ex, err);
	if (rc->op == SISIGN_BATCH_VERIFY) {
		fe_json_kv_string(&j, "verdict", r->status == SISIGN_JOB_DONE ? verdict_name(r->verdict) : NULL);
	} else {
		fe_json_kv_string(&j, "output", status || r->status == SISIGN_JOB_DONE ||
			r->status == SISIGN_JOB_SKIPPED ? r->output : NULL);
		fe_json_kv_string(&j, "output_sha256", r->output_sha256[0] ? r->output_sha256 : NULL);
		fe_json_kv_string(&j, "signer_fingerprint", rc->fingerprint);
		fe_json_kv_string(&j, "token_serial", rc->token_serial[0] ? rc->token_serial : NULL);
		fe_json_kv_string(&j, "key_id", rc->key_id[0] ? rc->key_id : NULL);
	}
	fe_json_key(&j, "chains");
	if (r->status == SISIGN_JOB_FAILED || r->status == SISIGN_JOB_PENDING)
		fe_json_null(&j);
	else
		fe_json_uint64(&j, r->nchains);
	fe_json_key(&j, "warnings");
	fe_json_begin_array(&j);
	for (const char *w = r->warnings; w && *w;) {
		size_t n = strcspn(w, "\n");
		fe_json_string_n(&j, w, n);
		w += n + (w[n] == '\n');
	}
	fe_json_end_array(&j);
	if (rc->op == SISIGN_BATCH_SIGN) {
		/* The install rules on the package as signed (docs/check.md). */
		fe_json_key(&j, "install_check");
		if (r->check_worst < 0) {
			fe_json_null(&j);
		} else {
			fe_json_begin_object(&j);
			fe_json_kv_string(&j, "verdict", check_cli_json_verdict(r->check_worst));
			check_cli_json_finding_list(&j, r->findings, r->nfindings);
			fe_json_end_object(&j);
		}
	}
	if (rc->bc->audit_log) {
		fe_json_kv_string(&j, "user", rc->user);
		fe_json_kv_string(&j, "host", rc->host);
	}
	if (cli_json_end(&j) != 0 || fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static const char *audit_why(const struct run_ctx *rc)
{
	return rc->audit_errno > 0 ? strerror(rc->audit_errno) : "the log shrank while being read";
}

/* Append one record to the audit log: one write(2) on the O_APPEND
 * descriptor, then fsync.  A last line left torn by a crash or a full disk
 * (no final '\n') is ended first, in that same write, so a record never
 * continues a broken one.  flock keeps two sisign runs appending to one log
 * from interleaving that check with their writes.  0, or -1 (the failure
 * is remembered: rc->audit_failed, rc->audit_errno). */
static int audit_append(struct run_ctx *rc, const char *line)
{
	size_t n = strlen(line);
	char *buf = malloc(n + 2);
	struct stat st;
	char last = '\n';
	ssize_t w;
	int e = 0;

	if (rc->audit_failed) {
		free(buf);
		return -1;
	}
	if (!buf) {
		e = ENOMEM;
		goto fail;
	}
	(void)flock(rc->audit_fd, LOCK_EX);
	if (fstat(rc->audit_fd, &st) != 0) {
		e = errno;
		goto unlock;
	}
	if (st.st_size > 0 && (w = pread(rc->audit_fd, &last, 1, st.st_size - 1)) != 1) {
		e = w < 0 ? errno : -1;
		goto unlock;
	}
	buf[0] = '\n';
	memcpy(buf + 1, line, n + 1);
	{
		const char *p = last == '\n' ? buf + 1 : buf;
		size_t len = last == '\n' ? n : n + 1;
		do
			w = write(rc->audit_fd, p, len);
		while (w < 0 && errno == EINTR);
		if (w != (ssize_t)len) {
			/* A short write is the disk filling up mid-record. */
			e = w < 0 ? errno : ENOSPC;
			goto unlock;
		}
	}
	if (fsync(rc->audit_fd) != 0) {
		e = errno;
		goto unlock;
	}
	(void)flock(rc->audit_fd, LOCK_UN);
	free(buf);
	return 0;
unlock:
	(void)flock(rc->audit_fd, LOCK_UN);
fail:
	free(buf);
	rc->audit_failed = 1;
	rc->audit_errno = e;
	return -1;
}

/* The audit log failed: no further signature (the batch stops as at a
 * token failure) and no further output. */
static void audit_stop(struct run_ctx *rc)
{
	struct sisign_error e;
	sisign_error_clear(&e);
	e.code = SISIGN_ERR_SYSTEM;
	e.sys_errno = rc->audit_errno > 0 ? rc->audit_errno : 0;
	snprintf(e.message, sizeof e.message, "%s: writing the audit log failed: %s", rc->bc->audit_log,
		audit_why(rc));
	if (rc->b)
		sisign_batch_stop(rc->b, &e);
}

/* Before an output is renamed into place: its intent record ("writing",
 * with the SHA-256 of the bytes about to appear), so even a SIGKILL right
 * after the rename leaves no output without a record.  A failure discards
 * the output and stops the batch. */
static int on_commit(void *ud, size_t index, const struct sisign_batch_result *r, struct sisign_error *err)
{
	struct run_ctx *rc = ud;
	char *line;
	int bad;
	(void)index;
	if (rc->audit_fd < 0)
		return SISIGN_OK;
	line = record_json(rc, r, "writing");
	bad = !line || audit_append(rc, line) != 0;
	free(line);
	if (!bad)
		return SISIGN_OK;
	if (!rc->audit_failed) {
		rc->audit_failed = 1;
		rc->audit_errno = ENOMEM;
	}
	sisign_error_clear(err);
	err->code = SISIGN_ERR_SYSTEM;
	err->sys_errno = rc->audit_errno > 0 ? rc->audit_errno : 0;
	snprintf(err->message, sizeof err->message, "%s: not written: the audit log %s cannot be written (%s)",
		r->output, rc->bc->audit_log, audit_why(rc));
	return SISIGN_ERR_SYSTEM;
}

/* Without --json: verify prints one verdict line per input on stdout
 * ("FILE: trusted", or "FILE: error" for one that got no verdict, its
 * reason on stderr), as a single `sisign verify FILE` starts; sign and
 * unsign say what became of each input under -v. */
static void text_result(struct run_ctx *rc, const struct sisign_batch_result *r)
{
	static const char *const status[] = { "not started", "done", "skipped", "error", "checked" };
	const char *st = (unsigned)r->status < sizeof status / sizeof status[0] ? status[r->status] : "?";

	if (rc->op == SISIGN_BATCH_VERIFY) {
		progress_clear(&rc->prog);
		fe_fputs_safe(r->input, stdout);
		printf(": %s\n", r->status == SISIGN_JOB_FAILED ? "error" : verdict_name(r->verdict) ? verdict_name(r->verdict) : st);
		fflush(stdout);
		return;
	}
	if (!cli_verbose || r->status == SISIGN_JOB_FAILED)
		return;
	progress_clear(&rc->prog);
	fprintf(stderr, "%s: %s: ", cli_progname, rc->cmd);
	fe_fputs_safe(r->input, stderr);
	if (r->output) {
		fputs(" -> ", stderr);
		fe_fputs_safe(r->output, stderr);
	}
	fprintf(stderr, ": %s (%zu chain(s))\n", st, r->nchains);
}

static void on_result(void *ud, size_t index, const struct sisign_batch_result *r)
{
	struct run_ctx *rc = ud;
	(void)index;
	if (r->check_worst >= 0 && !rc->bc->json) {
		/* as a one-package sign prints them */
		progress_clear(&rc->prog);
		check_cli_sign_findings(r->input, r->findings, r->nfindings, r->check_worst, rc->bc->strict);
	}
	if (r->status == SISIGN_JOB_FAILED && !rc->bc->json) {
		progress_clear(&rc->prog);
		fe_print_error(stderr, cli_progname, r->input, &r->err);
	}
	if (!rc->bc->json)
		text_result(rc, r);
	if (rc->bc->json || rc->audit_fd >= 0) {
		char *line = record_json(rc, r, NULL);
		if (rc->bc->json && line) {
			progress_clear(&rc->prog);
			fputs(line, stdout);
			fflush(stdout);
		}
		/* Durable before the next file is reported; if it cannot be
		 * written, nothing more is signed. */
		if (rc->audit_fd >= 0 && !rc->audit_failed && (!line || audit_append(rc, line) != 0)) {
			if (!rc->audit_failed) {
				rc->audit_failed = 1;
				rc->audit_errno = ENOMEM;
			}
			audit_stop(rc);
		}
		free(line);
	}
}

/* A token login attempt (or a login refused before it), recorded in the
 * audit log as it happens: a failed login stops sisign before any batch. */
static void on_login(void *ud, const struct sisign_login_event *ev)
{
	struct run_ctx *rc = ud;
	char *buf = NULL, when[32];
	size_t len = 0;
	FILE *f;
	struct fe_json j;

	if (rc->audit_fd < 0 || rc->audit_failed)
		return;
	if (!(f = open_memstream(&buf, &len))) {
		rc->audit_failed = 1;
		rc->audit_errno = ENOMEM;
		return;
	}
	(void)fe_time_format(time(NULL), when, sizeof when);
	fe_json_init(&j, f);
	fe_json_begin_object(&j);
	fe_json_kv_int(&j, "schema", CLI_JSON_SCHEMA);
	fe_json_kv_string(&j, "command", "sign");
	fe_json_kv_string(&j, "event", "login");
	fe_json_kv_string(&j, "status", ev->result == SISIGN_OK ? "done" : "error");
	if (ev->result != SISIGN_OK) {
		struct sisign_error e;
		sisign_error_clear(&e);
		if (ev->err)
			e = *ev->err;
		if (!e.code)
			e.code = ev->result;
		fe_json_kv_int(&j, "exit", cli_exit_for_error(e.code));
		fe_json_key(&j, "error");
		cli_json_error_value(&j, cli_exit_for_error(e.code), &e);
	} else {
		fe_json_kv_int(&j, "exit", EXIT_OK);
		fe_json_key(&j, "error");
		fe_json_null(&j);
	}
	fe_json_kv_string(&j, "time", when);
	fe_json_kv_string(&j, "token_label", ev->token_label);
	fe_json_kv_string(&j, "token_serial", ev->token_serial);
	fe_json_kv_bool(&j, "pin_pad", ev->pin_pad);
	fe_json_kv_bool(&j, "login_called", ev->called);
	fe_json_kv_string(&j, "user", rc->user);
	fe_json_kv_string(&j, "host", rc->host);
	if (cli_json_end(&j) != 0 || fclose(f) != 0) {
		free(buf);
		rc->audit_failed = 1;
		rc->audit_errno = ENOMEM;
		return;
	}
	(void)audit_append(rc, buf);
	free(buf);
}

static void on_progress(void *ud, const struct sisign_batch_progress *p)
{
	struct run_ctx *rc = ud;
	progress_update(&rc->prog, p);
}

/* The key or token could not be loaded (ec, after the message): under
 * --json every input still gets its line, an error with ec and why. */
static void report_key_failed(struct run_ctx *rc, const struct items *it, int ec, const struct sisign_error *why)
{
	struct sisign_batch_result r;
	char *line;

	if (!rc->bc->json)
		return;
	memset(&r, 0, sizeof r);
	r.status = SISIGN_JOB_FAILED;
	r.verdict = -1;
	r.check_worst = -1;
	r.err = *why;
	if (!r.err.code) {
		sisign_error_clear(&r.err);
		r.err.code = SISIGN_ERR_INTERNAL;
		snprintf(r.err.message, sizeof r.err.message,
			"not signed: the key, the token or the audit log could not be used (see stderr)");
	}
	rc->fail_exit = ec;
	for (size_t i = 0; i < it->n; i++) {
		r.input = it->v[i].in;
		if ((line = record_json(rc, &r, NULL)) != NULL)
			fputs(line, stdout);
		free(line);
	}
	rc->fail_exit = 0;
	fflush(stdout);
}

/* After a token failure (or a failed audit log) stopped the batch: a JSON
 * (and audit) record for every job that never reached its signature,
 * status "not_started". */
static void report_not_started(struct run_ctx *rc, const struct sisign_batch *b)
{
	if (!rc->bc->json && rc->audit_fd < 0)
		return;
	for (size_t i = 0; i < sisign_batch_count(b); i++) {
		struct sisign_batch_result res;
		char *line;
		if (sisign_batch_result(b, i, &res) != SISIGN_OK || res.status != SISIGN_JOB_PENDING ||
		    !(line = record_json(rc, &res, NULL)))
			continue;
		if (rc->bc->json)
			fputs(line, stdout);
		if (rc->audit_fd >= 0)
			(void)audit_append(rc, line);
		free(line);
	}
	fflush(stdout);
}

int batch_cli_run(struct batch_cli *bc, const char *cmd, enum sisign_batch_op op, struct keyopts *ko,
	const struct sisign_verify_opts *vo, int ninputs, char **inputs)
{
	struct items it = { NULL, 0, 0 };
	struct stat outst, *skip = NULL;
	struct sisign_signer *signer = NULL;
	struct sisign_identity *id = NULL;
	struct sisign_batch *b = NULL;
	struct sisign_batch_opts o;
	struct sisign_error err;
	struct sigaction old_int, old_term;
	struct run_ctx rc;
	size_t done = 0, skipped = 0, checked = 0, pending = 0, failed = 0;
	struct cli_tally tally;
	int ec = EXIT_OK, r, signals = 0;
	double t0;

	memset(&rc, 0, sizeof rc);
	rc.bc = bc;
	rc.cmd = cmd;
	rc.op = op;
	rc.audit_fd = -1;

	/* Usage. */
	if (op != SISIGN_BATCH_VERIFY) {
		int nout = !!bc->output + !!bc->out_dir + !!bc->suffix + !!bc->in_place;
		if (nout != 1 && !(bc->dry_run && nout == 0))
			return cli_usage_error(cmd, nout ? "give only one of -o OUT, --out-dir DIR, --suffix SUF and --in-place"
							 : "give one of --out-dir DIR, --suffix SUF or --in-place for several inputs");
	} else if (bc->out_dir || bc->suffix || bc->in_place) {
		return cli_usage_error(cmd, "verify writes nothing: --out-dir, --suffix and --in-place do not apply");
	}
	if ((bc->skip_signed || bc->resign) && op != SISIGN_BATCH_SIGN)
		return cli_usage_error(cmd, "--skip-signed and --resign are for sign");
	if (bc->skip_signed && bc->resign)
		return cli_usage_error(cmd, "give --skip-signed or --resign, not both");
	if (ninputs == 0 && !bc->files_from)
		return cli_usage_error(cmd, "no input file");
	if (bc->output) {
		struct stat st;
		if (ninputs != 1 || bc->files_from || (stat(inputs[0], &st) == 0 && S_ISDIR(st.st_mode)))
			return cli_usage_error(cmd, "-o names one output; use --out-dir, --suffix or --in-place for several inputs");
	}
	for (int i = 0; i < ninputs; i++)
		if (strcmp(inputs[i], "-") == 0 || (bc->output && strcmp(bc->output, "-") == 0 && !bc->dry_run))
			return cli_usage_error(cmd, "'-' (standard input or output) is for one package without --json, "
						    "--audit-log, --progress or other batch options");

	/* Inputs and outputs.  An existing --out-dir is never walked as
	 * input; a new one is created only once the key is open
	 * (create_out_dirs). */
	if (bc->out_dir && stat(bc->out_dir, &outst) == 0)
		skip = &outst;
	for (int i = 0; i < ninputs && ec == EXIT_OK; i++)
		ec = add_input(&it, bc, inputs[i], skip, cmd);
	if (ec == EXIT_OK && bc->files_from)
		ec = read_files_from(&it, bc, skip, cmd);
	if (ec == EXIT_OK && it.n == 0) {
		cli_msg("%s: no SIS packages found", cmd);
		ec = EXIT_USAGE;
	}
	if (ec == EXIT_OK && !bc->dry_run && op != SISIGN_BATCH_VERIFY)
		ec = map_outputs(&it, bc, cmd);
	if (ec != EXIT_OK)
		goto out;

	/* The audit log first: it records the token login too. */
	if (bc->audit_log) {
		rc.audit_fd = open(bc->audit_log, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (rc.audit_fd < 0) {
			cli_msg("%s: %s: %s", cmd, bc->audit_log, strerror(errno));
			ec = EXIT_IO;
			goto out;
		}
		if (getlogin_r(rc.user, sizeof rc.user) != 0) {
			const char *u = getenv("USER");
			snprintf(rc.user, sizeof rc.user, "%s", u ? u : "");
			if (!rc.user[0])
				snprintf(rc.user, sizeof rc.user, "uid %u", (unsigned)getuid());
		}
		if (gethostname(rc.host, sizeof rc.host) != 0)
			rc.host[0] = '\0';
		rc.host[sizeof rc.host - 1] = '\0';
		if (ko) {
			/* Cleared again at out: ko outlives this call, rc does not. */
			ko->on_login = on_login;
			// cppcheck-suppress autoVariables
			ko->on_login_data = &rc;
		}
	}

	/* One signer — one login — for the whole batch. */
	if (op == SISIGN_BATCH_SIGN) {
		ko->parallel_sessions = token_sessions(bc) > 1 ? token_sessions(bc) : 0;
		ec = keyopts_load_signer(ko, &signer);
		if (rc.audit_failed) {
			cli_msg("%s: %s: writing the audit log failed (%s): nothing signed", cmd, bc->audit_log,
				audit_why(&rc));
			ec = EXIT_IO;
		}
		if (ec != EXIT_OK) {
			report_key_failed(&rc, &it, ec, &ko->failed);
			goto out;
		}
		if ((ec = keyopts_load_identity(ko, signer, &id)) != EXIT_OK) {
			report_key_failed(&rc, &it, ec, &ko->failed);
			goto out;
		}
		rc.fingerprint = sisign_identity_fingerprint(id);
		token_ids(sisign_signer_describe(signer), rc.token_serial, sizeof rc.token_serial, rc.key_id,
			sizeof rc.key_id);
		if (bc->dry_run) {
			sisign_error_clear(&err);
			if ((r = sisign_batch_preflight(signer, id, &err)) != SISIGN_OK) {
				if (!err.code)
					err.code = r;
				ec = cli_report(sisign_signer_describe(signer), &err);
				goto out;
			}
		}
	}
	if ((ec = create_out_dirs(&it, bc, cmd)) != EXIT_OK)
		goto out;
	memset(&o, 0, sizeof o);
	o.op = op;
	o.identity = id;
	o.signer = signer;
	o.skip_signed = bc->skip_signed;
	o.resign = bc->resign;
	o.unsign_all = bc->unsign_all;
	/* sign: the install rules on every package, as for one (docs/check.md) */
	o.check = op == SISIGN_BATCH_SIGN;
	o.check_strict = bc->strict;
	o.dry_run = bc->dry_run;
	o.no_wait = bc->no_wait;
	/* In place a file keeps its own bits (the library takes & 0777).
	 * --out-dir: a new tree, 0644 less the umask; --suffix: a copy beside
	 * the input, its bits less the umask (as -o). */
	o.mode_clear = cli_umask();
	o.mode = bc->out_dir ? 0644 & ~o.mode_clear : 0;
	o.threads = bc->jobs;
	o.token_sessions = op == SISIGN_BATCH_SIGN ? token_sessions(bc) : 0;
	o.output_sha256 = bc->json || bc->audit_log;
	o.clean_stale_temps = 1;
	o.verify = vo;
	o.on_result = on_result;
	o.on_progress = on_progress;
	o.on_commit = rc.audit_fd >= 0 ? on_commit : NULL;
	o.userdata = &rc;
	sisign_error_clear(&err);
	if ((r = sisign_batch_new(&o, &b, &err)) != SISIGN_OK) {
		ec = cli_report(NULL, &err);
		goto out;
	}
	for (size_t i = 0; i < it.n; i++) {
		if ((r = sisign_batch_add(b, it.v[i].in, bc->in_place ? NULL : it.v[i].out, &err)) != SISIGN_OK) {
			ec = cli_report(it.v[i].in, &err);
			goto out;
		}
	}
	progress_init(&rc.prog, !bc->quiet && (bc->progress || isatty(2)));
	g_interrupted = 0;
	g_batch = b;
	rc.b = b;
	install_signals(&old_int, &old_term);
	signals = 1;
	t0 = progress_now();
	r = sisign_batch_run(b, &err);
	g_batch = NULL;
	rc.b = NULL;
	progress_clear(&rc.prog);
	if (r != SISIGN_OK && r != SISIGN_ERR_CANCELLED && r != SISIGN_ERR_TOKEN_FAILED && !rc.audit_failed) {
		ec = cli_report(NULL, &err);
		goto out;
	}
	if (r == SISIGN_ERR_TOKEN_FAILED || (r != SISIGN_OK && r != SISIGN_ERR_CANCELLED && rc.audit_failed)) {
		/* The records of the jobs never started carry the run's status
		 * (6, or 3 for the audit log) and why. */
		sisign_error_clear(&rc.stop_err);
		rc.stop_err.code = rc.audit_failed ? SISIGN_ERR_SYSTEM : SISIGN_ERR_TOKEN_FAILED;
		rc.stop_exit = rc.audit_failed ? EXIT_IO : EXIT_TOKEN;
		snprintf(rc.stop_err.message, sizeof rc.stop_err.message, "not started: %s",
			rc.audit_failed ? "writing the audit log failed" : "the batch stopped at the first token failure");
		report_not_started(&rc, b);
	}

	/* Summary: one status for all inputs (cli.h, struct cli_tally). */
	cli_tally_init(&tally);
	for (size_t i = 0; i < sisign_batch_count(b); i++) {
		struct sisign_batch_result res;
		if (sisign_batch_result(b, i, &res) != SISIGN_OK)
			continue;
		if (res.status == SISIGN_JOB_FAILED) {
			failed++;
			cli_tally_failed(&tally, cli_exit_for_error(res.err.code));
		} else if (res.status != SISIGN_JOB_PENDING) {
			cli_tally_result(&tally, res.verdict >= 0 ? verdict_exit(res.verdict) : EXIT_OK);
		}
	}
	sisign_batch_summary(b, NULL, &done, &skipped, &checked, &pending);
	if (!bc->quiet || bc->dry_run || g_interrupted) {
		const char *verb = op == SISIGN_BATCH_SIGN ? "signed" : op == SISIGN_BATCH_UNSIGN ? "unsigned" : "verified";
		double el = progress_now() - t0;
		fprintf(stderr, "%s: %s: %zu %s, %zu skipped, %zu failed, %zu not started, of %zu (%.1f s)\n", cli_progname,
			cmd, bc->dry_run ? checked : done, bc->dry_run ? "checked" : verb, skipped, failed, pending,
			sisign_batch_count(b), el);
	}
	if (rc.audit_failed) {
		/* Every output that exists has its record; after this
		 * failure no signature was made and no output written. */
		cli_msg("%s: %s: writing the audit log failed (%s): stopped before the next signature; %zu "
			"package(s) not started", cmd, bc->audit_log, audit_why(&rc), pending);
		ec = EXIT_IO;
	} else if (r == SISIGN_ERR_TOKEN_FAILED) {
		/* The failure itself was reported with its package (on stderr,
		 * or in the JSON record). */
		if (bc->json)
			fe_print_error(stderr, cli_progname, NULL, &err);
		cli_msg("%s: stopped at the first token failure: %zu package(s) not started, nothing written for "
			"them; rerun with --skip-signed once the token works", cmd, pending);
		ec = EXIT_TOKEN;
	} else if (g_interrupted || r == SISIGN_ERR_CANCELLED) {
		cli_msg("%s: interrupted: every output is complete or absent; rerun with --skip-signed to finish", cmd);
		ec = EXIT_INTERRUPTED;
	} else if (bc->dry_run) {
		fprintf(stderr,
			"%s: *** DRY RUN — NOT SIGNED ***  %zu package(s) checked, nothing was signed or written%s\n",
			cli_progname, checked, failed ? "; some inputs FAILED their checks" : "");
		ec = failed ? EXIT_PARTIAL : EXIT_DRY_RUN;
	} else {
		ec = cli_tally_exit(&tally);
	}
out:
	if (signals) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	if (rc.audit_fd >= 0)
		close(rc.audit_fd);
	sisign_batch_free(b);
	sisign_identity_free(id);
	sisign_signer_free(signer);
	if (ko && ko->on_login_data == &rc) {
		ko->on_login = NULL;
		ko->on_login_data = NULL;
	}
	items_free(&it);
	return ec;
}
