/* SPDX-License-Identifier: Apache-2.0 */
/* SIS field headers, arrays and the shared field readers (sis-format.md §3). */
#include "format/format_private.h"

#include <string.h>

static const char *const type_names[] = {
	[0] = "invalid", [SISF_STRING] = "SISString", [SISF_ARRAY] = "SISArray",
	[SISF_COMPRESSED] = "SISCompressed", [SISF_VERSION] = "SISVersion",
	[SISF_VERSION_RANGE] = "SISVersionRange", [SISF_DATE] = "SISDate", [SISF_TIME] = "SISTime",
	[SISF_DATETIME] = "SISDateTime", [SISF_UID] = "SISUid", [10] = "Unused1",
	[SISF_LANGUAGE] = "SISLanguage", [SISF_CONTENTS] = "SISContents",
	[SISF_CONTROLLER] = "SISController", [SISF_INFO] = "SISInfo",
	[SISF_SUPPORTED_LANGUAGES] = "SISSupportedLanguages",
	[SISF_SUPPORTED_OPTIONS] = "SISSupportedOptions", [SISF_PREREQUISITES] = "SISPrerequisites",
	[SISF_DEPENDENCY] = "SISDependency", [SISF_PROPERTIES] = "SISProperties",
	[SISF_PROPERTY] = "SISProperty", [21] = "SISSignatures",
	[SISF_CERTIFICATE_CHAIN] = "SISCertificateChain", [SISF_LOGO] = "SISLogo",
	[SISF_FILE_DESCRIPTION] = "SISFileDescription", [SISF_HASH] = "SISHash", [SISF_IF] = "SISIf",
	[SISF_ELSE_IF] = "SISElseIf", [SISF_INSTALL_BLOCK] = "SISInstallBlock",
	[SISF_EXPRESSION] = "SISExpression", [SISF_DATA] = "SISData", [SISF_DATA_UNIT] = "SISDataUnit",
	[SISF_FILE_DATA] = "SISFileData", [SISF_SUPPORTED_OPTION] = "SISSupportedOption",
	[SISF_CONTROLLER_CHECKSUM] = "SISControllerChecksum",
	[SISF_DATA_CHECKSUM] = "SISDataChecksum", [SISF_SIGNATURE] = "SISSignature",
	[SISF_BLOB] = "SISBlob", [SISF_SIGNATURE_ALGORITHM] = "SISSignatureAlgorithm",
	[SISF_SIGNATURE_CERT_CHAIN] = "SISSignatureCertificateChain",
	[SISF_DATA_INDEX] = "SISDataIndex", [SISF_CAPABILITIES] = "SISCapabilities",
};

const char *sisf_type_name(uint32_t type)
{
	if (type < sizeof type_names / sizeof type_names[0] && type_names[type])
		return type_names[type];
	return "unknown field";
}

int sisf_get_hdr(struct sbuf *b, int typed, struct sisf_hdr *h, struct sisign_error *err)
{
	size_t start = b->off;
	uint32_t type = 0, l0, l1;

	if (typed && sbuf_get_u32le(b, &type))
		goto trunc;
	if (sbuf_get_u32le(b, &l0))
		goto trunc;
	if (l0 & 0x80000000u) {
		if (sbuf_get_u32le(b, &l1))
			goto trunc;
		/* 63-bit form: the low word's bit 31 is the flag, the high word
		 * carries bits 31..62. */
		if (l1 & 0x80000000u) {
			b->off = start;
			return err_set(err, SISIGN_ERR_TOO_LARGE, (long long)sbuf_pos(b),
				"%s length of 2^62 bytes or more is beyond any limit", sisf_type_name(type));
		}
		h->len = (uint64_t)(l0 & 0x7FFFFFFFu) | ((uint64_t)l1 << 31);
	} else {
		h->len = l0;
	}
	h->type = type;
	h->hdrlen = (uint32_t)(b->off - start);
	return SISIGN_OK;
trunc:
	b->off = start;
	return err_set(err, SISIGN_ERR_TRUNCATED, (long long)sbuf_pos(b), "input ends inside a field header");
}

size_t sisf_put_hdr(uint8_t out[12], int typed, uint32_t type, uint64_t len)
{
	size_t n = 0;
	if (typed) {
		put_le32(out, type);
		n = 4;
	}
	if (len < 0x80000000u) {
		put_le32(out + n, (uint32_t)len);
		return n + 4;
	}
	put_le32(out + n, (uint32_t)(len & 0x7FFFFFFFu) | 0x80000000u);
	put_le32(out + n + 4, (uint32_t)(len >> 31));
	return n + 8;
}

void sisf_put_field(struct wbuf *w, uint32_t type, const void *p, size_t n)
{
	uint8_t h[12];
	wbuf_put(w, h, sisf_put_hdr(h, 1, type, n));
	wbuf_put(w, p, n);
	wbuf_put_zeros(w, (size_t)sisf_pad(n));
}

void sisf_put_wrapped(struct wbuf *w, int typed, uint32_t type, struct wbuf *inner)
{
	uint8_t h[12];
	if (inner->failed)
		w->failed = 1;
	wbuf_put(w, h, sisf_put_hdr(h, typed, type, inner->len));
	wbuf_put(w, inner->data, inner->len);
	wbuf_put_zeros(w, (size_t)sisf_pad(inner->len));
	wbuf_free(inner);
}

/* Value view of `len` bytes, then skip padding.  Padding that would run past
 * the parent is tolerated (the device reads padding without checking it). */
static int take_value(struct sbuf *b, uint64_t len, uint32_t type, size_t hdr_start, struct sbuf *val,
	struct sisign_error *err)
{
	uint64_t pad;
	if (len > sbuf_avail(b)) {
		uint64_t at = b->base + hdr_start;
		size_t avail = sbuf_avail(b);
		b->off = hdr_start;
		return err_set(err, SISIGN_ERR_TRUNCATED, (long long)at,
			"%s declares %llu bytes but only %zu remain in its container",
			type ? sisf_type_name(type) : "array element", (unsigned long long)len, avail);
	}
	if (sbuf_sub(b, (size_t)len, val))
		return SISIGN_ERR_INTERNAL;
	pad = sisf_pad(len);
	if (pad > sbuf_avail(b))
		pad = sbuf_avail(b);
	if (sbuf_skip(b, (size_t)pad)) { /* cannot fail: pad was clamped */ }
	return SISIGN_OK;
}

int sisf_get_field(struct sbuf *b, uint32_t want, struct sbuf *val, struct sisign_error *err)
{
	struct sisf_hdr h;
	size_t start = b->off;
	int r;

	if ((r = sisf_get_hdr(b, 1, &h, err)) != SISIGN_OK)
		return r;
	if (h.type != want) {
		b->off = start;
		return err_set(err, SISIGN_ERR_MALFORMED, (long long)(b->base + start),
			"expected %s (type %u), found %s (type %u)", sisf_type_name(want), want,
			sisf_type_name(h.type), h.type);
	}
	return take_value(b, h.len, h.type, start, val, err);
}

int sisf_get_array(struct sbuf *b, uint32_t elem_type, struct sbuf *elems, struct sisign_error *err)
{
	struct sbuf val;
	uint32_t t;
	int r;
	uint64_t at = sbuf_pos(b);
	size_t start = b->off;

	if ((r = sisf_get_field(b, SISF_ARRAY, &val, err)) != SISIGN_OK)
		return r;
	if (sbuf_get_u32le(&val, &t)) {
		b->off = start;
		return err_set(err, SISIGN_ERR_MALFORMED, (long long)at, "SISArray too short for its element type");
	}
	if (t != elem_type) {
		b->off = start;
		return err_set(err, SISIGN_ERR_MALFORMED, (long long)at,
			"SISArray of %s (type %u) where %s (type %u) was expected", sisf_type_name(t), t,
			sisf_type_name(elem_type), elem_type);
	}
	*elems = val;
	sbuf_init(elems, val.data + val.off, val.len - val.off, val.base + val.off);
	return SISIGN_OK;
}

int sisf_next_elem(struct sbuf *elems, struct sbuf *elem, struct sisign_error *err)
{
	struct sisf_hdr h;
	size_t start = elems->off;
	int r;
	if (sbuf_avail(elems) == 0)
		return 0;
	if ((r = sisf_get_hdr(elems, 0, &h, err)) != SISIGN_OK)
		return r;
	if ((r = take_value(elems, h.len, 0, start, elem, err)) != SISIGN_OK)
		return r;
	return 1;
}

uint32_t sis_uid_checksum(uint32_t uid1, uint32_t uid2, uint32_t uid3)
{
	uint8_t b[12], even[6], odd[6];
	put_le32(b, uid1);
	put_le32(b + 4, uid2);
	put_le32(b + 8, uid3);
	for (int i = 0; i < 6; i++) {
		even[i] = b[2 * i];
		odd[i] = b[2 * i + 1];
	}
	return ((uint32_t)crc16_update(0, odd, 6) << 16) | crc16_update(0, even, 6);
}

void sis_put_uid_header(struct wbuf *w, uint32_t uid2, uint32_t uid3)
{
	wbuf_put_u32le(w, SIS_UID1);
	wbuf_put_u32le(w, uid2);
	wbuf_put_u32le(w, uid3);
	wbuf_put_u32le(w, sis_uid_checksum(SIS_UID1, uid2, uid3));
}

void sis_put_crc_field(struct wbuf *w, uint32_t type, uint16_t crc)
{
	wbuf_put_u32le(w, type);
	wbuf_put_u32le(w, 2);
	wbuf_put_u16le(w, crc);
	wbuf_put_zeros(w, 2);
}
