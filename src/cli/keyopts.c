/* SPDX-License-Identifier: Apache-2.0 */
/* Shared key / certificate / passphrase / PIN options (see keyopts.h). */
#include "keyopts.h"
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct option key_longopts[] = {
	{ "key", required_argument, NULL, KO_KEY },
	{ "cert", required_argument, NULL, KO_CERT },
	{ "chain", required_argument, NULL, KO_CHAIN },
	{ "allow-expired", no_argument, NULL, KO_ALLOW_EXPIRED },
	{ "pass-fd", required_argument, NULL, KO_PASS_FD },
	{ "pass-file", required_argument, NULL, KO_PASS_FILE },
};

static const struct option token_longopts[] = {
	{ "module", required_argument, NULL, KO_MODULE },
	{ "allow-module", required_argument, NULL, KO_ALLOW_MODULE },
	{ "pin-fd", required_argument, NULL, KO_PIN_FD },
	{ "pin-file", required_argument, NULL, KO_PIN_FILE },
	{ "allow-pin-in-uri", no_argument, NULL, KO_ALLOW_PIN_IN_URI },
	{ "force", no_argument, NULL, KO_FORCE },
};

void keyopts_init(struct keyopts *ko)
{
	memset(ko, 0, sizeof *ko);
	ko->pass_fd = -1;
	ko->pin_fd = -1;
	fe_secret_src_init(&ko->pass_src);
	fe_secret_src_init(&ko->pin_src);
}

size_t keyopts_longopts(int which, const struct option *extra, struct option *out, size_t max)
{
	size_t n = 0, i;

	if (which & KEYOPTS_F_KEY)
		for (i = 0; i < sizeof key_longopts / sizeof key_longopts[0] && n + 1 < max; i++)
			out[n++] = key_longopts[i];
	if (which & KEYOPTS_F_TOKEN)
		for (i = 0; i < sizeof token_longopts / sizeof token_longopts[0] && n + 1 < max; i++)
			out[n++] = token_longopts[i];
	for (i = 0; extra && extra[i].name && n + 1 < max; i++)
		out[n++] = extra[i];
	memset(&out[n], 0, sizeof out[n]);
	return cli_longopts_add_common(out, max);
}

static int parse_fd(const char *s, int *out)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

int keyopts_handle(struct keyopts *ko, const char *cmd, int c, const char *arg)
{
	if (cli_common_opt(c))
		return 1;
	switch (c) {
	case KO_KEY:
		ko->key = arg;
		return 1;
	case KO_CERT:
		ko->cert = arg;
		return 1;
	case KO_CHAIN:
		if (ko->nchain >= KEYOPTS_MAX_LIST) {
			cli_usage_error(cmd, "too many --chain files (at most %d)", KEYOPTS_MAX_LIST);
			return -1;
		}
		ko->chain[ko->nchain++] = arg;
		return 1;
	case KO_ALLOW_EXPIRED:
		ko->allow_expired = 1;
		return 1;
	case KO_PASS_FD:
		if (parse_fd(arg, &ko->pass_fd) != 0) {
			cli_usage_error(cmd, "--pass-fd needs a descriptor number, not '%s'", arg);
			return -1;
		}
		return 1;
	case KO_PASS_FILE:
		ko->pass_file = arg;
		return 1;
	case KO_MODULE:
		ko->module = arg;
		return 1;
	case KO_ALLOW_MODULE:
		if (ko->nallow_module >= KEYOPTS_MAX_LIST) {
			cli_usage_error(cmd, "too many --allow-module directories (at most %d)", KEYOPTS_MAX_LIST);
			return -1;
		}
		ko->allow_module[ko->nallow_module++] = arg;
		return 1;
	case KO_PIN_FD:
		if (parse_fd(arg, &ko->pin_fd) != 0) {
			cli_usage_error(cmd, "--pin-fd needs a descriptor number, not '%s'", arg);
			return -1;
		}
		return 1;
	case KO_PIN_FILE:
		ko->pin_file = arg;
		return 1;
	case KO_ALLOW_PIN_IN_URI:
		ko->allow_pin_in_uri = 1;
		return 1;
	case KO_FORCE:
		ko->force_final_try = 1;
		return 1;
	default:
		return 0;
	}
}

int keyopts_is_uri(const char *s)
{
	return s && strncasecmp(s, "pkcs11:", 7) == 0;
}

void keyopts_token_opts(struct keyopts *ko, struct sisign_token_opts *to)
{
	memset(to, 0, sizeof *to);
	to->module = ko->module;
	ko->allow_module[ko->nallow_module] = NULL;
	to->allowed_module_dirs = ko->nallow_module ? ko->allow_module : NULL;
	to->allow_pin_in_uri = ko->allow_pin_in_uri;
	to->force_final_try = ko->force_final_try;
	to->parallel_sessions = ko->parallel_sessions;
	to->on_login = ko->on_login;
	to->on_login_data = ko->on_login_data;
	(void)fe_protect_process();
	fe_secret_src_init(&ko->pin_src);
	ko->pin_src.fd = ko->pin_fd;
	ko->pin_src.file = ko->pin_file;
	fe_secret_src_take_env(&ko->pin_src, "SISIGN_PIN");
	ko->pin_src.allow_prompt = 1;
	to->pin_cb = fe_secret_cb;
	to->pin_cb_data = &ko->pin_src;
	/* --pin-fd, --pin-file and $SISIGN_PIN outrank the URI's pin-source
	 * and pin-value; the prompt comes after them. */
	to->pin_cb_explicit = fe_secret_src_explicit(&ko->pin_src);
}

/* cli_report, leaving out the file name when the message already says it.
 * A pkcs11: URI is shown without its pin-value and pin-source. */
static int report_file(const char *file, const struct sisign_error *err)
{
	char *safe = sisign_token_uri_redact(file);
	int rc;

	if (file && !safe)
		file = "(out of memory)";
	else
		file = safe;
	if (file && err && strstr(err->message, file))
		file = NULL;
	rc = cli_report(file, err);
	free(safe);
	return rc;
}

int keyopts_precheck(struct sisign_pkg *pkg, const char *path)
{
	struct sisign_error err;
	int r;

	/* The library's own refusals that need no file data (stub, damage,
	 * bad chains), before any passphrase or PIN is asked for.  The file
	 * hashes are checked by the write, in the one pass that copies the
	 * file data (so a bad one is found after the signature). */
	sisign_error_clear(&err);
	r = sisign_pkg_check_signable_nodata(pkg, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		return cli_report(path, &err);
	}
	return EXIT_OK;
}

int keyopts_report(struct keyopts *ko, const char *what, const struct sisign_error *err)
{
	/* A secret source that failed knows why better than the library,
	 * which only saw a negative return from the callback. */
	char *safe;
	int rc = -1;

	if (ko->pin_src.err.code != 0 || ko->pass_src.err.code != 0) {
		safe = sisign_token_uri_redact(what);
		if (ko->pin_src.err.code != 0) {
			fe_print_error(stderr, cli_progname, safe, &ko->pin_src.err);
			rc = EXIT_PIN;
		} else {
			fe_print_error(stderr, cli_progname, safe, &ko->pass_src.err);
			rc = EXIT_KEY;
		}
		free(safe);
		return rc;
	}
	return report_file(what, err);
}

int keyopts_fail(struct keyopts *ko, const char *what, int r, struct sisign_error *err)
{
	if (err->code == 0)
		err->code = r;
	return keyopts_report(ko, what, err);
}

void keyopts_pass_src(struct keyopts *ko)
{
	(void)fe_protect_process();
	fe_secret_src_init(&ko->pass_src);
	ko->pass_src.fd = ko->pass_fd;
	ko->pass_src.file = ko->pass_file;
	fe_secret_src_take_env(&ko->pass_src, "SISIGN_PASS");
	ko->pass_src.allow_prompt = 1;
}

int keyopts_load_signer(struct keyopts *ko, struct sisign_signer **out)
{
	struct sisign_error err;
	struct sisign_token_opts to;
	double t0 = cli_now();
	int r;

	*out = NULL;
	sisign_error_clear(&err);
	if (keyopts_is_uri(ko->key)) {
		if (ko->pass_fd >= 0 || ko->pass_file)
			cli_msg("warning: --pass-fd/--pass-file apply to key files only; "
				"a token takes --pin-fd/--pin-file");
		keyopts_token_opts(ko, &to);
		r = sisign_signer_from_pkcs11(ko->key, &to, out, &err);
	} else {
		if (ko->pin_fd >= 0 || ko->pin_file || ko->module || ko->nallow_module)
			cli_msg("warning: token options (--pin-*, --module, --allow-module) are ignored "
				"for a key file");
		keyopts_pass_src(ko);
		r = sisign_signer_from_key_file(ko->key, fe_secret_cb, &ko->pass_src, out, &err);
	}
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		*out = NULL;
		ko->failed = ko->pin_src.err.code ? ko->pin_src.err : ko->pass_src.err.code ? ko->pass_src.err : err;
		return keyopts_report(ko, ko->key, &err);
	}
	if (cli_verbose) {
		char *what = sisign_token_uri_redact(sisign_signer_describe(*out));
		cli_note("key: %s, %d bits (%s in %.3f s)", what ? what : "?", sisign_signer_key_bits(*out),
			keyopts_is_uri(ko->key) ? "token opened and logged in" : "loaded", cli_now() - t0);
		free(what);
	}
	return EXIT_OK;
}

int keyopts_load_identity(struct keyopts *ko, struct sisign_signer *signer, struct sisign_identity **out)
{
	struct sisign_identity_opts io;
	struct sisign_error err;
	size_t i;
	int r;

	*out = NULL;
	sisign_error_clear(&err);
	memset(&io, 0, sizeof io);
	ko->chain[ko->nchain] = NULL;
	io.cert_file = ko->cert;
	io.chain_files = ko->nchain ? ko->chain : NULL;
	io.allow_expired = ko->allow_expired;
	r = sisign_identity_new(signer, &io, out, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		*out = NULL;
		ko->failed = err;
		return report_file(ko->cert ? ko->cert : ko->key, &err);
	}
	for (i = 0; i < sisign_identity_nwarnings(*out); i++) {
		fprintf(stderr, "%s: warning: ", cli_progname);
		fe_fputs_safe(sisign_identity_warning(*out, i), stderr);
		fputc('\n', stderr);
	}
	if (cli_verbose) {
		cli_note("certificate: %s%s, SHA-256 %s", ko->cert ? ko->cert : "from the token",
			ko->nchain ? " plus --chain files" : "", sisign_identity_fingerprint(*out));
		fprintf(stderr, "%s: signer: ", cli_progname);
		fe_fputs_safe(sisign_identity_subject(*out), stderr);
		fputc('\n', stderr);
	}
	return EXIT_OK;
}

/* ---- output target -------------------------------------------------------- */

void out_target_init(struct out_target *ot)
{
	memset(ot, 0, sizeof *ot);
	ot->mode = 0644;
	ot->cmd = "sisign";
}

int out_target_check(struct out_target *ot, const char *cmd)
{
	struct stat in, o;
	struct sisign_error err;

	int rc;

	ot->cmd = cmd;
	if (ot->output && ot->in_place)
		return cli_usage_error(cmd, "give either -o OUT or --in-place, not both");
	if (!ot->output && !ot->in_place)
		return cli_usage_error(cmd, "give -o OUT or --in-place");
	if (ot->in_place && cli_is_stdio(ot->input))
		return cli_usage_error(cmd, "--in-place cannot replace standard input: give -o OUT (or -o -)");
	if ((rc = cli_stdio_check(cmd, ot->input, ot->output)) != EXIT_OK)
		return rc;
	if (cli_is_stdio(ot->input)) {
		/* As the shell makes a file for "> OUT". */
		ot->mode = 0666 & ~cli_umask();
		return EXIT_OK;
	}
	if (stat(ot->input, &in) != 0) {
		sisign_error_clear(&err);
		err.code = SISIGN_ERR_SYSTEM;
		err.sys_errno = errno;
		snprintf(err.message, sizeof err.message, "cannot read: %s", strerror(errno));
		return cli_report(ot->input, &err);
	}
	/* -o: a copy, as cp makes one: the input's bits less the umask. */
	ot->mode = (int)(in.st_mode & 0777) & ~cli_umask();
	if (ot->output && !cli_is_stdio(ot->output)) {
		if (strcmp(ot->output, ot->input) == 0 ||
			(stat(ot->output, &o) == 0 && o.st_dev == in.st_dev && o.st_ino == in.st_ino))
			return cli_usage_error(cmd, "output '%s' is the input file; use --in-place to replace it",
				ot->output);
	}
	return EXIT_OK;
}

int out_target_open(struct out_target *ot, struct sisign_pkg **pkg, struct sisign_error *err)
{
	if (ot->in_place) {
		cli_note("reading %s (locked until it is replaced)", ot->input);
		return sisign_pkg_open_exclusive(ot->input, NULL, ot->no_wait, pkg, err);
	}
	return cli_pkg_open(ot->input, pkg, &ot->mem, err);
}

void out_target_free(struct out_target *ot)
{
	free(ot->mem);
	ot->mem = NULL;
}

int out_target_write(const struct out_target *ot, struct sisign_pkg *pkg)
{
	struct sisign_error err;
	const char *path = ot->in_place ? ot->input : ot->output;
	int r;

	double t0 = cli_now();
	struct cli_spool sp = { 0 };
	int rc;

	sisign_error_clear(&err);
	if (!ot->in_place && cli_is_stdio(path)) {
		if ((rc = cli_spool_begin(&sp, ot->cmd)) != EXIT_OK)
			return rc;
		r = sisign_pkg_write(pkg, sp.path, 0600, &err);
		if (r != SISIGN_OK) {
			(void)cli_spool_finish(&sp, ot->cmd, 0);
			if (err.code == 0)
				err.code = r;
			rc = cli_exit_for_error(err.code);
			return cli_report(rc == EXIT_BAD_INPUT || rc == EXIT_INVALID ? ot->input : "-", &err);
		}
		return cli_spool_finish(&sp, ot->cmd, 1);
	}
	r = ot->in_place ? sisign_pkg_replace(pkg, &err) : sisign_pkg_write(pkg, path, ot->mode, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		/* A signed package's file hashes are checked as it is written:
		 * a bad one is IN's fault (exit 4 or 8), named as IN. */
		rc = cli_exit_for_error(err.code);
		return cli_report(rc == EXIT_BAD_INPUT || rc == EXIT_INVALID ? ot->input : path, &err);
	}
	cli_note("wrote %s (%.3f s)", path, cli_now() - t0);
	return EXIT_OK;
}
