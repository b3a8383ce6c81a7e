/* SPDX-License-Identifier: Apache-2.0 */
/* An out-of-tree user of the installed libsisign, built by
 * tests/integration/test_install.sh once with pkg-config (libsisign.pc) and
 * once with CMake (find_package(sisign), target sisign::sisign).  Prints
 * the library version, then each package's UID, first name and number of
 * signature chains; a package that does not open is reported with its
 * error and the program exits 1. */
#include <stdio.h>

#include <sisign/error.h>
#include <sisign/package.h>

int main(int argc, char **argv)
{
	struct sisign_error err;
	struct sisign_pkg *pkg = NULL;
	const struct sisign_controller *c;
	int i, status = 0;

	printf("libsisign %s\n", sisign_version());
	for (i = 1; i < argc; i++) {
		sisign_error_clear(&err);
		if (sisign_pkg_open(argv[i], NULL, &pkg, &err) != SISIGN_OK) {
			fprintf(stderr, "%s: %s: %s\n", argv[i], sisign_strerror(err.code), err.message);
			status = 1;
			continue;
		}
		c = sisign_pkg_controller(pkg);
		printf("%s: uid=0x%08X name=%s chains=%zu\n", argv[i], (unsigned)c->uid,
			c->nnames > 0 ? c->names[0] : "", c->nchains);
		sisign_pkg_free(pkg);
		pkg = NULL;
	}
	return status;
}
