/* SPDX-License-Identifier: Apache-2.0 */
/* sisign check — would the device's installer accept this package, signed
 * by this identity?  The rules: docs/check.md, include/sisign/check.h. */
#include "cli.h"
#include "fe.h"
#include "keyopts.h"
#include "check_cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sisign/check.h>
#include <sisign/package.h>
#include <sisign/sign.h>

#define MAX_ROOTS 32
#define CHECK_DOC "docs/check.md"

enum { OPT_ROOT = 0x2000, OPT_POLICY, OPT_JSON, OPT_AT };

int check_cli_exit(const struct sisign_check_report *rep)
{
	if (rep->worst >= SISIGN_CHECK_ERROR)
		return EXIT_WOULD_NOT_INSTALL;
	if (rep->worst == SISIGN_CHECK_DEPENDS)
		return EXIT_DEPENDS;
	return EXIT_OK;
}

/* "CS Reg" — the device state the depends findings name, each once. */
void check_cli_needs(const struct sisign_check_report *rep, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < rep->nfindings; i++) {
		const char *nd = rep->findings[i].needs;
		int seen = 0;
		if (!nd)
			continue;
		for (size_t j = 0; j < i; j++)
			if (rep->findings[j].needs && strcmp(rep->findings[j].needs, nd) == 0)
				seen = 1;
		if (!seen && n < cap)
			n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? " " : "", nd);
	}
}

static const char *needs_text(const char *nd)
{
	if (strcmp(nd, "CS") == 0)
		return "CS (the certstore's roots)";
	if (strcmp(nd, "Reg") == 0)
		return "Reg (installed packages)";
	if (strcmp(nd, "Dev") == 0)
		return "Dev (the phone: IMEI, hardware)";
	return nd;
}

void check_cli_print_finding(FILE *fp, const char *indent, const struct sisign_finding *f)
{
	fprintf(fp, "%s%-8s %-10s ", indent, sisign_check_severity_name(f->severity), f->rule);
	if (f->depth)
		fprintf(fp, "[embedded 0x%08X] ", f->uid);
	if (f->file) {
		fe_fputs_safe(f->file, fp);
		fputs(": ", fp);
	}
	fe_fputs_safe(f->message, fp);
	fprintf(fp, "\n%s%-19s fix: %s\n", indent, "", f->fix);
}

const char *check_cli_verdict(const struct sisign_check_report *rep)
{
	return rep->worst >= SISIGN_CHECK_ERROR ? "would not install" :
	       rep->worst == SISIGN_CHECK_DEPENDS ? "depends on the device" : "would install";
}

/* The pointer to the rules' explanations is printed once per run, not
 * once per package. */
static int rules_hint_shown;

static void text_report(const char *path, const struct sisign_check_report *rep)
{
	char needs[128];
	size_t nwarn = 0;

	for (size_t i = 0; i < rep->nfindings; i++)
		nwarn += rep->findings[i].severity == SISIGN_CHECK_WARNING;
	fe_fputs_safe(path, stdout);
	printf(": %s (signature: %s", check_cli_verdict(rep), sisign_check_trust_name(rep->trust));
	if (nwarn)
		printf("; %zu warning%s", nwarn, nwarn == 1 ? "" : "s");
	printf(")\n");
	check_cli_needs(rep, needs, sizeof needs);
	if (needs[0]) {
		printf("  depends on:");
		for (char *save = NULL, *tok = strtok_r(needs, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			printf(" %s%s", needs_text(tok), save && *save ? "," : "");
		printf("\n");
	}
	for (size_t i = 0; i < rep->nfindings; i++)
		check_cli_print_finding(stdout, "  ", &rep->findings[i]);
	if (rep->nfindings && !cli_quiet && !rules_hint_shown++)
		fprintf(stderr, "%s: the rules: 'sisign help check', %s\n", cli_progname, CHECK_DOC);
}

const char *check_cli_json_verdict(int worst)
{
	return worst >= SISIGN_CHECK_ERROR ? "would_not_install" : worst == SISIGN_CHECK_DEPENDS ? "depends" : "installs";
}

void check_cli_json_finding_list(struct fe_json *j, const struct sisign_finding *findings, size_t n)
{
	char uid[16];

	fe_json_key(j, "findings");
	fe_json_begin_array(j);
	for (size_t i = 0; i < n; i++) {
		const struct sisign_finding *f = &findings[i];
		fe_json_begin_object(j);
		fe_json_kv_string(j, "rule", f->rule);
		fe_json_kv_string(j, "severity", sisign_check_severity_name(f->severity));
		fe_json_kv_int(j, "depth", f->depth);
		snprintf(uid, sizeof uid, "0x%08x", f->uid);
		fe_json_kv_string(j, "uid", uid);
		fe_json_kv_string(j, "file", f->file);
		fe_json_kv_string(j, "message", f->message);
		fe_json_kv_string(j, "fix", f->fix);
		fe_json_kv_string(j, "needs", f->needs);
		fe_json_end_object(j);
	}
	fe_json_end_array(j);
}

void check_cli_json_findings(struct fe_json *j, const struct sisign_check_report *rep)
{
	char needs[128];

	fe_json_kv_string(j, "verdict", check_cli_json_verdict(rep->worst));
	fe_json_kv_string(j, "trust", sisign_check_trust_name(rep->trust));
	check_cli_needs(rep, needs, sizeof needs);
	fe_json_key(j, "depends_on");
	fe_json_begin_array(j);
	for (char *save = NULL, *tok = strtok_r(needs, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		fe_json_string(j, tok);
	fe_json_end_array(j);
	fe_json_key(j, "requested_capabilities");
	fe_json_begin_array(j);
	for (unsigned i = 0; i < 64; i++)
		if (rep->requested_caps[i / 32] & (1u << (i % 32)))
			fe_json_string(j, sisign_capability_name(i));
	fe_json_end_array(j);
	check_cli_json_finding_list(j, rep->findings, rep->nfindings);
}

static void json_failed(const char *path, const struct sisign_error *err)
{
	struct fe_json j;

	cli_json_begin(&j, stdout, "check", path, "error", cli_exit_for_error(err->code), err);
	fe_json_key(&j, "verdict");
	fe_json_null(&j);
	fe_json_key(&j, "findings");
	fe_json_begin_array(&j);
	fe_json_end_array(&j);
	(void)cli_json_end(&j);
}

static void check_one(const char *path, const struct sisign_check_opts *o, int json, struct cli_tally *t)
{
	struct sisign_parse_opts po = { 0, 0, MAX_DEPTH_PARSE };
	struct sisign_check_report *rep = NULL;
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	void *mem = NULL;
	int r, ex;

	sisign_error_clear(&err);
	cli_note("checking %s", path);
	if (cli_is_stdio(path))
		r = cli_pkg_open(path, &pkg, &mem, &err);
	else
		r = sisign_pkg_open(path, &po, &pkg, &err);
	if (r == SISIGN_OK)
		r = sisign_pkg_check_install(pkg, o, &rep, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		if (json)
			json_failed(path, &err);
		cli_tally_failed(t, cli_report(path, &err));
		goto out;
	}
	ex = check_cli_exit(rep);
	if (json) {
		struct fe_json j;
		cli_json_begin(&j, stdout, "check", path, "done", ex, NULL);
		check_cli_json_findings(&j, rep);
		if (cli_json_end(&j) != 0) {
			cli_tally_failed(t, EXIT_ERROR);
			goto out;
		}
	} else {
		text_report(path, rep);
	}
	cli_tally_result(t, ex);
out:
	fflush(stdout);
	sisign_check_report_free(rep);
	sisign_pkg_free(pkg);
	free(mem);
}

/* "FILE" or "FILE=Cap,Cap" / "FILE=all" / "FILE=none" */
int check_cli_parse_root(const char *cmd, char *arg, struct sisign_check_root *r)
{
	char *eq = strrchr(arg, '=');

	memset(r, 0, sizeof *r);
	r->file = arg;
	if (!eq)
		return 0;
	*eq = '\0';
	if (strcmp(eq + 1, "all") == 0)
		return 0;
	r->caps_set = 1;
	if (strcmp(eq + 1, "none") == 0 || !eq[1])
		return 0;
	for (char *save = NULL, *tok = strtok_r(eq + 1, ",+", &save); tok; tok = strtok_r(NULL, ",+", &save)) {
		int c = sisign_capability_from_name(tok);
		if (c < 0 || c >= 64) {
			cli_usage_error(cmd, "--trusted-root: unknown capability '%s'", tok);
			return -1;
		}
		r->caps[c / 32] |= 1u << (c % 32);
	}
	return 0;
}

/* The rule list comes from the library, so help, man page and checker
 * cannot disagree. */
void check_cli_help_rules(FILE *fp)
{
	const char *id, *text;

	fprintf(fp, "\nRules (IDs of install-rules.md; each explained in %s):\n", CHECK_DOC);
	for (size_t i = 0; sisign_check_rule(i, &id, &text); i++)
		fprintf(fp, "  %-10s %s\n", id, text);
	fprintf(fp, "Not checked (device state only): the certstore's mandatory roots, OCSP,\n"
		    "installed packages (upgrades, eclipsing, overwrites, SIDs of other\n"
		    "packages or in ROM), target devices and dependencies, drives.\n"
		    "\n"
		    "Exit: 0 every FILE would install (warnings allowed); 14 one would not;\n"
		    "15 the outcome depends on the phone (it says what: CS the certstore,\n"
		    "Reg installed packages, Dev the phone itself); 3 a FILE could not be\n"
		    "read, 4 it is not a valid package, 5 the certificate is unreadable.\n"
		    "Several files: the worst of 14 > 15 > 0, or 12 when some could not be\n"
		    "checked (see 'sisign help exit-codes').\n");
}

static int cmd_check(int argc, char **argv)
{
	struct option extra[8] = {
		{ "trusted-root", required_argument, NULL, OPT_ROOT },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "at", required_argument, NULL, OPT_AT },
	};
	struct option longopts[64];
	struct sisign_check_root roots[MAX_ROOTS];
	struct sisign_check_opts o;
	struct sisign_signer *signer = NULL;
	struct sisign_identity *id = NULL;
	struct keyopts ko;
	struct cli_tally t;
	int c, h, json = 0, rc;

	memset(&o, 0, sizeof o);
	keyopts_init(&ko);
	keyopts_longopts(KEYOPTS_F_KEY | KEYOPTS_F_TOKEN, extra, longopts, sizeof longopts / sizeof longopts[0]);
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":k:c:jqv", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': ko.key = optarg; continue;
		case 'c': ko.cert = optarg; continue;
		case 'j':
		case OPT_JSON: json = 1; continue;
		case OPT_POLICY: o.policy_file = optarg; continue;
		case OPT_AT:
			if (fe_time_parse(optarg, &o.at) != 0)
				return cli_usage_error(argv[0],
					"--at wants YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, not '%s'", optarg);
			continue;
		case OPT_ROOT:
			if (o.nroots >= MAX_ROOTS)
				return cli_usage_error(argv[0], "too many --trusted-root arguments (at most %d)", MAX_ROOTS);
			if (check_cli_parse_root(argv[0], optarg, &roots[o.nroots]) != 0)
				return EXIT_USAGE;
			o.nroots++;
			continue;
		default: break;
		}
		if (cli_common_opt(c))
			continue;
		h = keyopts_handle(&ko, argv[0], c, optarg);
		if (h < 0)
			return EXIT_USAGE;
		if (h == 0)
			return cli_getopt_error(argv[0], c, argv, longopts);
	}
	o.roots = roots;
	if (optind >= argc)
		return cli_usage_error(argv[0], "no input file");
	if (ko.nchain && !ko.cert && !ko.key)
		return cli_usage_error(argv[0], "--chain needs --cert or --key");
	for (int i = optind; i < argc; i++)
		if (cli_stdio_check(argv[0], argv[i], NULL) != EXIT_OK)
			return EXIT_USAGE;
	if (ko.key) {
		/* The key's identity: its certificate (a token's own, or --cert)
		 * and --chain, checked as sign checks them. */
		if ((rc = keyopts_load_signer(&ko, &signer)) != EXIT_OK)
			return rc;
		if ((rc = keyopts_load_identity(&ko, signer, &id)) != EXIT_OK) {
			sisign_signer_free(signer);
			return rc;
		}
		o.certs = sisign_identity_chain(id, &o.certs_len);
	} else if (ko.cert) {
		o.cert_file = ko.cert;
		ko.chain[ko.nchain] = NULL;
		o.chain_files = ko.chain;
	}
	cli_tally_init(&t);
	for (int i = optind; i < argc; i++) {
		if (!json && i > optind)
			putchar('\n');
		check_one(argv[i], &o, json, &t);
	}
	sisign_identity_free(id);
	sisign_signer_free(signer);
	return cli_tally_exit(&t);
}

const struct cli_command cli_cmd_check = {
	"check",
	"[--cert CERT | --key KEY] [--trusted-root CERT[=CAPS]]... [--policy FILE] [--at TIME] [--json] FILE...",
	"would the phone's installer accept the package, signed by this identity?",
	cmd_check,
	"Applies the rules of the Symbian OS 9 installer that need no device state\n"
	"(or that say what they assume) to each FILE and every embedded package,\n"
	"and prints each finding: its rule ID, its severity (error: the installer\n"
	"would refuse the package; depends: it depends on the phone; warning: the\n"
	"user is asked), the installer's own terms (\"would fail with\n"
	"KErrSecurityError (EUiSIDMismatch): ...\") and how to fix it.  Details of\n"
	"every rule: docs/check.md.\n"
	"\n"
	"The signature: the package's own chains; with --cert or --key, as if the\n"
	"package were signed by that identity alone.  A chain that ends in a\n"
	"self-signed certificate is self-signed (the user is asked; protected UIDs,\n"
	"SIDs, VIDs and system capabilities fail); a chain that ends below a root\n"
	"not in the package depends on the phone's certstore, unless that root is\n"
	"named with --trusted-root.  Policy: the swipolicy.ini values Symbian\n"
	"shipped (AllowUnsigned false, user-grantable capabilities NetworkServices\n"
	"LocalServices ReadUserData WriteUserData Location UserEnvironment), or a\n"
	"phone's own with --policy.\n"
	"\n"
	"Options:\n"
	"  -c, --cert CERT       check as if signed with this certificate (PEM or\n"
	"                        DER; intermediates may follow it in the file)\n"
	"      --chain FILE      further certificates of that chain; repeatable\n"
	"  -k, --key KEY         check as if signed by this key's identity: a key\n"
	"                        file with --cert, or a pkcs11: URI (its token's\n"
	"                        certificate unless --cert); the key options of\n"
	"                        'sisign help sign' apply (--module, --pin-file, ...)\n"
	"      --trusted-root CERT[=CAPS]\n"
	"                        assume the phone's certstore holds this root (PEM\n"
	"                        or DER file, or a directory of them) and grants\n"
	"                        CAPS (comma-separated capability names, 'all' or\n"
	"                        'none'; default all); repeatable\n"
	"      --policy FILE     the phone's swipolicy.ini instead of the shipped\n"
	"                        values\n"
	"      --at TIME         the phone's clock for certificate validity\n"
	"                        (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC; default now)\n"
	"  -j, --json            one JSON record per FILE, one per line\n"
	"                        (docs/json.md): verdict, trust, depends_on,\n"
	"                        requested_capabilities, findings\n"
	"  -q, --quiet           no notes on stderr\n"
	"  -v, --verbose         notes on stderr: each file read\n"
	"A FILE '-' is standard input.\n",
};
