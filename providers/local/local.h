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
	const struct local_image *img; /* image mode: borrowed */
	struct ht_buf root_args;     /* bwrap arguments that make the root, NUL-separated */
	char **env;                  /* the sandbox's environment, "K=V", NULL-terminated */
	size_t nenv;
};

void local_box_init(struct local_box *b);
void local_box_release(struct local_box *b);

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
};
struct local_choice {
	enum local_verdict verdict;
	enum local_cause cause;
	char bwrap[512];         /* the bwrap probed, or "" */
	char status[96];         /* the probe: "exit code 1", "timed out" */
	char line[256];          /* the probe: bwrap's first line of complaint, or "" */
	char message[768];       /* what ht-invoke says (a warning or an error) */
	const char *fix;         /* what to do, matching the cause (static); NULL when fine */
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
 * (-1: /dev/null); no other descriptor is inherited. cwd is the plain
 * process's directory. Returns the pid, or -1 with the reason in why.
 */
pid_t local_box_spawn(const struct local_box *b, char *const *cmd, char *const *extra_env,
		      int out_fd, const char *cwd, char *why, size_t whylen);

/*
 * The probe: runs `true` in a sandbox made as b says, under bwrap, with
 * the sandbox's own options (b->root_args, the environment through
 * --args), for at most 10 s. Returns 0 when it ran, else -1 with how it
 * ended in status and bwrap's first line in line.
 */
int local_box_probe(const struct local_box *b, char *status, size_t slen, char *line, size_t llen);

/* "exit code 3", "killed by signal 9 (Killed)" for a wait status. */
const char *local_describe_status(int st, char *buf, size_t n);

/* --- the provider (local.c) ----------------------------------------------- */

/* One invocation, from invoke() to the completion poll() hands out. */
struct local_inv {
	struct local_inv *next;
	char id[HT_UUID_LEN + 1];
	char *payload;               /* freed once sent to a runner */
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
};

struct ht_provider {
	pthread_mutex_t lock;
	struct MHD_Daemon *mhd;
	int port;
	int evfd;
	long concurrency;
	struct local_sandbox *sb;
	unsigned long next_id;
	struct local_inv *q_head, *q_tail; /* queued, not yet taken by a runner */
	struct local_inv *d_head, *d_tail; /* finished, not yet polled */
	int inflight;                /* queued + running */
	int suspended;               /* connections suspended in /next */
	int closing;
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

/* --- sandboxes (sandbox.c) ------------------------------------------------ */

/* Starts sandboxes while queued invocations outnumber those starting up.
 * Lock held. */
void local_sandboxes_fill(struct ht_provider *p);
/* Reaps sandboxes that died and kills those past a deadline. Lock held. */
void local_sandboxes_check(struct ht_provider *p);
/* Kills sandbox s and everything in it; it is reaped later by
 * local_sandboxes_check() or local_sandboxes_close(). Lock held. */
void local_sandbox_kill(struct local_sandbox *s);
/* Kills every sandbox, then reaps them. Lock held. */
void local_sandboxes_close(struct ht_provider *p);

#endif
