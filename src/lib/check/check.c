/* SPDX-License-Identifier: Apache-2.0 */
/* The install-rules checker (include/sisign/check.h, docs/check.md): the
 * package-only rules of ../shared/docs/install-rules.md applied to every
 * controller of a package, under the trust a given identity gives. */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdatomic.h>
#include <time.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sisign/check.h>
#include <sisign/verify.h>

#include "check/check_private.h"
#include "crypto/crypto_private.h"
#include "format/format_private.h"
#include "util/util_private.h"
#include "verify/verify_private.h"

#define OP_NULL 8u          /* FN: delete on uninstall, no data */
#define CAP_ALLFILES 11u
#define FLAG_VFPV2 0x00100000u
#define MAX_DEPTH_OK 7      /* IR-DEP-1: top level + 7 */

/* Every rule this file checks, in report order (docs/check.md). */
static const struct {
	const char *id, *text;
} rules[] = {
	{ "IR-SIG-1", "an unsigned package needs AllowUnsigned in the device's swipolicy.ini (false as shipped)" },
	{ "IR-SIG-3", "every signature in the package must verify" },
	{ "IR-SIG-4", "a chain that fails validation or code-signing usage counts as unsigned" },
	{ "IR-SIG-5", "a self-signed package installs only after the user accepts a warning" },
	{ "IR-SIG-6", "a developer certificate (constraint extensions) makes the user accept a warning" },
	{ "IR-SIG-8", "a stub that is not PA/PP needs AllowPackagePropagate" },
	{ "IR-EKU-1", "the signer's extended key usage must list code signing or a policy alternative" },
	{ "IR-EKU-2", "a signer without extended key usage fails when MandateCodeSigningExtension is set" },
	{ "IR-EKU-3", "with MandatePolicies, the signer's EKU must list every policy Oid" },
	{ "IR-UID-1", "a package UID below 0x80000000 (protected) needs a trusted signature" },
	{ "IR-UID-2", "a protected package UID must be in a developer certificate's SID list" },
	{ "IR-DEV-1", "a developer certificate's device-ID list must name the phone (depends on the device)" },
	{ "IR-PATH-1", "a target is at most 256 characters and starts with a drive, ':' and '\\'" },
	{ "IR-PATH-2", "a target has no '\\\\' and no '..\\'" },
	{ "IR-PATH-3", "nothing may go to \\resource\\swicertstore" },
	{ "IR-PATH-4", "a file name in \\sys\\bin is 7-bit ASCII" },
	{ "IR-PATH-7", "a stub (PA/PP) uses one drive letter for all targets" },
	{ "IR-CAGE-1", "\\private\\ is followed by a hex SID directory" },
	{ "IR-CAGE-2", "\\private\\<SID>\\ needs an EXE with that SID in the package (\\import\\ is exempt)" },
	{ "IR-CAGE-3", "under \\sys\\ only \\sys\\bin\\ itself, and never a delete-on-uninstall (FN) file" },
	{ "IR-CAGE-4", "no delete-on-uninstall (FN) file under \\resource\\" },
	{ "IR-EXE-1", "only E32 executables go to \\sys\\bin\\" },
	{ "IR-EXE-2", "an executable's E32 header must be valid and of the V (EKA2) format" },
	{ "IR-EXE-3", "a VFPv2 executable needs floating-point hardware (depends on the device)" },
	{ "IR-EXE-4", "the capabilities in the package must equal those in the executable's header" },
	{ "IR-EXE-5", "a non-zero VID must be in a developer certificate's VID list" },
	{ "IR-EXE-6", "a non-zero VID needs a trusted signature" },
	{ "IR-EXE-7", "a protected EXE SID must be in a developer certificate's SID list" },
	{ "IR-EXE-8", "an EXE SID below 0x80000000 (protected) needs a trusted signature" },
	{ "IR-EXE-9", "every file's data must match its SHA-1 in the package" },
	{ "IR-SID-4", "two EXEs of one package may not share a SID" },
	{ "IR-CAP-1", "capabilities beyond the user-grantable set need a trusted root that grants them" },
	{ "IR-CAP-2", "user capabilities need AllowGrantUserCapabilities (true as shipped)" },
	{ "IR-CAP-3", "capabilities must be within a developer certificate's set; the user is asked to grant them" },
	{ "IR-TYPE-3", "an SP or PU package needs its base package installed (depends on the device)" },
	{ "IR-TYPE-4", "a PP package needs its base package installed (depends on the device)" },
	{ "IR-TYPE-12", "two SA controllers, or one UID under two parents, in one file" },
	{ "IR-DEP-1", "embedded packages nest at most 7 levels below the top" },
};

int sisign_check_rule(size_t i, const char **rule, const char **text)
{
	if (i >= sizeof rules / sizeof rules[0])
		return 0;
	*rule = rules[i].id;
	*text = rules[i].text;
	return 1;
}

const char *sisign_check_severity_name(int sev)
{
	switch (sev) {
	case SISIGN_CHECK_WARNING: return "warning";
	case SISIGN_CHECK_DEPENDS: return "depends";
	case SISIGN_CHECK_ERROR: return "error";
	default: return "none";
	}
}

const char *sisign_check_trust_name(enum sisign_check_trust t)
{
	switch (t) {
	case SISIGN_TRUST_UNSIGNED: return "unsigned";
	case SISIGN_TRUST_SELF_SIGNED: return "self-signed";
	case SISIGN_TRUST_DEPENDS: return "certstore";
	case SISIGN_TRUST_TRUSTED: return "trusted";
	}
	return "?";
}

/* ---- the report ------------------------------------------------------------ */

struct ctx {
	struct sisign_pkg *pkg;
	const struct sisign_check_opts *opts;
	const struct chk_policy *pol;    /* own_pol, or the cache's */
	struct chk_policy own_pol;
	struct crypto_trust **roots;     /* one store per opts->roots[i]: ours, or the cache's */
	struct sisign_check_cache *cache; /* NULL: nothing kept across calls */
	struct sisign_check_report *rep;
	size_t cap;
	int nomem;
	const struct sisign_controller *c;
	struct sisign_check_opts own_opts;  /* opts with the identity files read into certs */
};

static void add(struct ctx *x, const char *rule, int sev, const char *file, const char *needs, const char *fix,
	const char *fmt, ...) SISIGN_PRINTF(7, 8);

static void add(struct ctx *x, const char *rule, int sev, const char *file, const char *needs, const char *fix,
	const char *fmt, ...)
{
	struct sisign_finding *f;
	char msg[1024];
	va_list ap;

	if (x->nomem)
		return;
	if (x->rep->nfindings == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 8;
		struct sisign_finding *nv = realloc(x->rep->findings, nc * sizeof *nv);
		if (!nv) {
			x->nomem = 1;
			return;
		}
		x->rep->findings = nv;
		x->cap = nc;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	f = &x->rep->findings[x->rep->nfindings];
	memset(f, 0, sizeof *f);
	f->rule = rule;
	f->severity = (enum sisign_check_severity)sev;
	f->depth = x->c ? x->c->depth : 0;
	f->uid = x->c ? x->c->uid : 0;
	f->fix = fix;
	f->needs = sev == SISIGN_CHECK_DEPENDS ? needs : NULL;
	f->message = strdup(msg);
	f->file = file ? strdup(file) : NULL;
	if (!f->message || (file && !f->file)) {
		free(f->message);
		free(f->file);
		x->nomem = 1;
		return;
	}
	x->rep->nfindings++;
	if (sev > x->rep->worst)
		x->rep->worst = sev;
}

/* "ReadUserData WriteUserData" */
static void caps_text(const uint32_t caps[2], char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 64; i++) {
		const char *nm;
		if (!(caps[i / 32] & (1u << (i % 32))))
			continue;
		nm = sisign_capability_name(i);
		n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", n ? " " : "", nm ? nm : "?");
		if (n >= cap)
			break;
	}
}

/* ---- trust of one controller (install-rules.md §1, §5) ------------------- */

struct trust {
	enum sisign_check_trust level;
	uint32_t grant[2];              /* G: capabilities of the trusted roots reached */
	struct crypto_constraints k;       /* over every validated chain */
	int constrained;                /* some validated chain carries constraints */
	size_t nchains, nvalid;
	char dropped[512];              /* why the first chain was dropped */
	const char *drop_rule;
	char depends_on[512];           /* for DEPENDS: the issuer the certstore must hold */
};

/* IR-EKU-1..3 on the signer certificate; NULL if acceptable, else why. */
static const char *eku_problem(struct ctx *x, X509 *ee, const char **rule)
{
	unsigned char *der = NULL;
	const char *why = NULL;
	int n = i2d_X509(ee, &der), ok;

	if (n <= 0)
		return "the signer's certificate cannot be encoded";
	ok = crypto_eku_codesign_ok(der, (size_t)n, (const char *const *)x->pol->alt_oids, x->pol->mandate_codesign,
		&why);
	OPENSSL_free(der);
	if (!ok) {
		*rule = X509_get_ext_by_NID(ee, NID_ext_key_usage, -1) >= 0 ? "IR-EKU-1" : "IR-EKU-2";
		return why ? why : "the signer's certificate is not acceptable for code signing";
	}
	if (x->pol->mandate_policies) {
		for (size_t i = 0; i < x->pol->noids; i++)
			if (!crypto_cert_has_eku_oid(ee, x->pol->oids[i])) {
				*rule = "IR-EKU-3";
				return "the signer's extended key usage lacks a policy OID the policy mandates";
			}
	}
	return NULL;
}

static void drop(struct trust *t, const char *rule, const char *why, size_t i)
{
	if (t->drop_rule)
		return;
	t->drop_rule = rule;
	snprintf(t->dropped, sizeof t->dropped, "chain %zu: %s", i + 1, why);
}

/* ---- what depends only on a chain's DER (and the policy) -------------------
 * Everything eval_chain needs to know about one chain blob, worked out once.
 * A batch checks every package against the same identity chain: with a
 * cache (struct sisign_check_cache, opts->cache) the second and later
 * packages find these facts by the blob's bytes instead of decoding the
 * certificates again. */
struct chain_facts {
	int readable;              /* the blob decodes to certificates */
	const char *eku_why;       /* IR-EKU-1..3 under the policy: NULL if acceptable (static text) */
	const char *eku_rule;
	int self_signed;           /* crypto_chain_self_signed */
	int ncerts;
	ASN1_TIME **not_before, **not_after; /* per certificate, for the validity test at any time */
	int issuer_ok;             /* issuer holds the top certificate's issuer DN */
	char issuer[512];
	int k_rc;                  /* crypto_chain_constraints: SISIGN_OK (k valid) or its error */
	struct crypto_constraints k;
	STACK_OF(X509) *sk;        /* only in facts worked out for this call (not cached) */
};

struct cache_entry {
	uint64_t hash;
	size_t len;
	uint8_t *der;
	struct chain_facts f;      /* never changed once the entry is published */
};

struct sisign_check_cache {
	pthread_mutex_t lock;      /* entries, n, bound */
	size_t max, n;
	struct cache_entry *e;
	/* Bound by the first call: its policy file and roots, read once. */
	int bound;
	char *policy_file;
	struct chk_policy pol;
	size_t nroots;
	struct sisign_check_root *roots; /* copies, with their file names */
	struct crypto_trust **trust;
};

/* Test-only (check_private.h): how many times the checker decoded a chain blob. */
static atomic_size_t chain_decodes;

size_t chk_test_chain_decodes(void)
{
	return atomic_load(&chain_decodes);
}

static uint64_t blob_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u; /* FNV-1a: a hit is confirmed by comparing the bytes */

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3u;
	}
	return h;
}

static int decode_chain(const uint8_t *der, size_t len, STACK_OF(X509) **sk, struct sisign_error *err)
{
	atomic_fetch_add(&chain_decodes, 1);
	return crypto_certs_from_der_blob(der, len, sk, err);
}

static void facts_clear(struct chain_facts *f)
{
	for (int i = 0; i < f->ncerts; i++) {
		if (f->not_before)
			ASN1_TIME_free(f->not_before[i]);
		if (f->not_after)
			ASN1_TIME_free(f->not_after[i]);
	}
	free(f->not_before);
	free(f->not_after);
	crypto_constraints_free(&f->k);
	crypto_certs_free(f->sk);
	memset(f, 0, sizeof *f);
}

static const char *eku_problem(struct ctx *x, X509 *ee, const char **rule);

/* Work out f for one chain blob.  Errors only for no memory. */
static int facts_compute(struct ctx *x, const uint8_t *der, size_t len, struct chain_facts *f,
	struct sisign_error *err)
{
	STACK_OF(X509) *sk = NULL;
	X509 *top;
	int rc;

	memset(f, 0, sizeof *f);
	if (decode_chain(der, len, &sk, NULL))
		return SISIGN_OK; /* not readable */
	f->readable = 1;
	f->sk = sk;
	f->eku_why = eku_problem(x, sk_X509_value(sk, 0), &f->eku_rule);
	f->self_signed = crypto_chain_self_signed(der, len);
	f->ncerts = sk_X509_num(sk);
	if (!(f->not_before = calloc((size_t)f->ncerts, sizeof *f->not_before)) ||
	    !(f->not_after = calloc((size_t)f->ncerts, sizeof *f->not_after)))
		goto nomem;
	for (int i = 0; i < f->ncerts; i++) {
		X509 *c = sk_X509_value(sk, i);
		if (!(f->not_before[i] = ASN1_STRING_dup(X509_get0_notBefore(c))) ||
		    !(f->not_after[i] = ASN1_STRING_dup(X509_get0_notAfter(c))))
			goto nomem;
	}
	top = sk_X509_value(sk, f->ncerts - 1);
	f->issuer_ok = !crypto_dn_oneline(X509_get_issuer_name(top), f->issuer, sizeof f->issuer, NULL);
	rc = crypto_chain_constraints(der, len, &f->k, NULL);
	f->k_rc = rc;
	if (rc)
		crypto_constraints_free(&f->k);
	return SISIGN_OK;
nomem:
	facts_clear(f);
	return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
}

/* The facts of one chain blob: the cache's (*fp points into it, valid as
 * long as the cache) or worked out into own (caller clears it). */
static int facts_get(struct ctx *x, const uint8_t *der, size_t len, struct chain_facts *own,
	const struct chain_facts **fp, struct sisign_error *err)
{
	struct sisign_check_cache *c = x->cache;
	uint64_t h;
	int rc;

	memset(own, 0, sizeof *own);
	*fp = own;
	if (!c)
		return facts_compute(x, der, len, own, err);
	h = blob_hash(der, len);
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].hash == h && c->e[i].len == len && !memcmp(c->e[i].der, der, len)) {
			*fp = &c->e[i].f;
			pthread_mutex_unlock(&c->lock);
			return SISIGN_OK;
		}
	pthread_mutex_unlock(&c->lock);
	if ((rc = facts_compute(x, der, len, own, err)))
		return rc;
	/* Only facts that a later call can use unchanged: a constraints
	 * error other than "does not decode" (no memory) is not kept. */
	if (own->k_rc && own->k_rc != SISIGN_ERR_BAD_CERT)
		return SISIGN_OK;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].hash == h && c->e[i].len == len && !memcmp(c->e[i].der, der, len))
			goto unlock; /* another thread was first: use ours this time */
	if (c->n < c->max && (c->e[c->n].der = malloc(len ? len : 1))) {
		struct cache_entry *e = &c->e[c->n];
		memcpy(e->der, der, len);
		e->hash = h;
		e->len = len;
		STACK_OF(X509) *sk = own->sk;
		e->f = *own;
		e->f.sk = NULL; /* the certificates are not shared between threads */
		memset(own, 0, sizeof *own);
		own->sk = sk;   /* still this call's */
		*fp = &e->f;
		c->n++;
	}
unlock:
	pthread_mutex_unlock(&c->lock);
	return SISIGN_OK;
}

/* Is every certificate valid at time at (0 = now)? */
static int facts_valid_at(const struct chain_facts *f, time_t at)
{
	time_t t = at ? at : time(NULL);

	for (int i = 0; i < f->ncerts; i++)
		if (!(X509_cmp_time(f->not_before[i], &t) <= 0 && X509_cmp_time(f->not_after[i], &t) >= 0))
			return 0;
	return 1;
}

/* A copy of k for a trust to own. */
static int constraints_copy(struct crypto_constraints *dst, const struct crypto_constraints *k, struct sisign_error *err)
{
	memset(dst, 0, sizeof *dst);
	*dst = *k;
	dst->devices = NULL;
	dst->sids = NULL;
	dst->vids = NULL;
	dst->ndevices = dst->nsids = dst->nvids = 0;
	if (k->ndevices) {
		if (!(dst->devices = calloc(k->ndevices, sizeof *dst->devices)))
			goto nomem;
		for (size_t i = 0; i < k->ndevices; i++, dst->ndevices++)
			if (!(dst->devices[i] = strdup(k->devices[i])))
				goto nomem;
	}
	if (k->nsids) {
		if (!(dst->sids = malloc(k->nsids * sizeof *dst->sids)))
			goto nomem;
		memcpy(dst->sids, k->sids, k->nsids * sizeof *dst->sids);
		dst->nsids = k->nsids;
	}
	if (k->nvids) {
		if (!(dst->vids = malloc(k->nvids * sizeof *dst->vids)))
			goto nomem;
		memcpy(dst->vids, k->vids, k->nvids * sizeof *dst->vids);
		dst->nvids = k->nvids;
	}
	return SISIGN_OK;
nomem:
	crypto_constraints_free(dst);
	return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
}

/* One chain: is it usable, and how far does it reach? */
static int eval_chain(struct ctx *x, const uint8_t *der, size_t len, size_t idx, struct trust *t,
	struct sisign_error *err)
{
	STACK_OF(X509) *sk = NULL;
	struct crypto_chain_result res;
	struct crypto_constraints k;
	struct chain_facts own;
	const struct chain_facts *f;
	enum sisign_check_trust level = SISIGN_TRUST_SELF_SIGNED;
	int rc, reached = 0;

	memset(&k, 0, sizeof k);
	if ((rc = facts_get(x, der, len, &own, &f, err)))
		return rc;
	if (!f->readable) {
		drop(t, "IR-SIG-4", "its certificates cannot be read", idx);
		goto out;
	}
	if (f->eku_why) {
		drop(t, f->eku_rule, f->eku_why, idx);
		goto out;
	}
	if (x->opts->nroots) {
		/* Validation depends on the time: the certificates themselves are needed. */
		if (!(sk = own.sk) && (rc = decode_chain(der, len, &sk, err)))
			goto fail;
	}
	for (size_t r = 0; r < x->opts->nroots; r++) {
		if ((rc = crypto_chain_validate(x->roots[r], sk, x->opts->at ? x->opts->at : time(NULL), &res, err)))
			goto fail;
		if (res.verdict == CHAIN_TRUSTED) {
			const struct sisign_check_root *root = &x->opts->roots[r];
			reached = 1;
			t->grant[0] |= root->caps_set ? root->caps[0] : 0xFFFFFFFFu;
			t->grant[1] |= root->caps_set ? root->caps[1] : 0xFFFFFFFFu;
		} else if (res.verdict == CHAIN_EXPIRED) {
			drop(t, "IR-SIG-4", "a certificate is outside its validity period", idx);
			goto out;
		}
	}
	if (reached) {
		level = SISIGN_TRUST_TRUSTED;
	} else {
		if (!facts_valid_at(f, x->opts->at)) {
			drop(t, "IR-SIG-4", "a certificate is outside its validity period", idx);
			goto out;
		}
		if (f->self_signed) {
			level = SISIGN_TRUST_SELF_SIGNED;
		} else {
			level = SISIGN_TRUST_DEPENDS;
			if (!t->depends_on[0])
				snprintf(t->depends_on, sizeof t->depends_on, "%s", f->issuer_ok ? f->issuer : "its issuer");
		}
	}
	/* A validated chain: its constraints count (§5). */
	if (f->k_rc == SISIGN_ERR_BAD_CERT) {
		drop(t, "IR-SIG-4", "its developer-certificate constraint extensions do not decode", idx);
		goto out;
	}
	if (f->k_rc) {
		/* Not kept in a cache: work it out again for the error's text. */
		if (!(rc = crypto_chain_constraints(der, len, &k, err)))
			rc = err_set(err, f->k_rc, -1, "the certificate constraints cannot be read");
		goto fail;
	}
	if ((rc = constraints_copy(&k, &f->k, err)))
		goto fail;
	if (k.devices_set || k.sids_set || k.vids_set || k.caps_set)
		t->constrained = 1;
	if (t->nvalid == 0) {
		crypto_constraints_free(&t->k);
		t->k = k;
	} else {
		crypto_constraints_merge(&t->k, &k);
		crypto_constraints_free(&k);
	}
	memset(&k, 0, sizeof k);
	t->nvalid++;
	if (level > t->level)
		t->level = level;
out:
	rc = SISIGN_OK;
fail:
	crypto_constraints_free(&k);
	if (sk != own.sk)
		crypto_certs_free(sk);
	facts_clear(&own);
	return rc;
}

/* The controller's trust from its chains (own, or the identity's). */
static int eval_trust(struct ctx *x, const struct sisign_controller *c, const struct sisign_ctrl_report *vr,
	struct trust *t, struct sisign_error *err)
{
	int rc, own = !(c->depth == 0 && x->opts->certs);

	memset(t, 0, sizeof *t);
	t->level = SISIGN_TRUST_UNSIGNED;
	if (own || x->opts->keep_chains) {
		for (size_t i = 0; i < c->nchains; i++) {
			if (vr && i < vr->nchains && vr->chains[i].signature != SISIGN_OK)
				add(x, "IR-SIG-3", SISIGN_CHECK_ERROR, NULL, NULL,
					"sign the package again (sisign unsign --all, then sign)",
					"would fail with KErrSecurityError: signature chain %zu does not verify (%s)",
					i + 1, vr->chains[i].status_detail[0] ? vr->chains[i].status_detail : "bad signature");
			t->nchains++;
			if ((rc = eval_chain(x, c->chains[i].certs, c->chains[i].certs_len, i, t, err)))
				return rc;
		}
	}
	if (!own) {
		if ((rc = eval_chain(x, x->opts->certs, x->opts->certs_len, t->nchains, t, err)))
			return rc;
		t->nchains++;
	}
	return SISIGN_OK;
}

/* ---- rules -------------------------------------------------------------------- */

static int in_list(const uint32_t *v, size_t n, uint32_t u)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == u)
			return 1;
	return 0;
}

/* A "would need trust" finding: an error when the signature is self-signed
 * or unsigned, "depends" when the chain ends below a root the device may hold. */
static void need_trust(struct ctx *x, const struct trust *t, const char *rule, const char *file, const char *dialog,
	const char *fix, const char *what)
{
	if (t->level == SISIGN_TRUST_TRUSTED)
		return;
	if (t->level == SISIGN_TRUST_DEPENDS)
		add(x, rule, SISIGN_CHECK_DEPENDS, file, "CS", fix,
			"would fail with KErrSecurityError (%s) unless the device's certstore holds a root for %s: %s",
			dialog, t->depends_on, what);
	else
		add(x, rule, SISIGN_CHECK_ERROR, file, NULL, fix, "would fail with KErrSecurityError (%s): %s, and the "
			"package is %s", dialog, what, sisign_check_trust_name(t->level));
}

static void rules_signature(struct ctx *x, const struct sisign_controller *c, const struct trust *t)
{
	if (t->nvalid == 0) {
		const char *rule = t->nchains ? (t->drop_rule ? t->drop_rule : "IR-SIG-4") : "IR-SIG-1";
		if (x->pol->allow_unsigned)
			add(x, rule, SISIGN_CHECK_WARNING, NULL, NULL, "sign the package",
				"the user is asked to install an unsigned package%s%s", t->nchains ? ": " : "",
				t->nchains ? t->dropped : "");
		else if (t->nchains)
			add(x, rule, SISIGN_CHECK_ERROR, NULL, NULL,
				"sign with a certificate whose extended key usage includes code signing and that is valid now",
				"would fail with KErrSecurityError: no usable signature (%s) and AllowUnsigned is false",
				t->dropped);
		else
			add(x, rule, SISIGN_CHECK_ERROR, NULL, NULL, "sign the package (sisign sign)",
				"would fail with KErrSecurityError: the package is unsigned and AllowUnsigned is false");
	} else if (t->level == SISIGN_TRUST_SELF_SIGNED) {
		add(x, "IR-SIG-5", SISIGN_CHECK_WARNING, NULL, NULL,
			"sign with a certificate that chains to a root the phone trusts (e.g. Symbian Signed)",
			"the user is asked to accept an untrusted (self-signed) package");
	} else if (t->level == SISIGN_TRUST_DEPENDS) {
		add(x, "IR-SIG-5", SISIGN_CHECK_WARNING, NULL, NULL,
			"name the root with --trusted-root if the phone holds it",
			"the user is asked to accept an untrusted package unless the device's certstore holds a root "
			"for %s", t->depends_on);
	}
	if (t->nvalid && t->constrained)
		add(x, "IR-SIG-6", SISIGN_CHECK_WARNING, NULL, NULL,
			"none needed for development; sign releases with a certificate without constraints",
			"the user is warned that the package is signed with a developer certificate");
	(void)c;
}

static void rules_uid(struct ctx *x, const struct sisign_controller *c, const struct trust *t)
{
	char what[128];

	if (c->uid < 0x80000000u) {
		snprintf(what, sizeof what, "package UID 0x%08X is in the protected range", c->uid);
		need_trust(x, t, "IR-UID-1", NULL, "EUiUIDPackageViolation",
			"use a package UID from 0x80000000 up (e.g. 0xE...) or sign with a trusted certificate", what);
		if (t->nvalid && t->k.sids_set && !in_list(t->k.sids, t->k.nsids, c->uid))
			add(x, "IR-UID-2", SISIGN_CHECK_ERROR, NULL, NULL,
				"use a UID the developer certificate lists, or one from 0x80000000 up",
				"would fail with KErrSecurityError (EUiConstraintsExceeded): package UID 0x%08X is not in "
				"the developer certificate's SID list", c->uid);
	}
	if (t->nvalid && t->k.devices_set)
		add(x, "IR-DEV-1", SISIGN_CHECK_DEPENDS, NULL, "Dev",
			"install only on a phone whose IMEI the developer certificate lists",
			"would fail with KErrSecurityError (EUiConstraintsExceeded) unless the phone's IMEI is one of "
			"the %zu the developer certificate lists", t->k.ndevices);
}

struct exe_seen {
	const struct sisign_file *f;
	struct sisign_exe_info e;
	int no_data;
};

static int has_prefix_ci(const char *s, const char *p)
{
	return strncasecmp(s, p, strlen(p)) == 0;
}

static int contains_ci(const char *s, const char *p)
{
	size_t n = strlen(p);

	for (; *s; s++)
		if (strncasecmp(s, p, n) == 0)
			return 1;
	return 0;
}

/* The path without its drive ("\sys\bin\x.exe"), or NULL. */
static const char *nodrive(const char *t)
{
	return t[0] && t[1] == ':' ? t + 2 : NULL;
}

/* \sys\bin\NAME (no subdirectory) */
static int in_sys_bin(const char *rest)
{
	return rest && has_prefix_ci(rest, "\\sys\\bin\\") && !strchr(rest + 9, '\\');
}

static void rules_path(struct ctx *x, const struct sisign_controller *c, const struct sisign_file *f)
{
	const char *t = f->target, *rest = nodrive(t), *base;
	const char *fix_path = "correct the target path in the package";

	if (strlen(t) > 256 || !rest || !(isalpha((unsigned char)t[0]) || t[0] == '!' || t[0] == '$') ||
	    rest[0] != '\\')
		add(x, "IR-PATH-1", SISIGN_CHECK_ERROR, t, NULL, fix_path,
			"would fail with KErrSISInvalidTargetFile (EUiInvalidFileName): %s",
			strlen(t) > 256 ? "the target is longer than 256 characters" :
					  "the target does not start with a drive letter, ':' and '\\'");
	if (strstr(t, "\\\\") || strstr(t, "..\\"))
		add(x, "IR-PATH-2", SISIGN_CHECK_ERROR, t, NULL, fix_path,
			"would fail with KErrSISInvalidTargetFile (EUiInvalidFileName): the target contains '\\\\' or "
			"'..\\'");
	if (contains_ci(t, ":\\resource\\swicertstore"))
		add(x, "IR-PATH-3", SISIGN_CHECK_ERROR, t, NULL, "do not install into \\resource\\swicertstore",
			"would fail with KErrSISInvalidTargetFile (EUiInvalidFileName): the installer's certstore "
			"cannot be written by a package");
	if (contains_ci(t, ":\\sys\\bin") && (base = strrchr(t, '\\'))) {
		for (const unsigned char *p = (const unsigned char *)base + 1; *p; p++)
			if (*p >= 0x80) {
				add(x, "IR-PATH-4", SISIGN_CHECK_ERROR, t, NULL, "give the executable an ASCII name",
					"would fail with KErrSISInvalidTargetFile (EUiInvalidFileName): a file name "
					"in \\sys\\bin must be 7-bit ASCII");
				break;
			}
	}
	(void)c;
}

static void rules_cage(struct ctx *x, const struct sisign_controller *c, const struct sisign_file *f,
	const struct exe_seen *ex, size_t nex)
{
	const char *rest = nodrive(f->target);
	int fn = f->operation == OP_NULL;

	if (!rest)
		return;
	if (has_prefix_ci(rest, "\\private\\")) {
		const char *h = rest + 9, *p = h;
		uint32_t sid = 0;
		int owned = 0;
		while (isxdigit((unsigned char)*p) && p - h < 8) {
			sid = sid << 4 | (uint32_t)(isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10));
			p++;
		}
		if (p == h) {
			add(x, "IR-CAGE-1", SISIGN_CHECK_ERROR, f->target, NULL,
				"put the file under \\private\\<SID>\\ or in a directory that is not caged",
				"would fail with KErrAccessDenied (EUiInvalidFileName): \\private\\ is not followed by a "
				"hexadecimal SID");
			return;
		}
		for (size_t i = 0; i < nex; i++)
			if (ex[i].e.kind == SISIGN_EXE_EXE && ex[i].e.sid == sid)
				owned = 1;
		if (!owned && !(p - h == 8 && has_prefix_ci(p, "\\import\\"))) {
			if (c->install_type == 1 || c->install_type == 2 || c->install_type == 4)
				add(x, "IR-CAGE-2", SISIGN_CHECK_DEPENDS, f->target, "Reg",
					"include the EXE with that SID, or write to \\private\\<SID>\\import\\",
					"would fail with KErrAccessDenied (EUiSIDMismatch) unless the installed base package "
					"has an EXE with SID 0x%08X", sid);
			else
				add(x, "IR-CAGE-2", SISIGN_CHECK_ERROR, f->target, NULL,
					"include the EXE with that SID, or write to \\private\\<SID>\\import\\",
					"would fail with KErrAccessDenied (EUiSIDMismatch): no EXE in the package has SID "
					"0x%08X", sid);
		}
	} else if (has_prefix_ci(rest, "\\sys\\")) {
		if (!in_sys_bin(rest))
			add(x, "IR-CAGE-3", SISIGN_CHECK_ERROR, f->target, NULL,
				"install to \\sys\\bin\\ itself, or outside \\sys\\",
				"would fail with KErrAccessDenied (EUiInvalidFileName): under \\sys\\ only \\sys\\bin\\ "
				"(no subdirectory) may be written");
		else if (fn)
			add(x, "IR-CAGE-3", SISIGN_CHECK_ERROR, f->target, NULL, "remove the FN (delete-on-uninstall) line",
				"would fail with KErrAccessDenied (EUiInvalidFileName): a delete-on-uninstall (FN) file "
				"may not be in \\sys\\");
	} else if (has_prefix_ci(rest, "\\resource\\") && fn) {
		add(x, "IR-CAGE-4", SISIGN_CHECK_ERROR, f->target, NULL, "remove the FN (delete-on-uninstall) line",
			"would fail with KErrAccessDenied (EUiInvalidFileName): a delete-on-uninstall (FN) file may not "
			"be in \\resource\\");
	}
}

static void rules_exe(struct ctx *x, const struct trust *t, const struct exe_seen *ex, size_t i)
{
	const struct sisign_file *f = ex[i].f;
	const struct sisign_exe_info *e = &ex[i].e;
	uint32_t sc[2] = { f->ncaps > 0 ? f->caps[0] : 0, f->ncaps > 1 ? f->caps[1] : 0 };
	char what[160], a[400], b[400];

	if (e->kind != SISIGN_EXE_EXE && e->kind != SISIGN_EXE_DLL) {
		if (!ex[i].no_data)
			add(x, "IR-EXE-1", SISIGN_CHECK_ERROR, f->target, NULL,
				"install data files elsewhere (e.g. \\resource\\ or \\private\\<SID>\\)",
				"would fail with KErrSISInvalidTargetFile: not an E32 executable (%s)",
				e->kind == SISIGN_EXE_OTHER ? "UID1 is neither EXE nor DLL" : e->reason);
		return;
	}
	if (!e->header_ok) {
		add(x, "IR-EXE-2", SISIGN_CHECK_ERROR, f->target, NULL, "rebuild the executable with an EKA2 toolchain",
			"would fail with KErrWrongHeaderFormat: %s", e->reason);
		return;
	}
	if (e->flags & FLAG_VFPV2)
		add(x, "IR-EXE-3", SISIGN_CHECK_DEPENDS, f->target, "Dev",
			"build without VFPv2 if the package must install on phones without floating-point hardware",
			"would fail with KErrWrongHeaderFormat on a phone without VFPv2 hardware");
	if (sc[0] != e->caps[0] || sc[1] != e->caps[1]) {
		caps_text(sc, a, sizeof a);
		caps_text(e->caps, b, sizeof b);
		add(x, "IR-EXE-4", SISIGN_CHECK_ERROR, f->target, NULL,
			"pack again so the package takes the capabilities from the executable (sisign pack reads them)",
			"would fail with KErrSecurityError (EUiCapabilitiesCannotBeGranted): the package declares "
			"capabilities [%s], the executable's header [%s]", a, b);
	}
	if (e->vid) {
		if (t->nvalid && t->k.vids_set && !in_list(t->k.vids, t->k.nvids, e->vid))
			add(x, "IR-EXE-5", SISIGN_CHECK_ERROR, f->target, NULL,
				"use a VID the developer certificate lists, or VID 0",
				"would fail with KErrSecurityError (EUiConstraintsExceeded): VID 0x%08X is not in the "
				"developer certificate's VID list", e->vid);
		snprintf(what, sizeof what, "the executable has VID 0x%08X", e->vid);
		need_trust(x, t, "IR-EXE-6", f->target, "EUiVIDViolation",
			"build with VID 0, or sign with a trusted certificate", what);
	}
	if (e->kind != SISIGN_EXE_EXE)
		return;
	if (e->sid < 0x80000000u) {
		if (t->nvalid && t->k.sids_set && !in_list(t->k.sids, t->k.nsids, e->sid))
			add(x, "IR-EXE-7", SISIGN_CHECK_ERROR, f->target, NULL,
				"use a SID the developer certificate lists, or one from 0x80000000 up",
				"would fail with KErrSecurityError (EUiConstraintsExceeded): SID 0x%08X is not in the "
				"developer certificate's SID list", e->sid);
		snprintf(what, sizeof what, "the EXE's SID 0x%08X is in the protected range", e->sid);
		need_trust(x, t, "IR-EXE-8", f->target, "EUiSIDViolation",
			"use a SID from 0x80000000 up (e.g. 0xE...), or sign with a trusted certificate", what);
	}
	for (size_t j = 0; j < i; j++)
		if (ex[j].e.kind == SISIGN_EXE_EXE && ex[j].e.header_ok && ex[j].e.sid == e->sid) {
			add(x, "IR-SID-4", SISIGN_CHECK_ERROR, f->target, NULL, "give each EXE its own SID",
				"would fail with KErrAlreadyExists: SID 0x%08X is also the SID of %s", e->sid,
				ex[j].f->target);
			break;
		}
}

static void rules_caps(struct ctx *x, const struct sisign_controller *c, const struct trust *t, uint32_t req[2])
{
	uint32_t m[2], s[2], k[2];
	char a[400];

	req[0] = req[1] = 0;
	for (size_t i = 0; i < c->nfiles; i++) {
		const struct sisign_file *f = &c->files[i];
		if (f->operation == OP_NULL)
			continue;
		if (f->ncaps > 0)
			req[0] |= f->caps[0];
		if (f->ncaps > 1)
			req[1] |= f->caps[1];
		if (contains_ci(f->target, ":\\private\\10283558\\"))
			req[0] |= 1u << CAP_ALLFILES;
	}
	req[0] &= 0x000FFFFFu; /* only bits 0-19 are capabilities */
	req[1] = 0;
	k[0] = t->nvalid && t->k.caps_set ? t->k.caps[0] : 0xFFFFFFFFu;
	k[1] = t->nvalid && t->k.caps_set ? t->k.caps[1] : 0xFFFFFFFFu;
	for (int w = 0; w < 2; w++) {
		m[w] = req[w] & ~(t->grant[w] & k[w]);
		s[w] = m[w] & ~x->pol->user_caps[w];
	}
	if (s[0] | s[1]) {
		caps_text(s, a, sizeof a);
		if (t->level == SISIGN_TRUST_DEPENDS)
			add(x, "IR-CAP-1", SISIGN_CHECK_DEPENDS, NULL, "CS",
				"sign with a certificate whose root grants these capabilities (e.g. Symbian Signed)",
				"would fail with KErrSecurityError (EUiCapabilitiesCannotBeGranted) unless the certstore's "
				"root for %s grants %s", t->depends_on, a);
		else
			add(x, "IR-CAP-1", SISIGN_CHECK_ERROR, NULL, NULL,
				"sign with a certificate whose root grants these capabilities (e.g. Symbian Signed), or "
				"drop them from the executables",
				"would fail with KErrSecurityError (EUiCapabilitiesCannotBeGranted): %s cannot be granted "
				"to a %s package", a, t->level == SISIGN_TRUST_TRUSTED ? "package signed by the named roots" :
				sisign_check_trust_name(t->level));
	}
	if (!(m[0] | m[1]))
		return;
	caps_text(m, a, sizeof a);
	if (!x->pol->allow_grant_user_caps) {
		add(x, "IR-CAP-2", t->level == SISIGN_TRUST_DEPENDS ? SISIGN_CHECK_DEPENDS : SISIGN_CHECK_ERROR, NULL, "CS",
			"sign with a certificate whose root grants these capabilities",
			"would fail with KErrSecurityError (EUiCapabilitiesCannotBeGranted): the policy does not let the "
			"user grant %s", a);
		return;
	}
	if (((m[0] & ~k[0]) | (m[1] & ~k[1]))) {
		uint32_t o[2] = { m[0] & ~k[0], m[1] & ~k[1] };
		caps_text(o, a, sizeof a);
		add(x, "IR-CAP-3", SISIGN_CHECK_ERROR, NULL, NULL,
			"use a developer certificate that allows these capabilities, or drop them",
			"would fail with KErrSecurityError (EUiConstraintsExceeded): the developer certificate does not "
			"allow %s", a);
		return;
	}
	if (!(s[0] | s[1]))
		add(x, "IR-CAP-3", SISIGN_CHECK_WARNING, NULL, NULL,
			"sign with a certificate whose root grants them, so nobody is asked",
			"the user is asked to grant %s", a);
}

/* Is an SP/PU's base an earlier sibling embedded by the same parent? */
static int base_embedded_before(const struct sisign_controller *parent, const struct sisign_controller *c)
{
	if (!parent)
		return 0;
	for (size_t i = 0; i < parent->nembedded && &parent->embedded[i] != c; i++)
		if (parent->embedded[i].uid == c->uid && parent->embedded[i].install_type == 0)
			return 1;
	return 0;
}

/* A stub: a package without file data.  The installer's own test (its
 * CData::IsStub, install-rules.md IR-SIG-8) is a SISData with no data unit
 * at all, whatever the type: a removable-media stub (SA, SP, ...) or a
 * preinstalled one (PA, PP).  A bare controller (ROM stub, .ctl) has no
 * data either. */
static int is_stub(const struct sisign_pkg_info *pi)
{
	return pi->kind != SISIGN_PKG_SISX || pi->ndata_units == 0;
}

static void rules_type(struct ctx *x, const struct sisign_controller *parent, const struct sisign_controller *c)
{
	const struct sisign_pkg_info *pi = sisign_pkg_info(x->pkg);
	static const char *const tn[] = { "SA", "SP", "PU", "PA", "PP" };
	const char *type = c->install_type < 5 ? tn[c->install_type] : "?";
	int stub = c->depth == 0 && is_stub(pi);

	if ((c->install_type == 1 || c->install_type == 2) && !base_embedded_before(parent, c))
		add(x, "IR-TYPE-3", SISIGN_CHECK_DEPENDS, NULL, "Reg",
			"install the base package first, or embed it before this one in the same file",
			"would fail with KErrMissingBasePackage (EUiMissingBasePackage) unless package 0x%08X is "
			"installed (type %s)", c->uid, type);
	if (c->install_type == 4)
		add(x, "IR-TYPE-4", SISIGN_CHECK_DEPENDS, NULL, "Reg", "install the base package first",
			"would fail with KErrMissingBasePackage unless package 0x%08X is installed (type PP)", c->uid);
	if (stub && c->install_type != 3 && c->install_type != 4 && !x->pol->allow_package_propagate)
		add(x, "IR-SIG-8", SISIGN_CHECK_ERROR, NULL, NULL, "ship the package with its file data",
			"would fail with KErrSecurityError: a stub of type %s and AllowPackagePropagate is false", type);
	if (c->install_type == 3 || c->install_type == 4 || stub) {
		char drive = 0;
		for (size_t i = 0; i < c->nfiles; i++) {
			char d = (char)toupper((unsigned char)c->files[i].target[0]);
			if (!c->files[i].target[0] || c->files[i].target[1] != ':')
				continue;
			if (drive && d != drive) {
				add(x, "IR-PATH-7", SISIGN_CHECK_ERROR, c->files[i].target, NULL,
					"use one drive letter (or '!') for every file of a stub",
					"would fail with KErrSISInvalidTargetFile: a stub's files must all be on one "
					"drive (%c: and %c:)", drive, d);
				break;
			}
			drive = d;
		}
	}
}

/* IR-TYPE-12 over the whole tree: the same UID under two parents, or two SA. */
static void collect(const struct sisign_controller *c, const struct sisign_controller *parent,
	const struct sisign_controller ***v, const struct sisign_controller ***pv, size_t *n, size_t *cap, int *nomem)
{
	if (*nomem)
		return;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		const struct sisign_controller **a = realloc(*v, nc * sizeof *a), **b;
		if (!a) {
			*nomem = 1;
			return;
		}
		*v = a;
		if (!(b = realloc(*pv, nc * sizeof *b))) {
			*nomem = 1;
			return;
		}
		*pv = b;
		*cap = nc;
	}
	(*v)[*n] = c;
	(*pv)[*n] = parent;
	(*n)++;
	for (size_t i = 0; i < c->nembedded; i++)
		collect(&c->embedded[i], c, v, pv, n, cap, nomem);
}

static void rules_tree(struct ctx *x)
{
	const struct sisign_controller **v = NULL, **pv = NULL;
	size_t n = 0, cap = 0;
	int nomem = 0;

	collect(sisign_pkg_controller(x->pkg), NULL, &v, &pv, &n, &cap, &nomem);
	if (nomem)
		x->nomem = 1;
	for (size_t i = 0; !nomem && i < n; i++)
		for (size_t j = 0; j < i; j++) {
			if (v[i]->uid != v[j]->uid)
				continue;
			if (pv[i] != pv[j] || (v[i]->install_type == 0 && v[j]->install_type == 0)) {
				x->c = v[i];
				add(x, "IR-TYPE-12", SISIGN_CHECK_ERROR, NULL, NULL,
					"embed each package once, under one parent",
					"would fail with KErrAlreadyExists: package UID 0x%08X appears twice in the file "
					"(%s)", v[i]->uid, pv[i] != pv[j] ? "under two parents" : "as two SA packages");
				break;
			}
		}
	free(v);
	free(pv);
}

static int check_ctrl(struct ctx *x, const struct sisign_controller *parent, const struct sisign_controller *c,
	const struct sisign_ctrl_report *vr, struct sisign_error *err)
{
	struct exe_seen *ex = NULL;
	size_t nex = 0;
	struct trust t;
	uint32_t req[2];
	int rc;

	x->c = c;
	if (c->depth > MAX_DEPTH_OK) {
		add(x, "IR-DEP-1", SISIGN_CHECK_ERROR, NULL, NULL, "embed packages less deeply",
			"would fail with KErrSISTooDeeplyEmbedded: embedded %d levels below the top (7 allowed)",
			c->depth);
		return SISIGN_OK;
	}
	if ((rc = eval_trust(x, c, vr, &t, err)))
		goto out;
	if (c->depth == 0)
		x->rep->trust = t.level;
	rules_signature(x, c, &t);
	rules_uid(x, c, &t);
	rules_type(x, parent, c);
	/* Executables first: the data cage needs every EXE SID of this controller. */
	if (c->nfiles && !(ex = calloc(c->nfiles, sizeof *ex))) {
		rc = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c->nfiles; i++) {
		const struct sisign_file *f = &c->files[i];
		if (f->operation == OP_NULL || !in_sys_bin(nodrive(f->target)))
			continue;
		ex[nex].f = f;
		ex[nex].no_data = !f->data_offset || !f->data_stored;
		if (!ex[nex].no_data && (rc = sisign_pkg_file_exe(x->pkg, f, &ex[nex].e, err))) {
			/* Data that does not even inflate to a header is no executable. */
			if (rc != SISIGN_ERR_CORRUPT_DATA && rc != SISIGN_ERR_UNSUPPORTED)
				goto out;
			rc = SISIGN_OK;
			ex[nex].e.kind = SISIGN_EXE_NONE;
			ex[nex].e.reason = "its data does not inflate to an E32 header";
		}
		nex++;
	}
	for (size_t i = 0; i < c->nfiles; i++) {
		if (!c->files[i].target[0])
			continue;
		rules_path(x, c, &c->files[i]);
		rules_cage(x, c, &c->files[i], ex, nex);
	}
	for (size_t i = 0; i < nex; i++)
		rules_exe(x, &t, ex, i);
	if (!x->opts->skip_data)
		for (size_t i = 0; i < c->nfiles; i++) {
			const struct sisign_file *f = &c->files[i];
			if (f->hash_status == SISIGN_HASH_MISMATCH || f->hash_status == SISIGN_HASH_CORRUPT ||
			    f->hash_status == SISIGN_HASH_MISSING)
				add(x, "IR-EXE-9", SISIGN_CHECK_ERROR, f->target[0] ? f->target : NULL, NULL,
					"pack the package again from the original files",
					"would fail with KErrCorrupt: the file's data %s", f->hash_status ==
					SISIGN_HASH_MISMATCH ? "does not match its SHA-1" : f->hash_status ==
					SISIGN_HASH_CORRUPT ? "does not inflate to its declared size" : "is missing");
		}
	rules_caps(x, c, &t, req);
	if (c->depth == 0) {
		x->rep->requested_caps[0] = req[0];
		x->rep->requested_caps[1] = req[1];
	}
	for (size_t i = 0; i < c->nembedded; i++)
		if ((rc = check_ctrl(x, c, &c->embedded[i], vr && i < vr->nembedded ? &vr->embedded[i] : NULL, err)))
			goto out;
	x->c = c;
out:
	free(ex);
	crypto_constraints_free(&t.k);
	return rc;
}

/* The identity's files as one DER chain blob (signer first). */
static int load_identity(const struct sisign_check_opts *in, struct sisign_check_opts *o, uint8_t **blob,
	struct sisign_error *err)
{
	STACK_OF(X509) *all = NULL, *more = NULL;
	int rc;

	*o = *in;
	if ((rc = crypto_certs_load_file(in->cert_file, &all, err)))
		return rc;
	for (size_t i = 0; in->chain_files && in->chain_files[i]; i++) {
		if ((rc = crypto_certs_load_file(in->chain_files[i], &more, err)))
			goto out;
		while (sk_X509_num(more) > 0) {
			X509 *c = sk_X509_shift(more);
			if (!sk_X509_push(all, c)) {
				X509_free(c);
				rc = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
				goto out;
			}
		}
		crypto_certs_free(more);
		more = NULL;
	}
	if ((rc = crypto_certs_to_der_blob(all, blob, &o->certs_len, err)))
		goto out;
	o->certs = *blob;
out:
	crypto_certs_free(more);
	crypto_certs_free(all);
	return rc;
}

/* ---- the cache (include/sisign/check.h) ------------------------------------- */

int sisign_check_cache_new(size_t max_chains, struct sisign_check_cache **out, struct sisign_error *err)
{
	struct sisign_check_cache *c;

	if (!out)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_check_cache_new: NULL argument");
	*out = NULL;
	if (!(c = calloc(1, sizeof *c)) || (max_chains && !(c->e = calloc(max_chains, sizeof *c->e)))) {
		free(c);
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	}
	c->max = max_chains;
	if (pthread_mutex_init(&c->lock, NULL)) {
		free(c->e);
		free(c);
		return err_set(err, SISIGN_ERR_NOMEM, -1, "cannot create a mutex");
	}
	*out = c;
	return SISIGN_OK;
}

static void cache_unbind(struct sisign_check_cache *c)
{
	for (size_t i = 0; c->trust && i < c->nroots; i++)
		crypto_trust_free(c->trust[i]);
	free(c->trust);
	for (size_t i = 0; c->roots && i < c->nroots; i++)
		free((char *)c->roots[i].file);
	free(c->roots);
	free(c->policy_file);
	chk_policy_free(&c->pol);
	c->trust = NULL;
	c->roots = NULL;
	c->policy_file = NULL;
	c->nroots = 0;
	c->bound = 0;
}

void sisign_check_cache_free(struct sisign_check_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].der);
		facts_clear(&c->e[i].f);
	}
	free(c->e);
	cache_unbind(c);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Does this call use the policy and roots the cache was bound to? */
static int cache_fits(const struct sisign_check_cache *c, const struct sisign_check_opts *o)
{
	if (!c->bound || !same_str(c->policy_file, o->policy_file) || c->nroots != o->nroots)
		return 0;
	for (size_t i = 0; i < o->nroots; i++) {
		const struct sisign_check_root *a = &c->roots[i], *b = &o->roots[i];
		if (!same_str(a->file, b->file) || !a->caps_set != !b->caps_set ||
		    (a->caps_set && (a->caps[0] != b->caps[0] || a->caps[1] != b->caps[1])))
			return 0;
	}
	return 1;
}

/* Under c->lock, on the first call: read its policy file and roots into
 * the cache, once for every later call that names the same ones.  The
 * errors are those of an uncached call, in the same order. */
static int cache_bind(struct sisign_check_cache *c, const struct sisign_check_opts *o, struct sisign_error *err)
{
	int rc;

	if ((rc = chk_policy_load(o->policy_file, &c->pol, err)))
		return rc;
	if ((o->policy_file && !(c->policy_file = strdup(o->policy_file))) ||
	    (o->nroots && (!(c->roots = calloc(o->nroots, sizeof *c->roots)) ||
	                   !(c->trust = calloc(o->nroots, sizeof *c->trust))))) {
		rc = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < o->nroots; i++, c->nroots++) {
		c->roots[i] = o->roots[i];
		c->roots[i].file = NULL;
		if (o->roots[i].file && !(c->roots[i].file = strdup(o->roots[i].file))) {
			rc = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			goto fail;
		}
		if ((rc = crypto_trust_new(&c->trust[i], err)))
			goto fail;
		if ((rc = crypto_trust_add_file(c->trust[i], o->roots[i].file, err)))
			goto fail;
	}
	c->bound = 1;
	return SISIGN_OK;
fail:
	c->nroots = o->nroots; /* free every slot allocated */
	cache_unbind(c);
	return rc;
}

int sisign_pkg_check_install(struct sisign_pkg *pkg, const struct sisign_check_opts *opts,
	struct sisign_check_report **out, struct sisign_error *err)
{
	static const struct sisign_check_opts defaults;
	struct sisign_verify_report *vrep = NULL;
	struct sisign_verify_opts vo;
	const struct sisign_controller *dmg;
	uint8_t *idblob = NULL;
	struct ctx x;
	int rc;

	if (!pkg || !out)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "no package");
	*out = NULL;
	memset(&x, 0, sizeof x);
	x.pkg = pkg;
	x.opts = opts ? opts : &defaults;
	if ((dmg = sisign_pkg_damaged(pkg)))
		return err_set(err, SISIGN_ERR_MALFORMED, dmg->damage_offset, "%s",
			dmg->damage_message ? dmg->damage_message : "damaged controller");
	if (x.opts->cache) {
		/* The policy and roots of a cache: read once, by its first call. */
		struct sisign_check_cache *c = x.opts->cache;
		pthread_mutex_lock(&c->lock);
		rc = c->bound ? SISIGN_OK : cache_bind(c, x.opts, err);
		if (!rc && cache_fits(c, x.opts)) {
			x.cache = c;
			x.pol = &c->pol;
			x.roots = c->trust;
		}
		pthread_mutex_unlock(&c->lock);
		if (rc)
			return rc;
	}
	if (!x.cache) {
		x.pol = &x.own_pol;
		if ((rc = chk_policy_load(x.opts->policy_file, &x.own_pol, err)))
			return rc;
		if (x.opts->nroots && !(x.roots = calloc(x.opts->nroots, sizeof *x.roots))) {
			rc = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < x.opts->nroots; i++) {
			if ((rc = crypto_trust_new(&x.roots[i], err)))
				goto out;
			if ((rc = crypto_trust_add_file(x.roots[i], x.opts->roots[i].file, err)))
				goto out;
		}
	}
	if (x.opts->certs) {
		STACK_OF(X509) *sk = NULL;
		struct chain_facts own;
		const struct chain_facts *f = NULL;
		/* With a cache, an identity seen before is known to decode. */
		if (x.cache && (rc = facts_get(&x, x.opts->certs, x.opts->certs_len, &own, &f, err)))
			goto out;
		if (!f || !f->readable) {
			if ((rc = decode_chain(x.opts->certs, x.opts->certs_len, &sk, err))) {
				if (f)
					facts_clear(&own);
				goto out;
			}
			crypto_certs_free(sk);
		}
		if (f)
			facts_clear(&own);
	} else if (x.opts->cert_file) {
		if ((rc = load_identity(x.opts, &x.own_opts, &idblob, err)))
			goto out;
		x.opts = &x.own_opts;
	}
	if (!x.opts->skip_data) {
		rc = sisign_pkg_check_data(pkg, err);
		if (rc == SISIGN_ERR_SYSTEM || rc == SISIGN_ERR_NOMEM || rc == SISIGN_ERR_TOO_LARGE)
			goto out;
		rc = SISIGN_OK; /* mismatches become IR-EXE-9 findings */
	}
	/* The signatures of the package's own chains (IR-SIG-3); data is checked above.
	 * Only a bad one makes a finding, and its text comes from the full
	 * verification; when every signature verifies (a package just signed)
	 * the chains need not be validated or described here. */
	{
		struct sisign_error ve;
		int depth;
		sisign_error_clear(&ve);
		if (verify_pkg_chain_signatures(pkg, &depth, &ve) != SISIGN_OK) {
			memset(&vo, 0, sizeof vo);
			vo.at = x.opts->at;
			vo.skip_data = 1;
			if ((rc = sisign_pkg_verify(pkg, &vo, &vrep, err)))
				goto out;
		}
	}
	if (!(x.rep = calloc(1, sizeof *x.rep))) {
		rc = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	if ((rc = check_ctrl(&x, NULL, sisign_pkg_controller(pkg), vrep ? &vrep->top : NULL, err)))
		goto out;
	x.c = NULL;
	rules_tree(&x);
	if (x.nomem)
		rc = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
out:
	sisign_verify_report_free(vrep);
	if (!x.cache) {
		for (size_t i = 0; x.roots && i < x.opts->nroots; i++)
			crypto_trust_free(x.roots[i]);
		free(x.roots);
	}
	chk_policy_free(&x.own_pol);
	free(idblob);
	if (rc) {
		sisign_check_report_free(x.rep);
		return rc;
	}
	*out = x.rep;
	return SISIGN_OK;
}

void sisign_check_report_free(struct sisign_check_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->nfindings; i++) {
		free(rep->findings[i].file);
		free(rep->findings[i].message);
	}
	free(rep->findings);
	free(rep);
}
