#!/bin/sh
# An order for more than is left is refused, naming the order.
. "$(dirname "$0")/lib/assert.sh"

printf '1 B202 3\n2 B202 3\n' >"$TMP/orders"
expect_error 3 "orders:2: order 2 wants 3 of B202, only 2 left" "$SHOP" stock "$TMP/orders"
