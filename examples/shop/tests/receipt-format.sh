#!/bin/sh
# The printed receipt, line by line, against tests/expected/receipt.txt.
. "$(dirname "$0")/lib/assert.sh"

c=$(cart "A100 2" "A101 3" "B201 1" "E401 1" "A100 1")
"$SHOP" receipt --coupon SAVE10 "$c" >"$TMP/receipt.txt" || fail "shop receipt exited $?"
diff -u "$ROOT/tests/expected/receipt.txt" "$TMP/receipt.txt" >"$TMP/diff" ||
	fail "the receipt differs from tests/expected/receipt.txt: $(cat "$TMP/diff")"
