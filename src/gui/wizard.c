/* SPDX-License-Identifier: Apache-2.0 */
/* sisign-gtk — the certificate wizard: a key on a token or in a file, then a
 * self-signed certificate or a certificate request, with the subject as a
 * form.  The work is gui_wizard_run() (app_model.c) in a worker thread. */
#include "wizard.h"

#include <string.h>

#include <sisign/error.h>
#include <sisign/keygen.h>
#include <sisign/token.h>

struct wiz {
	GtkWidget *window;
	char **token_uris;
	char *module;
	sisign_wizard_done_fn done;
	void *user;

	GtkWidget *on_token, *in_file, *token_dd, *label_entry, *pin_entry;
	GtkWidget *key_path, *pass_entry;
	GtkWidget *selfsigned, *csr, *days;
	GtkWidget *f[7];          /* CN OU O L ST C email */
	GtkWidget *out_path;
	GtkWidget *create, *use_btn, *result, *spinner;
	struct gui_wizard_result last;
	gboolean running;
};

struct wiz_job {
	struct gui_wizard_params p;
	char *token_uri, *module, *label, *pin, *key_file, *passphrase, *subject, *out_file;
	struct gui_wizard_result r;
	GError *err;
	gboolean ok;
};

static void wiz_free(gpointer data)
{
	struct wiz *w = data;

	g_strfreev(w->token_uris);
	g_free(w->module);
	gui_wizard_result_clear(&w->last);
	g_free(w);
}

static void wipe_free(char *s)
{
	if (s) {
		sisign_memzero(s, strlen(s));
		g_free(s);
	}
}

static void job_free(gpointer data)
{
	struct wiz_job *j = data;

	g_free(j->token_uri);
	g_free(j->module);
	g_free(j->label);
	wipe_free(j->pin);
	g_free(j->key_file);
	wipe_free(j->passphrase);
	g_free(j->subject);
	g_free(j->out_file);
	gui_wizard_result_clear(&j->r);
	if (j->err)
		g_error_free(j->err);
	g_free(j);
}

static void run_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
	struct wiz_job *j = data;

	(void)src;
	(void)c;
	j->ok = gui_wizard_run(&j->p, &j->r, &j->err);
	g_task_return_boolean(task, TRUE);
}

static const char *txt(GtkWidget *e)
{
	return gtk_editable_get_text(GTK_EDITABLE(e));
}

static void set_result(struct wiz *w, const char *text, gboolean error)
{
	gtk_label_set_text(GTK_LABEL(w->result), text);
	gtk_widget_remove_css_class(w->result, "error");
	gtk_widget_remove_css_class(w->result, "success");
	gtk_widget_add_css_class(w->result, error ? "error" : "success");
}

static void run_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct wiz *w = data;
	struct wiz_job *j = g_task_get_task_data(G_TASK(res));

	(void)src;
	w->running = FALSE;
	gtk_spinner_stop(GTK_SPINNER(w->spinner));
	gtk_widget_set_sensitive(w->create, TRUE);
	if (j->ok) {
		set_result(w, j->r.summary, FALSE);
		gui_wizard_result_clear(&w->last);
		w->last = j->r;
		memset(&j->r, 0, sizeof j->r);
		gtk_widget_set_visible(w->use_btn, w->last.key_uri != NULL || (w->last.key_file && w->last.cert_file));
		if (w->done)
			w->done(&w->last, FALSE, w->user);
	} else {
		set_result(w, j->err ? j->err->message : "Failed", TRUE);
	}
	g_object_unref(w->window);
}

static void on_create(GtkButton *b, gpointer data)
{
	struct wiz *w = data;
	struct wiz_job *j;
	struct gui_subject s;
	GTask *task;
	guint sel;

	(void)b;
	if (w->running)
		return;
	j = g_new0(struct wiz_job, 1);
	memset(&s, 0, sizeof s);
	s.cn = txt(w->f[0]);
	s.ou = txt(w->f[1]);
	s.o = txt(w->f[2]);
	s.l = txt(w->f[3]);
	s.st = txt(w->f[4]);
	s.c = txt(w->f[5]);
	s.email = txt(w->f[6]);
	j->subject = gui_subject_build(&s);
	j->p.subject = j->subject;
	j->p.what = gtk_check_button_get_active(GTK_CHECK_BUTTON(w->csr)) ? GUI_WIZ_CSR : GUI_WIZ_SELFSIGNED;
	j->p.days = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(w->days));
	j->out_file = g_strdup(txt(w->out_path));
	j->p.out_file = j->out_file;
	if (gtk_check_button_get_active(GTK_CHECK_BUTTON(w->on_token))) {
		j->p.where = GUI_WIZ_TOKEN;
		sel = gtk_drop_down_get_selected(GTK_DROP_DOWN(w->token_dd));
		if (w->token_uris && sel != GTK_INVALID_LIST_POSITION && sel < g_strv_length(w->token_uris))
			j->token_uri = g_strdup(w->token_uris[sel]);
		j->module = g_strdup(w->module);
		j->label = g_strdup(txt(w->label_entry));
		j->pin = g_strdup(txt(w->pin_entry));
		j->p.token_uri = j->token_uri;
		j->p.module = j->module;
		j->p.label = j->label;
		j->p.pin = j->pin;
	} else {
		j->p.where = GUI_WIZ_FILE;
		j->key_file = g_strdup(txt(w->key_path));
		j->passphrase = g_strdup(txt(w->pass_entry));
		j->p.key_file = j->key_file;
		j->p.passphrase = j->passphrase;
	}
	/* The form's copies of the secrets go now; the job's are wiped after. */
	gtk_editable_set_text(GTK_EDITABLE(w->pin_entry), "");
	gtk_editable_set_text(GTK_EDITABLE(w->pass_entry), "");
	w->running = TRUE;
	gtk_widget_set_sensitive(w->create, FALSE);
	gtk_spinner_start(GTK_SPINNER(w->spinner));
	set_result(w, "Working…", FALSE);
	g_object_ref(w->window);
	task = g_task_new(NULL, NULL, run_done, w);
	g_task_set_task_data(task, j, job_free);
	g_task_run_in_thread(task, run_thread);
	g_object_unref(task);
}

static void on_use(GtkButton *b, gpointer data)
{
	struct wiz *w = data;

	(void)b;
	if (w->done)
		w->done(&w->last, TRUE, w->user);
	gtk_window_destroy(GTK_WINDOW(w->window));
}

static void suggest_paths(struct wiz *w)
{
	gboolean csr = gtk_check_button_get_active(GTK_CHECK_BUTTON(w->csr));
	gboolean token = gtk_check_button_get_active(GTK_CHECK_BUTTON(w->on_token));
	const char *key = txt(w->key_path);
	char *stem, *dot, *out;

	if (!token && *key) {
		stem = g_strdup(key);
		dot = strrchr(stem, '.');
		if (dot && !strchr(dot, '/'))
			*dot = '\0';
	} else {
		const char *label = txt(w->label_entry);
		stem = g_build_filename(g_get_home_dir(), *label ? label : "sisign", NULL);
	}
	out = g_strconcat(stem, csr ? ".csr" : ".crt", NULL);
	gtk_editable_set_text(GTK_EDITABLE(w->out_path), out);
	gtk_widget_set_sensitive(w->out_path, csr || !token);
	gtk_widget_set_sensitive(w->token_dd, token);
	gtk_widget_set_sensitive(w->label_entry, token);
	gtk_widget_set_sensitive(w->pin_entry, token);
	gtk_widget_set_sensitive(w->key_path, !token);
	gtk_widget_set_sensitive(w->pass_entry, !token);
	g_free(stem);
	g_free(out);
}

static void on_changed(GtkWidget *x, gpointer data)
{
	(void)x;
	suggest_paths(data);
}

static GtkWidget *lbl(const char *t)
{
	GtkWidget *l = gtk_label_new_with_mnemonic(t);

	gtk_label_set_xalign(GTK_LABEL(l), 1.0f);
	return l;
}

GtkWidget *sisign_wizard_new(GtkWindow *parent, GPtrArray *tokens, const char *module, sisign_wizard_done_fn done,
	void *user)
{
	struct wiz *w = g_new0(struct wiz, 1);
	GtkWidget *win, *grid, *box, *buttons, *l, *hb;
	GtkStringList *labels = gtk_string_list_new(NULL);
	GPtrArray *uris = g_ptr_array_new();
	static const char *fields[7] = { "Common name (CN)", "Organisational unit (OU)", "Organisation (O)",
		"Locality (L)", "State (ST)", "Country (C, 2 letters)", "E-mail" };
	int row = 0, i;
	guint t;

	for (t = 0; tokens && t < tokens->len; t++) {
		struct gui_token *tk = g_ptr_array_index(tokens, t);
		char *name;

		if (!(tk->flags & SISIGN_TOKEN_INITIALIZED))
			continue;
		name = g_strdup_printf("%s (serial %s)", tk->label, tk->serial);
		gtk_string_list_append(labels, name);
		g_ptr_array_add(uris, g_strdup(tk->uri));
		g_free(name);
	}
	g_ptr_array_add(uris, NULL);
	w->token_uris = (char **)g_ptr_array_free(uris, FALSE);
	w->module = g_strdup(module);
	w->done = done;
	w->user = user;

	win = gtk_window_new();
	w->window = win;
	g_object_set_data_full(G_OBJECT(win), "sisign-wizard", w, wiz_free);
	gtk_window_set_title(GTK_WINDOW(win), "New key and certificate");
	gtk_window_set_transient_for(GTK_WINDOW(win), parent);
	gtk_window_set_modal(GTK_WINDOW(win), TRUE);
	gtk_window_set_default_size(GTK_WINDOW(win), 620, -1);
	hb = gtk_header_bar_new();
	gtk_window_set_titlebar(GTK_WINDOW(win), hb);

	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 10);
	gtk_widget_set_margin_start(box, 18);
	gtk_widget_set_margin_end(box, 18);
	gtk_widget_set_margin_top(box, 14);
	gtk_widget_set_margin_bottom(box, 14);
	grid = gtk_grid_new();
	gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 10);

	/* where the key lives */
	w->on_token = gtk_check_button_new_with_mnemonic("Key on a _token");
	w->in_file = gtk_check_button_new_with_mnemonic("Key in a _file");
	gtk_check_button_set_group(GTK_CHECK_BUTTON(w->in_file), GTK_CHECK_BUTTON(w->on_token));
	gtk_grid_attach(GTK_GRID(grid), w->on_token, 0, row, 1, 1);
	w->token_dd = gtk_drop_down_new(G_LIST_MODEL(labels), NULL);
	gtk_widget_set_hexpand(w->token_dd, TRUE);
	gtk_grid_attach(GTK_GRID(grid), w->token_dd, 1, row++, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), lbl("Key label"), 0, row, 1, 1);
	w->label_entry = gtk_entry_new();
	gtk_editable_set_text(GTK_EDITABLE(w->label_entry), "sisign-signing");
	gtk_grid_attach(GTK_GRID(grid), w->label_entry, 1, row++, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), lbl("Token PIN"), 0, row, 1, 1);
	w->pin_entry = gtk_password_entry_new();
	gtk_password_entry_set_show_peek_icon(GTK_PASSWORD_ENTRY(w->pin_entry), TRUE);
	gtk_grid_attach(GTK_GRID(grid), w->pin_entry, 1, row++, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), w->in_file, 0, row, 1, 1);
	w->key_path = gtk_entry_new();
	{
		char *def = g_build_filename(g_get_home_dir(), "sisign-signing.key", NULL);
		gtk_editable_set_text(GTK_EDITABLE(w->key_path), def);
		g_free(def);
	}
	gtk_grid_attach(GTK_GRID(grid), w->key_path, 1, row++, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), lbl("Passphrase (empty: none)"), 0, row, 1, 1);
	w->pass_entry = gtk_password_entry_new();
	gtk_password_entry_set_show_peek_icon(GTK_PASSWORD_ENTRY(w->pass_entry), TRUE);
	gtk_grid_attach(GTK_GRID(grid), w->pass_entry, 1, row++, 1, 1);

	/* what to make */
	w->selfsigned = gtk_check_button_new_with_mnemonic("_Self-signed certificate");
	w->csr = gtk_check_button_new_with_mnemonic("Certificate _request (CSR)");
	gtk_check_button_set_group(GTK_CHECK_BUTTON(w->csr), GTK_CHECK_BUTTON(w->selfsigned));
	gtk_check_button_set_active(GTK_CHECK_BUTTON(w->selfsigned), TRUE);
	l = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	gtk_box_append(GTK_BOX(l), w->selfsigned);
	gtk_box_append(GTK_BOX(l), w->csr);
	gtk_grid_attach(GTK_GRID(grid), lbl("Make"), 0, row, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), l, 1, row++, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), lbl("Valid for (days)"), 0, row, 1, 1);
	w->days = gtk_spin_button_new_with_range(1, 36500, 1);
	/* The CLI's default too (keygen.h), so the app and `sisign keygen
	 * --cert` make the same certificate when nobody changes the field. */
	gtk_spin_button_set_value(GTK_SPIN_BUTTON(w->days), SISIGN_CERT_DAYS_DEFAULT);
	gtk_grid_attach(GTK_GRID(grid), w->days, 1, row++, 1, 1);
	for (i = 0; i < 7; i++) {
		gtk_grid_attach(GTK_GRID(grid), lbl(fields[i]), 0, row, 1, 1);
		w->f[i] = gtk_entry_new();
		gtk_grid_attach(GTK_GRID(grid), w->f[i], 1, row++, 1, 1);
	}
	gtk_entry_set_max_length(GTK_ENTRY(w->f[5]), 2);
	gtk_grid_attach(GTK_GRID(grid), lbl("Save as"), 0, row, 1, 1);
	w->out_path = gtk_entry_new();
	gtk_grid_attach(GTK_GRID(grid), w->out_path, 1, row++, 1, 1);
	gtk_box_append(GTK_BOX(box), grid);

	w->result = gtk_label_new("");
	gtk_label_set_wrap(GTK_LABEL(w->result), TRUE);
	gtk_label_set_wrap_mode(GTK_LABEL(w->result), PANGO_WRAP_WORD_CHAR);
	gtk_label_set_selectable(GTK_LABEL(w->result), TRUE);
	gtk_label_set_xalign(GTK_LABEL(w->result), 0.0f);
	gtk_box_append(GTK_BOX(box), w->result);

	buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	gtk_widget_set_halign(buttons, GTK_ALIGN_END);
	w->spinner = gtk_spinner_new();
	gtk_box_append(GTK_BOX(buttons), w->spinner);
	w->use_btn = gtk_button_new_with_mnemonic("_Sign with this key");
	gtk_widget_set_visible(w->use_btn, FALSE);
	g_signal_connect(w->use_btn, "clicked", G_CALLBACK(on_use), w);
	gtk_box_append(GTK_BOX(buttons), w->use_btn);
	w->create = gtk_button_new_with_mnemonic("_Create");
	gtk_widget_add_css_class(w->create, "suggested-action");
	g_signal_connect(w->create, "clicked", G_CALLBACK(on_create), w);
	gtk_box_append(GTK_BOX(buttons), w->create);
	gtk_box_append(GTK_BOX(box), buttons);
	gtk_window_set_child(GTK_WINDOW(win), box);

	gtk_check_button_set_active(GTK_CHECK_BUTTON(g_strv_length(w->token_uris) ? w->on_token : w->in_file), TRUE);
	g_signal_connect(w->on_token, "toggled", G_CALLBACK(on_changed), w);
	g_signal_connect(w->csr, "toggled", G_CALLBACK(on_changed), w);
	g_signal_connect(w->key_path, "changed", G_CALLBACK(on_changed), w);
	g_signal_connect(w->label_entry, "changed", G_CALLBACK(on_changed), w);
	suggest_paths(w);
	return win; /* labels: owned by the drop-down */
}
