/* SPDX-License-Identifier: Apache-2.0 */
/* A small SIS package built in memory for tests that need shapes no tool
 * makes: many file descriptions naming one data entry, many data units,
 * packages with or without the CRC fields.  Layout per sis-format.md
 * §2-§6, written with the library's own field writers. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "testutil.h"
#include "format/format_private.h"
#include "util/util_private.h"

static void put_string(struct wbuf *w, int typed, const char *s)
{
	uint8_t *u16 = NULL;
	size_t n = 0;
	struct wbuf v;
	if (utf8_to_utf16le(s, &u16, &n) != 0) {
		w->failed = 1;
		return;
	}
	wbuf_init(&v);
	wbuf_put(&v, u16, n);
	sisf_put_wrapped(w, typed, SISF_STRING, &v);
	free(u16);
}

/* A typed SISArray of `type` whose n elements are in `elems` (untyped, as
 * sisf_put_wrapped(..., 0, ...) wrote them). */
static void put_array(struct wbuf *w, uint32_t type, struct wbuf *elems)
{
	struct wbuf a;
	wbuf_init(&a);
	wbuf_put_u32le(&a, type);
	if (elems) {
		wbuf_put(&a, elems->data, elems->len);
		if (wbuf_failed(elems))
			a.failed = 1;
		wbuf_free(elems);
	}
	sisf_put_wrapped(w, 1, SISF_ARRAY, &a);
}

static void put_u32_field(struct wbuf *w, uint32_t type, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	sisf_put_field(w, type, b, 4);
}

static void put_controller(struct wbuf *w, const struct tu_sis_spec *s, const uint8_t md[20], uint64_t stored)
{
	struct wbuf c, info, e, el, t, files, blk, x;
	wbuf_init(&c);
	wbuf_init(&info);
	/* SISInfo (§5.4) */
	put_u32_field(&info, SISF_UID, s->uid);
	put_string(&info, 1, "Acme");
	wbuf_init(&e);
	put_string(&e, 0, "tu_sisbuild");
	put_array(&info, SISF_STRING, &e);
	wbuf_init(&e);
	put_string(&e, 0, "Acme");
	put_array(&info, SISF_STRING, &e);
	wbuf_init(&t);
	wbuf_put_u32le(&t, 1);
	wbuf_put_u32le(&t, 0);
	wbuf_put_u32le(&t, 0);
	sisf_put_wrapped(&info, 1, SISF_VERSION, &t);
	wbuf_init(&t);
	wbuf_init(&x);
	wbuf_put_u16le(&x, 2008);
	wbuf_put_u8(&x, 0);
	wbuf_put_u8(&x, 1);
	sisf_put_wrapped(&t, 1, SISF_DATE, &x);
	wbuf_init(&x);
	wbuf_put_zeros(&x, 3);
	sisf_put_wrapped(&t, 1, SISF_TIME, &x);
	sisf_put_wrapped(&info, 1, SISF_DATETIME, &t);
	wbuf_put_u8(&info, 0); /* install type SA */
	wbuf_put_u8(&info, 0); /* flags */
	sisf_put_wrapped(&c, 1, SISF_INFO, &info);
	/* options, languages (English), prerequisites, properties */
	wbuf_init(&t);
	put_array(&t, SISF_SUPPORTED_OPTION, NULL);
	sisf_put_wrapped(&c, 1, SISF_SUPPORTED_OPTIONS, &t);
	wbuf_init(&t);
	wbuf_init(&e);
	wbuf_init(&el);
	wbuf_put_u32le(&el, 1);
	sisf_put_wrapped(&e, 0, SISF_LANGUAGE, &el);
	put_array(&t, SISF_LANGUAGE, &e);
	sisf_put_wrapped(&c, 1, SISF_SUPPORTED_LANGUAGES, &t);
	wbuf_init(&t);
	put_array(&t, SISF_DEPENDENCY, NULL);
	put_array(&t, SISF_DEPENDENCY, NULL);
	sisf_put_wrapped(&c, 1, SISF_PREREQUISITES, &t);
	wbuf_init(&t);
	put_array(&t, SISF_PROPERTY, NULL);
	sisf_put_wrapped(&c, 1, SISF_PROPERTIES, &t);
	/* install block: ndesc descriptions of file 0 (§5.10) */
	wbuf_init(&files);
	for (size_t i = 0; i < s->ndesc; i++) {
		char target[64];
		struct wbuf d, h;
		snprintf(target, sizeof target, "!:\\sys\\bin\\f%zu.txt", i);
		wbuf_init(&d);
		put_string(&d, 1, target);
		put_string(&d, 1, "");
		wbuf_init(&h);
		wbuf_put_u32le(&h, 1);
		sisf_put_field(&h, SISF_BLOB, md, 20);
		sisf_put_wrapped(&d, 1, SISF_HASH, &h);
		wbuf_put_u32le(&d, 1); /* install */
		wbuf_put_u32le(&d, 0);
		wbuf_put_u64le(&d, stored);
		wbuf_put_u64le(&d, s->size);
		wbuf_put_u32le(&d, 0);
		sisf_put_wrapped(&files, 0, SISF_FILE_DESCRIPTION, &d);
	}
	wbuf_init(&blk);
	put_array(&blk, SISF_FILE_DESCRIPTION, &files);
	put_array(&blk, SISF_CONTROLLER, NULL);
	put_array(&blk, SISF_IF, NULL);
	sisf_put_wrapped(&c, 1, SISF_INSTALL_BLOCK, &blk);
	put_u32_field(&c, SISF_DATA_INDEX, 0);
	sisf_put_wrapped(w, 1, SISF_CONTROLLER, &c);
}

uint8_t *tu_build_sis(const struct tu_sis_spec *s, size_t *len)
{
	uint8_t *data = calloc(1, s->size ? (size_t)s->size : 1);
	uint8_t md[20];
	struct wbuf ctl, comp, fd, units, sd, contents, pkg;
	size_t nunits = s->nunits ? s->nunits : 1;
	uint16_t ccrc, dcrc;
	uint8_t *out = NULL;

	*len = 0;
	if (!data || EVP_Digest(data, (size_t)s->size, md, NULL, EVP_sha1(), NULL) != 1) {
		free(data);
		return NULL;
	}
	/* the one data entry: s->size zero bytes, deflated */
	wbuf_init(&fd);
	if (sis_build_compressed(data, (size_t)s->size, 0, &fd, NULL) != 0) {
		free(data);
		wbuf_free(&fd);
		return NULL;
	}
	free(data);
	wbuf_init(&ctl);
	put_controller(&ctl, s, md, le32(fd.data + 4) - 12); /* payload: SISCompressed Length - 12 */
	wbuf_init(&comp);
	if (wbuf_failed(&ctl) || sis_build_compressed(ctl.data, ctl.len, 0, &comp, NULL) != 0)
		comp.failed = 1;
	wbuf_free(&ctl);
	/* SISData: unit 0 holds the entry, the others are empty (§5.12) */
	wbuf_init(&units);
	for (size_t i = 0; i < nunits; i++) {
		struct wbuf u, f;
		wbuf_init(&u);
		wbuf_init(&f);
		if (i == 0) {
			struct wbuf one;
			wbuf_init(&one);
			wbuf_put(&one, fd.data, fd.len);
			sisf_put_wrapped(&f, 0, SISF_FILE_DATA, &one);
			put_array(&u, SISF_FILE_DATA, &f);
		} else {
			wbuf_free(&f);
			put_array(&u, SISF_FILE_DATA, NULL);
		}
		sisf_put_wrapped(&units, 0, SISF_DATA_UNIT, &u);
	}
	wbuf_free(&fd);
	wbuf_init(&sd);
	{
		struct wbuf a;
		wbuf_init(&a);
		put_array(&a, SISF_DATA_UNIT, &units);
		sisf_put_wrapped(&sd, 1, SISF_DATA, &a);
	}
	ccrc = crc16_update(0, comp.data, comp.len);
	dcrc = crc16_update(0, sd.data, sd.len);
	wbuf_init(&contents);
	if (s->with_crcs) {
		sis_put_crc_field(&contents, SISF_CONTROLLER_CHECKSUM, ccrc);
		sis_put_crc_field(&contents, SISF_DATA_CHECKSUM, dcrc);
	}
	wbuf_put(&contents, comp.data, comp.len);
	wbuf_put(&contents, sd.data, sd.len);
	if (wbuf_failed(&comp) || wbuf_failed(&sd))
		contents.failed = 1;
	wbuf_free(&comp);
	wbuf_free(&sd);
	wbuf_init(&pkg);
	sis_put_uid_header(&pkg, 0, s->uid);
	sisf_put_wrapped(&pkg, 1, SISF_CONTENTS, &contents);
	if (!wbuf_failed(&pkg))
		out = wbuf_steal(&pkg, len);
	wbuf_free(&pkg);
	return out;
}
