/* SPDX-License-Identifier: Apache-2.0 */
/* sisign-gtk — the main window.  The functions below are also how the Xvfb
 * test (tests/gui/test_gui_xvfb.c) drives the real window: the same entry
 * points the widgets' signal handlers use. */
#ifndef SISIGN_GUI_APP_WINDOW_H
#define SISIGN_GUI_APP_WINDOW_H

#include <gtk/gtk.h>

#include "app_model.h"

G_BEGIN_DECLS

/* settings_path: NULL = gui_settings_default_path().  module: a PKCS#11
 * module that overrides the saved one for this run (NULL = saved / p11-kit
 * proxy).  Token listing starts at once, in a worker thread. */
GtkWidget *sisign_app_window_new(GtkApplication *app, const char *settings_path, const char *module);

/* What the drop target and the "Add" file chooser call: files and folders. */
void sisign_app_window_add_files(GtkWidget *win, GFile *const *files, guint n);

/* The package list's drop target (GDK_TYPE_FILE_LIST), for tests that emit
 * a drop as the desktop would. */
GtkDropTarget *sisign_app_window_drop_target(GtkWidget *win);

/* Re-list tokens (in a thread); sisign_app_window_tokens_busy() is TRUE until
 * the list is rebuilt. */
void sisign_app_window_refresh_tokens(GtkWidget *win);
gboolean sisign_app_window_tokens_busy(GtkWidget *win);
/* Select the token key row whose URI is uri (as the user clicking it);
 * FALSE if there is none. */
gboolean sisign_app_window_select_key_uri(GtkWidget *win, const char *uri);
/* Use a key file and certificate (what "Use key file…" ends in). */
void sisign_app_window_use_key_file(GtkWidget *win, const char *key_file, const char *cert_file);

enum sisign_app_button { SISIGN_BTN_SIGN, SISIGN_BTN_UNSIGN, SISIGN_BTN_VERIFY, SISIGN_BTN_CANCEL, SISIGN_BTN_DETAILS };
GtkWidget *sisign_app_window_button(GtkWidget *win, enum sisign_app_button which);

/* The PIN / passphrase dialog while one is shown, else NULL; its password
 * entry and OK button; and the text it shows (the prompt, then the tries-left
 * warning line if any; NULL when no dialog is shown). */
GtkWidget *sisign_app_window_secret_dialog(GtkWidget *win);
GtkWidget *sisign_app_window_secret_entry(GtkWidget *win);
GtkWidget *sisign_app_window_secret_ok(GtkWidget *win);
const char *sisign_app_window_secret_text(GtkWidget *win);

/* Trusted roots for Verify and Details: root certificate files or folders
 * (what the "Root certificates…" / "Root folder…" / "Clear" buttons end in);
 * NULL clears.  Saved in the settings file (paths only). */
void sisign_app_window_set_trust_roots(GtkWidget *win, const char *const *paths);

gboolean sisign_app_window_busy(GtkWidget *win);
struct gui_model *sisign_app_window_model(GtkWidget *win);
/* Select package rows (as the user would); n == 0 clears the selection. */
void sisign_app_window_select_rows(GtkWidget *win, const guint *idx, guint n);
/* The error bar's text when it is shown, else NULL. */
const char *sisign_app_window_error(GtkWidget *win);
const char *sisign_app_window_progress_text(GtkWidget *win);

/* Photograph the window in-process (docs/gui-testing.md) into a PNG. */
gboolean sisign_app_window_save_png(GtkWidget *win, const char *path, GError **err);

G_END_DECLS
#endif
