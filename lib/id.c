/*
 * id.c: run and test ids (include/ht/id.h).
 */
#include <stdlib.h>
#include <string.h>

#include "ht/id.h"
#include "ht/util.h"

static int is_id_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-';
}

int ht_id_safe(const char *s)
{
	size_t n;

	if (!s || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (n = 0; s[n]; n++)
		if (n >= HT_ID_MAX || !is_id_char((unsigned char)s[n]))
			return 0;
	return n >= 1;
}

char *ht_test_id(const char *name)
{
	char hex[HT_SHA256_HEX_LEN + 1];
	char slug[41];
	size_t n = 0;
	const unsigned char *p;
	int dash = 0;

	for (p = (const unsigned char *)name; *p && n < 40; p++) {
		int alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');

		if (!alnum) {
			dash = 1;
			continue;
		}
		if (dash && n)
			slug[n++] = '-';
		dash = 0;
		if (n < 40)
			slug[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	}
	while (n && slug[n - 1] == '-')
		n--;
	slug[n] = '\0';
	if (ht_sha256_hex(name, strlen(name), hex) < 0)
		memset(hex, '0', 8);
	hex[8] = '\0';
	return ht_xasprintf("t-%s-%s", n ? slug : "test", hex);
}
