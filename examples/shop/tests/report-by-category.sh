#!/bin/sh
# Sales by category, highest revenue first, with the promotion applied.
. "$(dirname "$0")/lib/assert.sh"

printf '1 A100 10\n2 B202 1\n3 H300 7\n4 A101 3\n' | "$SHOP" report - >"$TMP/report" || fail "shop report exited $?"
cat >"$TMP/expect" <<'END'
books               1          39.00
food               13          28.68
household           7           9.95
total              21          77.63
END
diff -u "$TMP/expect" "$TMP/report" >"$TMP/diff" || fail "the report differs: $(cat "$TMP/diff")"
