#!/bin/sh
# A broken catalog is refused with the line at fault.
. "$(dirname "$0")/lib/assert.sh"

printf 'sku,name,category,price,stock,promo\nZ1,Thing,misc,1.00,5,\nZ1,Other,misc,2.00,5,\n' >"$TMP/dup.csv"
expect_error 2 "dup\.csv:3: sku 'Z1' listed twice" "$SHOP" total -c "$TMP/dup.csv" "$(cart "Z1 1")"
printf 'sku,name,category,price,stock,promo\nZ1,Thing,misc,1.999,5,\n' >"$TMP/price.csv"
expect_error 2 "price\.csv:2: expected sku,name,category,price,stock,promo" "$SHOP" total -c "$TMP/price.csv" "$(cart "Z1 1")"
# A category without its own rate pays the standard 19%.
printf 'sku,name,category,price,stock,promo\nZ1,Thing,misc,10,5,\n' >"$TMP/ok.csv"
expect_eq "tax of a misc item" 1.90 "$(total_field tax "$(cart "Z1 1")" -c "$TMP/ok.csv")"
