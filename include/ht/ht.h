/*
 * ht.h: all of libht. Tools include this one header.
 */
#ifndef HT_HT_H
#define HT_HT_H
#include "exit.h"
#include "diag.h"
#include "util.h"
#include "jsonl.h"
#include "proc.h"
#include "config.h"
#endif
