/*
 * local.h: the parts of the `local` provider, private to providers/local/.
 * See docs/local-provider.md.
 *
 *   local.c    the provider's operations (open, invoke, poll, cancel,
 *              close) and the invocations' lists
 *   api.c      the Runtime API the sandboxes' runners talk to
 *              (libmicrohttpd), and each sandbox's token
 *   sandbox.c  the pool of sandboxes: spawn, deadline, kill, reap
 *   box.c      how a sandbox is made: bwrap's root, the environment, and
 *              the one bwrap probe (ht-invoke's and ht-doctor's)
 *   image.c    local.root "image": the unpacked image
 *   overlay.c  local.writable_task / writable_root: the overlays mounted
 *              before bwrap starts, and the spawn that mounts them
 *   doctor.c   ht-doctor's check;  settings.c  the local.* keys
 *
 * Threads: libmicrohttpd's polling thread runs the Runtime API handlers;
 * the caller's thread runs the operations, spawns and reaps sandboxes and
 * enforces deadlines. Everything they share is under p->lock.
 *
 * Ownership: struct ht_provider owns everything it points to; struct
 * local_box owns its strings, arrays and buffers (the image's are
 * borrowed); strings passed to functions are borrowed.
 */
#ifndef HT_LOCAL_H
#define HT_LOCAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ht/config.h"
#include "ht/provider.h"
#include "ht/util.h"
#include "providers/local/image.h"

/* The largest response a runner may post, as in Lambda. */
#define LOCAL_MAX_BODY (6 * 1024 * 1024)
/* Time after the deadline before a silent sandbox is killed. */
#define LOCAL_DEADLINE_MARGIN_MS 2000
/* At most this many sandboxes at a time (one pidfd each in poll()). */
#define LOCAL_MAX_SANDBOXES 64
/* Where things appear inside a bwrap sandbox: the bucket, the project,
 * and ht-runner (Lambda's custom runtime directory), so that it is found
 * wherever it lives on the host. */
#define LOCAL_SANDBOX_BUCKET "/var/bucket"
#define LOCAL_SANDBOX_TASK "/var/task"
#define LOCAL_SANDBOX_RUNNER "/var/runtime/ht-runner"
/* A sandbox's Runtime API token: 128 random bits, in hex. */
#define LOCAL_TOKEN_HEX 32

/* --- how sandboxes are made (box.c) --------------------------------------- */

struct local_box {
	int use_bwrap;
	int image_mode;
	char *bwrap;                 /* bwrap's path, when use_bwrap */
	char *runner;                /* host mode: ht-runner on the host */
	char *root;                  /* the project root, absolute */
	char *bucket;                /* the bucket directory, absolute */
	long tmp_mb;                 /* the size of /tmp under bwrap (local.tmp_mb) */
	int as_lambda;               /* no test-started: a dying runner is infra (opts) */
	const struct local_image *img; /* image mode: borrowed */
	struct ht_buf root_args;     /* bwrap arguments that make the root, NUL-separated */
	char **env;                  /* the sandbox's environment, "K=V", NULL-terminated */
	size_t nenv;
	/* Writable places (overlay.c), from local.writable_task,
	 * local.writable_root, local.writable_via and local.task_path. */
	int writable;                /* writable_task or writable_root asked */
	int writable_root;
	int task_same;               /* the project at its host path too, the working directory */
	char *via;                   /* "auto", "overlay" or "copy" */
	int copy_task;               /* the copy instead: HT_WRITABLE_TASK=1 (when /var/task is
					read-only), 2: "always" (plain processes) */
	int ov_userns;               /* the overlays are mounted in a user namespace of our own */
	int ov_task;                 /* the project is overlaid (b->root is in ov_paths) */
	char **ov_paths;             /* directories an overlay of itself is mounted over, in
					order, before bwrap starts; NULL-terminated */
	size_t nov;
	/* Where local_box_choose keeps what the bwrap probe found (the
	 * provider's; NULL: always probe, as ht-doctor does). */
	char *probe_cache;
};

void local_box_init(struct local_box *b);
void local_box_release(struct local_box *b);
/* A sandbox did not start: what the probe found is not trusted again. */
void local_box_probe_forget(const struct local_box *b);

/*
 * Fills in where things are for cfg: the project root, the bucket (made
 * when create), and in host mode ht-runner (in opts->bin, $HT_BIN, or next
 * to this program). Sets b->image_mode from local.root. Returns 0, or -1
 * with *code set and the reason in why (not printed).
 */
int local_box_paths(struct local_box *b, const struct ht_config *cfg,
		    const struct ht_provider_opts *opts, int create, int *code, char *why, size_t whylen);

/* What local_box_choose() found. */
enum local_verdict {
	LOCAL_BWRAP,       /* bwrap works: sandboxes */
	LOCAL_PLAIN,       /* local.sandbox "none": plain processes, as asked */
	LOCAL_FALLBACK,    /* "auto", and bwrap is missing or does not work:
			      plain processes, with a warning */
	LOCAL_UNAVAILABLE, /* cannot run: bwrap is needed and does not work */
};
enum local_cause {
	LOCAL_CAUSE_NONE,
	LOCAL_CAUSE_MISSING,     /* no bwrap in PATH */
	LOCAL_CAUSE_BROKEN,      /* the probe failed */
	LOCAL_CAUSE_IMAGE_NONE,  /* local.root "image" with local.sandbox "none" */
	LOCAL_CAUSE_OVERLAY,     /* local.writable_via "overlay", and overlayfs does not work */
};
struct local_choice {
	enum local_verdict verdict;
	enum local_cause cause;
	char bwrap[512];         /* the bwrap probed, or "" */
	char status[96];         /* the probe: "exit code 1", "timed out" */
	char line[256];          /* the probe: bwrap's first line of complaint, or "" */
	char message[768];       /* what ht-invoke says (a warning or an error) */
	const char *fix;         /* what to do, matching the cause (static); NULL when fine */
	char writable[512];      /* how the writable keys are done, for ht-doctor ("" when
				    not asked) */
	char note[512];          /* a warning besides message: the overlay's fallback, or "" */
};

/*
 * Decides whether sandboxes use bwrap: finds it in PATH and runs the probe
 * (local_box_probe) with the options of a real sandbox, over the host
 * root of b (in image mode too: the image is unpacked only once bwrap is
 * known to work). Sets b->use_bwrap and b->bwrap. Prints nothing: ht-invoke
 * and ht-doctor say c->message their way. Returns 0 unless the verdict is
 * LOCAL_UNAVAILABLE.
 */
int local_box_choose(struct local_box *b, const struct ht_config *cfg, struct local_choice *c);

/* The bwrap arguments that make the root (b->root_args): the host's or,
 * with b->img, the image's. Returns 0, or -1 after printing why. */
int local_box_root_args(struct local_box *b);
/* The sandbox's environment (b->env) for cfg. */
void local_box_env(struct local_box *b, const struct ht_config *cfg);

/*
 * Starts cmd (NULL-terminated; argv[0] absolute, or looked up in the
 * sandbox's PATH under bwrap) in a sandbox made as b says, in a new
 * session, with b->env plus extra_env ("K=V", NULL-terminated, may be
 * NULL) as its environment: under bwrap passed through --args on a
 * descriptor, never on the command line. stdout and stderr go to out_fd
 * (-1: /dev/null); chan_fd (-1: none; a descriptor numbered 10 or
 * more) becomes local_box_chan_fd(b) in the sandbox; no other
 * descriptor is inherited. cwd is the plain process's directory.
 * Returns the pid, or -1 with the reason in why.
 */
pid_t local_box_spawn(const struct local_box *b, char *const *cmd, char *const *extra_env,
		      int out_fd, int chan_fd, const char *cwd, char *why, size_t whylen);
/* The number the sandbox's runner finds its channel on (the
 * environment's HT_RUNTIME_CHANNEL=fd:N): 4 under bwrap (3 is the
 * arguments' memfd), 3 without. */
int local_box_chan_fd(const struct local_box *b);

/*
 * The probe: runs `true` in a sandbox made as b says, under bwrap, with
 * the sandbox's own options (b->root_args, the environment through
 * --args), for at most 10 s. Returns 0 when it ran, else -1 with how it
 * ended in status and bwrap's first line in line.
 */
int local_box_probe(const struct local_box *b, char *status, size_t slen, char *line, size_t llen);

/* --- writable overlays (overlay.c) ----------------------------------------- */

/*
 * Decides how the writable keys are done, once bwrap is chosen (c->verdict
 * set): probes overlayfs in a mount namespace of our own over the project
 * (local.writable_via "auto" or "overlay"), and sets b->copy_task for the
 * fallback, or for plain processes. Fills c->writable and, for a fallback,
 * c->note. Returns 0, or -1 with c's verdict LOCAL_UNAVAILABLE when
 * "overlay" is required and does not work.
 */
int local_overlay_choose(struct local_box *b, struct local_choice *c);
/*
 * The directories to overlay (b->ov_paths), for the root src ("" for the
 * host's; an image's tree): the project, and with writable_root every
 * directory of the root and of its /var that the sandbox binds (skip:
 * the names not bound). A directory overlayfs refuses stays read-only,
 * said once. Prints what it warns about.
 */
void local_overlay_paths(struct local_box *b, const char *src, const char *const *top_skip,
			 const char *const *var_skip);
/* 1 when path is one of b->ov_paths. */
int local_overlay_has(const struct local_box *b, const char *path);
/*
 * Starts bwrap (argv, with bwrap's environment envp) as local_box_spawn
 * does (in a new session, 0 from /dev/null, 1 and 2 on out_fd, the
 * environment memfd afd on 3, the channel evfd on 4, nothing else), after mounting b->ov_paths'
 * overlays in a mount namespace of its own (and a user namespace when
 * b->ov_userns), their upper layers on a tmpfs that only it sees.
 * Returns the pid, or -1 with the reason in why.
 */
pid_t local_overlay_spawn(const struct local_box *b, char *const *argv, char *const *envp, int out_fd,
			  int afd, int evfd, char *why, size_t whylen);

/* "exit code 3", "killed by signal 9 (Killed)" for a wait status. */
const char *local_describe_status(int st, char *buf, size_t n);

/* --- the provider (local.c) ----------------------------------------------- */

/* One invocation, from invoke() to the completion poll() hands out. */
struct local_inv {
	struct local_inv *next;
	char id[HT_UUID_LEN + 1];
	char *payload;               /* freed when it finishes */
	size_t len;
	int64_t timeout_ms;
	int64_t deadline_ms;         /* when the sandbox is killed (monotonic) */
	int64_t deadline_wall_ms;    /* Lambda-Runtime-Deadline-Ms */
	int64_t dispatched_ms;
	void *user;
	/* The outcome, once it is known. */
	enum ht_invoke_status status;
	char *body;
	size_t body_len;
	char message[256];
	int64_t finished_ms;
};

struct MHD_Connection;
struct MHD_Daemon;
struct local_conn;

struct local_sandbox {
	unsigned long id;            /* unique per spawn; 0: the slot is free */
	char token[LOCAL_TOKEN_HEX + 1]; /* its Runtime API path's secret */
	pid_t pid;                   /* the leader: not reaped until the slot is cleared */
	int pidfd;
	char *tmpdir;                /* sandbox none: its private /tmp */
	int served;                  /* invocations it took */
	char init_error[160];
	struct MHD_Connection *waiting;
	struct local_conn *waiting_conn;
	struct local_inv *cur;       /* the invocation it holds */
	int test_seen;               /* its runner said a test of cur runs (test-started) */
	int chan;                    /* our end of its channel (sandbox.c), -1: none */
	int chan_waiting;            /* its runner asked for work there ('N') */
};

struct ht_provider {
	pthread_mutex_t lock;
	struct MHD_Daemon *mhd;
	int port;
	int evfd;
	long concurrency;
	struct local_sandbox *sb;
	char *chan_buf;              /* a message read from a channel (sandbox.c) */
	unsigned long next_id;
	struct local_inv *q_head, *q_tail; /* queued, not yet taken by a runner */
	struct local_inv *d_head, *d_tail; /* finished, not yet polled */
	int inflight;                /* queued + running */
	int suspended;               /* connections suspended in /next */
	unsigned long requests;      /* Runtime API requests, and the connections they */
	unsigned long connections;   /* came on (ht-invoke -v says; tests count them) */
	unsigned long chan_msgs;     /* messages read from the runners' channels */
	int closing;
	int subreaper;               /* plain processes: what escapes a sandbox's session
					comes to us (PR_SET_CHILD_SUBREAPER), killed at close */
	char *logpath;               /* for messages */
	int logfd;
	struct local_box box;
	struct local_image img;      /* local.root "image" */
};

/* Wakes poll(). */
void local_wake(struct ht_provider *p);
/* Ends v with st and msg and moves it to the finished list; it no longer
 * counts as in flight. Lock held. */
void local_finish(struct ht_provider *p, struct local_inv *v, enum ht_invoke_status st, const char *msg);
void local_inv_free(struct local_inv *v);
/* The first queued invocation, taken off the queue, or NULL. Lock held. */
struct local_inv *local_queue_pop(struct ht_provider *p);
/* Hands v to sandbox s: from now on its deadline runs. Lock held. */
void local_assign(struct local_sandbox *s, struct local_inv *v);

/* --- the Runtime API (api.c) ---------------------------------------------- */

/* Starts the server on 127.0.0.1 (a free port, in p->port). Returns 0, or
 * -1 after printing why. */
int local_api_start(struct ht_provider *p);
/* Lets the connections resumed for closing end, then stops the server. */
void local_api_stop(struct ht_provider *p);
/* Hands v to the runner of s waiting in /next. Lock held. */
void local_api_give(struct local_sandbox *s, struct local_inv *v);
/* Ends the /next request s's runner is waiting in, if any. Lock held. */
void local_api_drop(struct local_sandbox *s);
/* Fills token with LOCAL_TOKEN_HEX random hex digits. Returns 0, or -1
 * when the random generator fails. */
int local_api_token(char token[LOCAL_TOKEN_HEX + 1]);

/* What a Runtime API request asks for, read from its URL and method alone
 * (no socket, no lock: tests/fuzz/fuzz-runtime-api.c calls it). */
enum local_api_op {
	LOCAL_API_NEXT,          /* GET invocation/next */
	LOCAL_API_INIT_ERROR,    /* init/error */
	LOCAL_API_RESPONSE,      /* POST invocation/RID/response */
	LOCAL_API_ERROR,         /* POST invocation/RID/error */
	LOCAL_API_TEST_STARTED,  /* POST invocation/RID/test-started (ours, not Lambda's) */
	LOCAL_API_WRONG_METHOD,  /* invocation/next with another method: 405 */
	LOCAL_API_NOT_FOUND      /* anything else under runtime/: 404 */
};
struct local_api_req {
	unsigned long id;        /* the sandbox's number */
	const char *token;       /* its LOCAL_TOKEN_HEX hex digits, in the URL */
	enum local_api_op op;
	const char *rid;         /* RESPONSE, ERROR: the request id, in the URL */
	size_t rid_len;
};
/*
 * Parses url ("/sb/ID/TOKEN/2018-06-01/runtime/REST") and method into q
 * (pointing into url). Returns 0, or -1 when the path is not of that form
 * (refused like a wrong token: 403).
 */
int local_api_parse(const char *url, const char *method, struct local_api_req *q);
/*
 * The message of a Runtime API error body (its errorType and errorMessage,
 * else its first bytes) after prefix, into out: valid UTF-8 on one line,
 * cut at n bytes.
 */
void local_api_error_message(const char *body, size_t len, const char *prefix, char *out, size_t n);

/* --- sandboxes (sandbox.c) ------------------------------------------------ */

/* Starts sandboxes while queued invocations outnumber those starting up.
 * Lock held. */
void local_sandboxes_fill(struct ht_provider *p);
/* Reaps sandboxes that died and kills those past a deadline. Lock held. */
void local_sandboxes_check(struct ht_provider *p);
/* Gives v to a sandbox whose runner waits for work on its channel:
 * 1, or 0 when none does. Lock held. */
int local_chan_offer(struct ht_provider *p, struct local_inv *v);
/* Kills sandbox s and everything in it; it is reaped later by
 * local_sandboxes_check() or local_sandboxes_close(). Lock held. */
void local_sandbox_kill(struct local_sandbox *s);
/* Kills every sandbox, then reaps them. Lock held. */
void local_sandboxes_close(struct ht_provider *p);

#endif
