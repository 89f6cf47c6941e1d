#!/bin/sh
# The receipt groups thousands; "shop total" prints plain numbers.
. "$(dirname "$0")/lib/assert.sh"

c=$(cart "E401 30")
expect_eq subtotal 1497.00 "$(total_field subtotal "$c")"
"$SHOP" receipt "$c" >"$TMP/r" || fail "shop receipt exited $?"
grep -q "^ 30 x Headphones .* 1,497.00$" "$TMP/r" || fail "no '1,497.00' on the line: $(grep Headphones "$TMP/r")"
# 1497.00 + 284.43 tax = 1781.43.
grep -q "^TOTAL  *1,781.43$" "$TMP/r" || fail "TOTAL is not 1,781.43: $(grep TOTAL "$TMP/r")"
"$SHOP" receipt "$(cart "E401 30000")" >"$TMP/r2" || fail "shop receipt exited $?"
grep -q "^TOTAL  *1,781,430.00$" "$TMP/r2" || fail "TOTAL is not 1,781,430.00: $(grep TOTAL "$TMP/r2")"
