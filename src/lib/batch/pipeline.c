/* The signing step of the batch pipeline, split from the hash check so that
 * only the signer call goes through the (token) queue; and the dry-run
 * preflight.  The chain built here is byte for byte what sign.c's
 * sisign_pkg_sign() builds (sis-format.md §7.3-§7.5); test_batch.c checks
 * that. */
#include "batch/batch_private.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <sisign/sign.h>

#include "crypto/crypto_private.h"
#include "format/format_private.h"

static int ctrl_undamaged(const struct sisign_controller *c, struct sisign_error *err)
{
	if (c->damage)
		return err_set(err, SISIGN_ERR_MALFORMED, c->damage_offset, "package is damaged: %s",
			c->damage_message ? c->damage_message : "unreadable member field");
	for (size_t i = 0; i < c->nembedded; i++) {
		int r = ctrl_undamaged(&c->embedded[i], err);
		if (r)
			return r;
	}
	return SISIGN_OK;
}

int batch_pkg_signable(const struct sisign_pkg *pkg, struct sisign_error *err)
{
	if (pkg->info.kind == SISIGN_PKG_STUB)
		return err_set(err, SISIGN_ERR_UNSUPPORTED, 0,
			"a ROM stub controller (type-prefixed, made by makesis -s) is not a signable package");
	return ctrl_undamaged(&pkg->top, err);
}

/* A typed field: header, value, padding. */
static void put_typed(struct wbuf *w, uint32_t type, const void *p, size_t n)
{
	uint8_t h[12];
	wbuf_put(w, h, sisf_put_hdr(h, 1, type, n));
	wbuf_put(w, p, n);
	wbuf_put_zeros(w, (size_t)sisf_pad(n));
}

/* Wrap `in` as a field of `type` into w (typed or, inside arrays, not) and
 * release in. */
static void put_wrapped(struct wbuf *w, int typed, uint32_t type, struct wbuf *in)
{
	uint8_t h[12];
	if (wbuf_failed(in))
		w->failed = 1;
	wbuf_put(w, h, sisf_put_hdr(h, typed, type, in->len));
	wbuf_put(w, in->data, in->len);
	wbuf_put_zeros(w, (size_t)sisf_pad(in->len));
	wbuf_free(in);
}

int batch_pkg_sign_checked(struct sisign_pkg *pkg, struct sisign_signer *signer,
	const struct sisign_identity *id, pthread_mutex_t *queue, struct sisign_error *err)
{
	const struct sisign_controller *c = &pkg->top;
	uint8_t digest[20];
	unsigned int dlen = 0;
	unsigned char *sig = NULL;
	size_t siglen = 0, chain_len = 0, n = 0;
	const unsigned char *chain_der;
	const char *oid;
	uint8_t *u16 = NULL, *buf = NULL;
	size_t u16len = 0;
	struct wbuf scc, chain, arr, elem, alg, cc, ctl;
	uint8_t h[12];
	uint64_t len;
	int r = SISIGN_ERR_INTERNAL;

	wbuf_init(&scc);
	wbuf_init(&chain);
	wbuf_init(&arr);
	wbuf_init(&elem);
	wbuf_init(&alg);
	wbuf_init(&cc);
	wbuf_init(&ctl);
	switch (sisign_signer_key_type(signer)) {
	case SISIGN_KEY_RSA: oid = CRYPTO_OID_RSA_SHA1; break;
	case SISIGN_KEY_DSA: oid = CRYPTO_OID_DSA_SHA1; break;
	default:
		r = err_set(err, SISIGN_ERR_BAD_KEY, -1, "only RSA and DSA keys can sign SIS packages");
		goto out;
	}
	/* §7.1: the value up to SISDataIndex (members and earlier chains). */
	if (EVP_Digest(c->value, c->data_index_offset, digest, &dlen, EVP_sha1(), NULL) != 1) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-1 failed");
		goto out;
	}
	/* The only serialised step of the pipeline. */
	if (queue)
		pthread_mutex_lock(queue);
	r = sisign_signer_sign_sha1(signer, digest, &sig, &siglen, err);
	if (queue)
		pthread_mutex_unlock(queue);
	if (r != SISIGN_OK)
		goto out;
	if (utf8_to_utf16le(oid, &u16, &u16len) != SISIGN_OK) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "cannot encode the algorithm");
		goto out;
	}
	chain_der = sisign_identity_chain(id, &chain_len);
	/* SISSignatureCertificateChain { Array<SISSignature>, SISCertificateChain } (§7.3) */
	put_typed(&alg, SISF_STRING, u16, u16len);
	put_wrapped(&elem, 1, SISF_SIGNATURE_ALGORITHM, &alg);
	put_typed(&elem, SISF_BLOB, sig, siglen);
	wbuf_put_u32le(&arr, SISF_SIGNATURE);
	put_wrapped(&arr, 0, SISF_SIGNATURE, &elem);
	put_wrapped(&chain, 1, SISF_ARRAY, &arr);
	put_typed(&cc, SISF_BLOB, chain_der, chain_len);
	put_wrapped(&chain, 1, SISF_CERTIFICATE_CHAIN, &cc);
	put_wrapped(&scc, 1, SISF_SIGNATURE_CERT_CHAIN, &chain);
	if (wbuf_failed(&scc)) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	/* The new controller: members and old chains, the new chain, then
	 * SISDataIndex and whatever followed it (§7.5 step 4). */
	len = (uint64_t)c->data_index_offset + scc.len + (c->value_len - c->data_index_offset);
	wbuf_put(&ctl, h, sisf_put_hdr(h, pkg->info.kind != SISIGN_PKG_CTL, SISF_CONTROLLER, len));
	wbuf_put(&ctl, c->value, c->data_index_offset);
	wbuf_put(&ctl, scc.data, scc.len);
	wbuf_put(&ctl, c->value + c->data_index_offset, c->value_len - c->data_index_offset);
	/* A .ctl file is exactly length word + value: no padding there. */
	if (pkg->info.kind != SISIGN_PKG_CTL)
		wbuf_put_zeros(&ctl, (size_t)sisf_pad(len));
	if (wbuf_failed(&ctl)) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	buf = wbuf_steal(&ctl, &n);
	r = pkg_replace_controller(pkg, buf, n, err); /* takes buf, even on failure */
out:
	sisign_memzero(digest, sizeof digest);
	free(sig);
	free(u16);
	wbuf_free(&scc);
	wbuf_free(&chain);
	wbuf_free(&arr);
	wbuf_free(&elem);
	wbuf_free(&alg);
	wbuf_free(&cc);
	wbuf_free(&ctl);
	return r;
}

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
	switch (sisign_signer_key_type(signer)) {
	case SISIGN_KEY_RSA: oid = CRYPTO_OID_RSA_SHA1; break;
	case SISIGN_KEY_DSA: oid = CRYPTO_OID_DSA_SHA1; break;
	default: return err_set(err, SISIGN_ERR_BAD_KEY, -1, "only RSA and DSA keys can sign SIS packages");
	}
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
