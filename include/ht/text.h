/*
 * text.h: small text transformations for command lines and reports:
 * splitting a command template into words, quoting for /bin/sh,
 * {placeholder} substitution, XML entities, one-line fields.
 *
 * Ownership: every char * returned is a new string the caller frees (a
 * string vector with ht_strv_free); arguments are borrowed.
 */
#ifndef HT_TEXT_H
#define HT_TEXT_H

#include <stddef.h>

/*
 * Splits a command template into words: blanks separate words, '...'
 * keeps everything literally, "..." keeps everything but \" and \\,
 * a backslash outside quotes escapes the next character. Returns a
 * NULL-terminated array of new strings (free with ht_strv_free) and its
 * length in *n, or NULL with a reason in err (an unterminated quote).
 */
char **ht_split_words(const char *s, size_t *n, char *err, size_t errlen);
/* Frees a NULL-terminated array of strings and the array; NULL is fine. */
void ht_strv_free(char **v);

/* A placeholder and its value for ht_subst. */
struct ht_subst_var {
	const char *name;  /* "file" for {file} */
	const char *value; /* NULL: leave the placeholder as it is */
};
/*
 * Replaces each {NAME} of vars in s by its value, quoted for /bin/sh when
 * shell_quote is set. Unknown placeholders stay as they are. New string.
 */
char *ht_subst(const char *s, const struct ht_subst_var *vars, size_t nvars, int shell_quote);
/* s in single quotes for /bin/sh ('it'\''s'); new string. */
char *ht_shell_quote(const char *s);

/* Decodes XML entities (&amp; &lt; &gt; &quot; &apos; &#N; &#xN;) of
 * s[0..len) into a new string. */
char *ht_xml_unescape(const char *s, size_t len);

/*
 * s[0..len) as one field of a report: blanks at either end dropped, cut
 * at max bytes, valid UTF-8 on one line (see ht_utf8_clean). New string.
 */
char *ht_oneline(const char *s, size_t len, size_t max);

#endif
