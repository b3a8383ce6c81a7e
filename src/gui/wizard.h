/* SPDX-License-Identifier: Apache-2.0 */
/* sisign-gtk — certificate wizard window (key on a token or in a file;
 * self-signed certificate or CSR; subject fields as a form). */
#ifndef SISIGN_GUI_WIZARD_H
#define SISIGN_GUI_WIZARD_H

#include <gtk/gtk.h>

#include "app_model.h"

G_BEGIN_DECLS

/* Called on the main thread after a key was made (use = FALSE) and when the
 * user presses "Sign with this key" (use = TRUE). */
typedef void (*sisign_wizard_done_fn)(const struct gui_wizard_result *r, gboolean use, void *user);

/* tokens: the identity pane's last scan (struct gui_token *), may be NULL;
 * copied.  module: PKCS#11 module, NULL = p11-kit proxy. */
GtkWidget *sisign_wizard_new(GtkWindow *parent, GPtrArray *tokens, const char *module, sisign_wizard_done_fn done,
	void *user);

G_END_DECLS
#endif
