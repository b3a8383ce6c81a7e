/* SPDX-License-Identifier: Apache-2.0 */
/* PKCS#11 URI parsing, module resolution, PIN files and the redaction of
 * URIs for display: everything of the token backend that needs no libp11. */
#include "pkcs11/token_private.h"
#include "util/util_private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>

const char *tok_ckr_name(unsigned long rv, char *buf, size_t size)
{
	switch (rv) {
	case CKR_OK: return "CKR_OK";
	case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
	case CKR_FUNCTION_FAILED: return "CKR_FUNCTION_FAILED";
	case CKR_ARGUMENTS_BAD: return "CKR_ARGUMENTS_BAD";
	case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
	case CKR_DEVICE_MEMORY: return "CKR_DEVICE_MEMORY";
	case CKR_DEVICE_REMOVED: return "CKR_DEVICE_REMOVED";
	case CKR_FUNCTION_NOT_SUPPORTED: return "CKR_FUNCTION_NOT_SUPPORTED";
	case CKR_KEY_FUNCTION_NOT_PERMITTED: return "CKR_KEY_FUNCTION_NOT_PERMITTED";
	case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
	case CKR_OBJECT_HANDLE_INVALID: return "CKR_OBJECT_HANDLE_INVALID";
	case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
	case CKR_PIN_INVALID: return "CKR_PIN_INVALID";
	case CKR_PIN_LEN_RANGE: return "CKR_PIN_LEN_RANGE";
	case CKR_PIN_EXPIRED: return "CKR_PIN_EXPIRED";
	case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
	case CKR_SESSION_CLOSED: return "CKR_SESSION_CLOSED";
	case CKR_SESSION_HANDLE_INVALID: return "CKR_SESSION_HANDLE_INVALID";
	case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
	case CKR_TOKEN_NOT_RECOGNIZED: return "CKR_TOKEN_NOT_RECOGNIZED";
	case CKR_USER_ALREADY_LOGGED_IN: return "CKR_USER_ALREADY_LOGGED_IN";
	case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
	case CKR_USER_PIN_NOT_INITIALIZED: return "CKR_USER_PIN_NOT_INITIALIZED";
	case CKR_USER_TYPE_INVALID: return "CKR_USER_TYPE_INVALID";
	case CKR_CRYPTOKI_NOT_INITIALIZED: return "CKR_CRYPTOKI_NOT_INITIALIZED";
	case CKR_CRYPTOKI_ALREADY_INITIALIZED: return "CKR_CRYPTOKI_ALREADY_INITIALIZED";
	case CKR_SLOT_ID_INVALID: return "CKR_SLOT_ID_INVALID";
	default:
		snprintf(buf, size, "CKR_0x%lx", rv);
		return buf;
	}
}

/* RFC 7512 attribute names p11-kit 0.24 understands, path and query. */
static const char *const known_attrs[] = {
	"token", "manufacturer", "serial", "model", "library-manufacturer", "library-description",
	"library-version", "object", "type", "id", "slot-description", "slot-manufacturer", "slot-id",
	"pin-value", "pin-source", "module-name", "module-path", NULL,
};

/* Copy the first unknown attribute name of s into buf ("" if none found). */
static void first_unknown_attr(const char *s, char *buf, size_t size)
{
	const char *p = s + P11_KIT_URI_SCHEME_LEN + 1;
	buf[0] = '\0';
	while (*p) {
		size_t n = strcspn(p, "=;?&");
		int known = 0;
		for (size_t i = 0; known_attrs[i]; i++)
			if (strlen(known_attrs[i]) == n && strncmp(known_attrs[i], p, n) == 0)
				known = 1;
		if (!known && n > 0) {
			snprintf(buf, size, "%.*s", (int)(n < 64 ? n : 64), p);
			return;
		}
		p += n;
		p += strcspn(p, ";?&"); /* skip the value */
		if (*p)
			p++;
	}
}

int tok_uri_parse(const char *s, P11KitUri **out, struct sisign_error *err)
{
	P11KitUri *uri = NULL;
	int rc, r = SISIGN_ERR_INTERNAL;

	*out = NULL;
	if (!s || !*s)
		s = "pkcs11:";
	if (strncmp(s, "pkcs11:", 7) != 0)
		return err_set(err, SISIGN_ERR_BAD_URI, -1, "not a PKCS#11 URI (must start with \"pkcs11:\")");
	if (!(uri = p11_kit_uri_new()))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	rc = p11_kit_uri_parse(s, P11_KIT_URI_FOR_ANY, uri);
	if (rc != P11_KIT_URI_OK) {
		const char *m = p11_kit_uri_message(rc);
		r = err_set(err, SISIGN_ERR_BAD_URI, -1, "bad PKCS#11 URI: %s", m ? m : "parse error");
		goto out;
	}
	if (p11_kit_uri_any_unrecognized(uri)) {
		char name[80];
		first_unknown_attr(s, name, sizeof name);
		r = err_set(err, SISIGN_ERR_BAD_URI, -1,
			"bad PKCS#11 URI: unrecognised attribute%s%s%s (p11-kit understands token, manufacturer, "
			"serial, model, object, id, type, slot-id, module-name, module-path, pin-source, pin-value)",
			name[0] ? " \"" : "", name, name[0] ? "\"" : "");
		goto out;
	}
	/* success */
	*out = uri;
	uri = NULL; /* transferred */
	r = SISIGN_OK;
out:
	if (uri)
		p11_kit_uri_free(uri);
	return r;
}

/* Is the canonical path rpath directly or deeper inside directory dir? */
static int path_in_dir(const char *rpath, const char *dir)
{
	char rdir[PATH_MAX];
	size_t n;
	if (!dir || !realpath(dir, rdir))
		return 0;
	n = strlen(rdir);
	return strncmp(rpath, rdir, n) == 0 && (rpath[n] == '/' || (n == 1 && rdir[0] == '/'));
}

static int in_allowed_dirs(const char *rpath, const char *const *extra)
{
	if (path_in_dir(rpath, SISIGN_P11_MODULE_DIR) || path_in_dir(rpath, TOK_SOFTHSM_DIR))
		return 1;
	for (size_t i = 0; extra && extra[i]; i++)
		if (path_in_dir(rpath, extra[i]))
			return 1;
	return 0;
}

/* Is the canonical directory rdir one of the two built-in module
 * directories, owned by root and writable by nobody else?  A symlink there
 * was put there by the system (Debian links pkcs11/opensc-pkcs11.so to
 * ../opensc-pkcs11.so), so it is followed wherever it points. */
static int root_system_dir(const char *rdir)
{
	const char *const sys[] = {SISIGN_P11_MODULE_DIR, TOK_SOFTHSM_DIR};
	char buf[PATH_MAX];
	struct stat st;
	int match = 0;

	for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++)
		if (realpath(sys[i], buf) && strcmp(buf, rdir) == 0)
			match = 1;
	return match && lstat(rdir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
		!(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* named (absolute, or relative to the working directory) with every
 * symlink, "." and ".." resolved: *rpath, malloc'd.  SISIGN_ERR_MODULE when
 * it leads nowhere. */
static int canonical(const char *named, char **rpath, struct sisign_error *err)
{
	int e, r;
	if ((*rpath = realpath(named, NULL)) != NULL)
		return SISIGN_OK;
	e = errno;
	r = err_set(err, SISIGN_ERR_MODULE, -1, "PKCS#11 module %s: %s", named, strerror(e));
	if (err)
		err->sys_errno = e;
	return r;
}

/* The file at the canonical path rpath (named, as given, for messages),
 * opened with O_PATH | O_NOFOLLOW so that *st describes the file there and
 * nothing a symlink leads to; it must be a regular file (else code). */
static int file_identity(const char *rpath, const char *named, struct stat *st, int code,
	struct sisign_error *err)
{
	int fd, e, r;
	const char *sep = strcmp(named, rpath) ? " (" : "", *end = strcmp(named, rpath) ? ")" : "";

	fd = open(rpath, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, st) != 0) {
		e = errno;
		r = err_set(err, SISIGN_ERR_MODULE, -1, "PKCS#11 module %s%s%s%s: %s", named, sep, *sep ? rpath : "",
			end, strerror(e));
		if (err)
			err->sys_errno = e;
	} else if (!S_ISREG(st->st_mode)) {
		r = err_set(err, code, -1, "PKCS#11 module %s%s%s%s is not a regular file", named, sep,
			*sep ? rpath : "", end);
	} else {
		r = SISIGN_OK;
	}
	if (fd >= 0)
		close(fd);
	return r;
}

int tok_module_path_allowed(const char *path, const char *const *extra, char **resolved, struct stat *st,
	struct sisign_error *err)
{
	char *copy = NULL, *slash, *base, *rdir = NULL, *entry = NULL, *rfile = NULL;
	const char *judged;
	size_t n;
	int r = SISIGN_ERR_INTERNAL;

	*resolved = NULL;
	if (!path || path[0] != '/')
		return err_set(err, SISIGN_ERR_BAD_URI, -1,
			"module-path \"%s\" is not an absolute path", path ? path : "");
	if (!(copy = strdup(path)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	slash = strrchr(copy, '/');
	*slash = '\0';
	base = slash + 1;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		r = err_set(err, SISIGN_ERR_BAD_URI, -1, "module-path \"%s\" does not name a file", path);
		goto out;
	}
	/* Resolve once: the directory, then the entry in it, then the file
	 * that entry leads to.  Everything after this uses rfile, never path
	 * again, so a symlink on the way that changes later no longer
	 * matters. */
	if (!(rdir = realpath(copy[0] ? copy : "/", NULL))) {
		r = err_set(err, SISIGN_ERR_BAD_URI, -1, "module-path \"%s\": its directory does not exist", path);
		goto out;
	}
	n = strlen(rdir) + strlen(base) + 2;
	if (!(entry = malloc(n))) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	snprintf(entry, n, "%s/%s", strcmp(rdir, "/") ? rdir : "", base);
	/* The file itself must lie in an allowed directory, except that a
	 * link the system put in its own module directory may point out of
	 * it.  An entry that leads nowhere is judged where it sits: refused
	 * outside, "no such file" inside. */
	r = canonical(entry, &rfile, err);
	judged = rfile ? rfile : entry;
	if (!in_allowed_dirs(judged, extra) && !root_system_dir(rdir)) {
		r = err_set(err, SISIGN_ERR_BAD_URI, -1,
			"module-path \"%s\"%s%s%s is outside the allowed module directories (%s, %s); loading a "
			"module runs its code: pass --module or --allow-module DIR to trust it",
			path, strcmp(path, judged) ? " (which leads to " : "", strcmp(path, judged) ? judged : "",
			strcmp(path, judged) ? ")" : "", SISIGN_P11_MODULE_DIR, TOK_SOFTHSM_DIR);
		goto out;
	}
	if (r != SISIGN_OK)
		goto out;
	if ((r = file_identity(rfile, path, st, SISIGN_ERR_BAD_URI, err)) != 0)
		goto out;
	/* success */
	*resolved = rfile;
	rfile = NULL; /* transferred */
	r = SISIGN_OK;
out:
	free(copy);
	free(rdir);
	free(entry);
	free(rfile);
	return r;
}

/* "libfoo-pkcs11.so" -> "foo-pkcs11" into buf. */
static void module_short_name(const char *filename, char *buf, size_t size)
{
	const char *b = strrchr(filename, '/');
	size_t n;
	b = b ? b + 1 : filename;
	if (strncmp(b, "lib", 3) == 0)
		b += 3;
	n = strcspn(b, ".");
	snprintf(buf, size, "%.*s", (int)n, b);
}

static int resolve_module_name(const char *want, char **path, struct sisign_error *err)
{
	CK_FUNCTION_LIST **mods = NULL;
	char names[256];
	size_t used = 0;
	int r = SISIGN_ERR_INTERNAL;

	names[0] = '\0';
	mods = p11_kit_modules_load(NULL, 0);
	if (!mods) {
		const char *m = p11_kit_message();
		return err_set(err, SISIGN_ERR_MODULE, -1, "cannot read p11-kit's module registry%s%s",
			m ? ": " : "", m ? m : "");
	}
	for (size_t i = 0; mods[i]; i++) {
		char *name = p11_kit_module_get_name(mods[i]);
		char *file = p11_kit_module_get_filename(mods[i]);
		char shortname[128] = "";
		int hit = 0;
		if (file)
			module_short_name(file, shortname, sizeof shortname);
		if ((name && strcmp(name, want) == 0) || strcmp(shortname, want) == 0)
			hit = 1;
		if (hit && file) {
			*path = strdup(file);
			free(name);
			free(file);
			if (!*path)
				r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			else
				r = SISIGN_OK;
			goto out;
		}
		if (name && used < sizeof names) {
			int w = snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", name);
			if (w > 0)
				used += (size_t)w;
		}
		free(name);
		free(file);
	}
	r = err_set(err, SISIGN_ERR_MODULE, -1, "no PKCS#11 module named \"%s\" is registered with p11-kit%s%s",
		want, names[0] ? "; registered: " : "", names);
out:
	p11_kit_modules_release(mods);
	return r;
}

int tok_resolve_module(P11KitUri *uri, const struct sisign_token_opts *opts, char **path, struct stat *st,
	struct sisign_error *err)
{
	const char *mpath = uri ? p11_kit_uri_get_module_path(uri) : NULL;
	const char *mname = uri ? p11_kit_uri_get_module_name(uri) : NULL;
	const char *named;
	char *registered = NULL;
	int r;

	*path = NULL;
	if (mpath && *mpath)
		return tok_module_path_allowed(mpath, opts ? opts->allowed_module_dirs : NULL, path, st, err);
	if (mname && *mname) {
		if ((r = resolve_module_name(mname, &registered, err)) != 0)
			return r;
		named = registered;
	} else if (opts && opts->module && *opts->module) {
		named = opts->module;
	} else {
		named = SISIGN_P11KIT_PROXY;
	}
	r = canonical(named, path, err);
	if (r == SISIGN_OK && (r = file_identity(*path, named, st, SISIGN_ERR_MODULE, err)) != SISIGN_OK) {
		free(*path);
		*path = NULL;
	}
	free(registered);
	return r;
}

int tok_read_pin_source(const char *source, char *buf, size_t size, size_t *len, struct sisign_error *err)
{
	const char *path = source;
	struct stat st;
	int fd = -1, r = SISIGN_ERR_INTERNAL;
	size_t got = 0;

	*len = 0;
	if (size < 2)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "PIN buffer too small");
	buf[0] = '\0';
	if (strncmp(path, "file:", 5) == 0) {
		path += 5;
		/* file:///p and file:/p both mean /p */
		if (strncmp(path, "//", 2) == 0)
			path += 2;
	} else if (strchr(path, ':') && path[0] != '/') {
		return err_set(err, SISIGN_ERR_BAD_PIN, -1,
			"pin-source \"%s\": only file: sources are supported", source);
	}
	if (path[0] != '/')
		return err_set(err, SISIGN_ERR_BAD_PIN, -1, "pin-source \"%s\" is not an absolute file path", source);
	/* O_NONBLOCK: a FIFO at the path must not hang the login; only a
	 * regular file is read (below). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		r = err_set(err, SISIGN_ERR_BAD_PIN, -1, "pin-source file %s: %s", path, strerror(e));
		if (err)
			err->sys_errno = e;
		return r;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = err_set(err, SISIGN_ERR_BAD_PIN, -1, "pin-source %s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		r = err_set(err, SISIGN_ERR_BAD_PIN, -1,
			"pin-source file %s is accessible by group or others (mode %03o); refusing to use it "
			"(chmod 600 %s)", path, (unsigned)(st.st_mode & 0777), path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, size - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = err_sys(err, errno, "reading pin-source file %s", path);
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == size - 1) {
			char extra;
			if (read(fd, &extra, 1) > 0) {
				r = err_set(err, SISIGN_ERR_BAD_PIN, -1, "pin-source file %s: PIN too long", path);
				goto out;
			}
			break;
		}
	}
	if ((r = sisign_secret_check("pin", buf, got, len, err)) != SISIGN_OK) {
		char why[sizeof err->message];
		if (err) {
			snprintf(why, sizeof why, "%s", err->message);
			err_set(err, r, -1, "pin-source file %s: %s", path, why);
		}
		goto out;
	}
out:
	if (r != SISIGN_OK)
		OPENSSL_cleanse(buf, size);
	close(fd);
	return r;
}

/* Does the attribute segment seg (n bytes, "name=value") name pin-value or
 * pin-source?  The name is compared after percent-decoding, in any case. */
static int is_pin_attr(const char *seg, size_t n)
{
	char name[16];
	size_t o = 0;

	for (size_t i = 0; i < n && seg[i] != '='; i++) {
		int c = (unsigned char)seg[i];
		if (c == '%' && i + 2 < n) {
			unsigned v;
			char hex[3] = {seg[i + 1], seg[i + 2], '\0'};
			if (sscanf(hex, "%2x", &v) == 1) {
				c = (int)v;
				i += 2;
			}
		}
		if (o + 1 >= sizeof name)
			return 0;
		name[o++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	name[o] = '\0';
	return strcmp(name, "pin-value") == 0 || strcmp(name, "pin-source") == 0;
}

/* Append the segments of [p, end) (split at any of seps) that are not PIN
 * attributes; *kept counts what was written, lead is written before the
 * first one. */
static void copy_segments(const char *p, const char *end, const char *seps, char lead, char *out, size_t *o,
	int *kept)
{
	while (p < end) {
		size_t n = 0;
		while (p + n < end && !strchr(seps, p[n]))
			n++;
		if (n > 0 && !is_pin_attr(p, n)) {
			if (*kept)
				out[(*o)++] = *(p - 1) && strchr(seps, *(p - 1)) ? *(p - 1) : seps[0];
			else if (lead)
				out[(*o)++] = lead;
			memcpy(out + *o, p, n);
			*o += n;
			(*kept)++;
		}
		p += n;
		if (p < end)
			p++; /* the separator */
	}
}

char *sisign_token_uri_redact(const char *uri)
{
	const char *body, *q, *end;
	char *out;
	size_t o;
	int kept = 0;

	if (!uri)
		return NULL;
	if (strncasecmp(uri, "pkcs11:", 7) != 0)
		return strdup(uri);
	if (!(out = malloc(strlen(uri) + 2)))
		return NULL;
	memcpy(out, uri, 7);
	o = 7;
	body = uri + 7;
	end = body + strlen(body);
	q = strchr(body, '?');
	copy_segments(body, q ? q : end, ";", '\0', out, &o, &kept);
	if (q) {
		kept = 0;
		copy_segments(q + 1, end, "&;", '?', out, &o, &kept);
	}
	out[o] = '\0';
	return out;
}
