/* SPDX-License-Identifier: Apache-2.0 */
/* sisign keys — list keys and certificates on a token, with copy-ready
 * URIs and key/certificate pairing. */
#include "cli.h"
#include "fe.h"
#include "keyopts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sisign/token.h>

static const char *kind_name(enum sisign_token_object_kind k)
{
	switch (k) {
	case SISIGN_TOKEN_OBJ_PRIVATE_KEY: return "private-key";
	case SISIGN_TOKEN_OBJ_PUBLIC_KEY: return "public-key";
	case SISIGN_TOKEN_OBJ_CERT: return "certificate";
	}
	return "unknown";
}

static const char *key_type_name(enum sisign_key_type t)
{
	switch (t) {
	case SISIGN_KEY_RSA: return "RSA";
	case SISIGN_KEY_DSA: return "DSA";
	default: return "unknown";
	}
}

static void json_object(const struct sisign_token_object *arr, size_t n, size_t i)
{
	const struct sisign_token_object *o = &arr[i];
	char t[FE_TIME_BUFSIZE];
	struct fe_json j;

	fe_json_init(&j, stdout);
	fe_json_begin_object(&j);
	fe_json_kv_string(&j, "kind", kind_name(o->kind));
	fe_json_kv_string(&j, "uri", o->uri);
	fe_json_kv_string(&j, "label", o->label);
	fe_json_kv_string(&j, "id", o->id_hex);
	fe_json_kv_string(&j, "key_type", key_type_name(o->key_type));
	fe_json_kv_int(&j, "key_bits", o->key_bits);
	fe_json_key(&j, "paired_uri");
	if (o->paired >= 0 && (size_t)o->paired < n)
		fe_json_string(&j, arr[o->paired].uri);
	else
		fe_json_null(&j);
	fe_json_key(&j, "subject");
	fe_json_string(&j, o->subject);
	fe_json_key(&j, "not_after");
	if (o->kind == SISIGN_TOKEN_OBJ_CERT && fe_time_format(o->not_after, t, sizeof t) == 0)
		fe_json_string(&j, t);
	else
		fe_json_null(&j);
	fe_json_end_object(&j);
	putchar('\n');
}

static void text_object(const struct sisign_token_object *arr, size_t n, size_t i)
{
	const struct sisign_token_object *o = &arr[i];
	char t[FE_TIME_BUFSIZE];

	printf("%s %s", kind_name(o->kind), key_type_name(o->key_type));
	if (o->key_bits)
		printf("-%d", o->key_bits);
	printf(" label \"");
	fe_fputs_safe(o->label, stdout);
	printf("\" id %s\n  uri:     ", o->id_hex[0] ? o->id_hex : "(none)");
	fe_fputs_safe(o->uri, stdout);
	putchar('\n');
	if (o->subject) {
		printf("  subject: ");
		fe_fputs_safe(o->subject, stdout);
		putchar('\n');
		fe_time_format(o->not_after, t, sizeof t);
		printf("  expires: %s\n", t);
	}
	if (o->paired >= 0 && (size_t)o->paired < n) {
		printf("  paired:  ");
		fe_fputs_safe(arr[o->paired].uri, stdout);
		putchar('\n');
	} else if (o->kind == SISIGN_TOKEN_OBJ_PRIVATE_KEY) {
		printf("  paired:  (no certificate with this id: sign with --cert FILE)\n");
	}
}

/* --uris: the URI to sign with that object i stands for, or NULL.  A
 * private key's own; a certificate or public key whose private key is not in
 * the list (the token shows it only after a login) gives its own URI with
 * type=private, which names the key of the same label and id (the library's
 * object URIs end in ";type=..."). */
static char *signing_uri(const struct sisign_token_object *arr, size_t n, size_t i)
{
	const struct sisign_token_object *o = &arr[i];
	const char *t;
	char *u;
	size_t len;

	if (o->kind == SISIGN_TOKEN_OBJ_PRIVATE_KEY)
		return strdup(o->uri);
	if (o->paired >= 0 && (size_t)o->paired < n && arr[o->paired].kind == SISIGN_TOKEN_OBJ_PRIVATE_KEY)
		return NULL; /* listed itself */
	if (!(t = strrchr(o->uri, ';')) || (strcmp(t, ";type=cert") != 0 && strcmp(t, ";type=public") != 0))
		return NULL;
	len = (size_t)(t - o->uri);
	if (!(u = malloc(len + sizeof ";type=private")))
		return NULL;
	memcpy(u, o->uri, len);
	memcpy(u + len, ";type=private", sizeof ";type=private");
	return u;
}

/* Print each signing URI of arr once (a public key and a certificate of
 * one key give the same one). */
static void print_uris(const struct sisign_token_object *arr, size_t n)
{
	char **seen = calloc(n ? n : 1, sizeof *seen);
	size_t i, k, ns = 0;
	char *u;

	for (i = 0; i < n; i++) {
		if (!(u = signing_uri(arr, n, i)))
			continue;
		for (k = 0; seen && k < ns && strcmp(seen[k], u) != 0; k++)
			;
		if (seen && k < ns) {
			free(u);
			continue;
		}
		fe_fputs_safe(u, stdout);
		putchar('\n');
		if (seen)
			seen[ns++] = u;
		else
			free(u);
	}
	for (k = 0; k < ns; k++)
		free(seen[k]);
	free(seen);
}

/* --uris without a URI: every initialised token's signing URIs.  A token
 * that cannot be listed is reported and the others still are. */
static int uris_all_tokens(struct keyopts *ko, const struct sisign_token_opts *to)
{
	struct sisign_token_info *toks = NULL;
	struct sisign_token_object *arr = NULL;
	struct sisign_error err;
	size_t nt = 0, n, i;
	int r, rc = EXIT_OK;

	sisign_error_clear(&err);
	if ((r = sisign_token_list(to, &toks, &nt, &err)) != SISIGN_OK)
		return keyopts_fail(ko, to->module ? to->module : sisign_token_default_module(), r, &err);
	for (i = 0; i < nt; i++) {
		if (!(toks[i].flags & SISIGN_TOKEN_INITIALIZED))
			continue;
		n = 0;
		sisign_error_clear(&err);
		if ((r = sisign_token_objects(toks[i].uri, to, &arr, &n, &err)) != SISIGN_OK) {
			rc = cli_worst(rc, keyopts_fail(ko, toks[i].uri, r, &err));
			continue;
		}
		print_uris(arr, n);
		sisign_token_objects_free(arr, n);
		arr = NULL;
	}
	sisign_token_info_free(toks, nt);
	return rc;
}

static int cmd_keys(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "uris", no_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	struct option longopts[24];
	struct keyopts ko;
	struct sisign_token_opts to;
	struct sisign_token_object *arr = NULL;
	struct sisign_error err;
	const char *uri = "pkcs11:";
	size_t n = 0, i;
	int c, h, json = 0, uris = 0, have_uri = 0, r;

	keyopts_init(&ko);
	keyopts_longopts(KEYOPTS_F_TOKEN, extra, longopts, sizeof longopts / sizeof longopts[0]);
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":jm:qv", longopts, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
			continue;
		}
		if (c == 'U') {
			uris = 1;
			continue;
		}
		if (c == 'm')
			c = KO_MODULE;
		h = keyopts_handle(&ko, argv[0], c, optarg);
		if (h < 0)
			return EXIT_USAGE;
		if (h == 0)
			return cli_getopt_error(argv[0], c, argv, longopts);
	}
	if (json && uris)
		return cli_usage_error(argv[0], "--json and --uris do not go together");
	if (optind < argc) {
		uri = argv[optind++];
		have_uri = 1;
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
	if (!keyopts_is_uri(uri))
		return cli_usage_error(argv[0], "'%s' is not a pkcs11: URI", uri);
	keyopts_token_opts(&ko, &to);
	if (uris) {
		/* Never a login, whatever PIN source there is. */
		to.pin_cb = NULL;
		to.pin_cb_data = NULL;
		if (!have_uri)
			return uris_all_tokens(&ko, &to);
	}
	/* No PIN given and nobody to ask: list what needs no login (public
	 * keys, certificates, and private keys the token shows without one),
	 * as the help says, instead of failing for want of a prompt. */
	if (!to.pin_cb_explicit && !fe_secret_can_prompt()) {
		to.pin_cb = NULL;
		to.pin_cb_data = NULL;
	}
	sisign_error_clear(&err);
	r = sisign_token_objects(uri, &to, &arr, &n, &err);
	if (r != SISIGN_OK)
		return keyopts_fail(&ko, uri, r, &err);
	if (cli_verbose) {
		char *safe = sisign_token_uri_redact(uri);
		cli_note("keys: %zu object(s) matching %s in %s (%s)", n, safe ? safe : "?",
			to.module ? to.module : sisign_token_default_module(),
			to.pin_cb ? "logged in if the token asked" : "no login: no PIN source and no terminal");
		free(safe);
	}
	if (uris) {
		print_uris(arr, n);
		sisign_token_objects_free(arr, n);
		return EXIT_OK;
	}
	for (i = 0; i < n; i++) {
		if (json) {
			json_object(arr, n, i);
		} else {
			if (i > 0)
				putchar('\n');
			text_object(arr, n, i);
		}
	}
	if (!json && n == 0)
		printf("no keys or certificates found\n");
	sisign_token_objects_free(arr, n);
	return EXIT_OK;
}

const struct cli_command cli_cmd_keys = {
	"keys",
	"[URI] [--json | --uris] [--module PATH] [PIN options]",
	"list keys and certificates on a PKCS#11 token",
	cmd_keys,
	"Lists the keys and certificates on the one token URI names (default\n"
	"'pkcs11:', which must then match a single initialised token: a token\n"
	"without CKF_TOKEN_INITIALIZED, such as SoftHSM's spare empty slot, is\n"
	"never a candidate), each with a copy-ready\n"
	"URI for `sisign sign --key`, key type and size, the object it pairs\n"
	"with by CKA_ID, and for certificates the subject and expiry.  Logs in\n"
	"when a PIN is available so private keys show (--pin-fd, --pin-file,\n"
	"$SISIGN_PIN, the URI's pin-source, or a prompt when there is a\n"
	"terminal); without one it lists what the token shows without a login.\n"
	"An ambiguous URI is an error that lists the candidates.\n"
	"\n"
	"Options:\n"
	"  -j, --json            one JSON document per object, one per line\n"
	"      --uris            only the key URIs to sign with, one a line, and\n"
	"                        never a login: each private key's, and for a key\n"
	"                        the token shows only after a login, its\n"
	"                        certificate's or public key's URI with\n"
	"                        type=private.  Without URI: the keys of every\n"
	"                        initialised token (shell completion uses this)\n"
	"  -m, --module PATH     the PKCS#11 module to load\n"
	"      --allow-module DIR, --pin-fd N, --pin-file F, --allow-pin-in-uri,\n"
	"      --force           as for `sisign sign`; the PIN also comes from\n"
	"                        $SISIGN_PIN or a prompt\n"
	"  -q, --quiet           no notes on stderr (errors still shown)\n"
	"  -v, --verbose         notes on stderr: the module, the URI and whether\n"
	"                        a login was possible\n"
	"\n"
	"Exit: 0; 6 token not found, ambiguous or failed; 7 PIN problem.\n",
};
