/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal streaming JSON writer for --json output (JSON Lines). */
#include "fe.h"

#include <inttypes.h>
#include <string.h>

void fe_json_init(struct fe_json *j, FILE *fp)
{
	memset(j, 0, sizeof *j);
	j->fp = fp;
	j->first[0] = 1;
}

/* Before any value: a comma if needed; a value inside an object must follow
 * a key. */
static void before_value(struct fe_json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->depth > 0 && j->is_object[j->depth]) {
		j->failed = 1; /* value without a key */
		return;
	}
	if (j->depth == 0 && !j->first[0])
		j->failed = 1; /* second top-level value */
	if (!j->first[j->depth])
		fputc(',', j->fp);
	j->first[j->depth] = 0;
}

static void begin(struct fe_json *j, int obj)
{
	before_value(j);
	if (j->depth >= FE_JSON_MAX_DEPTH) {
		j->failed = 1;
		return;
	}
	fputc(obj ? '{' : '[', j->fp);
	j->depth++;
	j->first[j->depth] = 1;
	j->is_object[j->depth] = (unsigned char)obj;
}

static void end(struct fe_json *j, int obj)
{
	if (j->depth == 0 || j->is_object[j->depth] != obj || j->after_key) {
		j->failed = 1;
		return;
	}
	j->depth--;
	fputc(obj ? '}' : ']', j->fp);
}

void fe_json_begin_object(struct fe_json *j) { begin(j, 1); }
void fe_json_end_object(struct fe_json *j) { end(j, 1); }
void fe_json_begin_array(struct fe_json *j) { begin(j, 0); }
void fe_json_end_array(struct fe_json *j) { end(j, 0); }

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_valid(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
		cp > 0x10ffff)
		return 0;
	return len;
}

static void write_string(FILE *fp, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	fputc('"', fp);
	while (i < n) {
		unsigned char c = s[i];
		size_t len;

		switch (c) {
		case '"': fputs("\\\"", fp); i++; continue;
		case '\\': fputs("\\\\", fp); i++; continue;
		case '\b': fputs("\\b", fp); i++; continue;
		case '\f': fputs("\\f", fp); i++; continue;
		case '\n': fputs("\\n", fp); i++; continue;
		case '\r': fputs("\\r", fp); i++; continue;
		case '\t': fputs("\\t", fp); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(fp, "\\u%04x", c);
			i++;
			continue;
		}
		len = utf8_valid(s + i, n - i);
		if (len == 0) {
			fputs("\\ufffd", fp);
			i++;
			continue;
		}
		fwrite(s + i, 1, len, fp);
		i += len;
	}
	fputc('"', fp);
}

void fe_json_key(struct fe_json *j, const char *key)
{
	if (j->depth == 0 || !j->is_object[j->depth] || j->after_key || !key) {
		j->failed = 1;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->fp);
	j->first[j->depth] = 0;
	write_string(j->fp, key, strlen(key));
	fputc(':', j->fp);
	j->after_key = 1;
}

void fe_json_string_n(struct fe_json *j, const char *s, size_t n)
{
	if (!s) {
		fe_json_null(j);
		return;
	}
	before_value(j);
	write_string(j->fp, s, n);
}

void fe_json_string(struct fe_json *j, const char *s)
{
	fe_json_string_n(j, s, s ? strlen(s) : 0);
}

void fe_json_int(struct fe_json *j, long long v)
{
	before_value(j);
	fprintf(j->fp, "%lld", v);
}

void fe_json_uint64(struct fe_json *j, uint64_t v)
{
	before_value(j);
	fprintf(j->fp, "%" PRIu64, v);
}

void fe_json_bool(struct fe_json *j, int v)
{
	before_value(j);
	fputs(v ? "true" : "false", j->fp);
}

void fe_json_null(struct fe_json *j)
{
	before_value(j);
	fputs("null", j->fp);
}

void fe_json_kv_string(struct fe_json *j, const char *key, const char *s)
{
	fe_json_key(j, key);
	fe_json_string(j, s);
}

void fe_json_kv_int(struct fe_json *j, const char *key, long long v)
{
	fe_json_key(j, key);
	fe_json_int(j, v);
}

void fe_json_kv_uint64(struct fe_json *j, const char *key, uint64_t v)
{
	fe_json_key(j, key);
	fe_json_uint64(j, v);
}

void fe_json_kv_bool(struct fe_json *j, const char *key, int v)
{
	fe_json_key(j, key);
	fe_json_bool(j, v);
}

int fe_json_finish(struct fe_json *j)
{
	if (j->failed || j->depth != 0 || j->after_key || j->first[0] || ferror(j->fp))
		return -1;
	return 0;
}
