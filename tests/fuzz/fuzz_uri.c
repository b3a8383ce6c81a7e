/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: PKCS#11 URI handling without a token (src/lib/pkcs11/
 * tok_uri.c): tok_uri_parse, the module choice (tok_resolve_module with
 * tok_module_path_allowed behind it) and the PIN file reader
 * (tok_read_pin_source), fed both from a parsed URI's module-path and
 * pin-source and from the raw input.
 *
 * Safety: nothing is loaded.  tok_resolve_module only reads a module-name
 * through p11-kit's registry, which loads every registered module, so the
 * name is dropped from the URI first; the other branches just pick a
 * path.  tok_module_path_allowed only resolves directories (realpath).
 * Every pin-source that would open a file is redirected into a private
 * temp directory ("/x" -> TMP/x, ".." defused), which holds a few PIN
 * files made at start-up: so no file outside it is read, and no FIFO or
 * device is ever opened.
 *
 * Invariants: failures fill the error record and give no output; an
 * accepted module path is absolute and lies in an allowed directory; a PIN
 * read is NUL-terminated, shorter than the buffer, and matches the file. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <p11-kit/uri.h>

#include "fuzz_util.h"
#include "pkcs11/token_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char fz_dir[200];
static char fz_pinlong[300];

static void put_file(const char *name, const char *text, mode_t mode)
{
	char path[300];
	int fd;

	snprintf(path, sizeof path, "%s/%s", fz_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FZ_ASSERT(fd >= 0);
	FZ_ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	FZ_ASSERT(fchmod(fd, mode) == 0);
	close(fd);
}

static void cleanup_dir(void)
{
	static const char *const names[] = { "pin", "pin-crlf", "pin-open", "pin-long", "pin-empty", NULL };
	char path[300];

	if (!fz_dir[0])
		return;
	for (size_t i = 0; names[i]; i++) {
		snprintf(path, sizeof path, "%s/%s", fz_dir, names[i]);
		(void)unlink(path);
	}
	snprintf(path, sizeof path, "%s/dir", fz_dir);
	(void)rmdir(path);
	(void)rmdir(fz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("SISIGN_FUZZ_TMPDIR");
	char path[300];

	(void)argc;
	(void)argv;
	if (!base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz_dir, sizeof fz_dir, "%s/sisign-fuzz-uri-XXXXXX", base);
	if (!mkdtemp(fz_dir)) {
		perror("mkdtemp");
		abort();
	}
	atexit(cleanup_dir);
	memset(fz_pinlong, '7', sizeof fz_pinlong - 1);
	fz_pinlong[sizeof fz_pinlong - 1] = '\0';
	put_file("pin", "1234\n", 0600);
	put_file("pin-crlf", "5678\r\n", 0400);
	put_file("pin-open", "1234\n", 0644);
	put_file("pin-long", fz_pinlong, 0600);
	put_file("pin-empty", "", 0600);
	snprintf(path, sizeof path, "%s/dir", fz_dir);
	FZ_ASSERT(mkdir(path, 0700) == 0);
	return 0;
}

/* The pin-source value with any file path moved under fz_dir: the reader
 * opens only what starts with '/' once "file:" and "//" are skipped (the
 * rest it refuses without touching the file system), so that part gets the
 * prefix.  "..": replaced by "__" so the path cannot climb out. */
static char *confine_source(const char *src)
{
	const char *path = src;
	size_t pre, n;
	char *out, *q;

	if (strncmp(path, "file:", 5) == 0) {
		path += 5;
		if (strncmp(path, "//", 2) == 0)
			path += 2;
	}
	if (path[0] != '/')
		return strdup(src);
	pre = (size_t)(path - src);
	n = pre + strlen(fz_dir) + strlen(path) + 1;
	if (!(out = malloc(n)))
		return NULL;
	snprintf(out, n, "%.*s%s%s", (int)pre, src, fz_dir, path);
	for (q = out + pre; (q = strstr(q, "..")) != NULL;)
		q[0] = q[1] = '_';
	return out;
}

static void check_pin_source(const char *src, size_t size)
{
	char *conf = confine_source(src), *buf;
	struct sisign_error err;
	size_t len = 12345;
	int r;

	if (!conf)
		return;
	if (!(buf = malloc(size))) {
		free(conf);
		return;
	}
	memset(buf, 'x', size);
	sisign_error_clear(&err);
	r = tok_read_pin_source(conf, buf, size, &len, &err);
	if (r != SISIGN_OK) {
		fz_check_error(r, &err);
		FZ_ASSERT(len == 0);
	} else {
		FZ_ASSERT(size >= 2);
		FZ_ASSERT(len < size);
		FZ_ASSERT(buf[len] == '\0');
		FZ_ASSERT(strlen(buf) == len);
		/* What the fixed files hold, less one line ending. */
		FZ_ASSERT(len == 0 || strcmp(buf, "1234") == 0 || strcmp(buf, "5678") == 0 ||
			  (len == size - 1 && strspn(buf, "7") == len));
	}
	free(buf);
	free(conf);
}

static void check_module_path(const char *path)
{
	const char *const extra[] = { fz_dir, NULL };
	struct sisign_error err;
	int r;

	char *resolved = NULL;
	struct stat st;

	sisign_error_clear(&err);
	r = tok_module_path_allowed(path, extra, &resolved, &st, &err);
	if (r != SISIGN_OK) {
		fz_check_error(r, &err);
		FZ_ASSERT(r == SISIGN_ERR_BAD_URI || r == SISIGN_ERR_MODULE || r == SISIGN_ERR_NOMEM);
		FZ_ASSERT(resolved == NULL);
	} else {
		FZ_ASSERT(path[0] == '/');
		FZ_ASSERT(resolved != NULL && resolved[0] == '/');
		FZ_ASSERT(S_ISREG(st.st_mode));
	}
	free(resolved);
}

static void check_uri(const char *s, size_t pinsize, int with_module)
{
	const char *const extra[] = { fz_dir, NULL };
	struct sisign_token_opts opts;
	struct sisign_error err;
	P11KitUri *uri = NULL;
	const char *v;
	char *path = NULL;
	struct stat st;
	int r;

	sisign_error_clear(&err);
	r = tok_uri_parse(s, &uri, &err);
	if (r != SISIGN_OK) {
		fz_check_error(r, &err);
		FZ_ASSERT(r == SISIGN_ERR_BAD_URI || r == SISIGN_ERR_NOMEM);
		FZ_ASSERT(uri == NULL);
		return;
	}
	FZ_ASSERT(uri != NULL);
	if ((v = p11_kit_uri_get_pin_source(uri)) != NULL)
		check_pin_source(v, pinsize);
	if ((v = p11_kit_uri_get_module_path(uri)) != NULL && *v)
		check_module_path(v);
	/* A module-name would make p11-kit load every registered module. */
	p11_kit_uri_set_module_name(uri, NULL);
	memset(&opts, 0, sizeof opts);
	opts.module = with_module ? "/nonexistent/fuzz-module.so" : NULL;
	opts.allowed_module_dirs = extra;
	sisign_error_clear(&err);
	r = tok_resolve_module(uri, &opts, &path, &st, &err);
	if (r != SISIGN_OK) {
		fz_check_error(r, &err);
		FZ_ASSERT(path == NULL);
	} else {
		FZ_ASSERT(path != NULL && path[0] != '\0');
		v = p11_kit_uri_get_module_path(uri);
		if (v && *v)
			FZ_ASSERT(strcmp(path, v) == 0);
		else if (with_module)
			FZ_ASSERT(strcmp(path, opts.module) == 0);
	}
	free(path);
	p11_kit_uri_free(uri);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t pinsizes[] = { TOK_PIN_MAX + 1, 1, 2, 5, 6, 64 };
	char *s = fz_cstr(data, size);
	size_t pinsize;

	if (!fz_dir[0])
		(void)LLVMFuzzerInitialize(NULL, NULL);
	if (!s)
		return 0;
	/* The length picks the PIN buffer size and whether --module is set,
	 * so the short-buffer and "PIN too long" paths are reached too. */
	pinsize = pinsizes[size % (sizeof pinsizes / sizeof pinsizes[0])];
	check_uri(s, pinsize, (int)(size & 1));
	/* The same text as a bare pin-source and module-path, as the
	 * front ends' --pin-source style options would pass it. */
	check_pin_source(s, pinsize);
	if (s[0])
		check_module_path(s);
	free(s);
	return 0;
}
