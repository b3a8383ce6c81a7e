/* SPDX-License-Identifier: Apache-2.0 */
/* sisign verify — check signatures, certificate chains and file hashes as
 * the device installer would (sis-format.md §7.9-§7.10). */
#include "cli.h"
#include "fe.h"
#include "batch_cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sisign/package.h>
#include <sisign/verify.h>

#define MAX_TRUST 64

struct verify_args {
	const char *trust[MAX_TRUST + 1];
	size_t ntrust;
	time_t at;
	int json;
	int no_data;
};

static int exit_for_verdict(enum sisign_verdict v)
{
	switch (v) {
	case SISIGN_VERDICT_TRUSTED: return EXIT_OK;
	case SISIGN_VERDICT_SELF_SIGNED: return EXIT_SELF_SIGNED;
	case SISIGN_VERDICT_UNTRUSTED: return EXIT_UNTRUSTED;
	case SISIGN_VERDICT_INVALID: return EXIT_INVALID;
	case SISIGN_VERDICT_UNSIGNED: return EXIT_UNSIGNED;
	}
	return EXIT_ERROR;
}

static const char *sig_text(int code)
{
	switch (code) {
	case SISIGN_OK: return "ok";
	case SISIGN_ERR_SIG_UNSUPPORTED: return "unsupported";
	default: return "invalid";
	}
}

/* ---- text ---------------------------------------------------------------- */

static void tline(int ind, const char *label, const char *s)
{
	printf("%*s%s", ind, "", label);
	fe_fputs_safe(s, stdout);
	putchar('\n');
}

/* The constraints of each certificate of chain (NULL: none known); *n
 * entries, freed with sisign_cert_constraints_free. */
static struct sisign_cert_constraints *chain_constraints(const struct sisign_chain *chain, size_t *n)
{
	struct sisign_cert_constraints *cons = NULL;

	*n = 0;
	if (chain == NULL || sisign_certs_constraints(chain->certs, chain->certs_len, &cons, n, NULL) != SISIGN_OK)
		*n = 0;
	return cons;
}

static void text_chain(size_t k, const struct sisign_chain_report *ch, const struct sisign_chain *chain, int ind)
{
	struct sisign_cert_constraints *cons;
	size_t ncons;

	char alg[96], t1[FE_TIME_BUFSIZE], t2[FE_TIME_BUFSIZE];
	int supported;

	fe_sig_algorithm_name(ch->algorithm, &supported, alg, sizeof alg);
	printf("%*schain %zu: signature %s (%s), certificate chain %s\n", ind, "", k + 1,
		sig_text(ch->signature), alg, sisign_chain_status_name(ch->status));
	if (ch->status_detail[0])
		tline(ind + 2, "detail:  ", ch->status_detail);
	tline(ind + 2, "signer:  ", ch->signer_subject);
	tline(ind + 2, "issuer:  ", ch->signer_issuer);
	fe_time_format(ch->not_before, t1, sizeof t1);
	fe_time_format(ch->not_after, t2, sizeof t2);
	printf("%*svalid:   %s to %s\n", ind + 2, "", t1, t2);
	printf("%*skey:     %s %d bits; serial ", ind + 2, "", ch->key_type[0] ? ch->key_type : "?", ch->key_bits);
	fe_fputs_safe(ch->signer_serial, stdout);
	printf("; %zu certificate%s\n", ch->ncerts, ch->ncerts == 1 ? "" : "s");
	tline(ind + 2, "sha256:  ", ch->fingerprint);
	tline(ind + 2, "root:    ", ch->root_subject[0] ? ch->root_subject : "(none)");
	/* What the certificates limit the package to (install-rules.md §5). */
	cons = chain_constraints(chain, &ncons);
	for (size_t i = 0; i < ncons; i++) {
		char *s = fe_cert_constraints_text(i, &cons[i]);
		if (s != NULL)
			tline(ind + 2, "limits:  ", s);
		free(s);
	}
	sisign_cert_constraints_free(cons, ncons);
}

/* ctl: the controller c reports on (same tree, same order), or NULL. */
static void text_ctrl(const struct sisign_ctrl_report *c, const struct sisign_controller *ctl, int ind)
{
	size_t i;

	printf("%*s%s controller, UID 0x%08" PRIx32 ": %s\n", ind, "", c->depth == 0 ? "top-level" : "embedded",
		c->uid, sisign_verdict_name(c->verdict));
	if (c->nchains == 0)
		printf("%*sno signature chains\n", ind + 2, "");
	for (i = 0; i < c->nchains; i++)
		text_chain(i, &c->chains[i], ctl && i < ctl->nchains ? &ctl->chains[i] : NULL, ind + 2);
	for (i = 0; i < c->nembedded; i++)
		text_ctrl(&c->embedded[i], ctl && i < ctl->nembedded ? &ctl->embedded[i] : NULL, ind + 2);
}

/* The header's UID3 is not checked by the device but used by the SIS
 * registry for stubs (sis-format.md §2): warned about, as `info` does,
 * without changing the verdict. */
static int uid3_differs(const struct sisign_pkg *pkg)
{
	const struct sisign_pkg_info *in = sisign_pkg_info(pkg);
	return in->kind == SISIGN_PKG_SISX && !in->uid3_matches;
}

static void text_report(const char *path, const struct sisign_pkg *pkg, const struct sisign_verify_report *rep,
	int no_data)
{
	const struct sisign_ctrl_report *d = rep->decided_by;

	fe_fputs_safe(path, stdout);
	printf(": %s", sisign_verdict_name(rep->verdict));
	/* The overall verdict is the worst controller's: say which one when
	 * it is not the top level's own. */
	if (d && d->depth > 0)
		printf(" (embedded package UID 0x%08" PRIx32 " is %s)", d->uid, sisign_verdict_name(d->verdict));
	putchar('\n');
	if (uid3_differs(pkg))
		printf("  warning: header UID3 0x%08" PRIx32 " differs from the package UID 0x%08" PRIx32 "\n",
			sisign_pkg_info(pkg)->uid3, sisign_pkg_controller(pkg)->uid);
	text_ctrl(&rep->top, sisign_pkg_controller(pkg), 2);
	if (no_data)
		printf("  file data: not checked\n");
	else if (rep->data == SISIGN_OK)
		printf("  file data: all hashes ok\n");
	else
		tline(2, "file data: ", rep->data_message[0] ? rep->data_message : sisign_strerror(rep->data));
	if (rep->structure != SISIGN_OK)
		tline(2, "structure: ",
			rep->structure_message[0] ? rep->structure_message : sisign_strerror(rep->structure));
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_time(struct fe_json *j, const char *key, time_t t)
{
	char buf[FE_TIME_BUFSIZE];

	fe_json_key(j, key);
	if (t != 0 && fe_time_format(t, buf, sizeof buf) == 0)
		fe_json_string(j, buf);
	else
		fe_json_null(j);
}

/* "constraints": one value per certificate of the chain (docs/json.md). */
static void json_constraints(struct fe_json *j, const struct sisign_chain *chain)
{
	size_t n;
	struct sisign_cert_constraints *cons = chain_constraints(chain, &n);

	fe_json_key(j, "constraints");
	fe_json_begin_array(j);
	for (size_t i = 0; i < n; i++)
		fe_json_cert_constraints(j, &cons[i]);
	fe_json_end_array(j);
	sisign_cert_constraints_free(cons, n);
}

static void json_ctrl(struct fe_json *j, const struct sisign_ctrl_report *c, const struct sisign_controller *ctl)
{
	char uid[16], alg[96];
	size_t i;
	int supported;

	fe_json_begin_object(j);
	fe_json_kv_int(j, "depth", c->depth);
	snprintf(uid, sizeof uid, "0x%08" PRIx32, c->uid);
	fe_json_kv_string(j, "uid", uid);
	fe_json_kv_string(j, "verdict", sisign_verdict_name(c->verdict));
	fe_json_key(j, "chains");
	fe_json_begin_array(j);
	for (i = 0; i < c->nchains; i++) {
		const struct sisign_chain_report *ch = &c->chains[i];
		fe_json_begin_object(j);
		fe_json_kv_string(j, "signature", sig_text(ch->signature));
		fe_json_kv_string(j, "algorithm", ch->algorithm);
		fe_json_kv_string(j, "algorithm_name", fe_sig_algorithm_name(ch->algorithm, &supported, alg, sizeof alg));
		fe_json_kv_string(j, "status", sisign_chain_status_name(ch->status));
		fe_json_kv_string(j, "status_detail", ch->status_detail);
		fe_json_kv_string(j, "signer_subject", ch->signer_subject);
		fe_json_kv_string(j, "signer_issuer", ch->signer_issuer);
		fe_json_kv_string(j, "signer_serial", ch->signer_serial);
		json_time(j, "not_before", ch->not_before);
		json_time(j, "not_after", ch->not_after);
		fe_json_kv_string(j, "key_type", ch->key_type);
		fe_json_kv_int(j, "key_bits", ch->key_bits);
		fe_json_kv_string(j, "sha256", ch->fingerprint);
		fe_json_key(j, "root");
		fe_json_string(j, ch->root_subject[0] ? ch->root_subject : NULL);
		fe_json_kv_uint64(j, "certificates", ch->ncerts);
		json_constraints(j, ctl && i < ctl->nchains ? &ctl->chains[i] : NULL);
		fe_json_end_object(j);
	}
	fe_json_end_array(j);
	fe_json_key(j, "embedded");
	fe_json_begin_array(j);
	for (i = 0; i < c->nembedded; i++)
		json_ctrl(j, &c->embedded[i], ctl && i < ctl->nembedded ? &ctl->embedded[i] : NULL);
	fe_json_end_array(j);
	fe_json_end_object(j);
}

/* The record of one package (docs/json.md): the envelope, verdict, chains
 * and warnings as in a batch, then the full report. */
static int json_report(const char *path, const struct sisign_pkg *pkg, const struct sisign_verify_report *rep,
	int no_data)
{
	const struct sisign_ctrl_report *d = rep->decided_by;
	struct fe_json j;
	char uid[16];

	cli_json_begin(&j, stdout, "verify", path, "done", exit_for_verdict(rep->verdict), NULL);
	fe_json_kv_string(&j, "verdict", sisign_verdict_name(rep->verdict));
	fe_json_kv_uint64(&j, "chains", rep->top.nchains);
	fe_json_key(&j, "warnings");
	fe_json_begin_array(&j);
	if (uid3_differs(pkg)) {
		char w[128];
		snprintf(w, sizeof w, "header UID3 0x%08" PRIx32 " differs from the package UID 0x%08" PRIx32,
			sisign_pkg_info(pkg)->uid3, sisign_pkg_controller(pkg)->uid);
		fe_json_string(&j, w);
	}
	fe_json_end_array(&j);
	fe_json_key(&j, "verdict_from");
	if (d) {
		fe_json_begin_object(&j);
		fe_json_kv_int(&j, "depth", d->depth);
		snprintf(uid, sizeof uid, "0x%08" PRIx32, d->uid);
		fe_json_kv_string(&j, "uid", uid);
		fe_json_end_object(&j);
	} else {
		fe_json_null(&j);
	}
	fe_json_kv_bool(&j, "uid3_matches", !uid3_differs(pkg));
	fe_json_key(&j, "data");
	if (no_data)
		fe_json_string(&j, "unchecked");
	else
		fe_json_string(&j, rep->data == SISIGN_OK ? "ok" : sisign_strerror(rep->data));
	fe_json_kv_string(&j, "data_message", rep->data_message);
	fe_json_kv_string(&j, "structure", rep->structure == SISIGN_OK ? "ok" : sisign_strerror(rep->structure));
	fe_json_kv_string(&j, "structure_message", rep->structure_message);
	fe_json_key(&j, "top");
	json_ctrl(&j, &rep->top, sisign_pkg_controller(pkg));
	return cli_json_end(&j);
}

/* A package that got no verdict: the envelope with its error. */
static void json_failed(const char *path, const struct sisign_error *err)
{
	struct fe_json j;

	cli_json_begin(&j, stdout, "verify", path, "error", cli_exit_for_error(err->code), err);
	fe_json_key(&j, "verdict");
	fe_json_null(&j);
	fe_json_key(&j, "chains");
	fe_json_null(&j);
	fe_json_key(&j, "warnings");
	fe_json_begin_array(&j);
	fe_json_end_array(&j);
	(void)cli_json_end(&j);
}

/* Verify one package; its status goes into *t as a failure (not read, not
 * a package, report not written) or as its verdict. */
static void verify_one(const char *path, const struct verify_args *a, struct cli_tally *t)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_verify_report *rep = NULL;
	struct sisign_verify_opts vo;
	struct sisign_error err;
	void *mem = NULL;
	int r;

	sisign_error_clear(&err);
	memset(&vo, 0, sizeof vo);
	vo.trust = a->ntrust ? a->trust : NULL;
	vo.at = a->at;
	vo.skip_data = a->no_data;
	r = cli_pkg_open(path, &pkg, &mem, &err);
	if (r == SISIGN_OK)
		r = sisign_pkg_verify(pkg, &vo, &rep, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		if (a->json)
			json_failed(path, &err);
		cli_tally_failed(t, cli_report(path, &err));
		goto out;
	}
	if (a->json) {
		if (json_report(path, pkg, rep, a->no_data) != 0) {
			cli_tally_failed(t, EXIT_ERROR);
			goto out;
		}
	} else {
		text_report(path, pkg, rep, a->no_data);
	}
	cli_tally_result(t, exit_for_verdict(rep->verdict));
out:
	fflush(stdout);
	sisign_verify_report_free(rep);
	sisign_pkg_free(pkg);
	free(mem);
}

static int cmd_verify(int argc, char **argv)
{
	struct option longopts[32] = {
		{ "trust", required_argument, NULL, 't' },
		{ "at", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-data", no_argument, NULL, 'n' },
	};
	struct verify_args a;
	struct batch_cli bc;
	struct cli_tally t;
	int c, i, h;
	size_t nl = 4;

	memset(&a, 0, sizeof a);
	batch_cli_init(&bc);
	/* The batch options that apply to verify; -j stays --json here, so the
	 * thread count is --jobs only. */
	for (size_t k = 0; batch_cli_longopts[k].name; k++) {
		const char *n = batch_cli_longopts[k].name;
		if (strcmp(n, "json") && strcmp(n, "out-dir") && strcmp(n, "suffix") && strcmp(n, "skip-signed") &&
			strcmp(n, "resign") && strcmp(n, "dry-run") && strcmp(n, "parallel-token") &&
			strcmp(n, "token-sessions"))
			longopts[nl++] = batch_cli_longopts[k];
	}
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":t:jrqv", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (a.ntrust >= MAX_TRUST)
				return cli_usage_error(argv[0], "too many --trust arguments (at most %d)", MAX_TRUST);
			a.trust[a.ntrust++] = optarg;
			break;
		case 'a':
			if (fe_time_parse(optarg, &a.at) != 0)
				return cli_usage_error(argv[0],
					"--at wants YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, not '%s'", optarg);
			break;
		case 'j': a.json = 1; break;
		case 'n': a.no_data = 1; break;
		default:
			h = batch_cli_handle(&bc, argv[0], c, optarg);
			if (h < 0)
				return EXIT_USAGE;
			if (h == 0)
				return cli_getopt_error(argv[0], c, argv, longopts);
		}
	}
	a.trust[a.ntrust] = NULL;
	/* Directories, --files-from or batch options: the batch engine (one
	 * JSON line per file with --json, verdicts on all cores). */
	if (bc.any || (optind < argc && batch_cli_wanted(&bc, 1, argv + optind))) {
		struct sisign_verify_opts vo;
		memset(&vo, 0, sizeof vo);
		vo.trust = a.ntrust ? a.trust : NULL;
		vo.at = a.at;
		vo.skip_data = a.no_data;
		bc.json = a.json;
		return batch_cli_run(&bc, argv[0], SISIGN_BATCH_VERIFY, NULL, &vo, argc - optind, argv + optind);
	}
	if (optind >= argc)
		return cli_usage_error(argv[0], "no input file");
	for (i = optind; i < argc; i++)
		if (cli_stdio_check(argv[0], argv[i], NULL) != EXIT_OK)
			return EXIT_USAGE;
	cli_tally_init(&t);
	for (i = optind; i < argc; i++) {
		if (!a.json && i > optind)
			putchar('\n');
		verify_one(argv[i], &a, &t);
	}
	return cli_tally_exit(&t);
}

const struct cli_command cli_cmd_verify = {
	"verify",
	"[--trust FILE|DIR]... [--at TIME] [--json] [--no-data] [OPTIONS] FILE...",
	"verify signatures, certificate chains and file hashes",
	cmd_verify,
	"For each FILE: the overall verdict (trusted, self-signed, untrusted,\n"
	"invalid, unsigned), then per controller and chain the signature\n"
	"algorithm and result (ok, invalid, unsupported), the chain status, the\n"
	"signer's subject, issuer and validity, the root used, and the device IDs,\n"
	"SIDs, VIDs and capabilities a developer certificate limits the package\n"
	"to (\"limits:\" lines); then file data and structure problems.  The\n"
	"device checks every embedded package's controller on its own, so each\n"
	"controller has its own verdict and the overall one is the worst of them\n"
	"(named when it is an embedded one; JSON: verdict_from); a bad structure\n"
	"or file hash makes it invalid.\n"
	"A header UID3 that differs from the package UID is warned about\n"
	"(JSON: uid3_matches, warnings) without changing the verdict.\n"
	"\n"
	"Options:\n"
	"  -t, --trust FILE|DIR  trusted root certificates (PEM or DER file, or a\n"
	"                        directory of them); repeatable.  Without --trust\n"
	"                        nothing is trusted\n"
	"      --at TIME         validate at TIME (YYYY-MM-DD or\n"
	"                        YYYY-MM-DDTHH:MM:SSZ, UTC) instead of now\n"
	"  -j, --json            one JSON record per file, one per line: the\n"
	"                        schema of docs/json.md (\"schema\": 1; status,\n"
	"                        exit, error, verdict, chains, warnings; one file\n"
	"                        at a time also the report: verdict_from, data,\n"
	"                        structure, top)\n"
	"      --no-data         do not check file hashes\n"
	"  -q, --quiet           no progress bar, summary or notes (errors still\n"
	"                        shown; the verdicts on stdout are unchanged)\n"
	"  -v, --verbose         notes on stderr: each file read\n"
	"A FILE '-' is standard input (read into memory, at most 1 GiB; not a\n"
	"terminal).\n"
	"Several packages: -r (symlinked directories only with --follow-symlinks,\n"
	"each directory once), --files-from F, -j/--jobs, --progress as for sign\n"
	"(see 'sisign help sign'); a directory needs -r.  Without --json each\n"
	"package gets one line 'FILE: VERDICT' on stdout ('FILE: error' when it\n"
	"could not be checked; the reason on stderr), then a summary on stderr.  A FILE that is not a regular file (a FIFO, a\n"
	"device) is refused without being read.\n"
	"\n"
	"Exit, from each package's overall verdict (the worst of its controllers):\n"
	"0 trusted, 10 self-signed, 9 untrusted, 8 invalid, 11 unsigned; 3 a FILE\n"
	"could not be read, 4 a FILE is not a valid package.  With several files:\n"
	"when every file got a verdict, the worst verdict in the order invalid >\n"
	"unsigned > untrusted > self-signed > trusted; when some files failed (3,\n"
	"4, ...) and others got a verdict, 12; when all failed, the highest of\n"
	"their statuses (see 'sisign help exit-codes').\n",
};
