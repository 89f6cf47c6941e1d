#!/bin/sh
# SAVE10 does nothing under 50.00, and says so.
. "$(dirname "$0")/lib/assert.sh"

c=$(cart "A102 5")
"$SHOP" total --coupon SAVE10 "$c" >"$TMP/out" 2>"$TMP/err" || fail "shop total exited $?"
expect_eq discount 0.00 "$(awk '$1 == "discount" { print $2 }' "$TMP/out")"
expect_eq total 42.75 "$(awk '$1 == "total" { print $2 }' "$TMP/out")"
grep -q "coupon SAVE10 needs 50.00, the cart is 42.75: not applied" "$TMP/err" ||
	fail "no warning about the coupon: $(cat "$TMP/err")"
