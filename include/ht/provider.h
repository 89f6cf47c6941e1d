/*
 * provider.h: the cloud-provider plugin API.
 *
 * A provider is a table of operations (struct ht_provider_ops) that the
 * tools call without knowing which provider they hold: `local` (sandboxes
 * on this machine, providers/local/) or `aws` (Lambda through libcurl's
 * multi interface, providers/aws/). Invocations are asynchronous:
 * invoke() starts one and returns at once, poll() hands back the ones that
 * finished. A provider keeps only what an invocation in flight needs (its
 * id, its payload until it is sent, the caller's user pointer, a
 * deadline), so thousands can be in flight at a time.
 *
 * Ownership: invoke() copies the payload; the user pointer is the caller's
 * and is only handed back. A completion owns its body until
 * ht_completion_release(). The config is borrowed for the duration of
 * open().
 */
#ifndef HT_PROVIDER_H
#define HT_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct ht_config;
struct ht_config_schema;
struct ht_bucket;
struct ht_provider; /* one open provider; each implementation defines it */

/* How an invocation ended, as far as the function's infrastructure knows. */
enum ht_invoke_status {
	HT_INVOKE_OK = 0,      /* the function answered; body is its response */
	HT_INVOKE_FUNC_ERROR,  /* the function reported an error (Runtime API
	                          /error, X-Amz-Function-Error); body says what */
	HT_INVOKE_INFRA,       /* it never answered: the sandbox died, the
	                          service failed, throttled past all retries,
	                          no answer by the deadline with no test known
	                          to be running (aws: no HTTP answer at all) */
	HT_INVOKE_TIMEOUT,     /* no answer by the deadline (+ a margin) while
	                          a test was running (the runner said so): the
	                          test's time ran out, ht-invoke says timed_out */
	HT_INVOKE_CANCELLED,   /* ht_provider_cancel() or close stopped it */
	HT_INVOKE_CREDENTIALS, /* not sent, or refused: the provider's
	                          credentials expired or were refused and could
	                          not be renewed; trying again cannot help */
};

/* One finished invocation, filled in by poll(). */
struct ht_completion {
	void *user;                  /* as given to invoke(); borrowed */
	enum ht_invoke_status status;
	char *body;                  /* response or error body, NUL-terminated; owned */
	size_t body_len;
	char message[256];           /* one line for a person when status != OK */
	int64_t dispatched_ms;       /* ht_now_ms() when it reached the function */
	int64_t finished_ms;         /* ht_now_ms() when the answer arrived */
	char *log_tail;              /* the function's log tail (Lambda's
	                                X-Amz-Log-Result, decoded), or NULL; owned */
};

void ht_completion_release(struct ht_completion *c);

/* Settings a tool passes to open() on top of the configuration. */
struct ht_provider_opts {
	long concurrency;  /* invocations in flight at most; 0: the config's */
	const char *bin;   /* directory holding ht-runner, or NULL to find it */
	int as_lambda;     /* a runner that dies is a function error, as in Lambda,
	                      even during a test (ht-lambda-local) */
};

/* What one check of ht-doctor found; filled by a provider's check. */
struct ht_check {
	int ok;
	char *message;   /* one line; new string */
	char *fix;       /* what to do when not ok, matching the cause; new string or NULL */
	json_t *details; /* added to the ht.check/1 record; new reference or NULL */
	int warning;     /* ok, but something a person should fix (ht_check_warn) */
};
void ht_check_ok(struct ht_check *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Passes with a warning: ht-doctor says it (and fix) and still exits 0. */
void ht_check_warn(struct ht_check *r, const char *fix, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ht_check_fail(struct ht_check *r, const char *fix, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ht_check_release(struct ht_check *r);

/* One of a provider's ht-doctor checks. */
struct ht_provider_check {
	const char *name; /* "sandbox", "aws_credentials"; NULL ends a table */
	void (*run)(const struct ht_config *cfg, struct ht_check *r);
};

/* Which image runs the tests, for ht-invoke's drift check (image_tree). */
struct ht_image_tree {
	char digest[72];    /* the image's manifest digest, "sha256:HEX", or "" */
	json_t *manifest;   /* the image's own ht.tree/1 manifest (include/ht/manifest.h)
	                       when the provider can read it (local: the unpacked
	                       tree), else NULL: ht-invoke looks for the one
	                       ht-update stored in the bucket; new reference */
	char *what;         /* the image for messages: "image 'latest' (sha256:...)"; new string */
	const char *fix;    /* what brings the working tree into it; static */
};
void ht_image_tree_release(struct ht_image_tree *it);

struct ht_provider_ops {
	const char *name;
	/* Its keys of hypertest.json and its defaults (also listed in
	 * ht_provider_schemas[] for the config loader). */
	const struct ht_config_schema *schema;
	/* ht-doctor's checks of this provider, in order, ending with a NULL
	 * name; run only when this provider is the configured one. */
	const struct ht_provider_check *checks;
	/*
	 * Opens the bucket this provider keeps results and artifacts in for
	 * cfg (the local directory, the S3 bucket with the configured
	 * endpoints and credentials) into b. Returns 0, or -1 after printing
	 * why (release b in both cases).
	 */
	int (*bucket)(const struct ht_config *cfg, struct ht_bucket *b);
	/* The largest payload invoke() accepts, in bytes; 0: no limit. A
	 * larger one is refused before anything is sent. */
	size_t max_payload;
	/*
	 * Opens the provider described by cfg (borrowed). Returns 0 with a new
	 * provider in *out, or -1 after printing why; *code then holds the exit
	 * code the tool should use (HT_EXIT_UNAVAILABLE, HT_EXIT_CONFIG, ...).
	 */
	int (*open)(struct ht_provider **out, const struct ht_config *cfg,
		    const struct ht_provider_opts *opts, int *code);
	/*
	 * Starts one invocation with payload (copied) and timeout_ms (the
	 * function's own time limit for it). The invocation may wait in a
	 * queue until the function has room. Returns 0, or -1 when it cannot
	 * even be queued (it then never completes).
	 */
	int (*invoke)(struct ht_provider *p, const char *payload, size_t len,
		      int64_t timeout_ms, void *user);
	/*
	 * Waits up to timeout_ms (0: do not wait; -1: until something
	 * finishes) and stores at most max finished invocations into out.
	 * Returns how many (0 on timeout), or -1 on an error of the provider
	 * itself. Returns early with 0 when interrupted by a signal.
	 */
	int (*poll)(struct ht_provider *p, struct ht_completion *out, int max, int timeout_ms);
	/* How many invocations are queued or running. */
	int (*pending)(struct ht_provider *p);
	/*
	 * Stops the invocation started with user: a queued one is dropped, a
	 * running one is stopped as well as the provider can (the local
	 * provider kills its sandbox). It then completes as CANCELLED. Returns
	 * 0, or -1 when no such invocation is in flight.
	 */
	int (*cancel)(struct ht_provider *p, void *user);
	/* Stops everything still running (no completions are reported) and
	 * frees p. */
	void (*close)(struct ht_provider *p);
	/*
	 * Optional: adds to obj (borrowed) what the run summary should say
	 * about what ran the tests: "image" ({"digest": ...} when the
	 * provider knows which image runs them), and provider details
	 * ("function", "region", "sandbox", "root").
	 */
	void (*about)(struct ht_provider *p, json_t *obj);
	/*
	 * Optional: which image runs the tests. Returns 1 after filling *it
	 * (zeroed by the caller) when an image runs them, 0 when the tests
	 * run the working tree itself (local.root "host") or the provider
	 * cannot tell (a Zip function): there is nothing to compare.
	 */
	int (*image_tree)(struct ht_provider *p, struct ht_image_tree *it);
};

/* The providers built in, by name ("local", ...); NULL when unknown. */
const struct ht_provider_ops *ht_provider_find(const char *name);
/* A comma-separated list of the built-in providers' names, for messages. */
const char *ht_provider_names(void);

extern const struct ht_provider_ops ht_provider_local;
extern const struct ht_provider_ops ht_provider_aws;

/* The kinds of bucket the providers bring, listed in ht_bucket_kinds[]
 * (bucket.h): file:// (providers/local/bucket.c) and s3://
 * (providers/aws/bucket.c). */
struct ht_bucket_ops;
extern const struct ht_bucket_ops ht_bucket_file;
extern const struct ht_bucket_ops ht_bucket_s3;

#endif
