/* SPDX-License-Identifier: Apache-2.0 */
/* sisign-gtk's non-drawing logic (src/gui/app_model.c), without a display:
 * output path rules, settings persistence (never a PIN), adding files and
 * folders, certificate expiry classes, package descriptions, and the batch
 * worker on libsisign's batch engine (sign with an encrypted key file whose
 * passphrase is answered from the main loop, cancel, verify with and without
 * trusted roots, remove signature, output clashes), plus the PIN prompt's
 * tries-left text with the mock PKCS#11 module (MOCK_P11_MODULE; that part
 * skips without it).  Issue #12: the Signatures text after signing, rows of
 * the same file name from different folders, the "Signing with:" words for
 * a key URI and certificate subject, Details as rows, and the certificate
 * validity default shared with the CLI ($SISIGN; that part skips without
 * it).  Issue #13: the install rules (sisign check) on each row, when added
 * and after signing.  GLib + libsisign only.  Key files are made with the openssl command;
 * without it those parts skip. */
#include "app_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <sisign/check.h>
#include <sisign/keygen.h>
#include <sisign/package.h>
#include <sisign/token.h>
#include <sisign/verify.h>

static int failures, checks;

#define CHECK(c)                                                                          \
	do {                                                                                  \
		checks++;                                                                         \
		if (!(c)) {                                                                       \
			failures++;                                                                   \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);         \
		}                                                                                 \
	} while (0)
#define CHECK_STR(a, b)                                                                   \
	do {                                                                                  \
		const char *a_ = (a), *b_ = (b);                                                  \
		checks++;                                                                         \
		if (g_strcmp0(a_, b_) != 0) {                                                     \
			failures++;                                                                   \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n",         \
				__FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");      \
		}                                                                                 \
	} while (0)

static char *tmp;

/* A one-file package: a text file going to target. */
static void make_package_to(const char *path, uint32_t uid, const char *name, const char *target)
{
	char *src = g_build_filename(tmp, "payload.txt", NULL);
	const char *names[] = { name };
	struct sisign_pack_file f = { src, target, NULL, 0, 0, 0 };
	struct sisign_pack_opts o;
	struct sisign_datetime when = { 2024, 1, 2, 3, 4, 5 };
	struct sisign_error err;
	int r;

	g_file_set_contents(src, "hello from the gui model test\n", -1, NULL);
	memset(&o, 0, sizeof o);
	o.uid = uid;
	o.names = names;
	o.vendor = "sisign tests";
	o.version.major = 1;
	o.version.minor = 2;
	o.version.build = 3;
	o.files = &f;
	o.nfiles = 1;
	o.created = &when;
	r = sisign_pack(&o, path, &err);
	if (r != SISIGN_OK)
		fprintf(stderr, "sisign_pack %s: %s\n", path, err.message);
	CHECK(r == SISIGN_OK);
	g_free(src);
}

static void make_package(const char *path, uint32_t uid, const char *name)
{
	make_package_to(path, uid, name, "!:\\private\\e0001234\\payload.txt");
}

/* ---- output rules ------------------------------------------------------- */

static void test_output_paths(void)
{
	struct gui_output_rules r;
	GError *e = NULL;
	char *in = g_build_filename(tmp, "app.sis", NULL), *out, *want;

	memset(&r, 0, sizeof r);
	out = gui_output_path(in, &r, &e);
	want = g_build_filename(tmp, "app_signed.sis", NULL);
	CHECK_STR(out, want);
	g_free(out);
	g_free(want);

	r.suffix = "-v2";
	out = gui_output_path("/x/y/pkg.tar.sisx", &r, NULL);
	CHECK_STR(out, "/x/y/pkg.tar-v2.sisx");
	g_free(out);
	out = gui_output_path("/x/y/noext", &r, NULL);
	CHECK_STR(out, "/x/y/noext-v2");
	g_free(out);
	out = gui_output_path("/x/y/.hidden", &r, NULL);
	CHECK_STR(out, "/x/y/.hidden-v2");
	g_free(out);

	/* An empty suffix would be the input: refused. */
	r.suffix = "";
	out = gui_output_path(in, &r, &e);
	CHECK(out == NULL);
	CHECK(g_error_matches(e, GUI_MODEL_ERROR, GUI_MODEL_ERROR_RULES));
	g_clear_error(&e);

	/* Folder mode: needs a folder; the input's own folder is refused. */
	r.suffix = NULL;
	r.mode = GUI_OUTPUT_FOLDER;
	out = gui_output_path(in, &r, &e);
	CHECK(out == NULL);
	CHECK(g_error_matches(e, GUI_MODEL_ERROR, GUI_MODEL_ERROR_RULES));
	g_clear_error(&e);
	r.folder = tmp;
	out = gui_output_path(in, &r, &e);
	CHECK(out == NULL);
	CHECK(g_error_matches(e, GUI_MODEL_ERROR, GUI_MODEL_ERROR_OVERWRITE));
	g_clear_error(&e);
	r.folder = "/srv/out/";
	out = gui_output_path(in, &r, &e);
	CHECK_STR(out, "/srv/out/app.sis");
	g_free(out);

	/* ... unless "Overwrite input" is ticked. */
	r.in_place = TRUE;
	out = gui_output_path(in, &r, &e);
	CHECK_STR(out, in);
	g_free(out);

	/* Same file through another name (a symlink to the folder). */
	{
		char *link = g_build_filename(tmp, "alias", NULL);
		g_file_set_contents(in, "x", 1, NULL);
		CHECK(symlink(tmp, link) == 0);
		r.in_place = FALSE;
		r.folder = link;
		out = gui_output_path(in, &r, &e);
		CHECK(out == NULL);
		CHECK(g_error_matches(e, GUI_MODEL_ERROR, GUI_MODEL_ERROR_OVERWRITE));
		g_clear_error(&e);
		g_unlink(link);
		g_unlink(in);
		g_free(link);
	}
	g_free(in);
}

/* ---- settings ------------------------------------------------------------ */

static void test_settings(void)
{
	char *path = g_build_filename(tmp, "cfg", "sisign", "gui.ini", NULL), *data = NULL;
	struct gui_settings s, t;
	GError *e = NULL;
	GStatBuf st;

	memset(&s, 0, sizeof s);
	memset(&t, 0, sizeof t);
	/* Missing file: defaults, no error. */
	CHECK(gui_settings_load(&t, path, &e));
	CHECK(e == NULL);
	CHECK(t.identity == GUI_IDENTITY_NONE && t.output_mode == GUI_OUTPUT_SUFFIX && !t.in_place);

	s.identity = GUI_IDENTITY_TOKEN;
	gui_settings_set_str(&s.key_uri, "pkcs11:token=Dev;id=%01;type=private");
	gui_settings_set_str(&s.key_file, "/keys/dev.key");
	gui_settings_set_str(&s.cert_file, "/keys/dev.pem");
	gui_settings_set_str(&s.module, "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so");
	s.output_mode = GUI_OUTPUT_FOLDER;
	gui_settings_set_str(&s.output_folder, "/srv/out");
	gui_settings_set_str(&s.suffix, "_s");
	s.in_place = TRUE;
	{
		const char *roots[] = { "/etc/roots/a.pem", "/srv/roots;odd", NULL };
		s.trust = g_strdupv((char **)roots);
	}
	CHECK(gui_settings_save(&s, path, &e));
	CHECK(g_stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(gui_settings_load(&t, path, &e));
	CHECK(t.identity == GUI_IDENTITY_TOKEN);
	CHECK_STR(t.key_uri, s.key_uri);
	CHECK_STR(t.key_file, "/keys/dev.key");
	CHECK_STR(t.cert_file, "/keys/dev.pem");
	CHECK_STR(t.module, s.module);
	CHECK(t.output_mode == GUI_OUTPUT_FOLDER);
	CHECK_STR(t.output_folder, "/srv/out");
	CHECK_STR(t.suffix, "_s");
	CHECK(t.in_place);
	CHECK(t.trust && g_strv_length(t.trust) == 2);
	CHECK_STR(t.trust ? t.trust[0] : NULL, "/etc/roots/a.pem");
	CHECK_STR(t.trust && t.trust[0] ? t.trust[1] : NULL, "/srv/roots;odd");
	/* Nothing secret-looking is written. */
	CHECK(g_file_get_contents(path, &data, NULL, NULL));
	CHECK(data && !strstr(data, "\npin") && !strstr(data, "\npass") && !strstr(data, "pin-value"));
	g_free(data);

	/* A URI carrying a PIN, hand-edited into the file, is dropped. */
	CHECK(g_file_set_contents(path, "[identity]\nkind=token\nkey-uri=pkcs11:token=Dev;pin-value=1234\n", -1, NULL));
	CHECK(gui_settings_load(&t, path, &e));
	CHECK(t.key_uri == NULL);
	CHECK(t.identity == GUI_IDENTITY_TOKEN);

	/* Malformed: defaults and an error. */
	CHECK(g_file_set_contents(path, "this is not a key file\n[[[", -1, NULL));
	CHECK(!gui_settings_load(&t, path, &e));
	CHECK(e != NULL);
	g_clear_error(&e);
	CHECK(t.identity == GUI_IDENTITY_NONE);

	/* The default lives under the user config dir. */
	data = gui_settings_default_path();
	CHECK(g_str_has_prefix(data, g_get_user_config_dir()) && g_str_has_suffix(data, "/sisign/gui.ini"));
	g_free(data);
	gui_settings_clear(&s);
	gui_settings_clear(&t);
	g_free(path);
}

/* ---- rows -------------------------------------------------------------------- */

static void test_add_paths(void)
{
	struct gui_model *m = gui_model_new();
	char *dir = g_build_filename(tmp, "tree", NULL), *sub = g_build_filename(dir, "sub", NULL);
	char *a = g_build_filename(dir, "a.sis", NULL), *b = g_build_filename(sub, "b.SISX", NULL);
	char *bad = g_build_filename(dir, "broken.sis", NULL), *txt = g_build_filename(dir, "notes.txt", NULL);
	char *hidden = g_build_filename(dir, ".h.sis", NULL);
	GError *e = NULL;
	struct gui_job *j;
	guint idx[1];

	g_mkdir_with_parents(sub, 0700);
	make_package(a, 0xE0001001, "Alpha");
	make_package(b, 0xE0001002, "Beta");
	make_package(hidden, 0xE0001003, "Hidden");
	g_file_set_contents(bad, "not a SIS file at all", -1, NULL);
	g_file_set_contents(txt, "ignored", -1, NULL);

	CHECK(gui_model_add_path(m, dir, &e) == 3); /* a, broken, sub/b; not notes.txt or .h.sis */
	CHECK(e == NULL);
	CHECK(gui_model_njobs(m) == 3);
	j = gui_model_job(m, 0);
	CHECK_STR(j->path, a);
	CHECK_STR(j->name, "Alpha");
	CHECK(j->uid == 0xE0001001);
	CHECK_STR(j->version, "1.2.3");
	CHECK(j->nchains == 0 && j->load_error == NULL && j->verdict == -1);
	j = gui_model_job(m, 1);
	CHECK_STR(j->path, bad);
	CHECK(j->load_error != NULL);
	j = gui_model_job(m, 2);
	CHECK_STR(j->path, b);
	CHECK(j->uid == 0xE0001002);
	/* Duplicates (also through a relative-looking path) are ignored. */
	CHECK(gui_model_add_path(m, a, NULL) == 0);
	CHECK(gui_model_add_path(m, sub, NULL) == 0);
	/* A missing path is an error in words. */
	CHECK(gui_model_add_path(m, "/nonexistent/x.sis", &e) == 0);
	CHECK(g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT));
	CHECK(e && strstr(e->message, "/nonexistent/x.sis"));
	g_clear_error(&e);
	idx[0] = 1;
	gui_model_remove(m, idx, 1);
	CHECK(gui_model_njobs(m) == 2);
	CHECK_STR(gui_model_job(m, 1)->path, b);
	gui_model_clear(m);
	CHECK(gui_model_njobs(m) == 0);
	gui_model_free(m);
	g_free(dir);
	g_free(sub);
	g_free(a);
	g_free(b);
	g_free(bad);
	g_free(txt);
	g_free(hidden);
}

static void test_expiry(void)
{
	time_t now = 1700000000;

	CHECK(gui_expiry_class(0, now) == GUI_EXPIRY_UNKNOWN);
	CHECK(gui_expiry_class(now - 1, now) == GUI_EXPIRY_PAST);
	CHECK(gui_expiry_class(now, now) == GUI_EXPIRY_PAST);
	CHECK(gui_expiry_class(now + 86400 * 29, now) == GUI_EXPIRY_SOON);
	CHECK(gui_expiry_class(now + 86400 * 31, now) == GUI_EXPIRY_OK);
}

static void test_error_text(void)
{
	struct sisign_error err;
	char *t;

	sisign_error_clear(&err);
	t = gui_error_text(SISIGN_ERR_PIN_INCORRECT, &err);
	CHECK_STR(t, sisign_strerror(SISIGN_ERR_PIN_INCORRECT));
	g_free(t);
	g_strlcpy(err.message, "key file x: wrong passphrase", sizeof err.message);
	g_strlcpy(err.ossl_reason, "bad decrypt", sizeof err.ossl_reason);
	t = gui_error_text(SISIGN_ERR_BAD_PASSPHRASE, &err);
	CHECK_STR(t, "key file x: wrong passphrase (bad decrypt)");
	g_free(t);
}

/* ---- the batch worker ------------------------------------------------------------ */

struct run {
	GMainLoop *loop;
	const char *answer;      /* secret to give, NULL = cancel */
	int secrets;             /* times asked */
	char kind[32];
	int tries;               /* tries_left of the last request */
	char prompt[512];        /* what the dialog would show: prompt + warning */
	gboolean final;
	int rows, progress_last, total;
	int running;             /* row updates that showed a package in progress */
	struct gui_model *m;
	char *error;
	gboolean done;
	GThread *main_thread;
	gboolean wrong_thread;
};

static void on_secret(struct gui_batch *b, const char *kind, const char *what, int tries, void *user)
{
	struct run *r = user;

	struct gui_secret_prompt sp;

	r->secrets++;
	g_strlcpy(r->kind, kind, sizeof r->kind);
	r->tries = tries;
	/* The window's dialog shows exactly these strings (ask_secret). */
	gui_secret_prompt_make(kind, what, tries, &sp);
	g_snprintf(r->prompt, sizeof r->prompt, "%s\n%s", sp.prompt, sp.warning ? sp.warning : "");
	r->final = sp.final;
	gui_secret_prompt_clear(&sp);
	if (g_thread_self() != r->main_thread)
		r->wrong_thread = TRUE;
	gui_batch_secret_reply(b, r->answer);
}

static void on_row(struct gui_batch *b, guint idx, void *user)
{
	struct run *r = user;

	(void)b;
	r->rows++;
	if (r->m) {
		const struct gui_job *j = gui_model_job(r->m, idx);
		if (j && j->state == GUI_JOB_RUNNING && j->status && strstr(j->status, "…"))
			r->running++;
	}
	if (g_thread_self() != r->main_thread)
		r->wrong_thread = TRUE;
}

static void on_progress(struct gui_batch *b, guint done, guint total, void *user)
{
	struct run *r = user;

	(void)b;
	r->progress_last = (int)done;
	r->total = (int)total;
}

static void on_done(struct gui_batch *b, const char *error, void *user)
{
	struct run *r = user;

	(void)b;
	r->error = g_strdup(error);
	r->done = TRUE;
	g_main_loop_quit(r->loop);
}

#define NMANY 1000

/* on_progress that cancels its batch at the first report. */
static void cancel_on_progress(struct gui_batch *b, guint done, guint total, void *user)
{
	struct run *r = user;

	if (r->progress_last == 0)
		gui_batch_cancel(b);
	on_progress(b, done, total, user);
}

static gboolean timeout_cb(gpointer data)
{
	struct run *r = data;

	fprintf(stderr, "batch timed out\n");
	g_main_loop_quit(r->loop);
	return G_SOURCE_REMOVE;
}

static void run_batch(struct gui_model *m, enum gui_op op, const struct gui_settings *s, const char *answer,
	const guint *idx, guint n, struct run *r)
{
	struct gui_batch_params p;
	GError *e = NULL;
	guint to;

	memset(r, 0, sizeof *r);
	r->m = m;
	r->loop = g_main_loop_new(NULL, FALSE);
	r->answer = answer;
	r->main_thread = g_thread_self();
	memset(&p, 0, sizeof p);
	p.op = op;
	p.settings = s;
	p.on_secret = on_secret;
	p.on_row = on_row;
	p.on_progress = on_progress;
	p.on_done = on_done;
	p.user = r;
	CHECK(gui_batch_start(m, &p, idx, n, &e) != NULL);
	if (e) {
		fprintf(stderr, "batch: %s\n", e->message);
		g_error_free(e);
		g_main_loop_unref(r->loop);
		return;
	}
	CHECK(gui_model_busy(m));
	/* A second batch while one runs is refused. */
	CHECK(gui_batch_start(m, &p, idx, n, &e) == NULL);
	g_clear_error(&e);
	to = g_timeout_add_seconds(120, timeout_cb, r);
	g_main_loop_run(r->loop);
	if (r->done)
		g_source_remove(to);
	g_main_loop_unref(r->loop);
	CHECK(r->done);
	CHECK(!r->wrong_thread);
	CHECK(!gui_model_busy(m));
}

static int verdict_of(const char *path, char *subject, size_t size)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_verify_report *rep = NULL;
	int v = -1;

	if (sisign_pkg_open(path, NULL, &pkg, NULL) != SISIGN_OK)
		return -1;
	if (sisign_pkg_verify(pkg, NULL, &rep, NULL) == SISIGN_OK) {
		v = (int)rep->verdict;
		if (subject && rep->top.nchains)
			g_strlcpy(subject, rep->top.chains[rep->top.nchains - 1].signer_subject, size);
	}
	sisign_verify_report_free(rep);
	sisign_pkg_free(pkg);
	return v;
}

static gboolean sh(const char *cmd)
{
	int status = -1;

	return g_spawn_command_line_sync(cmd, NULL, NULL, &status, NULL) && g_spawn_check_wait_status(status, NULL);
}

/* ---- issue #13: the install rules on each row ------------------------------ */

/* A package that writes into \private\10000001\ with no executable of
 * that SID breaks IR-CAGE-2 (data caging); one that writes to \data\
 * keeps every package-only rule once signed.  The row is checked when the
 * package is added (with its own chains: unsigned) and again on the file
 * signing wrote (self-signed), and in place. */
static void test_check_rows(void)
{
	struct gui_model *m = gui_model_new();
	struct gui_settings s;
	struct run r;
	char *dir = g_build_filename(tmp, "check", NULL), *key, *cert, *cmd, *cage, *clean, *line;
	struct gui_job *jc, *jk;
	char *openssl = g_find_program_in_path("openssl");

	g_mkdir_with_parents(dir, 0700);
	cage = g_build_filename(dir, "cage.sis", NULL);
	clean = g_build_filename(dir, "clean.sis", NULL);
	make_package_to(cage, 0xE0005001, "Cage", "!:\\private\\10000001\\note.txt");
	make_package_to(clean, 0xE0005002, "Clean", "!:\\data\\note.txt");
	CHECK(gui_model_add_path(m, cage, NULL) == 1);
	CHECK(gui_model_add_path(m, clean, NULL) == 1);
	jc = gui_model_job(m, 0);
	jk = gui_model_job(m, 1);

	/* Added: checked with the packages' own chains, i.e. unsigned, which
	 * the installer refuses (IR-SIG-1, AllowUnsigned false) for both; the
	 * tooltip text names data caging for the first only. */
	CHECK(jc->check.error == NULL);
	CHECK(jc->check.worst == SISIGN_CHECK_ERROR);
	CHECK(jc->check.nfindings >= 2);
	CHECK(jc->check.all && strstr(jc->check.all, "IR-CAGE-2 (error): ") && strstr(jc->check.all, "fix: "));
	CHECK(jc->check.all && strstr(jc->check.all, "IR-SIG-1 (error): "));
	CHECK(jk->check.worst == SISIGN_CHECK_ERROR);
	CHECK(jk->check.all && !strstr(jk->check.all, "IR-CAGE-2"));
	line = gui_check_line(&jk->check);
	CHECK(line && g_str_has_prefix(line, "Would not install: IR-SIG-1 — "));
	g_free(line);

	/* A row that cannot be read has no install-rules line (its load
	 * error says why); a file that is not a package cannot be checked. */
	{
		struct gui_check c;
		char *junk = g_build_filename(dir, "junk.bin", NULL);

		memset(&c, 0, sizeof c);
		g_file_set_contents(junk, "not a package", -1, NULL);
		gui_check_run(junk, &c);
		CHECK(c.worst == -1 && c.error != NULL);
		line = gui_check_line(&c);
		CHECK(line && g_str_has_prefix(line, "Install rules not checked: "));
		g_free(line);
		gui_check_clear(&c);
		CHECK(c.worst == -1 && c.error == NULL);
		CHECK(gui_check_line(&c) == NULL);
		g_free(junk);
	}

	if (!openssl) {
		printf("skip: no openssl command for the install rules after signing\n");
		goto out;
	}
	key = g_build_filename(dir, "dev.key", NULL);
	cert = g_build_filename(dir, "dev.pem", NULL);
	cmd = g_strdup_printf("openssl req -x509 -newkey rsa:2048 -sha256 -days 30 -subj \"/CN=GUI Check Test\" "
			      "-addext extendedKeyUsage=codeSigning -nodes -keyout %s -out %s",
		key, cert);
	CHECK(sh(cmd));
	g_free(cmd);
	memset(&s, 0, sizeof s);
	s.identity = GUI_IDENTITY_FILE;
	gui_settings_set_str(&s.key_file, key);
	gui_settings_set_str(&s.cert_file, cert);
	run_batch(m, GUI_OP_SIGN, &s, NULL, NULL, 0, &r);
	CHECK(r.error == NULL);
	g_free(r.error);
	CHECK(jc->state == GUI_JOB_DONE && jk->state == GUI_JOB_DONE);

	/* Signed (self-signed): the cage package still would not install,
	 * now for data caging alone; the row's line says so with the fix. */
	CHECK(jc->check.worst == SISIGN_CHECK_ERROR);
	CHECK_STR(jc->check.rule, "IR-CAGE-2");
	CHECK(jc->check.message && strstr(jc->check.message, "\\private\\10000001\\"));
	CHECK(jc->check.fix && jc->check.fix[0]);
	CHECK(jc->check.all && !strstr(jc->check.all, "IR-SIG-1"));
	line = gui_check_line(&jc->check);
	CHECK(line && g_str_has_prefix(line, "Would not install: IR-CAGE-2 — "));
	g_free(line);
	/* The clean one would install: at most the self-signed prompt. */
	CHECK(jk->check.error == NULL);
	CHECK(jk->check.worst >= 0 && jk->check.worst < SISIGN_CHECK_DEPENDS);
	CHECK(jk->check.rule == NULL);
	line = gui_check_line(&jk->check);
	CHECK(line && g_str_has_prefix(line, "Would install"));
	g_free(line);

	/* Re-reading a row checks its input again (unsigned). */
	gui_job_reload(jk);
	CHECK(jk->check.worst == SISIGN_CHECK_ERROR);
	CHECK(jk->check.all && strstr(jk->check.all, "IR-SIG-1"));

	/* In place: the row re-reads its (now signed) file and shows the
	 * install rules on it. */
	s.in_place = TRUE;
	run_batch(m, GUI_OP_SIGN, &s, NULL, NULL, 0, &r);
	CHECK(r.error == NULL);
	g_free(r.error);
	CHECK(jk->state == GUI_JOB_DONE && jk->nchains == 1);
	CHECK(jk->check.worst >= 0 && jk->check.worst < SISIGN_CHECK_DEPENDS);
	CHECK_STR(jc->check.rule, "IR-CAGE-2");
	gui_settings_clear(&s);
	g_free(key);
	g_free(cert);
out:
	g_free(openssl);
	g_free(cage);
	g_free(clean);
	g_free(dir);
	gui_model_free(m);
}

/* ---- issue #12: rows from different folders, "Signing with:", validity ---- */

/* Two packages of the same file name from different folders: each row says
 * which folder (the shortest end of it that tells the rows apart), a name
 * of its own stays as it was, and removing rows takes the hint away again. */
static void test_same_names(void)
{
	struct gui_model *m = gui_model_new();
	char *root = g_build_filename(tmp, "names", NULL);
	char *d1 = g_build_filename(root, "one", "app", NULL), *d2 = g_build_filename(root, "two", "app", NULL);
	char *d3 = g_build_filename(root, "three", NULL);
	char *p1 = g_build_filename(d1, "hello.sis", NULL), *p2 = g_build_filename(d2, "hello.sis", NULL);
	char *p3 = g_build_filename(d3, "hello.sis", NULL), *p4 = g_build_filename(d3, "other.sis", NULL);
	char *t[4], *f;
	guint i, idx[1];

	g_mkdir_with_parents(d1, 0700);
	g_mkdir_with_parents(d2, 0700);
	g_mkdir_with_parents(d3, 0700);
	make_package(p1, 0xE0003001, "Hello");
	make_package(p2, 0xE0003002, "Hello");
	make_package(p3, 0xE0003003, "Hello");
	make_package(p4, 0xE0003004, "Other");
	CHECK(gui_model_add_path(m, root, NULL) == 4);
	/* Sorted walk: one/app/hello.sis, three/hello.sis, three/other.sis, two/app/hello.sis */
	CHECK_STR(gui_model_job(m, 0)->path, p1);
	CHECK_STR(gui_model_job(m, 3)->path, p2);
	CHECK_STR(gui_model_job(m, 0)->where, "one/app");
	CHECK_STR(gui_model_job(m, 1)->where, "three");
	CHECK(gui_model_job(m, 2)->where == NULL);
	CHECK_STR(gui_model_job(m, 3)->where, "two/app");
	for (i = 0; i < 4; i++)
		t[i] = gui_job_title(gui_model_job(m, i));
	CHECK_STR(t[0], "Hello  (hello.sis, in one/app)");
	CHECK_STR(t[1], "Hello  (hello.sis, in three)");
	CHECK_STR(t[2], "Other  (other.sis)");
	CHECK_STR(t[3], "Hello  (hello.sis, in two/app)");
	for (i = 0; i < 4; i++)
		g_free(t[i]);
	/* The folder line: HOME is tmp here (main), so it shows as "~/...". */
	f = gui_job_folder(gui_model_job(m, 0));
	CHECK_STR(f, "~/names/one/app");
	g_free(f);
	/* Without one/app, "app" alone tells two/app from three. */
	idx[0] = 0;
	gui_model_remove(m, idx, 1);
	CHECK_STR(gui_model_job(m, 0)->where, "three");
	CHECK_STR(gui_model_job(m, 2)->where, "app");
	/* A package whose name is unique again loses the hint. */
	idx[0] = 2;
	gui_model_remove(m, idx, 1);
	CHECK(gui_model_job(m, 0)->where == NULL);
	f = gui_job_title(gui_model_job(m, 0));
	CHECK_STR(f, "Hello  (hello.sis)");
	g_free(f);
	gui_model_free(m);
	g_free(root);
	g_free(d1);
	g_free(d2);
	g_free(d3);
	g_free(p1);
	g_free(p2);
	g_free(p3);
	g_free(p4);
}

static void test_key_describe(void)
{
	char *t;

	/* A URI as gui_tokens_scan makes it: token by attributes, key by id. */
	t = gui_key_describe("pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;serial=daf0d6933a0c3d39;"
			     "token=Dev%20token%20%C3%A9;id=%01%A2;type=private",
		"signing key", "CN=Jane Dev, OU=Apps, O=Acme, C=FI");
	CHECK_STR(t, "Token \"Dev token é\"\nKey \"signing key\" (id 01a2)\nCertificate: Jane Dev (Acme)");
	g_free(t);
	/* A label in the URI wins; a control character is shown as '?'; the
	 * subject in OpenSSL's slash form with an escaped '/'; a query part
	 * (module-path) is not part of the description. */
	t = gui_key_describe("pkcs11:token=T%3bx;object=sig%20key%0A;type=private?module-path=/usr/lib/m.so", "ignored",
		"/CN=A\\/B/O=X Y");
	CHECK_STR(t, "Token \"T;x\"\nKey \"sig key?\"\nCertificate: A/B (X Y)");
	g_free(t);
	/* No certificate seen: two lines; no token label: its serial. */
	t = gui_key_describe("pkcs11:serial=1234;id=%ff", NULL, NULL);
	CHECK_STR(t, "Token with serial 1234\nKey with id ff");
	g_free(t);
	t = gui_subject_short("O=Acme, C=FI");
	CHECK_STR(t, "Acme");
	g_free(t);
	t = gui_subject_short("CN=Jane\\, Dev, C=FI");
	CHECK_STR(t, "Jane, Dev");
	g_free(t);
	t = gui_subject_short("C=FI, L=Espoo");
	CHECK_STR(t, "C=FI, L=Espoo");
	g_free(t);
}

/* Validity in whole days of a PEM certificate, -1 if unreadable. */
static int cert_days(const char *pem)
{
	FILE *f = fopen(pem, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	int days = -1, secs = 0;

	if (!x || ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)) != 1)
		days = -1;
	X509_free(x);
	if (f)
		fclose(f);
	return days;
}

/* The app's certificate wizard and the CLI start from one validity
 * (SISIGN_CERT_DAYS_DEFAULT): the wizard's own default (days 0, what the
 * library fills in; the wizard window's field is checked under Xvfb), and
 * `sisign keygen --cert` without --days, by its --help and by the
 * certificate it makes. */
static void test_days_default(void)
{
	const char *cli = g_getenv("SISIGN");
	char *dir = g_build_filename(tmp, "days", NULL), *key = g_build_filename(dir, "w.key", NULL);
	char *crt = g_build_filename(dir, "w.pem", NULL), *ckey = g_build_filename(dir, "c.key", NULL);
	char *ccrt = g_build_filename(dir, "c.pem", NULL), *out = NULL, *want;
	struct gui_wizard_params p;
	struct gui_wizard_result r;
	GError *e = NULL;

	CHECK(SISIGN_CERT_DAYS_DEFAULT == 365);
	g_mkdir_with_parents(dir, 0700);
	memset(&p, 0, sizeof p);
	p.where = GUI_WIZ_FILE;
	p.key_file = key;
	p.what = GUI_WIZ_SELFSIGNED;
	p.subject = "/CN=Days Test";
	p.bits = 1024;
	p.out_file = crt;
	CHECK(gui_wizard_run(&p, &r, &e));
	if (e) {
		fprintf(stderr, "wizard: %s\n", e->message);
		g_clear_error(&e);
	}
	CHECK(cert_days(crt) == SISIGN_CERT_DAYS_DEFAULT);
	gui_wizard_result_clear(&r);

	if (!cli || !g_file_test(cli, G_FILE_TEST_IS_EXECUTABLE)) {
		printf("skip: no sisign CLI ($SISIGN) to compare the validity default with\n");
		goto out;
	}
	{
		char *argv[] = { (char *)cli, "keygen", "--help", NULL };
		int st = -1;
		CHECK(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &st, NULL));
		want = g_strdup_printf("validity in days (default %d)", SISIGN_CERT_DAYS_DEFAULT);
		CHECK(out && strstr(out, want));
		g_free(want);
		g_free(out);
	}
	{
		char *argv[] = { (char *)cli, "keygen", "--cert", "--subject", "CN=Days Test", "--bits", "1024",
			"--no-passphrase", "-o", ccrt, ckey, NULL };
		int st = -1;
		CHECK(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL, &st, NULL));
		CHECK(g_spawn_check_wait_status(st, NULL));
		CHECK(cert_days(ccrt) == SISIGN_CERT_DAYS_DEFAULT);
	}
out:
	g_free(dir);
	g_free(key);
	g_free(crt);
	g_free(ckey);
	g_free(ccrt);
}

static const struct gui_detail *find_detail(GPtrArray *a, enum gui_detail_kind kind, const char *key_start)
{
	guint i;

	for (i = 0; i < a->len; i++) {
		const struct gui_detail *d = g_ptr_array_index(a, i);
		if (d->kind == kind && g_str_has_prefix(d->key, key_start))
			return d;
	}
	return NULL;
}

static void test_batch(void)
{
	struct gui_model *m = gui_model_new();
	struct gui_settings s;
	struct run r;
	char *dir = g_build_filename(tmp, "batch", NULL), *key, *cert, *cmd, *a, *b, *out;
	char subject[512] = "";
	struct gui_job *j;
	guint one[1] = { 1 };
	char *openssl = g_find_program_in_path("openssl");

	if (!openssl) {
		printf("skip: no openssl command for the key-file batch test\n");
		g_free(dir);
		gui_model_free(m);
		return;
	}
	g_free(openssl);
	g_mkdir_with_parents(dir, 0700);
	key = g_build_filename(dir, "dev.key", NULL);
	cert = g_build_filename(dir, "dev.pem", NULL);
	cmd = g_strdup_printf("openssl req -x509 -newkey rsa:2048 -sha256 -days 30 -subj \"/CN=GUI Model Test\" "
			      "-addext extendedKeyUsage=codeSigning -passout pass:sesame -keyout %s -out %s",
		key, cert);
	CHECK(sh(cmd));
	g_free(cmd);
	a = g_build_filename(dir, "one.sis", NULL);
	b = g_build_filename(dir, "two.sis", NULL);
	make_package(a, 0xE0002001, "One");
	make_package(b, 0xE0002002, "Two");
	CHECK(gui_model_add_path(m, dir, NULL) == 2);

	memset(&s, 0, sizeof s);
	/* No identity: every row fails with a reason in words, nothing asked. */
	run_batch(m, GUI_OP_SIGN, &s, NULL, NULL, 0, &r);
	CHECK(r.error && strstr(r.error, "Choose a signing key"));
	CHECK(r.secrets == 0);
	CHECK(gui_model_job(m, 0)->state == GUI_JOB_FAILED);
	g_free(r.error);

	s.identity = GUI_IDENTITY_FILE;
	gui_settings_set_str(&s.key_file, key);
	gui_settings_set_str(&s.cert_file, cert);

	/* The passphrase dialog is cancelled: batch error, rows failed, no output. */
	run_batch(m, GUI_OP_SIGN, &s, NULL, NULL, 0, &r);
	CHECK(r.secrets == 1);
	CHECK_STR(r.kind, "passphrase");
	CHECK(r.error && strstr(r.error, "Cancelled"));
	g_free(r.error);
	out = g_build_filename(dir, "one_signed.sis", NULL);
	CHECK(!g_file_test(out, G_FILE_TEST_EXISTS));

	/* A wrong passphrase: said in words. */
	run_batch(m, GUI_OP_SIGN, &s, "wrong", NULL, 0, &r);
	CHECK(r.secrets == 1);
	CHECK(r.error && strstr(r.error, "Cannot open the signing key"));
	g_free(r.error);

	/* The right one, asked once for the whole batch. */
	run_batch(m, GUI_OP_SIGN, &s, "sesame", NULL, 0, &r);
	CHECK(r.secrets == 1);
	CHECK(r.error == NULL);
	CHECK(r.total == 2 && r.progress_last == 2);
	CHECK(r.rows >= 2); /* a result per row */
	CHECK(r.running == 2); /* and each row showed "Signing…" while in progress */
	j = gui_model_job(m, 0);
	CHECK(j->state == GUI_JOB_DONE);
	CHECK_STR(j->output, out);
	CHECK(j->status && strstr(j->status, "one_signed.sis"));
	CHECK(j->nchains == 0); /* the input is untouched */
	/* The Signatures column counts what was just written (issue #12: it
	 * said "unsigned" after signing): the row re-read its output. */
	CHECK(j->out_nchains == 1);
	{
		char *tip = NULL, *t = gui_job_signatures_text(j, &tip);
		CHECK_STR(t, "1 chain");
		CHECK(tip && strstr(tip, "one_signed.sis: 1 chain") && strstr(tip, "the input itself: unsigned"));
		g_free(t);
		g_free(tip);
	}
	CHECK(verdict_of(a, NULL, 0) == SISIGN_VERDICT_UNSIGNED);
	CHECK(verdict_of(out, subject, sizeof subject) == SISIGN_VERDICT_SELF_SIGNED);
	CHECK(strstr(subject, "GUI Model Test") != NULL);
	{
		char *o2 = g_build_filename(dir, "two_signed.sis", NULL);
		CHECK(verdict_of(o2, NULL, 0) == SISIGN_VERDICT_SELF_SIGNED);
		g_free(o2);
	}

	/* Details describe the signed output as info + verify do. */
	{
		char *t = gui_describe_package(out, NULL);
		CHECK(strstr(t, "Name:         One") != NULL);
		CHECK(strstr(t, "UID:          0xe0002001") != NULL);
		CHECK(strstr(t, "payload.txt") != NULL);
		CHECK(strstr(t, "Signatures:   1 chain, verdict: self-signed") != NULL);
		CHECK(strstr(t, "Chain 1:") != NULL);
		CHECK(strstr(t, "CN=GUI Model Test") != NULL || strstr(t, "GUI Model Test") != NULL);
		g_free(t);
		t = gui_describe_package(b, NULL);
		CHECK(strstr(t, "none (unsigned)") != NULL);
		g_free(t);
		t = gui_describe_package("/nonexistent.sis", NULL);
		CHECK(strstr(t, "Cannot read this package") != NULL);
		g_free(t);
	}
	/* The same Details as rows for the window's grid: the package, its
	 * files and each chain, nested by depth, verdicts coloured. */
	{
		GPtrArray *d = gui_details_build(out, NULL);
		const struct gui_detail *x;

		x = d->len ? g_ptr_array_index(d, 0) : NULL;
		CHECK(x && x->kind == GUI_DETAIL_HEADING && x->depth == 0 && strcmp(x->key, "one_signed.sis") == 0);
		x = find_detail(d, GUI_DETAIL_FIELD, "UID");
		CHECK(x && x->depth == 0 && g_strcmp0(x->value, "0xe0002001") == 0);
		x = find_detail(d, GUI_DETAIL_ITEM, "!:\\private\\e0001234\\payload.txt");
		CHECK(x && x->depth == 1 && x->value && strstr(x->value, "bytes, hash ok"));
		x = find_detail(d, GUI_DETAIL_HEADING, "Chain 1: ");
		CHECK(x && x->depth == 1);
		x = find_detail(d, GUI_DETAIL_FIELD, "Signer");
		CHECK(x && x->depth == 1 && x->value && strstr(x->value, "GUI Model Test"));
		x = find_detail(d, GUI_DETAIL_FIELD, "Verdict");
		CHECK(x && g_strcmp0(x->value, "self-signed") == 0 && g_strcmp0(x->mood, "warning") == 0);
		g_ptr_array_unref(d);
		d = gui_details_build("/nonexistent.sis", NULL);
		x = find_detail(d, GUI_DETAIL_FIELD, "Cannot read this package");
		CHECK(x && g_strcmp0(x->mood, "error") == 0 && x->value && *x->value);
		g_ptr_array_unref(d);
	}

	/* Verify the selected row only (the second input: unsigned). */
	run_batch(m, GUI_OP_VERIFY, &s, NULL, one, 1, &r);
	CHECK(r.total == 1);
	CHECK(r.secrets == 0);
	j = gui_model_job(m, 1);
	CHECK(j->state == GUI_JOB_DONE);
	CHECK(j->verdict == SISIGN_VERDICT_UNSIGNED);
	CHECK_STR(j->status, "Unsigned: no signature");
	/* Verify wrote nothing: the column counts the input again. */
	CHECK(j->out_nchains == -1);
	{
		char *t = gui_job_signatures_text(j, NULL);
		CHECK_STR(t, "unsigned");
		g_free(t);
	}

	/* Verify against trusted roots (settings.trust, what the window's
	 * "Trusted roots" row sets): the signed output's own certificate as a
	 * root file, then a folder holding it; without roots it is
	 * self-signed; a missing root file fails the row in words. */
	{
		struct gui_model *mv = gui_model_new();
		char *rootdir = g_build_filename(dir, "roots", NULL), *rootcopy = g_build_filename(rootdir, "dev.pem", NULL);
		char *data = NULL;
		gsize len = 0;

		g_mkdir_with_parents(rootdir, 0700);
		CHECK(g_file_get_contents(cert, &data, &len, NULL) && g_file_set_contents(rootcopy, data, (gssize)len, NULL));
		g_free(data);
		CHECK(gui_model_add_path(mv, out, NULL) == 1);
		CHECK(gui_model_add_path(mv, b, NULL) == 1);
		run_batch(mv, GUI_OP_VERIFY, &s, NULL, NULL, 0, &r);
		CHECK(gui_model_job(mv, 0)->verdict == SISIGN_VERDICT_SELF_SIGNED);
		CHECK_STR(gui_model_job(mv, 0)->status, "Self-signed: signatures good, no trusted root");
		CHECK(gui_model_job(mv, 1)->verdict == SISIGN_VERDICT_UNSIGNED);
		CHECK(r.total == 2 && r.progress_last == 2);
		{
			const char *roots[] = { cert, NULL };
			s.trust = g_strdupv((char **)roots);
		}
		run_batch(mv, GUI_OP_VERIFY, &s, NULL, NULL, 0, &r);
		CHECK(gui_model_job(mv, 0)->state == GUI_JOB_DONE);
		CHECK(gui_model_job(mv, 0)->verdict == SISIGN_VERDICT_TRUSTED);
		CHECK_STR(gui_model_job(mv, 0)->status, "Trusted: a chain reaches a trusted root");
		CHECK(gui_model_job(mv, 1)->verdict == SISIGN_VERDICT_UNSIGNED);
		g_strfreev(s.trust);
		{
			const char *roots[] = { rootdir, NULL };
			s.trust = g_strdupv((char **)roots);
		}
		run_batch(mv, GUI_OP_VERIFY, &s, NULL, NULL, 0, &r);
		CHECK(gui_model_job(mv, 0)->verdict == SISIGN_VERDICT_TRUSTED);
		/* Details use the same roots. */
		{
			char *t = gui_describe_package(out, (const char *const *)s.trust);
			CHECK(strstr(t, "Verdict:      trusted") != NULL);
			g_free(t);
		}
		g_strfreev(s.trust);
		{
			const char *roots[] = { "/nonexistent/root.pem", NULL };
			s.trust = g_strdupv((char **)roots);
		}
		run_batch(mv, GUI_OP_VERIFY, &s, NULL, NULL, 0, &r);
		CHECK(gui_model_job(mv, 0)->state == GUI_JOB_FAILED);
		CHECK(gui_model_job(mv, 0)->status && strstr(gui_model_job(mv, 0)->status, "/nonexistent/root.pem"));
		g_clear_pointer(&s.trust, g_strfreev);
		gui_model_free(mv);
		g_free(rootcopy);
		g_free(rootdir);
	}

	/* Folder mode onto the inputs' own folder: each row refused, inputs intact. */
	s.output_mode = GUI_OUTPUT_FOLDER;
	gui_settings_set_str(&s.output_folder, dir);
	run_batch(m, GUI_OP_SIGN, &s, "sesame", NULL, 0, &r);
	CHECK(gui_model_job(m, 0)->state == GUI_JOB_FAILED);
	CHECK(strstr(gui_model_job(m, 0)->status, "replace the input") != NULL);
	CHECK(verdict_of(a, NULL, 0) == SISIGN_VERDICT_UNSIGNED);

	/* In place, when asked: the row reloads and shows its chain. */
	s.in_place = TRUE;
	run_batch(m, GUI_OP_SIGN, &s, "sesame", one, 1, &r);
	j = gui_model_job(m, 1);
	CHECK(j->state == GUI_JOB_DONE);
	CHECK(j->nchains == 1);
	{
		char *t = gui_job_signatures_text(j, NULL);
		CHECK_STR(t, "1 chain");
		g_free(t);
	}
	CHECK(verdict_of(b, NULL, 0) == SISIGN_VERDICT_SELF_SIGNED);
	/* Remove signature, in place: back to unsigned, no secret asked. */
	run_batch(m, GUI_OP_UNSIGN, &s, NULL, one, 1, &r);
	CHECK(r.secrets == 0);
	CHECK(gui_model_job(m, 1)->nchains == 0);
	CHECK(verdict_of(b, NULL, 0) == SISIGN_VERDICT_UNSIGNED);
	/* Removing from an unsigned package fails in words. */
	run_batch(m, GUI_OP_UNSIGN, &s, NULL, one, 1, &r);
	CHECK(gui_model_job(m, 1)->state == GUI_JOB_FAILED);
	CHECK(gui_model_job(m, 1)->status != NULL);

	/* Folder mode, two inputs with the same name from two folders: the
	 * second would write the first's output, and is refused (the library
	 * leaves that to its caller). */
	{
		struct gui_model *mc = gui_model_new();
		char *d1 = g_build_filename(dir, "c1", NULL), *d2 = g_build_filename(dir, "c2", NULL);
		char *od = g_build_filename(dir, "cout", NULL), *p1 = g_build_filename(d1, "same.sis", NULL);
		char *p2 = g_build_filename(d2, "same.sis", NULL), *o1 = g_build_filename(od, "same.sis", NULL);
		struct gui_settings sc;

		g_mkdir_with_parents(d1, 0700);
		g_mkdir_with_parents(d2, 0700);
		g_mkdir_with_parents(od, 0700);
		make_package(p1, 0xE0002101, "Same1");
		make_package(p2, 0xE0002102, "Same2");
		CHECK(gui_model_add_path(mc, p1, NULL) == 1 && gui_model_add_path(mc, p2, NULL) == 1);
		memset(&sc, 0, sizeof sc);
		sc.output_mode = GUI_OUTPUT_FOLDER;
		gui_settings_set_str(&sc.output_folder, od);
		run_batch(mc, GUI_OP_UNSIGN, &sc, NULL, NULL, 0, &r);
		/* Row 0 runs (and fails: nothing to remove); row 1 is refused up front. */
		CHECK(gui_model_job(mc, 0)->state == GUI_JOB_FAILED);
		CHECK(gui_model_job(mc, 0)->status && !strstr(gui_model_job(mc, 0)->status, "also writes"));
		CHECK(gui_model_job(mc, 1)->state == GUI_JOB_FAILED);
		CHECK(gui_model_job(mc, 1)->status && strstr(gui_model_job(mc, 1)->status, "also writes same.sis"));
		CHECK(r.total == 2 && r.progress_last == 2);
		CHECK(!g_file_test(o1, G_FILE_TEST_EXISTS));
		/* Suffix mode with x.sis and x_signed.sis both listed: x.sis's
		 * output is the other row's input; refused. */
		gui_model_clear(mc);
		g_free(o1);
		o1 = g_build_filename(d1, "same_signed.sis", NULL);
		make_package(o1, 0xE0002103, "Same1 signed");
		CHECK(gui_model_add_path(mc, d1, NULL) == 2);
		s.output_mode = GUI_OUTPUT_SUFFIX;
		s.in_place = FALSE;
		run_batch(mc, GUI_OP_SIGN, &s, "sesame", NULL, 0, &r);
		CHECK(r.secrets == 1);
		CHECK(gui_model_job(mc, 0)->state == GUI_JOB_FAILED);
		CHECK(strstr(gui_model_job(mc, 0)->status, "another package in this batch") != NULL);
		CHECK(gui_model_job(mc, 1)->state == GUI_JOB_DONE);
		CHECK(verdict_of(o1, NULL, 0) == SISIGN_VERDICT_UNSIGNED); /* not replaced */
		gui_settings_clear(&sc);
		gui_model_free(mc);
		g_free(d1);
		g_free(d2);
		g_free(od);
		g_free(p1);
		g_free(p2);
		g_free(o1);
	}

	/* Cancel a running library batch (sisign_batch_cancel): jobs not
	 * started stay PENDING in the library and end "Cancelled" here; the
	 * rest finish normally.  Cancelled from the first progress report, so
	 * the library batch is surely running; with 1000 packages some are
	 * surely not started yet.  Then a cancel before the batch thread ran:
	 * every row "Cancelled". */
	{
		struct gui_model *mk = gui_model_new();
		char *kd = g_build_filename(dir, "many", NULL), *data = NULL;
		gsize len = 0;
		struct gui_batch_params p;
		struct gui_batch *bt;
		guint i, ncancelled = 0, ndone = 0;
		int spins = 0;

		g_mkdir_with_parents(kd, 0700);
		CHECK(g_file_get_contents(a, &data, &len, NULL));
		for (i = 0; i < NMANY; i++) {
			char name[32], *pth;
			g_snprintf(name, sizeof name, "p%03u.sis", i);
			pth = g_build_filename(kd, name, NULL);
			g_file_set_contents(pth, data, (gssize)len, NULL);
			g_free(pth);
		}
		g_free(data);
		CHECK(gui_model_add_path(mk, kd, NULL) == NMANY);
		memset(&r, 0, sizeof r);
		r.main_thread = g_thread_self();
		r.loop = g_main_loop_new(NULL, FALSE);
		memset(&p, 0, sizeof p);
		p.op = GUI_OP_VERIFY;
		p.settings = &s;
		p.on_progress = cancel_on_progress;
		p.on_done = on_done;
		p.user = &r;
		bt = gui_batch_start(mk, &p, NULL, 0, NULL);
		CHECK(bt != NULL);
		while (!r.done && spins++ < 1000000)
			g_main_context_iteration(NULL, TRUE);
		CHECK(r.done);
		CHECK(r.error == NULL);
		for (i = 0; i < NMANY; i++) {
			struct gui_job *jj = gui_model_job(mk, i);
			if (jj->state == GUI_JOB_CANCELLED && g_strcmp0(jj->status, "Cancelled") == 0)
				ncancelled++;
			else if (jj->state == GUI_JOB_DONE && jj->verdict == SISIGN_VERDICT_UNSIGNED)
				ndone++;
		}
		CHECK(ncancelled + ndone == NMANY);
		CHECK(ncancelled > 0 && ndone > 0);
		CHECK(r.progress_last >= 1 && r.progress_last <= (int)ndone);
		g_free(r.error);

		memset(&r, 0, sizeof r);
		r.main_thread = g_thread_self();
		p.on_progress = on_progress;
		bt = gui_batch_start(mk, &p, NULL, 0, NULL);
		CHECK(bt != NULL);
		if (bt)
			gui_batch_cancel(bt);
		spins = 0;
		while (!r.done && spins++ < 1000000)
			g_main_context_iteration(NULL, TRUE);
		CHECK(r.done);
		for (i = 0, ncancelled = 0; i < NMANY; i++)
			if (gui_model_job(mk, i)->state == GUI_JOB_CANCELLED)
				ncancelled++;
		CHECK(ncancelled == NMANY);
		g_free(r.error);
		g_main_loop_unref(r.loop);
		gui_model_free(mk);
		g_free(kd);
	}

	/* Cancel while the passphrase is being asked: every row cancelled. */
	s.in_place = FALSE;
	s.output_mode = GUI_OUTPUT_SUFFIX;
	{
		struct gui_batch_params p;
		struct gui_batch *bt;
		GMainContext *ctx = g_main_context_default();
		int spins = 0;

		memset(&r, 0, sizeof r);
		r.main_thread = g_thread_self();
		r.loop = g_main_loop_new(NULL, FALSE);
		memset(&p, 0, sizeof p);
		p.op = GUI_OP_SIGN;
		p.settings = &s;
		p.on_done = on_done;
		p.user = &r;
		/* No on_secret: the request stays unanswered until the cancel. */
		bt = gui_batch_start(m, &p, NULL, 0, NULL);
		CHECK(bt != NULL);
		gui_batch_cancel(bt);
		while (!r.done && spins++ < 100000)
			g_main_context_iteration(ctx, TRUE);
		CHECK(r.done);
		CHECK(gui_model_job(m, 0)->state == GUI_JOB_FAILED || gui_model_job(m, 0)->state == GUI_JOB_CANCELLED);
		g_free(r.error);
		g_main_loop_unref(r.loop);
	}

	gui_settings_clear(&s);
	gui_model_free(m);
	g_free(a);
	g_free(b);
	g_free(out);
	g_free(key);
	g_free(cert);
	g_free(dir);
}

/* ---- the PIN prompt with the mock PKCS#11 module ---------------------------------- */

static int count_lines(const char *path, const char *prefix)
{
	char *data = NULL, **lines, **l;
	int n = 0;

	if (!g_file_get_contents(path, &data, NULL, NULL))
		return 0;
	lines = g_strsplit(data, "\n", -1);
	for (l = lines; *l; l++)
		if (g_str_has_prefix(*l, prefix))
			n++;
	g_strfreev(lines);
	g_free(data);
	return n;
}

/* The identity is the mock token's key (tests/mock/mock_p11.c: token
 * "sisign mock", key "mockkey", PIN 1234), its module the mock.  The mock
 * reads MOCK_P11_MODE when the batch loads it, so each run sets it first.
 * Asserts what the PIN dialog says (gui_secret_prompt_make, which the
 * window shows verbatim): the low count, the final try, nothing extra
 * normally; and one login for a batch of three packages. */
/* "Use key file…" with a PKCS#12 file (issue #12): no certificate file,
 * the certificate comes from the .p12; the password is asked once. */
static void test_batch_p12(void)
{
	struct gui_model *m = gui_model_new();
	struct gui_settings s;
	struct run r;
	char *dir = g_build_filename(tmp, "p12", NULL), *key, *cert, *p12, *cmd, *a, *out;
	char subject[512] = "";
	char *openssl = g_find_program_in_path("openssl");

	if (!openssl) {
		printf("skip: no openssl command for the PKCS#12 test\n");
		g_free(dir);
		gui_model_free(m);
		return;
	}
	g_free(openssl);
	g_mkdir_with_parents(dir, 0700);
	key = g_build_filename(dir, "p.key", NULL);
	cert = g_build_filename(dir, "p.pem", NULL);
	p12 = g_build_filename(dir, "dev.p12", NULL);
	cmd = g_strdup_printf("sh -c \"openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 "
			      "-subj /CN=GUI-P12-Test -keyout %s -out %s 2>/dev/null && "
			      "openssl pkcs12 -export -inkey %s -in %s -passout pass:p12pass -out %s\"",
		key, cert, key, cert, p12);
	CHECK(sh(cmd));
	g_free(cmd);
	CHECK(sisign_key_file_is_pkcs12(p12) == 1);
	CHECK(sisign_key_file_is_pkcs12(key) == 0);
	a = g_build_filename(dir, "one.sis", NULL);
	make_package(a, 0xE0002011, "P12");
	CHECK(gui_model_add_path(m, a, NULL) == 1);
	memset(&s, 0, sizeof s);
	s.identity = GUI_IDENTITY_FILE;
	gui_settings_set_str(&s.key_file, p12);
	run_batch(m, GUI_OP_SIGN, &s, "wrong", NULL, 0, &r);
	CHECK(r.secrets == 1);
	CHECK(r.error && strstr(r.error, "wrong password"));
	g_free(r.error);
	run_batch(m, GUI_OP_SIGN, &s, "p12pass", NULL, 0, &r);
	CHECK(r.secrets == 1);
	CHECK(r.error == NULL);
	out = g_build_filename(dir, "one_signed.sis", NULL);
	CHECK(gui_model_job(m, 0)->state == GUI_JOB_DONE);
	CHECK(verdict_of(out, subject, sizeof subject) == SISIGN_VERDICT_SELF_SIGNED);
	CHECK(strstr(subject, "GUI-P12-Test") != NULL);
	gui_settings_clear(&s);
	gui_model_free(m);
	g_free(out);
	g_free(a);
	g_free(p12);
	g_free(cert);
	g_free(key);
	g_free(dir);
}

static void test_token_prompt(void)
{
	const char *module = g_getenv("MOCK_P11_MODULE");
	struct gui_model *m;
	struct gui_settings s;
	struct run r;
	char *dir, *log, *in[3], *out;
	struct gui_secret_prompt sp;
	char subject[512] = "";
	guint i;

	/* The texts themselves. */
	gui_secret_prompt_make("pin", "Dev\ttoken", SISIGN_TRIES_LOW, &sp);
	CHECK_STR(sp.title, "Token PIN");
	CHECK_STR(sp.prompt, "PIN for token \"Dev?token\"");
	CHECK(sp.warning && strstr(sp.warning, "tries left: low") && !sp.final);
	gui_secret_prompt_clear(&sp);
	gui_secret_prompt_make("pin", "Dev", 1, &sp);
	CHECK(sp.warning && strstr(sp.warning, "Final try") && strstr(sp.warning, "locks") && sp.final);
	gui_secret_prompt_clear(&sp);
	gui_secret_prompt_make("pin", "Dev", 3, &sp);
	CHECK_STR(sp.warning, "3 tries left before the token locks.");
	CHECK(!sp.final);
	gui_secret_prompt_clear(&sp);
	gui_secret_prompt_make("pin", "Dev", -1, &sp);
	CHECK(sp.warning == NULL);
	gui_secret_prompt_clear(&sp);
	gui_secret_prompt_make("passphrase", "/keys/dev.key", -1, &sp);
	CHECK_STR(sp.title, "Key passphrase");
	CHECK_STR(sp.prompt, "Passphrase for the key file dev.key");
	CHECK(sp.warning == NULL);
	gui_secret_prompt_clear(&sp);

	if (!module || !g_file_test(module, G_FILE_TEST_EXISTS)) {
		printf("skip: no mock PKCS#11 module (MOCK_P11_MODULE) for the PIN prompt test\n");
		return;
	}
	dir = g_build_filename(tmp, "mock", NULL);
	log = g_build_filename(tmp, "mock.log", NULL);
	g_mkdir_with_parents(dir, 0700);
	for (i = 0; i < 3; i++) {
		char name[16];
		g_snprintf(name, sizeof name, "m%u.sis", i);
		in[i] = g_build_filename(dir, name, NULL);
		make_package(in[i], 0xE0004001 + i, "Mock");
	}
	m = gui_model_new();
	CHECK(gui_model_add_path(m, dir, NULL) == 3);
	memset(&s, 0, sizeof s);
	s.identity = GUI_IDENTITY_TOKEN;
	gui_settings_set_str(&s.key_uri, "pkcs11:token=sisign%20mock;object=mockkey;type=private");
	gui_settings_set_str(&s.module, module);
	g_setenv("MOCK_P11_LOG", log, TRUE);

	/* CKF_USER_PIN_COUNT_LOW: the prompt says the count is low; the PIN
	 * is asked once and the token logged in once for all three. */
	g_setenv("MOCK_P11_MODE", "countlow", TRUE);
	g_unlink(log);
	run_batch(m, GUI_OP_SIGN, &s, "1234", NULL, 0, &r);
	CHECK(r.error == NULL);
	if (r.error)
		fprintf(stderr, "countlow batch: %s\n", r.error);
	CHECK(r.secrets == 1);
	CHECK_STR(r.kind, "pin");
	CHECK(r.tries == SISIGN_TRIES_LOW);
	CHECK(strstr(r.prompt, "PIN for token \"sisign mock\"") != NULL);
	CHECK(strstr(r.prompt, "PIN tries left: low") != NULL);
	CHECK(!r.final);
	CHECK(count_lines(log, "login 1") == 1); /* CKU_USER, once */
	CHECK(count_lines(log, "sign ") == 3);
	CHECK(r.total == 3 && r.progress_last == 3);
	for (i = 0; i < 3; i++) {
		const struct gui_job *mj = gui_model_job(m, i);
		CHECK(mj->state == GUI_JOB_DONE);
		/* the mock key is RSA-1024: the batch's warning reaches the row */
		CHECK(mj->status && strstr(mj->status, "warning: RSA key of 1024 bits is weak") != NULL);
	}
	out = g_build_filename(dir, "m0_signed.sis", NULL);
	CHECK(verdict_of(out, subject, sizeof subject) == SISIGN_VERDICT_SELF_SIGNED);
	CHECK(strstr(subject, "sisign mock") != NULL);
	g_free(r.error);

	/* CKF_USER_PIN_FINAL_TRY: the prompt says this is the final try; the
	 * user cancels, nothing is logged in or written. */
	g_setenv("MOCK_P11_MODE", "final", TRUE);
	g_unlink(log);
	s.in_place = TRUE;
	run_batch(m, GUI_OP_SIGN, &s, NULL, NULL, 0, &r);
	CHECK(r.secrets == 1);
	CHECK(r.tries == 1);
	CHECK(strstr(r.prompt, "Final try: one more wrong PIN locks this token.") != NULL);
	CHECK(r.final);
	CHECK(r.error && strstr(r.error, "Cancelled"));
	CHECK(count_lines(log, "login") == 0);
	CHECK(verdict_of(in[0], NULL, 0) == SISIGN_VERDICT_UNSIGNED);
	g_free(r.error);
	/* ... or types the PIN knowingly: signed (the GUI forces the final
	 * try because its dialog warned; the CLI refuses by default). */
	run_batch(m, GUI_OP_SIGN, &s, "1234", NULL, 0, &r);
	CHECK(r.error == NULL);
	CHECK(count_lines(log, "login 1") == 1);
	CHECK(verdict_of(in[0], NULL, 0) == SISIGN_VERDICT_SELF_SIGNED);
	g_free(r.error);

	/* Normal token: no warning line. */
	g_setenv("MOCK_P11_MODE", "normal", TRUE);
	run_batch(m, GUI_OP_VERIFY, &s, NULL, NULL, 0, &r);
	CHECK(r.secrets == 0);
	run_batch(m, GUI_OP_UNSIGN, &s, NULL, NULL, 0, &r);
	CHECK(r.secrets == 0);
	s.in_place = FALSE;
	g_unlink(out);
	run_batch(m, GUI_OP_SIGN, &s, "1234", NULL, 0, &r);
	CHECK(r.secrets == 1 && r.tries == -1);
	CHECK(g_str_has_suffix(r.prompt, "\n")); /* prompt, no warning */
	g_free(r.error);

	/* A token that is pulled out mid-batch (the second C_Sign answers
	 * CKR_DEVICE_REMOVED): the batch stops there and says so once; the
	 * package after it is shown as not started, not as failed. */
	for (i = 0; i < 3; i++) {
		char *o = g_strdup_printf("%s/m%u_signed.sis", dir, i);
		g_unlink(o);
		g_free(o);
	}
	g_setenv("MOCK_P11_SIGN_FAIL_AFTER", "1", TRUE);
	g_setenv("MOCK_P11_SIGN_FAIL_RV", "0x32", TRUE);
	g_unlink(log);
	run_batch(m, GUI_OP_SIGN, &s, "1234", NULL, 0, &r);
	CHECK(r.error && strstr(r.error, "Signing stopped") && strstr(r.error, "removed"));
	CHECK(count_lines(log, "sign ") == 2);
	{
		guint ndone = 0, nfailed = 0, nnot = 0;
		for (i = 0; i < 3; i++) {
			const struct gui_job *mj = gui_model_job(m, i);
			if (mj->state == GUI_JOB_DONE)
				ndone++;
			else if (mj->state == GUI_JOB_FAILED)
				nfailed++;
			else if (mj->state == GUI_JOB_CANCELLED && mj->status && g_str_has_prefix(mj->status, "Not started"))
				nnot++;
		}
		CHECK(ndone == 1 && nfailed == 1 && nnot == 1);
	}
	g_free(r.error);
	g_unsetenv("MOCK_P11_SIGN_FAIL_AFTER");
	g_unsetenv("MOCK_P11_SIGN_FAIL_RV");

	g_unsetenv("MOCK_P11_MODE");
	g_unsetenv("MOCK_P11_LOG");
	gui_settings_clear(&s);
	gui_model_free(m);
	for (i = 0; i < 3; i++)
		g_free(in[i]);
	g_free(out);
	g_free(log);
	g_free(dir);
}

/* ---- certificate wizard (file keys; token keys need a token) ------------------- */

static void test_wizard(void)
{
	struct gui_subject f;
	struct gui_wizard_params p;
	struct gui_wizard_result r;
	GError *e = NULL;
	char *subj, *key, *crt, *key2, *csr, *data = NULL;
	struct gui_model *m;
	struct gui_settings s;
	struct run run;
	GStatBuf st;

	memset(&f, 0, sizeof f);
	CHECK(gui_subject_build(&f) == NULL);
	f.cn = "Jane Dev";
	f.o = "Acme/Apps";
	f.c = "FI";
	f.email = "";
	subj = gui_subject_build(&f);
	CHECK_STR(subj, "/CN=Jane Dev/O=Acme\\/Apps/C=FI");

	key = g_build_filename(tmp, "wiz.key", NULL);
	crt = g_build_filename(tmp, "wiz.crt", NULL);
	memset(&p, 0, sizeof p);
	p.where = GUI_WIZ_FILE;
	p.key_file = key;
	p.passphrase = "open sesame";
	p.what = GUI_WIZ_SELFSIGNED;
	p.subject = subj;
	p.days = 10;
	p.out_file = crt;
	CHECK(gui_wizard_run(&p, &r, &e));
	if (e) {
		fprintf(stderr, "wizard: %s\n", e->message);
		g_clear_error(&e);
	}
	CHECK_STR(r.key_file, key);
	CHECK_STR(r.cert_file, crt);
	CHECK(r.key_uri == NULL && r.csr_file == NULL);
	CHECK(r.summary && strstr(r.summary, crt) && strstr(r.summary, "(encrypted)"));
	CHECK(g_stat(key, &st) == 0 && (st.st_mode & 077) == 0);
	CHECK(g_file_get_contents(crt, &data, NULL, NULL) && strstr(data, "-----BEGIN CERTIFICATE-----"));
	g_free(data);
	gui_wizard_result_clear(&r);

	/* The same key file again: refused in words, nothing replaced. */
	CHECK(!gui_wizard_run(&p, &r, &e));
	CHECK(e && strstr(e->message, "key file"));
	g_clear_error(&e);
	gui_wizard_result_clear(&r);

	/* The new key signs: a batch with it gives a self-signed package whose
	 * signer is the form's subject. */
	m = gui_model_new();
	{
		char *pkg = g_build_filename(tmp, "wiz-pkg", NULL), *in, *out;
		char got[512] = "";
		g_mkdir_with_parents(pkg, 0700);
		in = g_build_filename(pkg, "w.sis", NULL);
		out = g_build_filename(pkg, "w_signed.sis", NULL);
		make_package(in, 0xE0003001, "Wizard");
		CHECK(gui_model_add_path(m, in, NULL) == 1);
		memset(&s, 0, sizeof s);
		s.identity = GUI_IDENTITY_FILE;
		gui_settings_set_str(&s.key_file, key);
		gui_settings_set_str(&s.cert_file, crt);
		run_batch(m, GUI_OP_SIGN, &s, "open sesame", NULL, 0, &run);
		CHECK(run.error == NULL);
		g_free(run.error);
		CHECK(verdict_of(out, got, sizeof got) == SISIGN_VERDICT_SELF_SIGNED);
		CHECK(strstr(got, "Jane Dev") && strstr(got, "Acme/Apps"));
		gui_settings_clear(&s);
		g_free(in);
		g_free(out);
		g_free(pkg);
	}
	gui_model_free(m);

	/* A CSR for a new unencrypted key. */
	key2 = g_build_filename(tmp, "wiz2.key", NULL);
	csr = g_build_filename(tmp, "wiz2.csr", NULL);
	p.key_file = key2;
	p.passphrase = NULL;
	p.what = GUI_WIZ_CSR;
	p.out_file = csr;
	CHECK(gui_wizard_run(&p, &r, &e));
	if (e) {
		fprintf(stderr, "wizard csr: %s\n", e->message);
		g_clear_error(&e);
	}
	CHECK_STR(r.csr_file, csr);
	CHECK(r.cert_file == NULL);
	CHECK(r.summary && strstr(r.summary, "NOT encrypted"));
	CHECK(g_file_get_contents(csr, &data, NULL, NULL) && strstr(data, "-----BEGIN CERTIFICATE REQUEST-----"));
	g_free(data);
	gui_wizard_result_clear(&r);

	/* Form mistakes are said in words before anything is made. */
	f.c = "Finland";
	g_free(subj);
	subj = gui_subject_build(&f);
	p.subject = subj;
	p.key_file = key2;
	CHECK(!gui_wizard_run(&p, &r, &e));
	CHECK(e && strstr(e->message, "subject"));
	g_clear_error(&e);
	gui_wizard_result_clear(&r);
	p.subject = "";
	CHECK(!gui_wizard_run(&p, &r, &e));
	CHECK(e && strstr(e->message, "common name"));
	g_clear_error(&e);
	gui_wizard_result_clear(&r);
	p.subject = "/CN=x";
	p.where = GUI_WIZ_TOKEN;
	CHECK(!gui_wizard_run(&p, &r, &e));
	CHECK(e && strstr(e->message, "token"));
	g_clear_error(&e);
	gui_wizard_result_clear(&r);

	g_free(subj);
	g_free(key);
	g_free(crt);
	g_free(key2);
	g_free(csr);
}

int main(void)
{
	char *tmpl = g_build_filename(g_get_tmp_dir(), "sisign-gui-model-XXXXXX", NULL);

	tmp = g_mkdtemp(tmpl);
	if (!tmp) {
		perror("mkdtemp");
		return 1;
	}
	/* Nothing here reads the user's own configuration or home. */
	g_setenv("HOME", tmp, TRUE);
	test_output_paths();
	test_settings();
	test_add_paths();
	test_expiry();
	test_error_text();
	test_batch();
	test_batch_p12();
	test_token_prompt();
	test_wizard();
	test_same_names();
	test_key_describe();
	test_days_default();
	test_check_rows();
	{
		char *cmd = g_strdup_printf("rm -rf '%s'", tmp);
		if (!sh(cmd))
			fprintf(stderr, "could not remove %s\n", tmp);
		g_free(cmd);
	}
	g_free(tmp);
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
