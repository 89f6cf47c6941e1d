#!/bin/sh
# An unknown SKU is refused with the line it is on.
. "$(dirname "$0")/lib/assert.sh"

expect_error 2 "^shop: error: .*cart\.[A-Za-z0-9]*:2: unknown sku 'X999'$" "$SHOP" total "$(cart "A100 1" "X999 2")"
