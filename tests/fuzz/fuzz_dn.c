/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the certificate subject parser behind makekeys -dname,
 * `sisign keygen --subject` and `sisign csr` (src/lib/crypto/x509build.c:
 * makekeys "CN=Jane Dev O=Acme C=FI" and OpenSSL "/CN=Jane Dev/O=Acme").
 *
 * Invariants: a failure fills the error record; an accepted subject has at
 * least one attribute, each value within SISIGN_SUBJECT_VALUE_MAX, and its
 * DER encodes and decodes to an equal name; sisign_subject_check agrees
 * with the parser and gives a one-line rendering. */
#include <openssl/x509.h>

#include <sisign/keygen.h>

#include "crypto/x509build_private.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_name(const X509_NAME *name)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509_NAME *back = NULL;
	int n, i, len;

	n = X509_NAME_entry_count(name);
	FZ_ASSERT(n > 0);
	for (i = 0; i < n; i++) {
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
		FZ_ASSERT(v != NULL);
		FZ_ASSERT(ASN1_STRING_length(v) > 0);
		FZ_ASSERT(ASN1_STRING_length(v) <= SISIGN_SUBJECT_VALUE_MAX);
	}
	len = i2d_X509_NAME(name, &der);
	FZ_ASSERT(len > 0);
	p = der;
	back = d2i_X509_NAME(NULL, &p, len);
	FZ_ASSERT(back != NULL);
	FZ_ASSERT(p == der + len);
	FZ_ASSERT(X509_NAME_cmp(name, back) == 0);
	X509_NAME_free(back);
	OPENSSL_free(der);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size), *oneline = NULL;
	X509_NAME *name = NULL;
	struct sisign_error err;
	int r, r2;

	if (!s)
		return 0;
	sisign_error_clear(&err);
	r = xb_name_parse(s, &name, &err);
	if (r != SISIGN_OK) {
		fz_check_error(r, &err);
		FZ_ASSERT(name == NULL);
	} else {
		FZ_ASSERT(name != NULL);
		check_name(name);
	}
	sisign_error_clear(&err);
	r2 = sisign_subject_check(s, &oneline, &err);
	FZ_ASSERT(r2 == r);
	if (r2 != SISIGN_OK) {
		fz_check_error(r2, &err);
		FZ_ASSERT(oneline == NULL);
	} else {
		FZ_ASSERT(oneline != NULL && oneline[0] != '\0');
	}
	free(oneline);
	X509_NAME_free(name);
	free(s);
	return 0;
}
