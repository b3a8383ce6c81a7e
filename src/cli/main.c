/* SPDX-License-Identifier: Apache-2.0 */
/* sisign — command dispatch, help, version and exit-code mapping. */
#include "cli.h"
#include "check_cli.h"
#include "fe.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sisign/error.h>

const char *cli_progname = "sisign";

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct cli_command cli_cmd_help = {
	"help", "[COMMAND | exit-codes]", "show the commands, one command's options, or the exit codes",
	cmd_help,
	"Without an argument, lists the commands.  With a command name, shows its\n"
	"usage and options (the same as `sisign COMMAND --help`).  `exit-codes`\n"
	"lists the exit statuses every command uses.\n",
};

static const struct cli_command cli_cmd_version = {
	"version", "", "print the version", cmd_version,
	"Prints `sisign X.Y.Z` (the library version).  Same as `sisign --version`.\n",
};

/* The command table: one line per command, in the order `sisign help`
 * lists them. */
static const struct cli_command *const commands[] = {
	&cli_cmd_info,
	&cli_cmd_pack,
	&cli_cmd_sign,
	&cli_cmd_unsign,
	&cli_cmd_verify,
	&cli_cmd_check,
	&cli_cmd_signsis,
	&cli_cmd_tokens,
	&cli_cmd_keys,
	&cli_cmd_keygen,
	&cli_cmd_cert,
	&cli_cmd_csr,
	&cli_cmd_import,
	&cli_cmd_export_cert,
	&cli_cmd_makekeys,
	&cli_cmd_help,
	&cli_cmd_version,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* Multi-call: argv[0] basename → command.  The command itself need not exist
 * yet: until a "signsis" entry is in the table, calling through the link
 * says so. */
static const struct {
	const char *argv0, *command;
} multicall[] = {
	{ "signsis", "signsis" },
	{ "makekeys", "makekeys" },
};

static const struct {
	int code;
	const char *name, *text;
} exit_codes[] = {
	{ EXIT_OK, "OK", "success; for verify: every package trusted" },
	{ EXIT_ERROR, "ERROR", "unexpected or internal error" },
	{ EXIT_USAGE, "USAGE", "bad command line" },
	{ EXIT_IO, "IO", "a file could not be read or written; a batch whose --audit-log cannot be written "
			 "stops there with this status" },
	{ EXIT_BAD_INPUT, "BAD_INPUT", "an input is not a valid SIS package (corrupt, legacy, truncated, or a "
				       "compressed controller that does not inflate to its declared size)" },
	{ EXIT_KEY, "KEY", "key or certificate problem (unreadable, wrong passphrase, mismatch, expired)" },
	{ EXIT_TOKEN, "TOKEN", "PKCS#11 module, token or object not found, ambiguous, or failed; a token removed "
			       "or failing mid-batch stops the batch with this status" },
	{ EXIT_PIN, "PIN", "PIN incorrect, locked, on its final try, or refused before login (empty, several lines, "
			   "NUL byte, unsafe PIN file or pin-source, pin-value not allowed); or the card refused the "
			   "login with CKR_GENERAL_ERROR" },
	{ EXIT_INVALID, "INVALID", "a signature or file hash is wrong, or file data does not inflate to its "
				   "declared size" },
	{ EXIT_UNTRUSTED, "UNTRUSTED", "verify: signatures good but no chain reaches a trusted root" },
	{ EXIT_SELF_SIGNED, "SELF_SIGNED", "verify: signatures good, only self-signed chains" },
	{ EXIT_UNSIGNED, "UNSIGNED", "verify: no signature at all" },
	{ EXIT_PARTIAL, "PARTIAL", "several inputs: some failed, others went through (see below)" },
	{ EXIT_DRY_RUN, "DRY_RUN", "--dry-run: everything checked, nothing signed" },
	{ EXIT_WOULD_NOT_INSTALL, "WOULD_NOT_INSTALL", "check: the phone's installer would refuse a package; "
						       "sign --strict: the same, and nothing was written (in a "
						       "batch: that package failed, the rule below applies)" },
	{ EXIT_DEPENDS, "DEPENDS", "check: whether a package installs depends on the phone (its certstore, "
				   "installed packages or hardware)" },
	{ EXIT_INTERRUPTED, "INTERRUPTED", "interrupted by SIGINT/SIGTERM" },
};

int cli_exit_for_error(int code)
{
	switch (code) {
	case SISIGN_OK:
		return EXIT_OK;
	case SISIGN_ERR_INVALID_ARG:
		return EXIT_USAGE;
	case SISIGN_ERR_SYSTEM:
	case SISIGN_ERR_EXISTS:
		return EXIT_IO;
	case SISIGN_ERR_TRUNCATED:
	case SISIGN_ERR_MALFORMED:
	case SISIGN_ERR_TOO_LARGE:
	case SISIGN_ERR_TRAILING_DATA:
	case SISIGN_ERR_UNSUPPORTED_VERSION:
	case SISIGN_ERR_NOT_SIS:
	case SISIGN_ERR_UNSUPPORTED:
	case SISIGN_ERR_TOO_DEEP:
		return EXIT_BAD_INPUT;
	case SISIGN_ERR_HASH_MISMATCH:
	case SISIGN_ERR_CORRUPT_DATA:
	case SISIGN_ERR_SIG_INVALID:
	case SISIGN_ERR_SIG_UNSUPPORTED:
		return EXIT_INVALID;
	case SISIGN_ERR_CERT_UNTRUSTED:
		return EXIT_UNTRUSTED;
	case SISIGN_ERR_NOT_SIGNED:
		return EXIT_UNSIGNED;
	case SISIGN_ERR_CERT_EXPIRED:
	case SISIGN_ERR_KEY_MISMATCH:
	case SISIGN_ERR_BAD_KEY:
	case SISIGN_ERR_BAD_PASSPHRASE:
	case SISIGN_ERR_BAD_CERT:
		return EXIT_KEY;
	case SISIGN_ERR_TOKEN_NOT_FOUND:
	case SISIGN_ERR_KEY_NOT_FOUND:
	case SISIGN_ERR_AMBIGUOUS:
	case SISIGN_ERR_MODULE:
	case SISIGN_ERR_TOKEN:
	case SISIGN_ERR_TOKEN_FAILED:
	case SISIGN_ERR_BAD_URI:
		return EXIT_TOKEN;
	case SISIGN_ERR_PIN_INCORRECT:
	case SISIGN_ERR_PIN_LOCKED:
	case SISIGN_ERR_PIN_FINAL_TRY:
	case SISIGN_ERR_BAD_PIN:
		return EXIT_PIN;
	case SISIGN_ERR_WOULD_NOT_INSTALL:
		return EXIT_WOULD_NOT_INSTALL;
	case SISIGN_ERR_CANCELLED: /* the user gave up at a prompt */
	case SISIGN_ERR_INTERNAL:
	case SISIGN_ERR_NOMEM:
	case SISIGN_ERR_CRYPTO:
	default:
		return EXIT_ERROR;
	}
}

int cli_worst(int a, int b)
{
	return a > b ? a : b;
}

/* Severity of a result (an input that went through): invalid > unsigned >
 * untrusted > self-signed > trusted/ok. */
static int result_rank(int status)
{
	switch (status) {
	case EXIT_OK: return 0;
	case EXIT_SELF_SIGNED:
	case EXIT_DEPENDS: return 1;
	case EXIT_UNTRUSTED: return 2;
	case EXIT_UNSIGNED: return 3;
	default: return 4; /* EXIT_INVALID */
	}
}

void cli_tally_init(struct cli_tally *t)
{
	t->failed = t->through = 0;
	t->worst_failure = EXIT_OK;
	t->worst_result = EXIT_OK;
}

void cli_tally_failed(struct cli_tally *t, int status)
{
	t->failed++;
	t->worst_failure = cli_worst(t->worst_failure, status != EXIT_OK ? status : EXIT_ERROR);
}

void cli_tally_result(struct cli_tally *t, int status)
{
	t->through++;
	if (result_rank(status) > result_rank(t->worst_result))
		t->worst_result = status;
}

int cli_tally_exit(const struct cli_tally *t)
{
	if (t->failed && t->through)
		return EXIT_PARTIAL;
	if (t->failed)
		return t->worst_failure;
	return t->worst_result;
}

int cli_umask(void)
{
	mode_t m = umask(077);
	umask(m);
	return (int)(m & 0777);
}

void cli_msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_progname);
	if (cmd && strcmp(cmd, cli_progname) != 0)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd && strcmp(cmd, cli_progname) != 0)
		fprintf(stderr, "Try 'sisign help %s'.\n", cmd);
	else
		fprintf(stderr, "Try '%s --help'.\n", cli_progname);
	return EXIT_USAGE;
}

int cli_quiet, cli_verbose;

const struct option cli_common_longopts[] = {
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 },
};

size_t cli_longopts_add_common(struct option *v, size_t max)
{
	size_t n = 0;

	while (v[n].name)
		n++;
	for (size_t i = 0; cli_common_longopts[i].name; i++) {
		size_t k;
		for (k = 0; k < n && strcmp(v[k].name, cli_common_longopts[i].name) != 0; k++)
			;
		if (k == n && n + 1 < max)
			v[n++] = cli_common_longopts[i];
	}
	memset(&v[n], 0, sizeof v[n]);
	return n;
}

int cli_common_opt(int c)
{
	/* The last of -q and -v wins. */
	if (c == 'q') {
		cli_quiet = 1;
		cli_verbose = 0;
		return 1;
	}
	if (c == 'v') {
		cli_verbose = 1;
		cli_quiet = 0;
		return 1;
	}
	return 0;
}

void cli_note(const char *fmt, ...)
{
	va_list ap;

	if (!cli_verbose)
		return;
	fprintf(stderr, "%s: ", cli_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions: "sgin" is one step from "sign"), on at most 63 bytes. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t d[64][64], la = strlen(a), lb = strlen(b);

	if (la > 63 || lb > 63)
		return (size_t)-1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], v = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *cli_suggest(const char *word, const char *const *cands, size_t n)
{
	/* Close enough to be a typo: one edit for short words, two from six
	 * letters on; the first of equally close candidates. */
	size_t best = (size_t)-1, len = strlen(word), limit = len >= 6 ? 2 : 1;
	const char *pick = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t dist = edit_distance(word, cands[i]);
		if (dist < best) {
			best = dist;
			pick = cands[i];
		}
	}
	return best <= limit && best < len ? pick : NULL;
}

/* The long option closest to name (without "--"), or NULL. */
static const char *suggest_long(const char *name, size_t len, const struct option *longopts)
{
	const char *cands[128];
	char word[64];
	size_t n = 0;

	if (!longopts || len >= sizeof word)
		return NULL;
	memcpy(word, name, len);
	word[len] = '\0';
	for (size_t i = 0; longopts[i].name && n < sizeof cands / sizeof cands[0]; i++)
		cands[n++] = longopts[i].name;
	return cli_suggest(word, cands, n);
}

int cli_getopt_error(const char *cmd, int c, char **argv, const struct option *longopts)
{
	const char *arg = optind > 0 ? argv[optind - 1] : NULL;
	int is_long = arg && strncmp(arg, "--", 2) == 0;
	int len = 0;
	const char *sugg;

	/* A long option names itself (without any "=value"); getopt sets optopt
	 * to the option's val for long options too, which would be misleading. */
	if (is_long)
		len = (int)strcspn(arg, "=");
	if (c == ':') {
		if (is_long)
			return cli_usage_error(cmd, "option '%.*s' needs an argument", len, arg);
		return cli_usage_error(cmd, "option '-%c' needs an argument", optopt);
	}
	if (is_long) {
		/* getopt_long takes a unique prefix; a prefix of several names
		 * comes here too. */
		size_t nmatch = 0;
		const char *first = NULL, *second = NULL;
		for (size_t i = 0; longopts && longopts[i].name; i++) {
			if (strncmp(longopts[i].name, arg + 2, (size_t)len - 2) != 0)
				continue;
			if (nmatch == 0)
				first = longopts[i].name;
			else if (nmatch == 1)
				second = longopts[i].name;
			nmatch++;
		}
		if (nmatch > 1 && len > 2)
			return cli_usage_error(cmd, "option '%.*s' is ambiguous: --%s, --%s%s", len, arg, first, second,
				nmatch > 2 ? ", ..." : "");
		sugg = suggest_long(arg + 2, (size_t)len - 2, longopts);
		if (sugg)
			return cli_usage_error(cmd, "unknown option '%.*s'; did you mean '--%s'?", len, arg, sugg);
		return cli_usage_error(cmd, "unknown option '%.*s'", len, arg);
	}
	return cli_usage_error(cmd, "unknown option '-%c'", optopt);
}

int cli_report(const char *file, const struct sisign_error *err)
{
	fe_print_error(stderr, cli_progname, file, err);
	return cli_exit_for_error(err ? err->code : SISIGN_ERR_INTERNAL);
}

static const struct cli_command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

/* "unknown command 'sgin'; did you mean 'sign'?" */
static void unknown_command(const char *name)
{
	const char *names[NCOMMANDS], *sugg;

	for (size_t i = 0; i < NCOMMANDS; i++)
		names[i] = commands[i]->name;
	sugg = cli_suggest(name, names, NCOMMANDS);
	if (sugg)
		cli_msg("unknown command '%s'; did you mean '%s'? (try 'sisign help')", name, sugg);
	else
		cli_msg("unknown command '%s' (try 'sisign help')", name);
}

static void print_command_help(const struct cli_command *c, FILE *fp)
{
	fprintf(fp, "usage: sisign %s%s%s\n\n%s.\n", c->name, c->usage && *c->usage ? " " : "",
		c->usage ? c->usage : "", c->summary);
	if (c->help)
		fprintf(fp, "\n%s", c->help);
	if (c == &cli_cmd_check)
		check_cli_help_rules(fp); /* the rule list is the library's */
}

static void print_overview(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: sisign COMMAND [OPTIONS] [ARGUMENTS]\n"
		    "       sisign --version\n\n"
		    "Read, pack, sign and verify Symbian OS 9+ SIS packages.\n\nCommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(fp, "\nEvery command takes -q/--quiet (no progress, summary or notes on stderr)\n"
		    "and -v/--verbose (notes on each step: files, key, certificate, timings).\n"
		    "Options may follow the arguments; '--' ends them.  A package named '-' is\n"
		    "standard input or output (never a terminal).\n"
		    "\nRun 'sisign help COMMAND' (or 'sisign COMMAND --help') for its options,\n"
		    "'sisign help exit-codes' for the exit statuses.\n");
}

static void print_exit_codes(FILE *fp)
{
	size_t i;

	fprintf(fp, "Exit statuses:\n");
	for (i = 0; i < sizeof exit_codes / sizeof exit_codes[0]; i++)
		fprintf(fp, "  %3d  %-12s %s\n", exit_codes[i].code, exit_codes[i].name, exit_codes[i].text);
	/* The rule cli_tally_exit() implements (cli.h). */
	fprintf(fp, "\n"
		    "Several inputs (info, verify, check, sign, unsign with several FILEs, a\n"
		    "directory or --files-from): each input either fails (it could not be\n"
		    "read, parsed, signed or checked; for info, also one described with a\n"
		    "problem) or goes through (written, skipped, described, or given a\n"
		    "verdict).  Then:\n"
		    "  - nothing failed: 0, or for verify the worst verdict, in the order\n"
		    "    8 invalid > 11 unsigned > 9 untrusted > 10 self-signed > 0 trusted,\n"
		    "    for check 14 would not install > 15 depends > 0;\n"
		    "  - some failed and some went through: 12;\n"
		    "  - every input failed: the highest of their statuses.\n"
		    "These override it: 130 when interrupted, 6 when a token fails mid-batch\n"
		    "(the rest is not started), and for --dry-run 13 (12 if an input failed).\n"
		    "With --json each input's record carries its own status as \"exit\"\n"
		    "(docs/json.md).\n");
}

static int cmd_help(int argc, char **argv)
{
	const struct cli_command *c;

	if (argc < 2) {
		print_overview(stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		return cli_usage_error("help", "too many arguments");
	if (strcmp(argv[1], "exit-codes") == 0) {
		print_exit_codes(stdout);
		return EXIT_OK;
	}
	c = find_command(argv[1]);
	if (!c) {
		unknown_command(argv[1]);
		return EXIT_USAGE;
	}
	print_command_help(c, stdout);
	return EXIT_OK;
}

static int print_version(void)
{
	printf("sisign %s\n", sisign_version());
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
}

static int cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_usage_error("version", "takes no arguments");
	return print_version();
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* Run a command, answering --help for it first. */
static int run_command(const struct cli_command *c, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0) {
			print_command_help(c, stdout);
			return fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
		}
	}
	return c->run(argc, argv);
}

static int finish(int rc)
{
	fe_secret_env_wipe();
	/* A full disk or closed pipe on stdout must not pass as success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_msg("error writing to standard output");
		if (rc == EXIT_OK)
			rc = EXIT_IO;
	}
	return rc;
}

int main(int argc, char **argv)
{
	const struct cli_command *c;
	const char *base = argc > 0 && argv[0] ? base_name(argv[0]) : "sisign";
	size_t i;

	for (i = 0; i < sizeof multicall / sizeof multicall[0]; i++) {
		if (strcmp(base, multicall[i].argv0) != 0)
			continue;
		cli_progname = multicall[i].argv0;
		c = find_command(multicall[i].command);
		if (!c) {
			cli_msg("this build of sisign has no '%s' command", multicall[i].command);
			return EXIT_USAGE;
		}
		/* The tool's own syntax: no --help interception, argv[0] kept. */
		return finish(c->run(argc, argv));
	}

	if (argc < 2) {
		print_overview(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return finish(argc == 2 ? print_version() : cli_usage_error(NULL, "--version takes no arguments"));
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_overview(stdout);
		return finish(EXIT_OK);
	}
	c = find_command(argv[1]);
	if (!c) {
		if (argv[1][0] == '-')
			cli_msg("unknown option '%s' (try 'sisign help')", argv[1]);
		else
			unknown_command(argv[1]);
		return EXIT_USAGE;
	}
	return finish(run_command(c, argc - 1, argv + 1));
}
