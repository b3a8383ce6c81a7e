/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the front-end helpers (src/fe): JSON writer, time
 * parsing/formatting, secret sources, error lines, names; and the library
 * calls the front ends use instead of their own: certificate descriptions
 * (sisign_certs_describe) and hex (sisign_hex).
 *
 * XXX: tests/CMakeLists.txt links unit tests with the library only, not with
 * sisign_fe, so the helpers are compiled in here directly. */
#include "../../src/fe/fe_error.c"
#include "../../src/fe/fe_json.c"
#include "../../src/fe/fe_names.c"
#include "../../src/fe/fe_secret.c"
#include "../../src/fe/fe_time.c"

#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/crypto.h>
#include <sys/prctl.h>
#include <sys/resource.h>

/* Run fn over a memstream and return what it wrote (malloc'd). */
static char *capture_json(void (*fn)(struct fe_json *j), int *finish)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct fe_json j;

	if (!fp)
		return NULL;
	fe_json_init(&j, fp);
	fn(&j);
	*finish = fe_json_finish(&j);
	fclose(fp);
	return buf;
}

static void json_doc(struct fe_json *j)
{
	fe_json_begin_object(j);
	fe_json_kv_string(j, "s", "q\"b\\n\n t\t c\x01 d\x1f e\x7f");
	fe_json_kv_string(j, "utf8", "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
	fe_json_kv_string(j, "bad", "a\xff" "b\xc3" "c\xed\xa0\x80" "d\xc0\xaf");
	fe_json_kv_int(j, "neg", -42);
	fe_json_kv_uint64(j, "big", UINT64_C(18446744073709551615));
	fe_json_key(j, "arr");
	fe_json_begin_array(j);
	fe_json_bool(j, 1);
	fe_json_bool(j, 0);
	fe_json_null(j);
	fe_json_string(j, NULL);
	fe_json_begin_object(j);
	fe_json_end_object(j);
	fe_json_begin_array(j);
	fe_json_int(j, 0);
	fe_json_end_array(j);
	fe_json_end_array(j);
	fe_json_key(j, "k\"ey");
	fe_json_string_n(j, "ab\0c", 4);
	fe_json_end_object(j);
}

static void json_unbalanced(struct fe_json *j)
{
	fe_json_begin_object(j);
	fe_json_key(j, "a");
	fe_json_begin_array(j);
	fe_json_end_array(j);
}

static void json_value_without_key(struct fe_json *j)
{
	fe_json_begin_object(j);
	fe_json_int(j, 1);
	fe_json_end_object(j);
}

static void json_key_in_array(struct fe_json *j)
{
	fe_json_begin_array(j);
	fe_json_key(j, "x");
	fe_json_int(j, 1);
	fe_json_end_array(j);
}

static void test_json(void)
{
	int fin = 0;
	char *out = capture_json(json_doc, &fin);
	const char *want =
		"{\"s\":\"q\\\"b\\\\n\\n t\\t c\\u0001 d\\u001f e\\u007f\","
		"\"utf8\":\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\","
		"\"bad\":\"a\\ufffdb\\ufffdc\\ufffd\\ufffd\\ufffdd\\ufffd\\ufffd\","
		"\"neg\":-42,\"big\":18446744073709551615,"
		"\"arr\":[true,false,null,null,{},[0]],"
		"\"k\\\"ey\":\"ab\\u0000c\"}";

	CHECK(out != NULL);
	CHECK_EQ_INT(fin, 0);
	CHECK_MSG(out && strcmp(out, want) == 0, "got  %s\nwant %s", out ? out : "(null)", want);
	free(out);

	out = capture_json(json_unbalanced, &fin);
	CHECK_EQ_INT(fin, -1);
	free(out);
	out = capture_json(json_value_without_key, &fin);
	CHECK_EQ_INT(fin, -1);
	free(out);
	out = capture_json(json_key_in_array, &fin);
	CHECK_EQ_INT(fin, -1);
	free(out);
}

static void test_time(void)
{
	char buf[FE_TIME_BUFSIZE];
	time_t t = 0;
	struct sisign_datetime dt = { 2004, 1, 1, 0, 0, 0 };

	CHECK_EQ_INT(fe_time_parse("2008-06-01T00:00:00Z", &t), 0);
	CHECK_EQ_INT(t, 1212278400);
	t = 0;
	CHECK_EQ_INT(fe_time_parse("2008-06-01", &t), 0);
	CHECK_EQ_INT(t, 1212278400);
	CHECK_EQ_INT(fe_time_parse("2024-02-29T23:59:58Z", &t), 0);
	CHECK_EQ_INT(t, 1709251198);
	CHECK_EQ_INT(fe_time_parse("2000-02-29", &t), 0);
	CHECK_EQ_INT(fe_time_parse("1900-02-29", &t), -1);
	CHECK_EQ_INT(fe_time_parse("2023-02-29", &t), -1);
	CHECK_EQ_INT(fe_time_parse("2008-02-30", &t), -1);
	CHECK_EQ_INT(fe_time_parse("2008-13-01", &t), -1);
	CHECK_EQ_INT(fe_time_parse("2008-00-01", &t), -1);
	CHECK_EQ_INT(fe_time_parse("2008-06-00", &t), -1);
	CHECK_EQ_INT(fe_time_parse("2008-06-01T24:00:00Z", &t), -1);
	CHECK_EQ_INT(fe_time_parse("2008-06-01T00:60:00Z", &t), -1);
	CHECK_EQ_INT(fe_time_parse("2008-06-01T00:00:00", &t), -1);
	CHECK_EQ_INT(fe_time_parse("2008-06-01T00:00:00+01", &t), -1);
	CHECK_EQ_INT(fe_time_parse("2008-6-1", &t), -1);
	CHECK_EQ_INT(fe_time_parse("", &t), -1);
	CHECK_EQ_INT(fe_time_parse(" 2008-06-01", &t), -1);

	CHECK_EQ_INT(fe_time_format(1212278400, buf, sizeof buf), 0);
	CHECK(strcmp(buf, "2008-06-01T00:00:00Z") == 0);
	CHECK_EQ_INT(fe_time_format(0, buf, sizeof buf), 0);
	CHECK(strcmp(buf, "1970-01-01T00:00:00Z") == 0);
	CHECK_EQ_INT(fe_time_format(1709251198, buf, sizeof buf), 0);
	CHECK(strcmp(buf, "2024-02-29T23:59:58Z") == 0);
	fe_datetime_format(&dt, buf, sizeof buf);
	CHECK(strcmp(buf, "2004-01-01T00:00:00Z") == 0);
}

static void write_secret(const char *path, const char *content, mode_t mode)
{
	CHECK_EQ_INT(tu_write_file(path, content, strlen(content)), 0);
	CHECK_EQ_INT(chmod(path, mode), 0);
}

static void test_secret(void)
{
	char *dir = tu_tmpdir();
	char path[4096], buf[64], rest[16];
	struct fe_secret_src src;
	int fds[2], r;

	CHECK(dir != NULL);
	if (!dir)
		return;
	snprintf(path, sizeof path, "%s/pass", dir);

	/* file: group/other bits refused, whatever the content */
	write_secret(path, "s3cret\n", 0644);
	fe_secret_src_init(&src);
	src.file = path;
	strcpy(buf, "xxxx");
	r = fe_secret_cb(&src, "passphrase", "rsa.key", -1, buf, sizeof buf);
	CHECK_EQ_INT(r, SISIGN_ERR_INVALID_ARG);
	CHECK_EQ_INT(src.err.code, SISIGN_ERR_INVALID_ARG);
	CHECK(strstr(src.err.message, "group or others") != NULL);
	CHECK(strstr(src.err.message, "0644") != NULL);
	CHECK(strstr(src.err.message, "s3cret") == NULL);
	CHECK_EQ_INT(buf[0], '\0');
	CHECK_EQ_INT(chmod(path, 0640), 0);
	CHECK_EQ_INT(fe_secret_cb(&src, "passphrase", "rsa.key", -1, buf, sizeof buf), SISIGN_ERR_INVALID_ARG);
	CHECK_EQ_INT(chmod(path, 0604), 0);
	CHECK_EQ_INT(fe_secret_cb(&src, "passphrase", "rsa.key", -1, buf, sizeof buf), SISIGN_ERR_INVALID_ARG);

	/* 0600: accepted, one trailing newline stripped */
	CHECK_EQ_INT(chmod(path, 0600), 0);
	r = fe_secret_cb(&src, "passphrase", "rsa.key", -1, buf, sizeof buf);
	CHECK_EQ_INT(r, 6);
	CHECK(strcmp(buf, "s3cret") == 0);
	CHECK_EQ_INT(src.err.code, 0);
	/* Exactly one line end goes; what is left must be one non-empty line
	 * without NUL (issue #10 item 4): refused, PIN and passphrase alike. */
	write_secret(path, "a b\n\n", 0400);
	CHECK_EQ_INT(fe_secret_cb(&src, "passphrase", "k", -1, buf, sizeof buf), SISIGN_ERR_BAD_PASSPHRASE);
	CHECK(strstr(src.err.message, "more than one line") != NULL);
	CHECK_EQ_INT(chmod(path, 0600), 0);
	write_secret(path, "1234\n5678\n", 0600);
	CHECK_EQ_INT(fe_secret_cb(&src, "pin", "Dev", -1, buf, sizeof buf), SISIGN_ERR_BAD_PIN);
	CHECK(strstr(src.err.message, "more than one line") != NULL);
	CHECK(strstr(src.err.message, "5678") == NULL);
	CHECK_EQ_INT(tu_write_file(path, "1234\0junk", 9), 0);
	CHECK_EQ_INT(fe_secret_cb(&src, "pin", "Dev", -1, buf, sizeof buf), SISIGN_ERR_BAD_PIN);
	CHECK(strstr(src.err.message, "NUL") != NULL);
	write_secret(path, "", 0600);
	CHECK_EQ_INT(fe_secret_cb(&src, "pin", "Dev", -1, buf, sizeof buf), SISIGN_ERR_BAD_PIN);
	CHECK(strstr(src.err.message, "empty") != NULL);
	write_secret(path, "\n", 0600);
	CHECK_EQ_INT(fe_secret_cb(&src, "passphrase", "k", -1, buf, sizeof buf), SISIGN_ERR_BAD_PASSPHRASE);
	write_secret(path, "cr\r", 0600);
	CHECK_EQ_INT(fe_secret_cb(&src, "pin", "Dev", -1, buf, sizeof buf), SISIGN_ERR_BAD_PIN);
	write_secret(path, "crlf\r\n", 0600);
	CHECK_EQ_INT(fe_secret_cb(&src, "passphrase", "k", -1, buf, sizeof buf), 4);
	CHECK(strcmp(buf, "crlf") == 0);
	write_secret(path, "nonewline", 0600);
	CHECK_EQ_INT(fe_secret_cb(&src, "passphrase", "k", -1, buf, sizeof buf), 9);
	CHECK(strcmp(buf, "nonewline") == 0);
	/* exactly fits (7 + NUL in 8), and one byte too long */
	write_secret(path, "1234567\n", 0600);
	CHECK_EQ_INT(fe_secret_cb(&src, "passphrase", "k", -1, buf, 8), 7);
	write_secret(path, "12345678\n", 0600);
	CHECK_EQ_INT(fe_secret_cb(&src, "passphrase", "k", -1, buf, 8), SISIGN_ERR_TOO_LARGE);
	CHECK_EQ_INT(buf[0], '\0');
	snprintf(rest, sizeof rest, "%s", "x");
	src.file = "/nonexistent/sisign-secret";
	CHECK_EQ_INT(fe_secret_cb(&src, "passphrase", "k", -1, buf, sizeof buf), SISIGN_ERR_SYSTEM);

	/* environment: empty = unset; taken out of the environment once, the
	 * original bytes overwritten (issue #10 item 5) */
	fe_secret_src_init(&src);
	src.allow_prompt = 0;
	unsetenv("SISIGN_TEST_FE_UNSET");
	fe_secret_src_take_env(&src, "SISIGN_TEST_FE_UNSET");
	CHECK(!fe_secret_src_explicit(&src));
	CHECK_EQ_INT(fe_secret_cb(&src, "pin", "Dev", -1, buf, sizeof buf), SISIGN_ERR_BAD_PASSPHRASE);
	setenv("SISIGN_TEST_FE_EMPTY", "", 1);
	fe_secret_src_take_env(&src, "SISIGN_TEST_FE_EMPTY");
	CHECK(!fe_secret_src_explicit(&src));
	CHECK(getenv("SISIGN_TEST_FE_EMPTY") == NULL);
	CHECK_EQ_INT(fe_secret_cb(&src, "pin", "Dev", -1, buf, sizeof buf), SISIGN_ERR_BAD_PASSPHRASE);
	CHECK_EQ_INT(src.err.code, SISIGN_ERR_BAD_PASSPHRASE);
	{
		static char envbuf[] = "SISIGN_TEST_FE_SECRET=1234";
		CHECK_EQ_INT(putenv(envbuf), 0);
		fe_secret_src_take_env(&src, "SISIGN_TEST_FE_SECRET");
		CHECK(getenv("SISIGN_TEST_FE_SECRET") == NULL);
		CHECK(memchr(envbuf, '1', sizeof envbuf) == NULL);
		CHECK(fe_secret_src_explicit(&src));
		CHECK(CRYPTO_secure_allocated(src.env_value));
	}
	CHECK_EQ_INT(fe_secret_cb(&src, "pin", "Dev", -1, buf, sizeof buf), 4);
	CHECK(strcmp(buf, "1234") == 0);
	CHECK_EQ_INT(fe_secret_cb(&src, "pin", "Dev", -1, buf, 4), SISIGN_ERR_TOO_LARGE);
	/* a second source for the same name gets the same copy */
	{
		struct fe_secret_src again;
		fe_secret_src_init(&again);
		fe_secret_src_take_env(&again, "SISIGN_TEST_FE_SECRET");
		CHECK_EQ_INT(fe_secret_cb(&again, "pin", "Dev", -1, buf, sizeof buf), 4);
	}

	/* file wins over the environment */
	write_secret(path, "fromfile\n", 0600);
	src.file = path;
	CHECK_EQ_INT(fe_secret_cb(&src, "pin", "Dev", -1, buf, sizeof buf), 8);
	CHECK(strcmp(buf, "fromfile") == 0);

	/* fd: up to the newline, nothing after it consumed; used only once;
	 * wins over file and environment */
	CHECK_EQ_INT(pipe(fds), 0);
	CHECK_EQ_INT(write(fds[1], "pin123\nrest", 11), 11);
	close(fds[1]);
	src.fd = fds[0];
	CHECK_EQ_INT(fe_secret_cb(&src, "pin", "Dev", 3, buf, sizeof buf), 6);
	CHECK(strcmp(buf, "pin123") == 0);
	memset(rest, 0, sizeof rest);
	CHECK_EQ_INT(read(fds[0], rest, sizeof rest - 1), 4);
	CHECK(strcmp(rest, "rest") == 0);
	CHECK_EQ_INT(fe_secret_cb(&src, "pin", "Dev", 3, buf, sizeof buf), SISIGN_ERR_BAD_PASSPHRASE);
	CHECK(strstr(src.err.message, "already used") != NULL);
	close(fds[0]);

	/* fd at EOF right away, or an empty line: refused, not an empty
	 * secret */
	CHECK_EQ_INT(pipe(fds), 0);
	close(fds[1]);
	fe_secret_src_init(&src);
	src.fd = fds[0];
	CHECK_EQ_INT(fe_secret_cb(&src, "passphrase", "k", -1, buf, sizeof buf), SISIGN_ERR_BAD_PASSPHRASE);
	CHECK(strstr(src.err.message, "empty") != NULL);
	close(fds[0]);
	CHECK_EQ_INT(pipe(fds), 0);
	CHECK_EQ_INT(write(fds[1], "\n", 1), 1);
	close(fds[1]);
	fe_secret_src_init(&src);
	src.fd = fds[0];
	CHECK_EQ_INT(fe_secret_cb(&src, "pin", "Dev", -1, buf, sizeof buf), SISIGN_ERR_BAD_PIN);
	close(fds[0]);
	fe_secret_env_wipe();

	/* a process about to hold a secret: no core dumps, not dumpable */
	{
		struct rlimit rl;
		CHECK_EQ_INT(fe_protect_process(), 0);
		CHECK_EQ_INT(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
		CHECK_EQ_INT(getrlimit(RLIMIT_CORE, &rl), 0);
		CHECK(rl.rlim_cur == 0 && rl.rlim_max == 0);
	}

	/* nothing at all, no prompt allowed */
	fe_secret_src_init(&src);
	CHECK_EQ_INT(fe_secret_cb(&src, "passphrase", "rsa.key", -1, buf, sizeof buf), SISIGN_ERR_BAD_PASSPHRASE);
	CHECK_EQ_INT(fe_secret_cb(NULL, "passphrase", "rsa.key", -1, buf, sizeof buf), SISIGN_ERR_INVALID_ARG);

	fe_secret_prompt_text("passphrase", "rsa.key", -1, buf, sizeof buf);
	CHECK(strcmp(buf, "Passphrase for rsa.key: ") == 0);
	fe_secret_prompt_text("pin", "Dev", 2, buf, sizeof buf);
	CHECK(strcmp(buf, "PIN for token \"Dev\" (2 tries left): ") == 0);
	fe_secret_prompt_text("pin", "Dev", -1, buf, sizeof buf);
	CHECK(strcmp(buf, "PIN for token \"Dev\": ") == 0);
	fe_secret_prompt_text("pin", "Dev", 1, buf, sizeof buf);
	CHECK(strcmp(buf, "PIN for token \"Dev\" (final try!): ") == 0);
	fe_secret_prompt_text("pin", "a\nb", -1, buf, sizeof buf);
	CHECK(strcmp(buf, "PIN for token \"a?b\": ") == 0);

	tu_rmrf(dir);
	free(dir);
}

static void test_print_error(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);
	struct sisign_error e;

	sisign_error_clear(&e);
	e.code = SISIGN_ERR_TRUNCATED;
	e.offset = 1234;
	snprintf(e.message, sizeof e.message, "SISController ends inside a field");
	fe_print_error(fp, "sisign", "a.sis", &e);
	snprintf(e.ossl_reason, sizeof e.ossl_reason, "bad decrypt");
	e.offset = -1;
	fe_print_error(fp, "sisign", "b\nc.sis", &e);
	sisign_error_clear(&e);
	e.code = SISIGN_ERR_NOT_SIS;
	fe_print_error(fp, NULL, NULL, &e);
	fclose(fp);
	CHECK(out && strcmp(out, "sisign: a.sis: SISController ends inside a field (at offset 1234)\n"
		"sisign: b?c.sis: SISController ends inside a field \xe2\x80\x94 bad decrypt\n"
		"not a SIS file\n") == 0);
	free(out);
}

static void test_names(void)
{
	char buf[64];
	int ok = -1;

	CHECK(strcmp(fe_sig_algorithm_name("1.2.840.113549.1.1.5", &ok, buf, sizeof buf), "RSA-SHA1") == 0);
	CHECK_EQ_INT(ok, 1);
	CHECK(strcmp(fe_sig_algorithm_name("1.2.840.10040.4.3", &ok, buf, sizeof buf), "DSA-SHA1") == 0);
	CHECK_EQ_INT(ok, 1);
	CHECK(strcmp(fe_sig_algorithm_name("1.2.840.113549.1.1.4", &ok, buf, sizeof buf),
		"unsupported (md5WithRSA)") == 0);
	CHECK_EQ_INT(ok, 0);
	CHECK(strcmp(fe_sig_algorithm_name("1.2.3", &ok, buf, sizeof buf), "unsupported (1.2.3)") == 0);
	CHECK(strcmp(fe_platform_name(0x101F7961), "S60 3rd Edition") == 0);
	CHECK(strcmp(fe_platform_name(0x20022E6D), "Symbian^3") == 0);
	CHECK(fe_platform_name(0x12345678) == NULL);
	CHECK_EQ_INT(fe_language_parse("EN"), 1);
	CHECK_EQ_INT(fe_language_parse("fi"), 9);
	CHECK_EQ_INT(fe_language_parse("09"), 9);
	CHECK_EQ_INT(fe_language_parse("English"), 1);
	CHECK_EQ_INT(fe_language_parse("XX"), -1);
	CHECK_EQ_INT(fe_language_parse("0"), -1);
	CHECK_EQ_INT(fe_language_parse("1x"), -1);
	CHECK_EQ_INT(fe_install_type_parse("pu"), 2);
	CHECK_EQ_INT(fe_install_type_parse("XX"), -1);
	CHECK(strcmp(fe_install_type_code(4), "PP") == 0);
}

static int make_cert(const char *cn, long serial, unsigned char **der, int *derlen)
{
	EVP_PKEY *pk = EVP_RSA_gen(1024);
	X509 *x = X509_new();
	X509_NAME *n;
	int ok = 0;

	*der = NULL;
	if (!pk || !x)
		goto out;
	n = X509_get_subject_name(x);
	if (!X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
		!X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
		!X509_set_issuer_name(x, n) || !X509_set_pubkey(x, pk) ||
		!ASN1_TIME_set(X509_getm_notBefore(x), 1212278400) ||
		!ASN1_TIME_set(X509_getm_notAfter(x), 1243814400) || !X509_sign(x, pk, EVP_sha1()))
		goto out;
	*derlen = i2d_X509(x, der);
	ok = *derlen > 0;
out:
	X509_free(x);
	EVP_PKEY_free(pk);
	return ok;
}

static void test_cert(void)
{
	unsigned char *a = NULL, *b = NULL, *all;
	int alen = 0, blen = 0;
	struct sisign_cert_info *ci = NULL;
	size_t n = 0, total;
	struct sisign_error e;

	CHECK(make_cert("Signer", 1, &a, &alen));
	CHECK(make_cert("Root", 0x1234, &b, &blen));
	if (!a || !b)
		return;
	total = (size_t)alen + (size_t)blen;
	all = malloc(total + 3);
	memcpy(all, a, (size_t)alen);
	memcpy(all + alen, b, (size_t)blen);
	CHECK_EQ_INT(sisign_certs_describe(all, total, &ci, &n, &e), SISIGN_OK);
	CHECK_EQ_INT(n, 2);
	if (n == 2) {
		CHECK(strcmp(ci[0].subject, "CN=Signer") == 0);
		CHECK(strcmp(ci[0].issuer, "CN=Signer") == 0);
		CHECK_EQ_INT(ci[0].self_issued, 1);
		CHECK(strcmp(ci[0].serial, "01") == 0);
		CHECK(strcmp(ci[0].key_type, "RSA") == 0);
		CHECK_EQ_INT(ci[0].key_bits, 1024);
		CHECK_EQ_INT(ci[0].not_before, 1212278400);
		CHECK_EQ_INT(ci[0].not_after, 1243814400);
		CHECK_EQ_INT(strlen(ci[0].sha256), 64);
		CHECK(strcmp(ci[0].sig_alg, "sha1WithRSAEncryption") == 0);
		CHECK(strcmp(ci[1].subject, "CN=Root") == 0);
		CHECK(strcmp(ci[1].serial, "1234") == 0);
	}
	sisign_cert_info_free(ci);
	/* garbage after two good certificates */
	memcpy(all + total, "\x30\x82\xff", 3);
	CHECK_EQ_INT(sisign_certs_describe(all, total + 3, &ci, &n, &e), SISIGN_ERR_BAD_CERT);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(e.code, SISIGN_ERR_BAD_CERT);
	CHECK_EQ_INT(e.offset, (long long)total);
	sisign_cert_info_free(ci);
	CHECK_EQ_INT(sisign_certs_describe(all, 0, &ci, &n, &e), SISIGN_OK);
	CHECK_EQ_INT(n, 0);
	sisign_cert_info_free(ci);
	free(all);
	OPENSSL_free(a);
	OPENSSL_free(b);
}

static void test_hex(void)
{
	static const unsigned char b[] = { 0x00, 0x7f, 0xa5, 0xff };
	char out[9], small[4];

	CHECK_EQ_INT(sisign_hex(b, sizeof b, out, sizeof out), 8);
	CHECK(strcmp(out, "007fa5ff") == 0);
	/* only whole bytes that fit, always terminated */
	CHECK_EQ_INT(sisign_hex(b, sizeof b, small, sizeof small), 2);
	CHECK(strcmp(small, "00") == 0);
	CHECK_EQ_INT(sisign_hex(b, 0, out, sizeof out), 0);
	CHECK(out[0] == '\0');
	CHECK_EQ_INT(sisign_hex(b, sizeof b, out, 0), 0);
}

int main(void)
{
	test_hex();
	test_json();
	test_time();
	test_secret();
	test_print_error();
	test_names();
	test_cert();
	return tu_finish();
}
