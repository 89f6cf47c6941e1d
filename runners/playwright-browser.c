/*
 * playwright-browser.c: which Chromium a Playwright test gets.
 *
 * On a machine's own root (the local provider's host root) Debian's
 * /usr/bin/chromium; in an image or in Lambda the Chromium of the npm
 * package @sparticuz/chromium, which unpacks itself into the temporary
 * directory when Node asks it for its executablePath(). What Node said is
 * kept in TMPDIR/ht-sparticuz-chromium.json, so a warm sandbox asks once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/proc.h"
#include "ht/runner.h"
#include "ht/util.h"
#include "runners/playwright.h"

#define SYSTEM_CHROMIUM "/usr/bin/chromium"
#define SPARTICUZ "node_modules/@sparticuz/chromium/package.json"
#define CACHE_NAME "ht-sparticuz-chromium.json"
#define UNPACK_TIMEOUT_MS (120 * 1000)

/* Asks @sparticuz/chromium for its binary (unpacking it) and its
 * arguments, and which of LD_LIBRARY_PATH and FONTCONFIG_PATH it set for
 * itself (it does in Lambda): one JSON line on stdout. Outside Lambda (an
 * image on the local provider) it unpacks its fonts but does not point
 * fontconfig at them, without which its Chromium aborts on the first
 * page: FONTCONFIG_PATH is then its fonts' directory. */
static const char unpack_js[] =
	"const before = Object.assign({}, process.env);"
	"import('@sparticuz/chromium').then(async (m) => {"
	" const c = m.default; const path = await c.executablePath(); const env = {};"
	" for (const k of ['LD_LIBRARY_PATH', 'FONTCONFIG_PATH'])"
	"  if (process.env[k] !== undefined && process.env[k] !== before[k]) env[k] = process.env[k];"
	" const fonts = require('path').join(require('os').tmpdir(), 'fonts');"
	" if (!process.env.FONTCONFIG_PATH && require('fs').existsSync(fonts + '/fonts.conf')) env.FONTCONFIG_PATH = fonts;"
	" process.stdout.write(JSON.stringify({ path, args: c.args, env }) + '\\n');"
	"}).catch((e) => { process.stderr.write(String((e && e.message) || e) + '\\n'); process.exit(1); });";

static int is_exe(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Fills the outputs from a {path, args, env} object; 0 when it is one
 * whose path is an executable file. */
static int take(json_t *o, char **exe, json_t **args, json_t **env)
{
	const char *p = json_string_value(json_object_get(o, "path"));
	json_t *a = json_object_get(o, "args"), *e = json_object_get(o, "env"), *v;
	size_t i;

	if (!p || !is_exe(p) || !json_is_array(a))
		return -1;
	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return -1;
	*exe = ht_xstrdup(p);
	*args = json_incref(a);
	*env = json_is_object(e) ? json_incref(e) : json_object();
	return 0;
}

/* The binary of @sparticuz/chromium in cwd's node_modules, unpacked. */
static int sparticuz(const char *cwd, char *const *envp, const char *tmpdir, int64_t deadline_ms, char **exe,
		     json_t **args, json_t **env, char *err, size_t errlen)
{
	char *cache = ht_path_join(tmpdir, CACHE_NAME), *text = NULL, *node = ht_runner_which(envp, "node");
	char *argv[4] = { NULL, (char *)"-e", (char *)unpack_js, NULL };
	size_t len = 0;
	json_t *o = NULL;
	struct ht_proc p;
	FILE *errf = NULL;
	struct stat st;
	int rc = -1;

	/* Only a cache this user wrote and no one else can change: /tmp may
	 * be shared outside a sandbox. */
	if (stat(cache, &st) == 0 && st.st_uid == geteuid() && !(st.st_mode & 022) &&
	    ht_read_file(cache, 1u << 20, &text, &len) == 0) {
		o = json_loadb(text, len, 0, NULL);
		free(text);
		text = NULL;
		if (take(o, exe, args, env) == 0) {
			rc = 0;
			goto done;
		}
		json_decref(o);
		o = NULL;
	}
	if (!node) {
		snprintf(err, errlen, "no browser: @sparticuz/chromium needs node to unpack itself, and node is not in the PATH");
		goto done;
	}
	argv[0] = node;
	errf = tmpfile();
	ht_proc_init(&p, argv);
	p.cwd = cwd;
	p.envp = envp;
	p.stderr_fd = errf ? fileno(errf) : -1;
	p.deadline_ms = ht_now_ms() + UNPACK_TIMEOUT_MS;
	if (deadline_ms && deadline_ms < p.deadline_ms)
		p.deadline_ms = deadline_ms;
	p.grace_ms = 1000;
	if (ht_proc_capture(&p, 1u << 20, &text) < 0 || !p.exited || p.exit_code != 0) {
		char tail[300] = "";

		if (errf) {
			ssize_t n = pread(fileno(errf), tail, sizeof(tail) - 1, 0);

			tail[n > 0 ? n : 0] = '\0';
			if (strchr(tail, '\n'))
				*strchr(tail, '\n') = '\0';
		}
		snprintf(err, errlen, "no browser: @sparticuz/chromium could not unpack its Chromium into '%s' (%s)%s%s", tmpdir,
			 p.timed_out ? "timed out" : ht_proc_describe(&p), *tail ? ": " : "", tail);
		goto done;
	}
	o = json_loads(text ? text : "", 0, NULL);
	if (take(o, exe, args, env) < 0) {
		snprintf(err, errlen, "no browser: @sparticuz/chromium named no executable Chromium ('%.200s')",
			 text ? text : "");
		goto done;
	}
	ht_write_file_atomic(cache, text, strlen(text), 0644); /* a cache: failing to keep it is no error */
	rc = 0;
done:
	if (errf)
		fclose(errf);
	json_decref(o);
	free(text);
	free(node);
	free(cache);
	return rc;
}

int ht_pw_find_browser(const char *setting, const char *cwd, char *const *envp, const char *tmpdir,
		       int64_t deadline_ms, char **exe, json_t **args, json_t **env, char *err, size_t errlen)
{
	char *pkg = ht_path_join(cwd, SPARTICUZ);
	int have_pkg = access(pkg, R_OK) == 0, rc = 0;

	*exe = NULL;
	*args = json_array();
	*env = json_object();
	if (!strcmp(setting, "config")) {
		/* The user's config chooses. */
	} else if (setting[0] == '/') {
		if (is_exe(setting)) {
			*exe = ht_xstrdup(setting);
		} else {
			snprintf(err, errlen, "no browser: runner.browser '%s' is not an executable file here", setting);
			rc = -1;
		}
	} else if (!strcmp(setting, "system") || (!strcmp(setting, "auto") && is_exe(SYSTEM_CHROMIUM))) {
		if (is_exe(SYSTEM_CHROMIUM)) {
			*exe = ht_xstrdup(SYSTEM_CHROMIUM);
		} else {
			snprintf(err, errlen, "no browser: runner.browser is 'system' and there is no " SYSTEM_CHROMIUM
				 " here (install Debian's chromium: apt-get install chromium; in an image or in Lambda "
				 "use @sparticuz/chromium with runner.browser 'auto' or 'sparticuz')");
			rc = -1;
		}
	} else if (!strcmp(setting, "sparticuz") || !strcmp(setting, "auto")) {
		if (have_pkg) {
			json_decref(*args);
			json_decref(*env);
			*args = *env = NULL;
			rc = sparticuz(cwd, envp, tmpdir, deadline_ms, exe, args, env, err, errlen);
			if (rc < 0) {
				*args = json_array();
				*env = json_object();
			}
		} else {
			snprintf(err, errlen, "no browser: looked for %s%s in '%s' and found none "
				 "(add it to the project: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --save-dev "
				 "@sparticuz/chromium; or install Debian's chromium where the tests run; or set runner.browser)",
				 !strcmp(setting, "auto") ? SYSTEM_CHROMIUM " (Debian's chromium) and " : "",
				 "node_modules/@sparticuz/chromium", cwd);
			rc = -1;
		}
	} else {
		snprintf(err, errlen, "no browser: runner.browser '%s' is none of auto, system, sparticuz, config or a path",
			 setting);
		rc = -1;
	}
	if (rc < 0) {
		free(*exe);
		*exe = NULL;
	}
	free(pkg);
	return rc;
}
