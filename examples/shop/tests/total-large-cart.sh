#!/bin/sh
# A cart of 800000 lines (a wholesale order) is merged per item and priced (slow: a few seconds).
. "$(dirname "$0")/lib/assert.sh"

gen_orders 800000 99 | awk '{ print $2, $3 }' >"$TMP/cart"
"$SHOP" total "$TMP/cart" >"$TMP/total" || fail "shop total exited $?"
expect_eq items "$(awk '{ s += $2 } END { print s }' "$TMP/cart")" "$(awk '$1 == "items" { print $2 }' "$TMP/total")"
# Worked out once, independently (Python decimals), for this seed.
expect_eq subtotal 39566231.31 "$(awk '$1 == "subtotal" { print $2 }' "$TMP/total")"
expect_eq tax 5585671.62 "$(awk '$1 == "tax" { print $2 }' "$TMP/total")"
expect_eq total 45151902.93 "$(awk '$1 == "total" { print $2 }' "$TMP/total")"
