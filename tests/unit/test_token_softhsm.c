/* SPDX-License-Identifier: Apache-2.0 */
/* Token backend against a real SoftHSM token made by the ctest fixture
 * "softhsm_token" (softhsm-config/make-token.sh: token "sisign-test" with key
 * and certificate "sisign"/01, and two tokens labelled "sisign-dup").
 * Also: pkcs11-spy proof that only the 35-byte DigestInfo reaches the token,
 * and signing through p11-kit's remoting (p11-kit server + client module).
 * Skips (77) when SoftHSM or the fixture is missing. */
#include "testutil.h"
#include "pkcs11/token_private.h"
#include "crypto/x509build_private.h"
#include "sign/signer_private.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <p11-kit/pkcs11.h>
#include <sisign/token.h>

#define SPY "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so"
#define P11KIT_CLIENT "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so"
#define KEY_URI "pkcs11:token=sisign-test;object=sisign;type=private"

static const char *softhsm;

static int pin_cb(void *data, const char *kind, const char *what, int tries, char *buf, size_t size)
{
	int *calls = data;
	(void)kind;
	(void)what;
	(void)tries;
	(*calls)++;
	snprintf(buf, size, "%s", getenv("SISIGN_PIN") ? getenv("SISIGN_PIN") : "1234");
	return (int)strlen(buf);
}

static int wrong_pin_cb(void *data, const char *kind, const char *what, int tries, char *buf, size_t size)
{
	int *calls = data;
	(void)kind;
	(void)what;
	(void)tries;
	(*calls)++;
	snprintf(buf, size, "000000");
	return 6;
}

/* Sign digest; verify against the token's certificate (not the key's own
 * public half), so key and certificate are both checked. */
static int sign_verify_cert(struct sisign_signer *s, const unsigned char digest[20], struct sisign_error *err)
{
	unsigned char *sig = NULL;
	size_t siglen = 0;
	EVP_PKEY_CTX *pc = NULL;
	int r, ok = 0;

	if (!s->cert)
		return SISIGN_ERR_BAD_CERT;
	if ((r = sisign_signer_sign_sha1(s, digest, &sig, &siglen, err)) != 0)
		return r;
	pc = EVP_PKEY_CTX_new(X509_get0_pubkey(s->cert), NULL);
	if (pc && EVP_PKEY_verify_init(pc) > 0 && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) > 0 &&
	    EVP_PKEY_CTX_set_signature_md(pc, EVP_sha1()) > 0 && EVP_PKEY_verify(pc, sig, siglen, digest, 20) == 1)
		ok = 1;
	EVP_PKEY_CTX_free(pc);
	free(sig);
	return ok ? SISIGN_OK : SISIGN_ERR_SIG_INVALID;
}

static void opts_init(struct sisign_token_opts *o, int *calls)
{
	memset(o, 0, sizeof *o);
	o->module = softhsm;
	o->pin_cb = pin_cb;
	o->pin_cb_data = calls;
}

static void test_sign(void)
{
	struct sisign_token_opts o;
	struct sisign_signer *s = NULL;
	struct sisign_error err;
	unsigned char d[20];
	int calls = 0;

	opts_init(&o, &calls);
	SHA1((const unsigned char *)"softhsm", 7, d);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_OK);
	if (!s) {
		fprintf(stderr, "  %s\n", err.message);
		return;
	}
	CHECK_EQ_INT(calls, 1);
	CHECK_EQ_INT(sisign_signer_key_bits(s), 2048);
	CHECK_EQ_INT(sign_verify_cert(s, d, &err), SISIGN_OK);
	sisign_signer_free(s);
	s = NULL;

	/* The module named inside the URI (allowed directory), no --module. */
	o.module = NULL;
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI "?module-path=" TOK_SOFTHSM_DIR "/libsofthsm2.so", &o, &s, &err),
		SISIGN_OK);
	if (s)
		CHECK_EQ_INT(sign_verify_cert(s, d, &err), SISIGN_OK);
	sisign_signer_free(s);
	s = NULL;
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI "?module-path=/tmp/libsofthsm2.so", &o, &s, &err),
		SISIGN_ERR_BAD_URI);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI "?module-path=" TOK_SOFTHSM_DIR "/libnothere.so", &o, &s, &err),
		SISIGN_ERR_MODULE);
}

static void test_errors(void)
{
	struct sisign_token_opts o;
	struct sisign_signer *s = NULL;
	struct sisign_error err;
	int calls = 0;

	opts_init(&o, &calls);
	CHECK_EQ_INT(sisign_signer_from_pkcs11("pkcs11:token=no-such-token;object=sisign", &o, &s, &err),
		SISIGN_ERR_TOKEN_NOT_FOUND);
	CHECK(strstr(err.message, "token=sisign-test") != NULL);
	CHECK(strstr(err.message, "token=sisign-dup") != NULL);
	CHECK_EQ_INT(calls, 0);

	CHECK_EQ_INT(sisign_signer_from_pkcs11("pkcs11:token=sisign-dup;object=sisign", &o, &s, &err),
		SISIGN_ERR_AMBIGUOUS);
	{
		/* Both candidates named, told apart by serial. */
		const char *a = strstr(err.message, "token=sisign-dup");
		CHECK(a != NULL);
		CHECK(a && strstr(a + 1, "token=sisign-dup") != NULL);
		CHECK(a && strstr(err.message, "serial=") && strstr(strstr(err.message, "serial=") + 1, "serial="));
	}
	CHECK_EQ_INT(calls, 0);

	CHECK_EQ_INT(sisign_signer_from_pkcs11("pkcs11:token=sisign-test;object=nope", &o, &s, &err),
		SISIGN_ERR_KEY_NOT_FOUND);
	CHECK(strstr(err.message, "object=sisign") != NULL);

	o.module = "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm3.so";
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_MODULE);
	o.module = softhsm;

	/* An unreadable SOFTHSM2_CONF is named in the error. */
	{
		char *saved = strdup(getenv("SOFTHSM2_CONF"));
		setenv("SOFTHSM2_CONF", "/nonexistent/softhsm2.conf", 1);
		CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_MODULE);
		CHECK(strstr(err.message, "SOFTHSM2_CONF") != NULL);
		setenv("SOFTHSM2_CONF", saved, 1);
		free(saved);
	}
	CHECK(s == NULL);
}

static void test_listing(void)
{
	struct sisign_token_opts o;
	struct sisign_token_info *ti = NULL;
	struct sisign_token_object *ob = NULL;
	struct sisign_error err;
	size_t n = 0;
	int calls = 0, seen = 0, dups = 0, priv = -1;

	opts_init(&o, &calls);
	CHECK_EQ_INT(sisign_token_list(&o, &ti, &n, &err), SISIGN_OK);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(ti[i].label, "sisign-test")) {
			seen++;
			CHECK(ti[i].flags & SISIGN_TOKEN_LOGIN_REQUIRED);
			CHECK(ti[i].flags & SISIGN_TOKEN_INITIALIZED);
			CHECK(strstr(ti[i].uri, "token=sisign-test") != NULL);
			CHECK(strcmp(ti[i].manufacturer, "SoftHSM project") == 0);
		}
		if (!strcmp(ti[i].label, "sisign-dup"))
			dups++;
	}
	CHECK_EQ_INT(seen, 1);
	CHECK_EQ_INT(dups, 2);
	CHECK_EQ_INT(calls, 0);
	sisign_token_info_free(ti, n);

	CHECK_EQ_INT(sisign_token_objects("pkcs11:token=sisign-test", &o, &ob, &n, &err), SISIGN_OK);
	CHECK_EQ_INT(calls, 1);
	for (size_t i = 0; i < n; i++)
		if (ob[i].kind == SISIGN_TOKEN_OBJ_PRIVATE_KEY)
			priv = (int)i;
	CHECK(priv >= 0);
	if (priv >= 0) {
		long c = ob[priv].paired;
		CHECK_EQ_INT(ob[priv].key_bits, 2048);
		CHECK(strcmp(ob[priv].label, "sisign") == 0);
		CHECK(strcmp(ob[priv].id_hex, "01") == 0);
		CHECK(c >= 0 && ob[c].kind == SISIGN_TOKEN_OBJ_CERT);
		if (c >= 0) {
			CHECK(ob[c].subject && strstr(ob[c].subject, "sisign test") != NULL);
			CHECK(ob[c].not_after > time(NULL));
		}
	}
	sisign_token_objects_free(ob, n);
}

/* Sign through pkcs11-spy; the log must show exactly one C_Sign whose input
 * is the 35-byte SHA-1 DigestInfo of our digest, a CKM_RSA_PKCS C_SignInit,
 * no digesting and no multi-part signing; and a wrong PIN = one C_Login. */
static void test_spy(const char *tmp)
{
	struct sisign_token_opts o;
	struct sisign_signer *s = NULL;
	struct sisign_error err;
	unsigned char d[20], di[XB_DI_MAX], seen[64];
	size_t dilen = 0;
	char logp[4200], *line, *save = NULL;
	uint8_t *log;
	size_t len = 0, nseen = 0;
	int calls = 0, nsign = 0, nsigninit = 0, nbad = 0, in_sign = 0, in_init = 0, dlen = -1, nlogin = 0;

	if (access(SPY, R_OK) != 0) {
		printf("note: %s absent, spy test skipped\n", SPY);
		return;
	}
	snprintf(logp, sizeof logp, "%s/spy.log", tmp);
	setenv("PKCS11SPY", softhsm, 1);
	setenv("PKCS11SPY_OUTPUT", logp, 1);
	opts_init(&o, &calls);
	o.module = SPY;
	SHA1((const unsigned char *)"spy", 3, d);
	CHECK_EQ_INT(xb_digestinfo(NID_sha1, d, sizeof d, di, &dilen), SISIGN_OK);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_OK);
	if (s)
		CHECK_EQ_INT(sign_verify_cert(s, d, &err), SISIGN_OK);
	sisign_signer_free(s);
	s = NULL;

	log = tu_read_file(logp, &len);
	CHECK(log != NULL);
	if (!log)
		return;
	log = realloc(log, len + 1);
	log[len] = '\0';
	for (line = strtok_r((char *)log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *c = strstr(line, ": C_");
		if (c && strspn(line, "0123456789") == (size_t)(c - line)) {
			in_sign = !strcmp(c, ": C_Sign");
			in_init = !strcmp(c, ": C_SignInit");
			nsign += in_sign;
			nsigninit += in_init;
			if (strstr(c, "C_Digest") || strstr(c, "C_SignUpdate") || strstr(c, "C_SignFinal") ||
			    strstr(c, "C_SignRecover"))
				nbad++;
			continue;
		}
		if (in_init && strstr(line, "pMechanism->type") && !strstr(line, "= CKM_RSA_PKCS "))
			nbad++;
		if (in_sign && strstr(line, "[in] pData[ulDataLen]")) {
			const char *sl = strrchr(line, '/');
			dlen = sl ? atoi(sl + 1) : -1;
		} else if (in_sign && dlen > 0 && strncmp(line, "    000000", 10) == 0) {
			/* "    00000010  36 37 ..." : up to 16 hex bytes */
			const char *p = line + 14;
			for (int i = 0; i < 16 && nseen < sizeof seen; i++, p += 3) {
				unsigned int b;
				if (sscanf(p, "%2x", &b) != 1 || p[0] == ' ')
					break;
				seen[nseen++] = (unsigned char)b;
			}
		} else if (in_sign && strstr(line, "[out]")) {
			in_sign = 0;
		}
	}
	free(log);
	CHECK_EQ_INT(nsign, 1);
	CHECK_EQ_INT(nsigninit, 1);
	CHECK_EQ_INT(nbad, 0);
	CHECK_EQ_INT(dlen, 35);
	CHECK_EQ_INT(nseen, 35);
	CHECK(nseen == dilen && memcmp(seen, di, dilen) == 0);

	/* Wrong PIN through the spy: exactly one C_Login. */
	unlink(logp);
	calls = 0;
	o.pin_cb = wrong_pin_cb;
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_ERR_PIN_INCORRECT);
	CHECK_EQ_INT(err.ckr, CKR_PIN_INCORRECT);
	CHECK_EQ_INT(calls, 1);
	log = tu_read_file(logp, &len);
	if (log) {
		log = realloc(log, len + 1);
		log[len] = '\0';
		for (char *p = (char *)log; (p = strstr(p, ": C_Login\n")) != NULL; p++)
			nlogin++;
		free(log);
	}
	CHECK_EQ_INT(nlogin, 1);
	unsetenv("PKCS11SPY");
	unsetenv("PKCS11SPY_OUTPUT");
}

/* p11-kit remoting: "p11-kit server" exports the token on a unix socket;
 * we sign through p11-kit-client.so. */
static void test_p11kit_remote(const char *tmp)
{
	struct sisign_token_opts o;
	struct sisign_signer *s = NULL;
	struct sisign_error err;
	char cmd[9000], envp[4200], buf[1024];
	char addr[600] = "";
	long pid = 0;
	unsigned char d[20];
	int calls = 0;
	FILE *f;

	if (access(P11KIT_CLIENT, R_OK) != 0 || system("command -v p11-kit >/dev/null") != 0) {
		printf("note: p11-kit server/client absent, remoting test skipped\n");
		return;
	}
	snprintf(envp, sizeof envp, "%s/p11kit.env", tmp);
	/* The server daemonises and keeps stdout open: send it to a file. */
	snprintf(cmd, sizeof cmd,
		"p11-kit server -s --provider '%s' -n '%s/p11.sock' 'pkcs11:token=sisign-test' > '%s' 2>/dev/null",
		softhsm, tmp, envp);
	CHECK_EQ_INT(system(cmd), 0);
	for (int i = 0; i < 50 && !addr[0]; i++) {
		if ((f = fopen(envp, "r")) != NULL) {
			while (fgets(buf, sizeof buf, f)) {
				char *e;
				if (!strncmp(buf, "P11_KIT_SERVER_ADDRESS=", 23) && (e = strchr(buf, ';'))) {
					*e = '\0';
					snprintf(addr, sizeof addr, "%.590s", buf + 23);
				} else if (!strncmp(buf, "P11_KIT_SERVER_PID=", 19)) {
					pid = atol(buf + 19);
				}
			}
			fclose(f);
		}
		if (!addr[0] || !pid) {
			addr[0] = '\0';
			usleep(100000);
		}
	}
	CHECK(addr[0] != '\0' && pid > 0);
	if (!addr[0] || pid <= 0)
		return;
	/* The address is printed before the socket is certain to be bound:
	 * wait for the socket file (up to 5 s). */
	{
		char sock[4300];
		struct stat st;
		snprintf(sock, sizeof sock, "%s/p11.sock", tmp);
		for (int i = 0; i < 50 && stat(sock, &st) != 0; i++)
			usleep(100000);
		usleep(100000);
	}
	setenv("P11_KIT_SERVER_ADDRESS", addr, 1);
	opts_init(&o, &calls);
	o.module = P11KIT_CLIENT;
	SHA1((const unsigned char *)"remote", 6, d);
	CHECK_EQ_INT(sisign_signer_from_pkcs11(KEY_URI, &o, &s, &err), SISIGN_OK);
	if (s)
		CHECK_EQ_INT(sign_verify_cert(s, d, &err), SISIGN_OK);
	else
		fprintf(stderr, "  remote: %s (ckr 0x%lx)\n", err.message, err.ckr);
	sisign_signer_free(s);
	unsetenv("P11_KIT_SERVER_ADDRESS");
	kill((pid_t)pid, SIGTERM);
}

int main(void)
{
	const char *conf = getenv("SOFTHSM2_CONF");
	char *tmp;

	softhsm = getenv("SOFTHSM2_MODULE");
	if (!softhsm || access(softhsm, R_OK) != 0) {
		tu_skip("SoftHSM module not found (apt-get install softhsm2)");
		return tu_finish();
	}
	if (!conf || access(conf, R_OK) != 0) {
		tu_skip("SoftHSM token fixture missing (run through ctest: fixture softhsm_token)");
		return tu_finish();
	}
	tmp = tu_tmpdir();
	test_sign();
	test_errors();
	test_listing();
	test_spy(tmp);
	test_p11kit_remote(tmp);
	tu_rmrf(tmp);
	free(tmp);
	return tu_finish();
}
