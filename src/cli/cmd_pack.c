/* SPDX-License-Identifier: Apache-2.0 */
/* sisign pack — build an unsigned SIS package from local files. */
#include "cli.h"
#include "fe.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sisign/package.h>

#define MAX_ITEMS 256 /* names, vendors, languages, files */

struct pack_args {
	const char *names[MAX_ITEMS];
	size_t nnames;
	const char *lvendors[MAX_ITEMS];
	size_t nlvendors;
	uint32_t langs[MAX_ITEMS];
	size_t nlangs;
	struct sisign_pack_file files[MAX_ITEMS];
	char *specs[MAX_ITEMS]; /* strdup'd -f arguments the files point into */
	size_t nfiles;
};

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > 0xffffffffULL)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "1", "1.2" or "1.2.3"; missing parts are 0. */
static int parse_version(const char *s, struct sisign_version *v)
{
	long parts[3] = { 0, 0, 0 };
	int i = 0;
	const char *p = s;

	for (;;) {
		char *end;
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		parts[i] = strtol(p, &end, 10);
		if (errno || parts[i] > 0x7fffffffL)
			return -1;
		i++;
		if (*end == '\0')
			break;
		if (*end != '.' || i == 3)
			return -1;
		p = end + 1;
	}
	v->major = (int32_t)parts[0];
	v->minor = (int32_t)parts[1];
	v->build = (int32_t)parts[2];
	return 0;
}

/* "Cap1+Cap2" → bit mask. */
static int parse_caps(const char *list, uint32_t *mask)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int r = 0;

	*mask = 0;
	if (!copy)
		return cli_usage_error("pack", "out of memory");
	for (tok = strtok_r(copy, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
		int cap = sisign_capability_from_name(tok);
		if (cap < 0 || cap > 31) {
			r = cli_usage_error("pack", "unknown capability '%s' in '%s'", tok, list);
			break;
		}
		*mask |= 1u << cap;
	}
	if (r == 0 && *mask == 0)
		r = cli_usage_error("pack", "empty capability list in '%s'", list);
	free(copy);
	return r;
}

/* LOCAL=TARGET[,caps=Cap1+Cap2].  The first '=' separates LOCAL from
 * TARGET; the last ",caps=" starts the capability list. */
static int parse_file_spec(struct pack_args *a, const char *arg)
{
	struct sisign_pack_file *f;
	struct stat st;
	char *spec, *eq, *caps;
	int r;

	if (a->nfiles == MAX_ITEMS)
		return cli_usage_error("pack", "too many files (at most %d)", MAX_ITEMS);
	spec = strdup(arg);
	if (!spec)
		return cli_usage_error("pack", "out of memory");
	a->specs[a->nfiles] = spec;
	f = &a->files[a->nfiles++];
	memset(f, 0, sizeof *f);

	caps = NULL;
	for (char *p = strstr(spec, ",caps="); p; p = strstr(p + 1, ",caps="))
		caps = p;
	if (caps) {
		*caps = '\0';
		caps += strlen(",caps=");
		if ((r = parse_caps(caps, &f->capabilities)) != 0)
			return r;
	}
	eq = strchr(spec, '=');
	if (!eq || eq == spec || eq[1] == '\0')
		return cli_usage_error("pack", "-f '%s': expected LOCAL=TARGET, e.g. "
			"-f build/x.exe='!:\\sys\\bin\\x.exe'", arg);
	*eq = '\0';
	f->source = spec;
	f->target = eq + 1;
	if (stat(f->source, &st) != 0)
		return cli_usage_error("pack", "-f '%s': %s: %s", arg, f->source, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return cli_usage_error("pack", "-f '%s': %s is not a regular file", arg, f->source);
	if (access(f->source, R_OK) != 0)
		return cli_usage_error("pack", "-f '%s': %s: %s", arg, f->source, strerror(errno));
	return 0;
}

static int push(const char **arr, size_t *n, const char *v, const char *what)
{
	if (*n == MAX_ITEMS)
		return cli_usage_error("pack", "too many %s (at most %d)", what, MAX_ITEMS);
	arr[(*n)++] = v;
	return 0;
}

/* The library's warnings (a file for \sys\bin\ that is not a usable
 * E32 image): shown even with --quiet, like every warning. */
static void pack_warning(void *userdata, const char *message)
{
	(void)userdata;
	cli_msg("warning: %s", message);
}

enum {
	OPT_VENDOR = 256,
	OPT_LVENDOR,
	OPT_VERSION,
	OPT_S60V3,
	OPT_TYPE,
	OPT_STORE,
	OPT_CREATED,
	OPT_CAPS_HELP,
};

static int cmd_pack(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "uid", required_argument, NULL, 'u' },
		{ "name", required_argument, NULL, 'n' },
		{ "vendor", required_argument, NULL, OPT_VENDOR },
		{ "localised-vendor", required_argument, NULL, OPT_LVENDOR },
		{ "localized-vendor", required_argument, NULL, OPT_LVENDOR },
		{ "version", required_argument, NULL, OPT_VERSION },
		{ "language", required_argument, NULL, 'l' },
		{ "file", required_argument, NULL, 'f' },
		{ "s60v3", no_argument, NULL, OPT_S60V3 },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "store", no_argument, NULL, OPT_STORE },
		{ "created", required_argument, NULL, OPT_CREATED },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct pack_args *a = NULL;
	struct sisign_pack_opts po;
	struct sisign_datetime created;
	struct sisign_error err;
	const char *out = NULL, *uid_arg = NULL;
	const char **names = NULL, **vendors = NULL;
	size_t i;
	long lang;
	int c, t, r, rc = EXIT_ERROR;
	time_t when;

	memset(&po, 0, sizeof po);
	a = calloc(1, sizeof *a);
	if (!a) {
		cli_msg("out of memory");
		return EXIT_ERROR;
	}
	po.vendor = "";
	po.warning = pack_warning;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":u:n:l:f:o:qv", longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			uid_arg = optarg;
			if (parse_u32(optarg, &po.uid) != 0 || po.uid == 0) {
				rc = cli_usage_error(argv[0], "--uid '%s': expected a non-zero 32-bit number such as 0xE0001234", optarg);
				goto out;
			}
			break;
		case 'n':
			if (!*optarg) {
				rc = cli_usage_error(argv[0], "--name: the name must not be empty");
				goto out;
			}
			if ((rc = push(a->names, &a->nnames, optarg, "names")) != 0)
				goto out;
			break;
		case OPT_VENDOR:
			po.vendor = optarg;
			break;
		case OPT_LVENDOR:
			if ((rc = push(a->lvendors, &a->nlvendors, optarg, "localised vendors")) != 0)
				goto out;
			break;
		case OPT_VERSION:
			if (parse_version(optarg, &po.version) != 0) {
				rc = cli_usage_error(argv[0], "--version '%s': expected MAJOR.MINOR.BUILD, e.g. 1.2.3", optarg);
				goto out;
			}
			break;
		case 'l':
			lang = fe_language_parse(optarg);
			if (lang < 0) {
				rc = cli_usage_error(argv[0], "--language '%s': unknown language (use a code such as EN, FI or 1)", optarg);
				goto out;
			}
			for (i = 0; i < a->nlangs; i++)
				if (a->langs[i] == (uint32_t)lang) {
					rc = cli_usage_error(argv[0], "--language '%s': given twice", optarg);
					goto out;
				}
			if (a->nlangs == MAX_ITEMS) {
				rc = cli_usage_error(argv[0], "too many languages");
				goto out;
			}
			a->langs[a->nlangs++] = (uint32_t)lang;
			break;
		case 'f':
			if ((rc = parse_file_spec(a, optarg)) != 0)
				goto out;
			break;
		case OPT_S60V3:
			po.platform = 1;
			break;
		case OPT_TYPE:
			t = fe_install_type_parse(optarg);
			if (t < 0) {
				rc = cli_usage_error(argv[0], "--type '%s': expected SA, SP, PU, PA or PP", optarg);
				goto out;
			}
			po.install_type = (uint8_t)t;
			break;
		case OPT_STORE:
			po.store = 1;
			break;
		case OPT_CREATED:
			if (fe_time_parse(optarg, &when) != 0) {
				rc = cli_usage_error(argv[0], "--created '%s': expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", optarg);
				goto out;
			} else {
				struct tm tm;
				if (!gmtime_r(&when, &tm) || tm.tm_year + 1900 > 0xffff) {
					rc = cli_usage_error(argv[0], "--created '%s': out of range", optarg);
					goto out;
				}
				created.year = (uint16_t)(tm.tm_year + 1900);
				created.month = (uint8_t)(tm.tm_mon + 1);
				created.day = (uint8_t)tm.tm_mday;
				created.hour = (uint8_t)tm.tm_hour;
				created.minute = (uint8_t)tm.tm_min;
				created.second = (uint8_t)tm.tm_sec;
				po.created = &created;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'q':
		case 'v':
			(void)cli_common_opt(c);
			break;
		default:
			rc = cli_getopt_error(argv[0], c, argv, longopts);
			goto out;
		}
	}
	if (optind < argc) {
		rc = cli_usage_error(argv[0], "unexpected argument '%s' (files are given with -f LOCAL=TARGET)", argv[optind]);
		goto out;
	}
	if (!uid_arg) {
		rc = cli_usage_error(argv[0], "--uid is required");
		goto out;
	}
	if (!out) {
		rc = cli_usage_error(argv[0], "-o OUTPUT is required");
		goto out;
	}
	if (a->nnames == 0) {
		rc = cli_usage_error(argv[0], "at least one --name is required");
		goto out;
	}
	if (a->nlangs == 0)
		a->langs[a->nlangs++] = 1; /* English */
	if (a->nnames != 1 && a->nnames != a->nlangs) {
		rc = cli_usage_error(argv[0], "%zu names for %zu languages: give one --name per --language (or one for all)",
			a->nnames, a->nlangs);
		goto out;
	}
	if (a->nlvendors > 1 && a->nlvendors != a->nlangs) {
		rc = cli_usage_error(argv[0], "%zu localised vendors for %zu languages: give one per --language (or one for all)",
			a->nlvendors, a->nlangs);
		goto out;
	}
	/* One name (or localised vendor) for every language. */
	names = calloc(a->nlangs, sizeof *names);
	if (a->nlvendors)
		vendors = calloc(a->nlangs, sizeof *vendors);
	if (!names || (a->nlvendors && !vendors)) {
		cli_msg("out of memory");
		rc = EXIT_ERROR;
		goto out;
	}
	for (i = 0; i < a->nlangs; i++) {
		names[i] = a->names[a->nnames == 1 ? 0 : i];
		if (vendors)
			vendors[i] = a->lvendors[a->nlvendors == 1 ? 0 : i];
	}
	po.names = names;
	po.vendors = vendors;
	po.languages = a->langs;
	po.nlanguages = a->nlangs;
	po.files = a->files;
	po.nfiles = a->nfiles;

	if ((rc = cli_stdio_check(argv[0], NULL, out)) != EXIT_OK)
		goto out;
	sisign_error_clear(&err);
	if (cli_is_stdio(out)) {
		/* Standard output: the whole package, once it is complete. */
		struct cli_spool sp = { 0 };
		if ((rc = cli_spool_begin(&sp, argv[0])) != EXIT_OK)
			goto out;
		r = sisign_pack(&po, sp.path, &err);
		rc = cli_spool_finish(&sp, argv[0], r == SISIGN_OK);
	} else {
		r = sisign_pack(&po, out, &err);
		if (r == SISIGN_OK)
			cli_note("wrote %s", out);
	}
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		rc = cli_report(out, &err);
		goto out;
	}
out:
	if (a)
		for (i = 0; i < a->nfiles; i++)
			free(a->specs[i]);
	free(a);
	free(names);
	free(vendors);
	return rc;
}

const struct cli_command cli_cmd_pack = {
	"pack",
	"--uid UID --name NAME [OPTIONS] -f LOCAL=TARGET[,caps=CAP+CAP]... -o OUTPUT|-",
	"build an unsigned SIS package from local files",
	cmd_pack,
	"Options:\n"
	"  -u, --uid UID             package UID, e.g. 0xE0001234 (required)\n"
	"  -n, --name NAME           package name; once per --language, in the same\n"
	"                            order, or once for all languages (required)\n"
	"      --vendor NAME         unique (non-localised) vendor name; also the\n"
	"                            localised vendor unless --localised-vendor is given\n"
	"      --localised-vendor NAME  vendor name per language (repeatable, like --name)\n"
	"      --version X.Y.Z       package version (default 0.0.0)\n"
	"  -l, --language LANG       a supported language: a code such as EN, FR, GE,\n"
	"                            FI, a number (TLanguage, e.g. 1 or 09) or an English\n"
	"                            name; repeatable; default English\n"
	"  -f, --file LOCAL=TARGET[,caps=CAP+CAP...]\n"
	"                            install local file LOCAL as TARGET on the device,\n"
	"                            e.g. -f 'build/x.exe=!:\\sys\\bin\\x.exe,caps=ReadUserData+WriteUserData'.\n"
	"                            The first '=' ends LOCAL; a final ',caps=' lists the\n"
	"                            file's capabilities by name, joined with '+'.\n"
	"                            A TARGET directly in \\sys\\bin\\ must be an EXE or\n"
	"                            DLL (E32 image): its capabilities are read from its\n"
	"                            header, as makesis does (no field when it has none);\n"
	"                            a caps= list that differs is an error (exit 2), and\n"
	"                            a file there that is not an E32 image, or whose\n"
	"                            header the installer refuses, is a warning.\n"
	"                            LOCAL may hold at most 1073741822 bytes (0x3FFFFFFE,\n"
	"                            the largest file a device installs).\n"
	"      --s60v3               add the S60 3rd Edition platform dependency\n"
	"                            (0x101F7961)\n"
	"      --type TYPE           install type: SA (default), SP, PU, PA or PP\n"
	"      --store               do not compress the controller or the file data\n"
	"      --created TIME        creation time, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ\n"
	"                            (default now; fix it for reproducible output)\n"
	"  -o, --output OUTPUT       the package to write (required); '-' is\n"
	"                            standard output (never a terminal: exit 2),\n"
	"                            written only once the package is complete\n"
	"  -q, --quiet               no notes on stderr (errors still shown)\n"
	"  -v, --verbose             notes on stderr: the file written\n",
};
