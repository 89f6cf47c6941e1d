#!/bin/sh
# Keeps the receipt of a big order as an artifact ($HT_OUTPUT_DIR/receipt.txt).
. "$(dirname "$0")/lib/assert.sh"

out=${HT_OUTPUT_DIR:-$TMP}
c=$(cart "E401 2" "E403 1" "B202 1" "A102 3" "H300 6")
"$SHOP" receipt --coupon SAVE10 "$c" >"$out/receipt.txt" || fail "shop receipt exited $?"
"$SHOP" total --coupon SAVE10 "$c" >"$out/total.txt" || fail "shop total exited $?"
# The receipt's TOTAL is the total's, with thousands grouped.
want=$(awk '$1 == "total" { print $2 }' "$out/total.txt")
got=$(awk '$1 == "TOTAL" { gsub(",", "", $2); print $2 }' "$out/receipt.txt")
expect_eq "TOTAL on the receipt" "$want" "$got"
grep -q "^Coupon SAVE10 " "$out/receipt.txt" || fail "the receipt does not show the coupon"
echo "receipt kept in $out/receipt.txt"
