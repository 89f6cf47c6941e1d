#!/bin/sh
# A quantity multiplies the price; the same SKU on two lines adds up.
. "$(dirname "$0")/lib/assert.sh"

c=$(cart "H302 4")
expect_eq subtotal 51.96 "$(total_field subtotal "$c")"
expect_eq items 4 "$(total_field items "$c")"
c=$(cart "H302 1" "A100 2" "H302 3")
expect_eq subtotal 56.94 "$(total_field subtotal "$c")"
expect_eq items 6 "$(total_field items "$c")"
