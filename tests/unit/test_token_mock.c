/* SPDX-License-Identifier: Apache-2.0 */
/* Token backend against the mock PKCS#11 module (tests/mock/mock_p11.c):
 * URI and PIN policy, the PIN flag paths SoftHSM cannot show (locked, final
 * try, PIN pad, always-authenticate, removal), listing.  Each case loads the
 * module afresh, so MOCK_P11_MODE is set before each call. */
#include "testutil.h"
#include "pkcs11/token_private.h"
#include "crypto/x509build_private.h"
#include "pkcs11/tok_sess.h"
#include "sign/signer_private.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <p11-kit/pkcs11.h>
#include <sisign/token.h>

#define KEY_URI "pkcs11:token=sisign%20mock;object=mockkey;type=private"

static const char *mock_module;
static char log_path[4200];

struct pinstate {
	const char *pin;
	int calls;
	int last_tries;
	char last_what[64];
	int len;        /* >= 0: return this length (a NUL inside is then seen) */
	int insecure;   /* calls whose buffer was not in the secure heap */
};

static int pin_cb(void *data, const char *kind, const char *what, int tries, char *buf, size_t size)
{
	struct pinstate *ps = data;
	ps->calls++;
	if (!CRYPTO_secure_allocated(buf))
		ps->insecure++;
	if (ps->len >= 0 && ps->pin && (size_t)ps->len < size) {
		memcpy(buf, ps->pin, (size_t)ps->len);
		return ps->len;
	}
	ps->last_tries = tries;
	snprintf(ps->last_what, sizeof ps->last_what, "%s", what ? what : "");
	if (strcmp(kind, "pin") != 0 || !ps->pin)
		return SISIGN_ERR_CANCELLED;
	snprintf(buf, size, "%s", ps->pin);
	return (int)strlen(ps->pin);
}

/* Count lines of the mock's call log that start with prefix. */
static int log_count(const char *prefix)
{
	size_t len = 0;
	uint8_t *d = tu_read_file(log_path, &len);
	int n = 0;
	char *line, *save = NULL;
	if (!d)
		return 0;
	d = realloc(d, len + 1);
	d[len] = '\0';
	for (line = strtok_r((char *)d, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			n++;
	free(d);
	return n;
}

static void set_mode(const char *mode)
{
	if (mode)
		setenv("MOCK_P11_MODE", mode, 1);
	else
		unsetenv("MOCK_P11_MODE");
	unlink(log_path);
}

static void init_opts(struct sisign_token_opts *o, struct pinstate *ps)
{
	memset(o, 0, sizeof *o);
	o->module = mock_module;
	o->pin_cb = pin_cb;
	o->pin_cb_data = ps;
}

/* Sign a digest and verify it against the signer's public key. */
static int sign_and_verify(struct sisign_signer *s, struct sisign_error *err)
{
	unsigned char digest[20], *sig = NULL;
	size_t siglen = 0;
	EVP_PKEY_CTX *pc = NULL;
	int r, ok = 0;

	SHA1((const unsigned char *)"sisign", 6, digest);
	r = sisign_signer_sign_sha1(s, digest, &sig, &siglen, err);
	if (r != SISIGN_OK)
		return r;
	pc = EVP_PKEY_CTX_new(s->pub, NULL);
	if (pc && EVP_PKEY_verify_init(pc) > 0 && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) > 0 &&
	    EVP_PKEY_CTX_set_signature_md(pc, EVP_sha1()) > 0 && EVP_PKEY_verify(pc, sig, siglen, digest, 20) == 1)
		ok = 1;
	EVP_PKEY_CTX_free(pc);
	free(sig);
	return ok ? SISIGN_OK : SISIGN_ERR_SIG_INVALID;
}

/* tok_module_path_allowed on path: the code, and *resolved (NULL unless OK;
 * caller frees) with the identity it read. */
static int allowed(const char *path, const char *const *extra, char **resolved, struct stat *st,
	struct sisign_error *err)
{
	int r = tok_module_path_allowed(path, extra, resolved, st, err);
	CHECK((r == SISIGN_OK) == (*resolved != NULL));
	return r;
}

/* Is what tok_module_path_allowed resolved path to exactly the file at want? */
static int resolves_to(const char *path, const char *const *extra, const char *want)
{
	struct sisign_error err;
	struct stat st, wst;
	char *res = NULL, *real = realpath(want, NULL);
	int ok;

	ok = allowed(path, extra, &res, &st, &err) == SISIGN_OK && real && strcmp(res, real) == 0 &&
		stat(want, &wst) == 0 && st.st_dev == wst.st_dev && st.st_ino == wst.st_ino;
	if (!ok)
		fprintf(stderr, "  %s -> %s, want %s (%s)\n", path, res ? res : "refused", want, err.message);
	free(res);
	free(real);
	return ok;
}

/* Issue #10 item 1: a module-path is judged by the file it finally leads
 * to (every symlink resolved), and that resolved path is what loads. */
static void test_module_path_policy(const char *tmp)
{
	struct sisign_error err;
	struct stat st;
	char *res = NULL;
	char dir[4200], outdir[4200], path[4300], target[4300];
	const char *extra[] = {dir, NULL};
	const char *sysmods[] = {"pkcs11-spy.so", "opensc-pkcs11.so", "p11-kit-trust.so", NULL};

	snprintf(dir, sizeof dir, "%s/allowed", tmp);
	snprintf(outdir, sizeof outdir, "%s/outside", tmp);
	CHECK(mkdir(dir, 0700) == 0);
	CHECK(mkdir(outdir, 0700) == 0);
	snprintf(target, sizeof target, "%s/mod.so", dir);
	CHECK(tu_write_file(target, "x", 1) == 0);
	snprintf(path, sizeof path, "%s/evil.so", outdir);
	CHECK(tu_write_file(path, "x", 1) == 0);

	/* Outside, by name or by ".." */
	CHECK_EQ_INT(allowed(path, extra, &res, &st, &err), SISIGN_ERR_BAD_URI);
	CHECK(strstr(err.message, "outside the allowed module directories") != NULL);
	CHECK_EQ_INT(allowed("/tmp/evil.so", NULL, &res, &st, &err), SISIGN_ERR_BAD_URI);
	CHECK_EQ_INT(allowed("/usr/lib/x86_64-linux-gnu/pkcs11/../../../../tmp/x.so", NULL, &res, &st, &err),
		SISIGN_ERR_BAD_URI);
	CHECK_EQ_INT(allowed("relative.so", NULL, &res, &st, &err), SISIGN_ERR_BAD_URI);

	/* A regular file in an allowed directory; missing is a module error. */
	CHECK(resolves_to(target, extra, target));
	snprintf(path, sizeof path, "%s/missing.so", dir);
	CHECK_EQ_INT(allowed(path, extra, &res, &st, &err), SISIGN_ERR_MODULE);
	CHECK(strstr(err.message, "No such file") != NULL);

	/* A symlink in the allowed directory: to the module beside it, fine
	 * (and the module itself is what loads); to a file outside, refused,
	 * naming where it leads. */
	snprintf(path, sizeof path, "%s/in.so", dir);
	CHECK(symlink("mod.so", path) == 0);
	CHECK(resolves_to(path, extra, target));
	snprintf(path, sizeof path, "%s/out.so", dir);
	CHECK(symlink("../outside/evil.so", path) == 0);
	CHECK_EQ_INT(allowed(path, extra, &res, &st, &err), SISIGN_ERR_BAD_URI);
	CHECK(strstr(err.message, "which leads to") != NULL && strstr(err.message, "/outside/evil.so") != NULL);
	/* A dangling one leads to no file at all. */
	snprintf(path, sizeof path, "%s/dangling.so", dir);
	CHECK(symlink("../outside/nothing.so", path) == 0);
	CHECK_EQ_INT(allowed(path, extra, &res, &st, &err), SISIGN_ERR_MODULE);

	/* Symlinked directories: judged by where the file really is. */
	snprintf(path, sizeof path, "%s/d", dir);
	CHECK(symlink("../outside", path) == 0);
	snprintf(path, sizeof path, "%s/d/evil.so", dir);
	CHECK_EQ_INT(allowed(path, extra, &res, &st, &err), SISIGN_ERR_BAD_URI);
	snprintf(path, sizeof path, "%s/back", outdir);
	CHECK(symlink("../allowed", path) == 0);
	snprintf(path, sizeof path, "%s/back/mod.so", outdir);
	CHECK(resolves_to(path, extra, target));

	/* Only a regular file: not a directory, not a FIFO. */
	snprintf(path, sizeof path, "%s/sub.so", dir);
	CHECK(mkdir(path, 0700) == 0);
	CHECK_EQ_INT(allowed(path, extra, &res, &st, &err), SISIGN_ERR_BAD_URI);
	CHECK(strstr(err.message, "not a regular file") != NULL);
	snprintf(path, sizeof path, "%s/fifo.so", dir);
	CHECK(mkfifo(path, 0600) == 0);
	CHECK_EQ_INT(allowed(path, extra, &res, &st, &err), SISIGN_ERR_BAD_URI);
	CHECK(strstr(err.message, "not a regular file") != NULL);

	/* The system directories, where present: the system's own links out
	 * of pkcs11/ (Debian: opensc-pkcs11.so -> ../opensc-pkcs11.so) are
	 * followed, and what loads is their target. */
	for (size_t i = 0; sysmods[i]; i++) {
		snprintf(path, sizeof path, "%s/%s", sisign_token_module_dir(), sysmods[i]);
		if (access(path, R_OK) == 0)
			CHECK(resolves_to(path, NULL, path));
	}
	if (access(TOK_SOFTHSM_DIR "/libsofthsm2.so", R_OK) == 0)
		CHECK(resolves_to(TOK_SOFTHSM_DIR "/libsofthsm2.so", NULL, TOK_SOFTHSM_DIR "/libsofthsm2.so"));
}

/* Every source of a module name (here --module) is resolved to the file's
 * canonical path, and loading goes through it. */
static void test_module_resolved(const char *tmp)
{
	struct sisign_token_opts o;
	struct sisign_error err;
	struct sisign_token_info *ti = NULL;
	size_t n = 0;
	struct stat st;
	char link[4300], *path = NULL, *real = realpath(mock_module, NULL);

	snprintf(link, sizeof link, "%s/mock-link.so", tmp);
	CHECK(symlink(mock_module, link) == 0);
	memset(&o, 0, sizeof o);
	o.module = link;
	CHECK_EQ_INT(tok_resolve_module(NULL, &o, &path, &st, &err), SISIGN_OK);
	CHECK(path && real && strcmp(path, real) == 0);
	free(path);
	CHECK_EQ_INT(sisign_token_list(&o, &ti, &n, &err), SISIGN_OK);
	CHECK(n == 1 && real && strcmp(ti[0].module_path, real) == 0);
	sisign_token_info_free(ti, n);
	free(real);
}

/* What loads is the file that was checked: a file renamed over the
 * resolved path in between is refused before dlopen. */
static void test_module_replaced(const char *tmp)
{
	struct sisign_token_opts o;
	struct tok_sess s;
	struct sisign_error err;
	char path[4300], other[4300];
	uint8_t *bytes;
	size_t len = 0;

	snprintf(path, sizeof path, "%s/swap.so", tmp);
	snprintf(other, sizeof other, "%s/swap.new", tmp);
	bytes = tu_read_file(mock_module, &len);
	CHECK(bytes && tu_write_file(path, bytes, len) == 0 && tu_write_file(other, bytes, len) == 0);
	memset(&o, 0, sizeof o);
	o.module = path;
	memset(&s, 0, sizeof s);
	CHECK_EQ_INT(tok_resolve_module(NULL, &o, &s.module, &s.module_st, &err), SISIGN_OK);
	CHECK(rename(other, path) == 0);
	CHECK_EQ_INT(sess_load(&s, &err), SISIGN_ERR_MODULE);
	CHECK(strstr(err.message, "replaced after it was checked") != NULL);
	CHECK(s.dl == NULL && s.ctx == NULL);
	sess_close(&s);
	/* Left alone, the same file loads, and stays loaded for the session. */
	CHECK_EQ_INT(sess_open(&s, NULL, &o, &err), SISIGN_OK);
	CHECK(s.dl != NULL && s.loaded);
	sess_close(&s);
	free(bytes);
}

static void test_helpers(const char *tmp)
{
	unsigned char d[20], di[XB_DI_MAX];
	size_t dilen = 0;
	static const unsigned char prefix[15] = {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A,
		0x05, 0x00, 0x04, 0x14};
	struct sisign_error err;
	char path[4300], src[4400], pin[64];
	size_t len;
	P11KitUri *u = NULL;

	memset(d, 0xab, sizeof d);
	CHECK_EQ_INT(xb_digestinfo(NID_sha1, d, sizeof d, di, &dilen), SISIGN_OK);
	CHECK_EQ_INT(dilen, 35);
	CHECK(memcmp(di, prefix, 15) == 0);
	CHECK(memcmp(di + 15, d, 20) == 0);

	test_module_path_policy(tmp);

	CHECK_EQ_INT(tok_uri_parse("pkcs11:token=a;bogus=1", &u, &err), SISIGN_ERR_BAD_URI);
	CHECK(strstr(err.message, "bogus") != NULL);
	CHECK(u == NULL);
	CHECK_EQ_INT(tok_uri_parse("pkcs11:id=%zz", &u, &err), SISIGN_ERR_BAD_URI);
	CHECK_EQ_INT(tok_uri_parse("file:/x", &u, &err), SISIGN_ERR_BAD_URI);
	CHECK_EQ_INT(tok_uri_parse("pkcs11:token=a;slot-id=3?module-name=x&pin-source=file:/p", &u, &err), SISIGN_OK);
	p11_kit_uri_free(u);

	/* pin-source files: 0600 fine, anything group/other-accessible refused. */
	snprintf(path, sizeof path, "%s/pin", tmp);
	CHECK(tu_write_file(path, "4321\n", 5) == 0);
	chmod(path, 0600);
	snprintf(src, sizeof src, "file:%s", path);
	CHECK_EQ_INT(tok_read_pin_source(src, pin, sizeof pin, &len, &err), SISIGN_OK);
	CHECK(strcmp(pin, "4321") == 0);
	CHECK_EQ_INT(len, 4);
	chmod(path, 0644);
	CHECK_EQ_INT(tok_read_pin_source(src, pin, sizeof pin, &len, &err), SISIGN_ERR_BAD_PIN);
	CHECK(strstr(err.message, "group or others") != NULL);
	CHECK_EQ_INT(tok_read_pin_source("https://x/pin", pin, sizeof pin, &len, &err), SISIGN_ERR_BAD_PIN);
}

static void test_sign_ok(void)
{
	struct sisign_token_opts o;
	struct pinstate ps = {"1234", 0, 0, "", -1, 0};
	struct sisign_signer *s = NULL;
	struct sisign_error err;

	set_mode(NULL);
	init_opts(&o, &ps);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_OK);
	if (!s) {
		fprintf(stderr, "  %s\n", err.message);
		return;
	}
	CHECK_EQ_INT(ps.calls, 1);
	CHECK_EQ_INT(ps.last_tries, -1);
	CHECK(strcmp(ps.last_what, "sisign mock") == 0);
	CHECK(s->cert != NULL);
	CHECK_EQ_INT(sisign_signer_key_type(s), SISIGN_KEY_RSA);
	CHECK(strstr(sisign_signer_describe(s), "object=mockkey") != NULL);
	CHECK_EQ_INT(sign_and_verify(s, &err), SISIGN_OK);
	CHECK_EQ_INT(sign_and_verify(s, &err), SISIGN_OK);
	CHECK_EQ_INT(log_count("login 1"), 1);
	CHECK_EQ_INT(log_count("sign 35"), 2);
	CHECK_EQ_INT(log_count("signinit 1"), 2); /* 1 = CKM_RSA_PKCS */
	sisign_signer_free(s);

	/* By id alone, and with the URI's pin-value when allowed. */
	o.pin_cb = NULL;
	o.allow_pin_in_uri = 1;
	CHECK_EQ_INT(sisign_signer_from_pkcs11("pkcs11:token=sisign%20mock;id=%01?pin-value=1234", &o, &s, &err),
		SISIGN_OK);
	sisign_signer_free(s);
	s = NULL;
}

static void test_uri_policy(const char *tmp)
{
	struct sisign_token_opts o;
	struct pinstate ps = {"1234", 0, 0, "", -1, 0};
	struct sisign_signer *s = NULL;
	struct sisign_error err;
	char uri[4400], path[4300];

	set_mode(NULL);
	init_opts(&o, &ps);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI "?pin-value=1234", &o, &s, &err), SISIGN_ERR_BAD_PIN);
	CHECK(strstr(err.message, "pin-value") != NULL);
	CHECK_EQ_INT(log_count("login"), 0);

	snprintf(path, sizeof path, "%s/pin644", tmp);
	CHECK(tu_write_file(path, "1234", 4) == 0);
	chmod(path, 0644);
	snprintf(uri, sizeof uri, "%s?pin-source=file:%s", KEY_URI, path);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(uri, &o, &s, &err), SISIGN_ERR_BAD_PIN);
	CHECK_EQ_INT(ps.calls, 0);
	chmod(path, 0600);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(uri, &o, &s, &err), SISIGN_OK);
	CHECK_EQ_INT(ps.calls, 0); /* pin-source wins over the callback */
	sisign_signer_free(s);
	s = NULL;

	CHECK_EQ_INT(sisign_signer_from_pkcs11("pkcs11:token=sisign%20mock;object=mockkey;type=cert", &o, &s, &err),
		SISIGN_ERR_BAD_URI);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI ";foo=bar", &o, &s, &err), SISIGN_ERR_BAD_URI);

	snprintf(uri, sizeof uri, "%s?module-path=%s", KEY_URI, mock_module);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(uri, &o, &s, &err), SISIGN_ERR_BAD_URI);
	CHECK(strstr(err.message, "outside") != NULL);

	o.module = "/nonexistent/libnothing.so";
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_MODULE);
	CHECK(strstr(err.message, "No such file") != NULL);
	snprintf(path, sizeof path, "%s/notamodule.so", tmp);
	CHECK(tu_write_file(path, "junk", 4) == 0);
	o.module = path;
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_MODULE);
	o.module = mock_module;

	CHECK_EQ_INT(sisign_signer_from_pkcs11("pkcs11:token=nope;object=mockkey", &o, &s, &err),
		SISIGN_ERR_TOKEN_NOT_FOUND);
	CHECK(strstr(err.message, "token=sisign%20mock") != NULL);
	CHECK_EQ_INT(sisign_signer_from_pkcs11("pkcs11:token=sisign%20mock;object=nope", &o, &s, &err),
		SISIGN_ERR_KEY_NOT_FOUND);
	CHECK(strstr(err.message, "object=mockkey") != NULL);
	CHECK_EQ_INT(sisign_signer_from_pkcs11("pkcs11:token=sisign%20mock;id=%02", &o, &s, &err),
		SISIGN_ERR_KEY_NOT_FOUND);
	CHECK(s == NULL);
}

/* Issue #10: an explicit PIN outranks the URI's pin-source and pin-value;
 * malformed PINs never reach C_Login; PIN buffers are in the secure heap. */
static void test_pin_rules(const char *tmp)
{
	struct sisign_token_opts o;
	struct pinstate ps = {"1234", 0, 0, "", -1, 0};
	struct sisign_signer *s = NULL;
	struct sisign_error err;
	char uri[4400], path[4300];

	set_mode(NULL);
	init_opts(&o, &ps);
	snprintf(path, sizeof path, "%s/wrongpin", tmp);
	CHECK(tu_write_file(path, "9999\n", 5) == 0);
	chmod(path, 0600);
	snprintf(uri, sizeof uri, "%s?pin-source=file:%s", KEY_URI, path);
	/* A prompt-like callback comes after pin-source: the wrong one is used. */
	CHECK_EQ_INT(sisign_signer_from_pkcs11(uri, &o, &s, &err), SISIGN_ERR_PIN_INCORRECT);
	CHECK_EQ_INT(ps.calls, 0);
	/* An explicit one comes first. */
	set_mode(NULL);
	o.pin_cb_explicit = 1;
	CHECK_EQ_INT(sisign_signer_from_pkcs11(uri, &o, &s, &err), SISIGN_OK);
	CHECK_EQ_INT(ps.calls, 1);
	CHECK_EQ_INT(log_count("login 1"), 1);
	sisign_signer_free(s);
	s = NULL;
	o.allow_pin_in_uri = 1;
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI "?pin-value=9999", &o, &s, &err), SISIGN_OK);
	sisign_signer_free(s);
	s = NULL;
	CHECK_EQ_INT(ps.insecure, 0);

	/* Malformed PINs: refused with SISIGN_ERR_BAD_PIN, no C_Login. */
	set_mode(NULL);
	ps.pin = "";
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_BAD_PIN);
	CHECK(strstr(err.message, "empty") != NULL);
	ps.pin = "1234\n5678";
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_BAD_PIN);
	ps.pin = "1234\0junk";
	ps.len = 9;
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_BAD_PIN);
	CHECK(strstr(err.message, "NUL") != NULL);
	ps.len = -1;
	ps.pin = "1234\n"; /* exactly one line end is fine */
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_OK);
	sisign_signer_free(s);
	s = NULL;
	CHECK_EQ_INT(log_count("login"), 1);
	o.pin_cb_explicit = 0;
	o.pin_cb = NULL;
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI "?pin-value=12%0A34", &o, &s, &err), SISIGN_ERR_BAD_PIN);
	CHECK(strstr(err.message, "12") == NULL);
	CHECK(s == NULL);
	CHECK_EQ_INT(log_count("login"), 1);
	CHECK(CRYPTO_secure_malloc_initialized());

	/* The redaction every front end uses. */
	{
		char *r = sisign_token_uri_redact("pkcs11:token=a;PIN-Value=1;object=k?pin-source=file:/p&module-name=m"
						  "&pin%2dvalue=2");
		CHECK(r && strcmp(r, "pkcs11:token=a;object=k?module-name=m") == 0);
		free(r);
		r = sisign_token_uri_redact("pkcs11:?pin-value=1");
		CHECK(r && strcmp(r, "pkcs11:") == 0);
		free(r);
		r = sisign_token_uri_redact("key.pem");
		CHECK(r && strcmp(r, "key.pem") == 0);
		free(r);
	}
}

static void test_pin_flags(void)
{
	struct sisign_token_opts o;
	struct pinstate ps = {"1234", 0, 0, "", -1, 0};
	struct sisign_signer *s = NULL;
	struct sisign_error err;

	init_opts(&o, &ps);

	/* Wrong PIN: one C_Login, never retried, CK_RV kept. */
	set_mode(NULL);
	ps.pin = "9999";
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_PIN_INCORRECT);
	CHECK_EQ_INT(err.ckr, CKR_PIN_INCORRECT);
	CHECK_EQ_INT(log_count("login"), 1);
	CHECK_EQ_INT(ps.calls, 1);
	ps.pin = "1234";

	/* Locked: refused before any C_Login, callback not asked. */
	set_mode("locked");
	ps.calls = 0;
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_PIN_LOCKED);
	CHECK_EQ_INT(log_count("login"), 0);
	CHECK_EQ_INT(ps.calls, 0);

	/* Final try: refused unless forced; forced tells the callback 1. */
	set_mode("final");
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_PIN_FINAL_TRY);
	CHECK_EQ_INT(log_count("login"), 0);
	CHECK_EQ_INT(ps.calls, 0);
	o.force_final_try = 1;
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_OK);
	CHECK_EQ_INT(ps.last_tries, 1);
	CHECK_EQ_INT(log_count("login"), 1);
	sisign_signer_free(s);
	s = NULL;
	o.force_final_try = 0;

	set_mode("countlow");
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_OK);
	CHECK_EQ_INT(ps.last_tries, SISIGN_TRIES_LOW);
	sisign_signer_free(s);
	s = NULL;

	/* PIN pad: login with a NULL PIN, no callback. */
	set_mode("pinpad");
	ps.calls = 0;
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_OK);
	CHECK_EQ_INT(ps.calls, 0);
	CHECK_EQ_INT(log_count("login 1"), 1);
	if (s)
		CHECK_EQ_INT(sign_and_verify(s, &err), SISIGN_OK);
	sisign_signer_free(s);
	s = NULL;

	/* No PIN source at all: cancelled, no login. */
	set_mode(NULL);
	o.pin_cb = NULL;
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_CANCELLED);
	CHECK_EQ_INT(log_count("login"), 0);
	o.pin_cb = pin_cb;
}

static void test_always_auth(void)
{
	struct sisign_token_opts o;
	struct pinstate ps = {"1234", 0, 0, "", -1, 0};
	struct sisign_signer *s = NULL;
	struct sisign_error err;

	set_mode("always_auth");
	init_opts(&o, &ps);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_OK);
	if (s) {
		CHECK_EQ_INT(sign_and_verify(s, &err), SISIGN_OK);
		CHECK_EQ_INT(sign_and_verify(s, &err), SISIGN_OK);
	}
	sisign_signer_free(s);
	s = NULL;
	CHECK_EQ_INT(log_count("login 1"), 1);
	CHECK_EQ_INT(log_count("login 2"), 2); /* CKU_CONTEXT_SPECIFIC before each C_Sign */
	CHECK_EQ_INT(log_count("sign 35"), 2);
	CHECK_EQ_INT(ps.calls, 1); /* the login PIN was re-used */

	/* Asking per signature instead. */
	set_mode("always_auth");
	ps.calls = 0;
	o.ask_pin_per_signature = 1;
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_OK);
	if (s)
		CHECK_EQ_INT(sign_and_verify(s, &err), SISIGN_OK);
	CHECK_EQ_INT(ps.calls, 2);
	CHECK(strcmp(ps.last_what, "mockkey") == 0);
	sisign_signer_free(s);
	s = NULL;

	/* Wrong PIN at the context login: no retry. */
	set_mode("always_auth");
	ps.calls = 0;
	if (sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err) == SISIGN_OK) {
		unsigned char d[20] = {0}, *sig = NULL;
		size_t siglen;
		ps.pin = "9999";
		CHECK_EQ_INT(sisign_signer_sign_sha1(s, d, &sig, &siglen, &err), SISIGN_ERR_PIN_INCORRECT);
		CHECK_EQ_INT(log_count("login 2"), 1);
		free(sig);
		ps.pin = "1234";
	}
	sisign_signer_free(s);
}

static void test_removed(void)
{
	struct sisign_token_opts o;
	struct pinstate ps = {"1234", 0, 0, "", -1, 0};
	struct sisign_signer *s = NULL;
	struct sisign_error err;
	unsigned char d[20] = {0}, *sig = NULL;
	size_t siglen = 0;

	set_mode("removed");
	init_opts(&o, &ps);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_OK);
	if (!s)
		return;
	CHECK_EQ_INT(sisign_signer_sign_sha1(s, d, &sig, &siglen, &err), SISIGN_ERR_TOKEN_FAILED);
	CHECK_EQ_INT(err.ckr, CKR_DEVICE_REMOVED);
	CHECK(strstr(err.message, "removed") != NULL);
	CHECK(sig == NULL);
	CHECK_EQ_INT(log_count("sign "), 1);
	sisign_signer_free(s);
}

/* Issue #10 item 6: a corrupted signature is caught before it is handed
 * out. */
static void test_corrupt_signature(void)
{
	struct sisign_token_opts o;
	struct pinstate ps = {"1234", 0, 0, "", -1, 0};
	struct sisign_signer *s = NULL;
	struct sisign_error err;
	unsigned char d[20] = {1}, *sig = NULL;
	size_t siglen = 0;

	set_mode(NULL);
	setenv("MOCK_P11_CORRUPT", "1", 1);
	init_opts(&o, &ps);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_OK);
	if (s) {
		CHECK_EQ_INT(sisign_signer_sign_sha1(s, d, &sig, &siglen, &err), SISIGN_ERR_TOKEN_FAILED);
		CHECK(sig == NULL && siglen == 0);
		CHECK(strstr(err.message, "the token returned a signature that does not verify against certificate "
					  "\"CN=sisign mock\"") != NULL);
		CHECK_EQ_INT(log_count("sign 35"), 1);
	}
	sisign_signer_free(s);
	unsetenv("MOCK_P11_CORRUPT");
}

/* Issue #10 item 6: a key object without a public part is matched to its
 * certificate by a test signature, not by comparing the certificate with
 * itself. */
static void test_no_public_part(const char *tmp)
{
	struct sisign_token_opts o;
	struct pinstate ps = {"1234", 0, 0, "", -1, 0};
	struct sisign_signer *s = NULL;
	struct sisign_error err;
	char path[4300];
	EVP_PKEY *other = EVP_RSA_gen(1024);
	FILE *f;

	snprintf(path, sizeof path, "%s/other.pem", tmp);
	CHECK(other != NULL);
	if (!other || !(f = fopen(path, "w")))
		return;
	CHECK(PEM_write_PrivateKey(f, other, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
	EVP_PKEY_free(other);

	set_mode(NULL);
	setenv("MOCK_P11_NO_PUBLIC", "1", 1);
	init_opts(&o, &ps);
	/* The certificate belongs to the key: one test signature, then fine. */
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_OK);
	CHECK_EQ_INT(log_count("sign 35"), 1);
	if (s)
		CHECK_EQ_INT(sign_and_verify(s, &err), SISIGN_OK);
	sisign_signer_free(s);
	s = NULL;

	/* Another key's certificate under the key's id: refused at open. */
	set_mode(NULL);
	setenv("MOCK_P11_CERT_KEY", path, 1);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_KEY_MISMATCH);
	CHECK(s == NULL);
	CHECK(strstr(err.message, "does not belong to the key") != NULL);
	CHECK_EQ_INT(log_count("sign 35"), 1);
	unsetenv("MOCK_P11_CERT_KEY");
	unsetenv("MOCK_P11_NO_PUBLIC");
}

/* Issue #10 item 8: the answers that mean "token gone or broken" are
 * SISIGN_ERR_TOKEN_FAILED, with the CK_RV kept. */
static void test_token_failing(void)
{
	static const unsigned long rvs[] = {CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT, CKR_SESSION_HANDLE_INVALID,
		CKR_DEVICE_ERROR, CKR_GENERAL_ERROR};
	struct sisign_token_opts o;
	struct pinstate ps = {"1234", 0, 0, "", -1, 0};
	struct sisign_error err;
	char rvbuf[32];

	init_opts(&o, &ps);
	setenv("MOCK_P11_SIGN_FAIL_AFTER", "2", 1);
	for (size_t i = 0; i < sizeof rvs / sizeof rvs[0]; i++) {
		struct sisign_signer *s = NULL;
		snprintf(rvbuf, sizeof rvbuf, "0x%lx", rvs[i]);
		setenv("MOCK_P11_SIGN_FAIL_RV", rvbuf, 1);
		set_mode(NULL);
		CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_OK);
		if (!s)
			continue;
		CHECK_EQ_INT(sign_and_verify(s, &err), SISIGN_OK);
		CHECK_EQ_INT(sign_and_verify(s, &err), SISIGN_OK);
		CHECK_EQ_INT(sign_and_verify(s, &err), SISIGN_ERR_TOKEN_FAILED);
		CHECK_EQ_INT(err.ckr, rvs[i]);
		sisign_signer_free(s);
	}
	unsetenv("MOCK_P11_SIGN_FAIL_AFTER");
	unsetenv("MOCK_P11_SIGN_FAIL_RV");
}

/* Issue #10 item 9: a card that answers a wrong PIN with CKR_GENERAL_ERROR
 * gets one C_Login and a message that says so. */
static void test_cac_login(void)
{
	struct sisign_token_opts o;
	struct pinstate ps = {"9999", 0, 0, "", -1, 0};
	struct sisign_signer *s = NULL;
	struct sisign_error err;

	set_mode("cac");
	init_opts(&o, &ps);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_PIN_INCORRECT);
	CHECK(s == NULL);
	CHECK_EQ_INT(err.ckr, CKR_GENERAL_ERROR);
	CHECK(strstr(err.message, "the card refused the login (CKR_GENERAL_ERROR); some cards report a wrong PIN "
				  "this way") != NULL);
	CHECK_EQ_INT(log_count("login"), 1);
	CHECK_EQ_INT(ps.calls, 1);
}

static void test_listing(void)
{
	struct sisign_token_opts o;
	struct pinstate ps = {"1234", 0, 0, "", -1, 0};
	struct sisign_token_info *ti = NULL;
	struct sisign_token_object *ob = NULL;
	struct sisign_error err;
	size_t n = 0;

	set_mode("countlow");
	init_opts(&o, &ps);
	CHECK_EQ_INT(sisign_token_list(&o, &ti, &n, &err), SISIGN_OK);
	CHECK_EQ_INT(n, 1);
	if (n == 1) {
		CHECK(strcmp(ti[0].label, "sisign mock") == 0);
		CHECK(strcmp(ti[0].serial, "MOCK0001") == 0);
		CHECK(strcmp(ti[0].model, "mock") == 0);
		CHECK_EQ_INT(ti[0].slot_id, 7);
		CHECK(strcmp(ti[0].module_path, mock_module) == 0);
		CHECK(ti[0].flags & SISIGN_TOKEN_LOGIN_REQUIRED);
		CHECK(ti[0].flags & SISIGN_TOKEN_INITIALIZED);
		CHECK(ti[0].flags & SISIGN_TOKEN_USER_PIN_COUNT_LOW);
		CHECK(!(ti[0].flags & SISIGN_TOKEN_PIN_PAD));
		CHECK(strstr(ti[0].uri, "token=sisign%20mock") != NULL);
		CHECK(strstr(ti[0].uri, "serial=MOCK0001") != NULL);
	}
	sisign_token_info_free(ti, n);
	CHECK_EQ_INT(log_count("login"), 0);

	/* Without a PIN: public key and certificate only. */
	set_mode(NULL);
	o.pin_cb = NULL;
	CHECK_EQ_INT(sisign_token_objects("pkcs11:token=sisign%20mock", &o, &ob, &n, &err), SISIGN_OK);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(log_count("login"), 0);
	sisign_token_objects_free(ob, n);

	/* With a PIN: the private key too, paired with its certificate. */
	o.pin_cb = pin_cb;
	CHECK_EQ_INT(sisign_token_objects("pkcs11:token=sisign%20mock", &o, &ob, &n, &err), SISIGN_OK);
	CHECK_EQ_INT(n, 3);
	for (size_t i = 0; i < n; i++) {
		CHECK(strcmp(ob[i].label, "mockkey") == 0);
		CHECK(strcmp(ob[i].id_hex, "01") == 0);
		if (ob[i].kind == SISIGN_TOKEN_OBJ_PRIVATE_KEY) {
			CHECK(ob[i].paired >= 0 && ob[ob[i].paired].kind == SISIGN_TOKEN_OBJ_CERT);
			CHECK(strstr(ob[i].uri, "type=private") != NULL);
			CHECK(strstr(ob[i].uri, "object=mockkey") != NULL);
			CHECK(strstr(ob[i].uri, "id=%01") != NULL);
			CHECK_EQ_INT(ob[i].key_type, SISIGN_KEY_RSA);
			CHECK_EQ_INT(ob[i].key_bits, 1024);
		} else if (ob[i].kind == SISIGN_TOKEN_OBJ_CERT) {
			CHECK(ob[i].paired >= 0 && ob[ob[i].paired].kind == SISIGN_TOKEN_OBJ_PRIVATE_KEY);
			CHECK(ob[i].subject && strstr(ob[i].subject, "CN=sisign mock") != NULL);
			CHECK(ob[i].not_after > time(NULL));
			CHECK(strstr(ob[i].uri, "type=cert") != NULL);
		}
	}
	sisign_token_objects_free(ob, n);
	/* type= filters. */
	CHECK_EQ_INT(sisign_token_objects("pkcs11:token=sisign%20mock;type=cert", &o, &ob, &n, &err), SISIGN_OK);
	CHECK_EQ_INT(n, 1);
	sisign_token_objects_free(ob, n);
	CHECK_EQ_INT(sisign_token_objects("pkcs11:token=other", &o, &ob, &n, &err), SISIGN_ERR_TOKEN_NOT_FOUND);
	CHECK(ob == NULL);
}

/* Start-up under a remote token's race (docs/performance.md "Remote token
 * under load"): a slot listing that fails with CKR_GENERAL_ERROR, or shows
 * no slot, is worth a new initialisation; a C_Login is never repeated. */
static void test_startup_retry(void)
{
	struct sisign_token_opts o;
	struct pinstate ps = {"1234", 0, 0, "", -1, 0};
	struct sisign_signer *s = NULL;
	struct sisign_token_info *ti = NULL;
	struct sisign_error err;
	size_t n = 0;

	/* Token info unreadable in the first two initialisations: the third
	 * one signs, with one login and one PIN request. */
	set_mode("flaky");
	init_opts(&o, &ps);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_OK);
	CHECK_EQ_INT(log_count("init"), 3);
	CHECK_EQ_INT(log_count("login"), 1);
	CHECK_EQ_INT(ps.calls, 1);
	if (s)
		CHECK_EQ_INT(sign_and_verify(s, &err), SISIGN_OK);
	sisign_signer_free(s);
	s = NULL;

	/* Listing goes through the same start-up. */
	set_mode("flaky");
	CHECK_EQ_INT(sisign_token_list(&o, &ti, &n, &err), SISIGN_OK);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(log_count("init"), 3);
	sisign_token_info_free(ti, n);

	/* No slot at all, every time: a bounded number of tries, then an error
	 * that says so (libp11 alone gives "listing failed" with no reason). */
	set_mode("noslots");
	ps.calls = 0;
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_TOKEN_NOT_FOUND);
	CHECK(s == NULL);
	CHECK_EQ_INT(log_count("init"), 6);
	CHECK(strstr(err.message, "shows no slot") != NULL);
	CHECK_EQ_INT(log_count("login"), 0);
	CHECK_EQ_INT(ps.calls, 0);

	/* A failed C_Login is reported, never repeated, and the module is
	 * initialised only once. */
	set_mode("login_general");
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_PIN_INCORRECT);
	CHECK(s == NULL);
	CHECK_EQ_INT(err.ckr, CKR_GENERAL_ERROR);
	CHECK(strstr(err.message, "not retried") != NULL);
	CHECK_EQ_INT(log_count("login"), 1);
	CHECK_EQ_INT(log_count("init"), 1);
	CHECK_EQ_INT(ps.calls, 1);
}

int main(void)
{
	char *tmp;
	mock_module = getenv("MOCK_P11_MODULE");
	if (!mock_module || access(mock_module, R_OK) != 0) {
		tu_skip("MOCK_P11_MODULE not set (run through ctest)");
		return tu_finish();
	}
	tmp = tu_tmpdir();
	snprintf(log_path, sizeof log_path, "%s/mock.log", tmp);
	setenv("MOCK_P11_LOG", log_path, 1);

	test_helpers(tmp);
	test_module_resolved(tmp);
	test_module_replaced(tmp);
	test_sign_ok();
	test_uri_policy(tmp);
	test_pin_rules(tmp);
	test_pin_flags();
	test_always_auth();
	test_removed();
	test_corrupt_signature();
	test_no_public_part(tmp);
	test_token_failing();
	test_cac_login();
	test_listing();
	test_startup_retry();

	tu_rmrf(tmp);
	free(tmp);
	return tu_finish();
}
