/*
 * doctor.c: the local provider's ht-doctor check: can it run sandboxes.
 * It asks the very code ht-invoke's open asks (local_box_paths, then
 * local_box_choose, whose probe runs bwrap with a real sandbox's options),
 * so the two cannot disagree.
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
		/* The only failure without create: no ht-runner. */
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
		ht_check_ok(r, "%s can run sandboxes", c.bwrap);
		break;
	case LOCAL_PLAIN:
		ht_check_ok(r, "off (local.sandbox is \"none\"): tests run as plain processes");
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

const struct ht_provider_check ht_local_checks[] = {
	{ "sandbox", check_sandbox },
	{ NULL, NULL },
};
