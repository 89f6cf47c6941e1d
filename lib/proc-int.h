/*
 * proc-int.h: what proc.c and proc-limits.c share (not API): the capped
 * capture of a child's stdout and stderr. Descriptors are the ht_proc's.
 */
#ifndef HT_PROC_INT_H
#define HT_PROC_INT_H

#include "ht/proc.h"

/* Before the spawn: pipes for the streams to cap (p->cap_pipe, read ends
 * non-blocking, p->cap_file the files); the write ends in *wr (-1: not
 * captured), which the caller closes after the spawn. Returns 0 or -1. */
int ht_proc_cap_open(struct ht_proc *p, int wr[2]);
/* Reads what the pipes hold (at most about 4 MiB a call) into the files.
 * Returns 1 while a pipe is open. */
int ht_proc_cap_drain(struct ht_proc *p);
/* The pipes' descriptors still open, into fds (at most 2); their count. */
int ht_proc_cap_fds(const struct ht_proc *p, int fds[2]);
/* After the child: reads until EOF or wait_ms passes, closes the pipes,
 * and puts each file in order: the note, then the tail. */
void ht_proc_cap_close(struct ht_proc *p, int wait_ms);

#endif
