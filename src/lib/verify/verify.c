/* SPDX-License-Identifier: Apache-2.0 */
/* Verification as the device does it (sis-format.md §7.9, §7.10): every chain
 * of every controller, over exactly its signed region, then path validation
 * against the caller's roots at the caller's time. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <sisign/verify.h>

#include "crypto/crypto_private.h"
#include "format/format_private.h"
#include "verify/verify_private.h"

const char *sisign_verdict_name(enum sisign_verdict v)
{
	switch (v) {
	case SISIGN_VERDICT_TRUSTED: return "trusted";
	case SISIGN_VERDICT_SELF_SIGNED: return "self-signed";
	case SISIGN_VERDICT_UNTRUSTED: return "untrusted";
	case SISIGN_VERDICT_INVALID: return "invalid";
	case SISIGN_VERDICT_UNSIGNED: return "unsigned";
	}
	return "unknown";
}

const char *sisign_chain_status_name(enum sisign_chain_status s)
{
	switch (s) {
	case SISIGN_CHAIN_TRUSTED: return "trusted";
	case SISIGN_CHAIN_SELF_SIGNED: return "self-signed";
	case SISIGN_CHAIN_UNTRUSTED: return "untrusted";
	case SISIGN_CHAIN_EXPIRED: return "expired";
	case SISIGN_CHAIN_INVALID: return "invalid";
	case SISIGN_CHAIN_NO_CODE_SIGNING: return "no-code-signing";
	}
	return "unknown";
}

static void free_ctrl(struct sisign_ctrl_report *c)
{
	for (size_t i = 0; i < c->nembedded; i++)
		free_ctrl(&c->embedded[i]);
	free(c->embedded);
	free(c->chains);
}

void sisign_verify_report_free(struct sisign_verify_report *rep)
{
	if (!rep)
		return;
	free_ctrl(&rep->top);
	free(rep);
}

struct vctx {
	struct crypto_trust *trust;
	time_t at;
	int any_bad_signature;
};

/* The signature part of one chain, with its signer certificate already
 * read: verify-any over the chain's signatures (§7.3).  alg gets the OID of
 * the signature that verified, or else the first one's; detail why none
 * did. */
static int sig_check(X509 *leaf, const struct sisign_chain *ch, char *alg, size_t alglen, char *detail, size_t n)
{
	struct sisign_error e;
	uint8_t digest[20];
	unsigned int dlen = 0;
	size_t unsupported = 0;
	int r;

	if (ch->nsigs > 0 && alg)
		snprintf(alg, alglen, "%s", ch->sigs[0].algorithm);
	if (EVP_Digest(ch->signed_region, ch->signed_len, digest, &dlen, EVP_sha1(), NULL) != 1)
		return SISIGN_ERR_CRYPTO;
	sisign_error_clear(&e);
	for (size_t i = 0; i < ch->nsigs; i++) {
		r = crypto_verify_sha1_sig(leaf, ch->sigs[i].algorithm, digest, ch->sigs[i].sig, ch->sigs[i].siglen,
			&e);
		if (r == SISIGN_OK) {
			if (alg)
				snprintf(alg, alglen, "%s", ch->sigs[i].algorithm);
			return SISIGN_OK;
		}
		if (r == SISIGN_ERR_SIG_UNSUPPORTED)
			unsupported++;
	}
	if (ch->nsigs > 0 && unsupported == ch->nsigs) {
		if (detail)
			snprintf(detail, n, "signature algorithm %s is not one the device accepts",
				ch->sigs[0].algorithm);
		return SISIGN_ERR_SIG_UNSUPPORTED;
	}
	if (detail)
		snprintf(detail, n, "%s",
			ch->nsigs ? "signature does not verify over the signed bytes" : "chain holds no signature");
	return SISIGN_ERR_SIG_INVALID;
}

int verify_chain_signature(const struct sisign_chain *ch, char *detail, size_t n, char *signer, size_t sn)
{
	STACK_OF(X509) *certs = NULL;
	struct crypto_cert_info ci;
	struct sisign_error e;
	int r;

	sisign_error_clear(&e);
	if (crypto_certs_from_der_blob(ch->certs, ch->certs_len, &certs, &e) != SISIGN_OK || sk_X509_num(certs) < 1) {
		if (detail)
			snprintf(detail, n, "certificate chain unreadable: %.200s", e.message);
		crypto_certs_free(certs);
		return e.code == SISIGN_ERR_NOMEM ? SISIGN_ERR_NOMEM : SISIGN_ERR_SIG_INVALID;
	}
	if (signer && crypto_cert_describe(sk_X509_value(certs, 0), &ci, &e) == SISIGN_OK)
		snprintf(signer, sn, "%s", ci.subject);
	r = sig_check(sk_X509_value(certs, 0), ch, NULL, 0, detail, n);
	crypto_certs_free(certs);
	return r;
}

static int ctrl_chain_signatures(const struct sisign_controller *c, int *depth, struct sisign_error *err)
{
	char detail[256], where[64], signer[512];
	int r;

	for (size_t i = 0; i < c->nchains; i++) {
		signer[0] = '\0';
		r = verify_chain_signature(&c->chains[i], detail, sizeof detail, signer, sizeof signer);
		if (r == SISIGN_OK)
			continue;
		if (r == SISIGN_ERR_NOMEM || r == SISIGN_ERR_CRYPTO)
			return err_set(err, r, -1, "cannot check signature chain %zu: %s", i + 1,
				r == SISIGN_ERR_NOMEM ? "out of memory" : "SHA-1 failed");
		*depth = c->depth;
		if (c->depth == 0)
			snprintf(where, sizeof where, "the top-level controller");
		else
			snprintf(where, sizeof where, "the embedded package UID 0x%08x", c->uid);
		return err_set(err, r, -1, "signature chain %zu of %zu in %s (signer \"%.200s\") is bad: %s", i + 1,
			c->nchains, where, signer[0] ? signer : "unknown", detail);
	}
	for (size_t i = 0; i < c->nembedded; i++)
		if ((r = ctrl_chain_signatures(&c->embedded[i], depth, err)) != SISIGN_OK)
			return r;
	return SISIGN_OK;
}

int verify_pkg_chain_signatures(const struct sisign_pkg *pkg, int *depth, struct sisign_error *err)
{
	*depth = -1;
	return ctrl_chain_signatures(&pkg->top, depth, err);
}

static int verify_chain(struct vctx *v, const struct sisign_chain *ch, struct sisign_chain_report *cr,
	struct sisign_error *err)
{
	STACK_OF(X509) *certs = NULL;
	struct crypto_cert_info ci;
	struct crypto_chain_result res;
	struct sisign_error e;
	int r;

	cr->signature = SISIGN_ERR_SIG_INVALID;
	cr->status = SISIGN_CHAIN_INVALID;
	if (ch->nsigs > 0)
		snprintf(cr->algorithm, sizeof cr->algorithm, "%s", ch->sigs[0].algorithm);
	sisign_error_clear(&e);
	if (crypto_certs_from_der_blob(ch->certs, ch->certs_len, &certs, &e) != SISIGN_OK ||
		sk_X509_num(certs) < 1) {
		snprintf(cr->status_detail, sizeof cr->status_detail, "certificate chain unreadable: %.200s", e.message);
		v->any_bad_signature = 1;
		crypto_certs_free(certs);
		return SISIGN_OK;
	}
	cr->ncerts = (size_t)sk_X509_num(certs);
	if (crypto_cert_describe(sk_X509_value(certs, 0), &ci, &e) == SISIGN_OK) {
		snprintf(cr->signer_subject, sizeof cr->signer_subject, "%s", ci.subject);
		snprintf(cr->signer_issuer, sizeof cr->signer_issuer, "%s", ci.issuer);
		snprintf(cr->signer_serial, sizeof cr->signer_serial, "%s", ci.serial_hex);
		snprintf(cr->key_type, sizeof cr->key_type, "%s", ci.key_type);
		snprintf(cr->fingerprint, sizeof cr->fingerprint, "%s", ci.sha256_hex);
		cr->not_before = ci.not_before;
		cr->not_after = ci.not_after;
		cr->key_bits = ci.key_bits;
	}
	cr->signature = sig_check(sk_X509_value(certs, 0), ch, cr->algorithm, sizeof cr->algorithm, cr->status_detail,
		sizeof cr->status_detail);
	if (cr->signature == SISIGN_ERR_CRYPTO) {
		crypto_certs_free(certs);
		return err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-1 failed");
	}
	if (cr->signature != SISIGN_OK)
		v->any_bad_signature = 1;

	memset(&res, 0, sizeof res);
	r = crypto_chain_validate(v->trust, certs, v->at, &res, &e);
	crypto_certs_free(certs);
	if (r != SISIGN_OK) {
		if (r == SISIGN_ERR_NOMEM)
			return err_set(err, r, -1, "out of memory");
		cr->status = SISIGN_CHAIN_INVALID;
		if (cr->signature == SISIGN_OK)
			snprintf(cr->status_detail, sizeof cr->status_detail, "%.250s", e.message);
		return SISIGN_OK;
	}
	snprintf(cr->root_subject, sizeof cr->root_subject, "%s", res.root_subject);
	switch (res.verdict) {
	case CHAIN_TRUSTED:
		cr->status = res.eku_ok ? SISIGN_CHAIN_TRUSTED : SISIGN_CHAIN_NO_CODE_SIGNING;
		break;
	case CHAIN_SELF_SIGNED:
		cr->status = res.self_signed_verdict == CHAIN_TRUSTED ? SISIGN_CHAIN_SELF_SIGNED
			: res.self_signed_verdict == CHAIN_EXPIRED ? SISIGN_CHAIN_EXPIRED
								   : SISIGN_CHAIN_INVALID;
		if (cr->status == SISIGN_CHAIN_SELF_SIGNED && !res.eku_ok)
			cr->status = SISIGN_CHAIN_NO_CODE_SIGNING;
		break;
	case CHAIN_UNTRUSTED: cr->status = SISIGN_CHAIN_UNTRUSTED; break;
	case CHAIN_EXPIRED: cr->status = SISIGN_CHAIN_EXPIRED; break;
	case CHAIN_INVALID: cr->status = SISIGN_CHAIN_INVALID; break;
	}
	if (cr->signature == SISIGN_OK && res.error_str[0] && cr->status != SISIGN_CHAIN_TRUSTED &&
		cr->status != SISIGN_CHAIN_SELF_SIGNED)
		snprintf(cr->status_detail, sizeof cr->status_detail, "%s", res.error_str);
	if (cr->status == SISIGN_CHAIN_NO_CODE_SIGNING)
		snprintf(cr->status_detail, sizeof cr->status_detail,
			"signer certificate's extended key usage lacks code signing");
	return SISIGN_OK;
}

static enum sisign_verdict ctrl_verdict(const struct sisign_ctrl_report *cr)
{
	int self = 0;
	if (cr->nchains == 0)
		return SISIGN_VERDICT_UNSIGNED;
	for (size_t i = 0; i < cr->nchains; i++)
		if (cr->chains[i].signature != SISIGN_OK)
			return SISIGN_VERDICT_INVALID; /* fatal on the device even if another chain is fine */
	/* validate-any: one trusted chain is enough (§7.9 2d). */
	for (size_t i = 0; i < cr->nchains; i++) {
		if (cr->chains[i].status == SISIGN_CHAIN_TRUSTED)
			return SISIGN_VERDICT_TRUSTED;
		if (cr->chains[i].status == SISIGN_CHAIN_SELF_SIGNED)
			self = 1;
	}
	return self ? SISIGN_VERDICT_SELF_SIGNED : SISIGN_VERDICT_UNTRUSTED;
}

/* Severity for the overall verdict, worst first: invalid, unsigned,
 * untrusted, self-signed, trusted (the order `sisign verify` ranks files
 * in). */
static int verdict_rank(enum sisign_verdict v)
{
	switch (v) {
	case SISIGN_VERDICT_TRUSTED: return 0;
	case SISIGN_VERDICT_SELF_SIGNED: return 1;
	case SISIGN_VERDICT_UNTRUSTED: return 2;
	case SISIGN_VERDICT_UNSIGNED: return 3;
	case SISIGN_VERDICT_INVALID: return 4;
	}
	return 4;
}

/* The device checks each embedded controller on its own (§7.9), so the
 * package is only as good as its worst controller; the first one (top
 * level first, then depth first) with the worst verdict is the one named. */
static const struct sisign_ctrl_report *worst_ctrl(const struct sisign_ctrl_report *c)
{
	const struct sisign_ctrl_report *w = c;
	for (size_t i = 0; i < c->nembedded; i++) {
		const struct sisign_ctrl_report *e = worst_ctrl(&c->embedded[i]);
		if (verdict_rank(e->verdict) > verdict_rank(w->verdict))
			w = e;
	}
	return w;
}

static int verify_ctrl(struct vctx *v, const struct sisign_controller *c, struct sisign_ctrl_report *cr,
	struct sisign_error *err)
{
	int r;
	cr->depth = c->depth;
	cr->uid = c->uid;
	if (c->nchains) {
		cr->chains = calloc(c->nchains, sizeof *cr->chains);
		if (!cr->chains)
			return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	}
	cr->nchains = c->nchains;
	for (size_t i = 0; i < c->nchains; i++)
		if ((r = verify_chain(v, &c->chains[i], &cr->chains[i], err)))
			return r;
	if (c->nembedded) {
		cr->embedded = calloc(c->nembedded, sizeof *cr->embedded);
		if (!cr->embedded)
			return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	}
	cr->nembedded = c->nembedded;
	for (size_t i = 0; i < c->nembedded; i++)
		if ((r = verify_ctrl(v, &c->embedded[i], &cr->embedded[i], err)))
			return r;
	cr->verdict = ctrl_verdict(cr);
	return SISIGN_OK;
}

int sisign_pkg_verify(struct sisign_pkg *pkg, const struct sisign_verify_opts *opts,
	struct sisign_verify_report **out, struct sisign_error *err)
{
	struct sisign_verify_report *rep = NULL;
	struct vctx v = { NULL, 0, 0 };
	const struct sisign_controller *dmg;
	int r = SISIGN_ERR_INTERNAL;

	*out = NULL;
	rep = calloc(1, sizeof *rep);
	if (!rep)
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	if ((r = crypto_trust_new(&v.trust, err)))
		goto out;
	for (size_t i = 0; opts && opts->trust && opts->trust[i]; i++)
		if ((r = crypto_trust_add_file(v.trust, opts->trust[i], err)))
			goto out;
	v.at = opts && opts->at ? opts->at : time(NULL);

	dmg = sisign_pkg_damaged(pkg);
	if (pkg->info.kind == SISIGN_PKG_SISX && !pkg->info.uid_checksum_ok) {
		/* The installer checks this one (KErrCorrupt), unlike the CRCs. */
		rep->structure = SISIGN_ERR_MALFORMED;
		snprintf(rep->structure_message, sizeof rep->structure_message,
			"UID checksum 0x%08x in the header is wrong; the device refuses the package", pkg->info.uid_checksum);
	} else if (dmg) {
		rep->structure = dmg->damage;
		snprintf(rep->structure_message, sizeof rep->structure_message, "%s",
			dmg->damage_message ? dmg->damage_message : "damaged member field");
	}
	if (!(opts && opts->skip_data) && pkg->info.kind == SISIGN_PKG_SISX) {
		struct sisign_error e;
		sisign_error_clear(&e);
		rep->data = sisign_pkg_check_data(pkg, &e);
		if (rep->data)
			snprintf(rep->data_message, sizeof rep->data_message, "%s", e.message);
	}
	if ((r = verify_ctrl(&v, &pkg->top, &rep->top, err)))
		goto out;

	rep->decided_by = worst_ctrl(&rep->top);
	if (rep->structure || rep->data) {
		rep->verdict = SISIGN_VERDICT_INVALID;
		rep->decided_by = NULL;
	} else {
		/* any_bad_signature: some controller's verdict is invalid too */
		rep->verdict = rep->decided_by->verdict;
	}
	*out = rep;
	rep = NULL; /* transferred */
	r = SISIGN_OK;
out:
	crypto_trust_free(v.trust);
	sisign_verify_report_free(rep);
	return r;
}
