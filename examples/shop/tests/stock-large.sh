#!/bin/sh
# A warehouse of 4000 items takes a million orders: nothing is lost (slow: a few seconds).
. "$(dirname "$0")/lib/assert.sh"

awk 'BEGIN { print "sku,name,category,price,stock,promo"
	for (i = 0; i < 4000; i++) printf "W%04d,Widget %d,parts,%d.%02d,1000000,%s\n", i, i, i % 90 + 1, i % 100, i % 7 ? "" : "3for2" }' >"$TMP/catalog.csv"
skus=$(awk 'BEGIN { for (i = 0; i < 4000; i += 1) printf "W%04d ", i }')
gen_orders 1000000 4242 "$skus" >"$TMP/orders"
"$SHOP" stock -c "$TMP/catalog.csv" "$TMP/orders" >"$TMP/stock" || fail "shop stock exited $?"
expect_eq "lines (one per item)" 4000 "$(wc -l <"$TMP/stock" | tr -d ' ')"
bad=$(awk '$2 + $3 != 1000000 { print; exit }' "$TMP/stock")
[ -z "$bad" ] || fail "left + sold is not the starting stock: $bad"
expect_eq "units sold" "$(awk '{ s += $3 } END { print s }' "$TMP/orders")" "$(awk '{ s += $3 } END { print s }' "$TMP/stock")"
