/* SPDX-License-Identifier: Apache-2.0 */
/* sisign-gtk — the main window: identity pane (tokens, their keys and
 * certificates, or a key file), the package list, the batch actions, the
 * PIN dialog and the details view.  All logic that does not draw lives in
 * app_model.c. */
#include "app_window.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include <sisign/check.h>
#include <sisign/signer.h>
#include <sisign/token.h>
#include <sisign/verify.h>

#include "fe.h"
#include "wizard.h"

enum { COL_NAME, COL_UID, COL_VERSION, COL_SIGS, COL_STATUS, NCOLS };

struct win {
	GtkWidget *window;
	struct gui_model *model;
	struct gui_settings settings;
	char *settings_path;
	char *module_override;

	/* identity pane */
	GtkWidget *id_list;      /* GtkListBox */
	GtkWidget *id_current;   /* label: "Signing with:" in words */
	GtkWidget *id_copy;      /* button: copies id_copy_text */
	char *id_copy_text;      /* the key's URI (redacted) or the key file's path */
	GtkWidget *refresh_btn;
	GtkWidget *id_spinner;
	GPtrArray *tokens;       /* last scan, struct gui_token * */
	gboolean tokens_busy;
	gboolean filling_ids;    /* rebuilding the list: ignore selection signals */

	/* packages */
	GtkWidget *pkg_list;     /* GtkListBox */
	GtkWidget *empty_label;
	GPtrArray *row_widgets;  /* per job: the GtkListBoxRow */
	/* One per column, holding the header's cell and every row's, so a
	 * column is as wide in the header as in each row. */
	GtkSizeGroup *col_size[NCOLS];
	GtkDropTarget *drop;

	/* actions and output */
	GtkWidget *btn[5];
	GtkWidget *add_btn, *remove_btn;
	GtkWidget *out_suffix, *out_folder, *out_inplace, *suffix_entry, *folder_btn;
	GtkWidget *progress;
	GtkWidget *trust_label, *trust_clear;
	GtkWidget *info_bar, *info_label;
	char *error_text;

	/* batch */
	struct gui_batch *batch;
	GtkWidget *secret_dialog, *secret_entry, *secret_ok;
	char *secret_text;       /* what the dialog says: prompt, then the warning line */
	gboolean cancelled;      /* Cancel pressed during this batch */
};

static struct win *W(GtkWidget *w)
{
	return g_object_get_data(G_OBJECT(w), "sisign-win");
}

/* ---- errors in the window ------------------------------------------------ */

static void show_error(struct win *w, const char *text)
{
	g_free(w->error_text);
	w->error_text = g_strdup(text);
	gtk_label_set_text(GTK_LABEL(w->info_label), text);
	gtk_info_bar_set_message_type(GTK_INFO_BAR(w->info_bar), GTK_MESSAGE_ERROR);
	gtk_widget_set_visible(w->info_bar, TRUE);
	gtk_info_bar_set_revealed(GTK_INFO_BAR(w->info_bar), TRUE);
}

static void hide_error(struct win *w)
{
	g_clear_pointer(&w->error_text, g_free);
	gtk_info_bar_set_revealed(GTK_INFO_BAR(w->info_bar), FALSE);
	gtk_widget_set_visible(w->info_bar, FALSE);
}

static void on_info_response(GtkInfoBar *bar, int response, gpointer data)
{
	(void)bar;
	(void)response;
	hide_error(data);
}

static void save_settings(struct win *w)
{
	GError *e = NULL;

	if (!gui_settings_save(&w->settings, w->settings_path, &e)) {
		char *t = g_strdup_printf("Could not save the settings: %s", e->message);
		show_error(w, t);
		g_free(t);
		g_error_free(e);
	}
}

/* ---- package rows --------------------------------------------------------------- */

static GtkWidget *cell(const char *text, int chars, gboolean expand, float xalign)
{
	GtkWidget *l = gtk_label_new(text);

	gtk_label_set_xalign(GTK_LABEL(l), xalign);
	gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_END);
	if (chars > 0)
		gtk_label_set_width_chars(GTK_LABEL(l), chars);
	gtk_widget_set_hexpand(l, expand);
	return l;
}

static void set_status_class(GtkWidget *l, const char *cls)
{
	gtk_widget_remove_css_class(l, "success");
	gtk_widget_remove_css_class(l, "error");
	gtk_widget_remove_css_class(l, "warning");
	gtk_widget_remove_css_class(l, "dim-label");
	if (cls)
		gtk_widget_add_css_class(l, cls);
}

/* The install-rules line under the status (labels[NCOLS + 1], its icon
 * labels[NCOLS + 2]): the verdict of `sisign check` on the package (or on
 * the file the last sign wrote), every finding in the tooltip. */
static void fill_check(GtkWidget **labels, const struct gui_check *c)
{
	GtkWidget *line = labels[NCOLS + 1], *icon = labels[NCOLS + 2];
	GtkWidget *box = gtk_widget_get_parent(line);
	char *text = gui_check_line(c), *tip;
	const char *icon_name, *cls;

	gtk_widget_set_visible(box, text != NULL);
	if (!text)
		return;
	if (c->error) {
		icon_name = "dialog-question-symbolic";
		cls = "dim-label";
	} else if (c->worst >= SISIGN_CHECK_ERROR) {
		icon_name = "dialog-error-symbolic";
		cls = "error";
	} else if (c->worst == SISIGN_CHECK_DEPENDS) {
		icon_name = "dialog-warning-symbolic";
		cls = "warning";
	} else if (c->worst == SISIGN_CHECK_WARNING) {
		icon_name = "dialog-information-symbolic";
		cls = "dim-label";
	} else {
		icon_name = "emblem-ok-symbolic";
		cls = "success";
	}
	gtk_image_set_from_icon_name(GTK_IMAGE(icon), icon_name);
	gtk_label_set_text(GTK_LABEL(line), text);
	set_status_class(line, cls);
	set_status_class(icon, cls);
	if (c->all)
		tip = g_strdup_printf("%s\n\nInstall rules (sisign check, docs/check.md):\n%s", text, c->all);
	else
		tip = g_strdup_printf("%s\n\nNo install-rule findings (sisign check, docs/check.md).", text);
	gtk_widget_set_tooltip_text(box, tip);
	g_free(tip);
	g_free(text);
}

static void fill_row(GtkWidget *row, const struct gui_job *j)
{
	GtkWidget **labels = g_object_get_data(G_OBJECT(row), "labels");
	char buf[64], *name = gui_job_title(j), *folder = gui_job_folder(j), *sigs, *sigs_tip;
	const char *cls = NULL, *status;

	gtk_label_set_text(GTK_LABEL(labels[COL_NAME]), name);
	gtk_widget_set_tooltip_text(labels[COL_NAME], j->path);
	gtk_label_set_text(GTK_LABEL(labels[NCOLS]), folder);
	gtk_widget_set_tooltip_text(labels[NCOLS], j->path);
	g_snprintf(buf, sizeof buf, j->load_error ? "—" : "0x%08" PRIx32, j->uid);
	gtk_label_set_text(GTK_LABEL(labels[COL_UID]), buf);
	gtk_label_set_text(GTK_LABEL(labels[COL_VERSION]), j->load_error ? "—" : j->version);
	sigs = gui_job_signatures_text(j, &sigs_tip);
	gtk_label_set_text(GTK_LABEL(labels[COL_SIGS]), sigs);
	gtk_widget_set_tooltip_text(labels[COL_SIGS], sigs_tip);
	g_free(sigs);
	g_free(sigs_tip);
	if (j->load_error) {
		status = j->load_error;
		cls = "error";
	} else if (j->status) {
		status = j->status;
		switch (j->state) {
		case GUI_JOB_DONE:
			cls = j->verdict == SISIGN_VERDICT_UNTRUSTED || j->verdict == SISIGN_VERDICT_UNSIGNED ? "warning" :
															"success";
			break;
		case GUI_JOB_FAILED: cls = "error"; break;
		case GUI_JOB_CANCELLED: cls = "warning"; break;
		default: cls = "dim-label"; break;
		}
	} else {
		status = "Ready";
		cls = "dim-label";
	}
	gtk_label_set_text(GTK_LABEL(labels[COL_STATUS]), status);
	gtk_widget_set_tooltip_text(labels[COL_STATUS], j->output ? j->output : status);
	set_status_class(labels[COL_STATUS], cls);
	fill_check(labels, &j->check);
	g_free(name);
	g_free(folder);
}

/* The header (titles) or a package row: one cell per column, each cell in
 * its column's size group, so every column starts and ends at the same x in
 * the header and in each row.  "labels" holds the NCOLS text labels, then
 * (rows only) the dimmed folder line under the name, and the install-rules
 * line and its icon under the status. */
static GtkWidget *header_or_row(struct win *w, gboolean header)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	GtkWidget **labels = g_new0(GtkWidget *, NCOLS + 3);
	static const char *titles[NCOLS] = { "Package", "UID", "Version", "Signatures", "Status" };
	static const int widths[NCOLS] = { 16, 10, 7, 10, 18 };
	int i;

	for (i = 0; i < NCOLS; i++) {
		GtkWidget *c;

		c = labels[i] = cell(header ? titles[i] : "", widths[i], i == COL_NAME || i == COL_STATUS, 0.0f);
		if (header)
			gtk_widget_add_css_class(labels[i], "heading");
		if (i == COL_NAME && !header) {
			/* Two packages of the same name from different folders:
			 * the folder, dimmed, under the name. */
			c = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
			gtk_widget_set_hexpand(c, TRUE);
			gtk_box_append(GTK_BOX(c), labels[i]);
			labels[NCOLS] = cell("", 0, TRUE, 0.0f);
			gtk_label_set_ellipsize(GTK_LABEL(labels[NCOLS]), PANGO_ELLIPSIZE_START);
			gtk_widget_add_css_class(labels[NCOLS], "caption");
			gtk_widget_add_css_class(labels[NCOLS], "dim-label");
			gtk_box_append(GTK_BOX(c), labels[NCOLS]);
		}
		if (i == COL_STATUS && !header) {
			/* The install rules, small, under the status: an icon
			 * and one line (fill_check). */
			GtkWidget *line = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);

			gtk_widget_set_name(line, "install-rules");

			c = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
			gtk_widget_set_hexpand(c, TRUE);
			gtk_box_append(GTK_BOX(c), labels[i]);
			labels[NCOLS + 2] = gtk_image_new();
			gtk_box_append(GTK_BOX(line), labels[NCOLS + 2]);
			labels[NCOLS + 1] = cell("", 0, TRUE, 0.0f);
			gtk_widget_add_css_class(labels[NCOLS + 1], "caption");
			gtk_box_append(GTK_BOX(line), labels[NCOLS + 1]);
			gtk_box_append(GTK_BOX(c), line);
		}
		gtk_widget_set_valign(c, GTK_ALIGN_CENTER);
		gtk_size_group_add_widget(w->col_size[i], c);
		gtk_box_append(GTK_BOX(box), c);
	}
	gtk_widget_set_margin_start(box, 8);
	gtk_widget_set_margin_end(box, 8);
	gtk_widget_set_margin_top(box, 6);
	gtk_widget_set_margin_bottom(box, 6);
	g_object_set_data_full(G_OBJECT(box), "labels", labels, g_free);
	return box;
}

static void rebuild_packages(struct win *w)
{
	GtkWidget *child;
	guint i, n = gui_model_njobs(w->model);

	while ((child = gtk_widget_get_first_child(w->pkg_list)))
		gtk_list_box_remove(GTK_LIST_BOX(w->pkg_list), child);
	g_ptr_array_set_size(w->row_widgets, 0);
	for (i = 0; i < n; i++) {
		GtkWidget *box = header_or_row(w, FALSE), *row = gtk_list_box_row_new();
		g_object_set_data(G_OBJECT(row), "labels", g_object_get_data(G_OBJECT(box), "labels"));
		gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);
		gtk_list_box_append(GTK_LIST_BOX(w->pkg_list), row);
		g_ptr_array_add(w->row_widgets, row);
		fill_row(row, gui_model_job(w->model, i));
	}
	gtk_widget_set_visible(w->empty_label, n == 0);
}

static void update_row(struct win *w, guint idx)
{
	if (idx < w->row_widgets->len)
		fill_row(g_ptr_array_index(w->row_widgets, idx), gui_model_job(w->model, idx));
}

static void update_sensitivity(struct win *w)
{
	gboolean busy = w->batch != NULL, has = gui_model_njobs(w->model) > 0;

	gtk_widget_set_sensitive(w->btn[SISIGN_BTN_SIGN], !busy && has);
	gtk_widget_set_sensitive(w->btn[SISIGN_BTN_UNSIGN], !busy && has);
	gtk_widget_set_sensitive(w->btn[SISIGN_BTN_VERIFY], !busy && has);
	gtk_widget_set_sensitive(w->btn[SISIGN_BTN_DETAILS], has);
	gtk_widget_set_sensitive(w->btn[SISIGN_BTN_CANCEL], busy);
	gtk_widget_set_sensitive(w->remove_btn, !busy && has);
	gtk_widget_set_sensitive(w->add_btn, !busy);
}

void sisign_app_window_add_files(GtkWidget *win, GFile *const *files, guint n)
{
	struct win *w = W(win);
	GString *errs = g_string_new(NULL);
	guint i, added = 0;

	if (w->batch) {
		show_error(w, "Wait for the running operation to finish before adding packages.");
		g_string_free(errs, TRUE);
		return;
	}
	for (i = 0; i < n; i++) {
		char *p = g_file_get_path(files[i]);
		GError *e = NULL;

		if (!p) {
			char *uri = g_file_get_uri(files[i]);
			g_string_append_printf(errs, "%s%s is not a local file", errs->len ? "; " : "", uri);
			g_free(uri);
			continue;
		}
		added += gui_model_add_path(w->model, p, &e);
		if (e) {
			g_string_append_printf(errs, "%s%s", errs->len ? "; " : "", e->message);
			g_error_free(e);
		}
		g_free(p);
	}
	rebuild_packages(w);
	update_sensitivity(w);
	if (errs->len)
		show_error(w, errs->str);
	else if (added == 0 && n > 0)
		show_error(w, "No new SIS packages found there (only .sis, .sisx and .ctl files are added).");
	g_string_free(errs, TRUE);
}

static gboolean on_drop(GtkDropTarget *t, const GValue *value, double x, double y, gpointer data)
{
	struct win *w = data;
	GSList *l, *files;
	GPtrArray *arr = g_ptr_array_new();

	(void)t;
	(void)x;
	(void)y;
	if (!G_VALUE_HOLDS(value, GDK_TYPE_FILE_LIST))
		return FALSE;
	files = gdk_file_list_get_files(g_value_get_boxed(value));
	for (l = files; l; l = l->next)
		g_ptr_array_add(arr, l->data);
	sisign_app_window_add_files(w->window, (GFile *const *)arr->pdata, arr->len);
	g_slist_free(files);
	g_ptr_array_unref(arr);
	return TRUE;
}

static void on_add_response(GtkNativeDialog *d, int response, gpointer data)
{
	struct win *w = data;

	if (response == GTK_RESPONSE_ACCEPT) {
		GListModel *files = gtk_file_chooser_get_files(GTK_FILE_CHOOSER(d));
		guint i, n = g_list_model_get_n_items(files);
		GPtrArray *arr = g_ptr_array_new_with_free_func(g_object_unref);

		for (i = 0; i < n; i++)
			g_ptr_array_add(arr, g_list_model_get_item(files, i));
		sisign_app_window_add_files(w->window, (GFile *const *)arr->pdata, arr->len);
		g_ptr_array_unref(arr);
		g_object_unref(files);
	}
	g_object_unref(d);
}

static void on_add(GtkButton *b, gpointer data)
{
	struct win *w = data;
	GtkFileChooserNative *d = gtk_file_chooser_native_new("Add SIS packages", GTK_WINDOW(w->window),
		GTK_FILE_CHOOSER_ACTION_OPEN, "_Add", "_Cancel");
	GtkFileFilter *f = gtk_file_filter_new();

	(void)b;
	gtk_file_filter_set_name(f, "SIS packages");
	gtk_file_filter_add_pattern(f, "*.sis");
	gtk_file_filter_add_pattern(f, "*.sisx");
	gtk_file_filter_add_pattern(f, "*.SIS");
	gtk_file_filter_add_pattern(f, "*.SISX");
	gtk_file_filter_add_pattern(f, "*.ctl");
	gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
	g_object_unref(f);
	gtk_file_chooser_set_select_multiple(GTK_FILE_CHOOSER(d), TRUE);
	g_signal_connect(d, "response", G_CALLBACK(on_add_response), w);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static GArray *selected_rows(struct win *w)
{
	GList *sel = gtk_list_box_get_selected_rows(GTK_LIST_BOX(w->pkg_list)), *l;
	GArray *a = g_array_new(FALSE, FALSE, sizeof(guint));

	for (l = sel; l; l = l->next) {
		guint i = (guint)gtk_list_box_row_get_index(l->data);
		g_array_append_val(a, i);
	}
	g_list_free(sel);
	return a;
}

static void on_remove_rows(GtkButton *b, gpointer data)
{
	struct win *w = data;
	GArray *a = selected_rows(w);

	(void)b;
	if (w->batch) {
		g_array_unref(a);
		return;
	}
	if (a->len == 0)
		show_error(w, "Select the packages to take off the list first.");
	else
		gui_model_remove(w->model, (const guint *)(void *)a->data, a->len);
	g_array_unref(a);
	rebuild_packages(w);
	update_sensitivity(w);
}

void sisign_app_window_select_rows(GtkWidget *win, const guint *idx, guint n)
{
	struct win *w = W(win);
	guint i;

	gtk_list_box_unselect_all(GTK_LIST_BOX(w->pkg_list));
	for (i = 0; i < n; i++)
		if (idx[i] < w->row_widgets->len)
			gtk_list_box_select_row(GTK_LIST_BOX(w->pkg_list), g_ptr_array_index(w->row_widgets, idx[i]));
}

/* ---- details --------------------------------------------------------------------- */

/* A Details value: wraps at word (else character) boundaries, selectable. */
static GtkWidget *detail_label(const char *text, const char *mood)
{
	GtkWidget *l = gtk_label_new(text ? text : "");

	gtk_label_set_xalign(GTK_LABEL(l), 0.0f);
	gtk_label_set_yalign(GTK_LABEL(l), 0.0f);
	gtk_label_set_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_wrap_mode(GTK_LABEL(l), PANGO_WRAP_WORD_CHAR);
	gtk_label_set_selectable(GTK_LABEL(l), TRUE);
	gtk_widget_set_hexpand(l, TRUE);
	if (mood)
		gtk_widget_add_css_class(l, mood);
	return l;
}

/* The Details rows (gui_details_build) as a two-column grid: headings across
 * both columns, "label  value" fields, one entry per file; indented by
 * depth. */
static GtkWidget *details_grid(GPtrArray *rows)
{
	GtkWidget *grid = gtk_grid_new();
	guint i;
	int y = 0;

	gtk_grid_set_column_spacing(GTK_GRID(grid), 16);
	gtk_grid_set_row_spacing(GTK_GRID(grid), 4);
	gtk_widget_set_margin_start(grid, 16);
	gtk_widget_set_margin_end(grid, 16);
	gtk_widget_set_margin_top(grid, 12);
	gtk_widget_set_margin_bottom(grid, 16);
	for (i = 0; i < rows->len; i++) {
		const struct gui_detail *d = g_ptr_array_index(rows, i);
		GtkWidget *k, *v, *box;
		char *t;

		switch (d->kind) {
		case GUI_DETAIL_HEADING:
			t = d->value ? g_strdup_printf("%s — %s", d->key, d->value) : g_strdup(d->key);
			k = detail_label(t, d->mood);
			g_free(t);
			/* Headings are not selectable, so the first one does not
			 * take the focus (and show all its text selected). */
			gtk_label_set_selectable(GTK_LABEL(k), FALSE);
			gtk_widget_add_css_class(k, d->depth == 0 ? "title-4" : "heading");
			gtk_widget_set_margin_start(k, d->depth * 18);
			if (y)
				gtk_widget_set_margin_top(k, d->depth == 0 ? 14 : 10);
			gtk_grid_attach(GTK_GRID(grid), k, 0, y++, 2, 1);
			break;
		case GUI_DETAIL_FIELD:
			k = gtk_label_new(d->key);
			gtk_label_set_xalign(GTK_LABEL(k), 0.0f);
			gtk_label_set_yalign(GTK_LABEL(k), 0.0f);
			gtk_widget_add_css_class(k, "dim-label");
			gtk_widget_set_margin_start(k, d->depth * 18);
			v = detail_label(d->value, d->mood);
			gtk_grid_attach(GTK_GRID(grid), k, 0, y, 1, 1);
			gtk_grid_attach(GTK_GRID(grid), v, 1, y++, 1, 1);
			break;
		default:
			box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
			gtk_widget_set_margin_start(box, d->depth * 18);
			gtk_box_append(GTK_BOX(box), detail_label(d->key, d->value ? NULL : d->mood));
			if (d->value) {
				v = detail_label(d->value, d->mood);
				gtk_widget_add_css_class(v, "caption");
				if (!d->mood)
					gtk_widget_add_css_class(v, "dim-label");
				gtk_widget_set_margin_start(v, 12);
				gtk_box_append(GTK_BOX(box), v);
			}
			gtk_grid_attach(GTK_GRID(grid), box, 0, y++, 2, 1);
			break;
		}
	}
	return grid;
}

static void show_details_for(struct win *w, guint idx)
{
	struct gui_job *j = gui_model_job(w->model, idx);
	GtkWidget *dlg, *sw;
	GPtrArray *rows;
	char *base, *title;

	if (!j)
		return;
	rows = gui_details_build(j->path, (const char *const *)w->settings.trust);
	base = g_path_get_basename(j->path);
	title = g_strdup_printf("Details — %s", base);
	dlg = gtk_window_new();
	gtk_window_set_title(GTK_WINDOW(dlg), title);
	gtk_window_set_transient_for(GTK_WINDOW(dlg), GTK_WINDOW(w->window));
	gtk_window_set_default_size(GTK_WINDOW(dlg), 760, 560);
	sw = gtk_scrolled_window_new();
	/* Values wrap to the window's width: only vertical scrolling. */
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(sw), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw), details_grid(rows));
	gtk_window_set_child(GTK_WINDOW(dlg), sw);
	gtk_window_present(GTK_WINDOW(dlg));
	/* Nothing focused or selected: the first selectable value gets the
	 * focus on show, and with it all its text selected. */
	if (GTK_IS_LABEL(gtk_window_get_focus(GTK_WINDOW(dlg))))
		gtk_label_select_region(GTK_LABEL(gtk_window_get_focus(GTK_WINDOW(dlg))), 0, 0);
	gtk_window_set_focus(GTK_WINDOW(dlg), NULL);
	g_ptr_array_unref(rows);
	g_free(base);
	g_free(title);
}

static void on_details(GtkButton *b, gpointer data)
{
	struct win *w = data;
	GArray *a = selected_rows(w);

	(void)b;
	if (a->len == 0 && gui_model_njobs(w->model) == 1)
		show_details_for(w, 0);
	else if (a->len == 0)
		show_error(w, "Select a package to see its details.");
	else
		show_details_for(w, g_array_index(a, guint, 0));
	g_array_unref(a);
}

static void on_row_activated(GtkListBox *lb, GtkListBoxRow *row, gpointer data)
{
	(void)lb;
	show_details_for(data, (guint)gtk_list_box_row_get_index(row));
}

/* ---- identity pane ------------------------------------------------------------------ */

/* The key the last token scan saw under key_uri, else NULL. */
static const struct gui_token_key *scanned_key(struct win *w, const char *key_uri)
{
	guint i, k;

	for (i = 0; w->tokens && i < w->tokens->len; i++) {
		struct gui_token *t = g_ptr_array_index(w->tokens, i);
		for (k = 0; k < t->keys->len; k++) {
			struct gui_token_key *key = g_ptr_array_index(t->keys, k);
			if (g_strcmp0(key->key_uri, key_uri) == 0)
				return key;
		}
	}
	return NULL;
}

/* "Signing with:" in words (token, key, certificate subject), the full
 * URI or key file path behind the copy button. */
static void update_identity_label(struct win *w)
{
	char *t, *d, *tip = NULL;

	g_clear_pointer(&w->id_copy_text, g_free);
	if (w->settings.identity == GUI_IDENTITY_TOKEN && w->settings.key_uri) {
		const struct gui_token_key *key = scanned_key(w, w->settings.key_uri);
		d = gui_key_describe(w->settings.key_uri, key ? key->label : NULL, key ? key->subject : NULL);
		t = g_strdup_printf("Signing with:\n%s", d);
		g_free(d);
		w->id_copy_text = sisign_token_uri_redact(w->settings.key_uri);
		tip = g_strdup_printf("Copy the key's URI:\n%s", w->id_copy_text ? w->id_copy_text : "");
	} else if (w->settings.identity == GUI_IDENTITY_FILE && w->settings.key_file) {
		char *k = g_path_get_basename(w->settings.key_file);
		char *c = w->settings.cert_file ? g_path_get_basename(w->settings.cert_file) : NULL;
		t = g_strdup_printf("Signing with:\nKey file %s\nCertificate file %s", k, c ? c : "(none)");
		w->id_copy_text = g_strdup(w->settings.key_file);
		tip = g_strdup_printf("Copy the key file's path:\n%s", w->settings.key_file);
		g_free(k);
		g_free(c);
	} else {
		t = g_strdup("No signing key chosen yet.");
	}
	gtk_label_set_text(GTK_LABEL(w->id_current), t);
	gtk_widget_set_visible(w->id_copy, w->id_copy_text != NULL);
	gtk_widget_set_tooltip_text(w->id_copy, tip);
	g_free(t);
	g_free(tip);
}

static void on_copy_identity(GtkButton *b, gpointer data)
{
	struct win *w = data;

	if (w->id_copy_text)
		gdk_clipboard_set_text(gtk_widget_get_clipboard(GTK_WIDGET(b)), w->id_copy_text);
}

static GtkWidget *id_header(const char *title, const char *sub, const char *err)
{
	GtkWidget *row = gtk_list_box_row_new(), *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2), *l;

	gtk_list_box_row_set_selectable(GTK_LIST_BOX_ROW(row), FALSE);
	gtk_list_box_row_set_activatable(GTK_LIST_BOX_ROW(row), FALSE);
	l = cell(title, 0, TRUE, 0.0f);
	gtk_widget_add_css_class(l, "heading");
	gtk_box_append(GTK_BOX(box), l);
	if (sub && *sub) {
		l = cell(sub, 0, TRUE, 0.0f);
		gtk_widget_add_css_class(l, "dim-label");
		gtk_box_append(GTK_BOX(box), l);
	}
	if (err) {
		l = gtk_label_new(err);
		gtk_label_set_wrap(GTK_LABEL(l), TRUE);
		gtk_label_set_xalign(GTK_LABEL(l), 0.0f);
		gtk_widget_add_css_class(l, "error");
		gtk_box_append(GTK_BOX(box), l);
	}
	gtk_widget_set_margin_start(box, 6);
	gtk_widget_set_margin_top(box, 8);
	gtk_widget_set_margin_bottom(box, 2);
	gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);
	return row;
}

static GtkWidget *id_key_row(const char *title, const char *subject, time_t not_after, const char *kind,
	const char *uri, const char *extra)
{
	GtkWidget *row = gtk_list_box_row_new(), *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2), *l;
	char when[32], *t;

	l = cell(title, 0, TRUE, 0.0f);
	gtk_box_append(GTK_BOX(box), l);
	if (subject) {
		t = g_strdup_printf("Certificate: %s", *subject ? subject : "(empty subject)");
		l = cell(t, 0, TRUE, 0.0f);
		gtk_widget_set_tooltip_text(l, t);
		gtk_widget_add_css_class(l, "caption");
		gtk_box_append(GTK_BOX(box), l);
		g_free(t);
	}
	if (extra) {
		l = cell(extra, 0, TRUE, 0.0f);
		gtk_widget_add_css_class(l, "caption");
		gtk_box_append(GTK_BOX(box), l);
	}
	if (not_after) {
		enum gui_expiry e = gui_expiry_class(not_after, time(NULL));
		fe_time_format(not_after, when, sizeof when);
		t = g_strdup_printf("%s %.10s", e == GUI_EXPIRY_PAST ? "EXPIRED" : e == GUI_EXPIRY_SOON ? "Expires soon:" :
											   "Valid until",
			when);
		l = cell(t, 0, TRUE, 0.0f);
		gtk_widget_add_css_class(l, "caption");
		if (e == GUI_EXPIRY_PAST)
			gtk_widget_add_css_class(l, "error");
		else if (e == GUI_EXPIRY_SOON)
			gtk_widget_add_css_class(l, "warning");
		else
			gtk_widget_add_css_class(l, "dim-label");
		gtk_box_append(GTK_BOX(box), l);
		g_free(t);
	} else if (subject == NULL && g_strcmp0(kind, "token") == 0) {
		l = cell("No certificate on the token for this key", 0, TRUE, 0.0f);
		gtk_widget_add_css_class(l, "caption");
		gtk_widget_add_css_class(l, "warning");
		gtk_box_append(GTK_BOX(box), l);
	}
	gtk_widget_set_margin_start(box, 20);
	gtk_widget_set_margin_top(box, 4);
	gtk_widget_set_margin_bottom(box, 4);
	gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);
	g_object_set_data_full(G_OBJECT(row), "kind", g_strdup(kind), g_free);
	g_object_set_data_full(G_OBJECT(row), "uri", g_strdup(uri), g_free);
	return row;
}

static guint count_initialized(GPtrArray *tokens)
{
	guint i, n = 0;

	for (i = 0; tokens && i < tokens->len; i++)
		if (((struct gui_token *)g_ptr_array_index(tokens, i))->flags & SISIGN_TOKEN_INITIALIZED)
			n++;
	return n;
}

/* Rebuild the identity list from the last token scan plus the key file,
 * re-selecting the remembered choice. */
static void rebuild_identities(struct win *w, const char *scan_error)
{
	GtkWidget *child, *sel = NULL;
	guint i, k;

	w->filling_ids = TRUE;
	while ((child = gtk_widget_get_first_child(w->id_list)))
		gtk_list_box_remove(GTK_LIST_BOX(w->id_list), child);
	if (scan_error)
		gtk_list_box_append(GTK_LIST_BOX(w->id_list), id_header("Tokens", NULL, scan_error));
	else if (count_initialized(w->tokens) == 0)
		gtk_list_box_append(GTK_LIST_BOX(w->id_list),
			id_header("Tokens", w->tokens_busy ? "Looking for tokens…" : "No token found. Plug one in and press Refresh.", NULL));
	for (i = 0; w->tokens && i < w->tokens->len; i++) {
		struct gui_token *t = g_ptr_array_index(w->tokens, i);
		char *sub, *title;

		/* An empty slot (SoftHSM always offers one) is nothing to sign with. */
		if (!(t->flags & SISIGN_TOKEN_INITIALIZED))
			continue;
		sub = g_strdup_printf("%s %s, serial %s%s", t->manufacturer, t->model, t->serial,
			t->flags & SISIGN_TOKEN_USER_PIN_LOCKED ? " — PIN LOCKED" :
			t->flags & SISIGN_TOKEN_USER_PIN_FINAL_TRY ? " — final PIN try" :
			t->flags & SISIGN_TOKEN_USER_PIN_COUNT_LOW ? " — a wrong PIN was entered" : "");
		title = g_strdup_printf("Token \"%s\"", t->label);

		gtk_list_box_append(GTK_LIST_BOX(w->id_list), id_header(title, sub, t->error));
		if (!t->error && t->keys->len == 0 && (t->flags & SISIGN_TOKEN_INITIALIZED))
			gtk_list_box_append(GTK_LIST_BOX(w->id_list),
				id_header("", "No key with a certificate or public key visible", NULL));
		for (k = 0; k < t->keys->len; k++) {
			struct gui_token_key *key = g_ptr_array_index(t->keys, k);
			char *kt = g_strdup_printf("Key \"%s\"%s%s%s", key->label, key->id_hex[0] ? " (id " : "",
				key->id_hex, key->id_hex[0] ? ")" : "");
			char *bits = key->key_bits ? g_strdup_printf("RSA %d bits", key->key_bits) : NULL;
			GtkWidget *row = id_key_row(kt, key->subject, key->not_after, "token", key->key_uri, bits);

			gtk_widget_set_tooltip_text(row, key->key_uri);
			gtk_list_box_append(GTK_LIST_BOX(w->id_list), row);
			if (w->settings.identity == GUI_IDENTITY_TOKEN && g_strcmp0(w->settings.key_uri, key->key_uri) == 0)
				sel = row;
			g_free(kt);
			g_free(bits);
		}
		g_free(sub);
		g_free(title);
	}
	if (w->settings.key_file) {
		char *base = g_path_get_basename(w->settings.key_file);
		char *kt = g_strdup_printf("Key file %s", base);
		char *ct = w->settings.cert_file ? g_path_get_basename(w->settings.cert_file) : NULL;
		char *extra = g_strdup_printf("Certificate file: %s", ct ? ct : "(none)");
		GtkWidget *row;

		gtk_list_box_append(GTK_LIST_BOX(w->id_list), id_header("Key files", NULL, NULL));
		row = id_key_row(kt, NULL, 0, "file", w->settings.key_file, extra);
		gtk_widget_set_tooltip_text(row, w->settings.key_file);
		gtk_list_box_append(GTK_LIST_BOX(w->id_list), row);
		if (w->settings.identity == GUI_IDENTITY_FILE)
			sel = row;
		g_free(base);
		g_free(kt);
		g_free(ct);
		g_free(extra);
	}
	if (sel)
		gtk_list_box_select_row(GTK_LIST_BOX(w->id_list), GTK_LIST_BOX_ROW(sel));
	w->filling_ids = FALSE;
	update_identity_label(w);
}

static void on_id_selected(GtkListBox *lb, GtkListBoxRow *row, gpointer data)
{
	struct win *w = data;
	const char *kind, *uri;

	(void)lb;
	if (w->filling_ids || !row)
		return;
	kind = g_object_get_data(G_OBJECT(row), "kind");
	uri = g_object_get_data(G_OBJECT(row), "uri");
	if (g_strcmp0(kind, "token") == 0) {
		w->settings.identity = GUI_IDENTITY_TOKEN;
		gui_settings_set_str(&w->settings.key_uri, uri);
	} else if (g_strcmp0(kind, "file") == 0) {
		w->settings.identity = GUI_IDENTITY_FILE;
	} else {
		return;
	}
	update_identity_label(w);
	save_settings(w);
}

gboolean sisign_app_window_select_key_uri(GtkWidget *win, const char *uri)
{
	struct win *w = W(win);
	GtkWidget *child;

	for (child = gtk_widget_get_first_child(w->id_list); child; child = gtk_widget_get_next_sibling(child))
		if (GTK_IS_LIST_BOX_ROW(child) && g_strcmp0(g_object_get_data(G_OBJECT(child), "uri"), uri) == 0 &&
		    g_strcmp0(g_object_get_data(G_OBJECT(child), "kind"), "token") == 0) {
			gtk_list_box_select_row(GTK_LIST_BOX(w->id_list), GTK_LIST_BOX_ROW(child));
			return TRUE;
		}
	return FALSE;
}

void sisign_app_window_use_key_file(GtkWidget *win, const char *key_file, const char *cert_file)
{
	struct win *w = W(win);

	w->settings.identity = GUI_IDENTITY_FILE;
	gui_settings_set_str(&w->settings.key_file, key_file);
	gui_settings_set_str(&w->settings.cert_file, cert_file);
	save_settings(w);
	rebuild_identities(w, NULL);
}

struct keyfile_pick {
	struct win *w;
	char *key;
};

static void on_cert_chosen(GtkNativeDialog *d, int response, gpointer data)
{
	struct keyfile_pick *kp = data;

	if (response == GTK_RESPONSE_ACCEPT) {
		GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
		char *p = f ? g_file_get_path(f) : NULL;
		if (p)
			sisign_app_window_use_key_file(kp->w->window, kp->key, p);
		g_free(p);
		if (f)
			g_object_unref(f);
	}
	g_free(kp->key);
	g_free(kp);
	g_object_unref(d);
}

static void on_key_chosen(GtkNativeDialog *d, int response, gpointer data)
{
	struct win *w = data;
	GFile *f = response == GTK_RESPONSE_ACCEPT ? gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d)) : NULL;
	char *p = f ? g_file_get_path(f) : NULL;

	if (p && sisign_key_file_is_pkcs12(p)) {
		/* A PKCS#12 file carries its own certificate and chain. */
		sisign_app_window_use_key_file(w->window, p, NULL);
		g_free(p);
	} else if (p) {
		struct keyfile_pick *kp = g_new0(struct keyfile_pick, 1);
		GtkFileChooserNative *c = gtk_file_chooser_native_new("Choose the certificate for this key",
			GTK_WINDOW(w->window), GTK_FILE_CHOOSER_ACTION_OPEN, "_Use", "_Cancel");
		kp->w = w;
		kp->key = p;
		g_signal_connect(c, "response", G_CALLBACK(on_cert_chosen), kp);
		gtk_native_dialog_show(GTK_NATIVE_DIALOG(c));
	}
	if (f)
		g_object_unref(f);
	g_object_unref(d);
}

static void on_use_key_file(GtkButton *b, gpointer data)
{
	struct win *w = data;
	GtkFileChooserNative *d = gtk_file_chooser_native_new("Choose a private key file (PEM, DER or PKCS#12)",
		GTK_WINDOW(w->window), GTK_FILE_CHOOSER_ACTION_OPEN, "_Next", "_Cancel");
	static const char *const keys[] = { "*.pem", "*.key", "*.der", "*.p12", "*.pfx", "*.P12", "*.PFX", NULL };
	GtkFileFilter *f = gtk_file_filter_new();

	(void)b;
	gtk_file_filter_set_name(f, "Key files (PEM, DER, PKCS#12 .p12/.pfx)");
	for (size_t i = 0; keys[i]; i++)
		gtk_file_filter_add_pattern(f, keys[i]);
	gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
	g_object_unref(f);
	f = gtk_file_filter_new();
	gtk_file_filter_set_name(f, "All files");
	gtk_file_filter_add_pattern(f, "*");
	gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
	g_object_unref(f);
	g_signal_connect(d, "response", G_CALLBACK(on_key_chosen), w);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void wizard_done(const struct gui_wizard_result *r, gboolean use, void *user)
{
	struct win *w = user;

	if (use && r->key_uri) {
		w->settings.identity = GUI_IDENTITY_TOKEN;
		gui_settings_set_str(&w->settings.key_uri, r->key_uri);
		save_settings(w);
	} else if (use && r->key_file && r->cert_file) {
		sisign_app_window_use_key_file(w->window, r->key_file, r->cert_file);
	}
	if (r->key_uri)
		sisign_app_window_refresh_tokens(w->window);
}

static void on_wizard(GtkButton *b, gpointer data)
{
	struct win *w = data;
	GtkWidget *wz = sisign_wizard_new(GTK_WINDOW(w->window), w->tokens,
		w->module_override ? w->module_override : w->settings.module, wizard_done, w);

	(void)b;
	gtk_window_present(GTK_WINDOW(wz));
}

static void scan_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
	GError *e = NULL;
	GPtrArray *toks = gui_tokens_scan(data, &e);

	(void)src;
	(void)c;
	if (toks)
		g_task_return_pointer(task, toks, (GDestroyNotify)g_ptr_array_unref);
	else
		g_task_return_error(task, e);
}

static void scan_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct win *w = data;
	GError *e = NULL;
	GPtrArray *toks = g_task_propagate_pointer(G_TASK(res), &e);

	(void)src;
	w->tokens_busy = FALSE;
	gtk_spinner_stop(GTK_SPINNER(w->id_spinner));
	gtk_widget_set_sensitive(w->refresh_btn, TRUE);
	if (w->tokens)
		g_ptr_array_unref(w->tokens);
	w->tokens = toks;
	rebuild_identities(w, e ? e->message : NULL);
	if (e)
		g_error_free(e);
	g_object_unref(w->window); /* held while the scan ran */
}

void sisign_app_window_refresh_tokens(GtkWidget *win)
{
	struct win *w = W(win);
	GTask *task;

	if (w->tokens_busy)
		return;
	w->tokens_busy = TRUE;
	gtk_spinner_start(GTK_SPINNER(w->id_spinner));
	gtk_widget_set_sensitive(w->refresh_btn, FALSE);
	g_object_ref(w->window);
	task = g_task_new(NULL, NULL, scan_done, w);
	g_task_set_task_data(task, g_strdup(w->module_override ? w->module_override : w->settings.module), g_free);
	g_task_run_in_thread(task, scan_thread);
	g_object_unref(task);
}

gboolean sisign_app_window_tokens_busy(GtkWidget *win)
{
	return W(win)->tokens_busy;
}

static void on_refresh(GtkButton *b, gpointer data)
{
	(void)b;
	sisign_app_window_refresh_tokens(((struct win *)data)->window);
}

/* ---- the PIN / passphrase dialog ----------------------------------------------------- */

static void close_secret_dialog(struct win *w)
{
	if (w->secret_dialog) {
		GtkWidget *d = w->secret_dialog;
		gtk_editable_set_text(GTK_EDITABLE(w->secret_entry), "");
		w->secret_dialog = w->secret_entry = w->secret_ok = NULL;
		gtk_window_destroy(GTK_WINDOW(d));
	}
}

/* OK stays off while the field is empty: an empty PIN or passphrase is
 * never sent (the library would refuse it anyway, before any login). */
static void on_secret_changed(GtkEditable *e, gpointer data)
{
	struct win *w = data;

	if (w->secret_ok)
		gtk_widget_set_sensitive(w->secret_ok, gtk_editable_get_text(e)[0] != '\0');
}

static void on_secret_ok(GtkButton *b, gpointer data)
{
	struct win *w = data;

	(void)b;
	if (w->secret_entry && gtk_editable_get_text(GTK_EDITABLE(w->secret_entry))[0] == '\0')
		return; /* Enter in an empty field */
	if (w->batch && w->secret_entry)
		gui_batch_secret_reply(w->batch, gtk_editable_get_text(GTK_EDITABLE(w->secret_entry)));
	close_secret_dialog(w);
}

static void on_secret_cancel(GtkButton *b, gpointer data)
{
	struct win *w = data;

	(void)b;
	if (w->batch)
		gui_batch_secret_reply(w->batch, NULL);
	close_secret_dialog(w);
}

static gboolean on_secret_close(GtkWindow *d, gpointer data)
{
	(void)d;
	on_secret_cancel(NULL, data);
	return TRUE;
}

static void ask_secret(struct gui_batch *b, const char *kind, const char *what, int tries_left, void *user)
{
	struct win *w = user;
	GtkWidget *d, *box, *l, *buttons, *cancel;
	struct gui_secret_prompt sp;

	(void)b;
	close_secret_dialog(w);
	gui_secret_prompt_make(kind, what, tries_left, &sp);
	g_free(w->secret_text);
	w->secret_text = sp.warning ? g_strdup_printf("%s\n%s", sp.prompt, sp.warning) : g_strdup(sp.prompt);

	d = gtk_window_new();
	gtk_window_set_title(GTK_WINDOW(d), sp.title);
	gtk_window_set_modal(GTK_WINDOW(d), TRUE);
	gtk_window_set_transient_for(GTK_WINDOW(d), GTK_WINDOW(w->window));
	gtk_window_set_resizable(GTK_WINDOW(d), FALSE);
	gtk_window_set_default_size(GTK_WINDOW(d), 380, -1);
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 10);
	gtk_widget_set_margin_start(box, 18);
	gtk_widget_set_margin_end(box, 18);
	gtk_widget_set_margin_top(box, 18);
	gtk_widget_set_margin_bottom(box, 18);
	l = gtk_label_new(sp.prompt);
	gtk_label_set_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_xalign(GTK_LABEL(l), 0.0f);
	gtk_box_append(GTK_BOX(box), l);
	if (sp.warning) {
		l = gtk_label_new(sp.warning);
		gtk_label_set_wrap(GTK_LABEL(l), TRUE);
		gtk_label_set_max_width_chars(GTK_LABEL(l), 48);
		gtk_label_set_xalign(GTK_LABEL(l), 0.0f);
		gtk_widget_add_css_class(l, sp.final ? "error" : "warning");
		gtk_box_append(GTK_BOX(box), l);
	}
	w->secret_entry = gtk_password_entry_new();
	gtk_password_entry_set_show_peek_icon(GTK_PASSWORD_ENTRY(w->secret_entry), TRUE);
	g_signal_connect(w->secret_entry, "activate", G_CALLBACK(on_secret_ok), w);
	gtk_box_append(GTK_BOX(box), w->secret_entry);
	l = gtk_label_new("Asked once for this batch; never saved.");
	gtk_label_set_xalign(GTK_LABEL(l), 0.0f);
	gtk_widget_add_css_class(l, "dim-label");
	gtk_box_append(GTK_BOX(box), l);
	buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	gtk_widget_set_halign(buttons, GTK_ALIGN_END);
	cancel = gtk_button_new_with_mnemonic("_Cancel");
	g_signal_connect(cancel, "clicked", G_CALLBACK(on_secret_cancel), w);
	w->secret_ok = gtk_button_new_with_mnemonic("_OK");
	gtk_widget_add_css_class(w->secret_ok, "suggested-action");
	g_signal_connect(w->secret_ok, "clicked", G_CALLBACK(on_secret_ok), w);
	gtk_widget_set_sensitive(w->secret_ok, FALSE);
	g_signal_connect(w->secret_entry, "changed", G_CALLBACK(on_secret_changed), w);
	gtk_box_append(GTK_BOX(buttons), cancel);
	gtk_box_append(GTK_BOX(buttons), w->secret_ok);
	gtk_box_append(GTK_BOX(box), buttons);
	gtk_window_set_child(GTK_WINDOW(d), box);
	g_signal_connect(d, "close-request", G_CALLBACK(on_secret_close), w);
	w->secret_dialog = d;
	gtk_window_present(GTK_WINDOW(d));
	gtk_widget_grab_focus(w->secret_entry);
	gui_secret_prompt_clear(&sp);
}

GtkWidget *sisign_app_window_secret_dialog(GtkWidget *win)
{
	return W(win)->secret_dialog;
}

GtkWidget *sisign_app_window_secret_entry(GtkWidget *win)
{
	return W(win)->secret_entry;
}

GtkWidget *sisign_app_window_secret_ok(GtkWidget *win)
{
	return W(win)->secret_ok;
}

const char *sisign_app_window_secret_text(GtkWidget *win)
{
	struct win *w = W(win);

	return w->secret_dialog ? w->secret_text : NULL;
}

/* ---- batches ---------------------------------------------------------------------- */

static void batch_row(struct gui_batch *b, guint idx, void *user)
{
	(void)b;
	update_row(user, idx);
}

static void batch_progress(struct gui_batch *b, guint done, guint total, void *user)
{
	struct win *w = user;
	char *t = g_strdup_printf("%u of %u", done, total);

	(void)b;
	gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(w->progress), total ? (double)done / total : 0.0);
	gtk_progress_bar_set_text(GTK_PROGRESS_BAR(w->progress), t);
	g_free(t);
}

static void batch_done(struct gui_batch *b, const char *error, void *user)
{
	struct win *w = user;
	guint i, failed = 0, cancelled = 0, total = gui_model_njobs(w->model);

	(void)b;
	close_secret_dialog(w);
	w->batch = NULL;
	for (i = 0; i < total; i++) {
		struct gui_job *j = gui_model_job(w->model, i);
		if (j->state == GUI_JOB_FAILED)
			failed++;
		if (j->state == GUI_JOB_CANCELLED)
			cancelled++;
		update_row(w, i);
	}
	if (w->cancelled || cancelled) {
		char *t = g_strdup_printf("Cancelled; %u not started", cancelled);
		gtk_progress_bar_set_text(GTK_PROGRESS_BAR(w->progress), t);
		g_free(t);
	}
	if (error)
		show_error(w, error);
	else if (failed)
		show_error(w, failed == 1 ? "One package failed: see its status (hover for the full text)." :
					    "Some packages failed: see their status (hover for the full text).");
	update_sensitivity(w);
	g_object_unref(w->window); /* held while the batch ran */
}

static void start_batch(struct win *w, enum gui_op op)
{
	struct gui_batch_params p;
	GArray *sel = selected_rows(w);
	GError *e = NULL;

	hide_error(w);
	if (op == GUI_OP_SIGN && w->settings.identity == GUI_IDENTITY_NONE) {
		show_error(w, "Choose a signing key on the left first: a key on a token, or \"Use key file…\".");
		g_array_unref(sel);
		return;
	}
	memset(&p, 0, sizeof p);
	p.op = op;
	p.settings = &w->settings;
	p.on_secret = ask_secret;
	p.on_row = batch_row;
	p.on_progress = batch_progress;
	p.on_done = batch_done;
	p.user = w;
	if (w->module_override) {
		/* The batch copies the settings; an override is for this run only. */
		struct gui_settings s = w->settings;
		s.module = w->module_override;
		p.settings = &s;
		w->batch = gui_batch_start(w->model, &p, (const guint *)(void *)sel->data, sel->len, &e);
	} else {
		w->batch = gui_batch_start(w->model, &p, (const guint *)(void *)sel->data, sel->len, &e);
	}
	g_array_unref(sel);
	if (!w->batch) {
		show_error(w, e->message);
		g_error_free(e);
		return;
	}
	g_object_ref(w->window);
	w->cancelled = FALSE;
	gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(w->progress), 0.0);
	gtk_progress_bar_set_text(GTK_PROGRESS_BAR(w->progress), "Starting…");
	for (guint i = 0; i < gui_model_njobs(w->model); i++)
		update_row(w, i);
	update_sensitivity(w);
}

static void on_sign(GtkButton *b, gpointer data) { (void)b; start_batch(data, GUI_OP_SIGN); }
static void on_unsign(GtkButton *b, gpointer data) { (void)b; start_batch(data, GUI_OP_UNSIGN); }
static void on_verify(GtkButton *b, gpointer data) { (void)b; start_batch(data, GUI_OP_VERIFY); }

static void on_cancel(GtkButton *b, gpointer data)
{
	struct win *w = data;

	(void)b;
	if (w->batch) {
		w->cancelled = TRUE;
		gui_batch_cancel(w->batch);
		close_secret_dialog(w);
		gtk_progress_bar_set_text(GTK_PROGRESS_BAR(w->progress), "Cancelling…");
	}
}

/* ---- output options ---------------------------------------------------------------------- */

static void sync_output_widgets(struct win *w)
{
	char *t;

	gtk_check_button_set_active(GTK_CHECK_BUTTON(w->out_suffix), w->settings.output_mode == GUI_OUTPUT_SUFFIX);
	gtk_check_button_set_active(GTK_CHECK_BUTTON(w->out_folder), w->settings.output_mode == GUI_OUTPUT_FOLDER);
	gtk_check_button_set_active(GTK_CHECK_BUTTON(w->out_inplace), w->settings.in_place);
	gtk_editable_set_text(GTK_EDITABLE(w->suffix_entry), w->settings.suffix ? w->settings.suffix : "_signed");
	t = w->settings.output_folder ? g_path_get_basename(w->settings.output_folder) : g_strdup("Choose…");
	gtk_button_set_label(GTK_BUTTON(w->folder_btn), t);
	gtk_widget_set_tooltip_text(w->folder_btn, w->settings.output_folder);
	g_free(t);
}

static void on_output_toggled(GtkCheckButton *c, gpointer data)
{
	struct win *w = data;

	(void)c;
	w->settings.output_mode = gtk_check_button_get_active(GTK_CHECK_BUTTON(w->out_folder)) ? GUI_OUTPUT_FOLDER :
												   GUI_OUTPUT_SUFFIX;
	w->settings.in_place = gtk_check_button_get_active(GTK_CHECK_BUTTON(w->out_inplace));
	save_settings(w);
}

static void on_suffix_changed(GtkEditable *e, gpointer data)
{
	struct win *w = data;
	const char *t = gtk_editable_get_text(e);

	gui_settings_set_str(&w->settings.suffix, g_strcmp0(t, "_signed") == 0 ? NULL : t);
	if (!*t)
		show_error(w, "The suffix is empty: outputs would replace the inputs, which is refused.");
	save_settings(w);
}

static void on_folder_chosen(GtkNativeDialog *d, int response, gpointer data)
{
	struct win *w = data;

	if (response == GTK_RESPONSE_ACCEPT) {
		GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
		char *p = f ? g_file_get_path(f) : NULL;
		if (p) {
			gui_settings_set_str(&w->settings.output_folder, p);
			w->settings.output_mode = GUI_OUTPUT_FOLDER;
			sync_output_widgets(w);
			save_settings(w);
		}
		g_free(p);
		if (f)
			g_object_unref(f);
	}
	g_object_unref(d);
}

static void on_choose_folder(GtkButton *b, gpointer data)
{
	struct win *w = data;
	GtkFileChooserNative *d = gtk_file_chooser_native_new("Output folder", GTK_WINDOW(w->window),
		GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Select", "_Cancel");

	(void)b;
	g_signal_connect(d, "response", G_CALLBACK(on_folder_chosen), w);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

/* ---- trusted roots for Verify ---------------------------------------------------------------- */

static void sync_trust_widgets(struct win *w)
{
	guint n = w->settings.trust ? g_strv_length(w->settings.trust) : 0;
	char *t, *tip;

	if (n == 0) {
		t = g_strdup("None: nothing verifies as trusted");
		tip = g_strdup("Without roots a good signature shows as self-signed or untrusted. Add root "
			       "certificate files, or a folder of them, to check signatures against.");
	} else {
		char *base = g_path_get_basename(w->settings.trust[0]);
		t = n == 1 ? g_strdup(base) : g_strdup_printf("%s and %u more", base, n - 1);
		tip = g_strjoinv("\n", w->settings.trust);
		g_free(base);
	}
	gtk_label_set_text(GTK_LABEL(w->trust_label), t);
	gtk_widget_set_tooltip_text(w->trust_label, tip);
	gtk_widget_set_sensitive(w->trust_clear, n > 0);
	g_free(t);
	g_free(tip);
}

static void add_trust_path(struct win *w, const char *path)
{
	guint n = w->settings.trust ? g_strv_length(w->settings.trust) : 0, i;

	for (i = 0; i < n; i++)
		if (strcmp(w->settings.trust[i], path) == 0)
			return;
	w->settings.trust = g_renew(char *, w->settings.trust, n + 2);
	w->settings.trust[n] = g_strdup(path);
	w->settings.trust[n + 1] = NULL;
}

void sisign_app_window_set_trust_roots(GtkWidget *win, const char *const *paths)
{
	struct win *w = W(win);

	g_clear_pointer(&w->settings.trust, g_strfreev);
	for (; paths && *paths; paths++)
		add_trust_path(w, *paths);
	sync_trust_widgets(w);
	save_settings(w);
}

static void on_trust_chosen(GtkNativeDialog *d, int response, gpointer data)
{
	struct win *w = data;

	if (response == GTK_RESPONSE_ACCEPT) {
		GListModel *files = gtk_file_chooser_get_files(GTK_FILE_CHOOSER(d));
		guint i, n = g_list_model_get_n_items(files);

		for (i = 0; i < n; i++) {
			GFile *f = g_list_model_get_item(files, i);
			char *p = g_file_get_path(f);
			if (p)
				add_trust_path(w, p);
			g_free(p);
			g_object_unref(f);
		}
		g_object_unref(files);
		sync_trust_widgets(w);
		save_settings(w);
	}
	g_object_unref(d);
}

static void choose_trust(struct win *w, gboolean folder)
{
	GtkFileChooserNative *d = gtk_file_chooser_native_new(
		folder ? "Folder of trusted root certificates" : "Trusted root certificates (PEM or DER)",
		GTK_WINDOW(w->window), folder ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER : GTK_FILE_CHOOSER_ACTION_OPEN,
		"_Add", "_Cancel");

	if (!folder) {
		GtkFileFilter *f = gtk_file_filter_new();
		gtk_file_filter_set_name(f, "Certificates");
		gtk_file_filter_add_pattern(f, "*.pem");
		gtk_file_filter_add_pattern(f, "*.cer");
		gtk_file_filter_add_pattern(f, "*.crt");
		gtk_file_filter_add_pattern(f, "*.der");
		gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
		g_object_unref(f);
		gtk_file_chooser_set_select_multiple(GTK_FILE_CHOOSER(d), TRUE);
	}
	g_signal_connect(d, "response", G_CALLBACK(on_trust_chosen), w);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void on_trust_files(GtkButton *b, gpointer data) { (void)b; choose_trust(data, FALSE); }
static void on_trust_folder(GtkButton *b, gpointer data) { (void)b; choose_trust(data, TRUE); }

static void on_trust_clear(GtkButton *b, gpointer data)
{
	(void)b;
	sisign_app_window_set_trust_roots(((struct win *)data)->window, NULL);
}

/* ---- building the window ------------------------------------------------------------------ */

static void win_free(gpointer p)
{
	struct win *w = p;

	if (w->batch)
		gui_batch_cancel(w->batch);
	gui_model_free(w->model);
	gui_settings_clear(&w->settings);
	g_free(w->settings_path);
	g_free(w->module_override);
	g_free(w->error_text);
	g_free(w->secret_text);
	if (w->tokens)
		g_ptr_array_unref(w->tokens);
	g_ptr_array_unref(w->row_widgets);
	for (guint i = 0; i < NCOLS; i++)
		g_object_unref(w->col_size[i]);
	g_free(w->id_copy_text);
	g_free(w);
}

static GtkWidget *header_button(struct win *w, const char *label, const char *tip, GCallback cb)
{
	GtkWidget *b = gtk_button_new_with_mnemonic(label);

	gtk_widget_set_tooltip_text(b, tip);
	g_signal_connect(b, "clicked", cb, w);
	return b;
}

static const char css[] =
	".pane-title { font-weight: bold; font-size: 110%; }\n"
	"label.success { color: #26a269; }\n"
	"label.warning { color: #c64600; }\n"
	"label.error { color: #c01c28; }\n"
	".identity-current { padding: 6px; }\n"
	/* No side padding in package rows: their cells then start where the
	 * header's do (both boxes have the same margins). */
	"list.sisign-packages > row { padding-left: 0; padding-right: 0; }\n";

static GtkWidget *build_identity_pane(struct win *w)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6), *top, *l, *sw, *b;

	gtk_widget_set_margin_start(box, 10);
	gtk_widget_set_margin_end(box, 6);
	gtk_widget_set_margin_top(box, 10);
	gtk_widget_set_margin_bottom(box, 10);
	top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	l = gtk_label_new("Signing identity");
	gtk_widget_add_css_class(l, "pane-title");
	gtk_label_set_xalign(GTK_LABEL(l), 0.0f);
	gtk_widget_set_hexpand(l, TRUE);
	gtk_box_append(GTK_BOX(top), l);
	w->id_spinner = gtk_spinner_new();
	gtk_box_append(GTK_BOX(top), w->id_spinner);
	w->refresh_btn = gtk_button_new_from_icon_name("view-refresh-symbolic");
	gtk_widget_set_tooltip_text(w->refresh_btn, "Look for tokens again (one plugged in later appears)");
	g_signal_connect(w->refresh_btn, "clicked", G_CALLBACK(on_refresh), w);
	gtk_box_append(GTK_BOX(top), w->refresh_btn);
	gtk_box_append(GTK_BOX(box), top);

	w->id_list = gtk_list_box_new();
	gtk_list_box_set_selection_mode(GTK_LIST_BOX(w->id_list), GTK_SELECTION_SINGLE);
	gtk_widget_add_css_class(w->id_list, "navigation-sidebar");
	g_signal_connect(w->id_list, "row-selected", G_CALLBACK(on_id_selected), w);
	sw = gtk_scrolled_window_new();
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(sw), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw), w->id_list);
	gtk_scrolled_window_set_has_frame(GTK_SCROLLED_WINDOW(sw), TRUE);
	gtk_widget_set_vexpand(sw, TRUE);
	gtk_box_append(GTK_BOX(box), sw);

	b = gtk_button_new_with_mnemonic("Use _key file…");
	gtk_widget_set_tooltip_text(b, "Sign with a PEM/DER key file and its certificate");
	g_signal_connect(b, "clicked", G_CALLBACK(on_use_key_file), w);
	gtk_box_append(GTK_BOX(box), b);
	b = gtk_button_new_with_mnemonic("_New key and certificate…");
	gtk_widget_set_tooltip_text(b, "Make a key on a token or in a file, with a self-signed certificate or a request");
	g_signal_connect(b, "clicked", G_CALLBACK(on_wizard), w);
	gtk_box_append(GTK_BOX(box), b);

	/* "Signing with:" in words; the URI itself behind the copy button. */
	top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	gtk_widget_add_css_class(top, "identity-current");
	w->id_current = gtk_label_new("");
	gtk_label_set_wrap(GTK_LABEL(w->id_current), TRUE);
	gtk_label_set_wrap_mode(GTK_LABEL(w->id_current), PANGO_WRAP_WORD_CHAR);
	gtk_label_set_xalign(GTK_LABEL(w->id_current), 0.0f);
	gtk_label_set_selectable(GTK_LABEL(w->id_current), TRUE);
	gtk_widget_set_hexpand(w->id_current, TRUE);
	gtk_widget_add_css_class(w->id_current, "caption");
	gtk_box_append(GTK_BOX(top), w->id_current);
	w->id_copy = gtk_button_new_from_icon_name("edit-copy-symbolic");
	gtk_widget_set_name(w->id_copy, "copy-key-uri");
	gtk_widget_set_valign(w->id_copy, GTK_ALIGN_START);
	gtk_widget_add_css_class(w->id_copy, "flat");
	g_signal_connect(w->id_copy, "clicked", G_CALLBACK(on_copy_identity), w);
	gtk_box_append(GTK_BOX(top), w->id_copy);
	gtk_box_append(GTK_BOX(box), top);
	return box;
}

static GtkWidget *build_packages_pane(struct win *w)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6), *l, *sw, *hdr, *stack, *out, *row, *b;
	GtkWidget *frame, *list_box;
	GtkDropTarget *drop;

	gtk_widget_set_margin_start(box, 6);
	gtk_widget_set_margin_end(box, 10);
	gtk_widget_set_margin_top(box, 10);
	gtk_widget_set_margin_bottom(box, 10);
	l = gtk_label_new("Packages");
	gtk_widget_add_css_class(l, "pane-title");
	gtk_label_set_xalign(GTK_LABEL(l), 0.0f);
	gtk_box_append(GTK_BOX(box), l);
	hdr = header_or_row(w, TRUE);

	w->pkg_list = gtk_list_box_new();
	gtk_list_box_set_selection_mode(GTK_LIST_BOX(w->pkg_list), GTK_SELECTION_MULTIPLE);
	gtk_list_box_set_activate_on_single_click(GTK_LIST_BOX(w->pkg_list), FALSE);
	gtk_list_box_set_show_separators(GTK_LIST_BOX(w->pkg_list), TRUE);
	g_signal_connect(w->pkg_list, "row-activated", G_CALLBACK(on_row_activated), w);
	w->empty_label = gtk_label_new("Drop SIS packages or folders here, or press “Add”.");
	gtk_widget_add_css_class(w->empty_label, "dim-label");
	gtk_widget_set_vexpand(w->empty_label, TRUE);
	stack = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	gtk_box_append(GTK_BOX(stack), w->pkg_list);
	gtk_box_append(GTK_BOX(stack), w->empty_label);
	gtk_widget_add_css_class(w->pkg_list, "sisign-packages");
	sw = gtk_scrolled_window_new();
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw), stack);
	gtk_widget_set_vexpand(sw, TRUE);
	/* The header and the list share one frame, so both have the same
	 * width and the columns' size groups line them up. */
	frame = gtk_frame_new(NULL);
	list_box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	gtk_box_append(GTK_BOX(list_box), hdr);
	gtk_box_append(GTK_BOX(list_box), gtk_separator_new(GTK_ORIENTATION_HORIZONTAL));
	gtk_box_append(GTK_BOX(list_box), sw);
	gtk_frame_set_child(GTK_FRAME(frame), list_box);
	gtk_widget_set_vexpand(frame, TRUE);
	drop = gtk_drop_target_new(GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
	g_signal_connect(drop, "drop", G_CALLBACK(on_drop), w);
	w->drop = drop;
	gtk_widget_add_controller(frame, GTK_EVENT_CONTROLLER(drop));
	gtk_box_append(GTK_BOX(box), frame);

	/* Output options. */
	out = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	l = gtk_label_new("Output:");
	gtk_widget_add_css_class(l, "heading");
	gtk_box_append(GTK_BOX(row), l);
	w->out_suffix = gtk_check_button_new_with_label("Beside the input, with suffix");
	gtk_box_append(GTK_BOX(row), w->out_suffix);
	w->suffix_entry = gtk_entry_new();
	gtk_editable_set_width_chars(GTK_EDITABLE(w->suffix_entry), 8);
	gtk_editable_set_max_width_chars(GTK_EDITABLE(w->suffix_entry), 10);
	gtk_box_append(GTK_BOX(row), w->suffix_entry);
	w->out_folder = gtk_check_button_new_with_label("In folder");
	gtk_check_button_set_group(GTK_CHECK_BUTTON(w->out_folder), GTK_CHECK_BUTTON(w->out_suffix));
	gtk_box_append(GTK_BOX(row), w->out_folder);
	w->folder_btn = gtk_button_new_with_label("Choose…");
	g_signal_connect(w->folder_btn, "clicked", G_CALLBACK(on_choose_folder), w);
	gtk_box_append(GTK_BOX(row), w->folder_btn);
	w->out_inplace = gtk_check_button_new_with_label("Overwrite input");
	gtk_widget_set_tooltip_text(w->out_inplace, "Replace each input file with the result (atomically)");
	gtk_box_append(GTK_BOX(row), w->out_inplace);
	gtk_box_append(GTK_BOX(out), row);

	/* Verify: trusted roots (paths remembered in gui.ini). */
	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	l = gtk_label_new("Trusted roots:");
	gtk_widget_add_css_class(l, "heading");
	gtk_box_append(GTK_BOX(row), l);
	w->trust_label = gtk_label_new("");
	gtk_label_set_ellipsize(GTK_LABEL(w->trust_label), PANGO_ELLIPSIZE_MIDDLE);
	gtk_label_set_xalign(GTK_LABEL(w->trust_label), 0.0f);
	gtk_widget_set_hexpand(w->trust_label, TRUE);
	gtk_widget_add_css_class(w->trust_label, "dim-label");
	gtk_box_append(GTK_BOX(row), w->trust_label);
	b = gtk_button_new_with_mnemonic("Root _certificates…");
	gtk_widget_set_tooltip_text(b, "Add root certificate files (PEM or DER) that Verify and Details trust");
	g_signal_connect(b, "clicked", G_CALLBACK(on_trust_files), w);
	gtk_box_append(GTK_BOX(row), b);
	b = gtk_button_new_with_mnemonic("Root _folder…");
	gtk_widget_set_tooltip_text(b, "Add a folder of root certificates (*.pem, *.cer, *.crt, *.der)");
	g_signal_connect(b, "clicked", G_CALLBACK(on_trust_folder), w);
	gtk_box_append(GTK_BOX(row), b);
	w->trust_clear = gtk_button_new_with_label("Clear");
	gtk_widget_set_tooltip_text(w->trust_clear, "Trust no roots");
	g_signal_connect(w->trust_clear, "clicked", G_CALLBACK(on_trust_clear), w);
	gtk_box_append(GTK_BOX(row), w->trust_clear);
	gtk_box_append(GTK_BOX(out), row);
	w->progress = gtk_progress_bar_new();
	gtk_progress_bar_set_show_text(GTK_PROGRESS_BAR(w->progress), TRUE);
	gtk_progress_bar_set_text(GTK_PROGRESS_BAR(w->progress), "Idle");
	gtk_box_append(GTK_BOX(out), w->progress);
	gtk_box_append(GTK_BOX(box), out);
	return box;
}

GtkWidget *sisign_app_window_new(GtkApplication *app, const char *settings_path, const char *module)
{
	struct win *w = g_new0(struct win, 1);
	GtkWidget *win, *hb, *vbox, *paned;
	GtkCssProvider *prov;
	GError *e = NULL;

	w->model = gui_model_new();
	w->row_widgets = g_ptr_array_new();
	for (guint i = 0; i < NCOLS; i++)
		w->col_size[i] = gtk_size_group_new(GTK_SIZE_GROUP_HORIZONTAL);
	w->settings_path = settings_path ? g_strdup(settings_path) : gui_settings_default_path();
	w->module_override = module ? g_strdup(module) : NULL;
	gui_settings_load(&w->settings, w->settings_path, &e);

	win = app ? gtk_application_window_new(app) : gtk_window_new();
	w->window = win;
	g_object_set_data_full(G_OBJECT(win), "sisign-win", w, win_free);
	gtk_window_set_title(GTK_WINDOW(win), "sisign — SIS package signing");
	gtk_window_set_default_size(GTK_WINDOW(win), 1180, 640);
	gtk_window_set_icon_name(GTK_WINDOW(win), "io.github.sisign.SisignGtk");

	prov = gtk_css_provider_new();
	gtk_css_provider_load_from_data(prov, css, -1);
	gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(prov),
		GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(prov);

	hb = gtk_header_bar_new();
	w->add_btn = header_button(w, "_Add…", "Add SIS packages (or drop files and folders on the list)",
		G_CALLBACK(on_add));
	gtk_header_bar_pack_start(GTK_HEADER_BAR(hb), w->add_btn);
	w->remove_btn = gtk_button_new_from_icon_name("list-remove-symbolic");
	gtk_widget_set_tooltip_text(w->remove_btn, "Take the selected packages off the list");
	g_signal_connect(w->remove_btn, "clicked", G_CALLBACK(on_remove_rows), w);
	gtk_header_bar_pack_start(GTK_HEADER_BAR(hb), w->remove_btn);
	w->btn[SISIGN_BTN_DETAILS] = header_button(w, "_Details", "Files, capabilities and signature chains",
		G_CALLBACK(on_details));
	gtk_header_bar_pack_start(GTK_HEADER_BAR(hb), w->btn[SISIGN_BTN_DETAILS]);
	w->btn[SISIGN_BTN_SIGN] = header_button(w, "_Sign", "Sign the selected packages (all if none is selected)",
		G_CALLBACK(on_sign));
	gtk_widget_add_css_class(w->btn[SISIGN_BTN_SIGN], "suggested-action");
	w->btn[SISIGN_BTN_UNSIGN] = header_button(w, "_Remove signature",
		"Remove the last signature of the selected packages (all if none is selected)", G_CALLBACK(on_unsign));
	w->btn[SISIGN_BTN_VERIFY] = header_button(w, "_Verify", "Verify the selected packages (all if none is selected)",
		G_CALLBACK(on_verify));
	w->btn[SISIGN_BTN_CANCEL] = header_button(w, "_Cancel", "Stop after the packages being worked on now", G_CALLBACK(on_cancel));
	gtk_header_bar_pack_end(GTK_HEADER_BAR(hb), w->btn[SISIGN_BTN_CANCEL]);
	gtk_header_bar_pack_end(GTK_HEADER_BAR(hb), w->btn[SISIGN_BTN_SIGN]);
	gtk_header_bar_pack_end(GTK_HEADER_BAR(hb), w->btn[SISIGN_BTN_UNSIGN]);
	gtk_header_bar_pack_end(GTK_HEADER_BAR(hb), w->btn[SISIGN_BTN_VERIFY]);
	gtk_window_set_titlebar(GTK_WINDOW(win), hb);

	vbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	w->info_bar = gtk_info_bar_new();
	w->info_label = gtk_label_new("");
	gtk_label_set_wrap(GTK_LABEL(w->info_label), TRUE);
	gtk_label_set_xalign(GTK_LABEL(w->info_label), 0.0f);
	gtk_label_set_selectable(GTK_LABEL(w->info_label), TRUE);
	gtk_info_bar_add_child(GTK_INFO_BAR(w->info_bar), w->info_label);
	gtk_info_bar_set_show_close_button(GTK_INFO_BAR(w->info_bar), TRUE);
	g_signal_connect(w->info_bar, "response", G_CALLBACK(on_info_response), w);
	gtk_widget_set_visible(w->info_bar, FALSE);
	gtk_box_append(GTK_BOX(vbox), w->info_bar);

	paned = gtk_paned_new(GTK_ORIENTATION_HORIZONTAL);
	gtk_paned_set_start_child(GTK_PANED(paned), build_identity_pane(w));
	gtk_paned_set_end_child(GTK_PANED(paned), build_packages_pane(w));
	gtk_paned_set_resize_start_child(GTK_PANED(paned), FALSE);
	gtk_paned_set_shrink_start_child(GTK_PANED(paned), FALSE);
	gtk_paned_set_position(GTK_PANED(paned), 360);
	gtk_widget_set_vexpand(paned, TRUE);
	gtk_box_append(GTK_BOX(vbox), paned);
	gtk_window_set_child(GTK_WINDOW(win), vbox);

	sync_output_widgets(w);
	sync_trust_widgets(w);
	g_signal_connect(w->out_suffix, "toggled", G_CALLBACK(on_output_toggled), w);
	g_signal_connect(w->out_folder, "toggled", G_CALLBACK(on_output_toggled), w);
	g_signal_connect(w->out_inplace, "toggled", G_CALLBACK(on_output_toggled), w);
	g_signal_connect(w->suffix_entry, "changed", G_CALLBACK(on_suffix_changed), w);

	rebuild_packages(w);
	update_sensitivity(w);
	rebuild_identities(w, NULL);
	if (e) {
		show_error(w, e->message);
		g_error_free(e);
	}
	sisign_app_window_refresh_tokens(win);
	return win;
}

GtkWidget *sisign_app_window_button(GtkWidget *win, enum sisign_app_button which)
{
	return W(win)->btn[which];
}

GtkDropTarget *sisign_app_window_drop_target(GtkWidget *win)
{
	return W(win)->drop;
}

gboolean sisign_app_window_busy(GtkWidget *win)
{
	return W(win)->batch != NULL;
}

struct gui_model *sisign_app_window_model(GtkWidget *win)
{
	return W(win)->model;
}

const char *sisign_app_window_error(GtkWidget *win)
{
	return W(win)->error_text;
}

const char *sisign_app_window_progress_text(GtkWidget *win)
{
	return gtk_progress_bar_get_text(GTK_PROGRESS_BAR(W(win)->progress));
}

gboolean sisign_app_window_save_png(GtkWidget *win, const char *path, GError **err)
{
	int wd = gtk_widget_get_width(win), ht = gtk_widget_get_height(win);
	GdkPaintable *p;
	GtkSnapshot *snap;
	GskRenderNode *node;
	GskRenderer *r;
	GdkTexture *tex;
	gboolean ok;

	if (wd <= 0 || ht <= 0) {
		g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED, "The window has not been drawn yet");
		return FALSE;
	}
	p = gtk_widget_paintable_new(win);
	snap = gtk_snapshot_new();
	gdk_paintable_snapshot(p, GDK_SNAPSHOT(snap), wd, ht);
	node = gtk_snapshot_free_to_node(snap);
	if (!node) {
		g_object_unref(p);
		g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED, "Nothing to photograph");
		return FALSE;
	}
	r = gtk_native_get_renderer(GTK_NATIVE(win));
	tex = gsk_renderer_render_texture(r, node, &GRAPHENE_RECT_INIT(0, 0, (float)wd, (float)ht));
	ok = gdk_texture_save_to_png(tex, path);
	if (!ok)
		g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot write %s", path);
	g_object_unref(tex);
	gsk_render_node_unref(node);
	g_object_unref(p);
	return ok;
}
