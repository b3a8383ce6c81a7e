/* SPDX-License-Identifier: Apache-2.0 */
/* "-" as a file name: a package read from standard input, or one written to
 * standard output (cli.h). */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sisign/package.h>

double cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cli_is_stdio(const char *path)
{
	return path && strcmp(path, "-") == 0;
}

int cli_stdio_check(const char *cmd, const char *input, const char *output)
{
	if (cli_is_stdio(input) && isatty(STDIN_FILENO))
		return cli_usage_error(cmd, "standard input is a terminal: pipe a package in, or name the file");
	if (cli_is_stdio(output) && isatty(STDOUT_FILENO))
		return cli_usage_error(cmd, "not writing a binary package to a terminal: redirect standard output "
					    "or give -o FILE");
	return EXIT_OK;
}

/* All of standard input, at most CLI_STDIN_MAX bytes. */
static int read_stdin(unsigned char **out, size_t *outlen, struct sisign_error *err)
{
	size_t len = 0, cap = 0;
	unsigned char *buf = NULL;

	*out = NULL;
	*outlen = 0;
	for (;;) {
		size_t n;
		if (len == cap) {
			size_t nc = cap ? cap * 2 : 65536;
			unsigned char *nb;
			if (cap >= CLI_STDIN_MAX) {
				free(buf);
				err->code = SISIGN_ERR_TOO_LARGE;
				snprintf(err->message, sizeof err->message,
					"standard input: more than %d MiB: give the package as a file", CLI_STDIN_MAX >> 20);
				return err->code;
			}
			if (nc > CLI_STDIN_MAX)
				nc = CLI_STDIN_MAX;
			if (!(nb = realloc(buf, nc + 1))) {
				free(buf);
				err->code = SISIGN_ERR_NOMEM;
				snprintf(err->message, sizeof err->message, "out of memory");
				return err->code;
			}
			buf = nb;
			cap = nc;
		}
		n = fread(buf + len, 1, cap - len, stdin);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(stdin)) {
		free(buf);
		err->code = SISIGN_ERR_SYSTEM;
		err->sys_errno = errno;
		snprintf(err->message, sizeof err->message, "cannot read standard input: %s", strerror(errno));
		return err->code;
	}
	*out = buf;
	*outlen = len;
	return SISIGN_OK;
}

int cli_pkg_open(const char *path, struct sisign_pkg **pkg, void **mem, struct sisign_error *err)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int r;

	*pkg = NULL;
	*mem = NULL;
	if (!cli_is_stdio(path)) {
		cli_note("reading %s", path);
		return sisign_pkg_open(path, NULL, pkg, err);
	}
	if ((r = read_stdin(&buf, &len, err)) != SISIGN_OK)
		return r;
	cli_note("read %zu bytes from standard input", len);
	r = sisign_pkg_parse_mem(buf, len, NULL, pkg, err);
	if (r != SISIGN_OK) {
		free(buf);
		return r;
	}
	*mem = buf; /* transferred: the package points into it */
	return SISIGN_OK;
}

int cli_spool_begin(struct cli_spool *sp, const char *cmd)
{
	const char *tmp = getenv("TMPDIR");

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((size_t)snprintf(sp->dir, sizeof sp->dir, "%s/sisign-stdout.XXXXXX", tmp) >= sizeof sp->dir ||
		!mkdtemp(sp->dir)) {
		cli_msg("%s: cannot make a temporary directory in %s: %s", cmd, tmp, strerror(errno));
		sp->dir[0] = sp->path[0] = '\0';
		return EXIT_IO;
	}
	snprintf(sp->path, sizeof sp->path, "%s/out.sis", sp->dir);
	return EXIT_OK;
}

int cli_spool_finish(struct cli_spool *sp, const char *cmd, int ok)
{
	int rc = EXIT_OK;

	if (!sp->dir[0])
		return EXIT_IO;
	if (ok) {
		FILE *f = fopen(sp->path, "rb");
		char buf[65536];
		size_t n, total = 0;
		if (!f) {
			cli_msg("%s: %s: %s", cmd, sp->path, strerror(errno));
			rc = EXIT_IO;
		}
		while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) {
			if (fwrite(buf, 1, n, stdout) != n) {
				rc = EXIT_IO;
				break;
			}
			total += n;
		}
		if (f && ferror(f))
			rc = EXIT_IO;
		if (f)
			fclose(f);
		if (fflush(stdout) != 0)
			rc = EXIT_IO;
		if (rc != EXIT_OK)
			cli_msg("%s: error writing the package to standard output", cmd);
		else
			cli_note("%s: wrote %zu bytes to standard output", cmd, total);
	}
	(void)unlink(sp->path);
	(void)rmdir(sp->dir);
	sp->dir[0] = '\0';
	return rc;
}
