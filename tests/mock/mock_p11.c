/* SPDX-License-Identifier: Apache-2.0 */
/* A tiny PKCS#11 module for unit tests: one slot, one token ("sisign mock",
 * user PIN "1234"), one RSA key pair + self-signed certificate (id 01, label
 * "mockkey"), CKM_RSA_PKCS signing.  The key is generated with OpenSSL at
 * C_Initialize, or read from the PEM file named by MOCK_P11_KEY.
 *
 * MOCK_P11_MODE selects token behaviour:
 *   locked       CKF_USER_PIN_LOCKED; C_Login returns CKR_PIN_LOCKED
 *   final        CKF_USER_PIN_FINAL_TRY
 *   countlow     CKF_USER_PIN_COUNT_LOW
 *   pinpad       CKF_PROTECTED_AUTHENTICATION_PATH; C_Login needs a NULL PIN
 *   always_auth  the key has CKA_ALWAYS_AUTHENTICATE: C_Sign fails with
 *                CKR_USER_NOT_LOGGED_IN unless C_Login(CKU_CONTEXT_SPECIFIC)
 *                came after the C_SignInit
 *   removed      C_Sign returns CKR_DEVICE_REMOVED
 *   noslots      C_GetSlotList shows no slot (p11-kit server whose module
 *                lost the token)
 *   flaky        C_GetTokenInfo returns CKR_GENERAL_ERROR in the first two
 *                initialisations (a SoftHSM that read its token file while
 *                another process rewrote it); needs MOCK_P11_LOG
 *   login_general  C_Login returns CKR_GENERAL_ERROR
 *   cac          a wrong PIN gives CKR_GENERAL_ERROR, as OpenSC's CAC driver
 *                does, instead of CKR_PIN_INCORRECT
 * Further knobs (each independent of the mode):
 *   MOCK_P11_CORRUPT=1         every signature comes back with one bit flipped
 *   MOCK_P11_SIGN_FAIL_AFTER=N after N good signatures, every C_Sign fails
 *   MOCK_P11_SIGN_FAIL_RV=RV   ... with this CK_RV (number, 0x.. allowed;
 *                              default CKR_DEVICE_ERROR)
 *   MOCK_P11_NO_PUBLIC=1       the private key object has no CKA_MODULUS or
 *                              CKA_PUBLIC_EXPONENT and there is no public key
 *                              object.  libp11 0.4.12 then cannot size the
 *                              signature and passes a zero length to C_Sign;
 *                              like lenient modules, the mock signs anyway.
 *   MOCK_P11_CERT_KEY=PEM      the certificate holds this other key (a
 *                              certificate that does not belong to the key)
 * C_GenerateKeyPair hands back the built-in key pair (the templates are not
 * applied) and C_CreateObject/C_DestroyObject accept and drop objects: enough
 * for keygen --cert to reach its signing path.
 * MOCK_P11_LOG names a file that gets one line per C_Initialize ("init"),
 * per C_Login ("login U" with U the user type), per C_SignInit and per
 * C_Sign ("sign N" with N the input length), so tests can count calls. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>

#define MOCK_PIN "1234"
#define MAX_SESSIONS 16
#define H_PRIV 1
#define H_PUB 2
#define H_CERT 3

enum mode { M_NORMAL, M_LOCKED, M_FINAL, M_COUNTLOW, M_PINPAD, M_ALWAYS_AUTH, M_REMOVED, M_NOSLOTS, M_FLAKY,
	M_LOGIN_GENERAL, M_CAC };

static struct {
	int initialized;
	int init_no;     /* this initialisation's number, from the log (mode flaky) */
	enum mode mode;
	EVP_PKEY *key;
	unsigned char *cert_der, *subject_der, *mod, *exp;
	int cert_len, subject_len, mod_len, exp_len;
	int logged_in;
	int corrupt, no_public;
	long fail_after;        /* -1: never */
	CK_RV fail_rv;
	long signed_ok;         /* good signatures so far */
	struct {
		int open;
		int finding;
		CK_OBJECT_HANDLE found[3];
		CK_ULONG nfound, pos;
		int signing;
		int ctx_login;
	} sess[MAX_SESSIONS + 1];
} g;

static void mlog(const char *fmt, ...)
{
	const char *path = getenv("MOCK_P11_LOG");
	FILE *f;
	va_list ap;
	if (!path || !(f = fopen(path, "a")))
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

static void pad(unsigned char *dst, size_t n, const char *s)
{
	size_t l = strlen(s);
	memset(dst, ' ', n);
	memcpy(dst, s, l < n ? l : n);
}

static unsigned char *bn_bytes(const char *name, int *len)
{
	BIGNUM *bn = NULL;
	unsigned char *p;
	if (!EVP_PKEY_get_bn_param(g.key, name, &bn))
		return NULL;
	*len = BN_num_bytes(bn);
	p = malloc((size_t)*len);
	if (p)
		BN_bn2bin(bn, p);
	BN_free(bn);
	return p;
}

static EVP_PKEY *read_key(const char *pem)
{
	FILE *f = fopen(pem, "r");
	EVP_PKEY *k;
	if (!f)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

static int make_key_and_cert(void)
{
	const char *pem = getenv("MOCK_P11_KEY");
	const char *cert_pem = getenv("MOCK_P11_CERT_KEY");
	EVP_PKEY *ck = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	unsigned char *p;
	int ok = 0;

	if (pem && *pem)
		g.key = read_key(pem);
	else
		g.key = EVP_RSA_gen(1024); /* small: tests load the module often */
	if (cert_pem && *cert_pem && !(ck = read_key(cert_pem)))
		goto out;
	if (!g.key || !(x = X509_new()))
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"sisign mock", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, ck ? ck : g.key);
	if (!X509_sign(x, ck ? ck : g.key, EVP_sha256()))
		goto out;
	g.cert_len = i2d_X509(x, NULL);
	g.subject_len = i2d_X509_NAME(name, NULL);
	if (g.cert_len <= 0 || g.subject_len <= 0)
		goto out;
	g.cert_der = malloc((size_t)g.cert_len);
	g.subject_der = malloc((size_t)g.subject_len);
	if (!g.cert_der || !g.subject_der)
		goto out;
	p = g.cert_der;
	i2d_X509(x, &p);
	p = g.subject_der;
	i2d_X509_NAME(name, &p);
	g.mod = bn_bytes("n", &g.mod_len);
	g.exp = bn_bytes("e", &g.exp_len);
	ok = g.mod && g.exp;
out:
	EVP_PKEY_free(ck);
	X509_free(x);
	return ok;
}

/* The number of "init" lines in the log: initialisations so far, across
 * the unloads that reset this module's memory. */
static int count_inits(void)
{
	const char *path = getenv("MOCK_P11_LOG");
	char line[256];
	int n = 0;
	FILE *f;
	if (!path || !(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "init", 4) == 0)
			n++;
	fclose(f);
	return n;
}

static int env_flag(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0") != 0;
}

static CK_RV mock_C_Initialize(void *args)
{
	const char *m = getenv("MOCK_P11_MODE");
	(void)args;
	if (g.initialized)
		return CKR_CRYPTOKI_ALREADY_INITIALIZED;
	memset(&g, 0, sizeof g);
	g.mode = M_NORMAL;
	if (m) {
		if (!strcmp(m, "locked")) g.mode = M_LOCKED;
		else if (!strcmp(m, "final")) g.mode = M_FINAL;
		else if (!strcmp(m, "countlow")) g.mode = M_COUNTLOW;
		else if (!strcmp(m, "pinpad")) g.mode = M_PINPAD;
		else if (!strcmp(m, "always_auth")) g.mode = M_ALWAYS_AUTH;
		else if (!strcmp(m, "removed")) g.mode = M_REMOVED;
		else if (!strcmp(m, "noslots")) g.mode = M_NOSLOTS;
		else if (!strcmp(m, "flaky")) g.mode = M_FLAKY;
		else if (!strcmp(m, "login_general")) g.mode = M_LOGIN_GENERAL;
		else if (!strcmp(m, "cac")) g.mode = M_CAC;
	}
	mlog("init");
	g.init_no = count_inits();
	g.corrupt = env_flag("MOCK_P11_CORRUPT");
	g.no_public = env_flag("MOCK_P11_NO_PUBLIC");
	g.fail_after = getenv("MOCK_P11_SIGN_FAIL_AFTER") ? strtol(getenv("MOCK_P11_SIGN_FAIL_AFTER"), NULL, 10) : -1;
	g.fail_rv = getenv("MOCK_P11_SIGN_FAIL_RV") ? strtoul(getenv("MOCK_P11_SIGN_FAIL_RV"), NULL, 0)
						    : CKR_DEVICE_ERROR;
	if (!make_key_and_cert())
		return CKR_GENERAL_ERROR;
	g.initialized = 1;
	return CKR_OK;
}

static CK_RV mock_C_Finalize(void *reserved)
{
	(void)reserved;
	if (!g.initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	EVP_PKEY_free(g.key);
	free(g.cert_der);
	free(g.subject_der);
	free(g.mod);
	free(g.exp);
	memset(&g, 0, sizeof g);
	return CKR_OK;
}

static CK_RV mock_C_GetInfo(CK_INFO_PTR info)
{
	memset(info, 0, sizeof *info);
	info->cryptokiVersion.major = 2;
	info->cryptokiVersion.minor = 40;
	pad(info->manufacturerID, sizeof info->manufacturerID, "sisign tests");
	pad(info->libraryDescription, sizeof info->libraryDescription, "sisign mock module");
	info->libraryVersion.major = 1;
	return CKR_OK;
}

static CK_RV mock_C_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
	(void)present;
	if (!g.initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (g.mode == M_NOSLOTS) {
		*count = 0;
		return CKR_OK;
	}
	if (list) {
		if (*count < 1) {
			*count = 1;
			return CKR_BUFFER_TOO_SMALL;
		}
		list[0] = 7;
	}
	*count = 1;
	return CKR_OK;
}

static CK_RV mock_C_GetSlotInfo(CK_SLOT_ID id, CK_SLOT_INFO_PTR info)
{
	if (id != 7)
		return CKR_SLOT_ID_INVALID;
	memset(info, 0, sizeof *info);
	pad(info->slotDescription, sizeof info->slotDescription, "mock slot");
	pad(info->manufacturerID, sizeof info->manufacturerID, "sisign tests");
	info->flags = CKF_TOKEN_PRESENT | CKF_REMOVABLE_DEVICE;
	return CKR_OK;
}

static CK_RV mock_C_GetTokenInfo(CK_SLOT_ID id, CK_TOKEN_INFO_PTR info)
{
	if (id != 7)
		return CKR_SLOT_ID_INVALID;
	if (g.mode == M_FLAKY && g.init_no <= 2)
		return CKR_GENERAL_ERROR;
	memset(info, 0, sizeof *info);
	pad(info->label, sizeof info->label, "sisign mock");
	pad(info->manufacturerID, sizeof info->manufacturerID, "sisign tests");
	pad(info->model, sizeof info->model, "mock");
	pad(info->serialNumber, sizeof info->serialNumber, "MOCK0001");
	info->flags = CKF_TOKEN_INITIALIZED | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED;
	if (g.mode == M_LOCKED) info->flags |= CKF_USER_PIN_LOCKED;
	if (g.mode == M_FINAL) info->flags |= CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW;
	if (g.mode == M_COUNTLOW) info->flags |= CKF_USER_PIN_COUNT_LOW;
	if (g.mode == M_PINPAD) info->flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
	info->ulMaxSessionCount = MAX_SESSIONS;
	info->ulMaxRwSessionCount = MAX_SESSIONS;
	info->ulMaxPinLen = 64;
	info->ulMinPinLen = 4;
	info->ulTotalPublicMemory = info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulTotalPrivateMemory = info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	return CKR_OK;
}

static CK_RV mock_C_GetMechanismList(CK_SLOT_ID id, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
	if (id != 7)
		return CKR_SLOT_ID_INVALID;
	if (list) {
		if (*count < 1) {
			*count = 1;
			return CKR_BUFFER_TOO_SMALL;
		}
		list[0] = CKM_RSA_PKCS;
	}
	*count = 1;
	return CKR_OK;
}

static CK_RV mock_C_GetMechanismInfo(CK_SLOT_ID id, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
	if (id != 7)
		return CKR_SLOT_ID_INVALID;
	if (type != CKM_RSA_PKCS)
		return CKR_MECHANISM_INVALID;
	info->ulMinKeySize = 1024;
	info->ulMaxKeySize = 4096;
	info->flags = CKF_HW | CKF_SIGN;
	return CKR_OK;
}

static int valid_session(CK_SESSION_HANDLE h)
{
	return g.initialized && h >= 1 && h <= MAX_SESSIONS && g.sess[h].open;
}

static CK_RV mock_C_OpenSession(CK_SLOT_ID id, CK_FLAGS flags, void *app, CK_NOTIFY notify,
	CK_SESSION_HANDLE_PTR out)
{
	(void)flags;
	(void)app;
	(void)notify;
	if (!g.initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (id != 7)
		return CKR_SLOT_ID_INVALID;
	for (CK_SESSION_HANDLE h = 1; h <= MAX_SESSIONS; h++)
		if (!g.sess[h].open) {
			memset(&g.sess[h], 0, sizeof g.sess[h]);
			g.sess[h].open = 1;
			*out = h;
			return CKR_OK;
		}
	return CKR_SESSION_COUNT;
}

static CK_RV mock_C_CloseSession(CK_SESSION_HANDLE h)
{
	if (!valid_session(h))
		return CKR_SESSION_HANDLE_INVALID;
	g.sess[h].open = 0;
	for (CK_SESSION_HANDLE i = 1; i <= MAX_SESSIONS; i++)
		if (g.sess[i].open)
			return CKR_OK;
	g.logged_in = 0; /* last session closed: logged out (PKCS#11 5.6) */
	return CKR_OK;
}

static CK_RV mock_C_CloseAllSessions(CK_SLOT_ID id)
{
	if (id != 7)
		return CKR_SLOT_ID_INVALID;
	for (CK_SESSION_HANDLE i = 1; i <= MAX_SESSIONS; i++)
		g.sess[i].open = 0;
	g.logged_in = 0;
	return CKR_OK;
}

static CK_RV mock_C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR info)
{
	if (!valid_session(h))
		return CKR_SESSION_HANDLE_INVALID;
	memset(info, 0, sizeof *info);
	info->slotID = 7;
	info->state = g.logged_in ? CKS_RW_USER_FUNCTIONS : CKS_RW_PUBLIC_SESSION;
	info->flags = CKF_SERIAL_SESSION | CKF_RW_SESSION;
	return CKR_OK;
}

static CK_RV mock_C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE type, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	if (!valid_session(h))
		return CKR_SESSION_HANDLE_INVALID;
	mlog("login %lu", (unsigned long)type);
	if (g.mode == M_LOCKED)
		return CKR_PIN_LOCKED;
	if (g.mode == M_LOGIN_GENERAL)
		return CKR_GENERAL_ERROR;
	if (g.mode == M_PINPAD) {
		if (pin != NULL)
			return CKR_ARGUMENTS_BAD;
	} else if (!pin || len != strlen(MOCK_PIN) || memcmp(pin, MOCK_PIN, len) != 0) {
		return g.mode == M_CAC ? CKR_GENERAL_ERROR : CKR_PIN_INCORRECT;
	}
	if (type == CKU_CONTEXT_SPECIFIC) {
		if (!g.logged_in || !g.sess[h].signing)
			return CKR_OPERATION_NOT_INITIALIZED;
		g.sess[h].ctx_login = 1;
		return CKR_OK;
	}
	if (type != CKU_USER)
		return CKR_USER_TYPE_INVALID;
	if (g.logged_in)
		return CKR_USER_ALREADY_LOGGED_IN;
	g.logged_in = 1;
	return CKR_OK;
}

static CK_RV mock_C_Logout(CK_SESSION_HANDLE h)
{
	if (!valid_session(h))
		return CKR_SESSION_HANDLE_INVALID;
	if (!g.logged_in)
		return CKR_USER_NOT_LOGGED_IN;
	g.logged_in = 0;
	return CKR_OK;
}

/* Attribute value of object o, or NULL/-1 if it has none. */
static const void *attr_of(CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t, CK_ULONG *len)
{
	static CK_OBJECT_CLASS cls;
	static CK_KEY_TYPE kt = CKK_RSA;
	static CK_CERTIFICATE_TYPE ct = CKC_X_509;
	static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	static CK_BBOOL aa;
	static const unsigned char id[1] = {0x01};
	static const char label[] = "mockkey";
	static CK_ULONG bits;

	*len = 0;
	switch (t) {
	case CKA_CLASS:
		cls = o == H_PRIV ? CKO_PRIVATE_KEY : o == H_PUB ? CKO_PUBLIC_KEY : CKO_CERTIFICATE;
		*len = sizeof cls;
		return &cls;
	case CKA_TOKEN: *len = sizeof yes; return &yes;
	case CKA_PRIVATE: *len = sizeof yes; return o == H_PRIV ? &yes : &no;
	case CKA_ID: *len = sizeof id; return id;
	case CKA_LABEL: *len = sizeof label - 1; return label;
	default: break;
	}
	if (o == H_CERT) {
		switch (t) {
		case CKA_CERTIFICATE_TYPE: *len = sizeof ct; return &ct;
		case CKA_VALUE: *len = (CK_ULONG)g.cert_len; return g.cert_der;
		case CKA_SUBJECT: *len = (CK_ULONG)g.subject_len; return g.subject_der;
		default: return NULL;
		}
	}
	if (g.no_public && (t == CKA_MODULUS || t == CKA_PUBLIC_EXPONENT || t == CKA_MODULUS_BITS))
		return NULL;
	switch (t) {
	case CKA_KEY_TYPE: *len = sizeof kt; return &kt;
	case CKA_MODULUS: *len = (CK_ULONG)g.mod_len; return g.mod;
	case CKA_PUBLIC_EXPONENT: *len = (CK_ULONG)g.exp_len; return g.exp;
	case CKA_MODULUS_BITS:
		bits = (CK_ULONG)EVP_PKEY_get_bits(g.key);
		*len = sizeof bits;
		return &bits;
	default: break;
	}
	if (o == H_PRIV) {
		switch (t) {
		case CKA_SIGN: *len = sizeof yes; return &yes;
		case CKA_DECRYPT: *len = sizeof no; return &no;
		case CKA_SENSITIVE: *len = sizeof yes; return &yes;
		case CKA_EXTRACTABLE: *len = sizeof no; return &no;
		case CKA_ALWAYS_AUTHENTICATE:
			aa = g.mode == M_ALWAYS_AUTH ? CK_TRUE : CK_FALSE;
			*len = sizeof aa;
			return &aa;
		default: return NULL;
		}
	}
	if (t == CKA_VERIFY) {
		*len = sizeof yes;
		return &yes;
	}
	return NULL;
}

static int visible(CK_OBJECT_HANDLE o)
{
	if (o == H_PUB && g.no_public)
		return 0;
	return o != H_PRIV || g.logged_in;
}

static CK_RV mock_C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	if (!valid_session(h))
		return CKR_SESSION_HANDLE_INVALID;
	if (g.sess[h].finding)
		return CKR_OPERATION_ACTIVE;
	g.sess[h].finding = 1;
	g.sess[h].nfound = g.sess[h].pos = 0;
	for (CK_OBJECT_HANDLE o = H_PRIV; o <= H_CERT; o++) {
		int ok = visible(o);
		for (CK_ULONG i = 0; ok && i < n; i++) {
			CK_ULONG len;
			const void *v = attr_of(o, tmpl[i].type, &len);
			if (!v || len != tmpl[i].ulValueLen || memcmp(v, tmpl[i].pValue, len) != 0)
				ok = 0;
		}
		if (ok)
			g.sess[h].found[g.sess[h].nfound++] = o;
	}
	return CKR_OK;
}

static CK_RV mock_C_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR out, CK_ULONG max, CK_ULONG_PTR count)
{
	if (!valid_session(h))
		return CKR_SESSION_HANDLE_INVALID;
	if (!g.sess[h].finding)
		return CKR_OPERATION_NOT_INITIALIZED;
	*count = 0;
	while (*count < max && g.sess[h].pos < g.sess[h].nfound)
		out[(*count)++] = g.sess[h].found[g.sess[h].pos++];
	return CKR_OK;
}

static CK_RV mock_C_FindObjectsFinal(CK_SESSION_HANDLE h)
{
	if (!valid_session(h))
		return CKR_SESSION_HANDLE_INVALID;
	g.sess[h].finding = 0;
	return CKR_OK;
}

static CK_RV mock_C_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	CK_RV rv = CKR_OK;
	if (!valid_session(h))
		return CKR_SESSION_HANDLE_INVALID;
	if (o < H_PRIV || o > H_CERT || !visible(o))
		return CKR_OBJECT_HANDLE_INVALID;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_ULONG len;
		const void *v = attr_of(o, tmpl[i].type, &len);
		if (!v) {
			tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_TYPE_INVALID;
		} else if (!tmpl[i].pValue) {
			tmpl[i].ulValueLen = len;
		} else if (tmpl[i].ulValueLen < len) {
			tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_BUFFER_TOO_SMALL;
		} else {
			memcpy(tmpl[i].pValue, v, len);
			tmpl[i].ulValueLen = len;
		}
	}
	return rv;
}

static CK_RV mock_C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
	if (!valid_session(h))
		return CKR_SESSION_HANDLE_INVALID;
	mlog("signinit %lu", (unsigned long)mech->mechanism);
	if (!g.logged_in)
		return CKR_USER_NOT_LOGGED_IN;
	if (key != H_PRIV)
		return CKR_KEY_HANDLE_INVALID;
	if (mech->mechanism != CKM_RSA_PKCS)
		return CKR_MECHANISM_INVALID;
	g.sess[h].signing = 1;
	g.sess[h].ctx_login = 0;
	return CKR_OK;
}

static CK_RV mock_C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR siglen)
{
	EVP_PKEY_CTX *pc = NULL;
	size_t outlen;
	CK_RV rv = CKR_FUNCTION_FAILED;

	if (!valid_session(h))
		return CKR_SESSION_HANDLE_INVALID;
	if (!g.sess[h].signing)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (sig)
		mlog("sign %lu", (unsigned long)len);
	if (g.mode == M_REMOVED) {
		g.sess[h].signing = 0;
		return CKR_DEVICE_REMOVED;
	}
	if (g.mode == M_ALWAYS_AUTH && !g.sess[h].ctx_login) {
		g.sess[h].signing = 0;
		return CKR_USER_NOT_LOGGED_IN;
	}
	if (sig && g.fail_after >= 0 && g.signed_ok >= g.fail_after) {
		g.sess[h].signing = 0;
		return g.fail_rv;
	}
	outlen = (size_t)EVP_PKEY_get_size(g.key);
	if (!sig) {
		*siglen = outlen;
		return CKR_OK;
	}
	if (*siglen < outlen && !(g.no_public && *siglen == 0)) {
		*siglen = outlen;
		return CKR_BUFFER_TOO_SMALL;
	}
	/* Raw PKCS#1 v1.5 type 1 over the caller's bytes (CKM_RSA_PKCS). */
	if ((pc = EVP_PKEY_CTX_new(g.key, NULL)) && EVP_PKEY_sign_init(pc) > 0 &&
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) > 0 &&
	    EVP_PKEY_sign(pc, sig, &outlen, data, len) > 0) {
		*siglen = outlen;
		if (g.corrupt)
			sig[outlen / 2] ^= 0x10;
		g.signed_ok++;
		rv = CKR_OK;
	}
	EVP_PKEY_CTX_free(pc);
	g.sess[h].signing = 0;
	g.sess[h].ctx_login = 0;
	return rv;
}

static CK_RV mock_C_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR pubt,
	CK_ULONG npub, CK_ATTRIBUTE_PTR privt, CK_ULONG npriv, CK_OBJECT_HANDLE_PTR pubh, CK_OBJECT_HANDLE_PTR privh)
{
	(void)pubt;
	(void)npub;
	(void)privt;
	(void)npriv;
	if (!valid_session(h))
		return CKR_SESSION_HANDLE_INVALID;
	if (!g.logged_in)
		return CKR_USER_NOT_LOGGED_IN;
	if (mech->mechanism != CKM_RSA_PKCS_KEY_PAIR_GEN)
		return CKR_MECHANISM_INVALID;
	mlog("generate");
	*pubh = H_PUB;
	*privh = H_PRIV;
	return CKR_OK;
}

static CK_RV mock_C_CreateObject(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR out)
{
	(void)tmpl;
	(void)n;
	if (!valid_session(h))
		return CKR_SESSION_HANDLE_INVALID;
	mlog("create");
	*out = H_CERT + 1; /* accepted, not kept */
	return CKR_OK;
}

static CK_RV mock_C_DestroyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o)
{
	if (!valid_session(h))
		return CKR_SESSION_HANDLE_INVALID;
	mlog("destroy %lu", (unsigned long)o);
	return CKR_OK;
}

static CK_FUNCTION_LIST mock_functions = {
	.version = {2, 40},
	.C_Initialize = mock_C_Initialize,
	.C_Finalize = mock_C_Finalize,
	.C_GetInfo = mock_C_GetInfo,
	.C_GetFunctionList = C_GetFunctionList,
	.C_GetSlotList = mock_C_GetSlotList,
	.C_GetSlotInfo = mock_C_GetSlotInfo,
	.C_GetTokenInfo = mock_C_GetTokenInfo,
	.C_GetMechanismList = mock_C_GetMechanismList,
	.C_GetMechanismInfo = mock_C_GetMechanismInfo,
	.C_OpenSession = mock_C_OpenSession,
	.C_CloseSession = mock_C_CloseSession,
	.C_CloseAllSessions = mock_C_CloseAllSessions,
	.C_GetSessionInfo = mock_C_GetSessionInfo,
	.C_Login = mock_C_Login,
	.C_Logout = mock_C_Logout,
	.C_GetAttributeValue = mock_C_GetAttributeValue,
	.C_FindObjectsInit = mock_C_FindObjectsInit,
	.C_FindObjects = mock_C_FindObjects,
	.C_FindObjectsFinal = mock_C_FindObjectsFinal,
	.C_SignInit = mock_C_SignInit,
	.C_Sign = mock_C_Sign,
	.C_GenerateKeyPair = mock_C_GenerateKeyPair,
	.C_CreateObject = mock_C_CreateObject,
	.C_DestroyObject = mock_C_DestroyObject,
	/* Everything else is NULL: libp11 does not call it for what the tests
	 * do, and a call would crash loudly rather than pass silently. */
};

__attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (!list)
		return CKR_ARGUMENTS_BAD;
	*list = &mock_functions;
	return CKR_OK;
}
