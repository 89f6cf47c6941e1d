/*
 * doctor.c: the local provider's ht-doctor checks: can it run sandboxes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/config.h"
#include "ht/proc.h"
#include "ht/provider.h"
#include "ht/util.h"
#include "providers/local/settings.h"

/* Finds prog in PATH; new string or NULL. */
static char *which(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *found = NULL;

	if (!path)
		return NULL;
	copy = ht_xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *p = ht_path_join(*dir ? dir : ".", prog);

		if (access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(copy);
	return found;
}

/* Reads at most one line of what a probe said on stderr. */
static char *first_line(FILE *fp)
{
	char line[512] = "";
	size_t n;

	rewind(fp);
	if (!fgets(line, sizeof(line), fp))
		return ht_xstrdup("no message");
	n = strcspn(line, "\n");
	line[n] = '\0';
	return ht_xstrdup(*line ? line : "no message");
}

/* The local provider's sandbox: bubblewrap present and able to run. */
static void check_sandbox(const struct ht_config *cfg, struct ht_check *r)
{
	static const char install[] =
		"install bubblewrap (apt-get install bubblewrap) and allow unprivileged user "
		"namespaces, or set local.sandbox to \"none\"";
	char ro[] = "--ro-bind", slash[] = "/", tmpfs[] = "--tmpfs", tmp[] = "/tmp";
	char pid[] = "--unshare-pid", dashes[] = "--", prog[] = "true";
	char *argv[] = { NULL, ro, slash, slash, tmpfs, tmp, pid, dashes, prog, NULL };
	int required = strcmp(ht_local_settings(cfg)->sandbox, "bwrap") == 0;
	struct ht_proc p;
	char *bwrap;
	char *why;
	FILE *err;

	if (strcmp(cfg->provider, "local") != 0) {
		ht_check_ok(r, "not used by provider %s", cfg->provider);
		return;
	}
	if (strcmp(ht_local_settings(cfg)->sandbox, "none") == 0) {
		ht_check_ok(r, "off (local.sandbox is \"none\"): tests run as plain processes");
		return;
	}
	bwrap = which("bwrap");
	if (!bwrap) {
		if (required)
			ht_check_fail(r, install, "bwrap not found in PATH, and local.sandbox is \"bwrap\"");
		else
			ht_check_fail(r, install, "bwrap not found in PATH: tests would run without a sandbox");
		return;
	}
	r->details = json_pack("{s:s}", "bwrap", bwrap);
	argv[0] = bwrap;
	err = tmpfile();
	ht_proc_init(&p, argv);
	p.stdout_fd = err ? fileno(err) : -1;
	p.stderr_fd = p.stdout_fd;
	p.deadline_ms = ht_now_ms() + 10000;
	if (ht_proc_run(&p) < 0) {
		ht_check_fail(r, install, "cannot run %s", bwrap);
	} else if (p.exited && p.exit_code == 0) {
		ht_check_ok(r, "%s can run sandboxes", bwrap);
	} else {
		why = err ? first_line(err) : ht_xstrdup("no message");
		ht_check_fail(r, install, "%s cannot run a sandbox (%s): %s", bwrap,
			   ht_proc_describe(&p), why);
		free(why);
	}
	if (err)
		fclose(err);
	free(bwrap);
}

const struct ht_provider_check ht_local_checks[] = {
	{ "sandbox", check_sandbox },
	{ NULL, NULL },
};
