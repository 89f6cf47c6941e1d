/*
 * doctor.c: the local provider's ht-doctor checks: can it run sandboxes
 * (and how the writable keys are done), and does the project lie where
 * the sandbox can show it at its own path. The first asks the very code
 * ht-invoke's open asks (local_box_paths, then local_box_choose, whose
 * probe runs bwrap with a real sandbox's options, then the overlay's
 * probe), so the two cannot disagree.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/config.h"
#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/provider.h"
#include "ht/util.h"
#include "providers/local/local.h"
#include "providers/local/settings.h"

/* The bucket a sandbox binds must exist; ht-doctor creates nothing in the
 * project, so until the first run a temporary directory plays it. New
 * string to remove afterwards, or NULL. */
static char *stand_in_bucket(struct local_box *b)
{
	char tmpl[PATH_MAX];
	const char *t = getenv("TMPDIR");
	struct stat st;

	if (stat(b->bucket, &st) == 0)
		return NULL;
	snprintf(tmpl, sizeof(tmpl), "%s/ht-doctor.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpl))
		return NULL;
	free(b->bucket);
	b->bucket = ht_xstrdup(tmpl);
	return ht_xstrdup(tmpl);
}

static void check_sandbox(const struct ht_config *cfg, struct ht_check *r)
{
	const char *mode = ht_local_settings(cfg)->sandbox ? ht_local_settings(cfg)->sandbox : "auto";
	struct local_box b;
	struct local_choice c;
	char *tmp, why[PATH_MAX + 128];
	int code;

	if (strcmp(cfg->provider, "local") != 0) {
		ht_check_ok(r, "not used by provider %s", cfg->provider);
		return;
	}
	local_box_init(&b);
	if (local_box_paths(&b, cfg, NULL, 0, &code, why, sizeof(why)) < 0) {
		/* Without create: local.task_path with an image, or no ht-runner. */
		if (code == HT_EXIT_CONFIG)
			ht_check_fail(r, "set local.task_path to \"var-task\", or local.root to \"host\"", "%s", why);
		else
			ht_check_fail(r, "install ht-runner next to ht-invoke (make), or set HT_BIN to its directory",
				      "%s: ht-invoke cannot start sandboxes", why);
		local_box_release(&b);
		return;
	}
	tmp = stand_in_bucket(&b);
	local_box_choose(&b, cfg, &c);
	if (tmp) {
		ht_remove_tree(tmp);
		free(tmp);
	}
	if (c.bwrap[0])
		r->details = json_pack("{s:s}", "bwrap", c.bwrap);
	switch (c.verdict) {
	case LOCAL_BWRAP:
		if (c.note[0])
			ht_check_warn(r, "overlayfs in a user namespace needs Linux 5.11 or later (or run as root); "
				      "set local.writable_via to \"copy\" to choose the copy without this warning",
				      "%s can run sandboxes; %s", c.bwrap, c.note);
		else
			ht_check_ok(r, "%s can run sandboxes%s%s", c.bwrap, c.writable[0] ? "; " : "", c.writable);
		break;
	case LOCAL_PLAIN:
		ht_check_ok(r, "off (local.sandbox is \"none\"): tests run as plain processes%s%s",
			    c.writable[0] ? "; " : "", c.writable);
		break;
	case LOCAL_FALLBACK:
	case LOCAL_UNAVAILABLE:
		if (c.cause == LOCAL_CAUSE_MISSING && !b.image_mode)
			ht_check_fail(r, c.fix, "bwrap not found in PATH%s", strcmp(mode, "bwrap") ?
				      ": tests would run without a sandbox" : ", and local.sandbox is \"bwrap\"");
		else if (c.cause == LOCAL_CAUSE_BROKEN)
			ht_check_fail(r, c.fix, "%s cannot run a sandbox (%s): %s%s", c.bwrap, c.status,
				      c.line[0] ? c.line : "no message", c.verdict == LOCAL_FALLBACK ?
				      "; tests would run without a sandbox" : "");
		else
			ht_check_fail(r, c.fix, "%s", c.message);
		break;
	}
	local_box_release(&b);
}

/* Where a host-mode sandbox puts something of its own instead of the
 * host's: a project below one of them is not at its own path there. */
static const char *const hidden[] = { "/tmp", "/proc", "/dev", LOCAL_SANDBOX_TASK, LOCAL_SANDBOX_BUCKET,
				      "/var/runtime", NULL };

/* The hidden directory path lies in (or is), or NULL. */
static const char *hidden_by(const char *path)
{
	int i;

	for (i = 0; hidden[i]; i++) {
		size_t n = strlen(hidden[i]);

		if (!strncmp(path, hidden[i], n) && (path[n] == '/' || !path[n]))
			return hidden[i];
	}
	return NULL;
}

static void check_task_path(const struct ht_config *cfg, struct ht_check *r)
{
	const struct ht_local_settings *ls = ht_local_settings(cfg);
	int same = ls->task_path && !strcmp(ls->task_path, "same");
	char *root;
	const char *h;

	if (strcmp(cfg->provider, "local") != 0) {
		ht_check_ok(r, "not used by provider %s", cfg->provider);
		return;
	}
	if (ls->root && !strcmp(ls->root, "image")) {
		ht_check_ok(r, "the project is the image's, at %s", LOCAL_SANDBOX_TASK);
		return;
	}
	if (ls->sandbox && !strcmp(ls->sandbox, "none")) {
		ht_check_ok(r, "no sandbox: tests run in the project at its own path");
		return;
	}
	root = realpath(cfg->root ? cfg->root : ".", NULL);
	if (!root)
		root = ht_xstrdup(cfg->root ? cfg->root : ".");
	h = hidden_by(root);
	r->details = json_pack("{s:s,s:s}", "project", root, "task_path", same ? "same" : "var-task");
	if (h && (!same || strcmp(h, "/tmp")))
		ht_check_warn(r, same ? "move the project out of it" :
			      "set local.task_path to \"same\" (the project is bound at its own path too), "
			      "or move the project out of it",
			      "the project '%s' lies in %s, which the sandbox replaces with its own: in a sandbox "
			      "it is at %s%s, and paths a build baked into it (virtualenv scripts, "
			      "node_modules/.bin links, git's test-lib) do not resolve", root, h, LOCAL_SANDBOX_TASK,
			      same ? " only" : "");
	else if (same)
		ht_check_ok(r, "the project is at %s and at its own path '%s', the working directory",
			    LOCAL_SANDBOX_TASK, root);
	else
		ht_check_ok(r, "the project '%s' is at %s in a sandbox (local.task_path \"same\" puts it at "
			    "its own path too)", root, LOCAL_SANDBOX_TASK);
	free(root);
}

const struct ht_provider_check ht_local_checks[] = {
	{ "sandbox", check_sandbox },
	{ "task_path", check_task_path },
	{ NULL, NULL },
};
