/* SPDX-License-Identifier: Apache-2.0 */
/* sisign-gtk — non-drawing logic: package rows, output rules, settings,
 * package descriptions, token scanning and the batch worker.  See
 * app_model.h.  Every package operation goes through libsisign. */
#include "app_model.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include <sisign/batch.h>
#include <sisign/check.h>
#include <sisign/keygen.h>
#include <sisign/package.h>
#include <sisign/sign.h>
#include <sisign/signer.h>
#include <sisign/token.h>
#include <sisign/verify.h>

G_DEFINE_QUARK(sisign-gui-model-error-quark, gui_model_error)

struct gui_model {
	GPtrArray *jobs; /* struct gui_job * */
	struct gui_batch *batch;
};

/* ---- errors --------------------------------------------------------------- */

char *gui_error_text(int code, const struct sisign_error *err)
{
	const char *msg = err && err->message[0] ? err->message : sisign_strerror(code);

	if (err && err->ossl_reason[0])
		return g_strdup_printf("%s (%s)", msg, err->ossl_reason);
	return g_strdup(msg);
}

/* ---- rows ------------------------------------------------------------------- */

static void job_free(gpointer p)
{
	struct gui_job *j = p;

	if (!j)
		return;
	g_free(j->path);
	g_free(j->name);
	g_free(j->load_error);
	g_free(j->where);
	g_free(j->status);
	g_free(j->output);
	gui_check_clear(&j->check);
	g_free(j);
}

static void batch_detach(struct gui_batch *b);

struct gui_model *gui_model_new(void)
{
	struct gui_model *m = g_new0(struct gui_model, 1);

	m->jobs = g_ptr_array_new_with_free_func(job_free);
	return m;
}

void gui_model_free(struct gui_model *m)
{
	if (!m)
		return;
	/* A running batch holds its own copies; it is cancelled and detached. */
	if (m->batch)
		batch_detach(m->batch);
	g_ptr_array_unref(m->jobs);
	g_free(m);
}

guint gui_model_njobs(const struct gui_model *m)
{
	return m->jobs->len;
}

struct gui_job *gui_model_job(struct gui_model *m, guint i)
{
	return i < m->jobs->len ? g_ptr_array_index(m->jobs, i) : NULL;
}

/* The last k '/'-separated parts of the absolute folder dir ("b", "a/b"),
 * all of it when it has no more. */
static char *dir_tail(const char *dir, guint k)
{
	const char *p = dir + strlen(dir);
	guint n = 0;

	while (p > dir) {
		p--;
		if (*p == '/' && ++n == k)
			return g_strdup(p[1] ? p + 1 : "/");
	}
	return g_strdup(dir);
}

/* How many trailing folder parts tell dir a from dir b (different folders). */
static guint tail_depth(const char *a, const char *b)
{
	guint k;

	for (k = 1; k < 4096; k++) {
		char *x = dir_tail(a, k), *y = dir_tail(b, k);
		gboolean differ = strcmp(x, y) != 0, whole = strcmp(x, a) == 0;

		g_free(x);
		g_free(y);
		if (differ || whole)
			break;
	}
	return k;
}

/* Rows with the same file name get the shortest end of their folder that
 * tells each from every other such row ("a" and "b" for a/hello.sis and
 * b/hello.sis; "x/a" and "y/a" for x/a/hello.sis and y/a/hello.sis). */
static void model_relabel(struct gui_model *m)
{
	GHashTable *count = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	guint n = m->jobs->len, i, k;
	char **base = g_new0(char *, n + 1), **dir = g_new0(char *, n + 1);

	for (i = 0; i < n; i++) {
		struct gui_job *j = g_ptr_array_index(m->jobs, i);

		g_clear_pointer(&j->where, g_free);
		base[i] = g_path_get_basename(j->path);
		dir[i] = g_path_get_dirname(j->path);
		g_hash_table_insert(count, g_strdup(base[i]),
			GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(count, base[i])) + 1));
	}
	for (i = 0; i < n; i++) {
		guint need = 0;

		if (GPOINTER_TO_UINT(g_hash_table_lookup(count, base[i])) < 2)
			continue;
		for (k = 0; k < n; k++)
			if (k != i && strcmp(base[k], base[i]) == 0)
				need = MAX(need, tail_depth(dir[i], dir[k]));
		((struct gui_job *)g_ptr_array_index(m->jobs, i))->where = dir_tail(dir[i], need);
	}
	g_strfreev(base);
	g_strfreev(dir);
	g_hash_table_unref(count);
}

char *gui_job_title(const struct gui_job *j)
{
	char *base = g_path_get_basename(j->path), *t;

	if (j->name && *j->name)
		t = j->where ? g_strdup_printf("%s  (%s, in %s)", j->name, base, j->where) :
			       g_strdup_printf("%s  (%s)", j->name, base);
	else
		t = j->where ? g_strdup_printf("%s  (in %s)", base, j->where) : g_strdup(base);
	g_free(base);
	return t;
}

char *gui_job_folder(const struct gui_job *j)
{
	char *dir = g_path_get_dirname(j->path), *t;
	const char *home = g_get_home_dir();
	size_t hl = home ? strlen(home) : 0;

	if (hl > 1 && strncmp(dir, home, hl) == 0 && (dir[hl] == '/' || dir[hl] == '\0')) {
		t = g_strconcat("~", dir + hl, NULL);
		g_free(dir);
		return t;
	}
	return dir;
}

static char *chains_text(size_t n)
{
	return n == 0 ? g_strdup("unsigned") : g_strdup_printf("%zu chain%s", n, n == 1 ? "" : "s");
}

char *gui_job_signatures_text(const struct gui_job *j, char **tip)
{
	char *in, *base, *t;

	if (tip)
		*tip = NULL;
	if (j->load_error)
		return g_strdup("—");
	if (!j->output || j->out_nchains < 0 || strcmp(j->output, j->path) == 0)
		return chains_text(j->nchains);
	t = chains_text((size_t)j->out_nchains);
	if (tip) {
		in = chains_text(j->nchains);
		base = g_path_get_basename(j->output);
		*tip = g_strdup_printf("%s: %s (the file just written); the input itself: %s", base, t, in);
		g_free(in);
		g_free(base);
	}
	return t;
}

/* Top-level chains of a package file, -1 if it cannot be read. */
static int count_chains(const char *path)
{
	struct sisign_pkg *pkg = NULL;
	int n = -1;

	if (sisign_pkg_open(path, NULL, &pkg, NULL) == SISIGN_OK) {
		n = (int)MIN(sisign_pkg_controller(pkg)->nchains, (size_t)G_MAXINT);
		sisign_pkg_free(pkg);
	}
	return n;
}

static int cmp_desc(gconstpointer a, gconstpointer b)
{
	guint x = *(const guint *)a, y = *(const guint *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

void gui_model_remove(struct gui_model *m, const guint *idx, guint n)
{
	guint *s = g_memdup2(idx, n * sizeof *idx), i;

	qsort(s, n, sizeof *s, cmp_desc);
	for (i = 0; i < n; i++)
		if ((i == 0 || s[i] != s[i - 1]) && s[i] < m->jobs->len)
			g_ptr_array_remove_index(m->jobs, s[i]);
	g_free(s);
	model_relabel(m);
}

void gui_model_clear(struct gui_model *m)
{
	g_ptr_array_set_size(m->jobs, 0);
}

static void fmt_version(const struct sisign_version *v, char *out, size_t size)
{
	g_snprintf(out, size, "%" PRId32 ".%" PRId32 ".%" PRId32, v->major, v->minor, v->build);
}

void gui_check_clear(struct gui_check *c)
{
	g_free(c->rule);
	g_free(c->message);
	g_free(c->fix);
	g_free(c->all);
	g_free(c->error);
	memset(c, 0, sizeof *c);
	c->worst = -1;
}

/* A finding's message with the file it concerns in front, as `sisign
 * check` prints it. */
static char *finding_text(const struct sisign_finding *f)
{
	return f->file ? g_strdup_printf("%s: %s", f->file, f->message) : g_strdup(f->message);
}

/* Fill c (cleared first) from findings whose worst severity is worst. */
static void check_fill(struct gui_check *c, int worst, const struct sisign_finding *findings, size_t n)
{
	GString *all;
	size_t i;

	gui_check_clear(c);
	c->worst = worst;
	c->nfindings = (guint)n;
	all = g_string_new(NULL);
	for (i = 0; i < n; i++) {
		const struct sisign_finding *f = &findings[i];
		char *t = finding_text(f);

		if (!c->rule && (int)f->severity == worst && f->severity >= SISIGN_CHECK_DEPENDS) {
			c->rule = g_strdup(f->rule);
			c->message = g_strdup(t);
			c->fix = g_strdup(f->fix);
		}
		g_string_append_printf(all, "%s%s (%s): %s — fix: %s", all->len ? "\n" : "", f->rule,
			sisign_check_severity_name(f->severity), t, f->fix);
		g_free(t);
	}
	c->all = g_string_free(all, all->len == 0);
}

static void check_pkg(struct sisign_pkg *pkg, struct gui_check *c)
{
	struct sisign_check_opts o;
	struct sisign_check_report *rep = NULL;
	struct sisign_error err;
	int r;

	gui_check_clear(c);
	memset(&o, 0, sizeof o);
	/* The package's own chains; no file data hashed (Verify and signing
	 * check every hash, and adding a folder of packages stays quick). */
	o.skip_data = 1;
	sisign_error_clear(&err);
	r = sisign_pkg_check_install(pkg, &o, &rep, &err);
	if (r != SISIGN_OK) {
		c->error = gui_error_text(r, &err);
		return;
	}
	check_fill(c, rep->worst, rep->findings, rep->nfindings);
	sisign_check_report_free(rep);
}

void gui_check_run(const char *path, struct gui_check *c)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	int r;

	sisign_error_clear(&err);
	r = sisign_pkg_open(path, NULL, &pkg, &err);
	if (r != SISIGN_OK) {
		gui_check_clear(c);
		c->error = gui_error_text(r, &err);
		return;
	}
	check_pkg(pkg, c);
	sisign_pkg_free(pkg);
}

char *gui_check_line(const struct gui_check *c)
{
	if (c->error)
		return g_strdup_printf("Install rules not checked: %s", c->error);
	if (c->worst < 0)
		return NULL;
	if (c->rule)
		return g_strdup_printf("%s: %s — %s",
			c->worst >= SISIGN_CHECK_ERROR ? "Would not install" : "Depends on the phone", c->rule, c->message);
	if (c->nfindings)
		return g_strdup_printf("Would install, with %u prompt%s to the user", c->nfindings,
			c->nfindings == 1 ? "" : "s");
	return g_strdup("Would install");
}

/* Re-read the row's summary; with check, run the install rules too. */
static void job_reload(struct gui_job *j, gboolean check)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	const struct sisign_controller *c;
	int r;

	g_clear_pointer(&j->name, g_free);
	g_clear_pointer(&j->load_error, g_free);
	j->uid = 0;
	j->version[0] = '\0';
	j->nchains = 0;
	sisign_error_clear(&err);
	r = sisign_pkg_open(j->path, NULL, &pkg, &err);
	if (r != SISIGN_OK) {
		j->load_error = gui_error_text(r, &err);
		j->name = g_path_get_basename(j->path);
		if (check)
			gui_check_clear(&j->check); /* the load error says it all */
		return;
	}
	c = sisign_pkg_controller(pkg);
	j->name = g_strdup(c->nnames ? c->names[0] : "");
	j->uid = c->uid;
	fmt_version(&c->version, j->version, sizeof j->version);
	j->nchains = c->nchains;
	if (check)
		check_pkg(pkg, &j->check);
	sisign_pkg_free(pkg);
}

void gui_job_reload(struct gui_job *j)
{
	job_reload(j, TRUE);
}

static gboolean has_job(const struct gui_model *m, const char *path)
{
	guint i;

	for (i = 0; i < m->jobs->len; i++)
		if (strcmp(((struct gui_job *)g_ptr_array_index(m->jobs, i))->path, path) == 0)
			return TRUE;
	return FALSE;
}

static gboolean is_package_name(const char *name)
{
	return g_str_has_suffix(name, ".sis") || g_str_has_suffix(name, ".SIS") ||
	       g_str_has_suffix(name, ".sisx") || g_str_has_suffix(name, ".SISX") ||
	       g_str_has_suffix(name, ".ctl") || g_str_has_suffix(name, ".CTL");
}

static guint add_file(struct gui_model *m, const char *abs)
{
	struct gui_job *j;

	if (has_job(m, abs))
		return 0;
	j = g_new0(struct gui_job, 1);
	j->path = g_strdup(abs);
	j->verdict = -1;
	j->out_nchains = -1;
	j->check.worst = -1;
	gui_job_reload(j);
	g_ptr_array_add(m->jobs, j);
	return 1;
}

static int cmp_names(gconstpointer a, gconstpointer b)
{
	/* g_ptr_array_sort passes pointers to the elements. */
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static guint add_dir(struct gui_model *m, const char *dir, int depth)
{
	GDir *d;
	const char *e;
	GPtrArray *names;
	guint n = 0, i;

	if (depth > 16 || !(d = g_dir_open(dir, 0, NULL)))
		return 0;
	names = g_ptr_array_new_with_free_func(g_free);
	while ((e = g_dir_read_name(d)))
		if (e[0] != '.')
			g_ptr_array_add(names, g_strdup(e));
	g_dir_close(d);
	/* A stable order, whatever the file system returns. */
	g_ptr_array_sort(names, cmp_names);
	for (i = 0; i < names->len; i++) {
		char *p = g_build_filename(dir, (const char *)g_ptr_array_index(names, i), NULL);
		GStatBuf st;

		if (g_lstat(p, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				n += add_dir(m, p, depth + 1);
			else if (S_ISREG(st.st_mode) && is_package_name(p))
				n += add_file(m, p);
		}
		g_free(p);
	}
	g_ptr_array_unref(names);
	return n;
}

guint gui_model_add_path(struct gui_model *m, const char *path, GError **err)
{
	char *abs = g_canonicalize_filename(path, NULL);
	GStatBuf st;
	guint n = 0;

	if (g_stat(abs, &st) != 0) {
		int e = errno;
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(e), "Cannot open %s: %s", abs,
			g_strerror(e));
	} else if (S_ISDIR(st.st_mode)) {
		n = add_dir(m, abs, 0);
	} else {
		n = add_file(m, abs);
	}
	if (n)
		model_relabel(m);
	g_free(abs);
	return n;
}

/* ---- output paths ------------------------------------------------------------ */

static gboolean same_file(const char *a, const char *b)
{
	GStatBuf sa, sb;

	if (strcmp(a, b) == 0)
		return TRUE;
	return g_stat(a, &sa) == 0 && g_stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

char *gui_output_path(const char *input, const struct gui_output_rules *rules, GError **err)
{
	char *abs = g_canonicalize_filename(input, NULL), *out = NULL;
	char *dir = NULL, *base = NULL;

	if (rules->in_place)
		return abs;
	dir = g_path_get_dirname(abs);
	base = g_path_get_basename(abs);
	if (rules->mode == GUI_OUTPUT_FOLDER) {
		if (!rules->folder || !*rules->folder) {
			g_set_error(err, GUI_MODEL_ERROR, GUI_MODEL_ERROR_RULES, "Choose an output folder first.");
			goto out;
		}
		out = g_build_filename(rules->folder, base, NULL);
		{
			char *c = g_canonicalize_filename(out, NULL);
			g_free(out);
			out = c;
		}
	} else {
		const char *suffix = rules->suffix ? rules->suffix : "_signed";
		char *dot = strrchr(base, '.');
		char *stem;

		if (!*suffix) {
			g_set_error(err, GUI_MODEL_ERROR, GUI_MODEL_ERROR_RULES,
				"The output suffix is empty: the result would replace the input.");
			goto out;
		}
		stem = dot && dot != base ? g_strndup(base, (gsize)(dot - base)) : g_strdup(base);
		{
			char *name = g_strconcat(stem, suffix, dot && dot != base ? dot : "", NULL);
			out = g_build_filename(dir, name, NULL);
			g_free(name);
		}
		g_free(stem);
	}
	if (same_file(out, abs)) {
		g_set_error(err, GUI_MODEL_ERROR, GUI_MODEL_ERROR_OVERWRITE,
			"The output would replace the input %s; tick \"Overwrite input\" to allow that.", base);
		g_clear_pointer(&out, g_free);
	}
out:
	g_free(abs);
	g_free(dir);
	g_free(base);
	return out;
}

/* ---- settings ------------------------------------------------------------------ */

char *gui_settings_default_path(void)
{
	return g_build_filename(g_get_user_config_dir(), "sisign", "gui.ini", NULL);
}

void gui_settings_set_str(char **field, const char *v)
{
	char *old = *field;

	*field = v && *v ? g_strdup(v) : NULL;
	g_free(old);
}

void gui_settings_clear(struct gui_settings *s)
{
	g_free(s->key_uri);
	g_free(s->key_file);
	g_free(s->cert_file);
	g_free(s->module);
	g_free(s->suffix);
	g_free(s->output_folder);
	g_strfreev(s->trust);
	memset(s, 0, sizeof *s);
}

static char *kf_str(GKeyFile *kf, const char *group, const char *key)
{
	char *v = g_key_file_get_string(kf, group, key, NULL);

	if (v && !*v)
		g_clear_pointer(&v, g_free);
	return v;
}

gboolean gui_settings_load(struct gui_settings *s, const char *path, GError **err)
{
	GKeyFile *kf = g_key_file_new();
	GError *e = NULL;
	char *v;

	gui_settings_clear(s);
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &e)) {
		gboolean missing = g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT);
		if (missing)
			g_error_free(e);
		else
			g_propagate_prefixed_error(err, e, "Settings %s: ", path);
		g_key_file_unref(kf);
		return missing;
	}
	v = kf_str(kf, "identity", "kind");
	if (g_strcmp0(v, "token") == 0)
		s->identity = GUI_IDENTITY_TOKEN;
	else if (g_strcmp0(v, "file") == 0)
		s->identity = GUI_IDENTITY_FILE;
	g_free(v);
	s->key_uri = kf_str(kf, "identity", "key-uri");
	s->key_file = kf_str(kf, "identity", "key-file");
	s->cert_file = kf_str(kf, "identity", "cert-file");
	s->module = kf_str(kf, "identity", "module");
	v = kf_str(kf, "output", "mode");
	s->output_mode = g_strcmp0(v, "folder") == 0 ? GUI_OUTPUT_FOLDER : GUI_OUTPUT_SUFFIX;
	g_free(v);
	s->suffix = kf_str(kf, "output", "suffix");
	s->output_folder = kf_str(kf, "output", "folder");
	s->in_place = g_key_file_get_boolean(kf, "output", "in-place", NULL);
	{
		gsize n = 0, i, k = 0;
		char **l = g_key_file_get_string_list(kf, "verify", "trust", &n, NULL);

		/* Empty entries are dropped; a list of none is NULL. */
		for (i = 0; l && i < n; i++)
			if (*l[i])
				l[k++] = l[i];
			else
				g_free(l[i]);
		if (l)
			l[k] = NULL;
		if (l && k == 0)
			g_clear_pointer(&l, g_free);
		s->trust = l;
	}
	/* A URI that carries a PIN is never taken from the settings file. */
	if (s->key_uri && (strstr(s->key_uri, "pin-value=") || strstr(s->key_uri, "pin-source=")))
		g_clear_pointer(&s->key_uri, g_free);
	g_key_file_unref(kf);
	return TRUE;
}

static void kf_set(GKeyFile *kf, const char *group, const char *key, const char *v)
{
	if (v)
		g_key_file_set_string(kf, group, key, v);
}

gboolean gui_settings_save(const struct gui_settings *s, const char *path, GError **err)
{
	GKeyFile *kf = g_key_file_new();
	char *dir = g_path_get_dirname(path), *data = NULL;
	gsize len = 0;
	gboolean ok = FALSE;

	if (g_mkdir_with_parents(dir, 0700) != 0) {
		int e = errno;
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(e), "Cannot create %s: %s", dir,
			g_strerror(e));
		goto out;
	}
	g_key_file_set_comment(kf, NULL, NULL, " sisign-gtk settings (never holds a PIN or passphrase)", NULL);
	kf_set(kf, "identity", "kind",
		s->identity == GUI_IDENTITY_TOKEN ? "token" : s->identity == GUI_IDENTITY_FILE ? "file" : "none");
	kf_set(kf, "identity", "key-uri", s->key_uri);
	kf_set(kf, "identity", "key-file", s->key_file);
	kf_set(kf, "identity", "cert-file", s->cert_file);
	kf_set(kf, "identity", "module", s->module);
	kf_set(kf, "output", "mode", s->output_mode == GUI_OUTPUT_FOLDER ? "folder" : "suffix");
	kf_set(kf, "output", "suffix", s->suffix);
	kf_set(kf, "output", "folder", s->output_folder);
	g_key_file_set_boolean(kf, "output", "in-place", s->in_place);
	if (s->trust && s->trust[0])
		g_key_file_set_string_list(kf, "verify", "trust", (const char *const *)s->trust,
			g_strv_length(s->trust));
	data = g_key_file_to_data(kf, &len, NULL);
	ok = g_file_set_contents_full(path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, err);
out:
	g_free(data);
	g_free(dir);
	g_key_file_unref(kf);
	return ok;
}

/* ---- describing ----------------------------------------------------------------- */

static const char *hash_text(int st)
{
	switch (st) {
	case SISIGN_HASH_OK: return "hash ok";
	case SISIGN_HASH_MISMATCH: return "HASH MISMATCH";
	case SISIGN_HASH_NO_DATA: return "no data";
	case SISIGN_HASH_MISSING: return "DATA MISSING";
	case SISIGN_HASH_CORRUPT: return "DATA CORRUPT";
	default: return "hash not checked";
	}
}

static void detail_free(gpointer p)
{
	struct gui_detail *d = p;

	g_free(d->key);
	g_free(d->value);
	g_free(d);
}

/* Add a row; value (may be NULL) is taken. */
static void det_add(GPtrArray *a, enum gui_detail_kind kind, int depth, const char *mood, const char *key,
	char *value)
{
	struct gui_detail *d = g_new0(struct gui_detail, 1);

	d->kind = kind;
	d->depth = depth;
	d->mood = mood;
	d->key = g_strdup(key);
	d->value = value;
	g_ptr_array_add(a, d);
}

static void det_field(GPtrArray *a, int depth, const char *key, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static void det_field(GPtrArray *a, int depth, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *v;

	va_start(ap, fmt);
	v = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	det_add(a, GUI_DETAIL_FIELD, depth, NULL, key, v);
}

static void describe_caps(GString *s, const struct sisign_file *f)
{
	size_t w;
	unsigned b;
	gboolean first = TRUE;

	for (w = 0; w < f->ncaps; w++)
		for (b = 0; b < 32; b++)
			if ((f->caps[w] >> b) & 1u) {
				unsigned cap = (unsigned)(w * 32 + b);
				const char *n = sisign_capability_name(cap);
				g_string_append(s, first ? ", capabilities " : "+");
				if (n)
					g_string_append(s, n);
				else
					g_string_append_printf(s, "Cap%u", cap);
				first = FALSE;
			}
}

static void fmt_time(time_t t, char *buf, size_t size)
{
	GDateTime *dt = g_date_time_new_from_unix_utc((gint64)t);
	char *s = dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : NULL;

	g_strlcpy(buf, s ? s : "?", size);
	g_free(s);
	if (dt)
		g_date_time_unref(dt);
}

static const char *verdict_mood(int verdict)
{
	switch (verdict) {
	case SISIGN_VERDICT_TRUSTED: return "success";
	case SISIGN_VERDICT_INVALID: return "error";
	case SISIGN_VERDICT_SELF_SIGNED:
	case SISIGN_VERDICT_UNTRUSTED:
	case SISIGN_VERDICT_UNSIGNED: return "warning";
	default: return NULL;
	}
}

static void describe_chain_report(GPtrArray *a, int depth, size_t i, const struct sisign_chain_report *c)
{
	char nb[32], na[32], *h;
	gboolean good = c->signature == SISIGN_OK;

	fmt_time(c->not_before, nb, sizeof nb);
	fmt_time(c->not_after, na, sizeof na);
	h = g_strdup_printf("Chain %zu: %s", i + 1,
		good ? sisign_chain_status_name(c->status) : sisign_strerror(c->signature));
	det_add(a, GUI_DETAIL_HEADING, depth, good ? NULL : "error", h,
		c->status_detail[0] ? g_strdup(c->status_detail) : NULL);
	g_free(h);
	det_field(a, depth, "Signer", "%s", c->signer_subject);
	det_field(a, depth, "Issuer", "%s", c->signer_issuer);
	det_field(a, depth, "Serial", "%s", c->signer_serial);
	det_field(a, depth, "Valid", "%s to %s", nb, na);
	det_field(a, depth, "Key", "%s %d bits; algorithm %s; %zu certificate%s", c->key_type, c->key_bits,
		c->algorithm, c->ncerts, c->ncerts == 1 ? "" : "s");
	det_field(a, depth, "SHA-256", "%s", c->fingerprint);
	if (c->root_subject[0])
		det_field(a, depth, "Root", "%s", c->root_subject);
}

static void describe_controller(GPtrArray *a, int depth, const struct sisign_controller *c,
	const struct sisign_ctrl_report *rep)
{
	size_t i;
	char ver[48];

	det_field(a, depth, "Name", "%s", c->nnames ? c->names[0] : "(none)");
	det_field(a, depth, "UID", "0x%08" PRIx32, c->uid);
	fmt_version(&c->version, ver, sizeof ver);
	det_field(a, depth, "Version", "%s", ver);
	det_field(a, depth, "Vendor", "%s", c->vendor_unique ? c->vendor_unique : "");
	if (c->nchains == 0)
		det_add(a, GUI_DETAIL_FIELD, depth, "warning", "Signatures", g_strdup("none (unsigned)"));
	else
		det_add(a, GUI_DETAIL_FIELD, depth, rep ? verdict_mood(rep->verdict) : NULL, "Signatures",
			g_strdup_printf("%zu chain%s%s%s", c->nchains, c->nchains == 1 ? "" : "s",
				rep ? ", verdict: " : "", rep ? sisign_verdict_name(rep->verdict) : ""));
	if (c->nfiles == 0) {
		det_field(a, depth, "Files", "none");
	} else {
		char *h = g_strdup_printf("Files (%zu)", c->nfiles);
		det_add(a, GUI_DETAIL_HEADING, depth + 1, NULL, h, NULL);
		g_free(h);
	}
	for (i = 0; i < c->nfiles; i++) {
		const struct sisign_file *f = &c->files[i];
		GString *v = g_string_new(NULL);
		gboolean bad = f->hash_status == SISIGN_HASH_MISMATCH || f->hash_status == SISIGN_HASH_MISSING ||
			       f->hash_status == SISIGN_HASH_CORRUPT;

		g_string_append_printf(v, "%" PRIu64 " bytes, %s", f->uncompressed_length, hash_text(f->hash_status));
		describe_caps(v, f);
		if (f->conditional)
			g_string_append(v, ", conditional");
		det_add(a, GUI_DETAIL_ITEM, depth + 1, bad ? "error" : NULL,
			f->target && *f->target ? f->target : "(no target path)", g_string_free(v, FALSE));
	}
	for (i = 0; i < c->nembedded; i++) {
		char *h = g_strdup_printf("Embedded package %zu of %zu", i + 1, c->nembedded);
		det_add(a, GUI_DETAIL_HEADING, depth + 1, NULL, h, NULL);
		g_free(h);
		describe_controller(a, depth + 1, &c->embedded[i], rep && i < rep->nembedded ? &rep->embedded[i] : NULL);
	}
	if (rep)
		for (i = 0; i < rep->nchains; i++)
			describe_chain_report(a, depth + 1, i, &rep->chains[i]);
}

GPtrArray *gui_details_build(const char *path, const char *const *trust)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(detail_free);
	struct sisign_pkg *pkg = NULL;
	struct sisign_verify_report *rep = NULL;
	struct sisign_verify_opts vo;
	struct sisign_error err;
	const struct sisign_pkg_info *in;
	char *base = g_path_get_basename(path);
	size_t i, nw;
	int r;

	det_add(a, GUI_DETAIL_HEADING, 0, NULL, base, NULL);
	g_free(base);
	det_field(a, 0, "File", "%s", path);
	sisign_error_clear(&err);
	r = sisign_pkg_open(path, NULL, &pkg, &err);
	if (r != SISIGN_OK) {
		det_add(a, GUI_DETAIL_FIELD, 0, "error", "Cannot read this package", gui_error_text(r, &err));
		return a;
	}
	in = sisign_pkg_info(pkg);
	det_field(a, 0, "Size", "%" PRIu64 " bytes", in->file_size);
	memset(&vo, 0, sizeof vo);
	vo.trust = trust;
	sisign_error_clear(&err);
	r = sisign_pkg_verify(pkg, &vo, &rep, &err);
	describe_controller(a, 0, sisign_pkg_controller(pkg), r == SISIGN_OK ? &rep->top : NULL);
	det_add(a, GUI_DETAIL_HEADING, 0, NULL, "Verification", NULL);
	if (r != SISIGN_OK) {
		char *t = gui_error_text(r, &err);
		det_add(a, GUI_DETAIL_FIELD, 0, "error", "Verification", g_strdup_printf("could not run: %s", t));
		g_free(t);
	} else {
		det_add(a, GUI_DETAIL_FIELD, 0, verdict_mood(rep->verdict), "Verdict",
			g_strdup(sisign_verdict_name(rep->verdict)));
		det_add(a, GUI_DETAIL_FIELD, 0, rep->data == SISIGN_OK ? NULL : "error", "Data check",
			g_strdup(rep->data == SISIGN_OK ? "ok (every file hash matches)" : rep->data_message));
		if (rep->structure != SISIGN_OK)
			det_add(a, GUI_DETAIL_FIELD, 0, "error", "Structure", g_strdup(rep->structure_message));
	}
	nw = sisign_pkg_nwarnings(pkg);
	if (nw)
		det_add(a, GUI_DETAIL_HEADING, 0, "warning", "Warnings", NULL);
	for (i = 0; i < nw; i++)
		det_add(a, GUI_DETAIL_ITEM, 0, "warning", sisign_pkg_warning(pkg, i), NULL);
	sisign_verify_report_free(rep);
	sisign_pkg_free(pkg);
	return a;
}

char *gui_describe_package(const char *path, const char *const *trust)
{
	GPtrArray *a = gui_details_build(path, trust);
	GString *s = g_string_new(NULL);
	guint i;

	for (i = 0; i < a->len; i++) {
		const struct gui_detail *d = g_ptr_array_index(a, i);
		int ind = d->depth * 2, pad;

		switch (d->kind) {
		case GUI_DETAIL_HEADING:
			g_string_append_printf(s, "%*s%s%s%s\n", ind, "", d->key, d->value ? " — " : "",
				d->value ? d->value : "");
			break;
		case GUI_DETAIL_FIELD:
			/* "Name:" padded to 14 columns, at least one space. */
			pad = 13 - (int)strlen(d->key);
			g_string_append_printf(s, "%*s%s:%*s%s\n", ind, "", d->key, pad > 1 ? pad : 1, "",
				d->value ? d->value : "");
			break;
		default:
			g_string_append_printf(s, "%*s  - %s%s%s\n", ind, "", d->key, d->value ? ": " : "",
				d->value ? d->value : "");
			break;
		}
	}
	g_ptr_array_unref(a);
	return g_string_free(s, FALSE);
}

/* ---- tokens ---------------------------------------------------------------------- */

static void token_key_free(gpointer p)
{
	struct gui_token_key *k = p;

	g_free(k->label);
	g_free(k->id_hex);
	g_free(k->key_uri);
	g_free(k->subject);
	g_free(k);
}

static void token_free(gpointer p)
{
	struct gui_token *t = p;

	g_free(t->label);
	g_free(t->manufacturer);
	g_free(t->model);
	g_free(t->serial);
	g_free(t->uri);
	g_free(t->error);
	g_ptr_array_unref(t->keys);
	g_free(t);
}

static struct gui_token_key *key_for_id(struct gui_token *t, const struct sisign_token_object *o)
{
	guint i;
	struct gui_token_key *k;
	GString *uri;
	const char *h;

	for (i = 0; i < t->keys->len; i++) {
		k = g_ptr_array_index(t->keys, i);
		if (o->id_hex[0] ? strcmp(k->id_hex, o->id_hex) == 0 :
				   (!k->id_hex[0] && strcmp(k->label, o->label) == 0))
			return k;
	}
	k = g_new0(struct gui_token_key, 1);
	k->label = g_strdup(o->label);
	k->id_hex = g_strdup(o->id_hex);
	/* The key's URI from the token URI: by CKA_ID (RFC 7512 percent
	 * encoding of every byte), else by label. */
	uri = g_string_new(t->uri);
	if (o->id_hex[0]) {
		g_string_append(uri, ";id=");
		for (h = o->id_hex; h[0] && h[1]; h += 2)
			g_string_append_printf(uri, "%%%c%c", h[0], h[1]);
	} else {
		char *e = g_uri_escape_string(o->label, NULL, FALSE);
		g_string_append_printf(uri, ";object=%s", e);
		g_free(e);
	}
	g_string_append(uri, ";type=private");
	k->key_uri = g_string_free(uri, FALSE);
	g_ptr_array_add(t->keys, k);
	return k;
}

GPtrArray *gui_tokens_scan(const char *module, GError **err)
{
	struct sisign_token_opts opts;
	struct sisign_token_info *arr = NULL;
	struct sisign_error e;
	GPtrArray *out;
	size_t n = 0, i, j;
	int r;

	memset(&opts, 0, sizeof opts);
	opts.module = module;
	sisign_error_clear(&e);
	r = sisign_token_list(&opts, &arr, &n, &e);
	if (r != SISIGN_OK) {
		char *t = gui_error_text(r, &e);
		g_set_error(err, GUI_MODEL_ERROR, GUI_MODEL_ERROR_LIB, "Cannot list tokens: %s", t);
		g_free(t);
		return NULL;
	}
	out = g_ptr_array_new_with_free_func(token_free);
	for (i = 0; i < n; i++) {
		struct gui_token *t = g_new0(struct gui_token, 1);
		struct sisign_token_object *objs = NULL;
		size_t nobjs = 0;

		t->label = g_strdup(arr[i].label ? arr[i].label : "");
		t->manufacturer = g_strdup(arr[i].manufacturer ? arr[i].manufacturer : "");
		t->model = g_strdup(arr[i].model ? arr[i].model : "");
		t->serial = g_strdup(arr[i].serial ? arr[i].serial : "");
		t->uri = g_strdup(arr[i].uri ? arr[i].uri : "pkcs11:");
		t->flags = arr[i].flags;
		t->keys = g_ptr_array_new_with_free_func(token_key_free);
		g_ptr_array_add(out, t);
		if (!(t->flags & SISIGN_TOKEN_INITIALIZED))
			continue;
		sisign_error_clear(&e);
		r = sisign_token_objects(t->uri, &opts, &objs, &nobjs, &e);
		if (r != SISIGN_OK) {
			t->error = gui_error_text(r, &e);
			continue;
		}
		/* Private keys first, then what names them publicly. */
		for (j = 0; j < nobjs; j++) {
			struct gui_token_key *k = key_for_id(t, &objs[j]);
			if (objs[j].key_bits && !k->key_bits)
				k->key_bits = objs[j].key_bits;
			if (objs[j].kind == SISIGN_TOKEN_OBJ_CERT && !k->subject) {
				k->subject = g_strdup(objs[j].subject ? objs[j].subject : "");
				k->not_after = objs[j].not_after;
			}
		}
		sisign_token_objects_free(objs, nobjs);
	}
	sisign_token_info_free(arr, n);
	return out;
}

enum gui_expiry gui_expiry_class(time_t not_after, time_t now)
{
	if (not_after == 0)
		return GUI_EXPIRY_UNKNOWN;
	if (not_after <= now)
		return GUI_EXPIRY_PAST;
	if (not_after - now < (time_t)30 * 24 * 3600)
		return GUI_EXPIRY_SOON;
	return GUI_EXPIRY_OK;
}

/* ---- verdicts and secret prompts ---------------------------------------------- */

const char *gui_verdict_text(int verdict)
{
	switch (verdict) {
	case SISIGN_VERDICT_TRUSTED: return "Trusted: a chain reaches a trusted root";
	case SISIGN_VERDICT_SELF_SIGNED: return "Self-signed: signatures good, no trusted root";
	case SISIGN_VERDICT_UNTRUSTED: return "Untrusted: signatures good, no chain to a trusted root";
	case SISIGN_VERDICT_INVALID: return "Invalid: a signature, file hash or the structure is wrong";
	case SISIGN_VERDICT_UNSIGNED: return "Unsigned: no signature";
	default: return "Verified";
	}
}

/* A token label or file name for a one-line prompt: control characters
 * shown as '?'. */
static char *printable(const char *s)
{
	char *c = g_strdup(s ? s : ""), *p;

	for (p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return c;
}

void gui_secret_prompt_make(const char *kind, const char *what, int tries_left, struct gui_secret_prompt *out)
{
	char *w = printable(what);

	memset(out, 0, sizeof *out);
	if (g_strcmp0(kind, "passphrase") == 0) {
		char *base = g_path_get_basename(w);
		out->title = g_strdup("Key passphrase");
		out->prompt = g_strdup_printf("Passphrase for the key file %s", base);
		g_free(base);
	} else {
		out->title = g_strdup("Token PIN");
		out->prompt = g_strdup_printf("PIN for token \"%s\"", w);
		/* token.h: FINAL_TRY is passed as 1, COUNT_LOW as SISIGN_TRIES_LOW
		 * (PKCS#11 gives no count, only "a wrong PIN was entered"). */
		if (tries_left == 1) {
			out->final = TRUE;
			out->warning = g_strdup("Final try: one more wrong PIN locks this token.");
		} else if (tries_left > 1) {
			out->warning = g_strdup_printf("%d tries left before the token locks.", tries_left);
		} else if (tries_left == SISIGN_TRIES_LOW) {
			out->warning = g_strdup("PIN tries left: low. A wrong PIN was entered before; "
						"a few more wrong ones lock this token.");
		}
	}
	g_free(w);
}

void gui_secret_prompt_clear(struct gui_secret_prompt *p)
{
	g_free(p->title);
	g_free(p->prompt);
	g_free(p->warning);
	memset(p, 0, sizeof *p);
}

/* ---- "Signing with:" ------------------------------------------------------------ */

/* One attribute of a one-line subject ("CN=Jane Dev, O=Acme" as the library
 * prints it, or "/CN=Jane Dev/O=Acme"); backslash escapes undone.  NULL if
 * absent. */
static char *subject_attr(const char *subject, const char *want)
{
	char sep = subject[0] == '/' ? '/' : ',';
	const char *p = subject[0] == '/' ? subject + 1 : subject;
	GString *part = g_string_new(NULL);
	char *found = NULL;

	for (;; p++) {
		if (*p == '\\' && p[1]) {
			g_string_append_c(part, *++p);
			continue;
		}
		if (*p && *p != sep && !(sep == ',' && *p == '+')) {
			g_string_append_c(part, *p);
			continue;
		}
		/* One "KEY=value" part. */
		{
			char *eq = strchr(part->str, '=');
			if (eq) {
				char *k = g_strstrip(g_strndup(part->str, (gsize)(eq - part->str)));
				if (g_ascii_strcasecmp(k, want) == 0 && !found)
					found = g_strstrip(g_strdup(eq + 1));
				g_free(k);
			}
		}
		g_string_truncate(part, 0);
		if (!*p)
			break;
	}
	g_string_free(part, TRUE);
	return found;
}

char *gui_subject_short(const char *subject)
{
	char *cn, *o, *t;

	if (!subject)
		return g_strdup("");
	cn = subject_attr(subject, "CN");
	o = subject_attr(subject, "O");
	if (cn && *cn && o && *o)
		t = g_strdup_printf("%s (%s)", cn, o);
	else if (cn && *cn)
		t = g_strdup(cn);
	else if (o && *o)
		t = g_strdup(o);
	else
		t = g_strdup(subject);
	g_free(cn);
	g_free(o);
	return t;
}

/* An RFC 7512 attribute value, percent-decoded, as readable text. */
static char *uri_text(const char *v)
{
	GBytes *b = g_uri_unescape_bytes(v, -1, NULL, NULL);
	char *t, *u;
	gsize len = 0;
	const char *d;

	if (!b)
		return printable(v);
	d = g_bytes_get_data(b, &len);
	t = g_strndup(d ? d : "", len);
	g_bytes_unref(b);
	u = g_utf8_make_valid(t, -1);
	g_free(t);
	t = printable(u);
	g_free(u);
	return t;
}

/* An id attribute's bytes as lowercase hex ("01a2"). */
static char *uri_hex(const char *v)
{
	GBytes *b = g_uri_unescape_bytes(v, -1, NULL, NULL);
	const guchar *d;
	gsize len = 0;
	char *s;

	if (!b)
		return printable(v);
	d = g_bytes_get_data(b, &len);
	s = g_malloc(len * 2 + 1);
	sisign_hex(d, len, s, len * 2 + 1);
	g_bytes_unref(b);
	return s;
}

char *gui_key_describe(const char *key_uri, const char *key_label, const char *subject)
{
	GString *s = g_string_new(NULL);
	char *token = NULL, *object = NULL, *id = NULL, *serial = NULL, *path, *q, **attrs;
	guint i;

	if (!key_uri || !g_str_has_prefix(key_uri, "pkcs11:")) {
		g_string_free(s, TRUE);
		return printable(key_uri ? key_uri : "");
	}
	path = g_strdup(key_uri + strlen("pkcs11:"));
	if ((q = strchr(path, '?')))
		*q = '\0';
	attrs = g_strsplit(path, ";", -1);
	for (i = 0; attrs[i]; i++) {
		char *eq = strchr(attrs[i], '=');
		if (!eq)
			continue;
		*eq = '\0';
		if (strcmp(attrs[i], "token") == 0 && !token)
			token = uri_text(eq + 1);
		else if (strcmp(attrs[i], "object") == 0 && !object)
			object = uri_text(eq + 1);
		else if (strcmp(attrs[i], "id") == 0 && !id)
			id = uri_hex(eq + 1);
		else if (strcmp(attrs[i], "serial") == 0 && !serial)
			serial = uri_text(eq + 1);
	}
	if (token)
		g_string_append_printf(s, "Token \"%s\"\n", token);
	else if (serial)
		g_string_append_printf(s, "Token with serial %s\n", serial);
	else
		g_string_append(s, "Token: any\n");
	if (!object && key_label && *key_label)
		object = printable(key_label);
	if (object)
		g_string_append_printf(s, "Key \"%s\"%s%s%s", object, id ? " (id " : "", id ? id : "", id ? ")" : "");
	else if (id)
		g_string_append_printf(s, "Key with id %s", id);
	else
		g_string_append(s, "Key: any");
	if (subject) {
		char *sh = gui_subject_short(subject), *p = printable(sh);
		g_string_append_printf(s, "\nCertificate: %s", *p ? p : "(empty subject)");
		g_free(sh);
		g_free(p);
	}
	g_strfreev(attrs);
	g_free(path);
	g_free(token);
	g_free(object);
	g_free(id);
	g_free(serial);
	return g_string_free(s, FALSE);
}

/* ---- the batch worker ----------------------------------------------------------
 *
 * Threads: the main thread (model, rows, callbacks to the UI); one GLib
 * thread per GUI batch that opens the identity (asking for the secret
 * through the main loop) and then blocks in sisign_batch_run(); and the
 * library's worker threads, whose result and progress callbacks only copy
 * what they need and g_idle_add() it to the main loop. */

struct batch_row {
	guint idx;               /* row in the model */
	char *input;
	char *output;            /* the file written; the input itself in place; NULL for verify */
	char *pre_error;         /* refused before the batch ran: why */
};

struct gui_batch {
	struct gui_model *model; /* NULL once the model is gone */
	struct gui_batch_params p;
	struct gui_settings s;   /* deep copy */
	char **trust;
	GArray *rows;            /* struct batch_row */
	GArray *job_row;         /* guint: library job index -> index into rows */
	guint npre;              /* rows refused before the run (count as done) */
	GThread *thread;
	gint cancelled;          /* atomic */

	GMutex lock;             /* lib, and the secret hand-over */
	struct sisign_batch *lib; /* while sisign_batch_run() may be running */

	/* Secret hand-over between the batch thread and the main loop. */
	GCond cond;
	gboolean secret_pending;
	gboolean secret_answered;
	char *secret;            /* answer, wiped and freed by the batch thread */
};

struct row_update {
	struct gui_batch *b;
	guint row;               /* index into b->rows */
	enum gui_job_state state;
	char *status;
	char *output;
	int verdict;
	gboolean reload;
	struct gui_check *check;  /* the install rules on output, or NULL: unchanged */
};

struct progress_update {
	struct gui_batch *b;
	guint done, total;
};

struct secret_request {
	struct gui_batch *b;
	char *kind, *what;
	int tries_left;
};

struct batch_done {
	struct gui_batch *b;
	char *error;
};

static void settings_copy(struct gui_settings *d, const struct gui_settings *s)
{
	memset(d, 0, sizeof *d);
	d->identity = s->identity;
	d->key_uri = g_strdup(s->key_uri);
	d->key_file = g_strdup(s->key_file);
	d->cert_file = g_strdup(s->cert_file);
	d->module = g_strdup(s->module);
	d->output_mode = s->output_mode;
	d->suffix = g_strdup(s->suffix);
	d->output_folder = g_strdup(s->output_folder);
	d->in_place = s->in_place;
	d->trust = s->trust ? g_strdupv(s->trust) : NULL;
}

static void batch_free(struct gui_batch *b)
{
	guint i;

	for (i = 0; i < b->rows->len; i++) {
		struct batch_row *r = &g_array_index(b->rows, struct batch_row, i);
		g_free(r->input);
		g_free(r->output);
		g_free(r->pre_error);
	}
	g_array_unref(b->rows);
	g_array_unref(b->job_row);
	gui_settings_clear(&b->s);
	g_strfreev(b->trust);
	if (b->secret) {
		sisign_secret_free(b->secret, strlen(b->secret) + 1);
		b->secret = NULL;
	}
	g_mutex_clear(&b->lock);
	g_cond_clear(&b->cond);
	g_free(b);
}

static gboolean row_update_idle(gpointer data)
{
	struct row_update *u = data;
	struct gui_batch *b = u->b;
	struct batch_row *r = &g_array_index(b->rows, struct batch_row, u->row);
	struct gui_job *j = b->model ? gui_model_job(b->model, r->idx) : NULL;

	if (j && strcmp(j->path, r->input) == 0) {
		j->state = u->state;
		g_free(j->status);
		j->status = u->status;
		u->status = NULL;
		g_free(j->output);
		j->output = u->output;
		u->output = NULL;
		/* What the Signatures column counts: the file just written (a
		 * sign or remove-signature beside the input or in a folder). */
		j->out_nchains = j->output && u->state == GUI_JOB_DONE && strcmp(j->output, j->path) != 0 ?
			count_chains(j->output) : -1;
		if (u->verdict >= 0 || u->state == GUI_JOB_DONE)
			j->verdict = u->verdict;
		if (u->reload)
			job_reload(j, u->check == NULL);
		if (u->check) {
			gui_check_clear(&j->check);
			j->check = *u->check;
			g_clear_pointer(&u->check, g_free);
		}
		if (b->p.on_row)
			b->p.on_row(b, r->idx, b->p.user);
	}
	g_free(u->status);
	g_free(u->output);
	if (u->check) {
		gui_check_clear(u->check);
		g_free(u->check);
	}
	g_free(u);
	return G_SOURCE_REMOVE;
}

/* Any thread: hand a row's new state (and, check not NULL, the install
 * rules on output, taken over) to the main loop. */
static void post_row_check(struct gui_batch *b, guint row, enum gui_job_state st, char *status,
	const char *output, int verdict, gboolean reload, struct gui_check *check)
{
	struct row_update *u = g_new0(struct row_update, 1);

	u->check = check;

	u->b = b;
	u->row = row;
	u->state = st;
	u->status = status;
	u->output = g_strdup(output);
	u->verdict = verdict;
	u->reload = reload;
	g_idle_add(row_update_idle, u);
}

static void post_row(struct gui_batch *b, guint row, enum gui_job_state st, char *status, const char *output,
	int verdict, gboolean reload)
{
	post_row_check(b, row, st, status, output, verdict, reload, NULL);
}

/* The install rules on the file an operation wrote (a library worker
 * thread): what the row shows from now on.  A signed package's come with
 * its batch result (the batch checks it before writing it, as `sisign
 * sign` does); a package whose signature was removed, or one the batch
 * skipped, is read again and checked here. */
static struct gui_check *check_output(const char *path, const struct sisign_batch_result *res)
{
	struct gui_check *c = g_new0(struct gui_check, 1);

	if (res && res->check_worst >= 0)
		check_fill(c, res->check_worst, res->findings, res->nfindings);
	else
		gui_check_run(path, c);
	return c;
}

static gboolean progress_idle(gpointer data)
{
	struct progress_update *u = data;

	if (u->b->p.on_progress)
		u->b->p.on_progress(u->b, u->done, u->total, u->b->p.user);
	g_free(u);
	return G_SOURCE_REMOVE;
}

static void post_progress(struct gui_batch *b, guint done)
{
	struct progress_update *u = g_new0(struct progress_update, 1);

	u->b = b;
	u->done = done;
	u->total = b->rows->len;
	g_idle_add(progress_idle, u);
}

static gboolean secret_idle(gpointer data)
{
	struct secret_request *q = data;
	struct gui_batch *b = q->b;
	gboolean ask;

	g_mutex_lock(&b->lock);
	ask = b->secret_pending && !b->secret_answered;
	g_mutex_unlock(&b->lock);
	if (ask && b->p.on_secret)
		b->p.on_secret(b, q->kind, q->what, q->tries_left, b->p.user);
	else if (ask)
		gui_batch_secret_reply(b, NULL);
	g_free(q->kind);
	g_free(q->what);
	g_free(q);
	return G_SOURCE_REMOVE;
}

/* The sisign_secret_cb the library calls on the batch thread: post the
 * request to the main loop and wait for the answer (or a cancel). */
static int worker_secret_cb(void *userdata, const char *kind, const char *what, int tries_left, char *buf,
	size_t bufsize)
{
	struct gui_batch *b = userdata;
	struct secret_request *q;
	int r = SISIGN_ERR_CANCELLED;

	if (g_atomic_int_get(&b->cancelled))
		return SISIGN_ERR_CANCELLED;
	q = g_new0(struct secret_request, 1);
	q->b = b;
	q->kind = g_strdup(kind ? kind : "pin");
	q->what = g_strdup(what ? what : "");
	q->tries_left = tries_left;
	g_mutex_lock(&b->lock);
	/* Again under the lock: a Cancel between the first look and here found
	 * no prompt pending to answer, so it must not open one now. */
	if (g_atomic_int_get(&b->cancelled)) {
		g_mutex_unlock(&b->lock);
		g_free(q->kind);
		g_free(q->what);
		g_free(q);
		return SISIGN_ERR_CANCELLED;
	}
	b->secret_pending = TRUE;
	b->secret_answered = FALSE;
	g_idle_add(secret_idle, q);
	while (!b->secret_answered)
		g_cond_wait(&b->cond, &b->lock);
	b->secret_pending = FALSE;
	if (b->secret) {
		size_t len = strlen(b->secret);
		if (len + 1 > bufsize) {
			r = SISIGN_ERR_TOO_LARGE;
		} else {
			memcpy(buf, b->secret, len + 1);
			r = (int)len;
		}
		sisign_secret_free(b->secret, len + 1);
		b->secret = NULL;
	}
	g_mutex_unlock(&b->lock);
	return r;
}

void gui_batch_secret_reply(struct gui_batch *b, const char *secret)
{
	g_mutex_lock(&b->lock);
	if (b->secret_pending && !b->secret_answered) {
		/* In the secure heap; the library applies sisign_secret_check
		 * to it, so an empty answer never reaches C_Login. */
		b->secret = NULL;
		if (secret && (b->secret = sisign_secret_alloc(strlen(secret) + 1)) != NULL)
			memcpy(b->secret, secret, strlen(secret) + 1);
		b->secret_answered = TRUE;
		g_cond_signal(&b->cond);
	}
	g_mutex_unlock(&b->lock);
}

/* The model is going away: the batch keeps running on its own copies,
 * cancelled, and touches no row any more. */
static void batch_detach(struct gui_batch *b)
{
	b->model = NULL;
	gui_batch_cancel(b);
}

void gui_batch_cancel(struct gui_batch *b)
{
	g_atomic_int_set(&b->cancelled, 1);
	/* The batch thread publishes lib under the lock and checks cancelled
	 * after publishing, so a cancel is never lost between the two. */
	g_mutex_lock(&b->lock);
	if (b->lib)
		sisign_batch_cancel(b->lib);
	g_mutex_unlock(&b->lock);
	gui_batch_secret_reply(b, NULL);
}

gboolean gui_model_busy(const struct gui_model *m)
{
	return m->batch != NULL;
}

static gboolean done_idle(gpointer data)
{
	struct batch_done *d = data;
	struct gui_batch *b = d->b;

	g_thread_join(b->thread);
	if (b->model)
		b->model->batch = NULL;
	if (b->p.on_done)
		b->p.on_done(b, d->error, b->p.user);
	g_free(d->error);
	g_free(d);
	batch_free(b);
	return G_SOURCE_REMOVE;
}

static const char *op_running_word(enum gui_op op)
{
	switch (op) {
	case GUI_OP_SIGN: return "Signing";
	case GUI_OP_UNSIGN: return "Removing signature";
	default: return "Verifying";
	}
}

static const char *op_done_word(enum gui_op op)
{
	switch (op) {
	case GUI_OP_SIGN: return "Signed";
	case GUI_OP_UNSIGN: return "Signature removed";
	default: return "Verified";
	}
}

/* Open the signing identity once per batch (the PIN is asked here, once:
 * the token signer keeps its one login for every package). */
static int open_identity(struct gui_batch *b, struct sisign_signer **signer, struct sisign_identity **id,
	char **why)
{
	struct sisign_token_opts to;
	struct sisign_identity_opts io;
	struct sisign_error err;
	int r;

	*signer = NULL;
	*id = NULL;
	sisign_error_clear(&err);
	if (b->s.identity == GUI_IDENTITY_TOKEN && b->s.key_uri) {
		memset(&to, 0, sizeof to);
		to.module = b->s.module;
		to.pin_cb = worker_secret_cb;
		to.pin_cb_data = b;
		/* The library refuses a login on the final PIN try by default,
		 * because a CLI may feed a PIN from a file or the environment
		 * unseen.  Here the PIN is always typed into the dialog, which
		 * then says "Final try: one more wrong PIN locks this token" and
		 * can be cancelled; refusing would leave no way to sign at all. */
		to.force_final_try = 1;
		r = sisign_signer_from_pkcs11(b->s.key_uri, &to, signer, &err);
	} else if (b->s.identity == GUI_IDENTITY_FILE && b->s.key_file &&
		   (b->s.cert_file || sisign_key_file_is_pkcs12(b->s.key_file))) {
		r = sisign_signer_from_key_file(b->s.key_file, worker_secret_cb, b, signer, &err);
	} else {
		*why = g_strdup("Choose a signing key first: a key on a token, or a key file and its certificate.");
		return SISIGN_ERR_INVALID_ARG;
	}
	if (r != SISIGN_OK) {
		char *t = gui_error_text(r, &err);
		*why = r == SISIGN_ERR_CANCELLED ? g_strdup("Cancelled: no PIN or passphrase given.") :
						   g_strdup_printf("Cannot open the signing key: %s", t);
		g_free(t);
		return r;
	}
	memset(&io, 0, sizeof io);
	io.cert_file = b->s.identity == GUI_IDENTITY_FILE ? b->s.cert_file : NULL;
	sisign_error_clear(&err);
	r = sisign_identity_new(*signer, &io, id, &err);
	if (r != SISIGN_OK) {
		char *t = gui_error_text(r, &err);
		*why = g_strdup_printf("Cannot use this key and certificate: %s", t);
		g_free(t);
		g_clear_pointer(signer, sisign_signer_free);
		return r;
	}
	return SISIGN_OK;
}

/* sisign_batch_result_cb: a library worker thread (calls serialised).
 * Copies the result into a row update for the main loop, with the install
 * rules run on the file a sign / remove-signature wrote. */
static void lib_on_result(void *userdata, size_t index, const struct sisign_batch_result *res)
{
	struct gui_batch *b = userdata;
	guint ri;
	struct batch_row *row;

	if (index >= b->job_row->len)
		return;
	ri = g_array_index(b->job_row, guint, index);
	row = &g_array_index(b->rows, struct batch_row, ri);
	if (res->status == SISIGN_JOB_FAILED) {
		post_row(b, ri, GUI_JOB_FAILED, gui_error_text(res->err.code, &res->err), NULL, -1, FALSE);
	} else if (b->p.op == GUI_OP_VERIFY) {
		post_row(b, ri, res->verdict == SISIGN_VERDICT_INVALID ? GUI_JOB_FAILED : GUI_JOB_DONE,
			g_strdup(gui_verdict_text(res->verdict)), NULL, res->verdict, FALSE);
	} else if (b->s.in_place) {
		post_row_check(b, ri, GUI_JOB_DONE, g_strdup_printf("%s (in place)", op_done_word(b->p.op)),
			row->output, -1, TRUE, check_output(row->output, res));
	} else {
		char *base = g_path_get_basename(row->output);
		char *status = g_strdup_printf("%s → %s", op_done_word(b->p.op), base);
		/* The first warning (weak key, stale CRC, ...) goes on the row too. */
		if (res->nwarnings && res->warnings && res->warnings[0]) {
			size_t len = strcspn(res->warnings, "\n");
			char *w = g_strdup_printf("%s — warning: %.*s%s", status, (int)len, res->warnings,
				res->nwarnings > 1 ? " (and more)" : "");
			g_free(status);
			status = w;
		}
		post_row_check(b, ri, GUI_JOB_DONE, status, row->output, -1, FALSE, check_output(row->output, res));
		g_free(base);
	}
}

/* sisign_batch_start_cb: a library worker thread (calls serialised). */
static void lib_on_start(void *userdata, size_t index)
{
	struct gui_batch *b = userdata;
	guint ri;

	if (index >= b->job_row->len)
		return;
	ri = g_array_index(b->job_row, guint, index);
	post_row(b, ri, GUI_JOB_RUNNING, g_strdup_printf("%s…", op_running_word(b->p.op)), NULL, -1, FALSE);
}

/* sisign_batch_progress_cb: a library worker thread (calls serialised). */
static void lib_on_progress(void *userdata, const struct sisign_batch_progress *p)
{
	struct gui_batch *b = userdata;

	post_progress(b, b->npre + (guint)p->files_done);
}

static gpointer batch_thread(gpointer data)
{
	struct gui_batch *b = data;
	struct sisign_signer *signer = NULL;
	struct sisign_identity *id = NULL;
	struct sisign_batch *lib = NULL;
	struct sisign_batch_opts bo;
	struct sisign_verify_opts vo;
	struct sisign_error err;
	struct batch_done *d = g_new0(struct batch_done, 1);
	guint i;
	size_t k;
	int r;

	d->b = b;
	if (g_atomic_int_get(&b->cancelled)) {
		/* Cancelled before anything ran. */
		for (i = 0; i < b->rows->len; i++)
			post_row(b, i, GUI_JOB_CANCELLED, g_strdup("Cancelled"), NULL, -1, FALSE);
		goto out;
	}
	if (b->p.op == GUI_OP_SIGN && open_identity(b, &signer, &id, &d->error) != SISIGN_OK) {
		for (i = 0; i < b->rows->len; i++)
			post_row(b, i, GUI_JOB_FAILED, g_strdup(d->error), NULL, -1, FALSE);
		goto out;
	}
	memset(&vo, 0, sizeof vo);
	vo.trust = (const char *const *)b->trust;
	memset(&bo, 0, sizeof bo);
	bo.op = b->p.op == GUI_OP_SIGN ? SISIGN_BATCH_SIGN :
		b->p.op == GUI_OP_UNSIGN ? SISIGN_BATCH_UNSIGN : SISIGN_BATCH_VERIFY;
	bo.identity = id;
	bo.signer = signer;
	bo.unsign_all = b->p.unsign_all;
	bo.threads = 0;            /* one per CPU; token signatures still go one at a time */
	bo.clean_stale_temps = 1;  /* "OUT.tmpXXXXXX" left by a killed earlier run */
	bo.verify = &vo;
	bo.on_result = lib_on_result;
	/* the install rules on each signed package, for its row (check_output) */
	bo.check = bo.op == SISIGN_BATCH_SIGN;
	bo.on_progress = lib_on_progress;
	bo.on_start = lib_on_start;
	bo.userdata = b;
	sisign_error_clear(&err);
	r = sisign_batch_new(&bo, &lib, &err);
	if (r != SISIGN_OK) {
		char *t = gui_error_text(r, &err);
		d->error = g_strdup_printf("Cannot start the batch: %s", t);
		g_free(t);
		for (i = 0; i < b->rows->len; i++)
			post_row(b, i, GUI_JOB_FAILED, g_strdup(d->error), NULL, -1, FALSE);
		goto out;
	}
	for (i = 0; i < b->rows->len; i++) {
		struct batch_row *row = &g_array_index(b->rows, struct batch_row, i);

		if (!row->pre_error) {
			/* In place: NULL output, the library replaces the input
			 * by rename once the new file is complete. */
			sisign_error_clear(&err);
			r = sisign_batch_add(lib, row->input, b->s.in_place ? NULL : row->output, &err);
			if (r == SISIGN_OK) {
				g_array_append_val(b->job_row, i);
				continue;
			}
			row->pre_error = gui_error_text(r, &err);
		}
		b->npre++;
		post_row(b, i, GUI_JOB_FAILED, g_strdup(row->pre_error), NULL, -1, FALSE);
	}
	if (b->npre)
		post_progress(b, b->npre);
	/* Publish lib for gui_batch_cancel, then look at a cancel that came
	 * before: either way sisign_batch_cancel is called. */
	g_mutex_lock(&b->lock);
	b->lib = lib;
	g_mutex_unlock(&b->lock);
	if (g_atomic_int_get(&b->cancelled))
		sisign_batch_cancel(lib);
	sisign_error_clear(&err);
	r = b->job_row->len ? sisign_batch_run(lib, &err) : SISIGN_OK;
	g_mutex_lock(&b->lock);
	b->lib = NULL;
	g_mutex_unlock(&b->lock);
	if (r == SISIGN_ERR_TOKEN_FAILED) {
		/* The token went away or broke: the batch stopped at the first
		 * such signature (its row has the error); the rest never began. */
		char *t = gui_error_text(r, &err);
		d->error = g_strdup_printf("Signing stopped: %s", t);
		g_free(t);
	} else if (r != SISIGN_OK && r != SISIGN_ERR_CANCELLED) {
		char *t = gui_error_text(r, &err);
		d->error = g_strdup_printf("The batch could not run: %s", t);
		g_free(t);
	}
	/* Jobs never started (cancelled, or stopped by a failing token) got
	 * no result callback. */
	for (k = 0; k < sisign_batch_count(lib); k++) {
		struct sisign_batch_result res;
		if (sisign_batch_result(lib, k, &res) == SISIGN_OK && res.status == SISIGN_JOB_PENDING)
			post_row(b, g_array_index(b->job_row, guint, k), GUI_JOB_CANCELLED,
				g_strdup(r == SISIGN_ERR_TOKEN_FAILED ? "Not started: signing stopped when the token failed"
					: d->error ? d->error : "Cancelled"), NULL, -1, FALSE);
	}
out:
	sisign_batch_free(lib);
	sisign_identity_free(id);
	sisign_signer_free(signer);
	g_idle_add(done_idle, d);
	return NULL;
}

/* Does another row of this batch write or read `path`?  Output collisions
 * are the caller's to prevent (batch.h: "two jobs must not share an
 * output"), and with worker threads a package may be read while another
 * job replaces it. */
static char *clash(GHashTable *outputs, GHashTable *inputs, const char *out, const char *in)
{
	char *base = g_path_get_basename(out), *why = NULL;

	if (g_hash_table_contains(outputs, out))
		why = g_strdup_printf("Another package in this batch also writes %s; "
				      "sign them separately or use the suffix rule.", base);
	else if (strcmp(out, in) != 0 && g_hash_table_contains(inputs, out))
		why = g_strdup_printf("The output %s is another package in this batch; "
				      "it would be replaced while being read.", base);
	g_free(base);
	return why;
}

struct gui_batch *gui_batch_start(struct gui_model *m, const struct gui_batch_params *p, const guint *idx,
	guint n, GError **err)
{
	struct gui_batch *b;
	struct gui_output_rules rules;
	GHashTable *outputs, *inputs;
	guint i, count = n ? n : m->jobs->len;

	if (m->batch) {
		g_set_error(err, GUI_MODEL_ERROR, GUI_MODEL_ERROR_RULES, "Another operation is still running.");
		return NULL;
	}
	if (count == 0) {
		g_set_error(err, GUI_MODEL_ERROR, GUI_MODEL_ERROR_RULES, "Add packages first.");
		return NULL;
	}
	b = g_new0(struct gui_batch, 1);
	b->model = m;
	b->p = *p;
	settings_copy(&b->s, p->settings);
	b->p.settings = &b->s;
	b->trust = p->trust ? g_strdupv((char **)p->trust) : b->s.trust ? g_strdupv(b->s.trust) : NULL;
	b->p.trust = NULL;
	g_mutex_init(&b->lock);
	g_cond_init(&b->cond);
	b->rows = g_array_new(FALSE, TRUE, sizeof(struct batch_row));
	b->job_row = g_array_new(FALSE, FALSE, sizeof(guint));
	memset(&rules, 0, sizeof rules);
	rules.mode = b->s.output_mode;
	rules.suffix = b->s.suffix;
	rules.folder = b->s.output_folder;
	rules.in_place = b->s.in_place;
	outputs = g_hash_table_new(g_str_hash, g_str_equal);
	inputs = g_hash_table_new(g_str_hash, g_str_equal);
	for (i = 0; i < count; i++) {
		struct gui_job *j = gui_model_job(m, n ? idx[i] : i);
		if (j && !j->load_error)
			g_hash_table_add(inputs, j->path);
	}
	for (i = 0; i < count; i++) {
		struct batch_row r;
		struct gui_job *j = gui_model_job(m, n ? idx[i] : i);
		GError *e = NULL;
		char *why;

		if (!j)
			continue;
		memset(&r, 0, sizeof r);
		r.idx = n ? idx[i] : i;
		r.input = g_strdup(j->path);
		if (j->load_error) {
			r.pre_error = g_strdup(j->load_error);
		} else if (p->op != GUI_OP_VERIFY && !(r.output = gui_output_path(j->path, &rules, &e))) {
			r.pre_error = g_strdup(e->message);
			g_error_free(e);
		} else if (r.output && (why = clash(outputs, inputs, r.output, r.input))) {
			r.pre_error = why;
			g_clear_pointer(&r.output, g_free);
		} else if (r.output) {
			g_hash_table_add(outputs, r.output);
		}
		j->state = GUI_JOB_QUEUED;
		g_free(j->status);
		j->status = g_strdup("Queued");
		g_array_append_val(b->rows, r);
	}
	g_hash_table_unref(outputs);
	g_hash_table_unref(inputs);
	m->batch = b;
	b->thread = g_thread_new("sisign-batch", batch_thread, b);
	return b;
}

/* ---- certificate wizard ------------------------------------------------------------ */

static void subject_part(GString *s, const char *key, const char *v)
{
	const char *p;

	if (!v || !*v)
		return;
	g_string_append_printf(s, "/%s=", key);
	for (p = v; *p; p++) {
		if (*p == '/' || *p == '\\')
			g_string_append_c(s, '\\');
		g_string_append_c(s, *p);
	}
}

char *gui_subject_build(const struct gui_subject *f)
{
	GString *s = g_string_new(NULL);

	subject_part(s, "CN", f->cn);
	subject_part(s, "OU", f->ou);
	subject_part(s, "O", f->o);
	subject_part(s, "L", f->l);
	subject_part(s, "ST", f->st);
	subject_part(s, "C", f->c);
	subject_part(s, "emailAddress", f->email);
	if (s->len == 0) {
		g_string_free(s, TRUE);
		return NULL;
	}
	return g_string_free(s, FALSE);
}

void gui_wizard_result_clear(struct gui_wizard_result *r)
{
	g_free(r->key_uri);
	g_free(r->key_file);
	g_free(r->cert_file);
	g_free(r->csr_file);
	g_free(r->summary);
	memset(r, 0, sizeof *r);
}

/* The wizard asks for its PIN / passphrase in its own form; this hands it
 * to the library on request. */
static int wizard_secret_cb(void *userdata, const char *kind, const char *what, int tries_left, char *buf,
	size_t size)
{
	const char *secret = userdata;
	size_t len;

	(void)kind;
	(void)what;
	(void)tries_left;
	if (!secret || !*secret)
		return SISIGN_ERR_CANCELLED;
	len = strlen(secret);
	if (len + 1 > size)
		return SISIGN_ERR_TOO_LARGE;
	memcpy(buf, secret, len + 1);
	return (int)len;
}

static gboolean wizard_fail(GError **err, const char *what, int r, const struct sisign_error *e)
{
	char *t = gui_error_text(r, e);

	g_set_error(err, GUI_MODEL_ERROR, GUI_MODEL_ERROR_LIB, "%s: %s", what, t);
	g_free(t);
	return FALSE;
}

gboolean gui_wizard_run(const struct gui_wizard_params *p, struct gui_wizard_result *res, GError **err)
{
	struct sisign_keygen_params kp;
	struct sisign_cert_params cp;
	struct sisign_token_opts to;
	struct sisign_key_ref ref;
	struct sisign_keygen_result *kr = NULL;
	struct sisign_error e;
	unsigned char *der = NULL;
	size_t der_len = 0;
	GString *sum = g_string_new(NULL);
	gboolean ok = FALSE;
	int r;

	memset(res, 0, sizeof *res);
	memset(&kp, 0, sizeof kp);
	memset(&cp, 0, sizeof cp);
	memset(&to, 0, sizeof to);
	memset(&ref, 0, sizeof ref);
	kp.type = SISIGN_KEY_RSA;
	kp.bits = p->bits;
	cp.subject = p->subject;
	cp.days = p->days;
	sisign_error_clear(&e);
	if (!p->subject || !*p->subject) {
		g_set_error(err, GUI_MODEL_ERROR, GUI_MODEL_ERROR_RULES, "Fill in at least the common name (CN).");
		goto out;
	}
	r = sisign_subject_check(p->subject, NULL, &e);
	if (r != SISIGN_OK) {
		wizard_fail(err, "The subject is not valid", r, &e);
		goto out;
	}
	if (p->what == GUI_WIZ_CSR && (!p->out_file || !*p->out_file)) {
		g_set_error(err, GUI_MODEL_ERROR, GUI_MODEL_ERROR_RULES, "Choose where to save the certificate request.");
		goto out;
	}
	if (p->where == GUI_WIZ_TOKEN) {
		if (!p->token_uri || !p->label || !*p->label) {
			g_set_error(err, GUI_MODEL_ERROR, GUI_MODEL_ERROR_RULES, "Choose a token and give the key a label.");
			goto out;
		}
		to.module = p->module;
		to.pin_cb = wizard_secret_cb;
		to.pin_cb_data = (void *)p->pin;
		kp.label = p->label;
		r = sisign_keygen_token(p->token_uri, &to, &kp, p->what == GUI_WIZ_SELFSIGNED ? &cp : NULL, &kr, &e);
		if (r != SISIGN_OK) {
			wizard_fail(err, "Could not make the key on the token", r, &e);
			goto out;
		}
		res->key_uri = g_strdup(kr->key_uri);
		g_string_append_printf(sum, "Key on the token: %s\n", kr->key_uri);
		if (p->what == GUI_WIZ_SELFSIGNED)
			g_string_append(sum, "Self-signed certificate stored on the token beside the key.\n");
		ref.uri = kr->key_uri;
		ref.token_opts = &to;
	} else {
		if (!p->key_file || !*p->key_file) {
			g_set_error(err, GUI_MODEL_ERROR, GUI_MODEL_ERROR_RULES, "Choose where to save the key file.");
			goto out;
		}
		if (p->what == GUI_WIZ_SELFSIGNED && (!p->out_file || !*p->out_file)) {
			g_set_error(err, GUI_MODEL_ERROR, GUI_MODEL_ERROR_RULES, "Choose where to save the certificate.");
			goto out;
		}
		r = sisign_keygen_file(&kp, p->key_file, 0, p->passphrase && *p->passphrase ? wizard_secret_cb : NULL,
			(void *)p->passphrase, p->what == GUI_WIZ_SELFSIGNED ? &cp : NULL, &kr, &e);
		if (r != SISIGN_OK) {
			wizard_fail(err, "Could not make the key file", r, &e);
			goto out;
		}
		res->key_file = g_strdup(p->key_file);
		g_string_append_printf(sum, "Key file: %s%s\n", p->key_file,
			p->passphrase && *p->passphrase ? " (encrypted)" : " (NOT encrypted)");
		if (p->what == GUI_WIZ_SELFSIGNED) {
			r = sisign_der_write_file(p->out_file, kr->cert_der, kr->cert_der_len, "CERTIFICATE", 0, &e);
			if (r != SISIGN_OK) {
				wizard_fail(err, "Could not save the certificate", r, &e);
				goto out;
			}
			res->cert_file = g_strdup(p->out_file);
			g_string_append_printf(sum, "Self-signed certificate: %s\n", p->out_file);
		}
		ref.key_file = p->key_file;
		ref.pass_cb = p->passphrase && *p->passphrase ? wizard_secret_cb : NULL;
		ref.pass_cb_data = (void *)p->passphrase;
	}
	if (p->what == GUI_WIZ_CSR) {
		r = sisign_csr_make(&ref, p->subject, SISIGN_DIGEST_SHA1, &der, &der_len, &e);
		if (r == SISIGN_OK)
			r = sisign_der_write_file(p->out_file, der, der_len, "CERTIFICATE REQUEST", 0, &e);
		if (r != SISIGN_OK) {
			wizard_fail(err, "Could not make the certificate request", r, &e);
			goto out;
		}
		res->csr_file = g_strdup(p->out_file);
		g_string_append_printf(sum, "Certificate request (send it to your CA): %s\n", p->out_file);
	}
	ok = TRUE;
out:
	sisign_keygen_result_free(kr);
	free(der);
	res->summary = g_string_free(sum, FALSE);
	if (!ok) {
		char *keep = res->summary;
		res->summary = NULL;
		gui_wizard_result_clear(res);
		res->summary = keep;
	}
	return ok;
}
