#!/bin/sh
# A day of 1.5 million orders: the report agrees with a plain recount (slow: a few seconds).
. "$(dirname "$0")/lib/assert.sh"

gen_orders 1500000 20261125 >"$TMP/orders"
"$SHOP" report "$TMP/orders" >"$TMP/report" || fail "shop report exited $?"
# The recount: units and cents per category, straight from the catalog.
awk 'NR == FNR { if (FNR > 1) { split($0, c, ","); cat[c[1]] = c[3]; p = c[4]; sub(/\./, "", p); price[c[1]] = p + 0; promo[c[1]] = c[6] }; next }
	{ q = $3; pay = promo[$2] == "3for2" ? q - int(q / 3) : q
	  u[cat[$2]] += q; r[cat[$2]] += pay * price[$2]; tu += q; tr += pay * price[$2] }
	END { for (k in u) printf "%s %d %.2f\n", k, u[k], r[k] / 100; printf "total %d %.2f\n", tu, tr / 100 }' \
	"$ROOT/data/catalog.csv" "$TMP/orders" | sort >"$TMP/recount"
awk '{ print $1, $2, $3 }' "$TMP/report" | sort >"$TMP/got"
diff -u "$TMP/recount" "$TMP/got" >"$TMP/diff" || fail "report and recount differ: $(cat "$TMP/diff")"
expect_eq "categories plus the total" 5 "$(wc -l <"$TMP/report" | tr -d ' ')"
# Highest revenue first.
grep -v '^total ' "$TMP/report" >"$TMP/body"
sort -k3,3nr "$TMP/body" | cmp -s - "$TMP/body" ||
	fail "categories are not ordered by revenue: $(cat "$TMP/report")"
