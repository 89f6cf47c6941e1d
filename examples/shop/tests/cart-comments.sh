#!/bin/sh
# Comments, blank lines, tabs and spaces in a cart are fine.
. "$(dirname "$0")/lib/assert.sh"

c=$(cart "# my cart" "" "  A100   2  # apples" "	B200	1")
expect_eq items 3 "$(total_field items "$c")"
expect_eq subtotal 14.97 "$(total_field subtotal "$c")"
