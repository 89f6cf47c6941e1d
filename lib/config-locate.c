/*
 * config-locate.c: where a value sits in JSON text.
 *
 * jansson tells the line and column of a syntax error but keeps no
 * positions for the values it parsed, so messages about a value ("7:18:
 * runner.concurency: unknown key") need a second look at the raw text.
 * This is a small scanner that walks the text along a key path, skipping
 * what it does not enter without recursion, so deep nesting costs no
 * stack. It expects text that jansson already accepted, and gives up with
 * -1 on anything else rather than guessing.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ht/config.h"

struct scan {
	const char *text;
	size_t len;
	size_t pos;
};

static void skip_ws(struct scan *s)
{
	while (s->pos < s->len && strchr(" \t\r\n", s->text[s->pos]) && s->text[s->pos])
		s->pos++;
}

static int peek(const struct scan *s)
{
	return s->pos < s->len ? (unsigned char)s->text[s->pos] : -1;
}

/* Skips a string starting at its opening quote; -1 when unterminated. */
static int skip_string(struct scan *s)
{
	s->pos++;
	while (s->pos < s->len) {
		char ch = s->text[s->pos];

		if (ch == '\\') {
			s->pos += 2;
			continue;
		}
		s->pos++;
		if (ch == '"')
			return 0;
	}
	return -1;
}

/* 1 for a byte of a number, true, false or null. */
static int is_scalar_char(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || ch == '-' || ch == '+' || ch == '.' ||
	       ch == 'E';
}

/* Skips one value of any kind, counting brackets for containers. */
static int skip_value(struct scan *s)
{
	int depth = 0;

	skip_ws(s);
	do {
		int ch = peek(s);

		switch (ch) {
		case -1:
			return -1;
		case '"':
			if (skip_string(s) < 0)
				return -1;
			break;
		case '{':
		case '[':
			depth++;
			s->pos++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return -1;
			depth--;
			s->pos++;
			break;
		case ',':
		case ':':
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			if (depth == 0)
				return -1;
			s->pos++;
			break;
		default: {
			/* A scalar: a number, true, false, null. Anything
			 * else (a NUL byte, say) is not JSON. */
			size_t start = s->pos;

			while (s->pos < s->len && is_scalar_char(s->text[s->pos]))
				s->pos++;
			if (s->pos == start)
				return -1;
			break;
		}
		}
	} while (depth > 0);
	return 0;
}

/* Skips the value at s and the ',' after it: the way to the next member
 * or element. -1 at the end of the container or on anything else. */
static int skip_item(struct scan *s)
{
	if (skip_value(s) < 0)
		return -1;
	skip_ws(s);
	if (peek(s) != ',')
		return -1;
	s->pos++;
	return 0;
}

/* Whether the string token at [start, end) decodes to key. */
static int string_is(const char *start, size_t n, const char *key)
{
	json_t *v = json_loadb(start, n, JSON_DECODE_ANY, NULL);
	int same = v && json_is_string(v) && json_string_length(v) == strlen(key) &&
		   memcmp(json_string_value(v), key, strlen(key)) == 0;

	json_decref(v);
	return same;
}

/* Moves s into the member key of the object at s; key_pos gets where the
 * key starts. Returns 0, or -1 when there is no such member. */
static int enter_member(struct scan *s, const char *key, size_t *key_pos)
{
	skip_ws(s);
	if (peek(s) != '{')
		return -1;
	s->pos++;
	for (;;) {
		size_t start;
		int match;

		skip_ws(s);
		if (peek(s) != '"')
			return -1; /* '}' (not found) or not JSON */
		start = s->pos;
		if (skip_string(s) < 0)
			return -1;
		match = string_is(s->text + start, s->pos - start, key);
		skip_ws(s);
		if (peek(s) != ':')
			return -1;
		s->pos++;
		skip_ws(s);
		if (match) {
			*key_pos = start;
			return 0;
		}
		if (skip_item(s) < 0)
			return -1;
	}
}

/* Moves s onto element index of the array at s. */
static int enter_element(struct scan *s, long index)
{
	long i;

	skip_ws(s);
	if (peek(s) != '[' || index < 0)
		return -1;
	s->pos++;
	for (i = 0;; i++) {
		skip_ws(s);
		if (peek(s) == ']' || peek(s) < 0)
			return -1;
		if (i == index)
			return 0;
		if (skip_item(s) < 0)
			return -1;
	}
}

long ht_json_locate(const char *text, size_t len, const struct ht_json_step *path,
		    int n, int at_key)
{
	struct scan s = { text, len, 0 };
	size_t key_pos = 0;
	int i;

	if (!text)
		return -1;
	skip_ws(&s);
	for (i = 0; i < n; i++) {
		if (path[i].key) {
			if (enter_member(&s, path[i].key, &key_pos) < 0)
				return -1;
		} else if (enter_element(&s, path[i].index) < 0) {
			return -1;
		}
	}
	if (at_key && n > 0 && path[n - 1].key)
		return (long)key_pos;
	return s.pos < s.len ? (long)s.pos : -1;
}

/*
 * Parses "[N]" at *pp (just past the key it follows, if any) into a step,
 * NUL-terminating that key by writing over the '['. Moves *pp past the
 * index and a following '.'. Returns 0, or -1 when it is not an index.
 */
static int parse_index(char **pp, struct ht_json_step *step)
{
	char *br = *pp, *end;
	long idx = strtol(br + 1, &end, 10);

	if (end == br + 1 || *end != ']' || idx < 0)
		return -1;
	*br = '\0';
	step->key = NULL;
	step->index = idx;
	end++;
	if (*end == '.')
		end++;
	else if (*end && *end != '[')
		return -1;
	*pp = end;
	return 0;
}

int ht_json_path_parse(const char *path, char *buf, size_t size,
		       struct ht_json_step *steps, int max)
{
	size_t plen = strlen(path);
	char *p = buf;
	int n = 0;

	if (plen + 1 > size)
		return -1;
	memcpy(buf, path, plen + 1);
	while (*p) {
		if (n >= max)
			return -1;
		if (*p == '[') {
			if (parse_index(&p, &steps[n++]) < 0)
				return -1;
			continue;
		}
		steps[n].key = p;
		steps[n++].index = 0;
		p += strcspn(p, ".[");
		if (p == steps[n - 1].key)
			return -1; /* an empty key: "a..b" */
		if (*p == '.') {
			*p++ = '\0';
			if (!*p)
				return -1;
		} else if (*p == '[') {
			if (n >= max || parse_index(&p, &steps[n++]) < 0)
				return -1;
		}
	}
	return n;
}

void ht_json_linecol(const char *text, size_t len, long off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; text && i < len && (long)i < off; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch == '\n') {
			(*line)++;
			*col = 1;
		} else if ((ch & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}
