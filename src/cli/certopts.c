/* SPDX-License-Identifier: Apache-2.0 */
/* Shared certificate options (certopts.h). */
#include "certopts.h"
#include "cli.h"
#include "fe.h"
#include "keyopts.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void certopts_init(struct certopts *co)
{
	memset(co, 0, sizeof *co);
	co->cp.digest = SISIGN_DIGEST_SHA1;
}

size_t certopts_longopts(int which, struct option *out, size_t max)
{
	static const struct option cert[] = {
		{ "subject", required_argument, NULL, CO_SUBJECT },
		{ "days", required_argument, NULL, CO_DAYS },
		{ "not-before", required_argument, NULL, CO_NOT_BEFORE },
		{ "not-after", required_argument, NULL, CO_NOT_AFTER },
		{ "digest", required_argument, NULL, CO_DIGEST },
	};
	static const struct option outp[] = {
		{ "der", no_argument, NULL, CO_DER },
		{ "out", required_argument, NULL, CO_OUT },
	};
	static const struct option obj[] = {
		{ "label", required_argument, NULL, CO_LABEL },
		{ "id", required_argument, NULL, CO_ID },
	};
	size_t n = 0, i;

	if (which & CO_F_CERT)
		for (i = 0; i < sizeof cert / sizeof cert[0] && n + 1 < max; i++)
			out[n++] = cert[i];
	if (which & CO_F_OUT)
		for (i = 0; i < sizeof outp / sizeof outp[0] && n + 1 < max; i++)
			out[n++] = outp[i];
	if (which & CO_F_OBJ)
		for (i = 0; i < sizeof obj / sizeof obj[0] && n + 1 < max; i++)
			out[n++] = obj[i];
	memset(&out[n], 0, sizeof out[n]);
	return n;
}

long certopts_parse_hex(const char *s, unsigned char *buf, size_t size)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;
		if (*s == ':' && hi < 0)
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= size)
			return -1;
		buf[n++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	return hi >= 0 || n == 0 ? -1 : (long)n;
}

void certopts_token_longopts(int which, const struct option *own, struct option *tmp, size_t ntmp,
	struct option *out, size_t max)
{
	size_t n = certopts_longopts(which, tmp, ntmp);

	for (size_t i = 0; own && own[i].name && n + 1 < ntmp; i++)
		tmp[n++] = own[i];
	memset(&tmp[n], 0, sizeof tmp[n]);
	keyopts_longopts(KEYOPTS_F_TOKEN, tmp, out, max);
}

int certopts_keyopts_handle(struct certopts *co, struct keyopts *ko, const char *cmd, int c, const char *arg)
{
	int r;

	if ((r = certopts_handle(co, cmd, c, arg)) != 0)
		return r;
	return keyopts_handle(ko, cmd, c, arg);
}

int certopts_handle(struct certopts *co, const char *cmd, int c, const char *arg)
{
	char *end;
	long v;
	time_t t;

	switch (c) {
	case CO_SUBJECT:
		co->cp.subject = arg;
		return 1;
	case CO_DAYS:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || end == arg || v < 1 || v > 36500) {
			cli_usage_error(cmd, "--days needs a number of days from 1 to 36500, not '%s'", arg);
			return -1;
		}
		co->cp.days = (int)v;
		return 1;
	case CO_NOT_BEFORE:
	case CO_NOT_AFTER:
		if (fe_time_parse(arg, &t) != 0) {
			cli_usage_error(cmd, "%s needs YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, not '%s'",
				c == CO_NOT_BEFORE ? "--not-before" : "--not-after", arg);
			return -1;
		}
		if (c == CO_NOT_BEFORE)
			co->cp.not_before = t;
		else
			co->cp.not_after = t;
		return 1;
	case CO_DIGEST:
		if (strcasecmp(arg, "sha1") == 0 || strcasecmp(arg, "sha-1") == 0)
			co->cp.digest = SISIGN_DIGEST_SHA1;
		else if (strcasecmp(arg, "sha256") == 0 || strcasecmp(arg, "sha-256") == 0)
			co->cp.digest = SISIGN_DIGEST_SHA256;
		else {
			cli_usage_error(cmd, "--digest is sha1 or sha256, not '%s'", arg);
			return -1;
		}
		return 1;
	case CO_DER:
		co->der = 1;
		return 1;
	case CO_OUT:
		co->out = arg;
		return 1;
	case CO_LABEL:
		if (!*arg) {
			cli_usage_error(cmd, "--label must not be empty");
			return -1;
		}
		co->label = arg;
		return 1;
	case CO_ID:
		v = certopts_parse_hex(arg, co->id, sizeof co->id);
		if (v < 0) {
			cli_usage_error(cmd, "--id needs 1 to %zu bytes in hex (e.g. 01 or a1:b2), not '%s'", sizeof co->id,
				arg);
			return -1;
		}
		co->id_len = (size_t)v;
		return 1;
	default:
		return 0;
	}
}

int certopts_write(const struct certopts *co, const char *cmd, const unsigned char *der, size_t len,
	const char *pem_type)
{
	struct sisign_error err;

	(void)cmd;
	sisign_error_clear(&err);
	if (!co->out || strcmp(co->out, "-") == 0) {
		if (co->der) {
			if (isatty(STDOUT_FILENO)) {
				cli_msg("not writing DER to a terminal; use -o FILE");
				return EXIT_USAGE;
			}
			return fwrite(der, 1, len, stdout) == len ? EXIT_OK : EXIT_IO;
		}
		{
			char *pem = NULL;
			int ok;
			if (sisign_pem_encode(pem_type, der, len, &pem, &err) != SISIGN_OK)
				return cli_report(NULL, &err);
			ok = fputs(pem, stdout) >= 0;
			free(pem);
			if (!ok)
				return EXIT_IO;
		}
		return EXIT_OK;
	}
	if (sisign_der_write_file(co->out, der, len, co->der ? NULL : pem_type, 0, &err) != SISIGN_OK)
		return cli_report(co->out, &err);
	cli_note("wrote %s (%s, %zu bytes of DER)", co->out, co->der ? "DER" : pem_type, len);
	return EXIT_OK;
}
