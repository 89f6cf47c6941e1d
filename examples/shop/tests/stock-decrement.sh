#!/bin/sh
# Orders take their units out of the stock; other items stay.
. "$(dirname "$0")/lib/assert.sh"

printf '1 A100 20\n2 A100 30\n3 E403 9\n' >"$TMP/orders"
"$SHOP" stock "$TMP/orders" >"$TMP/stock" || fail "shop stock exited $?"
expect_eq "apples left and sold" "A100 70 50" "$(grep '^A100 ' "$TMP/stock")"
expect_eq "laptop stands left and sold" "E403 0 9" "$(grep '^E403 ' "$TMP/stock")"
expect_eq "atlases left and sold" "B202 5 0" "$(grep '^B202 ' "$TMP/stock")"
expect_eq "lines (one per item)" 14 "$(wc -l <"$TMP/stock" | tr -d ' ')"
