/* SPDX-License-Identifier: Apache-2.0 */
/* Verification agrees with every signature result in the corpus manifest:
 * per top-level chain (in file order) and for embedded controllers, "ok"
 * means the signature verifies over the §7.1 region; an OID other than the
 * two the device accepts is reported unsupported and makes the package
 * invalid.  Chains are also path-validated against the corpus roots at
 * 2008-06-01, and the well-known cases from the corpus README hold. */
#include <stdlib.h>
#include <string.h>

#include <sisign/package.h>
#include <sisign/verify.h>

#include "testutil.h"

static int roots_count;
static char roots[64][1024];

static void add_root(const char *corpus, const char *rel)
{
	snprintf(roots[roots_count++], sizeof roots[0], "%s/certs/%s", corpus, rel);
}

/* Compare one "ALG:ok,ALG:ok" list with a controller report. */
static void compare_sigs(const char *file, const char *want, const struct sisign_ctrl_report *cr)
{
	char buf[1024], *save = NULL, *tok;
	size_t i = 0;
	if (strcmp(want, "none") == 0 || want[0] == 0) {
		CHECK_MSG(cr->nchains == 0, "%s: %zu chains, manifest none", file, cr->nchains);
		return;
	}
	snprintf(buf, sizeof buf, "%s", want);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), i++) {
		char *colon = strrchr(tok, ':');
		int ok = colon && strcmp(colon + 1, "ok") == 0;
		int known = strncmp(tok, "RSA:", 4) == 0 || strncmp(tok, "DSA:", 4) == 0;
		if (i >= cr->nchains) {
			CHECK_MSG(0, "%s: manifest lists more chains than found", file);
			return;
		}
		if (known)
			CHECK_MSG((cr->chains[i].signature == SISIGN_OK) == ok, "%s: chain %zu signature %d, manifest %s", file,
				i, cr->chains[i].signature, tok);
		else /* verifies mathematically, but the device refuses the OID */
			CHECK_MSG(cr->chains[i].signature == SISIGN_ERR_SIG_UNSUPPORTED, "%s: chain %zu: %d for %s", file, i,
				cr->chains[i].signature, tok);
	}
	CHECK_MSG(i == cr->nchains, "%s: %zu chains, manifest %zu", file, cr->nchains, i);
}

int main(void)
{
	const char *corpus = tu_corpus();
	char path[4096], line[8192];
	const char *trust[65];
	struct sisign_verify_opts vo;
	FILE *mf;
	int nfiles = 0, ntrusted = 0, ninvalid = 0;

	if (!corpus) {
		tu_skip("corpus not found (set SISIGN_CORPUS); verification not checked against the manifest");
		return tu_finish();
	}
	add_root(corpus, "test/tsisfile/data/signedsis/SymbianTestRootCARSA/ca.pem");
	add_root(corpus, "test/tsisfile/data/signedsis/SymbianTestRootCADSA/ca.pem");
	add_root(corpus, "test/tsisfile/data/signedsis/Root5CA/ca.pem");
	add_root(corpus, "test/tsisfile/data/signedsis/SymbianTestRootCADiffSerial/cacert.pem");
	add_root(corpus, "test/tsisfile/data/signedsis/SymbianTestRootExpiredCARSA/cacert.pem");
	add_root(corpus, "test/tsisfile/data/signedsis/SymbianTestRootTCBCARSA/cacert.pem");
	add_root(corpus, "test/tsisfile/data/signedsis/symbiantestrootcanotinstore/cacert.pem");
	add_root(corpus, "pctools/test/tdumpcertstore/certificates/root5ca.der");
	add_root(corpus, "pctools/test/tdumpcertstore/certificates/symbiantestrsaca.der");
	for (int i = 0; i < roots_count; i++)
		trust[i] = roots[i];
	trust[roots_count] = NULL;
	memset(&vo, 0, sizeof vo);
	vo.trust = trust;
	vo.at = 1212278400; /* 2008-06-01T00:00:00Z */

	snprintf(path, sizeof path, "%s/MANIFEST.tsv", corpus);
	mf = fopen(path, "r");
	CHECK(mf != NULL);
	if (!mf || !fgets(line, sizeof line, mf))
		return tu_finish();
	while (fgets(line, sizeof line, mf)) {
		char *cols[8] = { 0 }, *save = NULL, *tok, full[4096], sigs[1024], *emb;
		int ncol = 0;
		struct sisign_pkg *pkg = NULL;
		struct sisign_verify_report *rep = NULL;
		struct sisign_error err;

		line[strcspn(line, "\r\n")] = 0;
		for (tok = strtok_r(line, "\t", &save); tok && ncol < 8; tok = strtok_r(NULL, "\t", &save))
			cols[ncol++] = tok;
		if (ncol < 7 || strcmp(cols[1], "sisx") != 0)
			continue;
		snprintf(full, sizeof full, "%s/sis/%s", corpus, cols[0]);
		if (sisign_pkg_open(full, NULL, &pkg, &err) != SISIGN_OK)
			continue; /* parse results are test_corpus's business */
		nfiles++;
		CHECK_EQ_INT(sisign_pkg_verify(pkg, &vo, &rep, &err), SISIGN_OK);
		if (!rep) {
			sisign_pkg_free(pkg);
			continue;
		}
		snprintf(sigs, sizeof sigs, "%s", cols[4]);
		emb = strstr(sigs, " +embedded:");
		if (emb) {
			char *e0 = strstr(emb, "emb0=");
			*emb = 0;
			CHECK_MSG(rep->top.nembedded >= 1, "%s: no embedded controller", cols[0]);
			if (e0 && rep->top.nembedded >= 1)
				compare_sigs(cols[0], e0 + 5, &rep->top.embedded[0]);
		}
		compare_sigs(cols[0], sigs, &rep->top);
		if (rep->verdict == SISIGN_VERDICT_TRUSTED)
			ntrusted++;
		if (rep->verdict == SISIGN_VERDICT_INVALID)
			ninvalid++;
		if (strstr(cols[0], "unsupported_signature_fake_rsa_sha1_md"))
			CHECK_MSG(rep->verdict == SISIGN_VERDICT_INVALID, "%s: verdict %s", cols[0],
				sisign_verdict_name(rep->verdict));
		if (strstr(cols[0], "eshell_hybrid.sis"))
			CHECK_MSG(rep->verdict == SISIGN_VERDICT_INVALID && rep->data == SISIGN_ERR_HASH_MISMATCH,
				"%s: hash mismatch not reported", cols[0]);
		if (strstr(cols[0], "trevocation/data/winscw/test_03.sis")) {
			CHECK_EQ_INT(rep->top.nchains, 4);
			CHECK_MSG(rep->verdict == SISIGN_VERDICT_TRUSTED, "test_03: %s", sisign_verdict_name(rep->verdict));
		}
		if (strstr(cols[0], "testsilentinstall.SIS"))
			CHECK_MSG(rep->top.nchains == 1 && rep->top.chains[0].signature == SISIGN_OK,
				"padded DSA signature did not verify");
		sisign_verify_report_free(rep);
		sisign_pkg_free(pkg);
	}
	fclose(mf);
	printf("verified %d packages: %d trusted at 2008-06-01 against the corpus roots, %d invalid\n", nfiles, ntrusted,
		ninvalid);
	CHECK(nfiles >= 110);
	CHECK(ntrusted >= 20);
	return tu_finish();
}
