/* SPDX-License-Identifier: Apache-2.0 */
/* Human names for SIS values: signature algorithms, platforms, install
 * types, languages, ... */
#include "fe.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *fe_sig_algorithm_name(const char *oid, int *supported, char *buf, size_t size)
{
	static const struct {
		const char *oid, *name;
	} unsupported[] = {
		{ "1.2.840.113549.1.1.2", "md2WithRSA" },
		{ "1.2.840.113549.1.1.3", "md4WithRSA" },
		{ "1.2.840.113549.1.1.4", "md5WithRSA" },
		{ "1.2.840.113549.1.1.11", "sha256WithRSA" },
		{ "1.2.840.113549.1.1.12", "sha384WithRSA" },
		{ "1.2.840.113549.1.1.13", "sha512WithRSA" },
		{ "1.2.840.10045.4.1", "ecdsa-with-SHA1" },
		{ "1.2.840.10045.4.3.2", "ecdsa-with-SHA256" },
		{ "2.16.840.1.101.3.4.3.2", "dsa-with-SHA256" },
	};
	size_t i;
	int ok = 0;

	/* The only two OIDs the device accepts (sis-format.md §7.2). */
	if (oid && strcmp(oid, "1.2.840.113549.1.1.5") == 0) {
		ok = 1;
		snprintf(buf, size, "RSA-SHA1");
	} else if (oid && strcmp(oid, "1.2.840.10040.4.3") == 0) {
		ok = 1;
		snprintf(buf, size, "DSA-SHA1");
	} else {
		const char *name = NULL;
		for (i = 0; oid && i < sizeof unsupported / sizeof unsupported[0]; i++)
			if (strcmp(oid, unsupported[i].oid) == 0)
				name = unsupported[i].name;
		snprintf(buf, size, "unsupported (%s)", name ? name : oid && *oid ? oid : "no OID");
	}
	if (supported)
		*supported = ok;
	return buf;
}

const char *fe_platform_name(uint32_t uid)
{
	switch (uid) {
	case 0x101F7961: return "S60 3rd Edition";
	case 0x102032BE: return "S60 3rd Edition FP1";
	case 0x102752AE: return "S60 3rd Edition FP2";
	case 0x1028315F: return "S60 5th Edition";
	case 0x20022E6D: return "Symbian^3";
	default: return NULL;
	}
}

static const char *const install_codes[] = { "SA", "SP", "PU", "PA", "PP" };
static const char *const install_names[] = { "Installation", "Augmentation", "PartialUpgrade",
	"PreInstalledApp", "PreInstalledPatch" };

const char *fe_install_type_code(unsigned t)
{
	return t < 5 ? install_codes[t] : "?";
}

const char *fe_install_type_name(unsigned t)
{
	return t < 5 ? install_names[t] : "unknown";
}

int fe_install_type_parse(const char *s)
{
	int i;

	for (i = 0; s && i < 5; i++)
		if (strcasecmp(s, install_codes[i]) == 0)
			return i;
	return -1;
}

/* makesis/.pkg language codes = TLanguage values. */
static const struct {
	const char *code;
	uint32_t lang;
} lang_codes[] = {
	{ "EN", 1 }, { "FR", 2 }, { "GE", 3 }, { "SP", 4 }, { "IT", 5 }, { "SW", 6 }, { "DA", 7 },
	{ "NO", 8 }, { "FI", 9 }, { "AM", 10 }, { "SF", 11 }, { "SG", 12 }, { "PO", 13 }, { "TU", 14 },
	{ "IC", 15 }, { "RU", 16 }, { "HU", 17 }, { "DU", 18 }, { "BL", 19 }, { "AU", 20 }, { "BF", 21 },
	{ "AS", 22 }, { "NZ", 23 }, { "IF", 24 }, { "CS", 25 }, { "SK", 26 }, { "PL", 27 }, { "SL", 28 },
	{ "TC", 29 }, { "HK", 30 }, { "ZH", 31 }, { "JA", 32 }, { "TH", 33 }, { "AR", 37 }, { "EL", 54 },
	{ "HE", 57 }, { "HI", 58 }, { "KO", 65 }, { "UK", 93 }, { "VI", 96 },
};

const char *fe_language_code(uint32_t lang)
{
	size_t i;

	for (i = 0; i < sizeof lang_codes / sizeof lang_codes[0]; i++)
		if (lang_codes[i].lang == lang)
			return lang_codes[i].code;
	return NULL;
}

long fe_language_parse(const char *s)
{
	size_t i;
	uint32_t l;

	if (!s || !*s)
		return -1;
	if (s[0] >= '0' && s[0] <= '9') {
		char *end;
		unsigned long v = strtoul(s, &end, 10);
		if (*end || v == 0 || v > 0xffff)
			return -1;
		return (long)v;
	}
	for (i = 0; i < sizeof lang_codes / sizeof lang_codes[0]; i++)
		if (strcasecmp(s, lang_codes[i].code) == 0)
			return (long)lang_codes[i].lang;
	/* English names as the library spells them. */
	for (l = 1; l < 1024; l++) {
		const char *name = sisign_language_name(l);
		if (name && strcasecmp(name, s) == 0)
			return (long)l;
	}
	return -1;
}

const char *fe_compression_name(uint32_t alg)
{
	switch (alg) {
	case 0: return "stored";
	case 1: return "zlib";
	default: return "unknown";
	}
}

const char *fe_file_operation_name(uint32_t op)
{
	switch (op) {
	case 1: return "install";
	case 2: return "run";
	case 4: return "text";
	case 8: return "null";
	default: return "unknown";
	}
}

const char *fe_hash_status_name(int status)
{
	switch (status) {
	case SISIGN_HASH_UNCHECKED: return "unchecked";
	case SISIGN_HASH_OK: return "ok";
	case SISIGN_HASH_MISMATCH: return "mismatch";
	case SISIGN_HASH_NO_DATA: return "no-data";
	case SISIGN_HASH_MISSING: return "missing";
	case SISIGN_HASH_CORRUPT: return "corrupt";
	default: return "unknown";
	}
}
