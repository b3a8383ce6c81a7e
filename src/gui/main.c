/* SPDX-License-Identifier: Apache-2.0 */
/* sisign-gtk — desktop app for signing Symbian OS 9 SIS packages.
 *   sisign-gtk [--module PATH] [PACKAGE-OR-FOLDER...] */
#include <gtk/gtk.h>

#include "fe.h"

#include "app_window.h"

static char *opt_module;

static GtkWidget *main_window(GtkApplication *app)
{
	GList *wins = gtk_application_get_windows(app);

	if (wins)
		return wins->data;
	return sisign_app_window_new(app, NULL, opt_module);
}

static void on_activate(GApplication *app, gpointer data)
{
	(void)data;
	gtk_window_present(GTK_WINDOW(main_window(GTK_APPLICATION(app))));
}

static void on_open(GApplication *app, GFile **files, int n, const char *hint, gpointer data)
{
	GtkWidget *w = main_window(GTK_APPLICATION(app));

	(void)hint;
	(void)data;
	sisign_app_window_add_files(w, files, (guint)n);
	gtk_window_present(GTK_WINDOW(w));
}

int main(int argc, char **argv)
{
	const GOptionEntry entries[] = {
		{ "module", 'm', 0, G_OPTION_ARG_FILENAME, &opt_module,
			"PKCS#11 module to list tokens from (default: the p11-kit proxy)", "PATH" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GtkApplication *app;
	int rc;

	/* The app asks for PINs and passphrases: no core dumps, not
	 * dumpable, from the start (fe.h). */
	(void)fe_protect_process();
	app = gtk_application_new("io.github.sisign.SisignGtk", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE);
	g_application_add_main_option_entries(G_APPLICATION(app), entries);
	g_application_set_option_context_parameter_string(G_APPLICATION(app), "[PACKAGE-OR-FOLDER…]");
	g_application_set_option_context_summary(G_APPLICATION(app),
		"Sign, verify and remove signatures of Symbian OS 9 SIS packages with keys in files or on PKCS#11 tokens.");
	g_signal_connect(app, "activate", G_CALLBACK(on_activate), NULL);
	g_signal_connect(app, "open", G_CALLBACK(on_open), NULL);
	rc = g_application_run(G_APPLICATION(app), argc, argv);
	g_object_unref(app);
	g_free(opt_module);
	return rc;
}
