/* SPDX-License-Identifier: Apache-2.0 */
/* sisign tokens — list PKCS#11 tokens (no login). */
#include "cli.h"
#include "fe.h"
#include "keyopts.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <sisign/token.h>

static const struct {
	unsigned bit;
	const char *text;
} token_flags[] = {
	{ SISIGN_TOKEN_INITIALIZED, "initialised" },
	{ SISIGN_TOKEN_LOGIN_REQUIRED, "login required" },
	{ SISIGN_TOKEN_PIN_PAD, "PIN pad" },
	{ SISIGN_TOKEN_USER_PIN_COUNT_LOW, "PIN count low" },
	{ SISIGN_TOKEN_USER_PIN_FINAL_TRY, "PIN final try" },
	{ SISIGN_TOKEN_USER_PIN_LOCKED, "PIN locked" },
	{ SISIGN_TOKEN_USER_PIN_TO_BE_CHANGED, "PIN to be changed" },
	{ SISIGN_TOKEN_READ_ONLY, "read-only" },
};
#define NFLAGS (sizeof token_flags / sizeof token_flags[0])

static int cmd_tokens(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "module", required_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct sisign_token_opts to;
	struct sisign_token_info *arr = NULL;
	struct sisign_error err;
	size_t n = 0, i, f;
	int c, json = 0, r, first;

	memset(&to, 0, sizeof to);
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":jm:qv", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'm': to.module = optarg; break;
		case 'q':
		case 'v': (void)cli_common_opt(c); break;
		default: return cli_getopt_error(argv[0], c, argv, longopts);
		}
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
	sisign_error_clear(&err);
	r = sisign_token_list(&to, &arr, &n, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		return cli_report(to.module ? to.module : sisign_token_default_module(), &err);
	}
	cli_note("tokens: %zu in %s", n, to.module ? to.module : sisign_token_default_module());
	for (i = 0; i < n; i++) {
		const struct sisign_token_info *t = &arr[i];
		if (json) {
			struct fe_json j;
			fe_json_init(&j, stdout);
			fe_json_begin_object(&j);
			fe_json_kv_string(&j, "uri", t->uri);
			fe_json_kv_string(&j, "label", t->label);
			fe_json_kv_string(&j, "serial", t->serial);
			fe_json_kv_string(&j, "manufacturer", t->manufacturer);
			fe_json_kv_string(&j, "model", t->model);
			fe_json_kv_string(&j, "module", t->module_path);
			fe_json_kv_uint64(&j, "slot", t->slot_id);
			fe_json_key(&j, "flags");
			fe_json_begin_array(&j);
			for (f = 0; f < NFLAGS; f++)
				if (t->flags & token_flags[f].bit)
					fe_json_string(&j, token_flags[f].text);
			fe_json_end_array(&j);
			fe_json_end_object(&j);
			putchar('\n');
			if (fe_json_finish(&j) != 0) {
				sisign_token_info_free(arr, n);
				return EXIT_ERROR;
			}
			continue;
		}
		if (i > 0)
			putchar('\n');
		printf("token:  ");
		if (t->label && t->label[0])
			fe_fputs_safe(t->label, stdout);
		else if (!(t->flags & SISIGN_TOKEN_INITIALIZED))
			printf("(not initialised: an empty slot, nothing to sign with)");
		else
			printf("(no label)");
		printf("\n  uri:    ");
		fe_fputs_safe(t->uri, stdout);
		printf("\n  serial: ");
		fe_fputs_safe(t->serial, stdout);
		printf("\n  model:  ");
		fe_fputs_safe(t->model, stdout);
		printf(" (");
		fe_fputs_safe(t->manufacturer, stdout);
		printf(")\n  module: ");
		fe_fputs_safe(t->module_path, stdout);
		printf("\n  slot:   %lu (informative only; changes between runs)\n  flags:  ", t->slot_id);
		first = 1;
		for (f = 0; f < NFLAGS; f++)
			if (t->flags & token_flags[f].bit) {
				printf("%s%s", first ? "" : ", ", token_flags[f].text);
				first = 0;
			}
		if (!(t->flags & SISIGN_TOKEN_INITIALIZED)) {
			printf("%snot initialised", first ? "" : ", ");
			first = 0;
		}
		printf("%s\n", first ? "(none)" : "");
	}
	if (!json && n == 0)
		printf("no tokens found\n");
	sisign_token_info_free(arr, n);
	return EXIT_OK;
}

const struct cli_command cli_cmd_tokens = {
	"tokens",
	"[--json] [--module PATH]",
	"list PKCS#11 tokens",
	cmd_tokens,
	"Lists every token the module offers (default: the p11-kit proxy, i.e.\n"
	"every module registered with p11-kit) with its URI, label, serial, model,\n"
	"module, slot and flags: initialised, login required, PIN pad, PIN count\n"
	"low, PIN final try, PIN locked.  Does not log in.\n"
	"\n"
	"Options:\n"
	"  -j, --json          one JSON document per token, one per line\n"
	"  -m, --module PATH   the PKCS#11 module to load\n"
	"  -q, --quiet         no notes on stderr (errors still shown)\n"
	"  -v, --verbose       notes on stderr: the module and how many tokens\n"
	"\n"
	"Exit: 0; 6 the module could not be loaded.\n",
};
