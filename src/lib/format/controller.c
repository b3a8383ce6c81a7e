/* SPDX-License-Identifier: Apache-2.0 */
/* SISController parsing into the read-only model (sis-format.md §5, §7.1). */
#include "format/format_private.h"

#include <stdlib.h>
#include <string.h>

struct pctx {
	struct sisign_pkg *pkg;
	struct sisign_error *err;
	int max_depth;
	int too_many;   /* the last failed push hit SIS_MAX_ELEMENTS, not memory */
};

#define TRY(expr)                                                                                  \
	do {                                                                                           \
		int r_ = (expr);                                                                           \
		if (r_ != SISIGN_OK)                                                                       \
			return r_;                                                                             \
	} while (0)

static int nomem(struct pctx *p)
{
	if (p->too_many)
		return err_set(p->err, SISIGN_ERR_TOO_LARGE, -1, "more than %u entries in one list", SIS_MAX_ELEMENTS);
	return err_set(p->err, SISIGN_ERR_NOMEM, -1, "out of memory");
}

/* Grow an array of `size`-byte elements by one; returns the new slot or
 * NULL (out of memory, or p->too_many past SIS_MAX_ELEMENTS: a zlib bomb
 * of a controller could otherwise ask for millions of tiny entries). */
static void *push(struct pctx *p, void **arr, size_t *n, size_t *cap, size_t size)
{
	p->too_many = *n >= SIS_MAX_ELEMENTS;
	if (p->too_many)
		return NULL;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		void *grown = realloc(*arr, ncap * size);
		if (!grown)
			return NULL;
		*arr = grown;
		*cap = ncap;
	}
	void *slot = (uint8_t *)*arr + (*n)++ * size;
	memset(slot, 0, size);
	return slot;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_deps(struct sisign_dependency *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free_strv(d[i].names, d[i].nnames);
	free(d);
}

static void free_file(struct sisign_file *f)
{
	free(f->target);
	free(f->mime);
	free((void *)f->caps);
}

static int get_string(struct pctx *p, struct sbuf *b, char **out)
{
	struct sbuf v;
	uint64_t at = sbuf_pos(b);
	TRY(sisf_get_field(b, SISF_STRING, &v, p->err));
	if (v.len & 1)
		return err_set(p->err, SISIGN_ERR_MALFORMED, (long long)at, "SISString has an odd length (%zu)", v.len);
	*out = utf16le_to_utf8(v.data, v.len);
	return *out ? SISIGN_OK : nomem(p);
}

/* Array<SISString> → NULL-free char** */
static int get_string_array(struct pctx *p, struct sbuf *b, char ***out, size_t *n)
{
	struct sbuf elems, e;
	size_t cap = 0;
	int r;
	*out = NULL;
	*n = 0;
	TRY(sisf_get_array(b, SISF_STRING, &elems, p->err));
	while ((r = sisf_next_elem(&elems, &e, p->err)) == 1) {
		char **slot;
		if (e.len & 1)
			return err_set(p->err, SISIGN_ERR_MALFORMED, (long long)e.base, "SISString has an odd length");
		slot = push(p, (void **)out, n, &cap, sizeof(char *));
		if (!slot)
			return nomem(p);
		*slot = utf16le_to_utf8(e.data, e.len);
		if (!*slot)
			return nomem(p);
	}
	return r;
}

static int get_version_value(struct pctx *p, struct sbuf *v, struct sisign_version *ver)
{
	uint32_t a, b2, c;
	if (sbuf_get_u32le(v, &a) || sbuf_get_u32le(v, &b2) || sbuf_get_u32le(v, &c))
		return err_set(p->err, SISIGN_ERR_MALFORMED, (long long)v->base, "SISVersion shorter than 12 bytes");
	ver->major = (int32_t)a;
	ver->minor = (int32_t)b2;
	ver->build = (int32_t)c;
	return SISIGN_OK;
}

static int get_version(struct pctx *p, struct sbuf *b, struct sisign_version *ver)
{
	struct sbuf v;
	TRY(sisf_get_field(b, SISF_VERSION, &v, p->err));
	return get_version_value(p, &v, ver);
}

static int get_u32_field(struct pctx *p, struct sbuf *b, uint32_t type, uint32_t *val)
{
	struct sbuf v;
	TRY(sisf_get_field(b, type, &v, p->err));
	if (sbuf_get_u32le(&v, val))
		return err_set(p->err, SISIGN_ERR_MALFORMED, (long long)v.base, "%s shorter than 4 bytes",
			sisf_type_name(type));
	return SISIGN_OK;
}

static int peek_type(struct sbuf *b, uint32_t *t)
{
	return sbuf_peek_u32le(b, t) == SISIGN_OK;
}

static int parse_info(struct pctx *p, struct sbuf *b, struct sisign_controller *c)
{
	struct sbuf v, dt, d, t;
	uint16_t year;
	uint8_t mon, day, hh, mm, ss;
	TRY(sisf_get_field(b, SISF_INFO, &v, p->err));
	TRY(get_u32_field(p, &v, SISF_UID, &c->uid));
	TRY(get_string(p, &v, &c->vendor_unique));
	TRY(get_string_array(p, &v, &c->names, &c->nnames));
	TRY(get_string_array(p, &v, &c->vendors, &c->nvendors));
	TRY(get_version(p, &v, &c->version));
	TRY(sisf_get_field(&v, SISF_DATETIME, &dt, p->err));
	TRY(sisf_get_field(&dt, SISF_DATE, &d, p->err));
	TRY(sisf_get_field(&dt, SISF_TIME, &t, p->err));
	if (sbuf_get_u16le(&d, &year) || sbuf_get_u8(&d, &mon) || sbuf_get_u8(&d, &day))
		return err_set(p->err, SISIGN_ERR_MALFORMED, (long long)d.base, "SISDate shorter than 4 bytes");
	if (sbuf_get_u8(&t, &hh) || sbuf_get_u8(&t, &mm) || sbuf_get_u8(&t, &ss))
		return err_set(p->err, SISIGN_ERR_MALFORMED, (long long)t.base, "SISTime shorter than 3 bytes");
	c->created.year = year;
	c->created.month = (uint8_t)(mon + 1);
	c->created.day = day;
	c->created.hour = hh;
	c->created.minute = mm;
	c->created.second = ss;
	if (sbuf_get_u8(&v, &c->install_type))
		return err_set(p->err, SISIGN_ERR_MALFORMED, (long long)v.base, "SISInfo lacks its install type");
	/* Some early packages end SISInfo before the flags byte; the device
	 * reads it from the (zero) padding. */
	if (sbuf_get_u8(&v, &c->install_flags))
		c->install_flags = 0;
	return SISIGN_OK; /* later members, if any, are skipped (§3.7) */
}

static int parse_options(struct pctx *p, struct sbuf *b, struct sisign_controller *c)
{
	struct sbuf v, elems, e;
	size_t cap = 0;
	int r;
	TRY(sisf_get_field(b, SISF_SUPPORTED_OPTIONS, &v, p->err));
	TRY(sisf_get_array(&v, SISF_SUPPORTED_OPTION, &elems, p->err));
	while ((r = sisf_next_elem(&elems, &e, p->err)) == 1) {
		char **names = NULL, **slot;
		size_t n = 0;
		r = get_string_array(p, &e, &names, &n);
		slot = push(p, (void **)&c->options, &c->noptions, &cap, sizeof(char *));
		if (!slot) {
			for (size_t i = 0; i < n; i++)
				free(names[i]);
			free(names);
			return nomem(p);
		}
		*slot = n ? names[0] : strdup("");
		for (size_t i = 1; i < n; i++)
			free(names[i]);
		free(names);
		if (r != SISIGN_OK)
			return r;
		if (!*slot)
			return nomem(p);
	}
	return r;
}

static int parse_languages(struct pctx *p, struct sbuf *b, struct sisign_controller *c)
{
	struct sbuf v, elems, e;
	size_t cap = 0;
	int r;
	TRY(sisf_get_field(b, SISF_SUPPORTED_LANGUAGES, &v, p->err));
	TRY(sisf_get_array(&v, SISF_LANGUAGE, &elems, p->err));
	while ((r = sisf_next_elem(&elems, &e, p->err)) == 1) {
		uint32_t *slot = push(p, (void **)&c->languages, &c->nlanguages, &cap, sizeof(uint32_t));
		if (!slot)
			return nomem(p);
		if (sbuf_get_u32le(&e, slot))
			return err_set(p->err, SISIGN_ERR_MALFORMED, (long long)e.base, "SISLanguage shorter than 4 bytes");
	}
	return r;
}

static int parse_deps(struct pctx *p, struct sbuf *b, struct sisign_dependency **arr, size_t *n)
{
	struct sbuf elems, e;
	size_t cap = 0;
	int r;
	TRY(sisf_get_array(b, SISF_DEPENDENCY, &elems, p->err));
	while ((r = sisf_next_elem(&elems, &e, p->err)) == 1) {
		struct sisign_dependency *d = push(p, (void **)arr, n, &cap, sizeof *d);
		uint32_t t;
		if (!d)
			return nomem(p);
		TRY(get_u32_field(p, &e, SISF_UID, &d->uid));
		if (peek_type(&e, &t) && t == SISF_VERSION_RANGE) {
			struct sbuf rv;
			TRY(sisf_get_field(&e, SISF_VERSION_RANGE, &rv, p->err));
			TRY(get_version(p, &rv, &d->from));
			d->has_from = 1;
			if (sbuf_avail(&rv) > 0) {
				TRY(get_version(p, &rv, &d->to));
				d->has_to = 1;
			}
		}
		TRY(get_string_array(p, &e, &d->names, &d->nnames)); /* names[] never holds NULL */
	}
	return r;
}

static int parse_prereqs(struct pctx *p, struct sbuf *b, struct sisign_controller *c)
{
	struct sbuf v;
	TRY(sisf_get_field(b, SISF_PREREQUISITES, &v, p->err));
	TRY(parse_deps(p, &v, &c->targets, &c->ntargets));
	return parse_deps(p, &v, &c->deps, &c->ndeps);
}

static int parse_properties(struct pctx *p, struct sbuf *b, struct sisign_controller *c)
{
	struct sbuf v, elems, e;
	int r;
	TRY(sisf_get_field(b, SISF_PROPERTIES, &v, p->err));
	TRY(sisf_get_array(&v, SISF_PROPERTY, &elems, p->err));
	while ((r = sisf_next_elem(&elems, &e, p->err)) == 1) {
		if (sbuf_avail(&e) < 8)
			return err_set(p->err, SISIGN_ERR_MALFORMED, (long long)e.base, "SISProperty shorter than 8 bytes");
		c->nproperties++;
	}
	return r;
}

/* SISFileDescription value (§5.10). */
static int parse_file_value(struct pctx *p, struct sbuf *v, struct sisign_file *f)
{
	struct sbuf h, blob;
	uint32_t t;
	uint64_t at = sbuf_pos(v);
	TRY(get_string(p, v, &f->target));
	TRY(get_string(p, v, &f->mime));
	if (peek_type(v, &t) && t == SISF_CAPABILITIES) {
		struct sbuf cv;
		TRY(sisf_get_field(v, SISF_CAPABILITIES, &cv, p->err));
		if (cv.len % 4 != 0)
			return err_set(p->err, SISIGN_ERR_MALFORMED, (long long)cv.base,
				"SISCapabilities length %zu is not a multiple of 4", cv.len);
		f->ncaps = cv.len / 4;
		if (f->ncaps) {
			uint32_t *caps = calloc(f->ncaps, sizeof *caps);
			if (!caps)
				return nomem(p);
			for (size_t i = 0; i < f->ncaps; i++)
				caps[i] = le32(cv.data + 4 * i);
			f->caps = caps;
		}
	}
	TRY(sisf_get_field(v, SISF_HASH, &h, p->err));
	if (sbuf_get_u32le(&h, &f->hash_alg))
		return err_set(p->err, SISIGN_ERR_MALFORMED, (long long)h.base, "SISHash lacks its algorithm");
	TRY(sisf_get_field(&h, SISF_BLOB, &blob, p->err));
	if (blob.len != 0 && blob.len != 20)
		return err_set(p->err, SISIGN_ERR_MALFORMED, (long long)blob.base,
			"SISHash digest is %zu bytes, expected 20 (SHA-1)", blob.len);
	f->hash_len = blob.len;
	if (blob.len)
		memcpy(f->hash, blob.data, 20);
	if (sbuf_get_u32le(v, &f->operation) || sbuf_get_u32le(v, &f->options) ||
		sbuf_get_u64le(v, &f->length) || sbuf_get_u64le(v, &f->uncompressed_length) ||
		sbuf_get_u32le(v, &f->file_index))
		return err_set(p->err, SISIGN_ERR_MALFORMED, (long long)at, "SISFileDescription is truncated");
	return SISIGN_OK;
}

static int parse_expression(struct pctx *p, struct sbuf *b, int nest)
{
	struct sbuf v;
	uint32_t op, ival;
	uint64_t at = sbuf_pos(b);
	if (nest > SIS_MAX_NESTING)
		return err_set(p->err, SISIGN_ERR_TOO_DEEP, (long long)at, "expressions nested deeper than %d",
			SIS_MAX_NESTING);
	TRY(sisf_get_field(b, SISF_EXPRESSION, &v, p->err));
	if (sbuf_get_u32le(&v, &op) || sbuf_get_u32le(&v, &ival))
		return err_set(p->err, SISIGN_ERR_MALFORMED, (long long)at, "SISExpression is truncated");
	switch (op) {
	case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 11:
		TRY(parse_expression(p, &v, nest + 1));
		return parse_expression(p, &v, nest + 1);
	case 9: case 12:
		return parse_expression(p, &v, nest + 1);
	case 10: case 13: {
		char *s = NULL;
		int r = get_string(p, &v, &s);
		free(s);
		return r;
	}
	case 14: case 15: case 16:
		return SISIGN_OK;
	default:
		return err_set(p->err, SISIGN_ERR_MALFORMED, (long long)at, "unknown expression operator %u", op);
	}
}

static int parse_install_block(struct pctx *p, struct sbuf *b, struct sisign_controller *c, size_t *fcap,
	size_t *ecap, int conditional, int nest);

static int parse_file_array(struct pctx *p, struct sbuf *blk, struct sisign_controller *c, size_t *fcap,
	int conditional)
{
	struct sbuf elems, e;
	int r;
	TRY(sisf_get_array(blk, SISF_FILE_DESCRIPTION, &elems, p->err));
	while ((r = sisf_next_elem(&elems, &e, p->err)) == 1) {
		struct sisign_file *f = push(p, (void **)&c->files, &c->nfiles, fcap, sizeof *f);
		if (!f)
			return nomem(p);
		f->conditional = conditional;
		r = parse_file_value(p, &e, f);
		if (r != SISIGN_OK) {
			/* keep the model whole: drop the half-read entry */
			free_file(f);
			c->nfiles--;
			return r;
		}
	}
	return r;
}

static int parse_embedded(struct pctx *p, struct sbuf *blk, struct sisign_controller *c, size_t *ecap)
{
	struct sbuf elems;
	int r;
	TRY(sisf_get_array(blk, SISF_CONTROLLER, &elems, p->err));
	while (sbuf_avail(&elems) > 0) {
		struct sisign_controller *child;
		size_t used = 0;
		const uint8_t *start = elems.data + elems.off;
		uint64_t base = sbuf_pos(&elems);
		if (c->depth + 1 > p->max_depth)
			return err_set(p->err, SISIGN_ERR_TOO_DEEP, (long long)base,
				"embedded packages nested deeper than %d levels", p->max_depth);
		child = push(p, (void **)&c->embedded, &c->nembedded, ecap, sizeof *child);
		if (!child)
			return nomem(p);
		child->depth = c->depth + 1;
		/* An embedded controller is an array element: length word first,
		 * no type word (§3.4, §7.1). */
		r = ctrl_parse(p->pkg, start, sbuf_avail(&elems), 0, base, child, &used, p->err);
		if (r != SISIGN_OK) {
			ctrl_free(child);
			c->nembedded--;
			return r;
		}
		child->abs_data_unit = c->abs_data_unit + child->data_index;
		if (sbuf_skip(&elems, used))
			return SISIGN_ERR_INTERNAL;
	}
	return SISIGN_OK;
}

static int parse_if_block(struct pctx *p, struct sbuf *b, uint32_t type, struct sisign_controller *c,
	size_t *fcap, size_t *ecap, int nest)
{
	struct sbuf elems, e;
	int r;
	TRY(sisf_get_array(b, type, &elems, p->err));
	while ((r = sisf_next_elem(&elems, &e, p->err)) == 1) {
		TRY(parse_expression(p, &e, 0));
		TRY(parse_install_block(p, &e, c, fcap, ecap, 1, nest + 1));
		if (type == SISF_IF)
			TRY(parse_if_block(p, &e, SISF_ELSE_IF, c, fcap, ecap, nest + 1));
	}
	return r;
}

static int parse_install_block(struct pctx *p, struct sbuf *b, struct sisign_controller *c, size_t *fcap,
	size_t *ecap, int conditional, int nest)
{
	struct sbuf v;
	if (nest > SIS_MAX_NESTING)
		return err_set(p->err, SISIGN_ERR_TOO_DEEP, (long long)sbuf_pos(b),
			"conditional blocks nested deeper than %d", SIS_MAX_NESTING);
	TRY(sisf_get_field(b, SISF_INSTALL_BLOCK, &v, p->err));
	TRY(parse_file_array(p, &v, c, fcap, conditional));
	TRY(parse_embedded(p, &v, c, ecap));
	return parse_if_block(p, &v, SISF_IF, c, fcap, ecap, nest);
}

static int parse_chain(struct pctx *p, struct sbuf *b, struct sisign_chain *ch)
{
	struct sbuf v, elems, e, cc, blob;
	size_t cap = 0;
	int r;
	TRY(sisf_get_field(b, SISF_SIGNATURE_CERT_CHAIN, &v, p->err));
	TRY(sisf_get_array(&v, SISF_SIGNATURE, &elems, p->err));
	while ((r = sisf_next_elem(&elems, &e, p->err)) == 1) {
		struct sisign_signature *s = push(p, (void **)&ch->sigs, &ch->nsigs, &cap, sizeof *s);
		struct sbuf alg, sb;
		if (!s)
			return nomem(p);
		TRY(sisf_get_field(&e, SISF_SIGNATURE_ALGORITHM, &alg, p->err));
		TRY(get_string(p, &alg, &s->algorithm));
		TRY(sisf_get_field(&e, SISF_BLOB, &sb, p->err));
		s->sig = sb.data;
		s->siglen = sb.len;
	}
	if (r < 0)
		return r;
	TRY(sisf_get_field(&v, SISF_CERTIFICATE_CHAIN, &cc, p->err));
	TRY(sisf_get_field(&cc, SISF_BLOB, &blob, p->err));
	ch->certs = blob.data;
	ch->certs_len = blob.len;
	return SISIGN_OK;
}

static int parse_logo(struct pctx *p, struct sbuf *b, struct sisign_controller *c)
{
	struct sbuf v, fv;
	struct sisign_file *f = calloc(1, sizeof *f);
	if (!f)
		return nomem(p);
	c->logo = f;
	int r = sisf_get_field(b, SISF_LOGO, &v, p->err);
	if (r == SISIGN_OK)
		r = sisf_get_field(&v, SISF_FILE_DESCRIPTION, &fv, p->err);
	if (r == SISIGN_OK)
		r = parse_file_value(p, &fv, f);
	if (r != SISIGN_OK) {
		free_file(f);
		free(f);
		c->logo = NULL;
	}
	return r;
}

/* Parse one member field of the controller.  Its type and outer length
 * are structural (an error is fatal); an error inside it marks the
 * controller damaged and parsing goes on with the next member (the way
 * the field lengths let any reader skip what it cannot use). */
static int member(struct pctx *p, struct sbuf *val, uint32_t type, struct sisign_controller *c,
	int (*fn)(struct pctx *, struct sbuf *, struct sisign_controller *))
{
	size_t start = val->off;
	struct sbuf v, whole;
	struct sisign_error sub;
	struct sisign_error *outer = p->err;
	int r;

	TRY(sisf_get_field(val, type, &v, p->err));
	sbuf_init(&whole, val->data + start, (size_t)(v.data - (val->data + start)) + v.len, val->base + start);
	sisign_error_clear(&sub);
	p->err = &sub;
	r = fn(p, &whole, c);
	p->err = outer;
	if (r == SISIGN_OK)
		return SISIGN_OK;
	if (r == SISIGN_ERR_NOMEM)
		return err_set(outer, r, -1, "out of memory");
	if (!c->damage) {
		c->damage = r;
		c->damage_offset = sub.offset >= 0 ? sub.offset : (long long)(val->base + start); /* else: the member itself */
		c->damage_message = malloc(strlen(sub.message) + 64);
		if (c->damage_message)
			snprintf(c->damage_message, strlen(sub.message) + 64, "%s: %s", sisf_type_name(type), sub.message);
	}
	return SISIGN_OK;
}

static int parse_install_top(struct pctx *p, struct sbuf *b, struct sisign_controller *c)
{
	size_t fcap = 0, ecap = 0;
	return parse_install_block(p, b, c, &fcap, &ecap, 0, 0);
}

int ctrl_parse(struct sisign_pkg *pkg, const uint8_t *ctrl, size_t len, int typed, uint64_t base,
	struct sisign_controller *c, size_t *used, struct sisign_error *err)
{
	struct pctx p = { pkg, err, pkg->opts.max_depth, 0 };
	struct sbuf whole, val;
	struct sisf_hdr h;
	size_t chcap = 0, val_start;
	uint32_t t;
	int r;

	sbuf_init(&whole, ctrl, len, base);
	TRY(sisf_get_hdr(&whole, typed, &h, err));
	if (typed && h.type != SISF_CONTROLLER)
		return err_set(err, SISIGN_ERR_MALFORMED, (long long)base, "expected SISController, found %s (type %u)",
			sisf_type_name(h.type), h.type);
	if (h.len > sbuf_avail(&whole))
		return err_set(err, SISIGN_ERR_TRUNCATED, (long long)base,
			"SISController declares %llu bytes but only %zu are present", (unsigned long long)h.len,
			sbuf_avail(&whole));
	val_start = whole.off;
	if (sbuf_sub(&whole, (size_t)h.len, &val))
		return SISIGN_ERR_INTERNAL;
	{
		uint64_t pad = sisf_pad(h.len);
		if (pad > sbuf_avail(&whole))
			pad = sbuf_avail(&whole);
		if (sbuf_skip(&whole, (size_t)pad)) { /* cannot fail: pad was clamped */ }
	}
	*used = whole.off;

	TRY(member(&p, &val, SISF_INFO, c, parse_info));
	TRY(member(&p, &val, SISF_SUPPORTED_OPTIONS, c, parse_options));
	TRY(member(&p, &val, SISF_SUPPORTED_LANGUAGES, c, parse_languages));
	TRY(member(&p, &val, SISF_PREREQUISITES, c, parse_prereqs));
	TRY(member(&p, &val, SISF_PROPERTIES, c, parse_properties));
	if (peek_type(&val, &t) && t == SISF_LOGO)
		TRY(member(&p, &val, SISF_LOGO, c, parse_logo));
	TRY(member(&p, &val, SISF_INSTALL_BLOCK, c, parse_install_top));
	while (peek_type(&val, &t) && t == SISF_SIGNATURE_CERT_CHAIN) {
		struct sisign_chain *ch = push(&p, (void **)&c->chains, &c->nchains, &chcap, sizeof *ch);
		if (!ch)
			return nomem(&p);
		/* §7.1: chain k signs the controller value up to its own start. */
		ch->signed_region = ctrl + val_start;
		ch->signed_len = val.off;
		TRY(parse_chain(&p, &val, ch));
	}
	c->value = ctrl + val_start;
	c->value_len = val.len;
	c->data_index_offset = val.off;
	r = get_u32_field(&p, &val, SISF_DATA_INDEX, &c->data_index);
	if (r != SISIGN_OK)
		return r;
	c->trailing = sbuf_avail(&val);
	return SISIGN_OK;
}

void ctrl_free(struct sisign_controller *c)
{
	if (!c)
		return;
	free(c->vendor_unique);
	free_strv(c->names, c->nnames);
	free_strv(c->vendors, c->nvendors);
	free_strv(c->options, c->noptions);
	free(c->languages);
	free_deps(c->targets, c->ntargets);
	free_deps(c->deps, c->ndeps);
	if (c->logo) {
		free_file((struct sisign_file *)c->logo);
		free((void *)c->logo);
	}
	for (size_t i = 0; i < c->nfiles; i++)
		free_file(&c->files[i]);
	free(c->files);
	for (size_t i = 0; i < c->nembedded; i++)
		ctrl_free(&c->embedded[i]);
	free(c->embedded);
	for (size_t i = 0; i < c->nchains; i++) {
		for (size_t k = 0; k < c->chains[i].nsigs; k++)
			free(c->chains[i].sigs[k].algorithm);
		free(c->chains[i].sigs);
	}
	free(c->chains);
	free(c->damage_message);
	memset(c, 0, sizeof *c);
}
