/* SPDX-License-Identifier: Apache-2.0 */
/* Signing identities and adding/removing signature chains (sis-format.md
 * §7.1-§7.6). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sisign/sign.h>

#include "crypto/crypto_private.h"
#include "format/format_private.h"
#include "sign/sign_private.h"
#include "sign/signer_private.h"
#include "verify/verify_private.h"

struct sisign_identity {
	struct sisign_signer *signer;
	uint8_t *chain;      /* DER blob, signer first */
	size_t chain_len;
	size_t signer_der_len; /* first certificate's DER length */
	char subject[512];
	char fingerprint[65];
	size_t nwarn;
	char warn[4][256];
};

static void id_warn(struct sisign_identity *id, const char *msg)
{
	if (id->nwarn < 4)
		snprintf(id->warn[id->nwarn++], sizeof id->warn[0], "%s", msg);
}

void sisign_identity_free(struct sisign_identity *id)
{
	if (!id)
		return;
	free(id->chain);
	free(id);
}

size_t sisign_identity_nwarnings(const struct sisign_identity *id)
{
	return id->nwarn;
}

const char *sisign_identity_warning(const struct sisign_identity *id, size_t i)
{
	return i < id->nwarn ? id->warn[i] : NULL;
}

const char *sisign_identity_subject(const struct sisign_identity *id)
{
	return id->subject;
}

const char *sisign_identity_fingerprint(const struct sisign_identity *id)
{
	return id->fingerprint;
}

const unsigned char *sisign_identity_chain(const struct sisign_identity *id, size_t *len)
{
	*len = id->chain_len;
	return id->chain;
}

static void fmt_time(time_t t, char *buf, size_t n)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int sisign_identity_new(struct sisign_signer *signer, const struct sisign_identity_opts *opts,
	struct sisign_identity **out, struct sisign_error *err)
{
	struct sisign_identity *id = NULL;
	STACK_OF(X509) *certs = NULL, *more = NULL;
	struct crypto_cert_info ci;
	X509 *leaf;
	time_t now;
	int r = SISIGN_ERR_INTERNAL;
	unsigned char *der = NULL;
	int derlen;

	*out = NULL;
	if (!signer)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "no signer");
	id = calloc(1, sizeof *id);
	if (!id)
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	id->signer = signer;

	if (opts && opts->cert_file) {
		if ((r = crypto_certs_load_file(opts->cert_file, &certs, err)))
			goto out;
	} else if (signer->cert) {
		certs = sk_X509_new_null();
		if (!certs || !sk_X509_push(certs, signer->cert)) {
			r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			goto out;
		}
		X509_up_ref(signer->cert);
	} else {
		r = err_set(err, SISIGN_ERR_BAD_CERT, -1,
			"%s: no certificate came with this key; give one with --cert", sisign_signer_describe(signer));
		goto out;
	}
	if (signer->extra && !(opts && opts->cert_file)) {
		for (int i = 0; i < sk_X509_num(signer->extra); i++) {
			X509 *x = sk_X509_value(signer->extra, i);
			if (!sk_X509_push(certs, x)) {
				r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
				goto out;
			}
			X509_up_ref(x);
		}
	}
	for (size_t i = 0; opts && opts->chain_files && opts->chain_files[i]; i++) {
		if ((r = crypto_certs_load_file(opts->chain_files[i], &more, err)))
			goto out;
		while (sk_X509_num(more) > 0) {
			X509 *x = sk_X509_shift(more);
			if (!sk_X509_push(certs, x)) {
				X509_free(x);
				r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
				goto out;
			}
		}
		crypto_certs_free(more);
		more = NULL;
	}
	if (sk_X509_num(certs) < 1) {
		r = err_set(err, SISIGN_ERR_BAD_CERT, -1, "no certificate found");
		goto out;
	}
	leaf = sk_X509_value(certs, 0);

	/* The checks signsis never made: a signature from the wrong key only
	 * fails later, on the phone (§7.5). */
	if (crypto_key_matches_cert(signer->pub, leaf) != SISIGN_OK) {
		r = err_set(err, SISIGN_ERR_KEY_MISMATCH, -1, "%s does not belong to the certificate %s",
			sisign_signer_describe(signer), opts && opts->cert_file ? opts->cert_file : "that came with it");
		goto out;
	}
	if ((r = crypto_cert_describe(leaf, &ci, err)))
		goto out;
	snprintf(id->subject, sizeof id->subject, "%s", ci.subject);
	snprintf(id->fingerprint, sizeof id->fingerprint, "%s", ci.sha256_hex);
	now = opts && opts->now ? opts->now : time(NULL);
	if (now < ci.not_before || now > ci.not_after) {
		char a[32], b[32], msg[256];
		fmt_time(ci.not_before, a, sizeof a);
		fmt_time(ci.not_after, b, sizeof b);
		if (!(opts && opts->allow_expired)) {
			r = err_set(err, SISIGN_ERR_CERT_EXPIRED, -1,
				"certificate \"%s\" is valid from %s to %s, not now (--allow-expired to sign anyway)",
				ci.subject, a, b);
			goto out;
		}
		snprintf(msg, sizeof msg, "certificate is outside its validity period (%s to %s)", a, b);
		id_warn(id, msg);
	}
	if (sisign_signer_key_type(signer) == SISIGN_KEY_RSA && sisign_signer_key_bits(signer) < 2048) {
		char msg[128];
		snprintf(msg, sizeof msg, "RSA key of %d bits is weak; use 2048 bits or more",
			sisign_signer_key_bits(signer));
		id_warn(id, msg);
	}
	if (ci.has_eku && !ci.eku_codesigning)
		id_warn(id, "certificate's extended key usage lacks code signing; devices that check it will refuse the package");

	if ((r = crypto_certs_to_der_blob(certs, &id->chain, &id->chain_len, err)))
		goto out;
	derlen = i2d_X509(leaf, &der);
	if (derlen <= 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot encode the certificate");
		goto out;
	}
	id->signer_der_len = (size_t)derlen;
	*out = id;
	id = NULL; /* transferred */
	r = SISIGN_OK;
out:
	OPENSSL_free(der);
	crypto_certs_free(certs);
	crypto_certs_free(more);
	sisign_identity_free(id);
	return r;
}

/* Rebuild the controller field around a new value: header (typed, or a
 * bare length word for .ctl files), value, padding. */
static int rebuild(struct sisign_pkg *pkg, const uint8_t *a, size_t alen, const uint8_t *mid, size_t midlen,
	const uint8_t *b, size_t blen, struct sisign_error *err)
{
	struct wbuf w;
	uint8_t h[12];
	uint64_t len = (uint64_t)alen + midlen + blen;
	size_t n;
	uint8_t *buf;
	wbuf_init(&w);
	wbuf_put(&w, h, sisf_put_hdr(h, pkg->info.kind != SISIGN_PKG_CTL, SISF_CONTROLLER, len));
	wbuf_put(&w, a, alen);
	wbuf_put(&w, mid, midlen);
	wbuf_put(&w, b, blen);
	/* A .ctl file is exactly length word + value (PC tools check
	 * length + 4 == file size), so no padding there. */
	if (pkg->info.kind != SISIGN_PKG_CTL)
		wbuf_put_zeros(&w, (size_t)sisf_pad(len));
	if (wbuf_failed(&w)) {
		wbuf_free(&w);
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	}
	buf = wbuf_steal(&w, &n);
	return pkg_replace_controller(pkg, buf, n, err);
}

/* A chain already in the package that does not verify (wrong signature,
 * an algorithm the device refuses such as the MD2/MD5 ones, unreadable
 * certificates) makes the device refuse the whole package, whatever chain
 * is added after it (§7.9 step 2b: fatal even if other chains are fine).
 * Signing it would only endorse a package that cannot install. */
static int check_chains(const struct sisign_pkg *pkg, struct sisign_error *err)
{
	struct sisign_error e;
	int r, depth;

	sisign_error_clear(&e);
	r = verify_pkg_chain_signatures(pkg, &depth, &e);
	if (r == SISIGN_OK)
		return SISIGN_OK;
	if (r != SISIGN_ERR_SIG_INVALID && r != SISIGN_ERR_SIG_UNSUPPORTED) {
		if (err)
			*err = e;
		return r;
	}
	/* Only the top level's chains can be taken off here; an embedded
	 * package is part of the signed bytes and must be fixed before it is
	 * embedded. */
	if (depth == 0)
		return err_set(err, r, -1,
			"%s; the device refuses this package whatever is added, so it is not signed "
			"(remove the old chains first: sisign unsign --all)",
			e.message);
	return err_set(err, r, -1,
		"%s; the device refuses this package whatever is added, so it is not signed "
		"(sign that embedded package again before embedding it)",
		e.message);
}

int sign_check_nodata(struct sisign_pkg *pkg, struct sisign_error *err)
{
	const struct sisign_controller *dmg = sisign_pkg_damaged(pkg);
	int r;

	if (pkg->info.kind == SISIGN_PKG_STUB)
		return err_set(err, SISIGN_ERR_UNSUPPORTED, 0,
			"a ROM stub controller (type-prefixed, made by makesis -s) is not a signable package");
	if (dmg)
		return err_set(err, SISIGN_ERR_MALFORMED, dmg->damage_offset, "package is damaged: %s",
			dmg->damage_message ? dmg->damage_message : "unreadable member field");
	if ((r = check_chains(pkg, err)) != SISIGN_OK)
		return r;
	/* A data check already made (and cached) that failed still refuses. */
	if (pkg->data_checked && pkg->data_result != SISIGN_OK) {
		if (err)
			*err = pkg->data_err;
		return pkg->data_result;
	}
	return SISIGN_OK;
}

int sign_check_signable(struct sisign_pkg *pkg, struct sisign_error *err)
{
	int r;

	if ((r = sign_check_nodata(pkg, err)) != SISIGN_OK)
		return r;
	/* signsis refuses too: "stored and computed hash values do not match".
	 * The result is cached per package, so neither signing nor the
	 * writer hashes the files again; the same read of SISData gives the
	 * data CRC that sisign_pkg_write puts into the signed package, which
	 * then copies SISData with copy_range. */
	if (pkg->info.kind == SISIGN_PKG_SISX)
		return pkg_check_data(pkg, pkg->data_crc_field != NULL, err);
	return SISIGN_OK;
}

static int sign_pkg_with(struct sisign_pkg *pkg, struct sisign_identity *id, pthread_mutex_t *queue,
	atomic_int *stop, sign_gate_fn gate, void *ud, struct sisign_error *err)
{
	const struct sisign_controller *c = &pkg->top;
	uint8_t digest[20];
	unsigned int dlen = 0;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	const char *oid = crypto_sig_oid_for_pkey(id->signer->pub);
	uint8_t *u16 = NULL;
	size_t u16len = 0;
	struct wbuf chain, arr, elem, alg, cc, field;
	int r;

	/* The file hashes need SISData read: unless a check made before
	 * (sign_check_signable) has, the writer does it, in the one pass that
	 * copies SISData into the output (data_check_on_write, below). */
	if ((r = sign_check_nodata(pkg, err)))
		return r;
	if (!oid)
		return err_set(err, SISIGN_ERR_BAD_KEY, -1, "only RSA and DSA keys can sign SIS packages");
	/* §7.1: everything in the value before SISDataIndex, i.e. the members
	 * and every earlier chain. */
	if (EVP_Digest(c->value, c->data_index_offset, digest, &dlen, EVP_sha1(), NULL) != 1)
		return err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-1 failed");
	/* With a queue, the signer call is the only serialised step; a gate
	 * (the batch's signing thread) keeps its own order and stop flag. */
	if (gate) {
		r = gate(ud, id->signer, digest, &sig, &siglen, err);
	} else {
		if (queue)
			pthread_mutex_lock(queue);
		if (stop && atomic_load(stop))
			r = SIGN_STOPPED;
		else {
			r = sisign_signer_sign_sha1(id->signer, digest, &sig, &siglen, err);
			/* A token that is gone or broken stops the batch right
			 * here, still inside the queue, so no other job's
			 * signature reaches it after this one (the batch then
			 * reports this job as the one error). */
			if (stop && r != SISIGN_OK &&
			    (r == SISIGN_ERR_TOKEN_FAILED || (err && err->code == SISIGN_ERR_TOKEN_FAILED)))
				atomic_store(stop, 1);
		}
		if (queue)
			pthread_mutex_unlock(queue);
	}
	if (r)
		return r;
	if ((r = utf8_to_utf16le(oid, &u16, &u16len))) {
		free(sig);
		return err_set(err, r, -1, "cannot encode the algorithm");
	}
	/* SISSignatureCertificateChain { Array<SISSignature>, SISCertificateChain } (§7.3) */
	wbuf_init(&chain);
	wbuf_init(&arr);
	wbuf_init(&elem);
	wbuf_init(&alg);
	wbuf_init(&cc);
	wbuf_init(&field);
	sisf_put_field(&alg, SISF_STRING, u16, u16len);
	sisf_put_wrapped(&elem, 1, SISF_SIGNATURE_ALGORITHM, &alg);
	sisf_put_field(&elem, SISF_BLOB, sig, siglen);
	wbuf_put_u32le(&arr, SISF_SIGNATURE);
	sisf_put_wrapped(&arr, 0, SISF_SIGNATURE, &elem);
	sisf_put_wrapped(&chain, 1, SISF_ARRAY, &arr);
	sisf_put_field(&cc, SISF_BLOB, id->chain, id->chain_len);
	sisf_put_wrapped(&chain, 1, SISF_CERTIFICATE_CHAIN, &cc);
	sisf_put_wrapped(&field, 1, SISF_SIGNATURE_CERT_CHAIN, &chain);
	free(sig);
	free(u16);
	if (wbuf_failed(&field))
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	else /* the new chain goes just before SISDataIndex (§7.5 step 4) */
		r = rebuild(pkg, c->value, c->data_index_offset, field.data, field.len, c->value + c->data_index_offset,
			c->value_len - c->data_index_offset, err);
	wbuf_free(&field);
	if (r == SISIGN_OK && pkg->info.kind == SISIGN_PKG_SISX && !pkg->data_checked)
		pkg->data_check_on_write = 1;
	return r;
}

int sign_pkg_queued(struct sisign_pkg *pkg, struct sisign_identity *id, pthread_mutex_t *queue,
	atomic_int *stop, struct sisign_error *err)
{
	return sign_pkg_with(pkg, id, queue, stop, NULL, NULL, err);
}

int sign_pkg_gated(struct sisign_pkg *pkg, struct sisign_identity *id, sign_gate_fn gate, void *ud,
	struct sisign_error *err)
{
	return sign_pkg_with(pkg, id, NULL, NULL, gate, ud, err);
}

int sisign_pkg_check_signable(struct sisign_pkg *pkg, struct sisign_error *err)
{
	return sign_check_signable(pkg, err);
}

int sisign_pkg_check_signable_nodata(struct sisign_pkg *pkg, struct sisign_error *err)
{
	return sign_check_nodata(pkg, err);
}

int sisign_pkg_sign(struct sisign_pkg *pkg, struct sisign_identity *id, struct sisign_error *err)
{
	return sign_pkg_with(pkg, id, NULL, NULL, NULL, NULL, err);
}

int sisign_pkg_unsign(struct sisign_pkg *pkg, int all, struct sisign_error *err)
{
	const struct sisign_controller *c = &pkg->top;
	size_t from;
	if (pkg->info.kind == SISIGN_PKG_STUB)
		return err_set(err, SISIGN_ERR_UNSUPPORTED, 0,
			"a ROM stub controller (type-prefixed, made by makesis -s) is not a signable package");
	if (c->nchains == 0)
		return err_set(err, SISIGN_ERR_NOT_SIGNED, -1, "package is not signed");
	/* A chain starts where its signed region ends (§7.1). */
	from = all ? c->chains[0].signed_len : c->chains[c->nchains - 1].signed_len;
	return rebuild(pkg, c->value, from, NULL, 0, c->value + c->data_index_offset,
		c->value_len - c->data_index_offset, err);
}

int sign_output_matches(const struct sisign_pkg *in, const struct sisign_pkg *out, const struct sisign_identity *id,
	int added, struct sisign_error *err)
{
	const struct sisign_controller *a = &in->top, *b = &out->top;
	const struct sisign_chain *last;
	size_t head;

	if (b->nchains != a->nchains + (size_t)added)
		return 0;
	if (added) {
		/* made by this identity: the same signer certificate (DER) ... */
		if (!sisign_pkg_last_chain_is(out, id))
			return 0;
		/* ... and its signature verifies over its signed bytes */
		last = &b->chains[b->nchains - 1];
		if (verify_chain_signature(last, NULL, 0, NULL, 0) != SISIGN_OK)
			return 0;
		head = last->signed_len; /* where the last chain starts (§7.1) */
	} else {
		if (memcmp(in->header, out->header, sizeof in->header) != 0)
			return 0;
		head = b->data_index_offset;
	}
	/* The controller without that chain is the input's, byte for byte
	 * (decompressed: sisign compresses the controller it writes anew):
	 * members and earlier chains, then SISDataIndex and what follows. */
	if (head != a->data_index_offset ||
		b->value_len - b->data_index_offset != a->value_len - a->data_index_offset ||
		memcmp(a->value, b->value, head) != 0 ||
		memcmp(a->value + a->data_index_offset, b->value + b->data_index_offset,
			a->value_len - a->data_index_offset) != 0)
		return 0;
	return pkg_same_outside_controller(in, out, err);
}

int sisign_pkg_last_chain_is(const struct sisign_pkg *pkg, const struct sisign_identity *id)
{
	const struct sisign_controller *c = &pkg->top;
	const struct sisign_chain *ch;
	if (c->nchains == 0)
		return 0;
	ch = &c->chains[c->nchains - 1];
	return ch->certs_len >= id->signer_der_len && memcmp(ch->certs, id->chain, id->signer_der_len) == 0;
}
