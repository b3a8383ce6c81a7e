/* SPDX-License-Identifier: Apache-2.0 */
/* The dry-run preflight: a throw-away signature checked against the
 * identity's certificate.  (The batch's signing step is sign.c's
 * sign_pkg_queued, with the queue held around the signer call only.) */
#include "batch/batch_private.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <sisign/sign.h>

#include "crypto/crypto_private.h"
#include "sign/signer_private.h"
#include "util/util_private.h"

int sisign_batch_preflight(struct sisign_signer *signer, const struct sisign_identity *id,
	struct sisign_error *err)
{
	STACK_OF(X509) *certs = NULL;
	const unsigned char *der;
	size_t derlen = 0;
	uint8_t digest[20];
	unsigned char *sig = NULL;
	size_t siglen = 0;
	const char *oid;
	int r = SISIGN_ERR_INTERNAL;

	if (!signer || !id)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_batch_preflight: NULL argument");
	if (!(oid = crypto_sig_oid_for_pkey(signer->pub)))
		return err_set(err, SISIGN_ERR_BAD_KEY, -1, "only RSA and DSA keys can sign SIS packages");
	/* A throw-away digest: random, so the test signature is useless for
	 * anything else. */
	if (RAND_bytes(digest, sizeof digest) != 1)
		return err_ossl(err, SISIGN_ERR_CRYPTO, "no random bytes for the test digest");
	if ((r = sisign_signer_sign_sha1(signer, digest, &sig, &siglen, err)) != SISIGN_OK)
		goto out;
	der = sisign_identity_chain(id, &derlen);
	if ((r = crypto_certs_from_der_blob(der, derlen, &certs, err)) != SISIGN_OK)
		goto out;
	if (sk_X509_num(certs) < 1) {
		r = err_set(err, SISIGN_ERR_BAD_CERT, -1, "the identity has no certificate");
		goto out;
	}
	if (crypto_verify_sha1_sig(sk_X509_value(certs, 0), oid, digest, sig, siglen, NULL) != SISIGN_OK) {
		r = err_set(err, SISIGN_ERR_KEY_MISMATCH, -1,
			"test signature by %s does not verify with the certificate", sisign_signer_describe(signer));
		goto out;
	}
	r = SISIGN_OK;
out:
	crypto_certs_free(certs);
	free(sig);
	return r;
}
